"""Tests for lmt_core.tasks.lpn: covering probabilities, fixed samples, offline batches, LPN."""

from itertools import combinations
from math import comb

import pytest
import torch

from lmt_core.tasks import lpn


def test_covering_probability_matches_enumeration():
    n, k, s = 7, 2, 3
    S = {0, 1}
    supports = list(combinations(range(n), s))
    p_enum = sum(S <= set(T) for T in supports) / len(supports)
    assert lpn.covering_probability(n, k, s) == pytest.approx(p_enum)
    assert lpn.covering_probability(n, k, s, width=5) == pytest.approx(1 - (1 - p_enum) ** 5)


def test_covering_probability_edge_cases():
    assert lpn.covering_probability(10, 3, 2) == 0.0          # s < k: never covers
    assert lpn.covering_probability(10, 3, 10) == 1.0         # dense: always covers
    assert lpn.covering_probability(10, 3, 3) == pytest.approx(1 / comb(10, 3))
    with pytest.raises(ValueError):
        lpn.covering_probability(10, 11, 3)
    with pytest.raises(ValueError):
        lpn.covering_probability(10, 3, 4, width=0)


def test_covering_probability_monte_carlo():
    n, k, s, width, trials = 12, 2, 4, 3, 20000
    g = torch.Generator().manual_seed(0)
    supp = torch.rand(trials, width, n, generator=g).argsort(-1)[..., :s]
    hit = ((supp == 0).any(-1) & (supp == 1).any(-1)).any(-1).float().mean().item()
    p = lpn.covering_probability(n, k, s, width)
    assert abs(hit - p) < 4 * (p * (1 - p) / trials) ** 0.5


def test_fixed_samples_nested_and_labelled():
    task = lpn.lpn_task(10, 3, 0.0, seed=1)
    X, Y, m = lpn.fixed_samples(task, [5, 20, 20], seeds=[7, 7, 8])
    assert X.shape == (3, 20, 10) and Y.shape == (3, 20) and m.tolist() == [5, 20, 20]
    assert torch.equal(X[0], X[1])                            # same seed: nested (here equal) streams
    assert not torch.equal(X[1], X[2])
    assert torch.equal(Y, task.label(X))                      # noiseless labels
    with pytest.raises(ValueError):
        lpn.fixed_samples(task, [5, 6], seeds=[1])


def test_offline_batches_stay_inside_each_sample():
    task = lpn.lpn_task(8, 2, 0.0, seed=0)
    X, Y, m = lpn.fixed_samples(task, [3, 50], seeds=[0, 1])
    batches = lpn.offline_batches(X, Y, m, batch=64)
    xb, yb = batches(0, torch.Generator().manual_seed(0))
    assert xb.shape == (2, 64, 8) and yb.shape == (2, 64)
    first = {tuple(r) for r in X[0, :3].tolist()}
    assert all(tuple(r) in first for r in xb[0].tolist())     # member 0 only sees its 3 examples
    assert torch.equal(yb, task.label(xb))
    with pytest.raises(ValueError):
        lpn.offline_batches(X, Y, torch.tensor([3, 51]), batch=4)


def test_lpn_noise_rate():
    task = lpn.lpn_task(16, 4, 0.2, seed=3)
    assert task.k == 4 and task.noise == 0.2
    x, y = task.sample(20000, generator=torch.Generator().manual_seed(0))
    flip = (y != task.label(x)).float().mean().item()
    assert abs(flip - 0.2) < 0.015
