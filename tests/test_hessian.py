"""Tests of lmt_core.analysis.hessian on quadratics with known spectra and a small network."""

from __future__ import annotations

import pytest
import torch

from lmt_core.analysis import hessian


def quadratic(eigs, seed=0):
    """L(θ) = ½ θᵀ A θ + bᵀθ with A = Q diag(eigs) Qᵀ; returns (loss_fn, [θ], A, Q)."""
    g = torch.Generator().manual_seed(seed)
    P = len(eigs)
    Q, _ = torch.linalg.qr(torch.randn(P, P, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ Q.T
    b = torch.randn(P, generator=g, dtype=torch.float64)
    theta = torch.randn(P, generator=g, dtype=torch.float64).requires_grad_(True)
    return (lambda: 0.5 * theta @ A @ theta + b @ theta), [theta], A, Q


def test_hvp_equals_A_v():
    loss_fn, params, A, _ = quadratic([5.0, 2.0, 1.0, -0.5, 0.1])
    v = torch.randn(5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.allclose(hessian.hvp(loss_fn, params, v), A @ v, atol=1e-12)
    assert torch.allclose(hessian.dense_hessian(loss_fn, params), A, atol=1e-12)


def test_hvp_over_several_parameter_tensors():
    # L(a, B) = ½ (aᵀ B 1)²: compare with the dense Hessian from torch.autograd.functional
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    B = torch.randn(3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    loss_fn = lambda: 0.5 * (a @ B @ torch.ones(2, dtype=torch.float64)) ** 2  # noqa: E731

    def flat_loss(z):
        return 0.5 * (z[:3] @ z[3:].view(3, 2) @ torch.ones(2, dtype=torch.float64)) ** 2

    H_ref = torch.autograd.functional.hessian(
        flat_loss, torch.cat([a.detach(), B.detach().reshape(-1)])
    )
    assert torch.allclose(hessian.dense_hessian(loss_fn, [a, B]), H_ref, atol=1e-10)


def test_top_eigenvalue_power_iteration():
    eigs = [10.0, 4.0, 3.0, 1.0, 0.5, 0.0]
    loss_fn, params, _, Q = quadratic(eigs)
    res = hessian.top_eigenvalue(
        loss_fn, params, iters=500, tol=1e-12, generator=torch.Generator().manual_seed(0)
    )
    assert res.values == pytest.approx(10.0, rel=1e-8)
    assert abs(float(res.vectors @ Q[:, 0])) == pytest.approx(1.0, abs=1e-6)
    assert res.residual < 1e-4
    # a warm start at the answer converges at once
    warm = hessian.top_eigenvalue(loss_fn, params, iters=50, tol=1e-10, v0=Q[:, 0].clone())
    assert warm.iters <= 3 and warm.values == pytest.approx(10.0, rel=1e-10)


def test_lanczos_top_k():
    eigs = [9.0, 7.0, 5.0, 2.0, 1.0, 0.5, -1.0, 0.0]
    loss_fn, params, _, _ = quadratic(eigs, seed=3)
    res = hessian.lanczos(loss_fn, params, k=3, steps=8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(res.values, torch.tensor([9.0, 7.0, 5.0], dtype=torch.float64), atol=1e-8)
    assert res.vectors.shape == (8, 3)
    # with fewer steps than P the top Ritz value is still accurate
    big = list(torch.linspace(0, 1, 200).tolist()) + [5.0]
    loss_fn, params, _, _ = quadratic(big, seed=4)
    res = hessian.lanczos(
        loss_fn, params, k=1, steps=30, generator=torch.Generator().manual_seed(0)
    )
    assert float(res.values[0]) == pytest.approx(5.0, rel=1e-6)


def test_hutchinson_trace_exact_in_expectation():
    eigs = [3.0, 2.0, 1.0, 0.5]
    loss_fn, params, A, _ = quadratic(eigs, seed=2)
    # E[zᵀAz] over all 2^P Rademacher vectors equals Tr A exactly
    P = 4
    zs = torch.tensor(
        [[1 - 2 * ((i >> j) & 1) for j in range(P)] for i in range(2**P)], dtype=torch.float64
    )
    assert float(torch.einsum("ip,pq,iq->i", zs, A, zs).mean()) == pytest.approx(6.5, abs=1e-12)
    # and the Monte-Carlo estimate is within a few standard errors of Tr A
    est = hessian.hutchinson_trace(
        loss_fn, params, probes=400, generator=torch.Generator().manual_seed(0)
    )
    assert abs(est.mean - 6.5) <= 4 * est.stderr + 1e-12
    assert hessian.exact_trace(loss_fn, params) == pytest.approx(6.5, abs=1e-10)


def test_hutchinson_is_exact_for_diagonal_hessians():
    theta = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    d = torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)
    est = hessian.hutchinson_trace(
        lambda: 0.5 * (d * theta**2).sum(),
        [theta],
        probes=3,
        generator=torch.Generator().manual_seed(0),
    )
    assert est.mean == pytest.approx(5.25, abs=1e-12) and est.stderr == pytest.approx(
        0.0, abs=1e-12
    )


def test_small_network_agrees_with_dense_hessian():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    x, y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, 2, dtype=torch.float64)
    params = list(net.parameters())
    loss_fn = lambda: ((net(x) - y) ** 2).mean()  # noqa: E731
    H = hessian.dense_hessian(loss_fn, params)
    ev = torch.linalg.eigvalsh(H)
    top = hessian.lanczos(
        loss_fn, params, k=2, steps=int(H.shape[0]), generator=torch.Generator().manual_seed(0)
    )
    assert torch.allclose(top.values, ev.flip(0)[:2], atol=1e-8)
    assert hessian.exact_trace(loss_fn, params) == pytest.approx(float(torch.trace(H)), abs=1e-10)


def test_zero_hessian_and_validation():
    theta = torch.ones(3, requires_grad=True)
    res = hessian.top_eigenvalue(lambda: theta.sum(), [theta], iters=5)
    assert res.values == 0.0
    with pytest.raises(ValueError, match="requires_grad|require grad"):
        hessian.hvp(lambda: theta.sum(), [torch.ones(3)], torch.ones(3))
    with pytest.raises(ValueError, match="scalar"):
        hessian.hvp(lambda: theta * 2, [theta], torch.ones(3))
    with pytest.raises(ValueError, match="length 3"):
        hessian.hvp(lambda: (theta**2).sum(), [theta], torch.ones(4))
    with pytest.raises(TypeError, match="list of tensors"):
        hessian.hvp(lambda: (theta**2).sum(), theta, torch.ones(3))
    with pytest.raises(ValueError, match="empty"):
        hessian.top_eigenvalue(lambda: (theta**2).sum(), [])
    with pytest.raises(ValueError, match="v0"):
        hessian.top_eigenvalue(lambda: (theta**2).sum(), [theta], v0=torch.zeros(3))
    with pytest.raises(ValueError, match="iters"):
        hessian.top_eigenvalue(lambda: (theta**2).sum(), [theta], iters=0)
    with pytest.raises(ValueError, match="steps"):
        hessian.lanczos(lambda: (theta**2).sum(), [theta], k=3, steps=2)
    with pytest.raises(ValueError, match="probes"):
        hessian.hutchinson_trace(lambda: (theta**2).sum(), [theta], probes=0)
    with pytest.raises(TypeError, match="generator"):
        hessian.hutchinson_trace(lambda: (theta**2).sum(), [theta], generator=0)
