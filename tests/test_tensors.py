"""Tests of lmt_core.tasks.tensors: orthogonal tensors, and the random orthonormal basis that
Chapter 16 draws for them (tests of the decomposition dynamics: test_tensor_dynamics.py)."""

import pytest
import torch

from lmt_core import tasks


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def basis(n, r, seed):
    """A random (n, r) matrix with orthonormal columns, as Chapter 16 draws one."""
    return tasks.random_orthonormal(n, r, generator=gen(seed), dtype=torch.float64).T


A = [1.0, 0.7, 0.5]


def test_random_orthonormal_is_orthonormal_and_seeded():
    U = basis(6, 3, 1)
    assert U.shape == (6, 3) and U.dtype == torch.float64
    assert torch.allclose(U.T @ U, torch.eye(3, dtype=U.dtype), atol=1e-12)
    assert torch.equal(U, basis(6, 3, 1))
    with pytest.raises(ValueError, match="p"):
        tasks.random_orthonormal(3, 4, generator=gen())


@pytest.mark.parametrize("order", [3, 4])
def test_orthogonal_tensor_entries(order):
    T = tasks.orthogonal_tensor(A, 5, order=order)
    assert T.shape == (5,) * order
    for i, a in enumerate(A):
        assert T[(i,) * order] == pytest.approx(a)
    assert T.abs().sum() == pytest.approx(sum(A))  # no other nonzero entry
