"""Copying and in-context retrieval tasks for sequence models (Jelassi et al. 2024; Wen et al. 2024).

Every task returns ``(inputs, targets)`` ready for ``train.fit(..., loss="cross_entropy")``:
``inputs`` are integer tokens ``(B, T)`` and ``targets`` ``(B, T)`` hold the next token where it
is scored and :data:`IGNORE` (−100) everywhere else, so only the answer positions count.

- :class:`Copy` — ``BOS x_1 … x_L SEP x_1 … x_L``: read a random string, then repeat it.
- :class:`AssociativeRecall` — ``k_1 v_1 … k_N v_N  q_1 a_1 … q_M a_M``: a list of key–value
  pairs, then queries (keys from the list) whose answers are the values stored with them.

Plus :func:`ngram_copy`, the hard-attention copy mechanism of the two-layer construction (look up
the earlier occurrence of the current n-gram and output the token after it), written directly in
tensors, and :func:`has_repeated_ngram`, the condition under which it is guaranteed to work.
"""

from __future__ import annotations

import torch

from lmt_core._checks import check_int

__all__ = ["IGNORE", "Copy", "AssociativeRecall", "ngram_copy", "has_repeated_ngram",
           "token_accuracy"]

IGNORE = -100  # targets with this value do not count in the loss (train.IGNORE_INDEX)


