"""E transformers of one configuration as batched matrix products (the fast path of ``stack``).

:func:`lmt_core.ensemble.stack` builds a :class:`StackedTransformer` when every member is a
:class:`~lmt_core.models.Transformer` of the same configuration. Each parameter of the members is
stacked along a leading member dimension E, and the member's forward pass
(:meth:`Transformer.forward <lmt_core.models.Transformer.forward>`) is written out once for all
members:

* the embedding is one ``gather`` from the stacked tables ``(E, V, d)``;
* every linear map is one batched product ``(E, N, d_in) @ (E, d_in, d_out)`` over the
  ``N = B·T`` positions (``baddbmm`` with the bias); the query, key and value maps of a block are
  fused into one product with ``(E, d, 3·H·d_head)``;
* attention runs over the ``E·B`` sequences and ``H`` heads at once, ``(E·B, H, T, d_head)``;
* LayerNorms normalise without affine parameters; each member's gain and shift are folded into
  the linear map that follows (``(x̂ ∘ γ + β) W + b = x̂ (diag(γ) W) + (β W + b)``).

Member ``i`` computes what ``member(i)`` (a stand-alone ``Transformer``) computes, up to float
rounding, and trained with :func:`lmt_core.train.fit` it follows the same trajectory as the member
trained alone (tested). Speed (``benchmarks/transformer_ensemble.py``, ``benchmarks/README.md``):
faster than a loop over the members and than ``torch.func.vmap`` of the model; about half of a
step is batched matrix products, the rest is element-wise work (exact GELU, LayerNorm, softmax,
Adam) that a loop does too, which bounds the gain on a CPU.
"""

from __future__ import annotations

import copy
import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from lmt_core.ensemble import Ensemble
from lmt_core.models.transformer import Transformer

__all__ = ["StackedTransformer", "stackable"]

_ACTIVATIONS = {nn.ReLU: torch.relu, nn.GELU: F.gelu}


def _config(m: Transformer) -> tuple:
    """Everything about a Transformer's forward pass that is not a parameter value."""
    blk, attn = m.blocks[0], m.blocks[0].attn
    act = None if blk.mlp is None else type(blk.mlp.act)
    return (
        m.vocab_size,
        m.d_model,
        m.n_layers,
        m.n_heads,
        m.d_head,
        m.max_len,
        m.positional,
        m.n_out,
        attn.causal,
        isinstance(m.ln_f, nn.LayerNorm),
        attn.q.bias is not None,
        None if blk.mlp is None else blk.mlp.fc.out_features,
        act,
        m.embed.weight.dtype,
    )


def _plain(m: nn.Module) -> bool:
    """True when ``m`` is a ``Transformer`` whose forward the stacked path reproduces exactly:
    the class itself (not a subclass), no hooks, the standard sub-modules, ReLU or exact GELU."""
    if type(m) is not Transformer:
        return False
    for sub in m.modules():
        if sub._forward_hooks or sub._forward_pre_hooks or sub._backward_hooks:
            return False
    expected = {
        Transformer,
        nn.Embedding,
        nn.ModuleList,
        nn.LayerNorm,
        nn.Identity,
        nn.Linear,
        type(m.blocks[0]),
        type(m.blocks[0].attn),
        nn.ReLU,
        nn.GELU,
    }
    if m.blocks[0].mlp is not None:
        expected.add(type(m.blocks[0].mlp))
    if any(type(sub) not in expected for sub in m.modules()):
        return False
    attn0 = m.blocks[0].attn
    for blk in m.blocks:
        # one score bias for all layers (the constructor gives every layer the same windows)
        if not (
            torch.equal(blk.attn.windows, attn0.windows)
            and torch.equal(blk.attn.slopes, attn0.slopes)
        ):
            return False
        for ln in (blk.ln1, blk.ln2):
            if isinstance(ln, nn.LayerNorm) and not ln.elementwise_affine:
                return False
        if blk.mlp is not None:
            act = blk.mlp.act
            if type(act) not in _ACTIVATIONS or getattr(act, "approximate", "none") != "none":
                return False
        # the q, k, v maps are fused: they must be trained (or frozen) together
        qkv = (blk.attn.q, blk.attn.k, blk.attn.v)
        if len({x.weight.requires_grad for x in qkv}) != 1 or (
            blk.attn.q.bias is not None and len({x.bias.requires_grad for x in qkv}) != 1
        ):
            return False
    return True


