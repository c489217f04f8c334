"""Run-time set-up shared by every chapter: seeds, device, and the quick/full scale.

A chapter starts with ``cfg = runtime.setup(seed=0)``. The scale comes from the environment
variable ``LMT_SCALE`` (``quick`` or ``full``); without it, ``full`` when CUDA is available and
``quick`` otherwise. Sizes that depend on the scale are written ``cfg.pick(quick=..., full=...)``.
"""

from __future__ import annotations

import ctypes
import os
import random
import sys
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

__all__ = ["Config", "SCALES", "setup", "resolve_scale", "resolve_device", "is_interactive",
           "retain_freed_memory"]

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

    def __str__(self) -> str:
        return f"device={self.device.type}, scale={self.scale}, seed={self.seed}"


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run at: ``scale`` if given, else ``$LMT_SCALE``, else full iff CUDA is present.

    Raises:
        ValueError: if the scale is not ``"quick"`` or ``"full"``.
    """
    if scale is None:
        scale = os.environ.get("LMT_SCALE", "").strip().lower() or None
    if scale is None:
        return "full" if torch.cuda.is_available() else "quick"
    if not isinstance(scale, str) or scale.lower() not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} (argument or LMT_SCALE), got {scale!r}")
    return scale.lower()


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