class Copy:
    """The copy task over an alphabet of ``n_symbols`` symbols.

    A sequence is ``BOS x_1 … x_L SEP x_1 … x_L`` with ``x`` uniform over the symbols; the model
    reads it shifted by one (inputs ``seq[:-1]``, next-token targets ``seq[1:]``) and is scored on
    the ``L`` copied tokens only: the targets at input positions ``L+1, …, 2L`` (the ``SEP`` and
    the first ``L − 1`` copied tokens).

    Tokens: symbols ``0 … n_symbols−1``, ``BOS = n_symbols``, ``SEP = n_symbols + 1``;
    ``vocab_size = n_symbols + 2``.
    """

    def __init__(self, n_symbols: int) -> None:
        self.n_symbols = check_int("n_symbols", n_symbols, minimum=2)
        self.bos, self.sep = n_symbols, n_symbols + 1
        self.vocab_size = n_symbols + 2

    def strings(self, batch: int, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Uniformly random strings ``(batch, length)`` over the symbols."""
        check_int("batch", batch, minimum=1)
        check_int("length", length, minimum=1)
        return torch.randint(0, self.n_symbols, (batch, length), generator=generator)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets ``(B, 2L + 1)`` for the strings ``x`` of shape ``(B, L)``."""
        if x.dim() != 2:
            raise ValueError(f"x must have shape (B, L), got {tuple(x.shape)}")
        B, L = x.shape
        bos = torch.full((B, 1), self.bos, dtype=torch.long, device=x.device)
        sep = torch.full((B, 1), self.sep, dtype=torch.long, device=x.device)
        seq = torch.cat([bos, x.long(), sep, x.long()], dim=1)           # (B, 2L + 2)
        inputs, targets = seq[:, :-1], seq[:, 1:].clone()
        targets[:, : L + 1] = IGNORE                                      # only the copy is scored
        return inputs, targets

    def sample(self, batch: int, length: int, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of random strings of one length, encoded: ``(inputs, targets)``."""
        return self.encode(self.strings(batch, length, generator))


class AssociativeRecall:
    """Multi-query associative recall.

    A sequence is ``k_1 v_1 … k_N v_N q_1 a_1 … q_M a_M``: ``N`` distinct keys drawn from
    ``n_keys`` key tokens, each followed by a value drawn uniformly from ``n_values`` value tokens,
    then ``M`` queries, keys drawn uniformly from the ``N`` stored ones, each followed by its value.
    The model is scored on predicting each answer ``a_j`` at the position of ``q_j``.

    Tokens: keys ``0 … n_keys−1``, values ``n_keys … n_keys+n_values−1``;
    ``vocab_size = n_keys + n_values``.
    """

    def __init__(self, n_keys: int, n_values: int) -> None:
        self.n_keys = check_int("n_keys", n_keys, minimum=1)
        self.n_values = check_int("n_values", n_values, minimum=2)
        self.vocab_size = n_keys + n_values

    def sample(self, batch: int, n_pairs: int, n_queries: int, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets ``(batch, 2(n_pairs + n_queries) − 1)``."""
        check_int("batch", batch, minimum=1)
        check_int("n_pairs", n_pairs, minimum=1)
        check_int("n_queries", n_queries, minimum=1)
        if n_pairs > self.n_keys:
            raise ValueError(f"n_pairs={n_pairs} distinct keys need n_keys >= n_pairs, got {self.n_keys}")
        keys = torch.rand(batch, self.n_keys, generator=generator).argsort(1)[:, :n_pairs]
        values = self.n_keys + torch.randint(0, self.n_values, (batch, n_pairs), generator=generator)
        which = torch.randint(0, n_pairs, (batch, n_queries), generator=generator)
        q, a = keys.gather(1, which), values.gather(1, which)
        seq = torch.cat([torch.stack([keys, values], 2).flatten(1), torch.stack([q, a], 2).flatten(1)], 1)
        inputs, targets = seq[:, :-1], seq[:, 1:].clone()
        targets[:, : 2 * n_pairs] = IGNORE                                # only the answers count ...
        targets[:, 2 * n_pairs + 1 :: 2] = IGNORE                         # ... not the next query
        return inputs, targets


def token_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of scored positions (targets ≠ −100) where the arg-max of ``logits`` is right.

    ``logits`` ``(..., B, T, V)`` with targets ``(B, T)``; returns a tensor of shape ``(...)``."""
    mask = targets != IGNORE
    hit = (logits.argmax(-1) == targets) & mask
    return hit.flatten(-2).sum(-1).float() / mask.sum().clamp(min=1)


def has_repeated_ngram(x: torch.Tensor, n: int) -> torch.Tensor:
    """For strings ``x`` ``(B, L)``: whether some n-gram occurs at two different positions. ``(B,)``"""
    check_int("n", n, minimum=1)
    B, L = x.shape
    if L < n:
        return torch.zeros(B, dtype=torch.bool)
    grams = x.unfold(1, n, 1)                                             # (B, L − n + 1, n)
    same = (grams.unsqueeze(2) == grams.unsqueeze(1)).all(-1)              # (B, P, P)
    same &= ~torch.eye(L - n + 1, dtype=torch.bool)
    return same.flatten(1).any(1)


def ngram_copy(inputs: torch.Tensor, n: int, n_symbols: int) -> torch.Tensor:
    """The two-layer hard-attention copy mechanism, applied to copy-task inputs ``(B, 2L + 1)``.

    Layer 1 (local heads): position i stores a code of its n-gram, the tokens
    ``tok_{i−n+1}, …, tok_i`` with ``BOS`` and ``SEP`` read as one *delimiter* token and with the
    tokens before the last delimiter blanked out (so the n-gram of ``SEP x_1 … x_r`` equals the
    n-gram of ``BOS x_1 … x_r``). The code ``Σ_r c_{i−r} (V+2)^r`` is injective on n-grams.
    Layer 2 (a global head): position i attends to the earliest j < i with the same code and
    outputs the token at j + 1. Returns the predicted next tokens ``(B, 2L + 1)``; ``BOS`` where
    no earlier match exists.

    If the string has no repeated n-gram (:func:`has_repeated_ngram`), the predictions at the
    scored positions ``L+1, …, 2L`` are exactly the string.
    """
    check_int("n", n, minimum=1)
    if inputs.dim() != 2:
        raise ValueError(f"inputs must have shape (B, T), got {tuple(inputs.shape)}")
    B, T = inputs.shape
    bos, blank = n_symbols, n_symbols + 1                                   # SEP's code is reused as "blank"
    tok = inputs.long()
    is_delim = (tok == bos) | (tok == n_symbols + 1)
    c = torch.where(is_delim, torch.full_like(tok, bos), tok)                # BOS and SEP: one delimiter
    pos = torch.arange(T).expand(B, T)
    last_delim = torch.where(is_delim, pos, torch.full_like(pos, -1)).cummax(1).values
    since = pos - last_delim                                                 # distance to the last delimiter
    code = torch.zeros(B, T, dtype=torch.long)
    for r in range(n):                                                      # layer 1: read tok_{i-r}
        back = torch.cat([torch.full((B, r), blank, dtype=torch.long), c[:, : T - r]], dim=1)
        back = torch.where(since >= r, back, torch.full_like(back, blank))   # nothing before the delimiter
        code = code + back * (n_symbols + 2) ** r
    match = code.unsqueeze(2) == code.unsqueeze(1)                          # (B, T, T): code_i == code_j
    match &= torch.ones(T, T, dtype=torch.bool).tril(-1)                    # j < i: strictly earlier
    j_star = torch.where(match.any(-1), match.float().argmax(-1), torch.full((B, T), -1))  # earliest match
    nxt = torch.cat([tok[:, 1:], torch.full((B, 1), bos, dtype=torch.long)], dim=1)
    out = nxt.gather(1, j_star.clamp(min=0))                                # layer 2: the token after j*
    return torch.where(j_star >= 0, out, torch.full_like(out, bos))
