"""Fixed-state sequence models: an LSTM and a diagonal selective state-space model (pure PyTorch).

Both map integer tokens ``(B, T)`` to logits ``(B, T, n_out)`` like
:class:`~lmt_core.models.transformer.Transformer`, so the three can be trained by the same loop.
What sets them apart is memory: after reading a prefix, everything these models know about it
sits in a state of fixed size (:meth:`state_size` numbers), however long the prefix was.

An optional attention layer on top (``attention=True``) gives the hybrid "RNN + one attention
layer" used to show that a single retrieval step closes the gap on in-context retrieval tasks.

The state-space layer is a simplified, diagonal, input-dependent ("selective") SSM in the spirit
of Mamba (Gu & Dao 2023), per channel c and state coordinate s:

    Δ_t = softplus(w_Δ · u_t + b_Δ) ∈ R^{d_inner}        step size, depends on the input
    h_t[c, s] = exp(Δ_t[c] A[c, s]) h_{t−1}[c, s] + Δ_t[c] u_t[c] B_t[s]     A < 0 (stable)
    y_t[c] = Σ_s h_t[c, s] C_t[s] + D[c] u_t[c]                   B_t = W_B u_t, C_t = W_C u_t

computed for all t at once by a parallel (Hillis–Steele) scan, :func:`linear_scan`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lmt_core._checks import check_int
from lmt_core.tasks.base import check_tokens  # the library's one token check

__all__ = ["LSTM", "SelectiveSSM", "SSM", "linear_scan"]


class _AttentionReadout(nn.Module):
    """One causal single-head attention layer with a residual connection, for the hybrids."""

    def __init__(self, d: int) -> None:
        super().__init__()
        from lmt_core.models.transformer import Attention  # local: keep module imports acyclic

        self.ln = nn.LayerNorm(d)
        self.attn = Attention(d, 1, d, positional="none", causal=True, windows=None, bias=True)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a, _ = self.attn(self.ln(h))
        return h + a


class LSTM(nn.Module):
    """Token embedding → ``n_layers`` LSTM layers of width ``d_hidden`` → (attention) → read-out.

    Args:
        vocab_size: number of input tokens V.
        d_hidden: LSTM hidden and cell width.
        n_layers: stacked LSTM layers.
        attention: add one causal attention layer after the LSTM (the hybrid model).
        n_out: read-out size (default ``vocab_size``).
        seed: seed of the initialisation (private generator).

    Shapes: ``forward(tokens)`` maps ``(B, T)`` to logits ``(B, T, n_out)``.

    ``nn.LSTM`` has no ``torch.vmap`` rule, so :func:`lmt_core.ensemble.stack` cannot batch LSTMs:
    train seeds one after another (the cuDNN/oneDNN kernel is fast).
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        d_hidden: int = 64,
        n_layers: int = 1,
        attention: bool = False,
        n_out: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("vocab_size", vocab_size, minimum=1)
        check_int("d_hidden", d_hidden, minimum=1)
        check_int("n_layers", n_layers, minimum=1)
        check_int("seed", seed, minimum=0)
        n_out = vocab_size if n_out is None else check_int("n_out", n_out, minimum=1)
        self.d_hidden, self.n_layers = d_hidden, n_layers
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(seed)
            self.embed = nn.Embedding(vocab_size, d_hidden)
            self.rnn = nn.LSTM(d_hidden, d_hidden, num_layers=n_layers, batch_first=True)
            self.readout_attention = _AttentionReadout(d_hidden) if attention else None
            self.unembed = nn.Linear(d_hidden, n_out)

    def state_size(self) -> int:
        """Numbers carried from one position to the next: hidden and cell state of every layer.

        (With ``attention=True`` the attention layer also keeps keys and values of every earlier
        position, a memory that grows with the sequence; this count leaves it out.)"""
        return 2 * self.d_hidden * self.n_layers

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = check_tokens(tokens)  # shape and dtype (no value check: no GPU sync)
        h, _ = self.rnn(self.embed(tokens))
        if self.readout_attention is not None:
            h = self.readout_attention(h)
        return self.unembed(h)


