"""Orthogonally decomposable tensors and over-parameterized tensor decomposition.

The target is T* = Σ_i a_i u_i^{⊗ℓ} for orthonormal vectors u_1, ..., u_r in R^n (the columns of
``basis``; by default the first r standard basis vectors) and weights a_i > 0. The model is
T(W) = Σ_j w_j^{⊗ℓ} for the d rows w_j of W ∈ R^{d×n}, and the loss is
L(W) = ½ ‖T(W) − T*‖_F². Everything except :func:`orthogonal_tensor` and :func:`power_sum_tensor`
works through inner products, without forming the n^ℓ entries of a tensor.
"""

from __future__ import annotations

from typing import Sequence

import torch

from lmt_core._checks import check_generator, check_int

__all__ = [
    "random_orthonormal",
    "orthogonal_tensor",
    "power_sum_tensor",
    "decomposition_loss",
    "decomposition_grad",
    "component_fit",
    "escape_times",
]


def _weights(weights: Sequence[float] | torch.Tensor, like: torch.Tensor | None = None) -> torch.Tensor:
    a = torch.as_tensor(weights, dtype=torch.float64 if like is None else like.dtype)
    if like is not None:
        a = a.to(like.device)
    if a.dim() != 1 or a.numel() == 0:
        raise ValueError(f"weights must be a non-empty 1-d sequence, got shape {tuple(a.shape)}")
    if not bool((a > 0).all()):
        raise ValueError(f"weights must be positive, got {a.tolist()}")
    return a


def _basis(basis: torch.Tensor | None, n: int, r: int, like: torch.Tensor) -> torch.Tensor:
    """The (n, r) matrix of components: ``basis`` checked, or the first r standard basis vectors."""
    if r > n:
        raise ValueError(f"need at most n = {n} orthogonal components, got r = {r}")
    if basis is None:
        return torch.eye(n, r, dtype=like.dtype, device=like.device)
    if basis.shape != (n, r):
        raise ValueError(f"basis must have shape (n, r) = ({n}, {r}), got {tuple(basis.shape)}")
    U = basis.to(dtype=like.dtype, device=like.device)
    gram = U.T @ U
    if not torch.allclose(gram, torch.eye(r, dtype=U.dtype, device=U.device), atol=1e-4):
        raise ValueError("basis must have orthonormal columns")
    return U


def _order(order: int, minimum: int = 2) -> int:
    return check_int("order", order, minimum=minimum)


def _rows(W: torch.Tensor) -> torch.Tensor:
    if not isinstance(W, torch.Tensor) or W.dim() != 2:
        raise TypeError("W must be a tensor of shape (d, n): one row per component of the model")
    return W


