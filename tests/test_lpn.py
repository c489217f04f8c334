"""Tests of the LPN helpers of lmt_core.tasks.boolean: fixed samples, offline batches,
lpn_task (the covering probability: test_coverage.py)."""

import pytest
import torch

from lmt_core import tasks


def test_fixed_samples_nested_and_labelled():
    task = tasks.lpn_task(10, 3, 0.0, seed=1)
    X, Y, m = tasks.fixed_samples(task, [5, 20, 20], seeds=[7, 7, 8])
    assert X.shape == (3, 20, 10) and Y.shape == (3, 20) and m.tolist() == [5, 20, 20]
    assert torch.equal(X[0], X[1])  # same seed: nested (here equal) streams
    assert not torch.equal(X[1], X[2])
    assert torch.equal(Y, task.label(X))  # noiseless labels
    with pytest.raises(ValueError):
        tasks.fixed_samples(task, [5, 6], seeds=[1])


def test_offline_batches_stay_inside_each_sample():
    task = tasks.lpn_task(8, 2, 0.0, seed=0)
    X, Y, m = tasks.fixed_samples(task, [3, 50], seeds=[0, 1])
    batches = tasks.offline_batches(X, Y, m, batch=64)
    xb, yb = batches(0, torch.Generator().manual_seed(0))
    assert xb.shape == (2, 64, 8) and yb.shape == (2, 64)
    first = {tuple(r) for r in X[0, :3].tolist()}
    assert all(tuple(r) in first for r in xb[0].tolist())  # member 0 only sees its 3 examples
    assert torch.equal(yb, task.label(xb))
    with pytest.raises(ValueError):
        tasks.offline_batches(X, Y, torch.tensor([3, 51]), batch=4)


def test_lpn_noise_rate():
    task = tasks.lpn_task(16, 4, 0.2, seed=3)
    assert task.k == 4 and task.noise == 0.2
    x, y = task.sample(20000, generator=torch.Generator().manual_seed(0))
    flip = (y != task.label(x)).float().mean().item()
    assert abs(flip - 0.2) < 0.015
