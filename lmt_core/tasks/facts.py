"""Synthetic factual recall: subject–relation–answer facts (Nichani, Lee, Bietti 2024).

A fact base has ``S`` subjects and ``R`` relations. Relation ``r`` has its own set of ``D``
possible answers ``A_r`` (the sets of different relations are disjoint, as "birth year" and
"capital city" have different kinds of answers), and every pair ``(s, r)`` has one answer
``a*(s, r) ∈ A_r``. A query is a short sequence of tokens

    [noise, …, s, …, noise, r]

with the subject at a random position among the first ``T − 1``, noise tokens elsewhere and the
relation last; the target is ``a*(s, r)``.

Token ids: subjects ``0 … S−1``, relations ``S … S+R−1``, noise ``S+R … S+R+n_noise−1``;
``vocab_size = S + R + n_noise``. Answers are *output classes* ``0 … R·D−1``, class
``r·D + j`` being the j-th answer of relation r, so a model reads out ``n_out = R·D`` logits.

The answers are *balanced*: within a relation, every answer belongs to exactly ``S / D`` subjects
(``D`` must divide ``S``). Then the best predictor that ignores the subject, uniform on ``A_r``,
has cross-entropy exactly ``log D`` (:meth:`Facts.relation_only_loss`).
"""

from __future__ import annotations

import math

import torch

from lmt_core._checks import check_int

__all__ = ["Facts"]


class Facts:
    """A random, balanced fact base and the query sequences that ask for its facts.

    Args:
        n_subjects: S.
        n_relations: R.
        answers_per_relation: D, the size of each answer set A_r; must divide S.
        seq_len: T ≥ 2, the length of a query (subject, T − 2 noise tokens, relation).
        n_noise: number of distinct noise tokens (≥ 1 when T > 2).
        seed: seed of the fact base (which subject gets which answer).

    Attributes:
        answers: ``(S, R)`` tensor of answer classes, ``answers[s, r] ∈ {r·D, …, r·D + D − 1}``.
        vocab_size, n_answers: input vocabulary size and ``R·D``.
    """

    def __init__(self, n_subjects: int, n_relations: int, answers_per_relation: int, *,
                 seq_len: int = 4, n_noise: int = 8, seed: int = 0) -> None:
        self.S = check_int("n_subjects", n_subjects, minimum=1)
        self.R = check_int("n_relations", n_relations, minimum=1)
        self.D = check_int("answers_per_relation", answers_per_relation, minimum=1)
        self.T = check_int("seq_len", seq_len, minimum=2)
        self.n_noise = check_int("n_noise", n_noise, minimum=1 if seq_len > 2 else 0)
        check_int("seed", seed, minimum=0)
        if self.S % self.D:
            raise ValueError(f"answers_per_relation={self.D} must divide n_subjects={self.S} "
                             "(balanced answers)")
        g = torch.Generator().manual_seed(int(seed))
        # relation r: a random permutation of S subjects, cut into D equal groups, one per answer
        cols = [r * self.D + torch.randperm(self.S, generator=g) % self.D for r in range(self.R)]
        self.answers = torch.stack(cols, dim=1)                              # (S, R)
        self.vocab_size = self.S + self.R + self.n_noise
        self.n_answers = self.R * self.D

    @property
    def n_facts(self) -> int:
        """S · R."""
        return self.S * self.R

    def relation_token(self, r: torch.Tensor | int) -> torch.Tensor | int:
        """Token id of relation ``r``."""
        return r + self.S

    def answer_set(self, r: int) -> torch.Tensor:
        """The D answer classes of relation ``r``."""
        check_int("r", r, minimum=0, maximum=self.R - 1)
        return torch.arange(r * self.D, (r + 1) * self.D)

    def encode(self, s: torch.Tensor, r: torch.Tensor, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Query sequences ``(B, T)`` and answer classes ``(B,)`` for subjects ``s`` and relations ``r`` (B,).

        The subject goes to a uniformly random position among the first T − 1, noise tokens
        (uniform) fill the other positions, the relation is last.
        """
        s, r = torch.as_tensor(s).long().reshape(-1), torch.as_tensor(r).long().reshape(-1)
        if s.shape != r.shape:
            raise ValueError(f"s and r must have the same length, got {s.numel()} and {r.numel()}")
        if s.numel() and (s.min() < 0 or s.max() >= self.S or r.min() < 0 or r.max() >= self.R):
            raise ValueError(f"subjects must lie in [0, {self.S}) and relations in [0, {self.R})")
        B, T = s.numel(), self.T
        dev = generator.device if generator is not None else torch.device("cpu")
        if T > 2:
            x = self.S + self.R + torch.randint(0, self.n_noise, (B, T), generator=generator, device=dev)
        else:
            x = torch.empty(B, T, dtype=torch.long, device=dev)
        pos = torch.randint(0, T - 1, (B,), generator=generator, device=dev)
        s, r = s.to(dev), r.to(dev)
        x[torch.arange(B, device=dev), pos] = s
        x[:, -1] = r + self.S
        return x, self.answers.to(dev)[s, r]

    def sample(self, batch: int, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch`` queries for facts drawn uniformly (with replacement): ``(B, T)``, ``(B,)``."""
        check_int("batch", batch, minimum=1)
        dev = generator.device if generator is not None else torch.device("cpu")
        i = torch.randint(0, self.n_facts, (batch,), generator=generator, device=dev)
        return self.encode(i // self.R, i % self.R, generator)

    def all_facts(self, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Every fact once (subject-major order), with random noise: ``(S·R, T)``, ``(S·R,)``."""
        i = torch.arange(self.n_facts)
        return self.encode(i // self.R, i % self.R, generator)

    def relation_only_loss(self) -> float:
        """Cross-entropy of the best subject-blind predictor, the empirical H(a | r) (= log D here)."""
        h = 0.0
        for r in range(self.R):
            counts = torch.bincount(self.answers[:, r] - r * self.D, minlength=self.D).double()
            p = counts[counts > 0] / self.S
            h -= float((p * p.log()).sum())
        return h / self.R

    def relation_only_logits(self, r: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, R·D)`` of the relation-only predictor (uniform on A_r, −inf elsewhere)."""
        r = torch.as_tensor(r).long().reshape(-1)
        out = torch.full((r.numel(), self.n_answers), float("-inf"))
        cls = torch.arange(self.n_answers)
        out[(cls // self.D).unsqueeze(0) == r.unsqueeze(1)] = -math.log(self.D)
        return out

    def __repr__(self) -> str:
        return (f"Facts(S={self.S}, R={self.R}, D={self.D}, T={self.T}, n_noise={self.n_noise}, "
                f"facts={self.n_facts}, vocab={self.vocab_size}, answers={self.n_answers})")
