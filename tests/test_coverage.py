"""Tests of lmt_core.analysis.coverage: the lottery-ticket covering probability (Chapter 2)."""

from itertools import combinations
from math import comb

import pytest
import torch

from lmt_core import analysis


def test_covering_probability_matches_enumeration():
    n, k, s = 7, 2, 3
    S = {0, 1}
    supports = list(combinations(range(n), s))
    p_enum = sum(S <= set(T) for T in supports) / len(supports)
    assert analysis.covering_probability(n, k, s) == pytest.approx(p_enum)
    assert analysis.covering_probability(n, k, s, width=5) == pytest.approx(1 - (1 - p_enum) ** 5)


def test_covering_probability_edge_cases():
    assert analysis.covering_probability(10, 3, 2) == 0.0  # s < k: never covers
    assert analysis.covering_probability(10, 3, 10) == 1.0  # dense: always covers
    assert analysis.covering_probability(10, 3, 3) == pytest.approx(1 / comb(10, 3))
    with pytest.raises(ValueError):
        analysis.covering_probability(10, 11, 3)
    with pytest.raises(ValueError):
        analysis.covering_probability(10, 3, 4, width=0)


def test_covering_probability_monte_carlo():
    n, k, s, width, trials = 12, 2, 4, 3, 20000
    g = torch.Generator().manual_seed(0)
    supp = torch.rand(trials, width, n, generator=g).argsort(-1)[..., :s]
    hit = ((supp == 0).any(-1) & (supp == 1).any(-1)).any(-1).float().mean().item()
    p = analysis.covering_probability(n, k, s, width)
    assert abs(hit - p) < 4 * (p * (1 - p) / trials) ** 0.5
