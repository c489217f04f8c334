"""What a chapter reproduced, in a form a record and the Reproductions page can read.

A chapter states each paper's headline result once, where its check runs::

    reproduce.report(
        "barak2022hidden",
        claim="SGD learns the (n, k)-sparse parity after a plateau of about n^(k-1) steps",
        paper_value="slope k - 1 on log-log axes",
        value=slope,                       # what this run measured (a number or a short string)
        assertion="fitted slope within 0.5 of k - 1",
        passed=abs(slope - (k - 1)) < 0.5,
        status="reproduced",               # or "partly" / "not reproduced", said honestly
    )

``report`` is the chapter's assert: it raises ``AssertionError`` when ``passed`` is False. The one
exception is a capped smoke run (``$LMT_MAX_STEPS`` set, see :func:`lmt_core.runtime.max_steps`),
which trains a few steps only to exercise the code of the full branch: there a check that needs
the training is not made, and the chapter prints that it was skipped. :func:`check` is the same
assert for a check that is not one of the papers' results.

In a notebook front end or a book build ``report`` only checks and returns the :class:`Result`.
When
``tools/reproduce.py`` executes a chapter it sets ``$LMT_RECORD`` to a file, and each call
appends one JSON line there; the tool joins the quick- and full-mode lines into the chapter's
record ``reproductions/NN_slug.json``. :func:`save_headline` saves the figure of a full run
beside the record (``$LMT_RECORD_FIGURE``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lmt_core import runtime

__all__ = [
    "STATUSES",
    "Result",
    "check",
    "report",
    "save_headline",
    "code_cells",
    "code_hash",
    "find_record",
    "record_caption",
    "show_record",
]

STATUSES = ("reproduced", "partly", "not reproduced")


@dataclass(frozen=True)
class Result:
    """One result of one paper as a chapter checked it.

    Attributes:
        paper: the paper's BibTeX key in ``book/references.bib``.
        claim: the paper's result in one sentence.
        paper_value: the paper's number or figure, or None.
        value: what this run measured (a number, or a short string such as ``"0.98/0.97"``).
        assertion: the chapter's assert, in words.
        passed: whether the assert held in this run.
        status: ``"reproduced"``, ``"partly"`` or ``"not reproduced"``.
        section: the label of the section that shows it, or None.
    """

    paper: str
    claim: str
    paper_value: str | None
    value: float | int | str | None
    assertion: str
    passed: bool
    status: str
    section: str | None = None


def _plain(value: Any) -> float | int | str | None:
    """A JSON-friendly scalar: NumPy/torch scalars become Python numbers; NaN becomes None."""
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else value
    raise TypeError(f"value must be a number, a string or None, got {type(value).__name__}")


def check(condition: Any, message: str) -> bool:
    """``assert condition, message``, except in a capped smoke run, where nothing is checked.

    Under ``$LMT_MAX_STEPS`` (a smoke run of the full branch, a few training steps) a check that
    needs the training cannot hold; it is skipped, and a line says so.

    Returns:
        Whether the condition held.

    Raises:
        AssertionError: ``condition`` is false and the run is not capped.
        TypeError: ``message`` is not a string.
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be a string, got {type(message).__name__}")
    if hasattr(condition, "item"):
        condition = condition.item()
    held = bool(condition)
    if not held:
        cap = runtime.max_steps()
        if cap is None:
            raise AssertionError(message)
        print(f"not checked (smoke run, LMT_MAX_STEPS={cap}): {message}")
    return held


def report(
    paper: str,
    *,
    claim: str,
    value: Any,
    assertion: str,
    passed: bool,
    status: str,
    paper_value: str | None = None,
    section: str | None = None,
) -> Result:
    """Record one checked result of ``paper`` (see the module docstring), assert it, return it.

    Raises:
        AssertionError: ``passed`` is False (outside a capped smoke run, see :func:`check`); the
            message names the paper, the assertion and the value.
        ValueError: empty ``paper``/``claim``/``assertion``, or an unknown ``status``.
        TypeError: ``passed`` not a bool, ``value`` not a number, string or None.
    """
    for name, text in (("paper", paper), ("claim", claim), ("assertion", assertion)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if hasattr(passed, "item"):
        passed = passed.item()
    if not isinstance(passed, bool):
        raise TypeError(f"passed must be a bool, got {type(passed).__name__}")
    result = Result(paper, claim, paper_value, _plain(value), assertion, passed, status, section)
    path = os.environ.get("LMT_RECORD", "").strip()
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(result)) + "\n")
    check(passed, f"{paper}: {assertion} (measured {result.value!r})")
    return result


