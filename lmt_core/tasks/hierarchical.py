"""Hierarchical targets g(p(x)) on Gaussian inputs, with a quadratic feature p (Chapter 6).

Inputs are x ~ N(0, I_n). The hidden feature is a centred, unit-variance quadratic form

    p(x) = x^T A x - tr(A),   A symmetric with ||A||_F = 1/sqrt(2),  so E[p] = 0, Var[p] = 1,

and the target is y = g(p(x)) for a scalar link g. The module also gives the orthonormal degree-≤2
Hermite feature map (the "infinite-width first layer" of the chapter) and the degree counting
that predicts the sample size of kernel methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from lmt_core._checks import check_generator, check_int

__all__ = ["LINKS", "QuadraticHierarchy", "random_quadratic_form", "quadratic_features",
           "num_quadratic_features", "num_monomials"]


def _sin_link(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * z) + z / 2


def _cubic_link(z: torch.Tensor) -> torch.Tensor:
    return z**3 / math.sqrt(15.0)


def _tanh_link(z: torch.Tensor) -> torch.Tensor:
    return torch.tanh(3 * z)


#: Named links g. All are odd, so that E[g''(z)] = 0 for z ~ N(0, 1), and all have a nonzero
#: first Hermite coefficient E[g(z) z]: ``sin`` is sin(2z) + z/2 (q = ∞, strongly nonlinear),
#: ``cubic`` is z^3/sqrt(15) (q = 3), ``tanh`` is tanh(3z).
LINKS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": _sin_link,
    "cubic": _cubic_link,
    "tanh": _tanh_link,
}


def random_quadratic_form(n: int, *, generator: torch.Generator) -> torch.Tensor:
    """A random symmetric n x n matrix A (GOE-like) scaled so that ||A||_F = 1/sqrt(2).

    Then p(x) = x^T A x - tr(A) has mean 0 and variance 2 ||A||_F^2 = 1 under N(0, I_n), and
    ||A||_op / ||A||_F is of order 2/sqrt(n): the feature is spread over all directions.
    """
    check_int("n", n, minimum=1)
    check_generator(generator)
    g = torch.randn(n, n, generator=generator, device=generator.device)
    a = (g + g.T) / 2
    return a / (a.norm() * math.sqrt(2.0))


def quadratic_features(x: torch.Tensor) -> torch.Tensor:
    """The orthonormal Hermite features of degree ≤ 2: 1, x_i, (x_i^2 - 1)/sqrt(2), x_i x_j (i < j).

    Under x ~ N(0, I_n) these D = 1 + n + n(n+1)/2 functions are orthonormal in L^2, and they span
    all polynomials of degree ≤ 2. So least squares on them is the L^2 projection P_{≤2}.

    Args:
        x: ``(m, n)``.

    Returns:
        ``(m, D)`` tensor, same dtype and device as ``x``.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise TypeError("x must be a tensor of shape (m, n)")
    n = x.shape[1]
    i, j = torch.triu_indices(n, n, 1, device=x.device)
    ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    return torch.cat([ones, x, (x * x - 1) / math.sqrt(2.0), x[:, i] * x[:, j]], dim=1)


def num_quadratic_features(n: int) -> int:
    """D = 1 + n + n(n+1)/2, the dimension of the polynomials of degree ≤ 2 in n variables."""
    check_int("n", n, minimum=1)
    return 1 + n + n * (n + 1) // 2


def num_monomials(n: int, degree: int) -> int:
    """The number of monomials of degree ≤ ``degree`` in n variables, binom(n + degree, degree).

    This is the dimension of the polynomials of degree ≤ ``degree``; a rotation-invariant kernel
    method needs about this many samples to fit a generic polynomial of that degree.
    """
    check_int("n", n, minimum=1)
    check_int("degree", degree, minimum=0)
    return math.comb(n + degree, degree)


@dataclass
class QuadraticHierarchy:
    """The target y = g(p(x)), p(x) = x^T A x - tr(A), x ~ N(0, I_n).

    Attributes:
        A: symmetric ``(n, n)`` matrix with ||A||_F = 1/sqrt(2) (see :func:`random_quadratic_form`).
        link: the name of a link in :data:`LINKS`.
    """

    A: torch.Tensor
    link: str = "sin"

    def __post_init__(self) -> None:
        if not isinstance(self.A, torch.Tensor) or self.A.dim() != 2 or self.A.shape[0] != self.A.shape[1]:
            raise TypeError("A must be a square matrix")
        if not torch.allclose(self.A, self.A.T):
            raise ValueError("A must be symmetric")
        if self.link not in LINKS:
            raise ValueError(f"link must be one of {tuple(LINKS)}, got {self.link!r}")

    @classmethod
    def random(cls, n: int, link: str = "sin", *, seed: int = 0, device: str | torch.device = "cpu"
               ) -> "QuadraticHierarchy":
        """A target with a random A drawn from a generator seeded with ``seed``."""
        gen = torch.Generator(device=device).manual_seed(int(seed))
        return cls(random_quadratic_form(n, generator=gen), link)

    @property
    def n(self) -> int:
        """The input dimension."""
        return self.A.shape[0]

    def feature(self, x: torch.Tensor) -> torch.Tensor:
        """p(x) = x^T A x - tr(A) for each row of ``x`` (shape ``(m, n)`` to ``(m,)``)."""
        a = self.A.to(dtype=x.dtype, device=x.device)
        return ((x @ a) * x).sum(-1) - a.trace()

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """y = g(p(x))."""
        return LINKS[self.link](self.feature(x))

    def sample(self, m: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` examples: x of shape ``(m, n)`` from N(0, I_n) and y = g(p(x)) of shape ``(m,)``."""
        check_int("m", m, minimum=1)
        check_generator(generator)
        x = torch.randn(m, self.n, generator=generator, device=generator.device, dtype=dtype)
        return x, self.label(x)
