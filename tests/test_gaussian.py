"""Tests of lmt_core.tasks.gaussian."""

import dataclasses
import math

import pytest
import torch

from lmt_core import analysis
from lmt_core import tasks as G


def test_shapes_seeding_and_device():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    x1, x2 = G.gaussian_inputs(5, 7, generator=g1), G.gaussian_inputs(5, 7, generator=g2)
    assert x1.shape == (5, 7) and torch.equal(x1, x2) and x1.device.type == "cpu"
    task = G.SingleIndex.random(10, torch.tanh, seed=1)
    x, y = task.sample(32, generator=torch.Generator().manual_seed(0))
    assert x.shape == (32, 10) and y.shape == (32,)
    assert torch.allclose(y, torch.tanh(x @ task.w_star))
    assert torch.equal(G.SingleIndex.random(10, torch.tanh, seed=1).w_star, task.w_star)


def test_orthonormal_and_overlap():
    gen = torch.Generator().manual_seed(0)
    V = G.random_orthonormal(20, 4, generator=gen)
    assert torch.allclose(V @ V.T, torch.eye(4), atol=1e-5)
    w_star = V[0]
    w = G.unit_vector_with_overlap(w_star, 0.3, generator=gen, batch=8)
    assert w.shape == (8, 20)
    assert torch.allclose(w.norm(dim=1), torch.ones(8), atol=1e-5)
    assert torch.allclose(w @ w_star, torch.full((8,), 0.3), atol=1e-5)
    with pytest.raises(ValueError):
        G.unit_vector_with_overlap(w_star, 1.5, generator=gen)


def test_hermite_correlation_on_data():
    """E[h_j(w·x) h_k(w_⋆·x)] = δ_jk (w·w_⋆)^k, by Monte Carlo on the task's own samples."""
    gen = torch.Generator().manual_seed(0)
    task = G.SingleIndex.random(16, lambda t: analysis.hermite_polynomial(3, t), seed=2)
    task = dataclasses.replace(task, w_star=task.w_star.double())  # frozen: a float64 copy
    w = G.unit_vector_with_overlap(task.w_star, 0.6, generator=gen)
    x, y = task.sample(400_000, generator=gen)
    for j, want in ((3, 0.6**3), (2, 0.0), (1, 0.0)):
        est = (analysis.hermite_polynomial(j, x @ w) * y).mean().item()
        assert est == pytest.approx(want, abs=0.01)


def test_multi_index_sum_and_validation():
    task = G.MultiIndex.orthogonal_sum(12, 3, lambda t: t**2, seed=0)
    x, y = task.sample(10, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(y, (x @ task.directions.T).pow(2).sum(1), atol=1e-5)
    with pytest.raises(ValueError):
        G.MultiIndex(torch.ones(2, 5), lambda z: z.sum(-1))
    with pytest.raises(ValueError):
        G.SingleIndex(torch.ones(4), torch.tanh)
    with pytest.raises(TypeError):
        G.gaussian_inputs(3, 4, generator=0)


def test_noise_has_the_right_scale():
    task = G.SingleIndex.random(5, lambda t: 0 * t, seed=0, noise=0.5)
    _, y = task.sample(20000, generator=torch.Generator().manual_seed(0))
    assert y.std().item() == pytest.approx(0.5, rel=0.05)
    assert math.isfinite(y.mean().item())
