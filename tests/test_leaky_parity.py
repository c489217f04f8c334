"""Tests of lmt_core.tasks.LeakyParity: the Daniely–Malach-type leaky mixture."""

import itertools

import pytest
import torch

from lmt_core.tasks import LeakyParity, LeakySample, parity


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_construction_and_validation():
    t = LeakyParity(10, (7, 2, 4), alpha=0.25)
    assert t.support == (2, 4, 7) and t.k == 3 and t.alpha == 0.25
    assert LeakyParity.first(6, 2).support == (0, 1)
    r = LeakyParity.random(20, 4, seed=3)
    assert len(r.support) == 4 and r == LeakyParity.random(20, 4, seed=3)
    for bad in [
        dict(n=5, support=()),
        dict(n=5, support=(1, 1)),
        dict(n=5, support=(5,)),
        dict(n=5, support=(0,), alpha=1.0),
        dict(n=5, support=(0,), alpha=-0.1),
    ]:
        with pytest.raises(ValueError):
            LeakyParity(**bad)


def test_samples_shapes_labels_and_leak():
    t = LeakyParity.random(12, 3, alpha=0.5, seed=1)
    s = t.sample_with_components(20000, generator=gen())
    assert isinstance(s, LeakySample)
    assert s.x.shape == (20000, 12) and s.y.shape == (20000,) and s.leaky.dtype == torch.bool
    assert set(s.x.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(s.y, parity(s.x, t.support))
    S = list(t.support)
    assert bool((s.x[s.leaky][:, S] == 1).all()) and bool((s.y[s.leaky] == 1).all())
    assert abs(s.leaky.float().mean().item() - 0.5) < 0.02
    # population facts: E[y] = alpha, E[y x_i] = alpha on S and 0 off S (k >= 2)
    corr = (s.y[:, None] * s.x).mean(0)
    off = [i for i in range(12) if i not in S]
    assert abs(s.y.mean().item() - 0.5) < 0.03
    assert (corr[S] - 0.5).abs().max() < 0.03 and corr[off].abs().max() < 0.03


def test_sample_is_deterministic_and_uniform_part():
    t = LeakyParity.first(8, 2)
    a, b = t.sample(50, generator=gen(5)), t.sample(50, generator=gen(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    x, y = t.sample_uniform_part(4000, generator=gen(2))
    assert (
        torch.equal(y, parity(x, [0, 1]))
        and abs((x[:, :2] == 1).all(1).float().mean() - 0.25) < 0.03
    )
    assert (
        LeakyParity.first(8, 2, alpha=0.0).sample_with_components(100, generator=gen()).leaky.sum()
        == 0
    )


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_leak_bayes_accuracy_by_enumeration(k):
    """Best predictor of chi_S on the uniform part that sees only 1[x_S = all ones]."""
    pts = torch.tensor(list(itertools.product([1.0, -1.0], repeat=k)))
    chi, event = pts.prod(1), (pts == 1).all(1)
    best = sum(max(float((chi[mask] == s).sum()) for s in (1.0, -1.0)) for mask in (event, ~event))
    assert LeakyParity.first(k + 2, k).leak_bayes_accuracy_uniform() == pytest.approx(best / 2**k)
