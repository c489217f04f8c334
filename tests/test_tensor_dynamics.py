"""Tests of lmt_core.analysis.tensor_dynamics: the decomposition loss and its gradient, component
fits and the predicted escape times (Chapter 16)."""

import math

import pytest
import torch

from lmt_core import analysis, tasks


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def basis(n, r, seed):
    """A random (n, r) matrix with orthonormal columns, as Chapter 16 draws one."""
    return tasks.random_orthonormal(n, r, generator=gen(seed), dtype=torch.float64).T


A = [1.0, 0.7, 0.5]


@pytest.mark.parametrize("order", [2, 3, 4])
def test_loss_matches_dense_tensor(order):
    U = basis(5, 3, 2)
    W = 0.5 * torch.randn(7, 5, generator=gen(3), dtype=torch.float64)
    dense = (
        0.5
        * (tasks.power_sum_tensor(W, order) - tasks.orthogonal_tensor(A, 5, order, basis=U))
        .pow(2)
        .sum()
    )
    assert analysis.decomposition_loss(W, A, order, basis=U).item() == pytest.approx(
        dense.item(), rel=1e-10
    )


@pytest.mark.parametrize("order", [2, 3, 4])
def test_grad_matches_autograd(order):
    U = basis(6, 3, 4)
    W = (0.5 * torch.randn(9, 6, generator=gen(5), dtype=torch.float64)).requires_grad_()
    (auto,) = torch.autograd.grad(analysis.decomposition_loss(W, A, order, basis=U), W)
    assert torch.allclose(
        analysis.decomposition_grad(W.detach(), A, order, basis=U), auto, atol=1e-10
    )


def test_exact_decomposition_has_zero_loss_and_full_fit():
    W = torch.zeros(5, 4, dtype=torch.float64)
    for i, a in enumerate(A):
        W[i, i] = a ** (1 / 3)
    assert analysis.decomposition_loss(W, A, 3).item() == pytest.approx(0.0, abs=1e-12)
    assert torch.allclose(analysis.component_fit(W, A, 3), torch.ones(3, dtype=W.dtype))
    assert torch.allclose(analysis.decomposition_grad(W, A, 3), torch.zeros_like(W), atol=1e-12)


def test_escape_time_matches_one_dimensional_ode():
    # one row, one coordinate: dc/dt = 3 a c^2 blows up at 1 / (3 a c0)
    a, c0, dt = 0.5, 0.01, 1e-3
    W0 = torch.tensor([[c0, 0.0]], dtype=torch.float64)
    t_pred = analysis.escape_times(W0, [a], 3).item()
    assert t_pred == pytest.approx(1 / (3 * a * c0))
    c, t = c0, 0.0
    while c < 10:  # explicit Euler until c is large
        c += dt * 3 * a * c * c
        t += dt
    assert t == pytest.approx(t_pred, rel=0.02)


def test_escape_time_sign_conventions():
    W0 = torch.tensor([[-0.02, 0.0], [0.01, -0.03]], dtype=torch.float64)
    t3 = analysis.escape_times(W0, [1.0, 1.0], 3)  # odd order: only positive correlations grow
    assert t3[0].item() == pytest.approx(1 / (3 * 0.01)) and math.isinf(t3[1].item())
    t4 = analysis.escape_times(W0, [1.0, 1.0], 4)  # even order: the largest |correlation|
    assert t4.tolist() == pytest.approx([1 / (8 * 0.02**2), 1 / (8 * 0.03**2)])


def test_bad_arguments():
    W = torch.zeros(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="positive"):
        analysis.decomposition_loss(W, [1.0, -0.5], 3)
    with pytest.raises(ValueError, match="order"):
        analysis.escape_times(W, [1.0], 2)
    with pytest.raises(ValueError, match="at most"):
        analysis.component_fit(W, [1.0] * 5, 3)
    with pytest.raises(ValueError, match="orthonormal"):
        analysis.decomposition_grad(W, [1.0, 1.0], 3, basis=torch.ones(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="W"):
        analysis.component_fit(torch.zeros(4), [1.0], 3)
