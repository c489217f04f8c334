"""Analysis helpers, one submodule per topic; every public name is re-exported here.

- :mod:`~lmt_core.analysis.fourier` — Fourier–Walsh coefficients on the hypercube, weight-based
  progress measures.
- :mod:`~lmt_core.analysis.fits` — power-law fits on log–log axes.
"""

# ---- fourier, fits, hermite, hessian, tangent, memory (engine helper) ----------------------
from lmt_core.analysis.fits import LogLogFit, loglog_fit
from lmt_core.analysis.fourier import (
    fourier_coefficient,
    subset_mask,
    support_weight_fraction,
    walsh_coefficients,
    walsh_hadamard,
)

# ---- moved from tasks: boolean / gaussian / tensors / interpolation ------------------------

# ---- moved from tasks and models: associative memories, data order --------------------------

__all__ = [
    # fourier, fits, hermite, hessian, tangent, memory
    "walsh_hadamard",
    "walsh_coefficients",
    "subset_mask",
    "fourier_coefficient",
    "support_weight_fraction",
    "LogLogFit",
    "loglog_fit",
    # boolean / gaussian / tensors / interpolation
    # associative memories, data order
]