def stackable(modules: Sequence[nn.Module]) -> bool:
    """Whether :class:`StackedTransformer` can stack ``modules``: all plain ``Transformer``\\ s
    (no subclass, no hooks, standard sub-modules) with one configuration and the same buffers.

    Raises:
        ValueError: all are plain Transformers but their configurations differ (stacking them
            with any engine would silently run every member with the first one's configuration),
            or they differ in which parameters are trainable.
    """
    if not modules or not all(_plain(m) for m in modules):
        return False
    configs = [_config(m) for m in modules]  # type: ignore[arg-type]
    for j, c in enumerate(configs):
        if c != configs[0]:
            raise ValueError(
                f"modules[{j}] is a Transformer with configuration {c}, "
                f"expected {configs[0]} (as modules[0])"
            )
    grads0 = [p.requires_grad for p in modules[0].parameters()]
    bufs0 = dict(modules[0].named_buffers())
    for j, m in enumerate(modules):
        if [p.requires_grad for p in m.parameters()] != grads0:  # no engine can stack these
            raise ValueError(
                f"modules[{j}] trains other parameters than modules[0] "
                "(requires_grad differs); freeze the same parameters in every member"
            )
        if any(not torch.equal(b, bufs0[k]) for k, b in m.named_buffers()):
            return False  # e.g. other hard-ALiBi windows per member: vmap stacks the buffers
    return True


