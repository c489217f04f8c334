"""Gaussian tasks: single-index and multi-index models on x ~ N(0, I_n).

A single-index model labels x by y = σ_⋆(w_⋆·x) (+ noise) for a unit vector w_⋆ ∈ R^n and a
link σ_⋆: R → R; a multi-index model by y = g(V x) for a (P, n) matrix V with orthonormal rows.
Every sampler takes an explicit ``torch.Generator`` and returns tensors on its device.
"""

from __future__ import annotations

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
]


def gaussian_inputs(m: int, n: int, *, generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    """``m`` inputs x ~ N(0, I_n), shape ``(m, n)``, on the generator's device."""
    check_int("m", m, minimum=1)
    check_int("n", n, minimum=1)
    check_generator(generator)
    return torch.randn(m, n, generator=generator, device=generator.device, dtype=dtype)


def random_orthonormal(n: int, p: int, *, generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    """A uniformly random (p, n) matrix with orthonormal rows (Haar measure on the Stiefel manifold)."""
    check_int("n", n, minimum=1)
    check_int("p", p, minimum=1, maximum=n)
    check_generator(generator)
    g = torch.randn(n, p, generator=generator, device=generator.device, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)      # sign fix makes the law uniform
    return q.T.contiguous().to(dtype)


def random_unit_vector(n: int, *, generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    """A uniformly random unit vector of R^n."""
    return random_orthonormal(n, 1, generator=generator, dtype=dtype)[0]


def unit_vector_with_overlap(w_star: torch.Tensor, overlap: float | torch.Tensor, *,
                             generator: torch.Generator, batch: int | None = None) -> torch.Tensor:
    """Unit vectors w with w·w_⋆ = ``overlap`` and a uniformly random orthogonal part.

    Args:
        w_star: unit vector of shape ``(n,)``.
        overlap: a number in [-1, 1] (or a tensor broadcastable to ``(batch,)``).
        batch: if given, return ``(batch, n)`` independent vectors; else ``(n,)``.
    """
    check_generator(generator)
    n = w_star.shape[-1]
    b = 1 if batch is None else check_int("batch", batch, minimum=1)
    g = torch.randn(b, n, generator=generator, device=generator.device, dtype=w_star.dtype).to(w_star.device)
    g = g - (g @ w_star).unsqueeze(1) * w_star
    u = g / g.norm(dim=1, keepdim=True)
    a = torch.as_tensor(overlap, dtype=w_star.dtype, device=w_star.device).reshape(-1, 1)
    if (a.abs() > 1).any():
        raise ValueError("overlap must lie in [-1, 1]")
    w = a * w_star + torch.sqrt(1 - a**2) * u
    return w[0] if batch is None else w


@dataclass
class SingleIndex:
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
        if abs(float(self.w_star.norm()) - 1) > 1e-4:
            raise ValueError(f"w_star must be a unit vector, has norm {float(self.w_star.norm()):.6f}")
        check_positive("noise", self.noise, allow_zero=True)

    @property
    def n(self) -> int:
        return self.w_star.shape[0]

    @classmethod
    def random(cls, n: int, link: Callable, *, seed: int = 0, noise: float = 0.0,
               device: torch.device | str = "cpu") -> "SingleIndex":
        """A model with w_⋆ uniform on the unit sphere of R^n, drawn from ``seed``."""
        gen = torch.Generator(device=device).manual_seed(seed)
        return cls(random_unit_vector(n, generator=gen), link, noise)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """σ_⋆(w_⋆·x) for each row of ``x`` (no noise)."""
        return self.link(x @ self.w_star.to(x.dtype))

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` fresh pairs: x of shape ``(m, n)`` and y of shape ``(m,)``."""
        x = gaussian_inputs(m, self.n, generator=generator, dtype=self.w_star.dtype)
        y = self.label(x)
        if self.noise > 0:
            y = y + self.noise * torch.randn(m, generator=generator, device=generator.device, dtype=y.dtype)
        return x, y


@dataclass
class MultiIndex:
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
        return self.directions.shape[1]

    @classmethod
    def orthogonal_sum(cls, n: int, p: int, link: Callable, *, seed: int = 0, noise: float = 0.0,
                       device: torch.device | str = "cpu") -> "MultiIndex":
        """The orthogonal multi-index model y = Σ_{q=1}^P φ(v_q·x) with random orthonormal v_q."""
        gen = torch.Generator(device=device).manual_seed(seed)
        V = random_orthonormal(n, p, generator=gen)
        return cls(V, lambda z: link(z).sum(-1), noise)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """g(V x) for each row of ``x`` (no noise)."""
        return self.g(x @ self.directions.to(x.dtype).T)

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` fresh pairs: x of shape ``(m, n)`` and y of shape ``(m,)``."""
        x = gaussian_inputs(m, self.n, generator=generator, dtype=self.directions.dtype)
        y = self.label(x)
        if self.noise > 0:
            y = y + self.noise * torch.randn(m, generator=generator, device=generator.device, dtype=y.dtype)
        return x, y
