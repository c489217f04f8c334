"""Associative memories in analysis: embeddings, the outer-product memory, its recall and
capacity, and the Gaussian model of its scores.

Inputs x ∈ [N] and outputs y ∈ [M] are represented by random embeddings e_x, u_y ∈ R^d, drawn
i.i.d. N(0, I_d / d) (so ‖e‖ ≈ 1 and different embeddings are nearly orthogonal, up to 1/√d).
A memory maps e_x to a vector h(x) ∈ R^d and recalls

    ŷ(x) = argmax_y  u_y^T h(x).

- :func:`gaussian_embeddings` — the random embeddings;
- :func:`outer_product_memory` — the *linear* memory h(x) = W e_x with the sum of outer products
  W = Σ_i u_{y_i} e_{x_i}^T (no training); :func:`memory_scores`, :func:`recall_accuracy`;
- :func:`outer_product_accuracy` — its recall for N random one-to-one pairs, measured;
- :func:`gaussian_model_accuracy` — the same, predicted from a Gaussian model of the scores;
- :func:`capacity_from_curve` — the largest number of pairs at which the recall accuracy is
  still above a threshold, interpolated on a grid.

The trainable memories (:class:`lmt_core.models.LinearMemory`, :class:`lmt_core.models.MLPMemory`)
are modules, in :mod:`lmt_core.models.associative`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from lmt_core._checks import check_generator, check_int
from lmt_core.analysis.hermite import gauss_hermite

__all__ = [
    "gaussian_embeddings",
    "outer_product_memory",
    "memory_scores",
    "recall_accuracy",
    "outer_product_accuracy",
    "gaussian_model_accuracy",
    "capacity_from_curve",
]


def gaussian_embeddings(
    n: int, d: int, generator: torch.Generator, *, sphere: bool = False
) -> torch.Tensor:
    """``n`` i.i.d. embeddings in R^d with law N(0, I_d/d); with ``sphere=True`` normalised to
    unit length (uniform on the sphere).

    Returns:
        float32 tensor ``(n, d)`` (one embedding per row) on ``generator.device``.
    """
    check_int("n", n, minimum=1)
    check_int("d", d, minimum=1)
    dev = check_generator(generator).device
    z = torch.randn(n, d, generator=generator, device=dev)
    return z / z.norm(dim=1, keepdim=True) if sphere else z / math.sqrt(d)


def outer_product_memory(inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """W = Σ_i u_i e_i^T for input embeddings ``inputs`` (N, d) and the embeddings of their
    targets ``outputs`` (N, d) (row i of ``outputs`` is u_{y_i}). Returns W of shape (d, d)."""
    if inputs.dim() != 2 or inputs.shape != outputs.shape:
        raise ValueError(
            f"inputs and outputs must both have shape (N, d), got "
            f"{tuple(inputs.shape)} and {tuple(outputs.shape)}"
        )
    return outputs.T @ inputs


def memory_scores(W: torch.Tensor, inputs: torch.Tensor, out_embed: torch.Tensor) -> torch.Tensor:
    """Scores u_y^T W e_x for every input (rows of ``inputs``, (N, d)) and every output
    (rows of ``out_embed``, (M, d)): a tensor (N, M)."""
    return (inputs @ W.T) @ out_embed.T


def recall_accuracy(
    W: torch.Tensor, inputs: torch.Tensor, out_embed: torch.Tensor, targets: torch.Tensor
) -> float:
    """Fraction of inputs whose argmax score is their target class (``targets`` (N,) in [M])."""
    pred = memory_scores(W, inputs, out_embed).argmax(1)
    return float((pred == targets.to(pred.device)).float().mean())


def outer_product_accuracy(
    n_pairs: int,
    d: int,
    *,
    trials: int = 1,
    queries: int | None = None,
    sphere: bool = False,
    generator: torch.Generator,
) -> float:
    """Recall accuracy of the outer-product memory for ``n_pairs`` one-to-one pairs x_i -> y_i
    (N inputs, N outputs, all embeddings i.i.d. N(0, I_d/d), or uniform on the unit sphere with
    ``sphere=True``), averaged over ``trials`` draws of the embeddings (on ``generator.device``).

    With ``queries`` set, only that many stored inputs (the first ones; the embeddings are
    exchangeable) are recalled, an unbiased estimate of the accuracy at cost O(queries·N·d)
    instead of O(N²·d).
    """
    check_int("n_pairs", n_pairs, minimum=1)
    check_int("trials", trials, minimum=1)
    q = n_pairs if queries is None else min(check_int("queries", queries, minimum=1), n_pairs)
    dev = check_generator(generator).device
    acc = 0.0
    for _ in range(trials):
        E = gaussian_embeddings(n_pairs, d, generator, sphere=sphere)
        U = gaussian_embeddings(n_pairs, d, generator, sphere=sphere)  # u_{y_i} = U[i]: y_i = i
        W = outer_product_memory(E, U)
        acc += recall_accuracy(W, E[:q], U, torch.arange(q, device=dev))
    return acc / trials


def gaussian_model_accuracy(
    n_pairs: int, d: int, *, sphere: bool = False, points: int = 180
) -> float:
    """Predicted recall accuracy of :func:`outer_product_accuracy` from a Gaussian model.

    Used in Chapter 11, § The outer-product memory in code (the Gaussian model of the scores
    next to the proposition "Capacity of the outer-product memory").

    The correct score is modelled as N(1, σ_c²) and the N − 1 wrong scores as independent
    N(0, σ_w²), with the variances of the terms in the chapter's decomposition:
    σ_w² = 2/d + (N−2)/d² and σ_c² = (N−1)/d², plus 4/d for Gaussian (not unit-norm) embeddings,
    whose squared norms fluctuate. The accuracy is then E_c[Φ(c/σ_w)^{N−1}], computed by
    Gauss–Hermite quadrature with ``points`` nodes (at most 180).
    """
    N = check_int("n_pairs", n_pairs, minimum=1)
    check_int("d", d, minimum=1)
    # the correct score: 1 + ξ_j (plus the norm fluctuation of Gaussian embeddings)
    sigma_c = math.sqrt((0 if sphere else 4 / d) + (N - 1) / d**2)
    # a wrong score: u_k·u_j + e_k·e_j (variance 1/d each) + the crosstalk ξ_jk ((N−2)/d²)
    sigma_w = math.sqrt(2 / d + max(N - 2, 0) / d**2)
    z, w = gauss_hermite(points)  # E over z ~ N(0, 1)
    c = 1 + sigma_c * z
    # P(all N − 1 wrong scores < c) = Φ(c/σ_w)^{N−1}, in log space for large N
    ratio = torch.as_tensor(c / sigma_w, dtype=torch.float64, device="cpu")
    log_phi = torch.special.log_ndtr(ratio).numpy()
    return float(np.sum(w * np.exp((N - 1) * log_phi)))


def capacity_from_curve(
    n_pairs: Sequence[float], accuracy: Sequence[float], threshold: float = 0.9
) -> float:
    """The number of pairs at which ``accuracy`` (measured on the increasing grid ``n_pairs``)
    first falls below ``threshold``, interpolated linearly in log N between the two grid points
    around the crossing.

    Raises:
        ValueError: if the accuracy is already below the threshold at the first grid point or
            never falls below it (widen the grid).
    """
    x = np.log(np.asarray(n_pairs, dtype=float))
    a = np.asarray(accuracy, dtype=float)
    if x.shape != a.shape or x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("n_pairs must be an increasing grid of the same length as accuracy (>= 2)")
    below = np.nonzero(a < threshold)[0]
    if below.size == 0 or below[0] == 0:
        raise ValueError(
            f"accuracy must start above {threshold} and fall below it on the grid; "
            f"got {a[0]:.3f} … {a.min():.3f}"
        )
    i = below[0]
    t = (a[i - 1] - threshold) / (a[i - 1] - a[i])
    return float(np.exp(x[i - 1] + t * (x[i] - x[i - 1])))
