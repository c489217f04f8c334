"""The book's sources agree with each other: pairing, config, toc, citations, install lines,
the generated chapter lists, the label rule, and links that stay inside the repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import chapter_lists  # noqa: E402
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
    assert len(cells_py) == len(cells_nb), (
        f"{py.name}: {len(cells_py)} cells vs {len(cells_nb)} in .ipynb"
    )
    for i, (a, b) in enumerate(zip(cells_py, cells_nb)):
        assert a == b, (
            f"{py.name}: cell {i} differs from the .ipynb; run `jupytext --sync {py.name}`"
        )
    tags_py = [c.metadata.get("tags", []) for c in from_py.cells]
    tags_nb = [c.metadata.get("tags", []) for c in from_nb.cells]
    assert tags_py == tags_nb, f"{py.name}: cell tags differ from the .ipynb"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(py: Path):
    nb = json.loads(py.with_suffix(".ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, (
                f"{py.with_suffix('.ipynb').name} carries outputs: strip them (jupytext --sync)"
            )


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
    """Every paper a chapter covers (and its arXiv identifier where the bib gives one) is in
    references.bib; the papers are counted from the chapters' title cells, not typed."""
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    papers = {k for part in chapter_lists.load() for c in part.chapters for k in c.papers}
    assert len(papers) == chapter_lists.count_papers(chapter_lists.load())
    missing = papers - _bib_keys()
    assert not missing, f"papers of the chapters missing from references.bib: {sorted(missing)}"
    for eprint in re.findall(r"eprint\s*=\s*\{([^}]*)\}", bib):
        assert re.fullmatch(r"\d{4}\.\d{4,5}", eprint), f"malformed arXiv id {eprint!r}"


# ---- the chapter lists and counts are generated (tools/chapter_lists.py) -------------------


def test_chapter_lists_match_the_sources():
    """intro.md, part1-3.md and the counts in README/intro/bibliography agree with _toc.yml and
    the chapters' title cells."""
    assert chapter_lists.drift() == [], "run `python tools/chapter_lists.py --write`"


def test_chapter_lists_detect_drift(tmp_path: Path):
    """The check is not vacuous: a changed summary, title or count shows up as drift."""
    for rel in ["_toc.yml", "README.md", "book", "notebooks"]:
        src = ROOT / rel
        if src.is_dir():
            for f in list(src.glob("*.md")) + list(src.glob("[0-9][0-9]_*.py")):
                (tmp_path / rel).mkdir(exist_ok=True)
                (tmp_path / rel / f.name).write_bytes(f.read_bytes())
        else:
            (tmp_path / rel).write_bytes(src.read_bytes())
    assert chapter_lists.drift(tmp_path) == []
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        toc.read_text(encoding="utf-8").replace(
            "making progress the loss does not show.", "making hidden progress."
        ),
        encoding="utf-8",
    )
    assert chapter_lists.drift(tmp_path) == ["book/intro.md"]
    readme = tmp_path / "README.md"
    text = re.sub(r"\d+ recent results", "36 recent results", readme.read_text(encoding="utf-8"))
    readme.write_text(text, encoding="utf-8")
    assert "README.md" in chapter_lists.drift(tmp_path)


def test_every_chapter_has_papers_and_a_summary():
    parts = chapter_lists.load()
    chapters = [c for p in parts for c in p.chapters]
    assert [f"notebooks/{py.stem}" for py in CHAPTERS] == [c.docname for c in chapters]
    assert chapter_lists.count_papers(parts) >= len(chapters)


# ---- labels: def-chNN-…, thm-chNN-…, … (DEVELOPERS.md, "Writing a chapter") -----------------

LABEL_KINDS = "def|thm|lem|prop|cor|ex|sol|alg|rem|conj|assum|eq|fig|tab|sec"
LABEL = re.compile(rf"^({LABEL_KINDS})-ch(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*$")
LABEL_LINE = re.compile(r"^#\s*:label:\s*(\S+)\s*$", re.M)


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_labels_follow_the_rule(py: Path):
    """Every `:label:` is kind-chNN-words, with NN the chapter's own number, and unique."""
    labels = LABEL_LINE.findall(py.read_text(encoding="utf-8"))
    bad = [lab for lab in labels if not LABEL.match(lab)]
    assert not bad, f"{py.name}: labels not of the form <kind>-chNN-<words>: {bad}"
    other = [lab for lab in labels if LABEL.match(lab).group(2) != py.stem[:2]]
    assert not other, f"{py.name}: labels carry another chapter's number: {other}"
    assert len(labels) == len(set(labels)), f"{py.name}: a label is defined twice"


