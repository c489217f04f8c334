"""The variance of a buffer of shards: how much a CorgiPile buffer mixes homogeneous shards.

The data orders themselves (CorgiPile, Corgi², …) are in :mod:`lmt_core.tasks.data_order`.
"""

from __future__ import annotations

import numpy as np

from lmt_core._checks import check_int

__all__ = ["buffer_mean_variance"]


def buffer_mean_variance(shard_means: np.ndarray, buffer: int) -> float:
    """Exact E‖m_B − μ̄‖² for the mean m_B of ``buffer`` shard means drawn without replacement.

    Used in Chapter 15, § How much a buffer mixes (the proposition "Variance of a buffer of
    shards", checked by Monte Carlo in § Construction in code: the variance, measured).

    With S equal-size shards of means μ_j (rows of ``shard_means``, shape ``(S, ...)``), mean
    μ̄ and between-shard variance σ_b² = (1/S) Σ_j ‖μ_j − μ̄‖², a uniformly random set of
    b = ``buffer`` shards has E‖m_B − μ̄‖² = (S − b)/(S − 1) · σ_b²/b.

    Returns:
        the expected squared distance, a float (0 for a single shard).
    """
    mu = np.asarray(shard_means, dtype=float)
    if mu.ndim == 0 or len(mu) == 0:
        raise ValueError("shard_means must have shape (S, ...) with S >= 1")
    mu = mu.reshape(len(mu), -1)
    S = len(mu)
    b = check_int("buffer", buffer, minimum=1, maximum=S)
    if S == 1:
        return 0.0
    # σ_b²: the mean squared distance of a shard mean from the overall mean
    sigma_b2 = float(((mu - mu.mean(0)) ** 2).sum(1).mean())
    # without replacement, the b - 1 other shards of B are negatively correlated with the first
    # (the deviations sum to 0), which gives the finite-population factor (S - b)/(S - 1)
    return (S - b) / (S - 1) * sigma_b2 / b
