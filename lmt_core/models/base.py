"""What every model shares: counting its trainable parameters."""

from __future__ import annotations

from torch import nn

__all__ = ["count_params"]


def count_params(module: nn.Module) -> int:
    """The number of trainable parameters (entries of tensors with ``requires_grad``) of ``module``.

    Raises:
        TypeError: ``module`` is not an ``nn.Module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
