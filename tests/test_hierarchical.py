"""Tests of the hierarchical model of lmt_core.tasks.gaussian: quadratic features, the Hermite
feature map, degree counting."""

import math

import pytest
import torch

from lmt_core import tasks as hier


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_random_quadratic_form_is_symmetric_and_normalised():
    a = hier.random_quadratic_form(9, generator=gen())
    assert a.shape == (9, 9) and torch.allclose(a, a.T)
    assert abs(a.norm().item() - 1 / math.sqrt(2)) < 1e-6


def test_feature_has_mean_zero_and_unit_variance():
    task = hier.QuadraticHierarchy.random(12, seed=1)
    x, _ = task.sample(200_000, generator=gen(2), dtype=torch.float64)
    p = task.feature(x)
    assert abs(p.mean().item()) < 0.02 and abs(p.var().item() - 1) < 0.03


def test_labels_are_link_of_feature_and_sampling_is_deterministic():
    task = hier.QuadraticHierarchy.random(5, link="cubic", seed=0)
    x, y = task.sample(100, generator=gen(3))
    assert x.shape == (100, 5) and y.shape == (100,)
    assert torch.allclose(y, task.feature(x) ** 3 / math.sqrt(15), atol=1e-5)
    x2, y2 = task.sample(100, generator=gen(3))
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_quadratic_features_are_orthonormal():
    x = torch.randn(400_000, 4, generator=gen(4), dtype=torch.float64)
    phi = hier.quadratic_features(x)
    assert phi.shape == (400_000, hier.num_quadratic_features(4)) == (400_000, 15)
    gram = phi.T @ phi / len(x)
    assert (gram - torch.eye(15, dtype=torch.float64)).abs().max() < 0.03


def test_quadratic_features_span_the_feature():
    task = hier.QuadraticHierarchy.random(6, seed=5)
    x = torch.randn(500, 6, generator=gen(6), dtype=torch.float64)
    phi = hier.quadratic_features(x)
    coef = torch.linalg.lstsq(phi, task.feature(x)[:, None]).solution
    assert torch.allclose(phi @ coef[:, 0], task.feature(x), atol=1e-8)


def test_counting():
    assert hier.num_monomials(3, 2) == 10 and hier.num_monomials(12, 6) == math.comb(18, 6)
    assert hier.num_quadratic_features(12) == hier.num_monomials(12, 2) == 91


def test_links_are_odd_with_nonzero_linear_coefficient():
    z = torch.randn(200_000, generator=gen(7), dtype=torch.float64)
    for name, g in hier.HIERARCHY_LINKS.items():
        assert torch.allclose(g(-z), -g(z)), name
        assert (g(z) * z).mean().abs() > 0.2, name


def test_bad_arguments():
    with pytest.raises(ValueError, match="symmetric"):
        hier.QuadraticHierarchy(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="link"):
        hier.QuadraticHierarchy(torch.eye(2), link="nope")
    with pytest.raises(TypeError, match="generator"):
        hier.random_quadratic_form(3, generator=0)
    with pytest.raises(TypeError, match="shape"):
        hier.quadratic_features(torch.zeros(3))
    with pytest.raises(ValueError, match="degree"):
        hier.num_monomials(3, -1)
