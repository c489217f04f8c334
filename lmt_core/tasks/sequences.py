"""Sequence tasks: copying, in-context retrieval and bounded Dyck languages.

Every task follows the contract of :mod:`lmt_core.tasks.base`: a frozen dataclass whose
``sample(m, *, generator)`` returns ``(tokens, targets)``, both integer ``(m, T)`` tensors on
``generator.device``, with ``targets`` the next token where it is scored and
:data:`~lmt_core.tasks.base.IGNORE_INDEX` everywhere else, ready for
``train.fit(..., loss="cross_entropy")``.

- :class:`Copy` — ``BOS x_1 … x_L SEP x_1 … x_L``: read a random string, then repeat it
  (Jelassi et al. 2024).
- :class:`AssociativeRecall` — ``k_1 v_1 … k_N v_N  q_1 a_1 … q_M a_M``: a list of key–value
  pairs, then queries (keys from the list) whose answers are the values stored with them
  (Wen et al. 2024).
- :func:`ngram_copy` — the hard-attention copy mechanism of the two-layer construction (look up
  the earlier occurrence of the current n-gram and output the token after it), written directly
  in tensors; :func:`has_repeated_ngram` — the condition under which it is guaranteed to work.
- :class:`Dyck` — the bounded Dyck language Dyck_{k,D}: its stack machine, next-token sets and
  random valid prefixes as next-token data (Wen et al. 2023).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from lmt_core._checks import check_int, check_positive
from lmt_core.tasks.base import IGNORE_INDEX, check_tokens, device_of

__all__ = ["Copy", "AssociativeRecall", "ngram_copy", "has_repeated_ngram", "Dyck"]


# --------------------------------------------------------------------------- copy and recall


@dataclass(frozen=True)
class Copy:
    """The copy task: strings of ``length`` symbols over an alphabet of ``n_symbols``.

    A sequence is ``BOS x_1 … x_L SEP x_1 … x_L`` with ``x`` uniform over the symbols; the model
    reads it shifted by one (tokens ``seq[:-1]``, next-token targets ``seq[1:]``) and is scored on
    the ``L`` copied tokens only: the targets at token positions ``L+1, …, 2L`` (the ``SEP`` and
    the first ``L − 1`` copied tokens). ``T = 2L + 1``.

    Tokens: symbols ``0 … n_symbols−1``, ``BOS = n_symbols``, ``SEP = n_symbols + 1``;
    ``vocab_size = n_symbols + 2``. A chapter that sweeps the length makes one task per length,
    ``dataclasses.replace(task, length=L)``.

    Attributes:
        n_symbols: alphabet size D (at least 2).
        length: string length L (at least 1).
    """

    n_symbols: int
    length: int

    def __post_init__(self) -> None:
        check_int("n_symbols", self.n_symbols, minimum=2)
        check_int("length", self.length, minimum=1)

    @property
    def bos(self) -> int:
        """The start token, ``n_symbols``."""
        return self.n_symbols

    @property
    def sep(self) -> int:
        """The separator between the string and its copy, ``n_symbols + 1``."""
        return self.n_symbols + 1

    @property
    def vocab_size(self) -> int:
        """``n_symbols + 2`` (the symbols, ``BOS`` and ``SEP``)."""
        return self.n_symbols + 2

    def strings(self, m: int, *, generator: torch.Generator) -> torch.Tensor:
        """``m`` uniformly random strings, long ``(m, length)``, on ``generator.device``."""
        check_int("m", m, minimum=1)
        return torch.randint(
            0, self.n_symbols, (m, self.length), generator=generator, device=device_of(generator)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and targets ``(B, 2L + 1)`` for given strings ``x`` of shape ``(B, L)``.

        ``L`` is read from ``x`` (it need not equal ``self.length``); the result is on
        ``x.device``.
        """
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            raise ValueError(f"x must have shape (B, L), got {getattr(x, 'shape', x)!r}")
        B, L = x.shape
        bos = torch.full((B, 1), self.bos, dtype=torch.long, device=x.device)
        sep = torch.full((B, 1), self.sep, dtype=torch.long, device=x.device)
        seq = torch.cat([bos, x.long(), sep, x.long()], dim=1)  # (B, 2L + 2)
        tokens, targets = seq[:, :-1], seq[:, 1:].clone()
        targets[:, : L + 1] = IGNORE_INDEX  # only the copy is scored
        return tokens, targets

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` random strings, encoded: ``(tokens, targets)``, each long ``(m, 2L + 1)``."""
        return self.encode(self.strings(m, generator=generator))


@dataclass(frozen=True)
class AssociativeRecall:
    """Multi-query associative recall.

    A sequence is ``k_1 v_1 … k_N v_N q_1 a_1 … q_M a_M``: ``N`` distinct keys drawn from
    ``n_keys`` key tokens, each followed by a value drawn uniformly from ``n_values`` value
    tokens, then ``M`` queries, keys drawn uniformly from the ``N`` stored ones, each followed by
    its value. The model is scored on predicting each answer ``a_j`` at the position of ``q_j``.
    ``T = 2(N + M) − 1``.

    Tokens: keys ``0 … n_keys−1``, values ``n_keys … n_keys+n_values−1``;
    ``vocab_size = n_keys + n_values``.

    Attributes:
        n_keys: number of key tokens (at least ``n_pairs``).
        n_values: number of value tokens (at least 2).
        n_pairs: N, the pairs stored in each sequence.
        n_queries: M, the queries per sequence.
    """

    n_keys: int
    n_values: int
    n_pairs: int
    n_queries: int

    def __post_init__(self) -> None:
        check_int("n_keys", self.n_keys, minimum=1)
        check_int("n_values", self.n_values, minimum=2)
        check_int("n_pairs", self.n_pairs, minimum=1)
        check_int("n_queries", self.n_queries, minimum=1)
        if self.n_pairs > self.n_keys:
            raise ValueError(
                f"n_pairs={self.n_pairs} distinct keys need n_keys >= n_pairs, got {self.n_keys}"
            )

    @property
    def vocab_size(self) -> int:
        """``n_keys + n_values``."""
        return self.n_keys + self.n_values

    @property
    def length(self) -> int:
        """Sequence length ``T = 2(n_pairs + n_queries) − 1``."""
        return 2 * (self.n_pairs + self.n_queries) - 1

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, targets)``, each long ``(m, T)``, on ``generator.device``."""
        check_int("m", m, minimum=1)
        dev, N = device_of(generator), self.n_pairs
        # distinct keys: the first N of a uniformly random permutation of the key tokens
        keys = torch.rand(m, self.n_keys, generator=generator, device=dev).argsort(1)[:, :N]
        values = self.n_keys + torch.randint(
            0, self.n_values, (m, N), generator=generator, device=dev
        )
        which = torch.randint(0, N, (m, self.n_queries), generator=generator, device=dev)
        q, a = keys.gather(1, which), values.gather(1, which)
        seq = torch.cat(
            [torch.stack([keys, values], 2).flatten(1), torch.stack([q, a], 2).flatten(1)], 1
        )  # (m, 2(N + M))
        tokens, targets = seq[:, :-1], seq[:, 1:].clone()
        targets[:, : 2 * N] = IGNORE_INDEX  # only the answers count ...
        targets[:, 2 * N + 1 :: 2] = IGNORE_INDEX  # ... not the next query
        return tokens, targets


def has_repeated_ngram(x: torch.Tensor, n: int) -> torch.Tensor:
    """Whether some n-gram occurs at two different positions of each string.

    Args:
        x: strings, integer ``(B, L)``.
        n: the n-gram length (at least 1).

    Returns:
        bool ``(B,)`` on ``x.device``.
    """
    check_int("n", n, minimum=1)
    B, L = x.shape
    if L < n:
        return torch.zeros(B, dtype=torch.bool, device=x.device)
    grams = x.unfold(1, n, 1)  # (B, P, n), P = L − n + 1
    same = (grams.unsqueeze(2) == grams.unsqueeze(1)).all(-1)  # (B, P, P)
    same &= ~torch.eye(L - n + 1, dtype=torch.bool, device=x.device)
    return same.flatten(1).any(1)


def ngram_copy(tokens: torch.Tensor, n: int, n_symbols: int) -> torch.Tensor:
    """The two-layer hard-attention copy mechanism, applied to copy-task tokens ``(B, 2L + 1)``.

    Used in Chapter 9, § Two layers of attention copy exponentially long strings (the proof's
    construction, run on random strings).

    Layer 1 (local heads): position i stores a code of its n-gram, the tokens
    ``tok_{i−n+1}, …, tok_i`` with ``BOS`` and ``SEP`` read as one *delimiter* token and with the
    tokens before the last delimiter blanked out (so the n-gram of ``SEP x_1 … x_r`` equals the
    n-gram of ``BOS x_1 … x_r``). The code ``Σ_r c_{i−r} (V+2)^r`` is injective on n-grams.
    Layer 2 (a global head): position i attends to the earliest j < i with the same code and
    outputs the token at j + 1.

    If the string has no repeated n-gram (:func:`has_repeated_ngram`), the predictions at the
    scored positions ``L+1, …, 2L`` are exactly the string.

    Returns:
        the predicted next tokens, long ``(B, 2L + 1)`` on ``tokens.device``; ``BOS`` where no
        earlier match exists.
    """
    check_int("n", n, minimum=1)
    if tokens.dim() != 2:
        raise ValueError(f"tokens must have shape (B, T), got {tuple(tokens.shape)}")
    B, T = tokens.shape
    dev = tokens.device
    bos, blank = n_symbols, n_symbols + 1  # SEP's code is reused as "blank"
    tok = tokens.long()
    is_delim = (tok == bos) | (tok == n_symbols + 1)
    c = torch.where(is_delim, torch.full_like(tok, bos), tok)  # BOS and SEP: one delimiter
    pos = torch.arange(T, device=dev).expand(B, T)
    last_delim = torch.where(is_delim, pos, torch.full_like(pos, -1)).cummax(1).values
    since = pos - last_delim  # distance to the last delimiter
    code = torch.zeros(B, T, dtype=torch.long, device=dev)
    for r in range(n):  # layer 1: read tok_{i-r}
        back = torch.cat(
            [torch.full((B, r), blank, dtype=torch.long, device=dev), c[:, : T - r]], dim=1
        )
        back = torch.where(since >= r, back, torch.full_like(back, blank))  # nothing before it
        code = code + back * (n_symbols + 2) ** r
    match = code.unsqueeze(2) == code.unsqueeze(1)  # (B, T, T): code_i == code_j
    match &= torch.ones(T, T, dtype=torch.bool, device=dev).tril(-1)  # j < i: strictly earlier
    none = torch.full((B, T), -1, dtype=torch.long, device=dev)
    j_star = torch.where(match.any(-1), match.float().argmax(-1), none)  # earliest match
    nxt = torch.cat([tok[:, 1:], torch.full((B, 1), bos, dtype=torch.long, device=dev)], dim=1)
    out = nxt.gather(1, j_star.clamp(min=0))  # layer 2: the token after j*
    return torch.where(j_star >= 0, out, torch.full_like(out, bos))


# --------------------------------------------------------------------------- Dyck languages


@dataclass(frozen=True)
class Dyck:
    """The bounded Dyck language Dyck_{k,D}: k bracket types, nesting depth at most D.

    Tokens: opening brackets ``0 … k−1``, closing brackets ``k … 2k−1`` (token ``k + t`` closes
    ``t``), and ``BOS = 2k``, a start-of-sequence token that also serves as the *end* symbol in
    next-token sets; ``vocab_size = 2k + 1``. A string over the ``2k`` brackets is in Dyck_{k,D}
    when every closing bracket closes the most recent unmatched opening bracket of the same type,
    the number of unmatched brackets never exceeds D, and none is left open at the end. A leading
    ``BOS`` is neutral (it changes no state), so tokens with or without it scan alike.

    - :meth:`scan` runs the stack machine on a batch: depth, top-of-stack type and validity of
      every prefix; :meth:`allowed_next` the set of tokens that may follow each prefix (the
      ``BOS`` column means "the string may end here"); :meth:`is_member` decides membership.
    - :meth:`sample` is the task: next-token data on random valid prefixes of ``length``
      brackets; :meth:`prefixes` draws the prefixes themselves.
    - :meth:`all_strings` and :meth:`all_prefixes` enumerate short strings for exhaustive checks.

    Attributes:
        k: number of bracket types.
        D: maximal nesting depth.
        length: number of brackets in a sampled prefix (used by :meth:`sample`, :meth:`prefixes`).
        p_open: probability that the random walk opens a bracket when it may also close one.
    """

    k: int
    D: int
    length: int = 16
    p_open: float = 0.5

    def __post_init__(self) -> None:
        check_int("k", self.k, minimum=1)
        check_int("D", self.D, minimum=1)
        check_int("length", self.length, minimum=1)
        check_positive("p_open", self.p_open)
        if self.p_open >= 1:
            raise ValueError(f"p_open must be in (0, 1), got {self.p_open}")

    def __repr__(self) -> str:
        return f"Dyck(k={self.k}, D={self.D}, length={self.length})"

    @property
    def bos(self) -> int:
        """The start token ``2k`` (also the end symbol of next-token sets)."""
        return 2 * self.k

    @property
    def vocab_size(self) -> int:
        """``2k + 1``: the brackets and ``BOS``."""
        return 2 * self.k + 1

    def to_string(self, tokens: torch.Tensor | list[int], brackets: str = "()[]{}<>") -> str:
        """Human-readable form of one token sequence, e.g. ``'([])'`` (``BOS`` is written ``^``)."""
        if 2 * self.k > len(brackets):
            raise ValueError(f"brackets: need {2 * self.k} characters, got {len(brackets)}")
        out = []
        for t in [int(v) for v in tokens]:
            if t == self.bos:
                out.append("^")
            elif 0 <= t < self.k:
                out.append(brackets[2 * t])
            elif self.k <= t < 2 * self.k:
                out.append(brackets[2 * (t - self.k) + 1])
            else:
                raise ValueError(f"tokens: {t} is not in the vocabulary of {self!r}")
        return "".join(out)

    def scan(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the stack machine on ``tokens`` ``(B, T)``.

        Returns:
            a dict of ``(B, T)`` tensors on ``tokens.device``, entry ``[b, t]`` describing the
            prefix ``tokens[b, :t+1]``: ``depth`` (number of unmatched opening brackets), ``top``
            (type of the most recent unmatched opening bracket, −1 if none) and ``valid`` (the
            prefix can be extended to a member). After the first error the state is frozen and
            ``valid`` stays False.
        """
        x = check_tokens(tokens, self.vocab_size)
        B, T = x.shape
        dev = x.device
        stack = torch.full((B, self.D + 1), -1, dtype=torch.long, device=dev)  # slot D: overflow
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
        return {
            "depth": torch.stack(depths, 1),
            "top": torch.stack(tops, 1),
            "valid": torch.stack(valids, 1),
        }

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

    def prefixes(self, m: int, *, generator: torch.Generator) -> torch.Tensor:
        """``m`` random valid prefixes, long ``(m, length)`` (no ``BOS``), on ``generator.device``.

        A random walk on the stack: at each step, if both are possible, open a bracket with
        probability ``p_open`` (of a uniformly random type) or close the top one; at depth 0
        always open, at depth D always close.
        """
        check_int("m", m, minimum=1)
        dev = device_of(generator)
        stack = torch.full((m, self.D), -1, dtype=torch.long, device=dev)
        depth = torch.zeros(m, dtype=torch.long, device=dev)
        rows = torch.arange(m, device=dev)
        out = torch.empty(m, self.length, dtype=torch.long, device=dev)
        for t in range(self.length):
            u = torch.rand(m, generator=generator, device=dev)
            kind = torch.randint(0, self.k, (m,), generator=generator, device=dev)
            opening = (depth == 0) | ((depth < self.D) & (u < self.p_open))
            top = stack[rows, (depth - 1).clamp(min=0)]
            out[:, t] = torch.where(opening, kind, self.k + top)
            stack[rows[opening], depth[opening]] = kind[opening]
            depth = depth + opening.long() - (~opening).long()
        return out

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Next-token prediction on random valid prefixes ``x`` of :meth:`prefixes`.

        Returns:
            ``(tokens, targets)``, each long ``(m, length)``: tokens ``BOS x_1 … x_{T−1}``,
            targets ``x_1 … x_T`` (every position is scored). ``targets`` are the prefixes
            themselves, so :meth:`allowed_next` of ``tokens`` gives the next-token sets.
        """
        x = self.prefixes(m, generator=generator)
        return self.with_bos(x[:, :-1]), x

    def all_strings(self, length: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
        """All ``(2k)^length`` bracket strings of this length, long ``((2k)^length, length)``."""
        check_int("length", length, minimum=0)
        if (2 * self.k) ** length > 5_000_000:
            raise ValueError(
                f"length: (2k)^length = {(2 * self.k) ** length} strings is too many to enumerate"
            )
        if length == 0:
            return torch.zeros(1, 0, dtype=torch.long, device=device)
        rows = list(itertools.product(range(2 * self.k), repeat=length))
        return torch.tensor(rows, dtype=torch.long, device=device)

    def all_prefixes(self, length: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
        """All valid prefixes (strings that extend to a member) of exactly this length.

        In lexicographic order; built by extending valid prefixes one allowed token at a time.
        Returns a long tensor ``(count, length)`` on ``device``.
        """
        check_int("length", length, minimum=0)
        x = torch.zeros(1, 0, dtype=torch.long, device=device)
        for _ in range(length):
            if x.shape[1] == 0:
                allowed = torch.zeros(1, self.vocab_size, dtype=torch.bool, device=device)
                allowed[0, : self.k] = True
            else:
                allowed = self.allowed_next(x)[:, -1]
            allowed[:, self.bos] = False
            row, tok = torch.nonzero(allowed, as_tuple=True)
            x = torch.cat([x[row], tok.unsqueeze(1)], 1)
        return x

    def with_bos(self, strings: torch.Tensor) -> torch.Tensor:
        """Prepend ``BOS`` to every row of ``strings`` ``(B, T)`` → ``(B, T + 1)``."""
        x = check_tokens(strings, self.vocab_size)
        bos = torch.full((x.shape[0], 1), self.bos, dtype=torch.long, device=x.device)
        return torch.cat([bos, x], 1)
