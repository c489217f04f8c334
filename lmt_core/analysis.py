"""Analysis helpers: Fourier–Walsh coefficients, weight-based progress measures, slope fits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from lmt_core._checks import check_int

__all__ = [
    "walsh_hadamard",
    "walsh_coefficients",
    "subset_mask",
    "fourier_coefficient",
    "support_weight_fraction",
    "LogLogFit",
    "loglog_fit",
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
        raise ValueError(f"support must be non-empty indices in [0, {W.shape[-1]}), got {list(support)}")
    sq = W.detach().pow(2)
    return sq.index_select(-1, idx).sum((-1, -2)) / sq.sum((-1, -2))


@dataclass(frozen=True)
class LogLogFit:
    """Least-squares fit log y = a + b log x.

    Attributes:
        slope: b, the fitted exponent.
        intercept: a.
        slope_stderr: standard error of b (0 with two points).
        r2: coefficient of determination on the log scale.
    """

    slope: float
    intercept: float
    slope_stderr: float
    r2: float

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        """e^a x^b."""
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope


def loglog_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> LogLogFit:
    """Fit a power law y ≈ C x^b by least squares on log–log axes.

    Raises:
        ValueError: with fewer than two points, mismatched lengths, or non-positive values.
    """
    lx, ly = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if lx.shape != ly.shape:
        raise ValueError(f"x and y must have the same length, got {lx.size} and {ly.size}")
    if lx.size < 2:
        raise ValueError("need at least two points to fit a slope")
    if (lx <= 0).any() or (ly <= 0).any() or not (np.isfinite(lx).all() and np.isfinite(ly).all()):
        raise ValueError("x and y must be positive and finite for a log–log fit")
    lx, ly = np.log(lx), np.log(ly)
    A = np.stack([np.ones_like(lx), lx], 1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    n = lx.size
    sxx = ((lx - lx.mean()) ** 2).sum()
    se = math.sqrt((resid**2).sum() / (n - 2) / sxx) if n > 2 and sxx > 0 else 0.0
    ss_tot = ((ly - ly.mean()) ** 2).sum()
    r2 = 1 - (resid**2).sum() / ss_tot if ss_tot > 0 else 1.0
    return LogLogFit(slope=float(coef[1]), intercept=float(coef[0]), slope_stderr=se, r2=float(r2))
