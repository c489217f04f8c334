"""Lottery-ticket coverage: how likely random sparse units are to see a hidden k-set (Chapter 2).

* :func:`covering_probability` — the probability that a hidden unit whose first-layer weights
  start on ``s`` random coordinates sees all ``k`` relevant ones, and the probability that at
  least one of ``width`` such units does.
"""

from __future__ import annotations

from math import comb

from lmt_core._checks import check_int

__all__ = ["covering_probability"]


def covering_probability(n: int, k: int, s: int, width: int = 1) -> float:
    """Probability that at least one of ``width`` units covers a fixed k-set S.

    Used in Chapter 2, § The covering probability in code (checked against a simulation, and
    set beside the trained networks' success rates in § Experiment).

    Each unit's support is a uniformly random s-subset of [n], independently across units. One
    unit covers S (S ⊆ support) with probability p = C(n-k, s-k) / C(n, s); at least one of
    ``width`` units does with probability 1 - (1 - p)^width.

    Returns:
        A float in [0, 1] (0 when s < k).
    """
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    check_int("s", s, minimum=1, maximum=n)
    check_int("width", width, minimum=1)
    if s < k:
        return 0.0
    p = comb(n - k, s - k) / comb(n, s)
    return 1.0 - (1.0 - p) ** width
