"""Tests of lmt_core.tasks.tensors: orthogonal tensors, the decomposition loss and its gradient,
component fits and the predicted escape times."""

import math

import pytest
import torch

from lmt_core.tasks import tensors


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


A = [1.0, 0.7, 0.5]


def test_random_orthonormal_is_orthonormal_and_seeded():
    U = tensors.random_orthonormal(6, 3, generator=gen(1))
    assert U.shape == (6, 3)
    assert torch.allclose(U.T @ U, torch.eye(3, dtype=U.dtype), atol=1e-12)
    assert torch.equal(U, tensors.random_orthonormal(6, 3, generator=gen(1)))
    with pytest.raises(ValueError, match="r"):
        tensors.random_orthonormal(3, 4, generator=gen())


@pytest.mark.parametrize("order", [3, 4])
def test_orthogonal_tensor_entries(order):
    T = tensors.orthogonal_tensor(A, 5, order=order)
    assert T.shape == (5,) * order
    for i, a in enumerate(A):
        assert T[(i,) * order] == pytest.approx(a)
    assert T.abs().sum() == pytest.approx(sum(A))          # no other nonzero entry


@pytest.mark.parametrize("order", [2, 3, 4])
def test_loss_matches_dense_tensor(order):
    U = tensors.random_orthonormal(5, 3, generator=gen(2))
    W = 0.5 * torch.randn(7, 5, generator=gen(3), dtype=torch.float64)
    dense = 0.5 * (tensors.power_sum_tensor(W, order) - tensors.orthogonal_tensor(A, 5, order, basis=U)).pow(2).sum()
    assert tensors.decomposition_loss(W, A, order, basis=U).item() == pytest.approx(dense.item(), rel=1e-10)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_grad_matches_autograd(order):
    U = tensors.random_orthonormal(6, 3, generator=gen(4))
    W = (0.5 * torch.randn(9, 6, generator=gen(5), dtype=torch.float64)).requires_grad_()
    (auto,) = torch.autograd.grad(tensors.decomposition_loss(W, A, order, basis=U), W)
    assert torch.allclose(tensors.decomposition_grad(W.detach(), A, order, basis=U), auto, atol=1e-10)


def test_exact_decomposition_has_zero_loss_and_full_fit():
    W = torch.zeros(5, 4, dtype=torch.float64)
    for i, a in enumerate(A):
        W[i, i] = a ** (1 / 3)
    assert tensors.decomposition_loss(W, A, 3).item() == pytest.approx(0.0, abs=1e-12)
    assert torch.allclose(tensors.component_fit(W, A, 3), torch.ones(3, dtype=W.dtype))
    assert torch.allclose(tensors.decomposition_grad(W, A, 3), torch.zeros_like(W), atol=1e-12)


def test_escape_time_matches_one_dimensional_ode():
    # one row, one coordinate: dc/dt = 3 a c^2 blows up at 1 / (3 a c0)
    a, c0, dt = 0.5, 0.01, 1e-3
    W0 = torch.tensor([[c0, 0.0]], dtype=torch.float64)
    t_pred = tensors.escape_times(W0, [a], 3).item()
    assert t_pred == pytest.approx(1 / (3 * a * c0))
    c, t = c0, 0.0
    while c < 10:                                    # explicit Euler until c is large
        c += dt * 3 * a * c * c
        t += dt
    assert t == pytest.approx(t_pred, rel=0.02)


def test_escape_time_sign_conventions():
    W0 = torch.tensor([[-0.02, 0.0], [0.01, -0.03]], dtype=torch.float64)
    t3 = tensors.escape_times(W0, [1.0, 1.0], 3)          # odd order: only positive correlations grow
    assert t3[0].item() == pytest.approx(1 / (3 * 0.01)) and math.isinf(t3[1].item())
    t4 = tensors.escape_times(W0, [1.0, 1.0], 4)          # even order: the largest |correlation|
    assert t4.tolist() == pytest.approx([1 / (8 * 0.02**2), 1 / (8 * 0.03**2)])


def test_bad_arguments():
    W = torch.zeros(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="positive"):
        tensors.decomposition_loss(W, [1.0, -0.5], 3)
    with pytest.raises(ValueError, match="order"):
        tensors.escape_times(W, [1.0], 2)
    with pytest.raises(ValueError, match="at most"):
        tensors.component_fit(W, [1.0] * 5, 3)
    with pytest.raises(ValueError, match="orthonormal"):
        tensors.decomposition_grad(W, [1.0, 1.0], 3, basis=torch.ones(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="W"):
        tensors.component_fit(torch.zeros(4), [1.0], 3)
