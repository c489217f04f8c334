"""Learning-rate schedules as functions of the step: ``schedule(t) -> s_t``, a multiplier of the
base learning rate η (so the step size at update t is η s_t). Pass one to
``train.fit(..., lr_schedule=schedule)`` or call it in your own loop.

- :func:`constant` — s_t = 1.
- :func:`warmup` — linear warm-up, then s_t = 1.
- :func:`cosine` — linear warm-up, then a half cosine from 1 down to ``final``.
- :func:`wsd` — warm-up, stable (s_t = 1), decay: the warmup–stable–decay schedule, whose long
  stable branch can be decayed at any budget.
- :func:`wsd_s` — WSD-S: one run that passes several budgets; at each it decays, then returns to
  the stable rate *from the decayed weights* (no branching, no rollback).

Each function returns a small frozen dataclass (:class:`Constant`, :class:`Warmup`,
:class:`Cosine`, :class:`WSD`, :class:`WSDS`) that is called like a function. Its ``repr`` names
the schedule and its settings, e.g. ``WSD(total=1000, warmup=20, decay=200, final=0.0,
shape='linear')``, so :func:`lmt_core.train.fit` can key a checkpoint on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from lmt_core._checks import check_choice, check_int

__all__ = [
    "Schedule",
    "DECAY_SHAPES",
    "constant",
    "warmup",
    "cosine",
    "wsd",
    "wsd_s",
    "Constant",
    "Warmup",
    "Cosine",
    "WSD",
    "WSDS",
]

Schedule = Callable[[int], float]
DECAY_SHAPES = ("linear", "cosine", "sqrt")


def _fraction(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _decay(u: float, shape: str, final: float) -> float:
    """Multiplier after a fraction ``u`` ∈ [0, 1] of a decay phase from 1 to ``final``."""
    u = min(max(u, 0.0), 1.0)
    if shape == "linear":
        w = 1.0 - u
    elif shape == "cosine":
        w = 0.5 * (1.0 + math.cos(math.pi * u))
    else:  # "sqrt": 1 − √u, which drops fastest at the start of the decay
        w = 1.0 - math.sqrt(u)
    return final + (1.0 - final) * w


def _ramp(t: int, warmup: int) -> float:
    """Linear warm-up multiplier (t + 1)/warmup at step t < warmup."""
    return (t + 1) / warmup


@dataclass(frozen=True)
class Constant:
    """s_t = 1 for every t (see :func:`constant`)."""

    def __call__(self, t: int) -> float:
        return 1.0


@dataclass(frozen=True)
class Warmup:
    """Linear warm-up over ``warmup`` steps, then s_t = 1 (see :func:`warmup`)."""

    total: int
    warmup: int

    def __call__(self, t: int) -> float:
        return _ramp(t, self.warmup) if t < self.warmup else 1.0


@dataclass(frozen=True)
class Cosine:
    """Linear warm-up, then a half cosine from 1 to ``final`` at ``total`` (see :func:`cosine`)."""

    total: int
    warmup: int
    final: float

    def __call__(self, t: int) -> float:
        if t < self.warmup:
            return _ramp(t, self.warmup)
        return _decay((t - self.warmup) / (self.total - self.warmup), "cosine", self.final)


@dataclass(frozen=True)
class WSD:
    """Warm-up, stable, decay over the last ``decay`` steps before ``total`` (see :func:`wsd`)."""

    total: int
    warmup: int
    decay: int
    final: float
    shape: str

    def __call__(self, t: int) -> float:
        if t < self.warmup:
            return _ramp(t, self.warmup)
        start = self.total - self.decay
        if t < start or self.decay == 0:
            return 1.0
        return _decay((t - start + 1) / self.decay, self.shape, self.final)


@dataclass(frozen=True)
class WSDS:
    """WSD-S through increasing ``budgets`` (see :func:`wsd_s`)."""

    budgets: tuple[int, ...]
    warmup: int
    decay: float
    final: float
    shape: str

    def __call__(self, t: int) -> float:
        if t < self.warmup:
            return _ramp(t, self.warmup)
        for a, b in zip((0, *self.budgets[:-1]), self.budgets):
            if t < b:
                d = int(round(self.decay * (b - a)))
                if d == 0 or t < b - d:
                    return 1.0
                return _decay((t - (b - d) + 1) / d, self.shape, self.final)
        return 1.0  # after the last budget: back on the stable branch


def constant() -> Constant:
    """s_t = 1 for every t."""
    return Constant()


def warmup(total: int, warmup: int) -> Warmup:
    """Linear warm-up from 1/warmup to 1 over the first ``warmup`` steps, then s_t = 1.

    Args:
        total: the run's length in steps (checked: ``warmup <= total``; s_t = 1 also after it).
        warmup: steps of warm-up, ``s_t = (t + 1)/warmup`` for t < warmup (0: no warm-up).

    This is the stable branch of WSD, the same as ``wsd(total, warmup=warmup, decay=0)``.
    """
    check_int("total", total, minimum=1)
    check_int("warmup", warmup, minimum=0, maximum=total)
    return Warmup(total=total, warmup=warmup)


def cosine(total: int, *, warmup: int = 0, final: float = 0.0) -> Cosine:
    """Linear warm-up over ``warmup`` steps, then s_t = final + (1 − final)(1 + cos(π u))/2 with
    u = (t − warmup)/(total − warmup); s_t = final for t ≥ total."""
    check_int("total", total, minimum=1)
    check_int("warmup", warmup, minimum=0, maximum=total - 1)
    return Cosine(total=total, warmup=warmup, final=_fraction("final", final))


def wsd(
    total: int,
    *,
    warmup: int = 0,
    decay: int | float = 0.1,
    final: float = 0.0,
    shape: str = "linear",
) -> WSD:
    """Warm-up, stable, decay.

    Args:
        total: the budget T (steps).
        warmup: steps of linear warm-up from η/warmup to η.
        decay: length of the decay phase, in steps (int) or as a fraction of ``total`` (float).
        final: multiplier reached at the end of the decay.
        shape: ``"linear"``, ``"cosine"`` or ``"sqrt"`` decay.

    s_t = 1 on the stable phase [warmup, T − decay); the decay phase ends exactly at T.
    """
    check_int("total", total, minimum=1)
    check_int("warmup", warmup, minimum=0)
    final = _fraction("final", final)
    check_choice("shape", shape, DECAY_SHAPES)
    if isinstance(decay, float):
        decay = int(round(_fraction("decay", decay) * total))
    check_int("decay", decay, minimum=0)
    if warmup + decay > total:
        raise ValueError(f"warmup ({warmup}) + decay ({decay}) must not exceed total ({total})")
    return WSD(total=total, warmup=warmup, decay=decay, final=final, shape=shape)


def wsd_s(
    budgets: Sequence[int],
    *,
    warmup: int = 0,
    decay: float = 0.1,
    final: float = 0.0,
    shape: str = "linear",
) -> WSDS:
    """WSD-S: one run through increasing ``budgets`` T_1 < T_2 < …; before each T_i the rate
    decays over ``decay`` × (T_i − T_{i−1}) steps, and at T_i it jumps back to 1 and the run goes
    on from the decayed weights. The checkpoint at T_i is the model for budget T_i.
    """
    if not isinstance(budgets, Sequence) or len(budgets) == 0:
        raise ValueError("budgets must be a non-empty increasing sequence of steps")
    for i, b in enumerate(budgets):
        check_int(f"budgets[{i}]", b, minimum=1)
    if any(b2 <= b1 for b1, b2 in zip(budgets, budgets[1:])):
        raise ValueError(f"budgets must be strictly increasing, got {list(budgets)}")
    decay = _fraction("decay", decay)
    final = _fraction("final", final)
    check_choice("shape", shape, DECAY_SHAPES)
    check_int("warmup", warmup, minimum=0, maximum=budgets[0])
    return WSDS(
        budgets=tuple(int(b) for b in budgets), warmup=warmup, decay=decay, final=final, shape=shape
    )
