"""Fourier analysis on the hypercube {-1,+1}^n and weight-based progress measures."""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = [
    "walsh_hadamard",
    "walsh_coefficients",
    "subset_mask",
    "fourier_coefficient",
    "support_weight_fraction",
]


def walsh_hadamard(values: torch.Tensor) -> torch.Tensor:
    """Unnormalised fast Walsh–Hadamard transform along the last dimension.

    ``out[..., s] = Σ_r (-1)^{popcount(s & r)} values[..., r]``, in O(N log N) for N = 2^n.
    """
    N = values.shape[-1]
    if N < 1 or N & (N - 1):
        raise ValueError(f"values must have a last dimension that is a power of two, got {N}")
    h = values.clone()
    lead = h.shape[:-1]
    step = 1
    while step < N:
        h = h.view(*lead, N // (2 * step), 2, step)
        a, b = h[..., 0, :], h[..., 1, :]
        h = torch.stack((a + b, a - b), dim=-2)
        step *= 2
    return h.reshape(*lead, N)


def walsh_coefficients(values: torch.Tensor) -> torch.Tensor:
    """All Fourier–Walsh coefficients of f: {±1}^n → R from its values on the hypercube.

    f̂(S) = E_x[f(x) χ_S(x)] = 2^{-n} Σ_x f(x) ∏_{i∈S} x_i.

    Args:
        values: ``(..., 2**n)``, the values of f at the points of
            :func:`lmt_core.tasks.hypercube` (row r has x_i = (-1)^{bit i of r}).

    Returns:
        ``(..., 2**n)``; entry s is f̂(S) for the set S whose bit mask is s
        (see :func:`subset_mask`).
    """
    return walsh_hadamard(values.to(torch.float64)) / values.shape[-1]


def subset_mask(subset: Sequence[int]) -> int:
    """The bit mask Σ_{i∈S} 2^i indexing S in :func:`walsh_coefficients`."""
    return sum(1 << int(i) for i in set(subset))


def fourier_coefficient(fx: torch.Tensor, x: torch.Tensor, subset: Sequence[int]) -> torch.Tensor:
    """Monte-Carlo (or exact, on the whole cube) estimate of f̂(S) = E[f(x) χ_S(x)].

    Args:
        fx: ``(m, ...)`` values f(x) (extra dimensions, e.g. members or neurons, are kept).
        x: ``(m, n)`` points with ±1 entries.
        subset: the set S.

    Returns:
        ``(...)``: the mean of f(x) χ_S(x) over the m points.
    """
    idx = torch.as_tensor(list(subset), dtype=torch.long, device=x.device)
    chi = x.index_select(1, idx).prod(1) if idx.numel() else torch.ones(x.shape[0], device=x.device)
    return (fx * chi.view(-1, *([1] * (fx.dim() - 1)))).mean(0)


def support_weight_fraction(W: torch.Tensor, support: Sequence[int]) -> torch.Tensor:
    """Share of first-layer weight mass on the relevant coordinates: ‖W[:, S]‖²_F / ‖W‖²_F.

    A progress measure that is invisible in the loss: it rises from about k/n at initialisation
    towards 1 as the network concentrates on the support S.

    Args:
        W: ``(..., width, n)`` first-layer weights (a leading member dimension is allowed).
        support: S.

    Returns:
        ``(...)``: one fraction per member (a 0-dim tensor for one matrix).
    """
    if W.dim() < 2:
        raise ValueError(f"W must have shape (..., width, n), got {tuple(W.shape)}")
    idx = torch.as_tensor(list(support), dtype=torch.long, device=W.device)
    if idx.numel() == 0 or idx.min() < 0 or idx.max() >= W.shape[-1]:
        raise ValueError(
            f"support must be non-empty indices in [0, {W.shape[-1]}), got {list(support)}"
        )
    sq = W.detach().pow(2)
    return sq.index_select(-1, idx).sum((-1, -2)) / sq.sum((-1, -2))
