"""Sharpness-aware minimization (SAM) as a few explicit steps on a loss closure.

One SAM step from w with learning rate η and radius ρ (Foret et al. 2021, in the normalized
form analysed by Wen, Ma and Li 2022):

    g = ∇L(w),   w_adv = w + ρ g / ‖g‖,   w ← w − η ∇L(w_adv).

The gradient is taken at the *ascent point* but applied at w. *Full-batch* SAM uses the training
loss L; *stochastic* SAM (:func:`stochastic_sam_step`) draws a mini-batch and uses its loss L_B
for both the ascent and the descent gradient (with batch size 1 this is the "1-SAM" whose
implicit bias is the trace of the Hessian).

Parameters are updated in place; functions take a closure ``loss_fn() -> scalar`` and the list
``params`` it reads, like :mod:`lmt_core.analysis.hessian`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from lmt_core._checks import check_generator, check_int, check_params, check_positive

__all__ = ["sam_gradient", "sam_step", "stochastic_sam_step"]


def _grad(
    loss_fn: Callable[[], torch.Tensor], params: list[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn() must return a scalar tensor")
    grads = torch.autograd.grad(loss.reshape(()), params, allow_unused=True)
    return loss.detach(), [
        g if g is not None else torch.zeros_like(p) for g, p in zip(grads, params)
    ]


def sam_gradient(
    loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], rho: float
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The SAM gradient ∇L(w + ρ ∇L(w)/‖∇L(w)‖) at the current parameters w.

    The parameters are moved to the ascent point and back (they end where they started). At a
    stationary point (∇L(w) = 0) there is no ascent direction and the plain gradient, zero, is
    returned.

    Args:
        loss_fn: closure returning the scalar loss at the current ``params``.
        params: the tensors to optimize.
        rho: the ascent radius ρ ≥ 0 (ρ = 0 gives the plain gradient).

    Returns:
        ``(loss at w, list of gradients at the ascent point, shaped like params)``.
    """
    params = check_params(params)
    rho = check_positive("rho", rho, allow_zero=True)
    loss, g = _grad(loss_fn, params)
    norm = torch.sqrt(sum((gi.double() ** 2).sum() for gi in g))
    if rho == 0 or norm == 0:
        return loss, g
    eps = [rho * gi / norm.to(gi.dtype) for gi in g]
    saved = [p.detach().clone() for p in params]  # w + e − e is not w in floating point
    with torch.no_grad():
        for p, e in zip(params, eps):
            p.add_(e)
    try:
        _, g_adv = _grad(loss_fn, params)
    finally:
        with torch.no_grad():
            for p, w in zip(params, saved):
                p.copy_(w)  # back to w exactly
    return loss, g_adv


def sam_step(
    loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], lr: float, rho: float
) -> float:
    """One full-batch SAM step w ← w − η ∇L(w + ρ ∇L(w)/‖∇L(w)‖), in place.

    Args:
        loss_fn: the (full-batch) training loss as a closure.
        params: the tensors to update.
        lr: learning rate η > 0.
        rho: ascent radius ρ ≥ 0 (ρ = 0 is a gradient-descent step).

    Returns:
        The loss at w before the step.
    """
    lr = check_positive("lr", lr)
    params = check_params(params)
    loss, g = sam_gradient(loss_fn, params, rho)
    with torch.no_grad():
        for p, gi in zip(params, g):
            p.sub_(lr * gi)
    return float(loss)


def stochastic_sam_step(
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    params: Sequence[torch.Tensor],
    lr: float,
    rho: float,
    *,
    m: int,
    batch_size: int = 1,
    generator: torch.Generator | None = None,
) -> float:
    """One stochastic SAM step on a mini-batch drawn uniformly without replacement from m examples.

    Both the ascent direction and the descent gradient use the same mini-batch loss L_B:
    w ← w − η ∇L_B(w + ρ ∇L_B(w)/‖∇L_B(w)‖).

    Args:
        batch_loss: ``batch_loss(idx) -> scalar`` the mean loss on the examples with indices
            ``idx`` (a 1-D long tensor).
        params: the tensors to update.
        lr, rho: as in :func:`sam_step`.
        m: number of training examples.
        batch_size: mini-batch size B (1 ≤ B ≤ m); B = m is full-batch SAM.
        generator: a CPU ``torch.Generator`` for the draw of the batch.

    Returns:
        The mini-batch loss before the step.
    """
    if not callable(batch_loss):
        raise TypeError(f"batch_loss must be callable, got {type(batch_loss).__name__}")
    check_int("m", m, minimum=1)
    check_int("batch_size", batch_size, minimum=1, maximum=m)
    if generator is not None:
        check_generator(generator)
    idx = torch.randperm(m, generator=generator)[:batch_size]
    return sam_step(lambda: batch_loss(idx), params, lr, rho)
