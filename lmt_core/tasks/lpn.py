"""Offline (fixed-sample) parity learning and learning parity with noise (LPN).

* :func:`covering_probability` — the "lottery ticket" probability that a hidden unit whose
  first-layer weights start on ``s`` random coordinates sees all ``k`` relevant ones, and the
  probability that at least one of ``width`` such units does.
* :func:`fixed_samples` and :func:`offline_batches` — one fixed training sample per ensemble
  member (of possibly different sizes ``m``), and mini-batches drawn from it with replacement, in
  the ``batches(step, generator)`` form that :func:`lmt_core.train.fit` expects.
* :func:`lpn_task` — an LPN instance: a sparse parity whose labels are flipped with probability
  ``tau`` (bits are ±1, so the F_2 inner product ⟨a, s⟩ becomes the character χ_S(x)).
"""

from __future__ import annotations

from math import comb
from typing import Callable, Sequence

import torch

from lmt_core._checks import check_generator, check_int
from lmt_core.tasks.boolean import SparseParity

__all__ = ["covering_probability", "fixed_samples", "offline_batches", "lpn_task"]


def covering_probability(n: int, k: int, s: int, width: int = 1) -> float:
    """Probability that at least one of ``width`` units covers a fixed k-set S.

    Each unit's support is a uniformly random s-subset of [n], independently across units. One
    unit covers S (S ⊆ support) with probability p = C(n-k, s-k) / C(n, s); at least one of
    ``width`` units does with probability 1 - (1 - p)^width.

    Returns:
        A float in [0, 1] (0 when s < k).
    """
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    check_int("s", s, minimum=1, maximum=n)
    check_int("width", width, minimum=1)
    if s < k:
        return 0.0
    p = comb(n - k, s - k) / comb(n, s)
    return 1.0 - (1.0 - p) ** width


def fixed_samples(
    task: SparseParity, sizes: Sequence[int], *, seeds: Sequence[int], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One fixed training sample per member, padded to a common length.

    Member ``e`` gets the first ``sizes[e]`` examples of a stream drawn with seed ``seeds[e]``:
    members with the same seed and different sizes get *nested* samples (the smaller one is a
    prefix of the larger), so that a sweep over m changes only the number of examples.

    Returns:
        ``(X, Y, m)`` with ``X`` of shape ``(E, max(sizes), n)``, ``Y`` of shape
        ``(E, max(sizes))`` (entries past ``sizes[e]`` are padding and never drawn by
        :func:`offline_batches`) and ``m`` the sizes as a long tensor ``(E,)``.
    """
    if len(sizes) != len(seeds) or len(sizes) == 0:
        raise ValueError(f"sizes and seeds must be non-empty and of equal length, got {len(sizes)} and {len(seeds)}")
    for m in sizes:
        check_int("sizes[e]", m, minimum=1)
    m_max = max(sizes)
    streams = {}
    for sd in set(seeds):
        g = torch.Generator(device=device).manual_seed(int(sd))
        streams[sd] = task.sample(m_max, generator=g)
    X = torch.stack([streams[sd][0] for sd in seeds])
    Y = torch.stack([streams[sd][1] for sd in seeds])
    return X, Y, torch.as_tensor(list(sizes), dtype=torch.long, device=X.device)


def offline_batches(
    X: torch.Tensor, Y: torch.Tensor, m: torch.Tensor, batch: int
) -> Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    """``batches(step, generator)`` for :func:`lmt_core.train.fit` drawing from fixed samples.

    Every step, member ``e`` gets ``batch`` examples drawn uniformly with replacement from its
    own first ``m[e]`` examples ``X[e, :m[e]]``. The batch has shapes ``(E, batch, n)`` and
    ``(E, batch)`` (per-member inputs).
    """
    if X.dim() != 3 or Y.shape != X.shape[:2] or m.shape != X.shape[:1]:
        raise ValueError(f"expected X (E, M, n), Y (E, M), m (E,), got {tuple(X.shape)}, "
                         f"{tuple(Y.shape)}, {tuple(m.shape)}")
    if int(m.min()) < 1 or int(m.max()) > X.shape[1]:
        raise ValueError(f"sizes m must lie in [1, {X.shape[1]}], got {m.tolist()}")
    check_int("batch", batch, minimum=1)
    E = X.shape[0]
    rows = torch.arange(E, device=X.device).unsqueeze(1)
    m_f = m.to(torch.float32).unsqueeze(1)
    m_last = (m - 1).unsqueeze(1)

    def batches(step: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        check_generator(generator)
        u = torch.rand(E, batch, generator=generator, device=X.device)
        idx = torch.minimum((u * m_f).long(), m_last)  # u < 1, so this only guards rounding
        return X[rows, idx], Y[rows, idx]

    return batches


def lpn_task(n: int, k: int, tau: float, *, seed: int = 0) -> SparseParity:
    """An LPN instance with a secret of Hamming weight ``k`` and noise rate ``tau`` in [0, 1/2).

    In ±1 notation an LPN sample is ``(x, y)`` with x uniform on {±1}^n and
    y = χ_S(x) · (−1)^e, e ~ Bernoulli(tau), where S is the support of the secret.
    The secret's support is a uniformly random k-subset, drawn with ``seed``.
    """
    return SparseParity.random(n, k, seed=seed, noise=tau)
