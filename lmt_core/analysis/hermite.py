"""Hermite analysis on the standard Gaussian: polynomials, coefficients, information exponent.

Convention: we use the *normalized* probabilists' Hermite polynomials

    h_j(z) = He_j(z) / sqrt(j!),    He_0 = 1, He_1 = z, He_{j+1} = z He_j - j He_{j-1},

which are orthonormal under z ~ N(0, 1): E[h_j(z) h_l(z)] = δ_jl. The Hermite coefficients of a
function f in L²(N(0,1)) are c_j = E[f(z) h_j(z)], so that f = Σ_j c_j h_j and Σ_j c_j² = E[f²].
For unit vectors u, v and x ~ N(0, I_n), E[h_j(u·x) h_l(v·x)] = δ_jl (u·v)^j.

All functions accept torch tensors or NumPy arrays (the recurrences use arithmetic only) and
return the same kind.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from lmt_core._checks import check_int

__all__ = [
    "hermite_he",
    "hermite_polynomial",
    "hermite_all",
    "gauss_hermite",
    "hermite_coefficients",
    "information_exponent",
    "relu_coefficients",
    "monomial_coefficients",
]


def hermite_he(j: int, z):
    """The probabilists' Hermite polynomial He_j evaluated at ``z`` (tensor or array)."""
    check_int("j", j, minimum=0)
    prev, cur = z * 0 + 1, z
    if j == 0:
        return prev
    for i in range(1, j):
        prev, cur = cur, z * cur - i * prev
    return cur


def hermite_polynomial(j: int, z):
    """The normalized Hermite polynomial h_j = He_j / sqrt(j!) at ``z``: orthonormal under N(0,1)."""
    return hermite_he(j, z) / math.sqrt(math.factorial(j))


def hermite_all(jmax: int, z):
    """h_0(z), ..., h_jmax(z) stacked along a new last axis (shape ``z.shape + (jmax + 1,)``).

    Uses the normalized recurrence sqrt(j+1) h_{j+1} = z h_j - sqrt(j) h_{j-1}, which stays
    well scaled for large j.
    """
    check_int("jmax", jmax, minimum=0)
    out = [z * 0 + 1]
    if jmax >= 1:
        out.append(z * 1)
    for j in range(1, jmax):
        out.append((z * out[j] - math.sqrt(j) * out[j - 1]) / math.sqrt(j + 1))
    if isinstance(z, torch.Tensor):
        return torch.stack(out, dim=-1)
    return np.stack(out, axis=-1)


def gauss_hermite(num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``num_nodes``-point Gauss–Hermite rule for z ~ N(0, 1).

    Σ_i w_i p(z_i) = E[p(z)] exactly for polynomials p of degree < 2 num_nodes; the weights sum
    to 1. (NumPy's ``hermegauss`` rule for the weight e^{-z²/2}, divided by sqrt(2π).)
    """
    check_int("num_nodes", num_nodes, minimum=1)
    if num_nodes > 180:
        raise ValueError("num_nodes above 180 loses accuracy in NumPy's hermegauss; use fewer")
    z, w = np.polynomial.hermite_e.hermegauss(num_nodes)
    return z, w / math.sqrt(2 * math.pi)


def hermite_coefficients(f: Callable, jmax: int, *, num_nodes: int = 150) -> np.ndarray:
    """Normalized Hermite coefficients c_0, ..., c_jmax of ``f`` by Gauss–Hermite quadrature.

    Args:
        f: the link function; it is called once on a float64 torch tensor of nodes and must
            return a tensor (or array) of the same shape.
        jmax: the highest degree.
        num_nodes: quadrature nodes. Exact for polynomial f of degree < 2 num_nodes - jmax; for
            a link with a kink (ReLU, |z|) the error decays only like a power of num_nodes
            (about 1e-4 at the default), for smooth links (tanh) it is much smaller.

    Returns:
        float64 array of shape ``(jmax + 1,)`` with c_j = E[f(z) h_j(z)].
    """
    check_int("jmax", jmax, minimum=0)
    z, w = gauss_hermite(num_nodes)
    fz = f(torch.from_numpy(z))
    fz = fz.detach().cpu().numpy() if isinstance(fz, torch.Tensor) else np.asarray(fz, dtype=float)
    if fz.shape != z.shape:
        raise ValueError(
            f"f must map a tensor of shape {z.shape} to the same shape, got {fz.shape}"
        )
    return (w * fz) @ hermite_all(jmax, z)


def information_exponent(coefficients, *, tol: float = 1e-8) -> int | None:
    """The smallest j >= 1 with |c_j| > tol, or None if there is none among the given degrees."""
    c = np.asarray(coefficients, dtype=float).ravel()
    for j in range(1, c.size):
        if abs(c[j]) > tol:
            return j
    return None


def relu_coefficients(jmax: int) -> np.ndarray:
    """Closed-form normalized Hermite coefficients of ReLU(z) = max(z, 0).

    c_0 = 1/sqrt(2π), c_1 = 1/2, c_j = 0 for odd j >= 3, and for even j >= 2
    c_j = φ(0) He_{j-2}(0) / sqrt(j!) = (-1)^{j/2-1} (j-3)!! / sqrt(2π j!).
    """
    check_int("jmax", jmax, minimum=0)
    phi0 = 1 / math.sqrt(2 * math.pi)
    c = np.zeros(jmax + 1)
    c[0] = phi0
    if jmax >= 1:
        c[1] = 0.5
    for j in range(2, jmax + 1, 2):
        # (j-3)!! = (j-2)! / (2^{j/2-1} (j/2-1)!), computed in logs to avoid overflow
        log_dfact = math.lgamma(j - 1) - (j // 2 - 1) * math.log(2) - math.lgamma(j // 2)
        c[j] = (-1) ** (j // 2 - 1) * phi0 * math.exp(log_dfact - 0.5 * math.lgamma(j + 1))
    return c


def monomial_coefficients(p: int, jmax: int | None = None) -> np.ndarray:
    """Closed-form normalized Hermite coefficients of z^p.

    z^p = Σ_{i <= p/2} p! / (2^i i! (p-2i)!) He_{p-2i}(z), so c_{p-2i} = p! sqrt((p-2i)!) /
    (2^i i! (p-2i)!) and the other coefficients vanish.
    """
    check_int("p", p, minimum=0)
    jmax = p if jmax is None else jmax
    c = np.zeros(jmax + 1)
    for i in range(p // 2 + 1):
        j = p - 2 * i
        if j <= jmax:
            c[j] = (
                math.factorial(p)
                / (2**i * math.factorial(i) * math.factorial(j))
                * math.sqrt(math.factorial(j))
            )
    return c
