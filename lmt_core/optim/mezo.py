"""MeZO: zeroth-order SGD that needs only forward passes and no extra memory (Malladi et al. 2023).

One step with step size η, perturbation scale ε and a fresh seed s:

    z ~ N(0, I) regenerated from s whenever it is needed (never stored)
    θ ← θ + ε z;  ℓ₊ = L(θ)
    θ ← θ − 2ε z; ℓ₋ = L(θ)
    θ ← θ + ε z                              (back to θ, up to floating-point rounding)
    ĝ = (ℓ₊ − ℓ₋) / (2ε)                     the projected gradient, a scalar estimate of z·∇L(θ)
    θ ← θ − η (ĝ z + λ θ)                    (λ: weight decay)

Because z is regenerated from its seed, parameter by parameter, the memory is that of inference
plus one parameter-sized buffer for the largest tensor: no gradients, no optimizer state, no
activations kept for a backward pass. The restore step is exact in real arithmetic; in floating
point each ±εz addition rounds, so θ comes back within a few units in the last place (see
:func:`restore_error`).
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from lmt_core._checks import check_int, check_positive

__all__ = ["MeZO", "perturb", "restore_error"]


@torch.no_grad()
def perturb(params: list[torch.Tensor], scale: float, seed: int) -> None:
    """In place: θ ← θ + scale · z with z ~ N(0, I) drawn from ``seed``, one tensor at a time."""
    for i, p in enumerate(params):
        g = torch.Generator(device=p.device).manual_seed(seed * 1_000_003 + i)
        z = torch.randn(p.shape, generator=g, device=p.device, dtype=p.dtype)
        p.add_(z, alpha=scale)


def restore_error(params: Iterable[torch.Tensor], eps: float = 1e-3, seed: int = 0) -> float:
    """Largest |θ_after − θ_before| over all entries after the +εz, −2εz, +εz round trip of one
    MeZO step (0.0 means bit-identical). Each of the three in-place additions rounds once, so
    the error is at most a few units in the last place of |θ| + ε|z|, not zero in general."""
    params = [p for p in params]
    before = [p.detach().clone() for p in params]
    perturb(params, eps, seed)
    perturb(params, -2 * eps, seed)
    perturb(params, eps, seed)
    return max(float((p.detach() - b).abs().max()) for p, b in zip(params, before))


class MeZO:
    """The MeZO optimizer on the parameters of a model (those with ``requires_grad``).

    Args:
        params: the parameters to tune.
        lr: step size η.
        eps: perturbation scale ε.
        weight_decay: λ.
        seed: base seed; step t uses the perturbation seed ``seed + t``.

    Use: ``opt.step(closure)`` where ``closure()`` returns the loss on the current minibatch as a
    number or 0-dim tensor, computed under ``torch.no_grad()``; the same minibatch must be used for
    both evaluations inside one step. ``step`` returns the projected gradient ĝ and the loss ℓ₊.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float,
        eps: float = 1e-3,
        weight_decay: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("params must contain at least one tensor with requires_grad")
        self.lr = check_positive("lr", lr)
        self.eps = check_positive("eps", eps)
        self.weight_decay = check_positive("weight_decay", weight_decay, allow_zero=True)
        self.seed = check_int("seed", seed, minimum=0)
        self.t = 0

    @torch.no_grad()
    def step(self, closure: Callable[[], float | torch.Tensor]) -> tuple[float, float]:
        """One zeroth-order step; returns ``(projected_gradient, loss_plus)``."""
        if not callable(closure):
            raise TypeError("closure must be a callable returning the minibatch loss")
        s = self.seed + self.t
        self.t += 1
        perturb(self.params, self.eps, s)
        loss_plus = float(closure())
        perturb(self.params, -2 * self.eps, s)
        loss_minus = float(closure())
        perturb(self.params, self.eps, s)
        g_hat = (loss_plus - loss_minus) / (2 * self.eps)
        if self.weight_decay:
            for p in self.params:
                p.mul_(1 - self.lr * self.weight_decay)
        perturb(self.params, -self.lr * g_hat, s)  # θ ← θ − η ĝ z, the same z again
        return g_hat, loss_plus
