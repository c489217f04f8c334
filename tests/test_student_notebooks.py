"""The student notebooks (colab/NN_slug.ipynb): current, and free of MyST markup."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import colab_launch  # noqa: E402
import student_notebooks as sn  # noqa: E402

CHAPTERS = sn.chapters()

# MyST syntax that a notebook front end would show raw.
MYST = {
    "role": re.compile(r"\{[A-Za-z][\w:+-]*\}`"),
    "directive fence": re.compile(r"(?:`{3,}|:{3,})\s*\{[\w:+-]+\}"),
    "directive option": re.compile(
        r"^\s*>?\s*:(?:label|class|nonumber|name|width|align|alt):", re.M
    ),
    "target": re.compile(r"^\s*\([\w:.-]+\)=\s*$", re.M),
}


def myst_left(text: str) -> list[str]:
    return [f"{kind}: {m.group(0)!r}" for kind, pat in MYST.items() for m in pat.finditer(text)]


def prose_of(nb: dict) -> list[str]:
    """The text a reader sees: Markdown cells and the sentences of show_prose cells."""
    return [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "markdown" or "notebook.show_prose(" in "".join(c["source"])
    ]


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return sn.targets()


def test_every_chapter_has_a_student_notebook(generated):
    assert sorted(p.name for p in generated) == [f"{p.stem}.ipynb" for p in CHAPTERS]


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_committed_student_notebook_is_current(py, generated):
    path = ROOT / sn.OUT_DIR / f"{py.stem}.ipynb"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make student-notebooks`"
    assert path.read_text(encoding="utf-8") == generated[path], (
        f"{path.relative_to(ROOT)} is stale: run `make student-notebooks`"
    )


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_no_myst_markup_is_left(py, generated):
    nb = json.loads(generated[ROOT / sn.OUT_DIR / f"{py.stem}.ipynb"])
    problems = [f"cell {i}: {p}" for i, text in enumerate(prose_of(nb)) for p in myst_left(text)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_keeps_every_code_cell_without_outputs(py, generated):
    """Same code as the chapter (setup cell included), in order; committed without outputs."""
    import jupytext

    src = [c.source for c in jupytext.read(py).cells if c.cell_type == "code"]
    nb = nbformat.reads(generated[ROOT / sn.OUT_DIR / f"{py.stem}.ipynb"], as_version=4)
    code = [
        c.source.removeprefix(sn.SOLUTION_CODE_TITLE + "\n")
        for c in nb.cells
        if c.cell_type == "code" and "student-prose" not in c.metadata.get("tags", [])
    ]
    assert code == src
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    nbformat.validate(nb)


# ---------------------------------------------------------------------------------------------
# The conversion, on small examples


@pytest.fixture(scope="module")
def book() -> sn.Book:
    return sn.load_book()


def convert_text(book: sn.Book, cells: list[tuple[str, str]], tmp_path: Path) -> list:
    """Convert a made-up chapter given as (cell_type, source) pairs; return its cells."""
    lines = ["# %% [markdown]", "# # A made-up chapter", ""]
    for kind, source in cells:
        if kind == "markdown":
            lines.append("# %% [markdown]")
            lines += [("# " + line).rstrip() for line in source.split("\n")]
        else:
            lines.append("# %%")
            lines += source.split("\n")
        lines.append("")
    path = tmp_path / "99_example.py"
    path.write_text("\n".join(lines), encoding="utf-8")
    return sn.convert(path, book).cells[1:]  # after the title cell


def test_theorem_proof_and_reference(book, tmp_path):
    cells = convert_text(
        book,
        [
            (
                "markdown",
                "# T\n\n:::{prf:theorem} Big\n:label: thm-x\n\n"
                "All $x$ hold.\n:::\n\n:::{prf:proof}\nClear.\n:::\n\n"
                ":::{prf:theorem}\n:label: thm-y\nMore.\n:::\n\n"
                "By {prf:ref}`thm-ch01-sq-lower-bound` and "
                "{prf:ref}`this one <thm-ch01-sq-lower-bound>`.",
            )
        ],
        tmp_path,
    )
    text = cells[0].source
    assert "> **Theorem 1 (Big).**\n>\n> All $x$ hold." in text
    assert "> *Proof.* Clear. $\\square$" in text
    assert "> **Theorem 2.**" in text
    page = book.page("notebooks/01_sparse_parity", "thm-ch01-sq-lower-bound")
    assert f"[Theorem 1]({page})" in text and f"[this one]({page})" in text
    assert not myst_left(text)


def test_citations_link_to_the_bibliography(book, tmp_path):
    cells = convert_text(
        book,
        [
            (
                "markdown",
                "See {cite}`barak2022hidden,kearns1998efficient` and {cite:t}`barak2022hidden`.",
            )
        ],
        tmp_path,
    )
    bib = book.bibliography
    assert bib.endswith("/book/bibliography.html")
    assert f"[[Barak et al., 2022]({bib}); [Kearns, 1998]({bib})]" in cells[0].source
    assert f"[Barak et al. (2022)]({bib})" in cells[0].source


def test_unknown_citation_key_raises(book, tmp_path):
    with pytest.raises(KeyError, match="nosuchkey"):
        convert_text(book, [("markdown", "{cite}`nosuchkey`")], tmp_path)


def test_glued_sentence_becomes_a_prose_cell_after_its_glue(book, tmp_path):
    cells = convert_text(
        book,
        [
            ("code", "import math"),
            ("markdown", "The rate is {glue:text}`rate:.2f` and {glue:text}`n_runs` runs."),
            ("code", 'notebook.glue("rate", 0.5)\nnotebook.glue("n_runs", 3)'),
        ],
        tmp_path,
    )
    assert [c.cell_type for c in cells] == ["code", "code", "code"]
    prose = cells[2]
    assert "student-prose" in prose.metadata["tags"]
    assert prose.metadata["cellView"] == "form"  # Colab folds the code
    assert prose.metadata["jupyter"]["source_hidden"]  # so does JupyterLab
    assert "{{rate:.2f}}" in prose.source and "{{n_runs}}" in prose.source

    from lmt_core import notebook

    exec(cells[1].source, {"notebook": notebook})
    assert "The rate is 0.50 and 3 runs." in notebook.fill_glued(prose.source)


def test_solutions_are_folded_and_gated_code_kept(book, tmp_path):
    cells = convert_text(
        book,
        [
            (
                "markdown",
                ":::{exercise} Try\n:label: ex-a\nDo it.\n:::\n\n"
                ":::{solution} ex-a\n:class: dropdown\nDone.\n:::\n\n"
                ":::{exercise}\n:label: ex-b\nCode it.\n:::\n\n"
                ":::{solution-start} ex-b\n:class: dropdown\n:::\n\nLike this:",
            ),
            ("code", "answer = 42"),
            ("markdown", ":::{solution-end}\n:::\n\nAfter."),
        ],
        tmp_path,
    )
    text = [c.source for c in cells]
    assert "> **Exercise 1 (Try).**" in text[0]
    assert "<details><summary><b>Solution to Exercise 1</b>" in text[0] and "Done." in text[0]
    assert "> **Exercise 2.**" in text[0]
    assert text[1].startswith("**Solution to Exercise 2.**")
    assert "Like this:" in text[2] and text[2].startswith("<details>")
    assert cells[3].cell_type == "code" and cells[3].source.endswith("answer = 42")
    assert cells[3].metadata["jupyter"]["source_hidden"]
    assert text[4] == "*End of the solution.*" and text[5] == "After."
    assert not any(myst_left(t) for t in text if "answer" not in t)


def test_admonitions_math_figures_and_links(book, tmp_path):
    cells = convert_text(
        book,
        [
            (
                "markdown",
                ":::{note}\nMind this.\n:::\n\n"
                "```{math}\nx = 1\n```\n\n"
                ":::{figure} ../book/images/a.png\n:alt: A plot\nCaption.\n:::\n\n"
                "See the [notation](../book/notation.md), "
                "{doc}`../book/notation` and {ref}`sec-ch13-discussion`.\n\n"
                "(my-target)=\n## Head",
            )
        ],
        tmp_path,
    )
    text = cells[0].source
    assert "> **Note.**\n>\n> Mind this." in text
    assert "$$\nx = 1\n$$" in text
    assert f"![A plot]({book.raw}book/images/a.png)" in text
    assert f"[notation]({book.page('book/notation')})" in text
    assert f"[Notation]({book.page('book/notation')})" in text
    assert book.page("notebooks/13_finetuning", "sec-ch13-discussion") in text
    assert not myst_left(text)


def test_code_cells_keep_remove_input_cells(book, tmp_path):
    path = tmp_path / "99_x.py"
    path.write_text('# %% tags=["remove-input"]\nimport os\n', encoding="utf-8")
    cells = sn.convert(path, book).cells
    assert any(c.cell_type == "code" and c.source == "import os" for c in cells)


def test_book_url_from_the_repository():
    cfg = {"repository": {"url": "https://github.com/Some-Org/lmt", "branch": "main"}}
    assert sn.book_url(cfg) == "https://some-org.github.io/lmt/"
    assert sn.book_url({**cfg, "html": {"baseurl": "https://x.org/book"}}) == "https://x.org/book/"


def test_colab_button_points_at_the_student_notebook():
    url = "https://colab.research.google.com/github/o/r/blob/main/notebooks/01_sparse_parity.ipynb"
    assert colab_launch._student_link(url).endswith("/blob/main/colab/01_sparse_parity.ipynb")
    other = "https://colab.research.google.com/github/o/r/blob/main/book/intro.ipynb"
    assert colab_launch._student_link(other) == other
    buttons = [{"type": "group", "buttons": [{"type": "link", "url": url}]}]
    colab_launch._rewrite(buttons)
    assert buttons[0]["buttons"][0]["url"].endswith("colab/01_sparse_parity.ipynb")


def test_display_math_in_a_quote_is_one_line():
    """A "> " inside a formula would be typeset: multi-line $$ blocks are joined first."""
    assert sn._quote("a\n$$\nx\n= y\n$$\nb $$ z $$ c") == "> a\n> $$ x = y $$\n> b $$ z $$ c"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_no_formula_spans_quoted_lines(py, generated):
    nb = json.loads(generated[ROOT / sn.OUT_DIR / f"{py.stem}.ipynb"])
    for text in prose_of(nb):
        for line in text.split("\n"):
            if line.startswith(">"):
                assert line.count("$$") % 2 == 0, f"display math split across quoted lines: {line}"


def test_only_paragraphs_with_numbers_become_code(book, tmp_path):
    cells = convert_text(
        book,
        [
            ("code", 'notebook.glue("acc", 0.5)'),
            (
                "markdown",
                "The accuracy is {glue:text}`acc:.2f`.\n\n### Next section\n\nPlain text.",
            ),
        ],
        tmp_path,
    )
    assert [c.cell_type for c in cells] == ["code", "code", "markdown"]
    assert "{{acc:.2f}}" in cells[1].source and "Next section" not in cells[1].source
    assert cells[2].source == "### Next section\n\nPlain text."