def save_headline(fig: Any, *, dpi: int = 80) -> Path | None:
    """Save ``fig`` (a matplotlib figure) as the run's headline figure, if a record is being made.

    Returns the path written (``$LMT_RECORD_FIGURE``), or None when no record is being made.
    """
    path = os.environ.get("LMT_RECORD_FIGURE", "").strip()
    if not path:
        return None
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib figure, got {type(fig).__name__}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor="white", bbox_inches="tight")
    return out


def code_cells(script: str) -> str:
    """The code of a jupytext percent script without its Markdown cells.

    A record depends on what the chapter computes, not on its prose: a corrected sentence or a
    restated theorem leaves the record current, a changed line of code does not.
    """
    kept, in_markdown = [], False
    for line in script.splitlines(keepends=True):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        if not in_markdown:
            kept.append(line)
    return "".join(kept)


def code_hash(chapter: str, root: str | Path) -> str:
    """A hash of the code a chapter's run depends on: its code cells and lmt_core (but this module).

    ``chapter`` is the notebook's stem (``"09_copying_and_retrieval"``), ``root`` the repository.
    A record stores the hash it was made with; a different hash now means the chapter's code or
    the library changed since, and the record is flagged as older than its code.
    """
    root = Path(root)
    h = hashlib.sha256()
    script = root / "notebooks" / f"{chapter}.py"
    h.update(script.relative_to(root).as_posix().encode())
    h.update(code_cells(script.read_text(encoding="utf-8")).encode())
    # this module only reports what a run computed: a change here does not make records stale
    library = [p for p in sorted((root / "lmt_core").rglob("*.py")) if p.name != "reproduce.py"]
    for path in library:
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _repository_roots() -> list[Path]:
    """Where a checkout of the book may be: above the working directory, or above lmt_core."""
    here = Path.cwd().resolve()
    package = Path(__file__).resolve().parents[1]
    return list(dict.fromkeys([here, *here.parents[:2], package]))


def find_record(chapter: str) -> tuple[dict, Path | None, Path] | None:
    """The chapter's full-mode record ``reproductions/<chapter>.json`` in this checkout.

    Returns:
        ``(record, figure, root)``: the record as a dict, the path of its headline figure (None
        if there is none) and the repository root it was found in; or None where there is no
        record (e.g. on Colab, where lmt_core is installed without the repository).
    """
    if not isinstance(chapter, str) or not chapter.strip():
        raise ValueError(f"chapter must be a notebook stem such as '09_copying', got {chapter!r}")
    for root in _repository_roots():
        path = root / "reproductions" / f"{chapter}.json"
        if path.is_file():
            figure = path.with_suffix(".png")
            record = json.loads(path.read_text(encoding="utf-8"))
            return record, (figure if figure.is_file() else None), root
    return None


def record_caption(record: dict, stale: bool) -> str:
    """One paragraph (Markdown) saying where and when a record was made and what it found."""
    counts: dict[str, int] = {}
    for r in record.get("results", []):
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    found = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no results"
    text = (
        f"**Full mode, recorded** (commit `{str(record.get('commit', '?'))[:10]}`, "
        f"{str(record.get('date', '?'))[:10]}, {record.get('machine', '?')}, "
        f"{record.get('wall_seconds', '?')} s): {found}. "
        "The book's Reproductions page lists every result beside its quick-mode value."
    )
    if stale:
        text += (
            " *This record was made before the last change to the chapter or to lmt_core; "
            "`make reproduce` remakes it.*"
        )
    return text


def show_record(chapter: str) -> dict | None:
    """Show the chapter's recorded full-mode figure with its caption (commit, date, machine).

    For a notebook: the figure the last ``make reproduce`` saved (``reproductions/<chapter>.png``)
    is displayed under a caption made by :func:`record_caption`; where there is no record, one
    line says so. Returns the record, or None.
    """
    from IPython.display import Image, Markdown, display

    found = find_record(chapter)
    if found is None:
        display(
            Markdown(
                "No full-mode record of this chapter is found here; the book's Reproductions "
                "page lists what full mode reproduced."
            )
        )
        return None
    record, figure, root = found
    try:
        stale = record.get("code_hash") != code_hash(chapter, root)
    except OSError:  # the chapter's script or the library is not beside the record
        stale = False
    display(Markdown(record_caption(record, stale)))
    if figure is not None:
        display(Image(filename=str(figure)))
    return record
