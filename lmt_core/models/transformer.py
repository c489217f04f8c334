"""A minimal decoder-only transformer whose every part can be read, switched off and inspected.

Tokens ``(B, T)`` go through an embedding, ``n_layers`` residual blocks and a linear read-out:

    h_0 = E[x] (+ P)                      token embedding, plus absolute positions if any
    h_l = h_{l-1} + Attn_l(LN(h_{l-1}))    causal multi-head attention (pre-norm)
    h_l = h_l + MLP_l(LN(h_l))             optional (``mlp=False`` gives an attention-only model)
    logits = W_out LN(h_L)

Positional schemes (``positional``):

- ``"none"``: no position information except what the causal mask provides;
- ``"learned"``: absolute embeddings P ∈ R^{max_len × d}, added to the tokens;
- ``"sinusoidal"``: fixed absolute sinusoids (Vaswani et al. 2017), added to the tokens;
- ``"rope"``: rotary embeddings of queries and keys (relative; head width must be even);
- ``"alibi"``: a linear bias −s_h (i − j) on the attention score of head h (slopes s_h = 2^{−8(h+1)/H});
- ``"hard_alibi"``: head h attends only to the last ``windows[h]`` positions j ∈ (i − w_h, i]
  (``None`` = no limit), the hard-ALiBi scheme used for length generalization in copying.

Attention maps are returned on request (``return_attention=True``), so chapters can plot them,
measure their entropy or compare them with a construction. Hand-set constructions write into the
named parameters (``blocks[l].attn.q``, ``.k``, ``.v``, ``.o``, ``blocks[l].mlp.fc``, ...). The
MLP's activation is a module (``blocks[l].mlp.act``) so forward hooks can read or ablate neurons.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from lmt_core._checks import check_choice, check_int, check_positive
from lmt_core.tasks.base import check_tokens  # the library's one token check

__all__ = ["POSITIONAL", "Attention", "Block", "Transformer", "alibi_slopes"]

POSITIONAL = ("none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi")
_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi slopes s_h = 2^{−8(h+1)/H} for h = 0, …, H−1, shape ``(H,)``."""
    check_int("n_heads", n_heads, minimum=1)
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)])


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding: rotate consecutive pairs of the last dimension of ``x`` (…, T, D)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Multi-head (causal) self-attention with an explicit softmax, so that maps can be returned.

    Parameters ``q``, ``k``, ``v``: ``nn.Linear(d_model, n_heads * d_head)``; ``o``:
    ``nn.Linear(n_heads * d_head, d_model)``. Head h uses rows ``h*d_head:(h+1)*d_head`` of q, k, v.

    Shapes: ``forward(h)`` maps ``(B, T, d_model)`` to ``((B, T, d_model), A)`` with attention
    probabilities ``A`` of shape ``(B, H, T, T)``: ``A[b, h, i, j]`` is how much position i reads
    from position j.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_head: int,
        *,
        positional: str,
        causal: bool,
        windows: Sequence[int | None] | None,
        bias: bool,
    ) -> None:
        super().__init__()
        self.n_heads, self.d_head, self.positional, self.causal = (
            n_heads,
            d_head,
            positional,
            causal,
        )
        inner = n_heads * d_head
        self.q = nn.Linear(d_model, inner, bias=bias)
        self.k = nn.Linear(d_model, inner, bias=bias)
        self.v = nn.Linear(d_model, inner, bias=bias)
        self.o = nn.Linear(inner, d_model, bias=bias)
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)
        w = [0 if x is None else int(x) for x in (windows or [None] * n_heads)]
        self.register_buffer("windows", torch.tensor(w), persistent=False)  # 0 = unlimited

    def _split(self, z: torch.Tensor) -> torch.Tensor:
        B, T, _ = z.shape
        return z.view(B, T, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, T, D)

    def score_bias(self, T: int, device: torch.device) -> torch.Tensor:
        """Additive bias on the scores, shape ``(H, T, T)`` (−inf where attention is forbidden)."""
        i = torch.arange(T, device=device).view(T, 1)
        j = torch.arange(T, device=device).view(1, T)
        dist = (i - j).float()  # i − j: how far back position j lies
        bias = torch.zeros(self.n_heads, T, T, device=device)
        if self.positional == "alibi":
            bias = bias - self.slopes.view(-1, 1, 1) * dist.abs()
        if self.positional == "hard_alibi":
            w = self.windows.view(-1, 1, 1)
            outside = (w > 0) & (dist >= w)
            bias = bias.masked_fill(outside, float("-inf"))
        if self.causal:
            bias = bias.masked_fill(dist < 0, float("-inf"))
        return bias

    def forward(
        self, h: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = h.shape
        q, k, v = self._split(self.q(h)), self._split(self.k(h)), self._split(self.v(h))
        if rope is not None:
            q, k = _rotate(q, *rope), _rotate(k, *rope)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head) + self.score_bias(T, h.device)
        attn = torch.softmax(scores, dim=-1)  # (B, H, T, T)
        out = (attn @ v).transpose(1, 2).reshape(B, T, self.n_heads * self.d_head)
        return self.o(out), attn


