"""Analysis helpers, one submodule per topic; every public name is re-exported here.

- :mod:`~lmt_core.analysis.fourier` — Fourier–Walsh coefficients on the hypercube, weight-based
  progress measures.
- :mod:`~lmt_core.analysis.fits` — power-law fits on log–log axes.
- :mod:`~lmt_core.analysis.hermite` — normalized Hermite polynomials, Hermite coefficients and
  the information exponent of a link function.
- :mod:`~lmt_core.analysis.hessian` — curvature of a loss: Hessian–vector products, top
  eigenvalues (Lanczos), Hutchinson and exact traces.
- :mod:`~lmt_core.analysis.tangent` — tangent features and linearized (tangent-kernel) training.
- :mod:`~lmt_core.analysis.memory` — memory accounting of training and inference, in bytes.
- :mod:`~lmt_core.analysis.coverage` — the lottery-ticket covering probability of sparse
  random units (Chapter 2).
- :mod:`~lmt_core.analysis.tensor_dynamics` — loss, gradient, component fit and escape times of
  over-parameterized tensor decomposition (Chapter 16).
- :mod:`~lmt_core.analysis.interpolation` — interpolating learners for noisy labels: 1-nearest
  neighbour, its sampler error, minimum-norm interpolants (Chapter 17).
- :mod:`~lmt_core.analysis.metrics` — accuracy of next-token predictions on scored positions.
- :mod:`~lmt_core.analysis.associative` — associative memories: random embeddings, the
  outer-product memory, its recall, capacity and Gaussian model (Chapter 11).
- :mod:`~lmt_core.analysis.data_order` — the variance of a buffer of shards (Chapter 15).
"""

# ---- fourier, fits, hermite, hessian, tangent, memory (engine helper) ----------------------
# ---- moved from tasks and models: associative memories, data order --------------------------
from lmt_core.analysis.associative import (
    capacity_from_curve,
    gaussian_embeddings,
    gaussian_model_accuracy,
    memory_scores,
    outer_product_accuracy,
    outer_product_memory,
    recall_accuracy,
)

# ---- moved from tasks: boolean / gaussian / tensors / interpolation ------------------------
from lmt_core.analysis.coverage import covering_probability
from lmt_core.analysis.data_order import buffer_mean_variance
from lmt_core.analysis.fits import LogLogFit, loglog_fit
from lmt_core.analysis.fourier import (
    fourier_coefficient,
    subset_mask,
    support_weight_fraction,
    walsh_coefficients,
    walsh_hadamard,
)
from lmt_core.analysis.hermite import (
    gauss_hermite,
    hermite_all,
    hermite_coefficients,
    hermite_he,
    hermite_polynomial,
    information_exponent,
    monomial_coefficients,
    relu_coefficients,
)
from lmt_core.analysis.hessian import (
    EigenResult,
    HessianOperator,
    TraceEstimate,
    dense_hessian,
    exact_trace,
    hutchinson_trace,
    hvp,
    lanczos,
    top_eigenvalue,
)
from lmt_core.analysis.interpolation import min_norm_interpolant, nearest_neighbour, sampler_error
from lmt_core.analysis.memory import (
    METHODS,
    cuda_peak_bytes,
    inference_activation_bytes,
    memory_budget,
    saved_activation_bytes,
    tensor_bytes,
)
from lmt_core.analysis.metrics import token_accuracy
from lmt_core.analysis.tangent import fit_linearized, ridge_solve, tangent_features
from lmt_core.analysis.tensor_dynamics import (
    component_fit,
    decomposition_grad,
    decomposition_loss,
    escape_times,
)

__all__ = [
    # fourier, fits, hermite, hessian, tangent, memory
    "walsh_hadamard",
    "walsh_coefficients",
    "subset_mask",
    "fourier_coefficient",
    "support_weight_fraction",
    "LogLogFit",
    "loglog_fit",
    "hermite_he",
    "hermite_polynomial",
    "hermite_all",
    "gauss_hermite",
    "hermite_coefficients",
    "information_exponent",
    "relu_coefficients",
    "monomial_coefficients",
    "HessianOperator",
    "EigenResult",
    "TraceEstimate",
    "hvp",
    "dense_hessian",
    "top_eigenvalue",
    "lanczos",
    "hutchinson_trace",
    "exact_trace",
    "tangent_features",
    "ridge_solve",
    "fit_linearized",
    "METHODS",
    "tensor_bytes",
    "saved_activation_bytes",
    "inference_activation_bytes",
    "memory_budget",
    "cuda_peak_bytes",
    # boolean / gaussian / tensors / interpolation
    "covering_probability",
    "decomposition_loss",
    "decomposition_grad",
    "component_fit",
    "escape_times",
    "nearest_neighbour",
    "sampler_error",
    "min_norm_interpolant",
    "token_accuracy",
    # associative memories, data order
    "gaussian_embeddings",
    "outer_product_memory",
    "memory_scores",
    "recall_accuracy",
    "outer_product_accuracy",
    "gaussian_model_accuracy",
    "capacity_from_curve",
    "buffer_mean_variance",
]
