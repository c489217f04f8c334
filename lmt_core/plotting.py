"""The house style and the plots chapters share.

Figures have a white background (readable in the light and dark themes of the book), labelled
axes, and a title that says what to look at.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from lmt_core.analysis import LogLogFit

__all__ = ["use_house_style", "plot_band", "plot_loglog_fit", "COLORS"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#7f7f7f"]


def use_house_style() -> None:
    """Set matplotlib defaults: white faces, readable fonts, light grid, no top/right spines."""
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "axes.prop_cycle": mpl.cycler(color=COLORS),
        }
    )


def plot_band(
    ax: plt.Axes,
    x: np.ndarray,
    ys: np.ndarray,
    *,
    label: str,
    color: str | None = None,
    log_y: bool = False,
) -> None:
    """Median over members with a band from the 10th to the 90th percentile.

    Args:
        x: ``(T,)``; ys: ``(T, E)`` (one column per member).
    """
    ys = np.asarray(ys, dtype=float)
    if ys.ndim == 1:
        ys = ys[:, None]
    if ys.shape[0] != len(x):
        raise ValueError(f"ys must have shape (len(x), E) = ({len(x)}, E), got {ys.shape}")
    med = np.median(ys, 1)
    lo, hi = np.percentile(ys, 10, 1), np.percentile(ys, 90, 1)
    (line,) = ax.plot(x, med, label=label, color=color)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if log_y:
        ax.set_yscale("log")


def plot_loglog_fit(
    ax: plt.Axes,
    x: Sequence[float],
    y: Sequence[float],
    fit: LogLogFit,
    *,
    label: str = "measured",
    yerr: Sequence[Sequence[float]] | None = None,
) -> None:
    """Points on log–log axes with the fitted power law; the slope goes in the legend."""
    x = np.asarray(x, dtype=float)
    ax.errorbar(x, y, yerr=yerr, fmt="o", label=label, capsize=3)
    xs = np.geomspace(x.min(), x.max(), 50)
    ax.plot(xs, fit.predict(xs), "--", label=f"fit: slope {fit.slope:.2f} ± {fit.slope_stderr:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend()
