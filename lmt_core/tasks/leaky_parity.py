"""Sparse parities under a mixture distribution that leaks the relevant coordinates.

The distribution D_{S,α} on {±1}^n of the Daniely–Malach separation (Chapter 3): with probability
1 − α, x is uniform on the cube (the *uniform component*); with probability α, the coordinates in S
are all set to +1 and the others are uniform (the *leaky component*). The label is always the
parity y = χ_S(x). On the leaky component y = +1 and E[y x_i] = 1 for i ∈ S, which is what a
gradient step can read; the uniform component is the hard part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from lmt_core._checks import check_generator, check_int
from lmt_core.tasks.boolean import parity, random_signs

__all__ = ["LeakySample", "LeakyParity"]


class LeakySample(NamedTuple):
    """A labelled sample from :class:`LeakyParity`.

    Attributes:
        x: inputs, ``(m, n)`` float ±1.
        y: labels χ_S(x), ``(m,)`` float ±1.
        leaky: ``(m,)`` bool, True for the examples drawn from the leaky component.
    """

    x: torch.Tensor
    y: torch.Tensor
    leaky: torch.Tensor


@dataclass(frozen=True)
class LeakyParity:
    """The (n, k)-sparse parity under the leaky mixture D_{S,α}.

    Attributes:
        n: input dimension.
        support: the hidden set S (sorted indices), |S| = k ≥ 1.
        alpha: weight α ∈ [0, 1) of the leaky component (α = 0 is the plain uniform task).
    """

    n: int
    support: tuple[int, ...]
    alpha: float = 0.5

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        s = tuple(int(i) for i in self.support)
        if len(s) == 0 or len(set(s)) != len(s) or any(i < 0 or i >= self.n for i in s):
            raise ValueError(f"support must be k >= 1 distinct indices in [0, {self.n}), got {s}")
        if isinstance(self.alpha, bool) or not 0.0 <= float(self.alpha) < 1.0:
            raise ValueError(f"alpha must lie in [0, 1), got {self.alpha!r}")
        object.__setattr__(self, "support", tuple(sorted(s)))
        object.__setattr__(self, "alpha", float(self.alpha))

    @property
    def k(self) -> int:
        """The sparsity |S|."""
        return len(self.support)

    @classmethod
    def random(cls, n: int, k: int, *, alpha: float = 0.5, seed: int = 0) -> "LeakyParity":
        """A task whose support is a uniformly random k-subset of [n], drawn with ``seed``."""
        check_int("n", n, minimum=1)
        check_int("k", k, minimum=1, maximum=n)
        g = torch.Generator().manual_seed(int(seed))
        return cls(n=n, support=tuple(torch.randperm(n, generator=g)[:k].tolist()), alpha=alpha)

    @classmethod
    def first(cls, n: int, k: int, *, alpha: float = 0.5) -> "LeakyParity":
        """The task with S = {0, ..., k-1}."""
        check_int("k", k, minimum=1, maximum=n)
        return cls(n=n, support=tuple(range(k)), alpha=alpha)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """Labels χ_S(x), shape ``x.shape[:-1]``."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have last dimension n={self.n}, got {tuple(x.shape)}")
        return parity(x, self.support)

    def sample_with_components(
        self, m: int, *, generator: torch.Generator, device: torch.device | str | None = None
    ) -> LeakySample:
        """Draw ``m`` examples and say which component each came from (see :class:`LeakySample`)."""
        check_int("m", m, minimum=1)
        check_generator(generator)
        x = random_signs(m, self.n, generator=generator, device=device)
        leaky = torch.rand(m, generator=generator, device=x.device) < self.alpha
        idx = torch.tensor(self.support, device=x.device)
        x[:, idx] = torch.where(leaky[:, None], torch.ones_like(x[:, idx]), x[:, idx])
        return LeakySample(x, self.label(x), leaky)

    def sample(
        self, m: int, *, generator: torch.Generator, device: torch.device | str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` labelled examples ``(x, y)`` from D_{S,α} (for ``train.fit`` batches)."""
        s = self.sample_with_components(m, generator=generator, device=device)
        return s.x, s.y

    def sample_uniform_part(
        self, m: int, *, generator: torch.Generator, device: torch.device | str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` examples from the uniform component only (x uniform, y = χ_S(x))."""
        x = random_signs(m, self.n, generator=generator, device=device)
        return x, self.label(x)

    def leak_bayes_accuracy_uniform(self) -> float:
        """Best accuracy on the uniform component of a predictor that sees x only through the leak
        indicator 1[x_S = (1, ..., 1)]. The best such predictor says +1 on the event (where
        χ_S = 1) and −1 off it, where χ_S = −1 on 2^{k-1} of the 2^k − 1 remaining patterns of x_S;
        its accuracy is 2^{-k} + 2^{k-1} / 2^k = 1/2 + 2^{-k}.
        """
        return 0.5 + 2.0 ** (-self.k)
