"""Sparse parity as a token sequence, with and without a chain of thought (Wen et al. 2024).

A sequence starts with the n input bits x_1, ..., x_n as tokens 0/1 (token b stands for the sign
(-1)^b, the book's convention). For a secret support S = (s_1, ..., s_k), visited in this order:

* **with chain of thought** (``cot=True``) the inputs are followed by the k running parities
  z_j = x_{s_1} ⊕ ... ⊕ x_{s_j} (j = 1, ..., k); the last one, z_k, is the answer. T = n + k.
* **without** (``cot=False``) the inputs are followed by the answer z_k alone. T = n + 1.

Targets follow the next-token convention of :func:`lmt_core.train.fit`: ``targets[:, t]`` is the
token the model must predict *from position t*, i.e. ``tokens[:, t + 1]`` for every generated
position, and :data:`~lmt_core.train.IGNORE_INDEX` (−100) elsewhere (the input bits are not
predicted). So a causal model trained with ``loss="cross_entropy"`` learns exactly the chain.

The same sequences serve other next-token predictors (e.g. linear autoregressive models):
:meth:`ParityCoT.prefixes` lists, for each generated token, the prefix it is predicted from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from lmt_core._checks import check_generator, check_int

__all__ = ["IGNORE_INDEX", "ParityCoT", "running_parities", "tokens_to_signs"]

IGNORE_INDEX = -100  # the same value as lmt_core.train.IGNORE_INDEX (kept here to avoid an import cycle)


def running_parities(bits: torch.Tensor, support: Sequence[int]) -> torch.Tensor:
    """The running XORs z_j = b_{s_1} ⊕ ... ⊕ b_{s_j}, j = 1..k, of 0/1 ``bits`` ``(B, n)``.

    Returns:
        long tensor ``(B, k)`` of 0/1.
    """
    if not isinstance(bits, torch.Tensor) or bits.dim() != 2:
        raise TypeError("bits must be a tensor of shape (B, n)")
    idx = torch.as_tensor(list(support), dtype=torch.long, device=bits.device)
    if idx.numel() == 0:
        raise ValueError("support must not be empty")
    if idx.min() < 0 or idx.max() >= bits.shape[1]:
        raise ValueError(f"support indices must lie in [0, {bits.shape[1]}), got {idx.tolist()}")
    return bits.long().index_select(1, idx).cumsum(1) % 2


def tokens_to_signs(tokens: torch.Tensor) -> torch.Tensor:
    """Map 0/1 tokens to the signs (-1)^b = 1 - 2b as float32 (the book's ±1 convention)."""
    return (1 - 2 * tokens).to(torch.float32)


@dataclass(frozen=True)
class ParityCoT:
    """k-sparse parity of n bits as a sequence task, with (``cot=True``) or without a chain of thought.

    Attributes:
        n: number of input bits.
        support: the secret indices (from 0) in the order the chain visits them.
        cot: whether the running parities are written out before the answer.
    """

    n: int
    support: tuple[int, ...]
    cot: bool = True

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        s = tuple(int(i) for i in self.support)
        if not s:
            raise ValueError("support must contain at least one index")
        if len(set(s)) != len(s) or min(s) < 0 or max(s) >= self.n:
            raise ValueError(f"support must be distinct indices in [0, {self.n}), got {self.support}")
        object.__setattr__(self, "support", s)
        object.__setattr__(self, "cot", bool(self.cot))

    @classmethod
    def random(cls, n: int, k: int, *, seed: int = 0, cot: bool = True) -> "ParityCoT":
        """A support of k distinct indices drawn uniformly (seeded), visited in increasing order."""
        check_int("n", n, minimum=1)
        check_int("k", k, minimum=1, maximum=n)
        g = torch.Generator().manual_seed(int(seed))
        return cls(n, tuple(sorted(torch.randperm(n, generator=g)[:k].tolist())), cot)

    def with_cot(self, cot: bool) -> "ParityCoT":
        """The same secret, with or without the chain."""
        return ParityCoT(self.n, self.support, cot)

    @property
    def k(self) -> int:
        """Sparsity |S|."""
        return len(self.support)

    @property
    def length(self) -> int:
        """Sequence length T: n + k with the chain, n + 1 without."""
        return self.n + (self.k if self.cot else 1)

    @property
    def vocab_size(self) -> int:
        """Two tokens, 0 and 1."""
        return 2

    @property
    def generated_positions(self) -> list[int]:
        """Indices (from 0) of the tokens the model generates: n, ..., T − 1."""
        return list(range(self.n, self.length))

    @property
    def answer_position(self) -> int:
        """Index of the position whose prediction is the answer (the last position with a target)."""
        return self.length - 2

    def attended_input(self, position: int) -> int | None:
        """The input index a predictor at ``position`` must read besides the current token.

        With the chain, the prediction from position n − 1 + j (j = 0..k−1) is z_{j+1} = z_j ⊕
        x_{s_{j+1}}: it needs the secret bit s_{j+1} (and z_j, the token at the position itself,
        when j ≥ 1). Without the chain there is no single such bit; ``None`` is returned.
        """
        j = position - (self.n - 1)
        if self.cot and 0 <= j < self.k:
            return self.support[j]
        return None

    def sequences(self, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and targets for given input bits.

        Args:
            bits: ``(B, n)`` integer (or bool) tensor of 0/1.

        Returns:
            ``(tokens, targets)``, both long ``(B, T)``; ``targets[:, t] = tokens[:, t + 1]`` at the
            positions that predict a generated token, −100 elsewhere.
        """
        if not isinstance(bits, torch.Tensor) or bits.dim() != 2 or bits.shape[1] != self.n:
            raise ValueError(f"bits must have shape (B, {self.n})")
        bits = bits.long()
        if ((bits != 0) & (bits != 1)).any():
            raise ValueError("bits must be 0/1")
        z = running_parities(bits, self.support)
        tail = z if self.cot else z[:, -1:]
        tokens = torch.cat([bits, tail], dim=1)
        targets = torch.full_like(tokens, IGNORE_INDEX)
        targets[:, self.n - 1:-1] = tokens[:, self.n:]
        return tokens, targets

    def sample(self, m: int, *, generator: torch.Generator, device: torch.device | str | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` sequences with uniform input bits: ``(tokens, targets)``, each ``(m, T)``."""
        check_int("m", m, minimum=1)
        check_generator(generator)
        device = generator.device if device is None else torch.device(device)
        bits = torch.randint(0, 2, (m, self.n), generator=generator, device=device)
        return self.sequences(bits)

    def all_sequences(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """All 2^n sequences (n ≤ 20), input r having bit i equal to bit i of r."""
        check_int("n", self.n, maximum=20)
        r = torch.arange(2**self.n, device=device).unsqueeze(1)
        return self.sequences((r >> torch.arange(self.n, device=device)) & 1)

    def answers(self, tokens: torch.Tensor) -> torch.Tensor:
        """The correct answer z_k (0/1, long ``(B,)``) of sequences whose first n tokens are the inputs."""
        return running_parities(tokens[:, : self.n], self.support)[:, -1]

    def prefixes(self, tokens: torch.Tensor, *, pad: int = -1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One (prefix, next token) pair per generated token, for predictors without a sequence dimension.

        Returns:
            ``(prefix, next_token, position)``: ``prefix`` ``(B, P, T − 1)`` holds tokens 0..t of the
            sequence (position t = n − 1 + j for the j-th generated token) and ``pad`` after them;
            ``next_token`` ``(B, P)``; ``position`` ``(P,)`` the index t of the last prefix token.
            P = k with the chain and 1 without.
        """
        if tokens.dim() != 2 or tokens.shape[1] != self.length:
            raise ValueError(f"tokens must have shape (B, {self.length})")
        pos = torch.arange(self.n - 1, self.length - 1, device=tokens.device)
        cols = torch.arange(self.length - 1, device=tokens.device)
        keep = cols.view(1, -1) <= pos.view(-1, 1)  # (P, T-1)
        prefix = tokens[:, None, :-1].expand(-1, len(pos), -1).clone()
        prefix[:, ~keep] = pad
        return prefix, tokens[:, pos + 1], pos
