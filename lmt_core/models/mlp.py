"""Multi-layer perceptrons with an explicit, seeded initialisation.

f(x) = W_L σ(... σ(W_1 x + b_1) ...) + b_L, with ``depth`` hidden layers of ``width`` units.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from lmt_core._checks import check_choice, check_int, check_positive

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": nn.functional.gelu,
    "identity": lambda z: z,
    "square": torch.square,
}
INITS = ("uniform", "gaussian")


class MLP(nn.Module):
    """A fully connected network ``n_in -> width -> ... -> width -> n_out``.

    Args:
        n_in: input dimension n.
        width: hidden units per layer (d).
        depth: number of hidden layers (1 gives a two-layer network).
        n_out: output dimension; with ``n_out == 1`` the output is squeezed to shape ``(B,)``.
        activation: a key of :data:`ACTIVATIONS`.
        bias: whether layers have biases.
        init: ``"uniform"`` (PyTorch's default law: U(±1/√fan_in) for weights and biases) or
            ``"gaussian"`` (weights N(0, 1/fan_in), biases 0).
        init_scale: multiplies every initial weight and bias.
        first_layer_sparsity: if given, each hidden unit of the first layer keeps only this many
            randomly chosen non-zero input weights (the sparse initialisation of Edelman et al.
            2023); the others start at zero (they are still trained).
        seed: seed of the initialisation (drawn from a private generator, so it does not disturb
            the global random state).

    Shapes: ``forward(x)`` maps ``(B, n_in)`` to ``(B,)`` if ``n_out == 1`` else ``(B, n_out)``.
    """

    def __init__(
        self,
        n_in: int,
        width: int,
        *,
        depth: int = 1,
        n_out: int = 1,
        activation: str = "relu",
        bias: bool = True,
        init: str = "uniform",
        init_scale: float = 1.0,
        first_layer_sparsity: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("n_in", n_in, minimum=1)
        check_int("width", width, minimum=1)
        check_int("depth", depth, minimum=1)
        check_int("n_out", n_out, minimum=1)
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_choice("init", init, INITS)
        check_positive("init_scale", init_scale, allow_zero=True)
        if first_layer_sparsity is not None:
            check_int("first_layer_sparsity", first_layer_sparsity, minimum=1, maximum=n_in)
        check_int("seed", seed, minimum=0)
        self.n_in, self.width, self.depth, self.n_out = n_in, width, depth, n_out
        self.activation = activation
        self.init, self.init_scale, self.first_layer_sparsity = (
            init,
            float(init_scale),
            first_layer_sparsity,
        )
        dims = [n_in] + [width] * depth + [n_out]
        # skip_init: no default (global-RNG) draw; reset_parameters fills every weight from `seed`
        self.layers = nn.ModuleList(
            nn.utils.skip_init(nn.Linear, a, b, bias=bias) for a, b in zip(dims[:-1], dims[1:])
        )
        self.reset_parameters(seed)

    @torch.no_grad()
    def reset_parameters(self, seed: int = 0) -> None:
        """Draw all weights again from the initialisation law with ``seed``."""
        g = torch.Generator().manual_seed(int(seed))
        for layer in self.layers:
            fan_in = layer.in_features
            if self.init == "uniform":
                bound = 1.0 / math.sqrt(fan_in)
                w = (torch.rand(layer.weight.shape, generator=g) * 2 - 1) * bound
                b = (torch.rand(layer.out_features, generator=g) * 2 - 1) * bound
            else:
                w = torch.randn(layer.weight.shape, generator=g) / math.sqrt(fan_in)
                b = torch.zeros(layer.out_features)
            layer.weight.copy_(w * self.init_scale)
            if layer.bias is not None:
                layer.bias.copy_(b * self.init_scale)
        s = self.first_layer_sparsity
        if s is not None:
            first = self.layers[0].weight  # (width, n_in)
            keep = torch.rand(first.shape, generator=g).argsort(dim=1)[:, :s]
            mask = torch.zeros_like(first).scatter_(1, keep, 1.0)
            # rescale so that each unit's pre-activation keeps unit-order variance
            first.mul_(mask * math.sqrt(self.n_in / s))

    @property
    def first_layer(self) -> torch.Tensor:
        """The first-layer weight matrix W_1, shape ``(width, n_in)``."""
        return self.layers[0].weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n_in:
            raise ValueError(f"x must have last dimension n_in={self.n_in}, got {tuple(x.shape)}")
        act = ACTIVATIONS[self.activation]
        h = x
        for layer in self.layers[:-1]:
            h = act(layer(h))
        out = self.layers[-1](h)
        return out.squeeze(-1) if self.n_out == 1 else out

    def extra_repr(self) -> str:
        return (
            f"activation={self.activation}, init={self.init}, init_scale={self.init_scale}, "
            f"first_layer_sparsity={self.first_layer_sparsity}"
        )
