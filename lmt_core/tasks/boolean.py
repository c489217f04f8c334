"""Boolean tasks on the hypercube {±1}^n: sparse parities.

Convention: a point of the hypercube is a float tensor of ±1 entries; the parity (character) of a
set S ⊆ [n] is χ_S(x) = ∏_{i∈S} x_i.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from lmt_core._checks import check_int, check_generator

__all__ = ["random_signs", "parity", "hypercube", "SparseParity"]


def random_signs(
    m: int, n: int, *, generator: torch.Generator, device: torch.device | str | None = None
) -> torch.Tensor:
    """``m`` points drawn uniformly from {±1}^n.

    Returns:
        float32 tensor of shape ``(m, n)`` with entries ±1, on ``device`` (default: the
        generator's device).
    """
    check_int("m", m, minimum=1)
    check_int("n", n, minimum=1)
    check_generator(generator)
    device = generator.device if device is None else torch.device(device)
    bits = torch.randint(0, 2, (m, n), generator=generator, device=device)
    return (1 - 2 * bits).to(torch.float32)


def parity(x: torch.Tensor, support: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """χ_S(x) = ∏_{i∈S} x_i for each row of ``x``.

    Args:
        x: ``(..., n)`` tensor with ±1 entries.
        support: the set S, as distinct indices in ``[0, n)``. The empty set gives all ones.

    Returns:
        ``(...)`` tensor of ±1 (same dtype as ``x``).
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise TypeError("x must be a tensor of shape (..., n)")
    idx = torch.as_tensor(list(support) if not isinstance(support, torch.Tensor) else support,
                          dtype=torch.long, device=x.device)
    if idx.numel() and (idx.min() < 0 or idx.max() >= x.shape[-1]):
        raise ValueError(f"support indices must lie in [0, {x.shape[-1]}), got {idx.tolist()}")
    if idx.numel() == 0:
        return torch.ones(x.shape[:-1], dtype=x.dtype, device=x.device)
    return x.index_select(-1, idx).prod(dim=-1)


def hypercube(n: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """All 2^n points of {±1}^n, row r having x_i = (-1)^{bit i of r}.

    With this ordering the Walsh–Hadamard transform of a vector of values indexes the Fourier
    coefficient of S by the bit mask of S (see :func:`lmt_core.analysis.walsh_coefficients`).

    Returns:
        float32 tensor of shape ``(2**n, n)``.
    """
    check_int("n", n, minimum=1, maximum=24)
    r = torch.arange(2**n, device=device).unsqueeze(1)
    bits = (r >> torch.arange(n, device=device)) & 1
    return (1 - 2 * bits).to(torch.float32)


@dataclass(frozen=True)
class SparseParity:
    """The (n, k)-sparse parity task: x uniform on {±1}^n, y = χ_S(x) with |S| = k.

    Attributes:
        n: input dimension.
        support: the hidden set S (sorted indices).
        noise: probability of flipping each label (0 for the noiseless task).
    """

    n: int
    support: tuple[int, ...]
    noise: float = 0.0

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        s = tuple(int(i) for i in self.support)
        if len(set(s)) != len(s) or any(i < 0 or i >= self.n for i in s):
            raise ValueError(f"support must be distinct indices in [0, {self.n}), got {s}")
        if len(s) == 0:
            raise ValueError("support must contain at least one index (k >= 1)")
        if not 0.0 <= self.noise < 0.5:
            raise ValueError(f"noise must lie in [0, 0.5), got {self.noise}")
        object.__setattr__(self, "support", tuple(sorted(s)))

    @property
    def k(self) -> int:
        """The sparsity |S|."""
        return len(self.support)

    @classmethod
    def random(cls, n: int, k: int, *, seed: int = 0, noise: float = 0.0) -> "SparseParity":
        """A task whose support is a uniformly random k-subset of [n], drawn with ``seed``."""
        check_int("n", n, minimum=1)
        check_int("k", k, minimum=1)
        if k > n:
            raise ValueError(f"k must be at most n, got k={k} > n={n}")
        g = torch.Generator().manual_seed(int(seed))
        support = torch.randperm(n, generator=g)[:k].tolist()
        return cls(n=n, support=tuple(support), noise=noise)

    @classmethod
    def first(cls, n: int, k: int, *, noise: float = 0.0) -> "SparseParity":
        """The task with S = {0, ..., k-1} (convenient for plots; by symmetry no loss of generality)."""
        check_int("k", k, minimum=1)
        if k > n:
            raise ValueError(f"k must be at most n, got k={k} > n={n}")
        return cls(n=n, support=tuple(range(k)), noise=noise)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """Noiseless labels χ_S(x), shape ``x.shape[:-1]``."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have last dimension n={self.n}, got {tuple(x.shape)}")
        return parity(x, self.support)

    def sample(
        self, m: int, *, generator: torch.Generator, device: torch.device | str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` labelled examples.

        Call it once with a fixed generator for a fixed training sample, or at every step for
        online SGD (fresh samples).

        Returns:
            ``(x, y)`` with ``x`` of shape ``(m, n)`` and ``y`` of shape ``(m,)``, float ±1.
        """
        x = random_signs(m, self.n, generator=generator, device=device)
        y = self.label(x)
        if self.noise > 0:
            flip = torch.rand(m, generator=generator, device=x.device) < self.noise
            y = torch.where(flip, -y, y)
        return x, y
