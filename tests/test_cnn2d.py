"""Tests of lmt_core.models.cnn2d: shapes, seeded init, argument checks, ensembles, fitting a tiny set."""

import pytest
import torch

from lmt_core import ensemble, train
from lmt_core.models.cnn2d import DigitCNN


def test_shapes_and_parameter_count():
    net = DigitCNN(3, 4, seed=0)
    x = torch.randn(5, 64)
    assert net(x).shape == (5, 10)
    assert net(x.view(5, 8, 8)).shape == (5, 10)
    assert net.features(x).shape == (5, 4, 8, 8)
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == (9 * 1 * 4 + 4) + 2 * (9 * 4 * 4 + 4) + (4 * 64 * 10 + 10)
    assert DigitCNN(2, 3, n_classes=4, side=5)(torch.randn(2, 25)).shape == (2, 4)


def test_seeded_init_and_bounds():
    a, b, c = DigitCNN(2, 4, seed=0), DigitCNN(2, 4, seed=0), DigitCNN(2, 4, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.convs[0].weight, c.convs[0].weight)
    assert a.convs[0].weight.abs().max() <= 9**-0.5
    assert a.convs[1].weight.abs().max() <= 36**-0.5
    assert a.readout.weight.abs().max() <= 256**-0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        DigitCNN(0, 4)
    with pytest.raises(ValueError, match="channels"):
        DigitCNN(2, 0)
    with pytest.raises(ValueError, match="shape"):
        DigitCNN(1, 2)(torch.randn(3, 63))


def test_ensemble_matches_members_and_fits_a_tiny_set():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 64, generator=g), torch.randint(0, 10, (20,), generator=g)
    nets = [DigitCNN(2, 4, seed=s) for s in (0, 1)]
    ens = ensemble.stack(nets)
    assert torch.allclose(ens(x)[1], nets[1](x), atol=1e-5)
    train.fit(
        ens,
        lambda step, gen: (x, y),
        steps=300,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-2,
        progress=False,
    )
    assert torch.equal(ens(x).argmax(-1), y.expand(2, -1))
