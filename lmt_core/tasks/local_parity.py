"""Parities of k consecutive bits at an unknown position (Malach and Shalev-Shwartz 2020).

The task is a :class:`~lmt_core.tasks.boolean.SparseParity` whose support is a window
``{j, j+1, ..., j+k-1}``: the label depends on k *adjacent* bits, but which k is unknown.
"""

from __future__ import annotations

import torch

from lmt_core._checks import check_int
from lmt_core.tasks.boolean import SparseParity

__all__ = ["local_parity", "random_local_parity", "window_start"]


def local_parity(n: int, k: int, start: int, *, noise: float = 0.0) -> SparseParity:
    """The parity of the k bits ``start, ..., start + k - 1`` of x in {±1}^n (indices from 0)."""
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    check_int("start", start, minimum=0, maximum=n - k)
    return SparseParity(n, tuple(range(start, start + k)), noise)


def random_local_parity(n: int, k: int, *, seed: int = 0, noise: float = 0.0) -> SparseParity:
    """A local parity whose window starts at a position drawn uniformly from ``0..n-k`` (seeded)."""
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    g = torch.Generator().manual_seed(int(seed))
    start = int(torch.randint(0, n - k + 1, (1,), generator=g))
    return local_parity(n, k, start, noise=noise)


def window_start(task: SparseParity) -> int:
    """The first index of a local parity's window; raises if the support is not a window."""
    s = task.support
    if not s or list(s) != list(range(s[0], s[0] + len(s))):
        raise ValueError(f"support {s} is not a set of consecutive indices")
    return s[0]
