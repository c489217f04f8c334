"""Gaussian tasks on x ~ N(0, I_n): single- and multi-index models (Chapter 5) and the
hierarchical target g(p(x)) with a quadratic feature p (Chapter 6).

* :func:`gaussian_inputs`, :func:`random_orthonormal`, :func:`random_unit_vector`,
  :func:`unit_vector_with_overlap` — inputs and random directions.
* :class:`SingleIndex` — y = σ_⋆(w_⋆·x) (+ noise); :class:`MultiIndex` — y = g(V x) (+ noise) for
  a ``(P, n)`` matrix V with orthonormal rows.
* :class:`QuadraticHierarchy` — y = g(p(x)) with p(x) = x^T A x − tr(A), A symmetric with
  ||A||_F = 1/sqrt(2), so that E[p] = 0 and Var[p] = 1 (:func:`random_quadratic_form`,
  :data:`HIERARCHY_LINKS`); :func:`quadratic_features` is the orthonormal degree-≤2 Hermite
  feature map (the chapter's "infinite-width first layer"), and :func:`num_quadratic_features`,
  :func:`num_monomials` the degree counting that predicts the sample size of kernel methods.

Convention for orthonormal frames: :func:`random_orthonormal` returns a ``(p, n)`` matrix whose
*rows* are orthonormal (a frame of p directions in R^n, the layout of ``MultiIndex.directions``);
take ``.T`` for orthonormal columns. Every sampler takes an explicit ``torch.Generator`` and
returns tensors on its device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from lmt_core._checks import check_generator, check_int, check_positive

__all__ = [
    "gaussian_inputs",
    "random_unit_vector",
    "random_orthonormal",
    "unit_vector_with_overlap",
    "SingleIndex",
    "MultiIndex",
    "HIERARCHY_LINKS",
    "QuadraticHierarchy",
    "random_quadratic_form",
    "quadratic_features",
    "num_quadratic_features",
    "num_monomials",
]


def gaussian_inputs(
    m: int, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``m`` inputs x ~ N(0, I_n), shape ``(m, n)``, on the generator's device."""
    check_int("m", m, minimum=1)
    check_int("n", n, minimum=1)
    check_generator(generator)
    return torch.randn(m, n, generator=generator, device=generator.device, dtype=dtype)


