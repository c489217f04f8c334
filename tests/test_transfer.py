"""Tests of lmt_core.tasks.transfer: a source and a target task with shared teacher features."""

import pytest
import torch

from lmt_core.tasks import FeatureTransfer


def test_shapes_and_determinism():
    t = FeatureTransfer(n=8, features=4, source_classes=5, target_classes=3, seed=1)
    g = torch.Generator().manual_seed(0)
    x, y = t.sample(50, generator=g)
    assert x.shape == (50, 8) and y.shape == (50,) and y.dtype == torch.long
    assert int(y.max()) < 5
    xt, yt = t.target.sample(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, xt) and int(yt.max()) < 3
    t2 = FeatureTransfer(n=8, features=4, source_classes=5, target_classes=3, seed=1)
    assert torch.equal(t.source.label(x), t2.label(x))
    assert t.target.classes == 3 and t.classes == 5 and t.target.source == t


def test_labels_are_readouts_of_shared_features():
    t = FeatureTransfer(n=6, features=5, seed=0)
    x = torch.randn(20, 6)
    phi = torch.relu(x @ t.A.T + t.c)
    assert torch.equal(t.target.label(x), (phi @ t.V["target"].T).argmax(1))


def test_validation():
    t = FeatureTransfer(n=4, seed=0)
    with pytest.raises(ValueError, match="task"):
        FeatureTransfer(n=4, task="other")
    with pytest.raises(TypeError, match="generator"):
        t.sample(3, generator=None)
    with pytest.raises(ValueError):
        t.phi(torch.randn(2, 5))
