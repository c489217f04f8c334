"""Bounded Dyck languages Dyck_{k,D}: k bracket types, nesting depth at most D (Wen et al. 2023).

Tokens: opening brackets ``0 … k−1``, closing brackets ``k … 2k−1`` (token ``k + t`` closes ``t``),
and ``BOS = 2k``, a start-of-sequence token that also serves as the *end* symbol in next-token
sets; ``vocab_size = 2k + 1``. A string over the ``2k`` brackets is in Dyck_{k,D} when every closing
bracket closes the most recent unmatched opening bracket of the same type, the number of unmatched
brackets never exceeds D, and none is left open at the end.

- :meth:`Dyck.scan` runs the stack machine on a batch: depth, top-of-stack type and validity of
  every prefix.
- :meth:`Dyck.allowed_next` gives the set of tokens that may follow each prefix (the targets of
  next-token prediction; the ``BOS`` column means "the string may end here").
- :meth:`Dyck.is_member` decides membership; :meth:`Dyck.sample_prefixes` draws random valid
  prefixes; :meth:`Dyck.all_strings` and :meth:`Dyck.all_prefixes` enumerate short strings for
  exhaustive checks.

A leading ``BOS`` in a batch is neutral (it changes no state), so tokens with or without it can be
scanned alike.
"""

from __future__ import annotations

import itertools

import torch

from lmt_core._checks import check_int, check_positive

__all__ = ["Dyck"]


