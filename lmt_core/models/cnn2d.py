"""A small two-dimensional convolutional network for 8×8 digit images.

``DigitCNN(depth, channels)`` maps an image ``x`` (``side × side`` pixels, one channel) to class
logits:

    h_0 = x,   h_l = ReLU(Conv3x3(h_{l-1}) + b_l)  for l = 1, ..., depth,   f(x) = U vec(h_depth) + c,

with ``channels`` filters in every layer, zero padding 1 (so every layer keeps the ``side × side``
grid) and a linear read-out ``U`` over all (channel, position) pairs. Depth changes the receptive
field and the implicit bias while the width stays fixed, which is what a depth sweep needs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lmt_core._checks import check_int

__all__ = ["DigitCNN"]


class DigitCNN(nn.Module):
    """``depth`` × (Conv2d 3×3, padding 1 → ReLU) at fixed width, then a linear read-out.

    Args:
        depth: number of convolutional layers, at least 1.
        channels: filters per layer (the width), at least 1.
        n_classes: number of output logits (10 for digits).
        side: image side length (8 for scikit-learn's digits).
        seed: seed of the initialisation (PyTorch's default uniform rule, bound 1/sqrt(fan_in),
            for every weight and bias).

    ``forward(x)`` takes ``(B, side*side)`` or ``(B, side, side)`` and returns logits ``(B, n_classes)``.
    """

    def __init__(
        self, depth: int, channels: int, *, n_classes: int = 10, side: int = 8, seed: int = 0
    ) -> None:
        super().__init__()
        self.depth = check_int("depth", depth, minimum=1)
        self.channels = check_int("channels", channels, minimum=1)
        self.n_classes = check_int("n_classes", n_classes, minimum=1)
        self.side = check_int("side", side, minimum=1)
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if i == 0 else channels, channels, 3, padding=1) for i in range(depth)
        )
        self.readout = nn.Linear(channels * side * side, n_classes)
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int = 0) -> None:
        """Re-draw all parameters from U(±1/sqrt(fan_in)), seeded."""
        g = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for layer in [*self.convs, self.readout]:
                fan_in = layer.weight[0].numel()
                a = 1 / math.sqrt(fan_in)
                layer.weight.uniform_(-a, a, generator=g)
                layer.bias.uniform_(-a, a, generator=g)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the last convolutional layer, shape ``(B, channels, side, side)``."""
        s = self.side
        if x.dim() == 2 and x.shape[1] == s * s:
            x = x.reshape(-1, s, s)
        if x.dim() != 3 or x.shape[1:] != (s, s):
            raise ValueError(
                f"x must have shape (B, {s * s}) or (B, {s}, {s}), got {tuple(x.shape)}"
            )
        h = x.unsqueeze(1)
        for conv in self.convs:
            h = torch.relu(conv(h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x).flatten(1))

    def extra_repr(self) -> str:
        return f"depth={self.depth}, channels={self.channels}, side={self.side}"
