"""Storage-aware data orders for SGD: what an epoch looks like when data live in shards.

A data set of N examples is stored in S shards (lists of example indices). Reading a whole shard
costs one *storage access*; fetching a single example by random access also costs one access. Each
strategy returns the visiting order of one epoch and the number of accesses it made:

- :func:`full_random` — a uniform permutation of all examples: N accesses;
- :func:`shard_sequential` — shards one after the other, examples in stored order: S accesses;
- :func:`corgipile` — shards in random order, ``buffer`` at a time; each buffer is shuffled:
  S accesses;
- :func:`corgi2_offline` — one offline CorgiPile pass that *rewrites* the shards (each buffer
  of ``buffer`` shards is shuffled and written back as ``buffer`` new shards): S reads + S
  writes, once.
  Corgi² = this offline pass, then :func:`corgipile` on the new shards every epoch.

The orders are index arrays (NumPy): they index a data set that may live anywhere, and drawing them
needs no tensor device. The variance of a buffer's mean, the chapter's prediction for how much a
buffer mixes, is :func:`lmt_core.analysis.buffer_mean_variance`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lmt_core._checks import check_int

__all__ = ["label_sorted_shards", "full_random", "shard_sequential", "corgipile", "corgi2_offline"]

Shards = list[np.ndarray]


def _check_shards(shards: Sequence[np.ndarray]) -> None:
    if len(shards) == 0 or any(len(s) == 0 for s in shards):
        raise ValueError("shards must be a non-empty list of non-empty index arrays")


def label_sorted_shards(labels: np.ndarray, n_shards: int) -> Shards:
    """Homogeneous shards: sort the examples by label (stably) and cut into ``n_shards`` nearly
    equal contiguous pieces, so that each shard holds one or two labels."""
    labels = np.asarray(labels)
    check_int("n_shards", n_shards, minimum=1, maximum=len(labels))
    order = np.argsort(labels, kind="stable")
    return [np.asarray(s) for s in np.array_split(order, n_shards)]


def full_random(shards: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One epoch in uniformly random order; every example is one random access."""
    _check_shards(shards)
    allx = np.concatenate(shards)
    return rng.permutation(allx), len(allx)


def shard_sequential(
    shards: Sequence[np.ndarray], rng: np.random.Generator | None = None
) -> tuple[np.ndarray, int]:
    """One epoch reading the shards in stored order (no shuffling at all): S accesses."""
    _check_shards(shards)
    return np.concatenate(shards), len(shards)


def corgipile(
    shards: Sequence[np.ndarray], buffer: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """CorgiPile: visit the shards in random order, ``buffer`` shards at a time; shuffle the
    examples inside each buffer. Each shard is read once: S accesses."""
    _check_shards(shards)
    check_int("buffer", buffer, minimum=1)
    perm = rng.permutation(len(shards))
    parts = []
    for i in range(0, len(shards), buffer):
        pool = np.concatenate([shards[j] for j in perm[i : i + buffer]])
        parts.append(rng.permutation(pool))
    return np.concatenate(parts), len(shards)


def corgi2_offline(
    shards: Sequence[np.ndarray], buffer: int, rng: np.random.Generator
) -> tuple[Shards, int]:
    """The offline step of Corgi²: one CorgiPile pass whose shuffled buffers are written back to
    storage as new shards (a buffer of b shards becomes b new shards of the same sizes).
    Returns the new shards and the accesses (S reads + S writes)."""
    _check_shards(shards)
    check_int("buffer", buffer, minimum=1)
    perm = rng.permutation(len(shards))
    new: Shards = []
    for i in range(0, len(shards), buffer):
        group = [shards[j] for j in perm[i : i + buffer]]
        pool = rng.permutation(np.concatenate(group))
        cuts = np.cumsum([len(s) for s in group])[:-1]
        new.extend(np.split(pool, cuts))
    return new, 2 * len(shards)
