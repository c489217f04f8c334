"""Tests of lmt_core.tasks.local_parity."""

import pytest
import torch

from lmt_core.tasks import SparseParity, local_parity


def test_local_parity_support_and_labels():
    task = local_parity.local_parity(10, 3, 4)
    assert isinstance(task, SparseParity) and task.support == (4, 5, 6) and task.k == 3
    x, y = task.sample(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, x[:, 4] * x[:, 5] * x[:, 6])
    assert local_parity.window_start(task) == 4


def test_random_local_parity_is_seeded_and_covers_all_starts():
    starts = {local_parity.window_start(local_parity.random_local_parity(8, 3, seed=s)) for s in range(200)}
    assert starts == set(range(6))
    assert local_parity.random_local_parity(8, 3, seed=5) == local_parity.random_local_parity(8, 3, seed=5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="start"):
        local_parity.local_parity(10, 3, 8)
    with pytest.raises(ValueError, match="k"):
        local_parity.local_parity(4, 5, 0)
    with pytest.raises(ValueError, match="consecutive"):
        local_parity.window_start(SparseParity(10, (1, 3)))
