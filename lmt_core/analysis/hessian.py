"""Curvature of a loss: Hessian–vector products, top eigenvalues and the trace.

Everything here works on a *loss closure* ``loss_fn() -> scalar tensor`` that reads a list of
parameters ``params`` (e.g. ``list(model.parameters())``), and never forms the Hessian
H = ∇²L(θ) unless asked to (:func:`dense_hessian`, for small models and tests). Vectors in parameter
space are flat 1-D tensors of length ``P = sum(p.numel() for p in params)``, in the order of
``params``.

- :func:`hvp` — one Hessian–vector product H v by double backpropagation.
- :class:`HessianOperator` — v ↦ H v with the gradient graph built once and reused, the engine
  of the iterative methods below.
- :func:`top_eigenvalue` — the sharpness λ_max(θ) by power iteration (warm start with ``v0``).
- :func:`lanczos` — the k algebraically largest eigenvalues by Lanczos with full
  re-orthogonalisation.
- :func:`hutchinson_trace` — Tr H by Hutchinson's estimator with Rademacher probes, unbiased.
- :func:`dense_hessian`, :func:`exact_trace` — dense H and its exact trace, P Hessian–vector products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from lmt_core._checks import check_generator, check_int, check_params, check_positive

__all__ = [
    "HessianOperator",
    "EigenResult",
    "TraceEstimate",
    "hvp",
    "dense_hessian",
    "top_eigenvalue",
    "lanczos",
    "hutchinson_trace",
    "exact_trace",
]

LossFn = Callable[[], torch.Tensor]


def _loss(loss_fn: LossFn) -> torch.Tensor:
    if not callable(loss_fn):
        raise TypeError(
            f"loss_fn must be a callable returning a scalar loss, got {type(loss_fn).__name__}"
        )
    loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn() must return a scalar tensor (one element)")
    return loss.reshape(())


def _check_vector(name: str, v: torch.Tensor, size: int) -> torch.Tensor:
    if not isinstance(v, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(v).__name__}")
    if v.dim() != 1 or v.numel() != size:
        raise ValueError(
            f"{name} must be a flat vector of length {size} (number of parameters), "
            f"got shape {tuple(v.shape)}"
        )
    return v


class HessianOperator:
    """The linear map v ↦ ∇²L(θ) v at the current parameters, by double backpropagation.

    The loss and its gradient (with ``create_graph=True``) are computed once, at construction;
    each call then costs about one backward pass. Build a new operator after the parameters
    change.

    Args:
        loss_fn: closure returning the scalar loss at the current ``params``.
        params: the tensors to differentiate with respect to (all ``requires_grad``).

    Attributes:
        loss: the loss value (detached) at construction.
        grad: the gradient as a flat vector (detached).
        size: P, the number of parameters.
    """

    def __init__(self, loss_fn: LossFn, params: Sequence[torch.Tensor]) -> None:
        self.params = check_params(params)
        loss = _loss(loss_fn)
        grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
        self._grads = [
            g if g is not None else torch.zeros_like(p) for g, p in zip(grads, self.params)
        ]
        self.loss = loss.detach()
        self.grad = torch.cat([g.detach().reshape(-1) for g in self._grads])
        self.size = self.grad.numel()
        self.dtype, self.device = self.grad.dtype, self.grad.device

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v for a flat vector ``v`` of length P; returns a flat detached vector."""
        v = _check_vector("v", v, self.size).to(dtype=self.dtype, device=self.device)
        dot = sum(
            (g.reshape(-1) * piece).sum()
            for g, piece in zip(self._grads, torch.split(v, [p.numel() for p in self.params]))
        )
        if not dot.requires_grad:  # the gradient does not depend on the parameters: H = 0
            return torch.zeros_like(v)
        hv = torch.autograd.grad(dot, self.params, retain_graph=True, allow_unused=True)
        return torch.cat(
            [
                (h if h is not None else torch.zeros_like(p)).reshape(-1)
                for h, p in zip(hv, self.params)
            ]
        ).detach()


def hvp(loss_fn: LossFn, params: Sequence[torch.Tensor], v: torch.Tensor) -> torch.Tensor:
    """One Hessian–vector product ∇²L(θ) v (flat ``v`` of length P; returns a flat vector).

    For several products at the same θ, build one :class:`HessianOperator` instead.
    """
    return HessianOperator(loss_fn, params)(v)


