"""Run-time set-up shared by every chapter: seeds, device, and the quick/full scale.

A chapter starts with ``SCALE = "quick"`` (a Colab form field) and
``cfg = runtime.setup(seed=0, scale=SCALE)``. Quick is the default everywhere, with or without a
GPU; the environment variable ``LMT_SCALE`` (``quick`` or ``full``), when set, overrides the
chapter's setting, so that builds, tests and ``tools/reproduce.py`` choose the scale of every
chapter. Sizes that depend on the scale are written ``cfg.pick(quick=..., full=...)``.

Also here: the one progress bar of the book (:func:`progress`, shown only in a live notebook,
see :func:`is_interactive`), the step cap of smoke tests (:func:`max_steps`, from
``$LMT_MAX_STEPS``), and where full-scale runs keep their checkpoints (:meth:`Config.checkpoint`,
under ``$LMT_CHECKPOINTS`` or ``checkpoints/``).
"""

from __future__ import annotations

import ctypes
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

import numpy as np
import torch

__all__ = [
    "Config",
    "SCALES",
    "setup",
    "resolve_scale",
    "resolve_device",
    "is_interactive",
    "retain_freed_memory",
    "max_steps",
    "progress",
    "Progress",
    "checkpoint_root",
]

SCALES = ("quick", "full")
T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    """What a chapter needs to know about where and how big it runs.

    Attributes:
        device: where tensors live (``cpu`` or ``cuda``).
        scale: ``"quick"`` (CPU, ≤ 90 s a chapter) or ``"full"`` (paper-like, one GPU).
        seed: the seed passed to :func:`setup`.
        dtype: default floating dtype of the book (float32).
    """

    device: torch.device
    scale: str
    seed: int
    dtype: torch.dtype = torch.float32

    @property
    def quick(self) -> bool:
        """True in quick mode."""
        return self.scale == "quick"

    def pick(self, quick: T, full: T) -> T:
        """Return ``quick`` in quick mode and ``full`` in full mode."""
        return quick if self.quick else full

    def generator(self, seed: int | None = None) -> torch.Generator:
        """A fresh ``torch.Generator`` on ``self.device`` seeded with ``seed`` (default: ``self.seed``)."""
        g = torch.Generator(device=self.device)
        g.manual_seed(self.seed if seed is None else int(seed))
        return g

    def checkpoint(self, name: str) -> Path | None:
        """Where a full-scale run called ``name`` keeps its checkpoints; ``None`` in quick mode.

        Pass it as ``train.fit(..., checkpoint_dir=cfg.checkpoint("ch01/main"))``: quick runs
        save nothing, full runs save under :func:`checkpoint_root` (``$LMT_CHECKPOINTS`` or
        ``checkpoints/``) and, after a disconnect, resume or load instead of retraining.

        Raises:
            ValueError: ``name`` is empty, absolute, or climbs out of the root with ``..``.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(
                f"name must be a relative path inside the checkpoint root, got {name!r}"
            )
        return None if self.quick else checkpoint_root() / rel

    def __str__(self) -> str:
        return f"device={self.device.type}, scale={self.scale}, seed={self.seed}"


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run at: ``$LMT_SCALE`` if set, else ``scale`` if given, else ``"quick"``.

    The environment wins so that a book build or a test run fixes the scale of every chapter,
    whatever the chapter's own ``SCALE`` setting says. Quick is the default even where CUDA is
    available: full mode is asked for, never implied.

    Raises:
        ValueError: if the scale is not ``"quick"`` or ``"full"``.
    """
    env = os.environ.get("LMT_SCALE", "").strip().lower()
    if env:
        if env not in SCALES:
            raise ValueError(f"scale: LMT_SCALE must be one of {SCALES}, got {env!r}")
        return env
    if scale is None:
        return "quick"
    if not isinstance(scale, str) or scale.strip().lower() not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return scale.strip().lower()


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a ``torch.device``; by default ``cuda`` when available, else ``cpu``.

    Raises:
        ValueError: if ``cuda`` is asked for but not available, or the name is unknown.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device: cannot interpret {device!r} as a torch device") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for but CUDA is not available")
    return dev


