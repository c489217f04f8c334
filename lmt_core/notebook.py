"""Helpers for chapter notebooks: numbers into prose, library code shown in the chapter, and widgets
that survive a static build."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any, Callable

import numpy as np
import torch

from lmt_core.runtime import is_interactive

__all__ = ["glue", "explore", "show_source"]


def glue(name: str, value: Any) -> Any:
    """Make ``value`` available to the prose as ``{glue:text}`name``` and return it.

    Uses myst-nb's ``glue`` when it is installed (the book build); elsewhere (Colab) it does
    nothing, so the same cell runs everywhere. Nothing is displayed in the cell. NumPy scalars and
    one-element tensors are stored as plain Python numbers, so that format specs such as
    ``{glue:text}`name:.2f``` work on them (myst-nb cannot format ``np.float64(…)``).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    value = _plain(value)
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    _glue(name, value, display=False)
    return value


def _plain(value: Any) -> Any:
    """A Python number for a NumPy scalar, a 0-dim array or a one-element tensor; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def explore(fn: Callable[..., Any], **controls: Any) -> None:
    """Interactive sliders for ``fn`` in a live notebook; one static call otherwise.

    Args:
        fn: a function drawing a figure from keyword arguments.
        controls: ``name=(default, widget)`` pairs, where ``widget`` is an ipywidgets control (or
            any ``interact`` abbreviation such as ``(1, 10)``) and ``default`` the value used for
            the static figure.

    In a static build, a test run or without ipywidgets (see ``runtime.is_interactive``), ``fn`` is
    called once with the defaults, so the page still shows a useful figure.
    """
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
            widgets = {k: v[1] for k, v in controls.items()}
            ipywidgets.interact_manual(fn, **widgets)
            return
    fn(**defaults)


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