def dense_hessian(loss_fn: LossFn, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """The dense P × P Hessian, one Hessian–vector product per column (small models only)."""
    op = HessianOperator(loss_fn, params)
    eye = torch.eye(op.size, dtype=op.dtype, device=op.device)
    H = torch.stack([op(eye[i]) for i in range(op.size)], dim=1)
    return (H + H.T) / 2


def exact_trace(loss_fn: LossFn, params: Sequence[torch.Tensor]) -> float:
    """Tr ∇²L(θ) exactly, as the sum of e_iᵀ H e_i over the P coordinate vectors (P products)."""
    op = HessianOperator(loss_fn, params)
    e = torch.zeros(op.size, dtype=op.dtype, device=op.device)
    total = 0.0
    for i in range(op.size):
        e[i] = 1.0
        total += float(op(e)[i])
        e[i] = 0.0
    return total


@dataclass
class EigenResult:
    """Eigenvalue estimates and their (unit) eigenvectors.

    Attributes:
        values: the eigenvalue(s), a float for :func:`top_eigenvalue`, a 1-D tensor (descending)
            for :func:`lanczos`.
        vectors: the eigenvector (flat, length P) or a (P, k) matrix of eigenvectors.
        iters: the number of Hessian–vector products used.
        residual: ‖H v − λ v‖ for the (top) pair, a check of convergence.
    """

    values: float | torch.Tensor
    vectors: torch.Tensor
    iters: int
    residual: float


def _random_unit(size: int, generator: torch.Generator | None, dtype, device) -> torch.Tensor:
    v = torch.randn(
        size,
        generator=generator,
        dtype=dtype,
        device="cpu" if generator is None else generator.device,
    ).to(device)
    return v / v.norm()


def top_eigenvalue(
    loss_fn: LossFn,
    params: Sequence[torch.Tensor],
    *,
    iters: int = 100,
    tol: float = 1e-6,
    v0: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> EigenResult:
    """The sharpness λ_max(θ) = largest eigenvalue of ∇²L(θ), by power iteration on H v.

    Power iteration converges to the eigenvalue of largest *absolute* value; near a minimum, or
    in training, this is the top eigenvalue (the Hessian's negative eigenvalues are small), and
    the returned value is the Rayleigh quotient vᵀ H v, which may be checked with ``residual``.
    The error after t steps shrinks like (|λ_2| / λ_1)^t; warm-starting from the previous
    eigenvector (``v0``) makes a few steps enough when θ moves little.

    Args:
        loss_fn, params: the loss closure and its parameters.
        iters: maximal number of Hessian–vector products (≥ 1).
        tol: stop when the Rayleigh quotient changes by less than ``tol`` × |λ| between steps.
        v0: start vector (flat, length P, non-zero); default a random Gaussian direction.
        generator: seeds the random start.

    Returns:
        :class:`EigenResult` with ``values`` a float and ``vectors`` the unit eigenvector.
    """
    check_int("iters", iters, minimum=1)
    check_positive("tol", tol, allow_zero=True)
    if generator is not None:
        check_generator(generator)
    op = HessianOperator(loss_fn, params)
    if v0 is None:
        v = _random_unit(op.size, generator, op.dtype, op.device)
    else:
        v = _check_vector("v0", v0, op.size).detach().to(dtype=op.dtype, device=op.device)
        if not torch.isfinite(v).all() or v.norm() == 0:
            raise ValueError("v0 must be a finite non-zero vector")
        v = v / v.norm()
    lam, hv, n = 0.0, op(v), 1
    while True:
        lam_new = float(v @ hv)
        norm = hv.norm()
        if norm == 0:  # H v = 0: v is in the kernel, λ = 0 along it
            return EigenResult(0.0, v, n, 0.0)
        converged = n > 1 and abs(lam_new - lam) <= tol * max(abs(lam_new), 1e-30)
        lam = lam_new
        if converged or n >= iters:
            break
        v = hv / norm
        hv, n = op(v), n + 1
    residual = float((hv - lam * v).norm())
    return EigenResult(lam, v, n, residual)


def lanczos(
    loss_fn: LossFn,
    params: Sequence[torch.Tensor],
    *,
    k: int = 1,
    steps: int = 30,
    generator: torch.Generator | None = None,
    v0: torch.Tensor | None = None,
) -> EigenResult:
    """The k algebraically largest eigenvalues of ∇²L(θ) by Lanczos on Hessian–vector products.

    Builds an orthonormal basis of the Krylov space span{v, Hv, ..., H^{s-1} v} (with full
    re-orthogonalisation, so it is stable for the small ``steps`` used here), and returns the
    top-k eigenpairs of the tridiagonal matrix H restricted to it (Ritz values). Extreme
    eigenvalues converge much faster than with power iteration.

    Args:
        k: how many eigenvalues (1 ≤ k ≤ steps).
        steps: the dimension s of the Krylov space (Hessian–vector products), capped at P.
        generator, v0: random or given start vector.

    Returns:
        :class:`EigenResult` with ``values`` a descending tensor of length k and ``vectors`` a
        (P, k) matrix of Ritz vectors.
    """
    check_int("k", k, minimum=1)
    check_int("steps", steps, minimum=1)
    if k > steps:
        raise ValueError(f"k={k} eigenvalues need steps >= k, got steps={steps}")
    if generator is not None:
        check_generator(generator)
    op = HessianOperator(loss_fn, params)
    steps = min(steps, op.size)
    if k > steps:
        raise ValueError(f"k={k} exceeds the number of parameters P={op.size}")
    if v0 is None:
        q = _random_unit(op.size, generator, op.dtype, op.device)
    else:
        q = _check_vector("v0", v0, op.size).detach().to(dtype=op.dtype, device=op.device)
        if q.norm() == 0:
            raise ValueError("v0 must be non-zero")
        q = q / q.norm()
    Q = [q]
    alphas, betas = [], []
    for j in range(steps):
        w = op(Q[j])
        alphas.append(float(Q[j] @ w))
        basis = torch.stack(Q, dim=1)
        for _ in range(2):  # full re-orthogonalisation, twice
            w = w - basis @ (basis.T @ w)
        beta = float(w.norm())
        if j == steps - 1 or beta <= 1e-10 * max(abs(a) for a in alphas):
            break  # Krylov space exhausted (invariant)
        betas.append(beta)
        Q.append(w / beta)
    s = len(alphas)
    T = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    if s > 1:
        off = torch.tensor(betas[: s - 1], dtype=torch.float64)
        T = T + torch.diag(off, 1) + torch.diag(off, -1)
    evals, evecs = torch.linalg.eigh(T)
    order = torch.argsort(evals, descending=True)[: min(k, s)]
    values = evals[order].to(op.dtype)
    vectors = torch.stack(Q[:s], dim=1) @ evecs[:, order].to(op.dtype)
    top_v = vectors[:, 0]
    residual = float((op(top_v) - values[0] * top_v).norm())
    return EigenResult(values, vectors, s + 1, residual)


@dataclass
class TraceEstimate:
    """Hutchinson's estimate of Tr H: ``mean`` ± ``stderr`` from ``probes`` Rademacher probes."""

    mean: float
    stderr: float
    probes: int

    def __float__(self) -> float:
        return self.mean


def hutchinson_trace(
    loss_fn: LossFn,
    params: Sequence[torch.Tensor],
    *,
    probes: int = 100,
    generator: torch.Generator | None = None,
) -> TraceEstimate:
    """Tr ∇²L(θ) by Hutchinson's estimator (1/N) Σ_i z_iᵀ H z_i with Rademacher z_i ∈ {±1}^P.

    Unbiased, E[zᵀHz] = Tr H, because E[z zᵀ] = I; the variance of one probe is
    2 Σ_{i≠j} H_ij², so the estimate is exact for diagonal H.

    Args:
        probes: number N of probes (≥ 1; the standard error needs ≥ 2).
        generator: a ``torch.Generator`` on the CPU for the probes (reproducible estimates).
    """
    check_int("probes", probes, minimum=1)
    if generator is not None:
        check_generator(generator)
    op = HessianOperator(loss_fn, params)
    gen_device = "cpu" if generator is None else generator.device
    samples = []
    for _ in range(probes):
        z = torch.randint(0, 2, (op.size,), generator=generator, device=gen_device)
        z = (2 * z - 1).to(dtype=op.dtype, device=op.device)
        samples.append(float(z @ op(z)))
    t = torch.tensor(samples, dtype=torch.float64)
    stderr = float(t.std() / math.sqrt(probes)) if probes > 1 else float("nan")
    return TraceEstimate(float(t.mean()), stderr, probes)
