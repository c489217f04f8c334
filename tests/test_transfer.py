import pytest
import torch

from lmt_core.tasks.transfer import FeatureTransfer


def test_shapes_and_determinism():
    t = FeatureTransfer(n=8, features=4, source_classes=5, target_classes=3, seed=1)
    g = torch.Generator().manual_seed(0)
    x, y = t.sample(50, "source", generator=g)
    assert x.shape == (50, 8) and y.shape == (50,) and y.dtype == torch.long
    assert int(y.max()) < 5
    xt, yt = t.sample(50, "target", generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, xt) and int(yt.max()) < 3
    t2 = FeatureTransfer(n=8, features=4, source_classes=5, target_classes=3, seed=1)
    assert torch.equal(t.label(x, "source"), t2.label(x, "source"))
    assert t.classes("target") == 3


def test_labels_are_readouts_of_shared_features():
    t = FeatureTransfer(n=6, features=5, seed=0)
    x = torch.randn(20, 6)
    phi = torch.relu(x @ t.A.T + t.c)
    assert torch.equal(t.label(x, "target"), (phi @ t.V["target"].T).argmax(1))


def test_validation():
    t = FeatureTransfer(n=4, seed=0)
    with pytest.raises(ValueError):
        t.sample(3, "other")
    with pytest.raises(ValueError):
        t.phi(torch.randn(2, 5))
