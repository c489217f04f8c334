"""Metrics of a model's predictions on sequence tasks.

- :func:`token_accuracy` — the fraction of scored positions (targets ≠
  :data:`~lmt_core.tasks.base.IGNORE_INDEX`) where the arg-max prediction is the target.
"""

from __future__ import annotations

import torch

from lmt_core.tasks.base import IGNORE_INDEX

__all__ = ["token_accuracy"]


def token_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of scored positions where the arg-max of ``logits`` equals ``targets``.

    Args:
        logits: ``(..., B, T, V)``; leading dimensions (e.g. ensemble members) are kept.
        targets: ``(B, T)``, :data:`~lmt_core.tasks.base.IGNORE_INDEX` at unscored positions.

    Returns:
        float tensor of shape ``(...)`` (a scalar for a single model).
    """
    if logits.dim() < 3 or logits.shape[-3:-1] != targets.shape:
        raise ValueError(
            f"logits must have shape (..., B, T, V) with (B, T) = targets.shape "
            f"{tuple(targets.shape)}, got {tuple(logits.shape)}"
        )
    mask = targets != IGNORE_INDEX
    hit = (logits.argmax(-1) == targets) & mask
    return hit.flatten(-2).sum(-1).float() / mask.sum().clamp(min=1)