def setup(
    seed: int = 0,
    *,
    scale: str | None = None,
    device: str | torch.device | None = None,
    threads: int | None = None,
    verbose: bool = True,
) -> Config:
    """Seed every random number generator, choose the device and the scale.

    Args:
        seed: seeds Python's ``random``, NumPy and PyTorch (all devices).
        scale: ``"quick"`` or ``"full"``; default from ``$LMT_SCALE`` (see :func:`resolve_scale`).
        device: default ``cuda`` if available, else ``cpu``.
        threads: CPU threads for PyTorch; default ``$LMT_THREADS`` or 1. The book's models are
            small and run no slower on one thread, and a second thread competing with another
            busy process (a test worker, a browser) can slow training down many times over.
        verbose: print the configuration.

    Returns:
        The :class:`Config` of the run.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    cfg = Config(device=resolve_device(device), scale=resolve_scale(scale), seed=seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if cfg.device.type == "cpu":
        n = threads if threads is not None else int(os.environ.get("LMT_THREADS", "1"))
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"threads (or LMT_THREADS) must be an int >= 1, got {n!r}")
        torch.set_num_threads(n)
        retain_freed_memory()
    if verbose:
        print(f"LMT runtime: {cfg}")
    return cfg


def retain_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to keep freed memory instead of handing it back to the OS.

    A training step on the CPU frees and allocates the same activation and gradient buffers
    (hundreds of KiB each) every step. With glibc's defaults the top of the heap is often trimmed
    and faulted back in at the next step, which made small-model training up to 2x slower, by
    chance from one process to the next. This keeps blocks below 32 MiB on the heap and trims
    only above 256 MiB of free memory. Called by :func:`setup` on the CPU; a no-op (returning
    False) where the C library is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 256 << 20))


def is_interactive() -> bool:
    """True when a person can move a widget: inside an IPython kernel and not in a static build.

    Builds and tests set ``LMT_STATIC=1`` so that explore cells draw a plain figure instead.
    """
    if os.environ.get("LMT_STATIC", "") not in ("", "0"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and hasattr(ip, "kernel")


def checkpoint_root() -> Path:
    """The folder of full-scale checkpoints: ``$LMT_CHECKPOINTS`` if set, else ``checkpoints/``."""
    return Path(os.environ.get("LMT_CHECKPOINTS", "").strip() or "checkpoints")


def max_steps() -> int | None:
    """The step cap of smoke tests, ``$LMT_MAX_STEPS`` (an int ≥ 1), or ``None`` when unset.

    When set, :func:`progress` stops after that many items and :func:`lmt_core.train.fit` runs
    at most that many updates, so a full-scale chapter can be run end to end in seconds.

    Raises:
        ValueError: ``LMT_MAX_STEPS`` is set but is not a positive integer.
    """
    raw = os.environ.get("LMT_MAX_STEPS", "").strip()
    if not raw:
        return None
    try:
        cap = int(raw)
    except ValueError:
        cap = 0
    if cap < 1:
        raise ValueError(f"LMT_MAX_STEPS must be a positive integer, got {raw!r}")
    return cap


class Progress:
    """An iterable with a ``tqdm.auto`` bar; built by :func:`progress` (see there).

    Besides iterating, :meth:`set_postfix` writes a note after the bar (e.g. how many members of
    an ensemble have stopped) and :meth:`close` ends the bar early.
    """

    def __init__(
        self,
        iterable: Iterable[T],
        desc: str,
        *,
        total: int | None = None,
        initial: int = 0,
        steps: bool = False,
    ) -> None:
        from tqdm.auto import tqdm  # local: importing the runtime must not need a display

        if total is None and hasattr(iterable, "__len__"):
            total = initial + len(iterable)  # type: ignore[arg-type]
        # only a loop over training steps is capped: a sweep cut short would change the shapes
        # of everything computed from it
        self.iterable, self.limit = iterable, (max_steps() if steps else None)
        if total is not None and self.limit is not None:
            total = min(total, initial + self.limit)
        # leave=False: a finished bar disappears instead of piling up under the cell
        settings = dict(desc=desc, total=total, initial=initial, leave=False)
        self._handle = None
        if is_interactive() and _is_notebook_bar(tqdm):
            # A notebook bar is an ipywidget. Shown through a display handle, it can be replaced
            # by an empty output when it closes, so a saved notebook keeps no reference to a
            # widget that will not exist when it is reopened ("model not found").
            from IPython.display import display

            self.bar = tqdm(**settings, display=False)
            self._handle = display(self.bar.container, display_id=True)
        else:
            self.bar = tqdm(**settings, disable=not is_interactive())

    def __iter__(self) -> Iterator[T]:
        try:
            for i, item in enumerate(self.iterable):
                if self.limit is not None and i >= self.limit:
                    break
                yield item
                self.bar.update(1)
        finally:  # also when the caller breaks out of the loop early
            self.close()

    def set_postfix(self, **values: Any) -> None:
        """Show ``name=value`` notes after the bar."""
        self.bar.set_postfix(**values)

    def close(self) -> None:
        """Close the bar. A notebook bar closed below its total is drawn as failed (red), which
        a loop that stops early on purpose is not: the total is set to the count first."""
        bar = self.bar
        if bar.total is not None and bar.n < bar.total:
            bar.total = bar.n
        bar.close()
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(""))
            self._handle = None


def _is_notebook_bar(bar_class: type) -> bool:
    """Whether ``bar_class`` (``tqdm.auto.tqdm``) draws an ipywidget (Jupyter, Colab)."""
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:
        return False
    return isinstance(bar_class, type) and issubclass(bar_class, notebook_tqdm)


def progress(
    iterable: Iterable[T],
    desc: str,
    *,
    total: int | None = None,
    initial: int = 0,
    steps: bool = False,
) -> Progress:
    """``iterable`` with a progress bar: ``for m in runtime.progress(M_GRID, "sample sizes"):``.

    The bar (``tqdm.auto``, ``leave=False``) is shown only where a person watches it
    (:func:`is_interactive`: not in builds, tests or scripts), and a loop that ends early does
    not leave a failed bar behind. A loop over training steps says so (``steps=True``); with
    ``$LMT_MAX_STEPS`` set (:func:`max_steps`, a smoke test) it stops after that many items.

    Args:
        iterable: what to loop over.
        desc: the label of the bar.
        total: the number of items, when ``len(iterable)`` does not give it.
        initial: items already done before this loop (a resumed run), counted by the bar.
        steps: the items are training steps (capped by ``$LMT_MAX_STEPS``); a sweep over
            sizes, seeds or settings is never capped.

    Returns:
        A :class:`Progress`, iterated like ``iterable``.
    """
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a string, got {type(desc).__name__}")
    if total is not None:
        total = int(total)
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
    if isinstance(initial, bool) or not isinstance(initial, int) or initial < 0:
        raise ValueError(f"initial must be an int >= 0, got {initial!r}")
    if not isinstance(steps, bool):
        raise TypeError(f"steps must be a bool, got {type(steps).__name__}")
    return Progress(iterable, desc, total=total, initial=initial, steps=steps)
