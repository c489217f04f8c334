"""Tangent features and linearized (tangent-kernel) training of a scalar-output model.

The first-order Taylor model of f_θ around θ0 is f_lin(x) = f_{θ0}(x) + ∇_θ f_{θ0}(x) · (θ − θ0).
It is linear in the *tangent features* φ(x) = ∇_θ f_{θ0}(x) ∈ R^P (P = number of parameters), and
its kernel φ(x) · φ(x') is the (empirical) neural tangent kernel at initialization. Training the
linearized model with the square loss and a ridge penalty λ‖θ − θ0‖² is ridge regression on φ.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from lmt_core._checks import check_positive

__all__ = ["tangent_features", "ridge_solve", "fit_linearized"]


def tangent_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """φ(x) = ∇_θ f_θ(x) at the model's current parameters, for every row of ``x``.

    Args:
        model: a module mapping ``(B, n)`` to ``(B,)`` (one scalar output per example).
        x: inputs ``(B, n)``.

    Returns:
        ``(B, P)`` tensor, P the number of parameters, in the order of ``model.named_parameters()``.
    """
    if x.dim() != 2:
        raise ValueError(f"x must have shape (B, n), got {tuple(x.shape)}")
    params = {k: v.detach() for k, v in model.named_parameters()}
    if not params:
        raise ValueError("model has no parameters")

    def f(p: dict, xi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (xi.unsqueeze(0),))
        if out.numel() != 1:
            raise ValueError("tangent_features needs a scalar output per example")
        return out.reshape(())

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)  # {name: (B, *shape)}
    return torch.cat([jac[k].reshape(x.shape[0], -1) for k in params], dim=1)


def ridge_solve(F: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """argmin_w ‖F w − y‖² + ridge · ‖w‖², through the smaller of the two normal equations.

    Args:
        F: features ``(m, P)``; y: targets ``(m,)``; ridge: λ > 0.

    Returns:
        ``(P,)`` weights, in float64.
    """
    check_positive("ridge", ridge)
    F, y = F.double(), y.double()
    m, P = F.shape
    if P <= m:  # primal: (FᵀF + λI) w = Fᵀy
        return torch.linalg.solve(
            F.T @ F + ridge * torch.eye(P, dtype=F.dtype, device=F.device), F.T @ y
        )
    c = torch.linalg.solve(F @ F.T + ridge * torch.eye(m, dtype=F.dtype, device=F.device), y)
    return F.T @ c  # dual: w = Fᵀ (FFᵀ + λI)⁻¹ y


def fit_linearized(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, ridge: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Train the first-order Taylor model of ``model`` at its current parameters on (x, y).

    Minimises Σ_i (f_{θ0}(x_i) + φ(x_i)·Δ − y_i)² + ridge · ‖Δ‖² over Δ = θ − θ0 (the limit of
    gradient descent on the linearized model with square loss and weight decay), in closed form.

    Returns:
        ``predict(x_new) -> (B,)`` float64 outputs f_{θ0}(x_new) + φ(x_new)·Δ.
    """
    with torch.no_grad():
        f0 = model(x).double()
    delta = ridge_solve(tangent_features(model, x), y.double() - f0, ridge)

    def predict(x_new: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(x_new).double() + tangent_features(model, x_new).double() @ delta

    return predict
