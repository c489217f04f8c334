"""Helpers for chapter notebooks: numbers into prose, library code shown in the chapter, and widgets
that survive a static build."""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any, Callable

import numpy as np
import torch

from lmt_core.runtime import is_interactive

__all__ = [
    "glue",
    "glued",
    "format_glued",
    "fill_glued",
    "show_prose",
    "RERUN_LABEL",
    "explore",
    "show_source",
]

# Every glued value of this kernel session, by name: the student notebooks (``colab/``) render their
# sentences with computed numbers from here (``show_prose``), where the book uses myst-nb's glue.
_GLUED: dict[str, Any] = {}


def glue(name: str, value: Any) -> None:
    """Make ``value`` available to the prose as ``{glue:text}`name```.

    Uses myst-nb's ``glue`` when it is installed (the book build). The value is also kept in this
    module's registry (see ``glued``), from which the student notebooks fill in their sentences
    (``show_prose``), so the same cell runs everywhere. Nothing is displayed in the cell. NumPy
    scalars and one-element tensors are stored as plain Python numbers, so that format specs such as
    ``{glue:text}`name:.2f``` work on them (myst-nb cannot format ``np.float64(…)``). Returns
    nothing, so that a cell ending in ``notebook.glue(...)`` does not echo a bare number; the
    stored value is ``glued(name)``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    value = _plain(value)
    _GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return
    _glue(name, value, display=False)


def _plain(value: Any) -> Any:
    """A Python number for a NumPy scalar, a 0-dim array or a one-element tensor; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def glued(name: str) -> Any:
    """The value last glued under ``name`` in this session.

    Raises:
        KeyError: if nothing was glued under ``name`` (its cell has not run yet).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    return _GLUED[name]


def format_glued(value: Any, spec: str = "") -> str:
    """``value`` as myst-nb's ``{glue:text}`name:spec``` prints it.

    Args:
        value: a glued value (a Python number, a string, ...).
        spec: a format spec such as ``".2f"``; its type letter converts the value first (``d`` to
            ``int``, ``f``/``e``/``g``/``%`` to ``float``, ``s`` to ``str``), as myst-nb does.

    Returns:
        the text; ``str(value)`` for an empty spec.
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a string, got {type(spec).__name__}")
    value = _plain(value)
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


# A glued number in a student notebook's sentence: {{name}} or {{name:spec}}.
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_.-]*)(?::([^{}]*))?\}\}")


def fill_glued(text: str) -> str:
    """``text`` with each ``{{name}}`` / ``{{name:spec}}`` replaced by the glued value.

    A name not glued yet (its cell has not run) becomes a bold note saying so, not an error, so
    that a student who runs cells out of order still reads the sentence.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")

    def one(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(2) or ""
        if name not in _GLUED:
            return f"**[{name}: run the cells above first]**"
        return format_glued(_GLUED[name], spec)

    return _PLACEHOLDER.sub(one, text)


def show_prose(text: str) -> None:
    """Display a Markdown sentence of the chapter with its glued numbers filled in.

    The student notebooks (``tools/student_notebooks.py``) turn each Markdown cell that carries
    ``{glue:text}`` numbers into a code cell calling this, so the reader sees the numbers computed
    above. In a notebook front end the text is rendered as Markdown; elsewhere it is printed.
    Returns nothing, so the cell shows the text once.
    """
    filled = fill_glued(text)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None and hasattr(shell, "kernel"):  # a notebook front end renders Markdown
        display(Markdown(filled))
    else:
        print(filled)


# The label of the button that redraws an Explore figure (ipywidgets' default, "Run Interact",
# says nothing to a reader).
RERUN_LABEL = "Re-run with these settings"


def _clean(value: Any) -> Any:
    """A slider's float without binary noise (0.1 + 0.02 * k prints as 0.10000000000000002)."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    return value


def explore(fn: Callable[..., Any], *, live: bool = False, **controls: Any) -> None:
    """Interactive controls for ``fn`` in a live notebook, drawn at once; one static call otherwise.

    Args:
        fn: a function drawing a figure from keyword arguments.
        live: redraw whenever a control is released (for a figure that is cheap to draw); by
            default a button labelled "Re-run with these settings" redraws it (for one that trains).
        controls: ``name=(default, widget)`` pairs, where ``widget`` is an ipywidgets control (or
            any ``interact`` abbreviation such as ``(1, 10)``) and ``default`` the value used for
            the first figure (and the widget's starting value).

    In a live notebook the figure is drawn with the defaults as soon as the cell runs, under the
    controls. In a static build, a test run or without ipywidgets (see ``runtime.is_interactive``),
    ``fn`` is called once with the defaults, so the page still shows a useful figure.
    """
    if not isinstance(live, bool):
        raise TypeError(f"live must be a bool, got {type(live).__name__}")
    for key, spec in controls.items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ValueError(f"control {key!r} must be a (default, widget) pair")
    defaults = {k: v[0] for k, v in controls.items()}
    if is_interactive():
        try:
            import ipywidgets
        except ImportError:
            ipywidgets = None
        if ipywidgets is not None:
            _explore_widgets(ipywidgets, fn, live, controls)
            return
    fn(**defaults)


def _explore_widgets(
    ipywidgets: Any, fn: Callable[..., Any], live: bool, controls: dict[str, Any]
) -> None:
    """Build the controls (starting at their defaults), draw once, and display them."""
    widgets = {}
    for key, (default, spec) in controls.items():
        if isinstance(spec, ipywidgets.Widget):
            widget = spec
            if hasattr(widget, "value"):
                widget.value = default
        else:
            widget = ipywidgets.interactive.widget_from_abbrev(spec, default)
            if widget is None:
                raise ValueError(f"control {key!r}: cannot make a widget from {spec!r}")
        if hasattr(widget, "continuous_update"):
            widget.continuous_update = False  # redraw on release, not at every pixel
        if isinstance(widget, ipywidgets.widgets.widget_description.DescriptionWidget):
            widget.description = key
            widget.style.description_width = "initial"  # do not cut the label off
        widgets[key] = widget

    def draw(**kwargs: Any) -> None:
        fn(**{k: _clean(v) for k, v in kwargs.items()})

    options = {"manual": not live, "manual_name": RERUN_LABEL, "auto_display": False}
    panel = ipywidgets.interactive(draw, options, **widgets)
    if not live:
        panel.manual_button.button_style = "primary"
        panel.manual_button.layout.width = "max-content"
    from IPython.display import display

    display(panel)
    if not live:
        panel.update()  # the figure with the defaults, at once (live mode has drawn it already)


def show_source(obj: Callable[..., Any] | type) -> None:
    """Display the source of a library function or class in the chapter.

    A construction that is a chapter's proof or prediction but also needs a unit test lives in
    :mod:`lmt_core`, with a docstring line naming the chapter and section that uses it; the
    chapter shows it with ``notebook.show_source(fn)`` so the reader sees every line that runs.
    In a notebook front end the code is shown highlighted; elsewhere it is printed. Returns
    nothing, so that a cell ending in this call shows the code once.

    Raises:
        TypeError: if ``obj`` is not a function, method or class with retrievable source.
    """
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj)):
        raise TypeError(f"obj must be a function, method or class, got {type(obj).__name__}")
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as err:
        raise TypeError(f"obj: the source of {obj!r} is not available") from err
    try:
        from IPython import get_ipython
        from IPython.display import Code, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Code(source, language="python"))
    else:
        print(source)