def random_orthonormal(
    n: int, p: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A uniformly random ``(p, n)`` matrix with orthonormal rows (Haar measure on the Stiefel
    manifold), on the generator's device.

    The QR factorisation runs in float64 whatever ``dtype``; use ``.T`` for orthonormal columns.
    """
    check_int("n", n, minimum=1)
    check_int("p", p, minimum=1, maximum=n)
    check_generator(generator)
    g = torch.randn(n, p, generator=generator, device=generator.device, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # sign fix makes the law uniform
    return q.T.contiguous().to(dtype)


def random_unit_vector(
    n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A uniformly random unit vector of R^n, shape ``(n,)``."""
    return random_orthonormal(n, 1, generator=generator, dtype=dtype)[0]


def unit_vector_with_overlap(
    w_star: torch.Tensor,
    overlap: float | torch.Tensor,
    *,
    generator: torch.Generator,
    batch: int | None = None,
) -> torch.Tensor:
    """Unit vectors w with w·w_⋆ = ``overlap`` and a uniformly random orthogonal part.

    Args:
        w_star: unit vector of shape ``(n,)``.
        overlap: a number in [-1, 1] (or a tensor broadcastable to ``(batch,)``).
        batch: if given, return ``(batch, n)`` independent vectors; else ``(n,)``.

    Returns:
        tensor on the device and with the dtype of ``w_star``.
    """
    check_generator(generator)
    n = w_star.shape[-1]
    b = 1 if batch is None else check_int("batch", batch, minimum=1)
    g = torch.randn(b, n, generator=generator, device=generator.device, dtype=w_star.dtype)
    g = g.to(w_star.device)
    g = g - (g @ w_star).unsqueeze(1) * w_star
    u = g / g.norm(dim=1, keepdim=True)
    a = torch.as_tensor(overlap, dtype=w_star.dtype, device=w_star.device).reshape(-1, 1)
    if (a.abs() > 1).any():
        raise ValueError("overlap must lie in [-1, 1]")
    w = a * w_star + torch.sqrt(1 - a**2) * u
    return w[0] if batch is None else w


class _GaussianRegression:
    """The sampler shared by the index models: x ~ N(0, I_n), y = label(x) + noise·ξ."""

    noise: float

    @property
    def n(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def _dtype(self) -> torch.dtype:  # pragma: no cover - overridden
        raise NotImplementedError

    def label(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` fresh pairs on ``generator.device``: x of shape ``(m, n)``, y of shape ``(m,)``."""
        x = gaussian_inputs(m, self.n, generator=generator, dtype=self._dtype)
        y = self.label(x)
        if self.noise > 0:
            xi = torch.randn(m, generator=generator, device=generator.device, dtype=y.dtype)
            y = y + self.noise * xi
        return x, y


@dataclass(frozen=True, eq=False)
class SingleIndex(_GaussianRegression):
    """y = σ_⋆(w_⋆·x) + noise·ξ with x ~ N(0, I_n), ξ ~ N(0, 1).

    Attributes:
        w_star: unit vector of shape ``(n,)``.
        link: σ_⋆, applied elementwise to a tensor.
        noise: label-noise standard deviation (default 0).
    """

    w_star: torch.Tensor
    link: Callable[[torch.Tensor], torch.Tensor]
    noise: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.w_star, torch.Tensor) or self.w_star.dim() != 1:
            raise TypeError("w_star must be a 1-d tensor")
        norm = float(self.w_star.norm())
        if abs(norm - 1) > 1e-4:
            raise ValueError(f"w_star must be a unit vector, has norm {norm:.6f}")
        check_positive("noise", self.noise, allow_zero=True)

    @property
    def n(self) -> int:
        """The input dimension."""
        return self.w_star.shape[0]

    @property
    def _dtype(self) -> torch.dtype:
        return self.w_star.dtype

    @classmethod
    def random(
        cls,
        n: int,
        link: Callable[[torch.Tensor], torch.Tensor],
        *,
        seed: int = 0,
        noise: float = 0.0,
        device: torch.device | str = "cpu",
    ) -> "SingleIndex":
        """A model with w_⋆ uniform on the unit sphere of R^n, drawn from ``seed`` on ``device``."""
        gen = torch.Generator(device=device).manual_seed(seed)
        return cls(random_unit_vector(n, generator=gen), link, noise)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """σ_⋆(w_⋆·x) for each row of ``x`` (no noise), shape ``(m,)``."""
        return self.link(x @ self.w_star.to(device=x.device, dtype=x.dtype))


@dataclass(frozen=True, eq=False)
class MultiIndex(_GaussianRegression):
    """y = g(V x) + noise·ξ with V of shape ``(P, n)`` with orthonormal rows.

    Attributes:
        directions: V; its rows v_1, ..., v_P are the relevant directions.
        g: a function of the ``(..., P)`` projections returning ``(...)``.
        noise: label-noise standard deviation.
    """

    directions: torch.Tensor
    g: Callable[[torch.Tensor], torch.Tensor]
    noise: float = 0.0

    def __post_init__(self) -> None:
        V = self.directions
        if not isinstance(V, torch.Tensor) or V.dim() != 2:
            raise TypeError("directions must be a (P, n) tensor")
        eye = torch.eye(V.shape[0], dtype=V.dtype, device=V.device)
        if (V @ V.T - eye).abs().max() > 1e-4:
            raise ValueError("the rows of directions must be orthonormal")
        check_positive("noise", self.noise, allow_zero=True)

    @property
    def n(self) -> int:
        """The input dimension."""
        return self.directions.shape[1]

    @property
    def _dtype(self) -> torch.dtype:
        return self.directions.dtype

    @classmethod
    def orthogonal_sum(
        cls,
        n: int,
        p: int,
        link: Callable[[torch.Tensor], torch.Tensor],
        *,
        seed: int = 0,
        noise: float = 0.0,
        device: torch.device | str = "cpu",
    ) -> "MultiIndex":
        """The orthogonal multi-index model y = Σ_{q=1}^P φ(v_q·x) with random orthonormal v_q."""
        gen = torch.Generator(device=device).manual_seed(seed)
        V = random_orthonormal(n, p, generator=gen)
        return cls(V, lambda z: link(z).sum(-1), noise)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """g(V x) for each row of ``x`` (no noise), shape ``(m,)``."""
        return self.g(x @ self.directions.to(device=x.device, dtype=x.dtype).T)


# ---- the hierarchical model of Chapter 6 ---------------------------------------------------


def _sin_link(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * z) + z / 2


def _cubic_link(z: torch.Tensor) -> torch.Tensor:
    return z**3 / math.sqrt(15.0)


def _tanh_link(z: torch.Tensor) -> torch.Tensor:
    return torch.tanh(3 * z)


#: Named links g of :class:`QuadraticHierarchy`. All are odd, so that E[g''(z)] = 0 for
#: z ~ N(0, 1), and all have a nonzero first Hermite coefficient E[g(z) z]: ``sin`` is
#: sin(2z) + z/2 (q = ∞, strongly nonlinear), ``cubic`` is z^3/sqrt(15) (q = 3), ``tanh`` is
#: tanh(3z).
HIERARCHY_LINKS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": _sin_link,
    "cubic": _cubic_link,
    "tanh": _tanh_link,
}


def random_quadratic_form(n: int, *, generator: torch.Generator) -> torch.Tensor:
    """A random symmetric n x n matrix A (GOE-like) scaled so that ||A||_F = 1/sqrt(2).

    Then p(x) = x^T A x - tr(A) has mean 0 and variance 2 ||A||_F^2 = 1 under N(0, I_n), and
    ||A||_op / ||A||_F is of order 2/sqrt(n): the feature is spread over all directions.

    Returns:
        float32 ``(n, n)`` tensor on the generator's device.
    """
    check_int("n", n, minimum=1)
    check_generator(generator)
    g = torch.randn(n, n, generator=generator, device=generator.device)
    a = (g + g.T) / 2
    return a / (a.norm() * math.sqrt(2.0))


def quadratic_features(x: torch.Tensor) -> torch.Tensor:
    """The orthonormal Hermite features of degree ≤ 2: 1, x_i, (x_i^2 - 1)/sqrt(2), x_i x_j (i < j).

    Under x ~ N(0, I_n) these D = 1 + n + n(n+1)/2 functions are orthonormal in L^2, and they
    span all polynomials of degree ≤ 2. So least squares on them is the L^2 projection P_{≤2}.

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


@dataclass(frozen=True, eq=False)
class QuadraticHierarchy:
    """The target y = g(p(x)), p(x) = x^T A x - tr(A), x ~ N(0, I_n).

    Attributes:
        A: symmetric ``(n, n)`` matrix with ||A||_F = 1/sqrt(2) (see
            :func:`random_quadratic_form`).
        link: the name of a link in :data:`HIERARCHY_LINKS`.
    """

    A: torch.Tensor
    link: str = "sin"

    def __post_init__(self) -> None:
        A = self.A
        if not isinstance(A, torch.Tensor) or A.dim() != 2 or A.shape[0] != A.shape[1]:
            raise TypeError("A must be a square matrix")
        if not torch.allclose(A, A.T):
            raise ValueError("A must be symmetric")
        if self.link not in HIERARCHY_LINKS:
            raise ValueError(f"link must be one of {tuple(HIERARCHY_LINKS)}, got {self.link!r}")

    @classmethod
    def random(
        cls, n: int, link: str = "sin", *, seed: int = 0, device: str | torch.device = "cpu"
    ) -> "QuadraticHierarchy":
        """A target with a random A drawn from a generator on ``device`` seeded with ``seed``."""
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
        """y = g(p(x)), shape ``(m,)``."""
        return HIERARCHY_LINKS[self.link](self.feature(x))

    def sample(
        self, m: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` examples on ``generator.device``: x of shape ``(m, n)`` from N(0, I_n) and
        y = g(p(x)) of shape ``(m,)``."""
        x = gaussian_inputs(m, self.n, generator=generator, dtype=dtype)
        return x, self.label(x)
