"""Fits of scaling laws: power laws on log–log axes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["LogLogFit", "loglog_fit"]


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