PRF_REF = re.compile(r"\{prf:ref\}`(?:[^`<]*<)?([^`>]+)>?`")


def test_every_prf_reference_resolves():
    labels = set()
    for py in CHAPTERS:
        labels |= set(LABEL_LINE.findall(py.read_text(encoding="utf-8")))
    for src in CHAPTERS + sorted((ROOT / "book").glob("*.md")):
        for ref in PRF_REF.findall(src.read_text(encoding="utf-8")):
            assert ref in labels, f"{src.name} refers to unknown label {ref!r}"


# ---- no document links out of the repository ----------------------------------------------


def _repository_files(suffixes: tuple[str, ...]) -> list[Path]:
    """The tracked and untracked-but-not-ignored files with these suffixes (git), or a walk that
    skips the usual ignored folders when git is not available."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        files = [ROOT / line for line in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "_build", "checkpoints", "__pycache__", ".pytest_cache"}
        files = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    return sorted(p for p in files if p.suffix in suffixes and p.is_file())


RELATIVE_PATH = re.compile(r"(?<![\w./-])((?:\.\./)+[\w./-]*)")


def test_no_link_leaves_the_repository():
    """A `.md`, `.py` or `.yml` file names no `../…` path outside the repository (such a path
    works on one machine only, e.g. a sibling folder of the checkout)."""
    root = ROOT.resolve()
    outside = []
    for f in _repository_files((".md", ".py", ".yml", ".yaml")):
        for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for path in RELATIVE_PATH.findall(line):
                target = (f.parent / path).resolve()
                if target != root and root not in target.parents:
                    outside.append(f"{f.relative_to(ROOT)}:{lineno}: {path}")
    assert not outside, "paths that leave the repository:\n" + "\n".join(outside)


def test_reproductions_page_is_current_and_records_pass():
    """book/reproductions.md is made from reproductions/*.json, whose asserts all passed."""
    import reproductions_page

    problems = [
        p
        for name, rec in reproductions_page.load_records().items()
        for p in reproductions_page.record_problems(name, rec)
    ]
    assert not problems, "\n".join(problems)
    page = (ROOT / reproductions_page.PAGE).read_text(encoding="utf-8")
    assert page == reproductions_page.page(), "run `python tools/reproductions_page.py --write`"


def test_every_paper_has_a_recorded_result():
    """Each of the book's papers has at least one result in some full-mode record."""
    import chapter_lists
    import reproductions_page

    keys = [key for part in chapter_lists.load(ROOT) for ch in part.chapters for key in ch.papers]
    assert len(keys) == len(set(keys)) == 37
    missing = reproductions_page.papers_without_result()
    assert not missing, f"no recorded result for {missing}: run `make reproduce`"


def test_reproductions_page_flags_a_record_of_older_code(tmp_path):
    """A record whose code hash is not the current one is flagged on the page."""
    import shutil

    import reproduce
    import reproductions_page

    for rel in ("_toc.yml", "book", "lmt_core", "notebooks"):
        src = ROOT / rel
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / rel)
    (tmp_path / "reproductions").mkdir()
    chapter = CHAPTERS[0].stem
    record = {
        "chapter": chapter,
        "commit": "abc",
        "code_hash": "0" * 16,
        "scale": "full",
        "wall_seconds": 1,
        "machine": "m",
        "date": "2026-01-01T00:00:00+00:00",
        "results": [],
    }
    path = tmp_path / "reproductions" / f"{chapter}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert "older than the chapter's code" in reproductions_page.page(tmp_path)
    record["code_hash"] = reproduce.code_hash(chapter, tmp_path)
    path.write_text(json.dumps(record), encoding="utf-8")
    assert "older than the chapter's code" not in reproductions_page.page(tmp_path)


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_open_in_colab_link_opens_the_student_notebook(py: Path):
    """The title cell's Colab link opens colab/NN_slug.ipynb (no MyST markup) of this repository."""
    url, branch = repo_url.repository()
    slug = url.removeprefix("https://github.com/").removesuffix(".git")
    want = f"https://colab.research.google.com/github/{slug}/blob/{branch}/colab/{py.stem}.ipynb"
    links = re.findall(r"https://colab\.research\.google\.com/[^\s)]+", py.read_text("utf-8"))
    assert links == [want], f"{py.name}: Colab links {links}, expected [{want}]"
