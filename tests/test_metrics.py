"""Tests of lmt_core.analysis.metrics."""

import pytest
import torch

from lmt_core import analysis


def test_token_accuracy_ignores_unscored_positions():
    targets = torch.tensor([[-100, 1, 2]])
    logits = torch.nn.functional.one_hot(torch.tensor([[0, 1, 0]]), 3).float()
    assert analysis.token_accuracy(logits, targets).item() == pytest.approx(0.5)


def test_token_accuracy_keeps_leading_dimensions_and_checks_shapes():
    targets = torch.tensor([[0, 1], [-100, 2]])
    right = torch.nn.functional.one_hot(targets.clamp(min=0), 3).float()
    logits = torch.stack([right, -right])  # member 0 right, member 1 wrong
    assert analysis.token_accuracy(logits, targets).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="logits"):
        analysis.token_accuracy(right[0, 0], targets)
