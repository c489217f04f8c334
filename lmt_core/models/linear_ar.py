"""Next-token predictors that read the whole prefix through one-hot token embeddings (Malach 2023).

Both models map a token sequence ``(B, T)`` to next-token logits ``(B, T, V)``: ``logits[:, t]``
depends on tokens ``0..t`` only (causal), and is the prediction of token ``t + 1``, the convention
of :func:`lmt_core.train.fit` with ``loss="cross_entropy"``.

* :class:`LinearAR` — a *linear* auto-regressive model. Position ``t`` has its own linear map of
  the one-hot encoded prefix: ``logits[t, u] = b[t, u] + sum_{s <= t} W[t, u, s, x_s]``. Its
  greedy prediction, ``argmax_u logits[t, u]``, is a linear threshold function of the prefix when
  ``V = 2``.
* :class:`PrefixMLP` — a one-hidden-layer (or deeper) MLP applied to the same masked one-hot prefix
  together with a one-hot position code, with weights shared across positions. Its first layer is
  computed as a cumulative sum of position-specific token embeddings, which is the same linear map.

:func:`greedy_generate` runs either model auto-regressively (each new token is the argmax of the
logits at the last position), the way the chains of thought are produced at test time.
"""

from __future__ import annotations

import torch
from torch import nn

from lmt_core._checks import check_int
from lmt_core.tasks.base import check_tokens  # the library's one token check

__all__ = ["LinearAR", "PrefixMLP", "greedy_generate"]


class LinearAR(nn.Module):
    """Linear next-token predictor over the one-hot prefix, one linear map per position.

    Args:
        vocab_size: V, the number of tokens.
        length: T, the longest sequence the model reads.
        bias: whether each position has a bias vector ``b[t]``.
        init_scale: standard deviation of the Gaussian initial weights (0 gives all-zero weights).
        seed: seed of the initial weights.

    Attributes:
        weight: ``(T, V, T, V)``; entry ``[t, u, s, v]`` is the score that token ``v`` at position
            ``s`` adds to token ``u`` at position ``t`` (only ``s <= t`` is used).
        bias: ``(T, V)`` or ``None``.
    """

    def __init__(
        self,
        vocab_size: int,
        length: int,
        *,
        bias: bool = True,
        init_scale: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.length = check_int("length", length, minimum=1)
        g = torch.Generator().manual_seed(int(seed))
        V, T = self.vocab_size, self.length
        self.weight = nn.Parameter(init_scale * torch.randn(T, V, T, V, generator=g))
        self.bias = nn.Parameter(torch.zeros(T, V)) if bias else None
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(T, 1, T, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T', V)`` for tokens ``(B, T')`` with ``T' <= T``."""
        tokens = check_tokens(tokens, max_length=self.length)
        L, V = tokens.shape[1], self.vocab_size
        onehot = (tokens.unsqueeze(-1) == torch.arange(V, device=tokens.device)).to(
            self.weight.dtype
        )
        w = (self.weight * self.mask)[:L, :, :L, :]
        out = torch.einsum("bsv,tusv->btu", onehot, w)
        return out if self.bias is None else out + self.bias[:L]


class PrefixMLP(nn.Module):
    """MLP next-token predictor on the masked one-hot prefix and a one-hot position code.

    The input for position t is the concatenation of one-hot(x_s) for s <= t (zeros for s > t) and
    one-hot(t); its first-layer pre-activation is therefore ``sum_{s <= t} E[s, x_s] + P[t]`` with
    ``E`` of shape ``(T, V, d)`` and ``P`` of shape ``(T, d)``. Further layers are shared across
    positions. ``depth`` counts hidden layers.

    Args:
        vocab_size: V.
        length: T.
        width: d, the hidden width.
        depth: number of hidden layers (at least 1).
        seed: seed of the initial weights (Gaussian with standard deviation ``1/sqrt(T)`` for
            ``E``, uniform on ``[-1/sqrt(d), 1/sqrt(d)]`` for the later layers, ``P = 0``).
    """

    def __init__(
        self, vocab_size: int, length: int, width: int, *, depth: int = 1, seed: int = 0
    ) -> None:
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.length = check_int("length", length, minimum=1)
        check_int("width", width, minimum=1)
        check_int("depth", depth, minimum=1)
        g = torch.Generator().manual_seed(int(seed))
        V, T = self.vocab_size, self.length
        self.embed = nn.Parameter(torch.randn(T, V, width, generator=g) / T**0.5)
        self.pos = nn.Parameter(torch.zeros(T, width))
        layers: list[nn.Module] = []
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, V)
        with torch.no_grad():
            for p in list(self.hidden.parameters()) + list(self.out.parameters()):
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) / width**0.5)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T', V)`` for tokens ``(B, T')`` with ``T' <= T``."""
        tokens = check_tokens(tokens, max_length=self.length)
        L = tokens.shape[1]
        pos_idx = torch.arange(L, device=tokens.device)
        e = self.embed[pos_idx.unsqueeze(0), tokens]  # (B, L, d): E[s, x_s]
        h = torch.relu(e.cumsum(1) + self.pos[:L])
        return self.out(self.hidden(h))


@torch.no_grad()
def greedy_generate(model: nn.Module, prompt: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """Extend ``prompt`` ``(..., T0)`` by ``new_tokens`` tokens, each the argmax at the last position.

    ``model`` maps tokens ``(..., T)`` to logits ``(..., T, V)``: a single model with prompts
    ``(B, T0)``, or an ensemble built with ``per_member_inputs=True`` and prompts ``(E, B, T0)``.
    Returns the whole sequence ``(..., T0 + new_tokens)``. Nothing is teacher-forced: each new token
    is computed from the tokens the model generated before it.
    """
    if prompt.dim() < 2:
        raise ValueError("prompt must have shape (B, T0) or (E, B, T0)")
    check_int("new_tokens", new_tokens, minimum=0)
    seq = prompt.long()
    for _ in range(new_tokens):
        nxt = model(seq)[..., -1, :].argmax(-1, keepdim=True)
        seq = torch.cat([seq, nxt], dim=-1)
    return seq