class FeedForward(nn.Module):
    """The block's MLP: ``fc`` (d_model → d_mlp), activation module ``act``, ``proj`` (d_mlp → d_model)."""

    def __init__(self, d_model: int, d_mlp: int, activation: str, bias: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(d_model, d_mlp, bias=bias)
        self.act = _ACTIVATIONS[activation]()
        self.proj = nn.Linear(d_mlp, d_model, bias=bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.proj(self.act(self.fc(h)))


class Block(nn.Module):
    """One residual block: attention, then (optionally) the MLP, each with a pre-LayerNorm."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_head: int,
        d_mlp: int | None,
        *,
        positional: str,
        causal: bool,
        windows: Sequence[int | None] | None,
        layer_norm: bool,
        activation: str,
        bias: bool,
    ) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model) if layer_norm else nn.Identity()
        self.attn = Attention(
            d_model,
            n_heads,
            d_head,
            positional=positional,
            causal=causal,
            windows=windows,
            bias=bias,
        )
        self.ln2 = nn.LayerNorm(d_model) if (layer_norm and d_mlp) else nn.Identity()
        self.mlp = FeedForward(d_model, d_mlp, activation, bias) if d_mlp else None

    def forward(
        self, h: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, attn = self.attn(self.ln1(h), rope)
        h = h + a
        if self.mlp is not None:
            h = h + self.mlp(self.ln2(h))
        return h, attn


class Transformer(nn.Module):
    """A decoder-only transformer for token sequences.

    Args:
        vocab_size: number of input tokens V.
        d_model: residual-stream width d.
        n_layers: number of blocks L.
        n_heads: attention heads per block H.
        d_head: width of each head (default ``d_model // n_heads``).
        mlp: include an MLP in every block (``False``: attention-only).
        d_mlp: MLP hidden width (default ``4 * d_model``).
        max_len: longest sequence (needed by ``"learned"`` and ``"sinusoidal"``; checked for all).
        positional: one of :data:`POSITIONAL` (see the module docstring).
        windows: for ``"hard_alibi"``, one window per head (``None`` = unlimited). Default: head 0
            unlimited, head h ≥ 1 sees the last 2^{h−1}·… positions: ``[None, 1, 2, 4, …]``.
        causal: mask attention to earlier positions (``False``: bidirectional).
        layer_norm: pre-LayerNorm in every block and before the read-out.
        activation: ``"gelu"`` or ``"relu"`` in the MLP.
        bias: biases in the attention and MLP linear maps.
        n_out: read-out size (default ``vocab_size``).
        init_std: standard deviation of the normal initialisation of every weight matrix and
            embedding (biases start at zero; the output maps of the residual branches are scaled by
            1/√(2L) as in GPT-2).
        seed: seed of the initialisation (a private generator: the global random state is untouched).

    Shapes: ``forward(tokens)`` maps ``(B, T)`` integer tokens to logits ``(B, T, n_out)``;
    with ``return_attention=True`` it returns ``(logits, maps)`` where ``maps[l]`` is ``(B, H, T, T)``.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 1,
        d_head: int | None = None,
        mlp: bool = True,
        d_mlp: int | None = None,
        max_len: int = 256,
        positional: str = "learned",
        windows: Sequence[int | None] | None = None,
        causal: bool = True,
        layer_norm: bool = True,
        activation: str = "gelu",
        bias: bool = True,
        n_out: int | None = None,
        init_std: float = 0.02,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("vocab_size", vocab_size, minimum=1)
        check_int("d_model", d_model, minimum=1)
        check_int("n_layers", n_layers, minimum=1)
        check_int("n_heads", n_heads, minimum=1)
        check_int("max_len", max_len, minimum=1)
        check_choice("positional", positional, POSITIONAL)
        check_choice("activation", activation, tuple(_ACTIVATIONS))
        check_positive("init_std", init_std, allow_zero=True)
        check_int("seed", seed, minimum=0)
        if d_head is None:
            if d_model % n_heads:
                raise ValueError(
                    f"d_model={d_model} is not divisible by n_heads={n_heads}; pass d_head"
                )
            d_head = d_model // n_heads
        check_int("d_head", d_head, minimum=1)
        if positional == "rope" and d_head % 2:
            raise ValueError(f"positional='rope' needs an even d_head, got {d_head}")
        if mlp:
            d_mlp = 4 * d_model if d_mlp is None else check_int("d_mlp", d_mlp, minimum=1)
        else:
            d_mlp = None
        if n_out is None:
            n_out = vocab_size
        check_int("n_out", n_out, minimum=1)
        if positional == "hard_alibi":
            if windows is None:
                windows = [None] + [2 ** (h - 1) for h in range(1, n_heads)]
            if len(windows) != n_heads:
                raise ValueError(
                    f"windows must give one window per head ({n_heads}), got {len(windows)}"
                )
            for h, w in enumerate(windows):
                if w is not None:
                    check_int(f"windows[{h}]", w, minimum=1)
        elif windows is not None:
            raise ValueError("windows is only used with positional='hard_alibi'")

        self.vocab_size, self.d_model, self.n_layers, self.n_heads, self.d_head = (
            vocab_size,
            d_model,
            n_layers,
            n_heads,
            d_head,
        )
        self.max_len, self.positional, self.n_out, self.init_std = (
            max_len,
            positional,
            n_out,
            float(init_std),
        )
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model) if positional == "learned" else None
        if positional == "sinusoidal":
            self.register_buffer("sinusoids", self._sinusoids(max_len, d_model), persistent=False)
        self.blocks = nn.ModuleList(
            Block(
                d_model,
                n_heads,
                d_head,
                d_mlp,
                positional=positional,
                causal=causal,
                windows=windows,
                layer_norm=layer_norm,
                activation=activation,
                bias=bias,
            )
            for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model) if layer_norm else nn.Identity()
        self.unembed = nn.Linear(d_model, n_out, bias=False)
        self.reset_parameters(seed)

    @staticmethod
    def _sinusoids(T: int, d: int) -> torch.Tensor:
        pos = torch.arange(T).float().unsqueeze(1)
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2).float() / d)
        table = torch.zeros(T, d)
        table[:, 0::2] = torch.sin(pos * freq)
        table[:, 1::2] = torch.cos(pos * freq[: d // 2])
        return table

    @torch.no_grad()
    def reset_parameters(self, seed: int = 0) -> None:
        """Draw every weight again: N(0, init_std²), residual output maps N(0, init_std²/(2L)),
        biases 0, LayerNorms at identity. Uses a private generator seeded with ``seed``."""
        g = torch.Generator().manual_seed(int(seed))
        resid_std = self.init_std / math.sqrt(2 * self.n_layers)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif ".ln" in name or name.startswith("ln_f"):
                p.fill_(1.0)
            else:
                std = (
                    resid_std
                    if name.endswith(("attn.o.weight", "mlp.proj.weight"))
                    else self.init_std
                )
                p.copy_(torch.randn(p.shape, generator=g) * std)

    def _rope(self, T: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        D = self.d_head
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, D, 2, device=device).float() / D)
        angle = torch.arange(T, device=device).float().unsqueeze(1) * freq  # (T, D/2)
        return angle.cos(), angle.sin()

    def add_positions(self, h: torch.Tensor) -> torch.Tensor:
        """Add absolute position embeddings (if the scheme has them) to embeddings ``h`` (B, T, d)."""
        T = h.shape[1]
        if T > self.max_len:
            raise ValueError(f"sequence length {T} exceeds max_len={self.max_len}")
        if self.pos is not None:
            h = h + self.pos.weight[:T]
        elif self.positional == "sinusoidal":
            h = h + self.sinusoids[:T]
        return h

    def forward(
        self,
        tokens: torch.Tensor,
        *,
        return_attention: bool = False,
        prefix: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits ``(B, T, n_out)`` for integer ``tokens`` ``(B, T)``.

        Args:
            return_attention: also return the attention maps, one ``(B, H, T', T')`` per layer.
            prefix: optional embeddings ``(P, d)`` or ``(B, P, d)`` placed before the tokens (soft
                prompts for prompt tuning); the logits then cover all ``T' = P + T`` positions.
        """
        # shape and dtype only: a vocabulary check would read the values (a GPU sync per step)
        tokens = check_tokens(tokens)
        h = self.embed(tokens)
        if prefix is not None:
            if prefix.dim() == 2:
                prefix = prefix.unsqueeze(0).expand(h.shape[0], -1, -1)
            if prefix.dim() != 3 or prefix.shape[-1] != self.d_model:
                raise ValueError(
                    f"prefix must have shape (P, d) or (B, P, d) with d={self.d_model}, "
                    f"got {tuple(prefix.shape)}"
                )
            h = torch.cat([prefix.to(h.dtype), h], dim=1)
        h = self.add_positions(h)
        rope = self._rope(h.shape[1], h.device) if self.positional == "rope" else None
        maps = []
        for block in self.blocks:
            h, attn = block(h, rope)
            maps.append(attn)
        logits = self.unembed(self.ln_f(h))
        return (logits, maps) if return_attention else logits

    def extra_repr(self) -> str:
        return f"positional={self.positional}, max_len={self.max_len}, init_std={self.init_std}"