class Dyck:
    """The bounded Dyck language Dyck_{k,D} (see the module docstring for the token convention)."""

    def __init__(self, k: int, D: int) -> None:
        self.k = check_int("k", k, minimum=1)
        self.D = check_int("D", D, minimum=1)
        self.bos = 2 * k
        self.vocab_size = 2 * k + 1

    def __repr__(self) -> str:
        return f"Dyck(k={self.k}, D={self.D})"

    def to_string(self, tokens: torch.Tensor | list[int], brackets: str = "()[]{}<>") -> str:
        """Human-readable form of one token sequence, e.g. ``'([])'`` (``BOS`` is written ``^``)."""
        if 2 * self.k > len(brackets):
            raise ValueError(f"need {2 * self.k} bracket characters, got {len(brackets)}")
        out = []
        for t in [int(v) for v in tokens]:
            if t == self.bos:
                out.append("^")
            elif 0 <= t < self.k:
                out.append(brackets[2 * t])
            elif self.k <= t < 2 * self.k:
                out.append(brackets[2 * (t - self.k) + 1])
            else:
                raise ValueError(f"token {t} is not in the vocabulary of {self!r}")
        return "".join(out)

    def _check_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2:
            raise ValueError(f"tokens must be a tensor of shape (B, T), got {getattr(tokens, 'shape', tokens)}")
        if tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"tokens must be an integer tensor, got {tokens.dtype}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"tokens must lie in [0, {self.vocab_size}) for {self!r}")
        return tokens.long()

    def scan(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the stack machine on ``tokens`` (B, T).

        Returns a dict of ``(B, T)`` tensors, entry ``[b, t]`` describing the prefix ``tokens[b, :t+1]``:
        ``depth`` (number of unmatched opening brackets), ``top`` (type of the most recent unmatched
        opening bracket, −1 if none) and ``valid`` (the prefix can be extended to a member). After
        the first error the state is frozen and ``valid`` stays False.
        """
        x = self._check_tokens(tokens)
        B, T = x.shape
        dev = x.device
        stack = torch.full((B, self.D + 1), -1, dtype=torch.long, device=dev)  # slot D never used when valid
        depth = torch.zeros(B, dtype=torch.long, device=dev)
        valid = torch.ones(B, dtype=torch.bool, device=dev)
        rows = torch.arange(B, device=dev)
        depths, tops, valids = [], [], []
        for t in range(T):
            tok = x[:, t]
            is_open, is_close = tok < self.k, (tok >= self.k) & (tok < 2 * self.k)
            kind = tok % self.k
            top = stack[rows, (depth - 1).clamp(min=0)]
            ok_open = is_open & (depth < self.D)
            ok_close = is_close & (depth > 0) & (top == kind)
            valid = valid & (ok_open | ok_close | (tok == self.bos))
            push, pop = valid & ok_open, valid & ok_close
            stack[rows[push], depth[push]] = kind[push]
            depth = depth + push.long() - pop.long()
            stack[rows[pop], depth[pop]] = -1
            depths.append(depth.clone())
            tops.append(torch.where(depth > 0, stack[rows, (depth - 1).clamp(min=0)], -1))
            valids.append(valid.clone())
        if T == 0:
            empty = torch.zeros(B, 0, dtype=torch.long, device=dev)
            return {"depth": empty, "top": empty.clone(), "valid": empty.bool()}
        return {"depth": torch.stack(depths, 1), "top": torch.stack(tops, 1), "valid": torch.stack(valids, 1)}

    def allowed_next(self, tokens: torch.Tensor) -> torch.Tensor:
        """Boolean ``(B, T, vocab_size)``: which tokens may follow the prefix ``tokens[b, :t+1]``.

        Opening brackets are allowed while the depth is below D, the closing bracket of the top of
        the stack while the depth is positive, and column ``BOS`` ("end") when the depth is 0.
        After an invalid prefix nothing is allowed.
        """
        s = self.scan(tokens)
        B, T = s["depth"].shape
        out = torch.zeros(B, T, self.vocab_size, dtype=torch.bool, device=s["depth"].device)
        out[..., : self.k] = (s["valid"] & (s["depth"] < self.D)).unsqueeze(-1)
        close_ok = s["valid"] & (s["depth"] > 0)
        idx = (self.k + s["top"].clamp(min=0)).unsqueeze(-1)
        out.scatter_(2, idx, close_ok.unsqueeze(-1) | out.gather(2, idx))
        out[..., self.bos] = s["valid"] & (s["depth"] == 0)
        return out

    def is_member(self, tokens: torch.Tensor) -> torch.Tensor:
        """Boolean ``(B,)``: is each whole row (a leading ``BOS`` is ignored) in Dyck_{k,D}?"""
        s = self.scan(tokens)
        if s["depth"].shape[1] == 0:
            return torch.ones(tokens.shape[0], dtype=torch.bool, device=tokens.device)
        return s["valid"][:, -1] & (s["depth"][:, -1] == 0)

    def sample_prefixes(self, batch: int, length: int, generator: torch.Generator | None = None,
                        p_open: float = 0.5) -> torch.Tensor:
        """Random valid prefixes ``(batch, length)`` (no ``BOS``): a random walk on the stack.

        At each step, if both are possible, open a bracket with probability ``p_open`` (of a
        uniformly random type) or close the top one; at depth 0 always open, at depth D always close.
        """
        check_int("batch", batch, minimum=1)
        check_int("length", length, minimum=1)
        check_positive("p_open", p_open)
        if p_open >= 1:
            raise ValueError(f"p_open must be in (0, 1), got {p_open}")
        dev = generator.device if generator is not None else torch.device("cpu")
        stack = torch.full((batch, self.D), -1, dtype=torch.long, device=dev)
        depth = torch.zeros(batch, dtype=torch.long, device=dev)
        rows = torch.arange(batch, device=dev)
        out = torch.empty(batch, length, dtype=torch.long, device=dev)
        for t in range(length):
            u = torch.rand(batch, generator=generator, device=dev)
            kind = torch.randint(0, self.k, (batch,), generator=generator, device=dev)
            opening = (depth == 0) | ((depth < self.D) & (u < p_open))
            top = stack[rows, (depth - 1).clamp(min=0)]
            out[:, t] = torch.where(opening, kind, self.k + top)
            stack[rows[opening], depth[opening]] = kind[opening]
            depth = depth + opening.long() - (~opening).long()
        return out

    def all_strings(self, length: int) -> torch.Tensor:
        """All ``(2k)^length`` strings of brackets of this length, ``(2k^length, length)``."""
        check_int("length", length, minimum=0)
        if (2 * self.k) ** length > 5_000_000:
            raise ValueError(f"(2k)^length = {(2 * self.k) ** length} strings is too many to enumerate")
        if length == 0:
            return torch.zeros(1, 0, dtype=torch.long)
        return torch.tensor(list(itertools.product(range(2 * self.k), repeat=length)), dtype=torch.long)

    def all_prefixes(self, length: int) -> torch.Tensor:
        """All valid prefixes (strings that extend to a member) of exactly this length, in
        lexicographic order; built by extending valid prefixes one allowed token at a time."""
        check_int("length", length, minimum=0)
        x = torch.zeros(1, 0, dtype=torch.long)
        for _ in range(length):
            if x.shape[1] == 0:
                allowed = torch.zeros(1, self.vocab_size, dtype=torch.bool)
                allowed[0, : self.k] = True
            else:
                allowed = self.allowed_next(x)[:, -1]
            allowed[:, self.bos] = False
            row, tok = torch.nonzero(allowed, as_tuple=True)
            x = torch.cat([x[row], tok.unsqueeze(1)], 1)
        return x

    def with_bos(self, strings: torch.Tensor) -> torch.Tensor:
        """Prepend ``BOS`` to every row of ``strings`` (B, T) → (B, T + 1)."""
        x = self._check_tokens(strings)
        return torch.cat([torch.full((x.shape[0], 1), self.bos, dtype=torch.long, device=x.device), x], 1)
