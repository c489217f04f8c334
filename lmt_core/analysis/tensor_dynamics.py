"""Gradient dynamics of over-parameterized tensor decomposition (Chapter 16).

The model T(W) = Σ_j w_j^{⊗ℓ} (rows w_j of W ∈ R^{d×n}) fits the orthogonal target
T* = Σ_i a_i u_i^{⊗ℓ} of :func:`lmt_core.tasks.orthogonal_tensor` under the loss
L(W) = ½ ‖T(W) − T*‖_F². Everything here works through inner products, using
⟨x^{⊗ℓ}, y^{⊗ℓ}⟩ = ⟨x, y⟩^ℓ, without forming the n^ℓ entries of a tensor.

* :func:`decomposition_loss`, :func:`decomposition_grad` — L and its closed-form gradient;
* :func:`component_fit` — how much of each component the model has fitted;
* :func:`escape_times` — the chapter's prediction of when each component is discovered.
"""

from __future__ import annotations

from typing import Sequence

import torch

from lmt_core.tasks.tensors import _basis, _order, _rows, _weights

__all__ = ["decomposition_loss", "decomposition_grad", "component_fit", "escape_times"]

Weights = Sequence[float] | torch.Tensor


def decomposition_loss(
    W: torch.Tensor, weights: Weights, order: int = 3, basis: torch.Tensor | None = None
) -> torch.Tensor:
    """L(W) = ½ ‖Σ_j w_j^{⊗ℓ} − Σ_i a_i u_i^{⊗ℓ}‖_F², computed from inner products.

    Uses ⟨x^{⊗ℓ}, y^{⊗ℓ}⟩ = ⟨x, y⟩^ℓ:
    2L = Σ_{j,k} ⟨w_j, w_k⟩^ℓ − 2 Σ_{j,i} a_i ⟨w_j, u_i⟩^ℓ + Σ_i a_i².

    Args:
        W: ``(d, n)``, one row per model component.
        weights: the ``r`` positive weights a_i; basis: ``(n, r)`` orthonormal columns u_i
            (default: the first r standard basis vectors).

    Returns:
        a 0-d tensor (dtype and device of ``W``).
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    G, C = W @ W.T, W @ U
    return 0.5 * (G.pow(ell).sum() - 2 * (C.pow(ell) * a).sum() + a.pow(2).sum())


def decomposition_grad(
    W: torch.Tensor, weights: Weights, order: int = 3, basis: torch.Tensor | None = None
) -> torch.Tensor:
    """The gradient of :func:`decomposition_loss` with respect to W, in closed form:

    ∇_{w_j} L = ℓ Σ_k ⟨w_j, w_k⟩^{ℓ−1} w_k − ℓ Σ_i a_i ⟨w_j, u_i⟩^{ℓ−1} u_i.
    The first term is the interaction between the model's components, the second the pull of the
    target. Shape ``(d, n)``, like ``W``.
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    G, C = W @ W.T, W @ U
    return ell * (G.pow(ell - 1) @ W) - ell * ((C.pow(ell - 1) * a) @ U.T)


def component_fit(
    W: torch.Tensor, weights: Weights, order: int = 3, basis: torch.Tensor | None = None
) -> torch.Tensor:
    """For each component i, the fraction of it that the model has fitted: T(W)(u_i, ..., u_i)/a_i.

    It is Σ_j ⟨w_j, u_i⟩^ℓ / a_i: 0 at a small initialization, 1 when the model's tensor has the
    right coefficient on u_i^{⊗ℓ}. Shape ``(r,)``.
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    return (W @ U).pow(ell).sum(0) / a


def escape_times(
    W0: torch.Tensor, weights: Weights, order: int = 3, basis: torch.Tensor | None = None
) -> torch.Tensor:
    """Predicted discovery time of each component under gradient flow from a small init W0.

    Used in Chapter 16, § When is a component discovered? (shown in § The construction in code).

    Without the interaction term, the correlation c = ⟨w_j, u_i⟩ of one row obeys
    dc/dt = ℓ a_i c^{ℓ−1}, which blows up at t = 1 / (ℓ (ℓ−2) a_i c(0)^{ℓ−2}) when c(0) > 0 (for
    even ℓ, any c(0) ≠ 0, through |c(0)|). The first row to blow up wins, so the prediction for
    component i is 1 / (ℓ (ℓ−2) a_i M_i^{ℓ−2}) with M_i = max_j ⟨w_j, u_i⟩ (odd ℓ) or
    max_j |⟨w_j, u_i⟩| (even ℓ). Needs order ≥ 3 (order 2, the matrix case, grows exponentially
    and never blows up).

    Returns:
        ``(r,)`` tensor of times; ``inf`` where no row can grow.
    """
    W0 = _rows(W0)
    ell = _order(order, minimum=3)
    a = _weights(weights, W0)
    U = _basis(basis, W0.shape[1], a.numel(), W0)
    C = W0 @ U
    M = (C.abs() if ell % 2 == 0 else C).max(0).values
    t = 1.0 / (ell * (ell - 2) * a * M.clamp(min=0).pow(ell - 2))
    return torch.where(M > 0, t, torch.full_like(t, float("inf")))