def random_orthonormal(n: int, r: int, *, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """An (n, r) matrix with orthonormal columns, Haar-distributed (QR of a Gaussian matrix)."""
    check_int("n", n, minimum=1)
    check_int("r", r, minimum=1, maximum=n)
    check_generator(generator)
    G = torch.randn(n, r, generator=generator, dtype=dtype, device=generator.device)
    Q, R = torch.linalg.qr(G)
    return Q * torch.sign(torch.diagonal(R))  # fix the signs so that the law is Haar


def orthogonal_tensor(weights, n: int, order: int = 3, basis: torch.Tensor | None = None) -> torch.Tensor:
    """The dense tensor T* = Σ_i a_i u_i^{⊗ℓ}, of shape (n,) * order (for small n only)."""
    check_int("n", n, minimum=1)
    ell = _order(order, minimum=1)
    a = _weights(weights)
    U = _basis(basis, n, a.numel(), a)
    return power_sum_tensor(U.T, ell, coefficients=a)


def power_sum_tensor(W: torch.Tensor, order: int, coefficients: torch.Tensor | None = None) -> torch.Tensor:
    """The dense tensor Σ_j c_j w_j^{⊗ℓ} of the rows of W (c_j = 1 by default), shape (n,) * order."""
    W = _rows(W)
    ell = _order(order, minimum=1)
    c = torch.ones(W.shape[0], dtype=W.dtype, device=W.device) if coefficients is None else coefficients.to(W)
    letters = "abcdefghijklmnopqrstuvwxyz"[: ell]
    spec = "j," + ",".join(f"j{x}" for x in letters) + "->" + letters
    return torch.einsum(spec, c, *([W] * ell))


def decomposition_loss(W: torch.Tensor, weights, order: int = 3, basis: torch.Tensor | None = None) -> torch.Tensor:
    """L(W) = ½ ‖Σ_j w_j^{⊗ℓ} − Σ_i a_i u_i^{⊗ℓ}‖_F², computed from inner products.

    Uses ⟨x^{⊗ℓ}, y^{⊗ℓ}⟩ = ⟨x, y⟩^ℓ:  2L = Σ_{j,k} ⟨w_j, w_k⟩^ℓ − 2 Σ_{j,i} a_i ⟨w_j, u_i⟩^ℓ + Σ_i a_i².
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    G, C = W @ W.T, W @ U
    return 0.5 * (G.pow(ell).sum() - 2 * (C.pow(ell) * a).sum() + a.pow(2).sum())


def decomposition_grad(W: torch.Tensor, weights, order: int = 3, basis: torch.Tensor | None = None) -> torch.Tensor:
    """The gradient of :func:`decomposition_loss` with respect to W, in closed form:

    ∇_{w_j} L = ℓ Σ_k ⟨w_j, w_k⟩^{ℓ−1} w_k − ℓ Σ_i a_i ⟨w_j, u_i⟩^{ℓ−1} u_i.
    The first term is the interaction between the model's components, the second the pull of the
    target.
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    G, C = W @ W.T, W @ U
    return ell * (G.pow(ell - 1) @ W) - ell * ((C.pow(ell - 1) * a) @ U.T)


def component_fit(W: torch.Tensor, weights, order: int = 3, basis: torch.Tensor | None = None) -> torch.Tensor:
    """For each component i, the fraction of it that the model has fitted: T(W)(u_i, ..., u_i) / a_i.

    It is Σ_j ⟨w_j, u_i⟩^ℓ / a_i: 0 at a small initialization, 1 when the model's tensor has the
    right coefficient on u_i^{⊗ℓ}. Shape (r,).
    """
    W = _rows(W)
    ell = _order(order)
    a = _weights(weights, W)
    U = _basis(basis, W.shape[1], a.numel(), W)
    return (W @ U).pow(ell).sum(0) / a


def escape_times(W0: torch.Tensor, weights, order: int = 3, basis: torch.Tensor | None = None) -> torch.Tensor:
    """Predicted discovery time of each component under gradient flow from a small initialization W0.

    Without the interaction term, the correlation c = ⟨w_j, u_i⟩ of one row obeys
    dc/dt = ℓ a_i c^{ℓ−1}, which blows up at t = 1 / (ℓ (ℓ−2) a_i c(0)^{ℓ−2}) when c(0) > 0 (for even
    ℓ, any c(0) ≠ 0 with |c(0)|). The first row to blow up wins, so the prediction for component i is
    1 / (ℓ (ℓ−2) a_i M_i^{ℓ−2}) with M_i = max_j ⟨w_j, u_i⟩ (odd ℓ) or max_j |⟨w_j, u_i⟩| (even ℓ).
    Needs order ≥ 3 (order 2, the matrix case, grows exponentially and never blows up). Shape (r,);
    ``inf`` where no row can grow.
    """
    W0 = _rows(W0)
    ell = _order(order, minimum=3)
    a = _weights(weights, W0)
    U = _basis(basis, W0.shape[1], a.numel(), W0)
    C = W0 @ U
    M = (C.abs() if ell % 2 == 0 else C).max(0).values
    t = 1.0 / (ell * (ell - 2) * a * M.clamp(min=0).pow(ell - 2))
    return torch.where(M > 0, t, torch.full_like(t, float("inf")))