class SelectiveSSM(nn.Module):
    """One diagonal selective state-space layer (see the module docstring), ``(B, T, d) → (B, T, d)``.

    Args:
        d: channels (input and output width).
        d_state: state coordinates N per channel.
    """

    def __init__(self, d: int, d_state: int) -> None:
        super().__init__()
        self.d, self.d_state = d, d_state
        # A[c, s] = −exp(A_log[c, s]) with the usual S4D-real initialisation A = −(1, 2, …, N)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()).repeat(d, 1))
        self.D = nn.Parameter(torch.ones(d))
        self.to_delta = nn.Linear(d, d)
        self.to_B = nn.Linear(d, d_state, bias=False)
        self.to_C = nn.Linear(d, d_state, bias=False)
        with torch.no_grad():  # initial step sizes between 1e-3 and 1e-1, as in Mamba
            dt = torch.exp(torch.rand(d) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
            self.to_delta.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^{-1}(dt)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        delta = nn.functional.softplus(self.to_delta(u))  # (B, T, d)
        A = -torch.exp(self.A_log)  # (d, N)
        Bt, Ct = self.to_B(u), self.to_C(u)  # (B, T, N)
        decay = torch.exp(delta.unsqueeze(-1) * A)  # (B, T, d, N), in (0, 1]
        drive = (delta * u).unsqueeze(-1) * Bt.unsqueeze(2)  # (B, T, d, N)
        h = linear_scan(decay, drive)  # h_t = decay_t h_{t−1} + drive_t
        return (h * Ct.unsqueeze(2)).sum(-1) + self.D * u


def linear_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All states of ``h_t = a_t h_{t−1} + b_t`` (``h_{−1} = 0``) along dim 1, by a parallel scan.

    The pairs ``(a, b)`` compose associatively, ``(a_2, b_2) ∘ (a_1, b_1) = (a_2 a_1, a_2 b_1 + b_2)``,
    so ⌈log₂ T⌉ rounds of "combine with the element ``2^r`` places back" (Hillis–Steele) give every
    prefix. Only products of the ``a``'s appear, so the scan is stable when ``|a| ≤ 1``.
    """
    T, offset = a.shape[1], 1
    while offset < T:
        b = torch.cat([b[:, :offset], a[:, offset:] * b[:, :-offset] + b[:, offset:]], dim=1)
        a = torch.cat([a[:, :offset], a[:, offset:] * a[:, :-offset]], dim=1)
        offset *= 2
    return b


class _SSMBlock(nn.Module):
    """Pre-norm residual block: h + W_out( SSM(W_in LN h) ⊙ silu(W_gate LN h) )."""

    def __init__(self, d_model: int, d_inner: int, d_state: int) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(d_model)
        self.inp = nn.Linear(d_model, d_inner)
        self.gate = nn.Linear(d_model, d_inner)
        self.ssm = SelectiveSSM(d_inner, d_state)
        self.out = nn.Linear(d_inner, d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = self.ln(h)
        return h + self.out(self.ssm(self.inp(z)) * nn.functional.silu(self.gate(z)))


class SSM(nn.Module):
    """Token embedding → ``n_layers`` selective SSM blocks → (attention) → LayerNorm → read-out.

    Args:
        vocab_size: number of input tokens V.
        d_model: residual width.
        d_state: state coordinates N per channel.
        expand: inner width ``d_inner = expand * d_model`` of each block.
        n_layers: number of blocks.
        attention: add one causal attention layer after the blocks (the hybrid model).
        n_out: read-out size (default ``vocab_size``).
        seed: seed of the initialisation (private generator).

    Shapes: ``forward(tokens)`` maps ``(B, T)`` to logits ``(B, T, n_out)``.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        d_model: int = 64,
        d_state: int = 16,
        expand: int = 2,
        n_layers: int = 2,
        attention: bool = False,
        n_out: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_int("vocab_size", vocab_size, minimum=1)
        check_int("d_model", d_model, minimum=1)
        check_int("d_state", d_state, minimum=1)
        check_int("expand", expand, minimum=1)
        check_int("n_layers", n_layers, minimum=1)
        check_int("seed", seed, minimum=0)
        n_out = vocab_size if n_out is None else check_int("n_out", n_out, minimum=1)
        self.d_inner, self.d_state, self.n_layers = expand * d_model, d_state, n_layers
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = nn.Embedding(vocab_size, d_model)
            self.blocks = nn.ModuleList(
                _SSMBlock(d_model, self.d_inner, d_state) for _ in range(n_layers)
            )
            self.readout_attention = _AttentionReadout(d_model) if attention else None
            self.ln_f = nn.LayerNorm(d_model)
            self.unembed = nn.Linear(d_model, n_out)

    def state_size(self) -> int:
        """Numbers carried from one position to the next: d_inner × d_state per layer (the
        attention layer of a hybrid, whose memory grows with the sequence, is left out)."""
        return self.d_inner * self.d_state * self.n_layers

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = check_tokens(tokens)
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h)
        if self.readout_attention is not None:
            h = self.readout_attention(h)
        return self.unembed(self.ln_f(h))
