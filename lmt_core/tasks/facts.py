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
from dataclasses import dataclass, field

import torch

from lmt_core._checks import check_int
from lmt_core.tasks.base import device_of

__all__ = ["Facts"]


@dataclass(frozen=True)
class Facts:
    """A random, balanced fact base and the query sequences that ask for its facts.

    Attributes:
        n_subjects: S.
        n_relations: R.
        answers_per_relation: D, the size of each answer set A_r; must divide S.
        seq_len: T ≥ 2, the length of a query (subject, T − 2 noise tokens, relation).
        n_noise: number of distinct noise tokens (≥ 1 when T > 2).
        seed: seed of the fact base (which subject gets which answer).
        answers: ``(S, R)`` int64 tensor of answer classes on the CPU (computed),
            ``answers[s, r] ∈ {r·D, …, r·D + D − 1}``.

    ``sample(m, generator=g)`` returns queries ``(m, T)`` and answer classes ``(m,)``.
    """

    n_subjects: int
    n_relations: int
    answers_per_relation: int
    seq_len: int = 4
    n_noise: int = 8
    seed: int = 0
    answers: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        S = check_int("n_subjects", self.n_subjects, minimum=1)
        R = check_int("n_relations", self.n_relations, minimum=1)
        D = check_int("answers_per_relation", self.answers_per_relation, minimum=1)
        check_int("seq_len", self.seq_len, minimum=2)
        check_int("n_noise", self.n_noise, minimum=1 if self.seq_len > 2 else 0)
        check_int("seed", self.seed, minimum=0)
        if S % D:
            raise ValueError(
                f"answers_per_relation={D} must divide n_subjects={S} (balanced answers)"
            )
        g = torch.Generator(device="cpu").manual_seed(int(self.seed))
        # relation r: a random permutation of S subjects, cut into D equal groups, one per answer
        cols = [r * D + torch.randperm(S, generator=g, device="cpu") % D for r in range(R)]
        object.__setattr__(self, "answers", torch.stack(cols, dim=1))  # (S, R)

    @property
    def S(self) -> int:
        """Number of subjects."""
        return self.n_subjects

    @property
    def R(self) -> int:
        """Number of relations."""
        return self.n_relations

    @property
    def D(self) -> int:
        """Number of answers of each relation."""
        return self.answers_per_relation

    @property
    def T(self) -> int:
        """Query length."""
        return self.seq_len

    @property
    def vocab_size(self) -> int:
        """Input vocabulary S + R + n_noise."""
        return self.S + self.R + self.n_noise

    @property
    def n_answers(self) -> int:
        """Number of answer classes R · D."""
        return self.R * self.D

    @property
    def n_facts(self) -> int:
        """S · R."""
        return self.S * self.R

    def relation_token(self, r: torch.Tensor | int) -> torch.Tensor | int:
        """Token id of relation ``r``."""
        return r + self.S

    def answer_set(self, r: int) -> torch.Tensor:
        """The D answer classes of relation ``r`` (int64 on the CPU)."""
        check_int("r", r, minimum=0, maximum=self.R - 1)
        return torch.arange(r * self.D, (r + 1) * self.D, device="cpu")

    def encode(
        self, s: torch.Tensor, r: torch.Tensor, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Queries ``(B, T)`` and answer classes ``(B,)`` for subjects ``s`` and relations ``r``
        (``(B,)`` each), on ``generator.device``.

        The subject goes to a uniformly random position among the first T − 1, noise tokens
        (uniform) fill the other positions, the relation is last.
        """
        dev = device_of(generator)
        # as_tensor with an explicit device: without one, it moves s to the default device
        s = torch.as_tensor(s, device=dev).long().reshape(-1)
        r = torch.as_tensor(r, device=dev).long().reshape(-1)
        if s.shape != r.shape:
            raise ValueError(f"s and r must have the same length, got {s.numel()} and {r.numel()}")
        if (
            s.numel()
            and dev.type != "meta"
            and (s.min() < 0 or s.max() >= self.S or r.min() < 0 or r.max() >= self.R)
        ):
            raise ValueError(f"subjects must lie in [0, {self.S}) and relations in [0, {self.R})")
        B, T = s.numel(), self.T
        if T > 2:
            noise = torch.randint(0, self.n_noise, (B, T), generator=generator, device=dev)
            x = self.S + self.R + noise
        else:
            x = torch.empty(B, T, dtype=torch.long, device=dev)
        pos = torch.randint(0, T - 1, (B,), generator=generator, device=dev)
        x[torch.arange(B, device=dev), pos] = s
        x[:, -1] = r + self.S
        return x, self.answers.to(dev)[s, r]

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` queries for facts drawn uniformly (with replacement): int64 ``(m, T)`` and
        ``(m,)`` on ``generator.device``."""
        check_int("m", m, minimum=1)
        dev = device_of(generator)
        i = torch.randint(0, self.n_facts, (m,), generator=generator, device=dev)
        return self.encode(i // self.R, i % self.R, generator=generator)

    def all_facts(self, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Every fact once (subject-major order), with random noise: ``(S·R, T)``, ``(S·R,)``,
        on ``generator.device``."""
        i = torch.arange(self.n_facts, device=device_of(generator))
        return self.encode(i // self.R, i % self.R, generator=generator)

    def relation_only_loss(self) -> float:
        """Cross-entropy of the best subject-blind predictor, the empirical H(a | r)
        (= log D here)."""
        h = 0.0
        for r in range(self.R):
            counts = torch.bincount(self.answers[:, r] - r * self.D, minlength=self.D).double()
            p = counts[counts > 0] / self.S
            h -= float((p * p.log()).sum())
        return h / self.R

    def relation_only_logits(self, r: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, R·D)`` of the relation-only predictor (uniform on A_r, −inf elsewhere),
        for relations ``r`` ``(B,)``, on ``r.device``."""
        r = r if isinstance(r, torch.Tensor) else torch.as_tensor(r, device="cpu")
        r = r.long().reshape(-1)
        out = torch.full((r.numel(), self.n_answers), float("-inf"), device=r.device)
        cls = torch.arange(self.n_answers, device=r.device)
        out[(cls // self.D).unsqueeze(0) == r.unsqueeze(1)] = -math.log(self.D)
        return out

    def __repr__(self) -> str:
        return (
            f"Facts(S={self.S}, R={self.R}, D={self.D}, T={self.T}, n_noise={self.n_noise}, "
            f"facts={self.n_facts}, vocab={self.vocab_size}, answers={self.n_answers})"
        )
