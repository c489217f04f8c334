"""Trainable associative memories on fixed random embeddings: store pairs x_i -> y_i, recall by
argmax.

Inputs x ∈ [N] and outputs y ∈ [M] have random embeddings e_x, u_y ∈ R^d, i.i.d. N(0, I_d / d)
(:func:`lmt_core.analysis.gaussian_embeddings`), kept as buffers. A memory maps e_x to a vector
h(x) ∈ R^d and returns the logits u_y^T h(x):

- :class:`LinearMemory` — h(x) = W e_x (d² parameters);
- :class:`MLPMemory` — h(x) = V σ(W e_x) (2·d·m parameters for m hidden units).

The untrained outer-product memory, recall accuracy and capacity are analysis, in
:mod:`lmt_core.analysis.associative`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lmt_core._checks import check_choice, check_int
from lmt_core.analysis.associative import gaussian_embeddings

__all__ = ["LinearMemory", "MLPMemory"]


class LinearMemory(nn.Module):
    """A trainable linear memory on fixed random embeddings: logits_y = u_y^T W e_x.

    Args:
        n_in, n_out: numbers of inputs N and outputs M.
        d: embedding dimension; W ∈ R^{d×d} is the only parameter (d² parameters).
        seed: seed of the embeddings (buffers, not trained); W starts at 0.

    Shapes: ``forward(x)`` maps input indices ``(B,)`` to logits ``(B, M)``.
    """

    def __init__(self, n_in: int, n_out: int, d: int, *, seed: int = 0) -> None:
        super().__init__()
        check_int("d", d, minimum=1)
        g = torch.Generator(device="cpu").manual_seed(check_int("seed", seed, minimum=0))
        self.register_buffer("E", gaussian_embeddings(check_int("n_in", n_in, minimum=1), d, g))
        self.register_buffer("U", gaussian_embeddings(check_int("n_out", n_out, minimum=1), d, g))
        self.W = nn.Parameter(torch.zeros(d, d, device="cpu"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.E[x] @ self.W.T) @ self.U.T


class MLPMemory(nn.Module):
    """A trainable MLP memory on fixed random embeddings: logits_y = u_y^T V σ(W e_x).

    Args:
        n_in, n_out: numbers of inputs N and outputs M.
        d: embedding dimension.
        width: hidden units m; W ∈ R^{m×d} and V ∈ R^{d×m} are the parameters (2·m·d of them).
        activation: ``"relu"`` or ``"gelu"``.
        seed: seed of the embeddings and of the N(0, 1/d) and N(0, 1/m) initialisation of W and V.

    Shapes: ``forward(x)`` maps input indices ``(B,)`` to logits ``(B, M)``.
    """

    def __init__(
        self, n_in: int, n_out: int, d: int, width: int, *, activation: str = "relu", seed: int = 0
    ) -> None:
        super().__init__()
        check_choice("activation", activation, ("relu", "gelu"))
        check_int("d", d, minimum=1)
        check_int("width", width, minimum=1)
        g = torch.Generator(device="cpu").manual_seed(check_int("seed", seed, minimum=0))
        self.register_buffer("E", gaussian_embeddings(check_int("n_in", n_in, minimum=1), d, g))
        self.register_buffer("U", gaussian_embeddings(check_int("n_out", n_out, minimum=1), d, g))
        self.W = nn.Parameter(torch.randn(width, d, generator=g, device="cpu") / math.sqrt(d))
        self.V = nn.Parameter(torch.randn(d, width, generator=g, device="cpu") / math.sqrt(width))
        self.act = nn.ReLU() if activation == "relu" else nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.act(self.E[x] @ self.W.T) @ self.V.T) @ self.U.T
