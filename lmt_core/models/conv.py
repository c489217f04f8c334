"""A one-dimensional convolutional network for Boolean inputs: one filter bank, ReLU, linear readout.

``LocalCNN(n, k, channels)`` maps ``x`` in R^n to

    f(x) = c + sum_{i=0}^{P-1} sum_{c'=1}^{C} U[i, c'] * ReLU(<w_{c'}, x[i:i+k]> + b_{c'}),

with ``P = n - k + 1`` window positions. The ``C`` filters ``w_{c'}`` (window ``k``) are shared by
all positions (weight sharing); the readout ``U`` weighs every (position, channel) pair, i.e. a
position-weighted sum pooling. Its parameter count, ``C (n + 2) + 1``, equals that of a two-layer
fully connected network of width ``C`` on ``n`` inputs, which makes like-for-like comparisons easy.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lmt_core._checks import check_int

__all__ = ["LocalCNN"]


class LocalCNN(nn.Module):
    """Conv1d(1 → C, window k, stride 1) → ReLU → linear readout over (position, channel) → scalar.

    Args:
        n: input length.
        k: window (filter) size, ``1 <= k <= n``.
        channels: number of filters C.
        seed: seed of the initialisation (PyTorch's default uniform rule for each layer:
            filters and their biases ~ U(±1/sqrt(k)), readout ~ U(±1/sqrt(P C))).

    Attributes:
        filters: ``(C, k)``; bias: ``(C,)``; readout: ``(P, C)``; out_bias: ``(1,)``.

    ``forward(x)`` takes ``(B, n)`` and returns ``(B,)``; :meth:`features` returns the hidden layer
    ``(B, P, C)``.
    """

    def __init__(self, n: int, k: int, channels: int, *, seed: int = 0) -> None:
        super().__init__()
        self.n = check_int("n", n, minimum=1)
        self.k = check_int("k", k, minimum=1, maximum=n)
        self.channels = check_int("channels", channels, minimum=1)
        self.positions = n - k + 1
        self.filters = nn.Parameter(torch.empty(channels, k))
        self.bias = nn.Parameter(torch.empty(channels))
        self.readout = nn.Parameter(torch.empty(self.positions, channels))
        self.out_bias = nn.Parameter(torch.empty(1))
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int = 0) -> None:
        """Re-draw all parameters from PyTorch's default uniform rule, seeded."""
        g = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            a = 1 / math.sqrt(self.k)
            self.filters.uniform_(-a, a, generator=g)
            self.bias.uniform_(-a, a, generator=g)
            a = 1 / math.sqrt(self.positions * self.channels)
            self.readout.uniform_(-a, a, generator=g)
            self.out_bias.uniform_(-a, a, generator=g)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations ReLU(<w_c, x[i:i+k]> + b_c), shape ``(B, P, C)``."""
        if x.dim() != 2 or x.shape[1] != self.n:
            raise ValueError(f"x must have shape (B, {self.n}), got {tuple(x.shape)}")
        windows = x.unfold(1, self.k, 1)  # (B, P, k): x[i:i+k] for each position i
        return torch.relu(windows @ self.filters.T + self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.features(x) * self.readout).sum((1, 2)) + self.out_bias

    def extra_repr(self) -> str:
        return f"n={self.n}, k={self.k}, channels={self.channels}, positions={self.positions}"
