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

In a notebook front end or a book build this only returns the :class:`Result`. When
``tools/reproduce.py`` executes a chapter it sets ``$LMT_RECORD`` to a file, and each call
appends one JSON line there; the tool joins the quick- and full-mode lines into the chapter's
record ``reproductions/NN_slug.json``. :func:`save_headline` saves the figure of a full run
beside the record (``$LMT_RECORD_FIGURE``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "Result", "report", "save_headline"]

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
    """Record one checked result of ``paper`` (see the module docstring) and return it.

    Raises:
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
