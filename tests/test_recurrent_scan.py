"""The parallel scan of lmt_core.models.recurrent.SelectiveSSM equals the plain recurrence, across chunks."""

import torch

from lmt_core.models.recurrent import SelectiveSSM


def reference(layer, u):
    """The recurrence h_t = exp(Δ_t A) h_{t−1} + Δ_t u_t B_t, y_t = <h_t, C_t> + D u_t, as a loop over t."""
    delta = torch.nn.functional.softplus(layer.to_delta(u))
    A = -torch.exp(layer.A_log)
    Bt, Ct = layer.to_B(u), layer.to_C(u)
    h = u.new_zeros(u.shape[0], layer.d, layer.d_state)
    ys = []
    for t in range(u.shape[1]):
        h = (
            torch.exp(delta[:, t, :, None] * A) * h
            + (delta[:, t] * u[:, t])[..., None] * Bt[:, t, None]
        )
        ys.append((h * Ct[:, t, None]).sum(-1))
    return torch.stack(ys, 1) + layer.D * u


def test_parallel_scan_matches_loop():
    torch.manual_seed(0)
    layer = SelectiveSSM(5, 3)
    with torch.no_grad():
        layer.to_delta.bias.add_(2.0)  # large steps: strong decay, a test of stability
    u = torch.randn(2, 53, 5)
    torch.testing.assert_close(layer(u), reference(layer, u), rtol=1e-4, atol=1e-5)


def test_parallel_scan_gradients_are_finite_and_match():
    torch.manual_seed(1)
    layer = SelectiveSSM(4, 2)
    u = torch.randn(1, 40, 4, requires_grad=True)
    (g1,) = torch.autograd.grad(layer(u).square().sum(), u)
    (g2,) = torch.autograd.grad(reference(layer, u).square().sum(), u)
    assert torch.isfinite(g1).all()
    torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-5)
