"""Orthogonally decomposable tensors, the targets of Chapter 16.

The target is T* = Σ_i a_i u_i^{⊗ℓ} for orthonormal vectors u_1, ..., u_r in R^n (the columns of
``basis``, an ``(n, r)`` matrix; by default the first r standard basis vectors) and weights
a_i > 0. A model with d components is T(W) = Σ_j w_j^{⊗ℓ} for the rows w_j of W ∈ R^{d×n}
(:func:`power_sum_tensor`). The decomposition loss, its gradient and the predicted discovery
times live in :mod:`lmt_core.analysis.tensor_dynamics`. For a random basis use
``tasks.random_orthonormal(n, r, generator=g, dtype=torch.float64).T`` (rows → columns).
"""

from __future__ import annotations

from typing import Sequence

import torch

from lmt_core._checks import check_int

__all__ = ["orthogonal_tensor", "power_sum_tensor"]


def _weights(
    weights: Sequence[float] | torch.Tensor, like: torch.Tensor | None = None
) -> torch.Tensor:
    """The weights a_i as a checked 1-d tensor (dtype and device of ``like``; float64 CPU)."""
    if like is None:
        a = torch.as_tensor(weights, dtype=torch.float64, device="cpu")
    else:
        a = torch.as_tensor(weights, dtype=like.dtype, device=like.device)
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


def orthogonal_tensor(
    weights: Sequence[float] | torch.Tensor,
    n: int,
    order: int = 3,
    basis: torch.Tensor | None = None,
) -> torch.Tensor:
    """The dense tensor T* = Σ_i a_i u_i^{⊗ℓ}, of shape (n,) * order (for small n only).

    Returns:
        float64 tensor on the device of ``basis`` (the CPU without one).
    """
    check_int("n", n, minimum=1)
    ell = _order(order, minimum=1)
    like = None if basis is None else basis.to(torch.float64)
    a = _weights(weights, like)
    U = _basis(basis, n, a.numel(), a)
    return power_sum_tensor(U.T, ell, coefficients=a)


def power_sum_tensor(
    W: torch.Tensor, order: int, coefficients: torch.Tensor | None = None
) -> torch.Tensor:
    """The dense tensor Σ_j c_j w_j^{⊗ℓ} of the rows w_j of W (c_j = 1 by default).

    Returns:
        tensor of shape (n,) * order, dtype and device of ``W``.
    """
    W = _rows(W)
    ell = _order(order, minimum=1)
    if coefficients is None:
        c = torch.ones(W.shape[0], dtype=W.dtype, device=W.device)
    else:
        c = coefficients.to(W)
    letters = "abcdefghijklmnopqrstuvwxyz"[:ell]
    spec = "j," + ",".join(f"j{x}" for x in letters) + "->" + letters
    return torch.einsum(spec, c, *([W] * ell))
