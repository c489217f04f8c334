"""Analysis helpers, one submodule per topic.

- :mod:`~lmt_core.analysis.fourier` — Fourier–Walsh coefficients on the hypercube, weight-based
  progress measures (re-exported here).
- :mod:`~lmt_core.analysis.fits` — power-law fits on log–log axes (re-exported here).
"""

from lmt_core.analysis.fits import LogLogFit, loglog_fit
from lmt_core.analysis.fourier import (
    fourier_coefficient,
    subset_mask,
    support_weight_fraction,
    walsh_coefficients,
    walsh_hadamard,
)

__all__ = [
    "walsh_hadamard",
    "walsh_coefficients",
    "subset_mask",
    "fourier_coefficient",
    "support_weight_fraction",
    "LogLogFit",
    "loglog_fit",
]
