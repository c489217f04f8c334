"""Tests of the local parities of lmt_core.tasks.boolean."""

import pytest
import torch

from lmt_core import tasks
from lmt_core.tasks import SparseParity


def test_local_parity_support_and_labels():
    task = tasks.local_parity(10, 3, 4)
    assert isinstance(task, SparseParity) and task.support == (4, 5, 6) and task.k == 3
    x, y = task.sample(50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, x[:, 4] * x[:, 5] * x[:, 6])
    assert tasks.window_start(task) == 4


def test_random_local_parity_is_seeded_and_covers_all_starts():
    starts = {tasks.window_start(tasks.random_local_parity(8, 3, seed=s)) for s in range(200)}
    assert starts == set(range(6))
    assert tasks.random_local_parity(8, 3, seed=5) == tasks.random_local_parity(8, 3, seed=5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="start"):
        tasks.local_parity(10, 3, 8)
    with pytest.raises(ValueError, match="k"):
        tasks.local_parity(4, 5, 0)
    with pytest.raises(ValueError, match="consecutive"):
        tasks.window_start(SparseParity(10, (1, 3)))
