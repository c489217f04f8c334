"""Tests of lmt_core.optim.mezo: the round trip, the estimator on a quadratic, learning, memory-free state."""

import pytest
import torch

from lmt_core.optim import mezo


def test_perturbation_is_regenerated_from_its_seed():
    p = [torch.zeros(3, 4), torch.zeros(5)]
    mezo.perturb(p, 1.0, seed=7)
    q = [torch.zeros(3, 4), torch.zeros(5)]
    mezo.perturb(q, 1.0, seed=7)
    assert all(torch.equal(a, b) for a, b in zip(p, q))
    r = [torch.zeros(3, 4), torch.zeros(5)]
    mezo.perturb(r, 1.0, seed=8)
    assert not torch.equal(p[0], r[0])


def test_round_trip_returns_within_a_few_ulps():
    model = torch.nn.Linear(50, 20)
    before = [p.detach().clone() for p in model.parameters()]
    err = mezo.restore_error(model.parameters(), eps=1e-3, seed=3)
    worst = max(float((p.detach() - b).abs().max()) for p, b in zip(model.parameters(), before))
    assert err == worst
    top = max(float(b.abs().max()) for b in before) + 6e-3  # |θ| + ε|z| with |z| ≤ 6
    ulp = float(torch.finfo(torch.float32).eps) * top
    assert 0 < err <= 4 * ulp  # rounding, not an algebra bug


def test_estimator_is_unbiased_on_a_quadratic():
    """For L(θ) = ½ θᵀAθ − bᵀθ the central difference is exact, so E[ĝ z] = ∇L(θ)."""
    torch.manual_seed(0)
    d = 6
    M = torch.randn(d, d, dtype=torch.float64)
    A, b = M @ M.T + torch.eye(d, dtype=torch.float64), torch.randn(d, dtype=torch.float64)
    theta = torch.randn(d, dtype=torch.float64)
    grad = A @ theta - b
    est = torch.zeros(d, dtype=torch.float64)
    n = 4000
    for s in range(n):
        w = theta.clone()
        opt = mezo.MeZO([w.requires_grad_()], lr=1.0, eps=1e-2, seed=s)
        with torch.no_grad():
            g_hat, _ = opt.step(lambda: 0.5 * w @ A @ w - b @ w)
            est += (theta - w) / 1.0  # w = θ − η ĝ z with η = 1
    est /= n
    assert torch.allclose(est, grad, atol=4 * grad.norm().item() * (d / n) ** 0.5 + 1e-3)


def test_loss_decreases_on_linear_regression():
    torch.manual_seed(0)
    X = torch.randn(256, 10)
    y = X @ torch.randn(10)
    model = torch.nn.Linear(10, 1)
    opt = mezo.MeZO(model.parameters(), lr=1e-2, eps=1e-3, seed=0)

    def loss():
        return torch.mean((model(X).squeeze(-1) - y) ** 2)

    with torch.no_grad():
        start = float(loss())
        for _ in range(1500):
            opt.step(loss)
        assert float(loss()) < 0.1 * start
    assert all(p.grad is None for p in model.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        mezo.MeZO([torch.zeros(2, requires_grad=True)], lr=-1.0)
    with pytest.raises(ValueError, match="params"):
        mezo.MeZO([torch.zeros(2)], lr=0.1)
    opt = mezo.MeZO([torch.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="closure"):
        opt.step(1.0)
