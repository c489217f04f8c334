"""The book's sources agree with each other: pairing, config, toc, citations, install lines."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import repo_url  # noqa: E402

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_there_are_chapters():
    assert CHAPTERS, "notebooks/ holds no chapter scripts"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_pair_has_same_cells(py: Path):
    """Each .py percent script and its .ipynb hold the same cells (jupytext --sync was run)."""
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `jupytext --sync {py}`"
    from_py = jupytext.read(py)
    from_nb = nbformat.read(ipynb, as_version=4)
    cells_py = [(c.cell_type, c.source.strip()) for c in from_py.cells]
    cells_nb = [(c.cell_type, c.source.strip()) for c in from_nb.cells]
    assert len(cells_py) == len(cells_nb), f"{py.name}: {len(cells_py)} cells vs {len(cells_nb)} in .ipynb"
    for i, (a, b) in enumerate(zip(cells_py, cells_nb)):
        assert a == b, f"{py.name}: cell {i} differs from the .ipynb; run `jupytext --sync {py.name}`"
    tags_py = [c.metadata.get("tags", []) for c in from_py.cells]
    tags_nb = [c.metadata.get("tags", []) for c in from_nb.cells]
    assert tags_py == tags_nb, f"{py.name}: cell tags differ from the .ipynb"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(py: Path):
    nb = json.loads(py.with_suffix(".ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, \
                f"{py.with_suffix('.ipynb').name} carries outputs: strip them (jupytext --sync)"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for py in CHAPTERS:
        assert f"notebooks/{py.stem}" in toc, f"{py.stem} is not in _toc.yml"


def test_colab_install_lines_use_the_configured_repository():
    assert repo_url.drift() == [], "run `python tools/repo_url.py --write`"


def test_config_launch_buttons_and_extensions():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cfg["repository"]["branch"] == "main"
    assert "colab" in cfg["launch_buttons"]["colab_url"]
    ext = cfg["sphinx"]["extra_extensions"]
    assert "sphinx_proof" in ext and "sphinx_exercise" in ext
    assert cfg["bibtex_bibfiles"] == ["book/references.bib"]


def _bib_keys() -> set[str]:
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"@\w+\{([^,\s]+),", bib)
    assert len(keys) == len(set(keys)), "duplicate BibTeX keys"
    return set(keys)


def test_citations_resolve():
    keys = _bib_keys()
    sources = CHAPTERS + sorted((ROOT / "book").glob("*.md"))
    for src in sources:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", src.read_text(encoding="utf-8")):
            for key in (k.strip() for k in group.split(",")):
                assert key in keys, f"{src.name} cites unknown key {key!r}"


def test_bibliography_has_every_paper_of_the_book():
    """All 37 papers (and their arXiv identifiers where the bib gives one) are in references.bib."""
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    entries = re.findall(r"@\w+\{", bib)
    assert len(entries) >= 37
    for eprint in re.findall(r"eprint\s*=\s*\{([^}]*)\}", bib):
        assert re.fullmatch(r"\d{4}\.\d{4,5}", eprint), f"malformed arXiv id {eprint!r}"