def _stacked(tensors: list[torch.Tensor], transpose: bool = False) -> nn.Parameter:
    """One parameter ``(E, ...)`` from the members' tensors; ``transpose``: an ``nn.Linear`` weight
    ``(out, in)`` becomes ``(in, out)`` so that the map is ``x @ W``."""
    t = torch.stack([x.detach().T if transpose else x.detach() for x in tensors]).contiguous()
    return nn.Parameter(t, requires_grad=tensors[0].requires_grad)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding of the last dimension of ``x`` (…, T, D), as ``models.transformer``."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class _Block(nn.Module):
    """The stacked parameters of one block (a container; the computation is in the ensemble)."""

    def __init__(self, blocks: list[nn.Module]) -> None:
        super().__init__()
        b0 = blocks[0]
        a = [b.attn for b in blocks]
        self.ln1_w = self.ln1_b = self.ln2_w = self.ln2_b = None
        if isinstance(b0.ln1, nn.LayerNorm):
            self.ln1_w = _stacked([b.ln1.weight.unsqueeze(0) for b in blocks])  # (E, 1, d)
            self.ln1_b = _stacked([b.ln1.bias.unsqueeze(0) for b in blocks])
        # q, k, v fused: (E, d, 3·H·D), columns [q | k | v]
        self.qkv_w = _stacked([torch.cat([x.q.weight, x.k.weight, x.v.weight]) for x in a], True)
        self.qkv_w.requires_grad_(b0.attn.q.weight.requires_grad)
        self.o_w = _stacked([x.o.weight for x in a], True)  # (E, H·D, d)
        self.qkv_b = self.o_b = None
        if b0.attn.q.bias is not None:
            self.qkv_b = _stacked(
                [torch.cat([x.q.bias, x.k.bias, x.v.bias]).unsqueeze(0) for x in a]
            )  # (E, 1, 3·H·D)
            self.qkv_b.requires_grad_(b0.attn.q.bias.requires_grad)
            self.o_b = _stacked([x.o.bias.unsqueeze(0) for x in a])  # (E, 1, d)
        self.fc_w = self.fc_b = self.proj_w = self.proj_b = None
        if b0.mlp is not None:
            if isinstance(b0.ln2, nn.LayerNorm):
                self.ln2_w = _stacked([b.ln2.weight.unsqueeze(0) for b in blocks])
                self.ln2_b = _stacked([b.ln2.bias.unsqueeze(0) for b in blocks])
            self.fc_w = _stacked([b.mlp.fc.weight for b in blocks], True)  # (E, d, d_mlp)
            self.proj_w = _stacked([b.mlp.proj.weight for b in blocks], True)  # (E, d_mlp, d)
            if b0.mlp.fc.bias is not None:
                self.fc_b = _stacked([b.mlp.fc.bias.unsqueeze(0) for b in blocks])
                self.proj_b = _stacked([b.mlp.proj.bias.unsqueeze(0) for b in blocks])


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``x @ w + b`` for every member: ``(E, N, i) @ (E, i, o) + (E, 1, o)`` -> ``(E, N, o)``."""
    return torch.bmm(x, w) if b is None else torch.baddbmm(b, x, w)


def _norm_linear(
    x: torch.Tensor,
    ln_w: torch.Tensor | None,
    ln_b: torch.Tensor | None,
    w: torch.Tensor,
    b: torch.Tensor | None,
    eps: float,
) -> torch.Tensor:
    """``Linear(LayerNorm(x))`` of every member: ``x (E, N, d)`` -> ``(E, N, o)``.

    The LayerNorm's gain γ and shift β ``(E, 1, d)`` are folded into the linear map,
    ``(x̂ ∘ γ + β) W + b = x̂ (diag(γ) W) + (β W + b)``: the products with γ and β then cost
    ``d·o`` per member instead of ``N·d`` (and their gradients are reductions of that size too).
    """
    if ln_w is None:
        return _linear(x, w, b)
    xn = F.layer_norm(x, x.shape[-1:], eps=eps)  # normalised, no affine part
    shift = torch.bmm(ln_b, w) if b is None else torch.baddbmm(b, ln_b, w)  # (E, 1, o)
    return torch.baddbmm(shift, xn, w * ln_w.transpose(1, 2))


class StackedTransformer(Ensemble):
    """E :class:`~lmt_core.models.Transformer`\\ s of one configuration, stacked.

    Parameters (E members, width d, H heads of width D, MLP width m, vocabulary V):
    ``embed (E, V, d)``, ``pos (E, max_len, d)`` (learned positions), and per block
    ``blocks[l].qkv_w (E, d, 3·H·D)``, ``qkv_b (E, 1, 3·H·D)``, ``o_w (E, H·D, d)``, ``o_b``,
    ``ln1_w``/``ln1_b (E, 1, d)``, ``fc_w (E, d, m)``, ``fc_b``, ``proj_w (E, m, d)``, ``proj_b``,
    ``ln2_w``/``ln2_b``; then ``ln_f_w``/``ln_f_b (E, 1, d)`` and ``unembed (E, d, n_out)``.
    Linear weights are stored transposed (``x @ W``). Which members' parameters are trainable
    (``requires_grad``) is kept from the members.

    Shapes: ``forward(tokens)`` takes ``(B, T)`` (every member reads the same batch) or
    ``(E, B, T)`` (one batch per member) and returns logits ``(E, B, T, n_out)``; with
    ``return_attention=True`` it returns ``(logits, maps)``, ``maps[l]`` of shape
    ``(E, B, H, T, T)``. ``prefix`` (soft prompts) is ``(P, d)`` or ``(B, P, d)`` shared by the
    members, or ``(E, B, P, d)``; the logits then cover ``P + T`` positions.
    """

    def __init__(self, transformers: Sequence[Transformer]) -> None:
        super().__init__()
        if len(transformers) < 1:
            raise ValueError("transformers must contain at least one Transformer (E >= 1)")
        if not stackable(transformers):
            raise ValueError(
                "transformers must be plain Transformers of one configuration "
                "(no subclasses or hooks, the same trainable parameters); "
                "use ensemble.stack, which falls back to FunctionalEnsemble"
            )
        ms = list(transformers)
        m0 = ms[0]
        self.members = len(ms)
        self._template = [copy.deepcopy(m0)]  # a list: keep it out of .modules()/state_dict
        self.vocab_size, self.d_model, self.n_layers = m0.vocab_size, m0.d_model, m0.n_layers
        self.n_heads, self.d_head, self.max_len = m0.n_heads, m0.d_head, m0.max_len
        self.positional, self.n_out = m0.positional, m0.n_out
        attn0 = m0.blocks[0].attn
        self.causal = bool(attn0.causal)
        self.eps = m0.ln_f.eps if isinstance(m0.ln_f, nn.LayerNorm) else 0.0
        mlp0 = m0.blocks[0].mlp
        self._act = None if mlp0 is None else _ACTIVATIONS[type(mlp0.act)]
        self.embed = _stacked([m.embed.weight for m in ms])  # (E, V, d)
        self.pos = _stacked([m.pos.weight for m in ms]) if m0.pos is not None else None
        if self.positional == "sinusoidal":
            self.register_buffer("sinusoids", m0.sinusoids.detach().clone(), persistent=False)
        self.register_buffer("slopes", attn0.slopes.detach().clone(), persistent=False)
        self.register_buffer("windows", attn0.windows.detach().clone(), persistent=False)
        self.blocks = nn.ModuleList(_Block([m.blocks[j] for m in ms]) for j in range(self.n_layers))
        self.ln_f_w = self.ln_f_b = None
        if isinstance(m0.ln_f, nn.LayerNorm):
            self.ln_f_w = _stacked([m.ln_f.weight.unsqueeze(0) for m in ms])  # (E, 1, d)
            self.ln_f_b = _stacked([m.ln_f.bias.unsqueeze(0) for m in ms])
        self.unembed = _stacked([m.unembed.weight for m in ms], True)  # (E, d, n_out)

    # ------------------------------------------------------------------ forward pieces

    def score_bias(self, T: int, device: torch.device) -> torch.Tensor:
        """Additive bias on the scores, ``(H, T, T)``, as ``Attention.score_bias`` of a member."""
        i = torch.arange(T, device=device).view(T, 1)
        j = torch.arange(T, device=device).view(1, T)
        dist = (i - j).float()
        bias = torch.zeros(self.n_heads, T, T, device=device)
        if self.positional == "alibi":
            bias = bias - self.slopes.to(device).view(-1, 1, 1) * dist.abs()
        if self.positional == "hard_alibi":
            w = self.windows.to(device).view(-1, 1, 1)
            bias = bias.masked_fill((w > 0) & (dist >= w), float("-inf"))
        if self.causal:
            bias = bias.masked_fill(dist < 0, float("-inf"))
        return bias

    def _rope(self, T: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        D = self.d_head
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, D, 2, device=device).float() / D)
        angle = torch.arange(T, device=device).float().unsqueeze(1) * freq  # (T, D/2)
        return angle.cos(), angle.sin()

    def _embed(self, tokens: torch.Tensor, prefix: torch.Tensor | None) -> torch.Tensor:
        """Token (+ prefix, + absolute position) embeddings ``(E, B, T', d)``."""
        E, d = self.members, self.d_model
        if tokens.dim() == 2:
            B, T = tokens.shape
            idx = tokens.reshape(1, B * T, 1).expand(E, -1, d)
        elif tokens.dim() == 3 and tokens.shape[0] == E:
            B, T = tokens.shape[1:]
            idx = tokens.reshape(E, B * T, 1).expand(-1, -1, d)
        else:
            raise ValueError(
                f"tokens must have shape (B, T) or ({E}, B, T), got {tuple(tokens.shape)}"
            )
        if tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"tokens must be an integer tensor, got {tokens.dtype}")
        # gather raises on a token outside [0, V) (an offset into one flat table would not)
        h = torch.gather(self.embed, 1, idx.long()).view(E, B, T, d)
        if prefix is not None:
            if (
                prefix.shape[-1:] != (d,)
                or prefix.dim() not in (2, 3, 4)
                or (prefix.dim() == 3 and prefix.shape[0] != B)
                or (prefix.dim() == 4 and prefix.shape[:2] != (E, B))
            ):
                raise ValueError(
                    f"prefix must have shape (P, d), (B, P, d) or (E, B, P, d) with "
                    f"E={E}, B={B}, d={d}, got {tuple(prefix.shape)}"
                )
            prefix = prefix.to(h.dtype)
            while prefix.dim() < 4:
                prefix = prefix.unsqueeze(0)
            h = torch.cat([prefix.expand(E, B, -1, -1), h], dim=2)
        T = h.shape[2]
        if T > self.max_len:
            raise ValueError(f"sequence length {T} exceeds max_len={self.max_len}")
        if self.pos is not None:
            h = h + self.pos[:, None, :T]
        elif self.positional == "sinusoidal":
            h = h + self.sinusoids[:T]
        return h

    def _attention(
        self,
        x: torch.Tensor,
        blk: _Block,
        B: int,
        T: int,
        need_maps: bool,
        bias: torch.Tensor | None,
        rope: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """LayerNorm and multi-head attention of every member: ``x (E, B·T, d)`` -> the
        attention output ``(E, B·T, d)`` and the maps ``(E, B, H, T, T)`` (if ``need_maps``)."""
        E, H, D = self.members, self.n_heads, self.d_head
        # (E, B·T, 3·H·D)
        qkv = _norm_linear(x, blk.ln1_w, blk.ln1_b, blk.qkv_w, blk.qkv_b, self.eps)
        # (3, E·B, H, T, D): every sequence of every member, every head, in one batch
        q, k, v = qkv.view(E * B, T, 3, H, D).permute(2, 0, 3, 1, 4).unbind(0)
        if rope is not None:
            q, k = _rotate(q, *rope), _rotate(k, *rope)
        maps = None
        if need_maps:  # the model's explicit softmax, so that the maps can be returned
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D) + bias  # (E·B, H, T, T)
            att = torch.softmax(scores, dim=-1)
            out = torch.matmul(att, v)
            maps = att.view(E, B, H, T, T)
        else:  # the fused kernel: as fast as the explicit products at T = 24, less memory
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, is_causal=bias is None and self.causal
            )
        out = out.transpose(1, 2).reshape(E, B * T, H * D)
        return _linear(out, blk.o_w, blk.o_b), maps

    def forward(
        self,
        tokens: torch.Tensor,
        *,
        return_attention: bool = False,
        prefix: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits ``(E, B, T, n_out)`` of every member (see the class docstring for shapes)."""
        h = self._embed(tokens, prefix)  # (E, B, T, d)
        E, B, T, d = h.shape
        h = h.reshape(E, B * T, d)
        # an explicit (H, T, T) bias for the maps and ALiBi; plain causal masking needs none
        need_bias = return_attention or self.positional in ("alibi", "hard_alibi")
        bias = self.score_bias(T, h.device).to(h.dtype) if need_bias else None
        rope = self._rope(T, h.device) if self.positional == "rope" else None
        maps = []
        for blk in self.blocks:
            a, att = self._attention(h, blk, B, T, return_attention, bias, rope)
            h = h + a
            if blk.fc_w is not None:
                z = _norm_linear(h, blk.ln2_w, blk.ln2_b, blk.fc_w, blk.fc_b, self.eps)
                h = h + _linear(self._act(z), blk.proj_w, blk.proj_b)
            maps.append(att)
        logits = _norm_linear(h, self.ln_f_w, self.ln_f_b, self.unembed, None, self.eps)
        logits = logits.view(E, B, T, self.n_out)
        return (logits, maps) if return_attention else logits

    # ------------------------------------------------------------------ members

    def member(self, i: int) -> Transformer:
        """Member ``i`` as a stand-alone :class:`~lmt_core.models.Transformer` (a copy, on the
        ensemble's device and dtype, with the members' ``requires_grad`` flags)."""
        self._check_index(i)
        m = copy.deepcopy(self._template[0]).to(self.embed)
        with torch.no_grad():
            m.embed.weight.copy_(self.embed[i])
            if self.pos is not None:
                m.pos.weight.copy_(self.pos[i])
            for blk, sb in zip(m.blocks, self.blocks):
                qw, kw, vw = sb.qkv_w[i].T.chunk(3, dim=0)
                blk.attn.q.weight.copy_(qw)
                blk.attn.k.weight.copy_(kw)
                blk.attn.v.weight.copy_(vw)
                blk.attn.o.weight.copy_(sb.o_w[i].T)
                if sb.qkv_b is not None:
                    qb, kb, vb = sb.qkv_b[i, 0].chunk(3)
                    blk.attn.q.bias.copy_(qb)
                    blk.attn.k.bias.copy_(kb)
                    blk.attn.v.bias.copy_(vb)
                    blk.attn.o.bias.copy_(sb.o_b[i, 0])
                if sb.ln1_w is not None:
                    blk.ln1.weight.copy_(sb.ln1_w[i, 0])
                    blk.ln1.bias.copy_(sb.ln1_b[i, 0])
                if sb.fc_w is not None:
                    blk.mlp.fc.weight.copy_(sb.fc_w[i].T)
                    blk.mlp.proj.weight.copy_(sb.proj_w[i].T)
                    if sb.fc_b is not None:
                        blk.mlp.fc.bias.copy_(sb.fc_b[i, 0])
                        blk.mlp.proj.bias.copy_(sb.proj_b[i, 0])
                    if sb.ln2_w is not None:
                        blk.ln2.weight.copy_(sb.ln2_w[i, 0])
                        blk.ln2.bias.copy_(sb.ln2_b[i, 0])
            if self.ln_f_w is not None:
                m.ln_f.weight.copy_(self.ln_f_w[i, 0])
                m.ln_f.bias.copy_(self.ln_f_b[i, 0])
            m.unembed.weight.copy_(self.unembed[i].T)
        return m

    def extra_repr(self) -> str:
        return (
            f"members={self.members}, d_model={self.d_model}, n_layers={self.n_layers}, "
            f"n_heads={self.n_heads}, positional={self.positional}"
        )
