"""Tests of lmt_core.tasks.noisy_labels: label noise at rate p (signs and classes)."""

import pytest
import torch

from lmt_core import tasks


def test_flip_signs_rate_and_values():
    g = torch.Generator().manual_seed(0)
    y = torch.ones(20000)
    z = tasks.flip_signs(y, 0.3, generator=g)
    assert set(z.unique().tolist()) <= {-1.0, 1.0}
    assert abs((z < 0).float().mean().item() - 0.3) < 0.02
    assert torch.equal(tasks.flip_signs(y, 0.0, generator=g), y)


def test_flip_classes_never_keeps_a_flipped_label_and_stays_in_range():
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 10, (20000,), generator=g)
    z = tasks.flip_classes(y, 0.25, 10, generator=g)
    assert int(z.min()) >= 0 and int(z.max()) < 10
    assert abs((z != y).float().mean().item() - 0.25) < 0.02
    assert torch.equal(
        tasks.flip_classes(y, 1.0, 10, generator=g) != y, torch.ones_like(y, dtype=torch.bool)
    )


def test_bad_arguments():
    g = torch.Generator()
    with pytest.raises(ValueError):
        tasks.flip_signs(torch.ones(3), 1.5, generator=g)
    with pytest.raises(TypeError):
        tasks.flip_signs(torch.ones(3), 0.1, generator=0)
    with pytest.raises(ValueError):
        tasks.flip_classes(torch.tensor([0, 3]), 0.1, 3, generator=g)
