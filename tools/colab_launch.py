"""Sphinx extension: the Colab launch button opens the chapter's student notebook.

sphinx-book-theme builds the Colab link from the page's path (`.../blob/main/notebooks/NN.ipynb`);
the notebook a student should open is the one without MyST markup that
`tools/student_notebooks.py` writes to `colab/NN.ipynb`. This rewrites the link after the theme
has made it, for every page whose student notebook exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STUDENT_DIR = "colab"


def _student_link(url: str) -> str:
    """`.../blob/<branch>/notebooks/NN.ipynb` -> `.../blob/<branch>/colab/NN.ipynb` if it exists."""
    head, sep, tail = url.rpartition("/notebooks/")
    if not sep or "/" in tail or not (ROOT / STUDENT_DIR / tail).exists():
        return url
    return f"{head}/{STUDENT_DIR}/{tail}"


def _rewrite(buttons: list[dict[str, Any]]) -> None:
    for button in buttons:
        if button.get("type") == "group":
            _rewrite(button.get("buttons", []))
        elif "colab.research.google.com" in str(button.get("url", "")):
            button["url"] = _student_link(button["url"])


def rewrite_launch_buttons(app, pagename, templatename, context, doctree) -> None:
    _rewrite(context.get("header_buttons", []))


def setup(app):
    # sphinx-book-theme adds its launch buttons at priority 501; this runs after it.
    app.connect("html-page-context", rewrite_launch_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
