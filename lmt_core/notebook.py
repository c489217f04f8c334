"""Helpers for chapter notebooks: numbers into prose, and widgets that survive a static build."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from lmt_core.runtime import is_interactive

__all__ = ["glue", "explore"]


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
