"""Tests of lmt_core.optim.sam: closed forms on quadratics, restoration of the weights, SAM flattens."""

from __future__ import annotations

import pytest
import torch

from lmt_core.optim import sam


def _quadratic(seed=0):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.tensor([4.0, 2.0, 1.0, 0.5], dtype=torch.float64)) @ Q.T
    w = torch.randn(4, generator=g, dtype=torch.float64).requires_grad_(True)
    return A, w


def test_one_sam_step_is_the_closed_form():
    A, w = _quadratic()
    w0 = w.detach().clone()
    lr, rho = 0.1, 0.05
    loss = sam.sam_step(lambda: 0.5 * w @ A @ w, [w], lr, rho)
    g = A @ w0
    expected = w0 - lr * A @ (w0 + rho * g / g.norm())
    assert torch.allclose(w.detach(), expected, atol=1e-12)
    assert loss == pytest.approx(float(0.5 * w0 @ A @ w0))


def test_sam_gradient_restores_the_weights_and_rho_zero_is_gd():
    A, w = _quadratic(1)
    w0 = w.detach().clone()
    _, g = sam.sam_gradient(lambda: 0.5 * w @ A @ w, [w], 0.3)
    assert torch.equal(w.detach(), w0)
    assert torch.allclose(g[0], A @ (w0 + 0.3 * (A @ w0) / (A @ w0).norm()))
    _, g0 = sam.sam_gradient(lambda: 0.5 * w @ A @ w, [w], 0.0)
    assert torch.allclose(g0[0], A @ w0)


def test_stationary_point_gives_zero_gradient():
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    _, g = sam.sam_gradient(lambda: (w**2).sum(), [w], 0.1)
    assert torch.equal(g[0], torch.zeros(3, dtype=torch.float64))


def test_stochastic_sam_uses_one_batch_for_both_gradients():
    # per-example losses ½ (x_iᵀw − y_i)²: one 1-SAM step equals the closed form on the drawn example
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.randn(6, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64).requires_grad_(True)
    w0 = w.detach().clone()
    batch_loss = lambda idx: 0.5 * ((X[idx] @ w - y[idx]) ** 2).mean()  # noqa: E731
    sam.stochastic_sam_step(
        batch_loss, [w], 0.1, 0.2, m=6, batch_size=1, generator=torch.Generator().manual_seed(5)
    )
    i = int(torch.randperm(6, generator=torch.Generator().manual_seed(5))[0])
    x = X[i]
    r0 = x @ w0 - y[i]
    g0 = r0 * x
    w_adv = w0 + 0.2 * g0 / g0.norm()
    expected = w0 - 0.1 * (x @ w_adv - y[i]) * x
    assert torch.allclose(w.detach(), expected, atol=1e-12)


def test_full_batch_sam_reduces_sharpness_on_a_valley():
    # L(a, b) = ½ (ab − 1)²: minimizers ab = 1, sharpness a² + b²; SAM drifts to the flattest a = b = 1
    def run(rho, steps=3000):
        p = torch.tensor([3.0, 1 / 3 + 0.01], dtype=torch.float64, requires_grad=True)
        for _ in range(steps):
            sam.sam_step(lambda: 0.5 * (p[0] * p[1] - 1) ** 2, [p], 0.05, rho)
        return p.detach()

    gd, sam_end = run(0.0), run(0.05)
    assert float((gd**2).sum()) > 9.0
    assert float((sam_end**2).sum()) < float((gd**2).sum()) - 3.0
    assert float(sam_end[0] * sam_end[1]) == pytest.approx(1.0, abs=0.05)


def test_validation():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="lr"):
        sam.sam_step(lambda: (w**2).sum(), [w], 0.0, 0.1)
    with pytest.raises(ValueError, match="rho"):
        sam.sam_step(lambda: (w**2).sum(), [w], 0.1, -1.0)
    with pytest.raises(ValueError, match="requires_grad"):
        sam.sam_step(lambda: (w**2).sum(), [torch.ones(2)], 0.1, 0.1)
    with pytest.raises(ValueError, match="scalar"):
        sam.sam_step(lambda: w**2, [w], 0.1, 0.1)
    with pytest.raises(ValueError, match="batch_size"):
        sam.stochastic_sam_step(lambda i: (w**2).sum(), [w], 0.1, 0.1, m=3, batch_size=4)
