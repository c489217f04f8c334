"""Tests of lmt_core.tasks.data_order (storage-aware data orders) and
lmt_core.analysis.buffer_mean_variance."""

import itertools

import numpy as np
import pytest

from lmt_core import analysis, tasks


def toy_shards(S=12, size=10):
    return [np.arange(size * j, size * j + size) for j in range(S)]


def test_label_sorted_shards_are_homogeneous_and_partition():
    labels = np.repeat(np.arange(4), 25)[np.random.default_rng(0).permutation(100)]
    shards = tasks.label_sorted_shards(labels, 8)
    assert len(shards) == 8
    assert sorted(np.concatenate(shards).tolist()) == list(range(100))
    assert all(len(set(labels[s].tolist())) <= 2 for s in shards)
    with pytest.raises(ValueError):
        tasks.label_sorted_shards(labels, 0)


@pytest.mark.parametrize("name", ["full_random", "shard_sequential", "corgipile"])
def test_every_strategy_visits_every_example_once(name):
    shards, rng = toy_shards(), np.random.default_rng(0)
    if name == "corgipile":
        order, acc = tasks.corgipile(shards, 3, rng)
    else:
        order, acc = getattr(tasks, name)(shards, rng)
    assert sorted(order.tolist()) == list(range(120))
    assert acc == {"full_random": 120, "shard_sequential": 12, "corgipile": 12}[name]


def test_sequential_keeps_storage_order():
    order, _ = tasks.shard_sequential(toy_shards())
    assert order.tolist() == list(range(120))


def test_corgipile_buffers_hold_whole_shards_and_are_shuffled():
    order, _ = tasks.corgipile(toy_shards(), 3, np.random.default_rng(1))
    for i in range(0, 120, 30):
        chunk = order[i : i + 30]
        ids = chunk // 10
        assert len(set(ids.tolist())) == 3
        assert all((ids == j).sum() == 10 for j in set(ids.tolist()))
    assert not all(np.all(np.diff(order[i : i + 30]) > 0) for i in range(0, 120, 30))


def test_corgi2_offline_rewrites_shards_from_buffers():
    shards = toy_shards()
    new, acc = tasks.corgi2_offline(shards, 3, np.random.default_rng(2))
    assert acc == 24  # S reads and S writes
    assert [len(s) for s in new] == [10] * 12
    assert sorted(np.concatenate(new).tolist()) == list(range(120))
    for g in range(0, 12, 3):  # a group of 3 new shards comes from 3 old shards
        old = set((np.concatenate(new[g : g + 3]) // 10).tolist())
        assert len(old) == 3
    assert np.mean([len(set((s // 10).tolist())) for s in new]) > 2  # new shards are mixed


def test_buffer_mean_variance_matches_enumeration():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(7, 3))
    for b in (1, 2, 3, 7):
        exact = np.mean(
            [
                np.sum((mu[list(B)].mean(0) - mu.mean(0)) ** 2)
                for B in itertools.combinations(range(7), b)
            ]
        )
        assert analysis.buffer_mean_variance(mu, b) == pytest.approx(exact)
    with pytest.raises(ValueError):
        analysis.buffer_mean_variance(mu, 8)


def test_empty_shards_are_rejected():
    with pytest.raises(ValueError):
        tasks.full_random([], np.random.default_rng(0))
