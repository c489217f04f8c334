"""Tests of lmt_core.analysis.tangent: tangent features, ridge solve, linearized training."""

import pytest
import torch

from lmt_core import models
from lmt_core.analysis.tangent import fit_linearized, ridge_solve, tangent_features


def test_tangent_features_match_the_two_layer_formula():
    net = models.MLP(5, 7, seed=1).double()
    x = torch.randn(11, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    J = tangent_features(net, x)
    W, b = net.layers[0].weight, net.layers[0].bias
    a = net.layers[1].weight.view(-1)
    pre = x @ W.T + b
    act = (pre > 0).double()
    expect = torch.cat(
        [
            ((act * a)[:, :, None] * x[:, None, :]).reshape(11, -1),
            act * a,
            torch.relu(pre),
            torch.ones(11, 1, dtype=torch.float64),
        ],
        dim=1,
    )
    assert J.shape == (11, sum(p.numel() for p in net.parameters()))
    torch.testing.assert_close(J, expect)


def test_tangent_features_first_order_taylor():
    net = models.MLP(4, 6, activation="tanh", seed=2).double()
    x = torch.randn(9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    J = tangent_features(net, x)
    theta = torch.nn.utils.parameters_to_vector(net.parameters()).detach()
    d = 1e-6 * torch.randn(
        theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    with torch.no_grad():
        f0 = net(x)
        torch.nn.utils.vector_to_parameters(theta + d, net.parameters())
        f1 = net(x)
    torch.testing.assert_close(f1 - f0, J @ d, atol=1e-11, rtol=1e-4)


def test_tangent_features_rejects_bad_input():
    net = models.MLP(3, 2)
    with pytest.raises(ValueError):
        tangent_features(net, torch.ones(3))
    with pytest.raises(ValueError):
        tangent_features(models.MLP(3, 2, n_out=2), torch.ones(4, 3))


@pytest.mark.parametrize("m,P", [(30, 8), (8, 30)])
def test_ridge_solve_primal_and_dual_agree_with_closed_form(m, P):
    g = torch.Generator().manual_seed(m)
    F, y = (
        torch.randn(m, P, generator=g, dtype=torch.float64),
        torch.randn(m, generator=g, dtype=torch.float64),
    )
    w = ridge_solve(F, y, 0.3)
    expect = torch.linalg.solve(F.T @ F + 0.3 * torch.eye(P, dtype=torch.float64), F.T @ y)
    torch.testing.assert_close(w, expect)
    with pytest.raises(ValueError):
        ridge_solve(F, y, 0.0)


def test_fit_linearized_interpolates_and_large_ridge_keeps_init():
    net = models.MLP(6, 16, seed=0)
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(20, 6, generator=g), torch.randn(20, generator=g)  # P = 129 > m = 20
    pred = fit_linearized(net, x, y, ridge=1e-8)
    torch.testing.assert_close(pred(x), y.double(), atol=1e-4, rtol=0)
    frozen = fit_linearized(net, x, y, ridge=1e12)
    with torch.no_grad():
        torch.testing.assert_close(frozen(x), net(x).double(), atol=1e-6, rtol=0)
