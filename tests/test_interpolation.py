"""Tests of lmt_core.analysis.interpolation: the 1-NN rule, the sampler limit, min-norm
interpolation (Chapter 17)."""

import pytest
import torch

from lmt_core import analysis, tasks


def test_bad_arguments():
    with pytest.raises(ValueError):
        analysis.nearest_neighbour(torch.zeros(3, 2), torch.zeros(2), torch.zeros(1, 2))
    with pytest.raises(ValueError):
        analysis.min_norm_interpolant(
            torch.randn(2, 4), torch.randn(2), torch.tensor([1.0, -1.0, 1.0, 1.0])
        )


def test_nearest_neighbour_matches_brute_force_and_interpolates():
    g = torch.Generator().manual_seed(2)
    xt, yt = torch.randn(50, 3, generator=g), torch.randint(0, 5, (50,), generator=g)
    xq = torch.randn(33, 3, generator=g)
    want = yt[torch.cdist(xq, xt).argmin(1)]
    assert torch.equal(analysis.nearest_neighbour(xt, yt, xq, chunk=7), want)
    assert torch.equal(analysis.nearest_neighbour(xt, yt, xt), yt)  # zero training error


def test_one_nn_on_noisy_labels_is_a_sampler():
    g = torch.Generator().manual_seed(3)
    p, m = 0.2, 20000
    x = torch.rand(m, 1, generator=g)
    clean = torch.where(x[:, 0] > 0.5, 1.0, -1.0)
    y = tasks.flip_signs(clean, p, generator=g)
    xq = torch.rand(5000, 1, generator=g)
    cq = torch.where(xq[:, 0] > 0.5, 1.0, -1.0)
    pred = analysis.nearest_neighbour(x, y, xq)
    assert abs((pred != cq).float().mean().item() - p) < 0.02
    yq = tasks.flip_signs(cq, p, generator=g)
    assert abs((pred != yq).float().mean().item() - analysis.sampler_error(p)) < 0.025
    assert analysis.sampler_error(0.5) == 0.5 and analysis.sampler_error(0.0) == 0.0


def test_min_norm_interpolant_is_the_gd_limit_and_weighted_version_interpolates():
    g = torch.Generator().manual_seed(4)
    X, y = (
        torch.randn(5, 12, generator=g, dtype=torch.float64),
        torch.randn(5, generator=g, dtype=torch.float64),
    )
    w = analysis.min_norm_interpolant(X, y)
    assert torch.allclose(X @ w, y, atol=1e-10)
    v = torch.zeros(12, dtype=torch.float64)  # gradient descent from zero
    eta = 1.0 / torch.linalg.matrix_norm(X, 2) ** 2
    for _ in range(5000):
        v -= eta * X.T @ (X @ v - y)
    assert torch.allclose(v, w, atol=1e-8)
    d = torch.rand(12, generator=g, dtype=torch.float64) + 0.1
    wd = analysis.min_norm_interpolant(X, y, d)
    assert torch.allclose(X @ wd, y, atol=1e-10)
    assert (wd.pow(2) / d).sum() <= (w.pow(2) / d).sum() + 1e-12  # it minimises the weighted norm
    Y = torch.stack([y, 2 * y], 1)
    assert torch.allclose(analysis.min_norm_interpolant(X, Y, d)[:, 1], 2 * wd)
