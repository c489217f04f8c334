"""Tests of lmt_core.models.conv: shapes, parameter count, a hand-set local parity, ensembles, learning."""

import pytest
import torch

from lmt_core import ensemble, models, train
from lmt_core.models.conv import LocalCNN
from lmt_core.tasks import hypercube, local_parity


def test_shapes_and_parameter_count_match_a_two_layer_mlp():
    net = LocalCNN(20, 4, 8, seed=1)
    x = torch.randn(5, 20)
    assert net(x).shape == (5,) and net.features(x).shape == (5, 17, 8)
    n_cnn = sum(p.numel() for p in net.parameters())
    n_fc = sum(p.numel() for p in models.MLP(20, 8).parameters())
    assert n_cnn == n_fc == 8 * (20 + 2) + 1


def test_seeded_init_and_bounds():
    a, b, c = LocalCNN(10, 3, 4, seed=0), LocalCNN(10, 3, 4, seed=0), LocalCNN(10, 3, 4, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.filters, c.filters)
    assert a.filters.abs().max() <= 3**-0.5 and a.readout.abs().max() <= (8 * 4) ** -0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="k"):
        LocalCNN(5, 6, 2)
    with pytest.raises(ValueError, match="channels"):
        LocalCNN(5, 2, 0)
    with pytest.raises(ValueError, match="shape"):
        LocalCNN(5, 2, 3)(torch.randn(4, 6))


def test_features_are_windows_through_the_filters():
    net = LocalCNN(7, 3, 2, seed=0)
    x = torch.randn(4, 7)
    h = net.features(x)
    for i in range(5):
        want = torch.relu(x[:, i : i + 3] @ net.filters.T + net.bias)
        assert torch.allclose(h[:, i], want, atol=1e-6)


def test_hand_set_weights_compute_a_local_parity_exactly():
    n, k, start = 10, 3, 4
    net = LocalCNN(n, k, channels=k)
    c = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - c)
    out_w = -2 * v
    out_w[0] = -v[0]
    with torch.no_grad():
        net.filters.fill_(1.0)
        net.bias.copy_(k - 2 * c)
        net.readout.zero_()[start] = out_w
        net.out_bias.fill_((-1.0) ** k)
    x = hypercube(n)
    assert torch.equal(net(x), local_parity(n, k, start).label(x))


def test_functional_ensemble_matches_members():
    nets = [LocalCNN(12, 3, 4, seed=s) for s in range(3)]
    ens = ensemble.stack(nets)
    assert isinstance(ens, ensemble.FunctionalEnsemble)
    x = torch.randn(6, 12)
    out = ens(x)
    assert out.shape == (3, 6)
    for i, net in enumerate(nets):
        assert torch.allclose(out[i], net(x), atol=1e-6)
        assert torch.allclose(ens.member(i)(x), net(x), atol=1e-6)


def test_cnn_learns_a_small_local_parity():
    task = local_parity(12, 3, 5)
    net = ensemble.stack([LocalCNN(12, 3, 16, seed=s) for s in range(2)])
    xt, yt = task.sample(500, generator=torch.Generator().manual_seed(9))
    hist = train.fit(
        net,
        lambda step, g: task.sample(32, generator=g),
        steps=800,
        loss="hinge",
        lr=0.1,
        evaluate=lambda m: {"acc": ((m(xt) * yt) > 0).float().mean(1)},
        eval_every=200,
        progress=False,
    )
    assert (hist.final("acc") >= 0.95).all()
