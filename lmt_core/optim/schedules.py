"""Learning-rate schedules as functions of the step: ``schedule(t) -> s_t``, a multiplier of the
base learning rate η (so the step size at update t is η s_t). Pass one to
``train.fit(..., lr_schedule=schedule)`` or call it in your own loop.

- :func:`constant` — s_t = 1.
- :func:`cosine` — linear warm-up, then a half cosine from 1 down to ``final``.
- :func:`wsd` — warm-up, stable (s_t = 1), decay: the warmup–stable–decay schedule, whose long
  stable branch can be decayed at any budget.
- :func:`wsd_s` — WSD-S: one run that passes several budgets; at each it decays, then returns to
  the stable rate *from the decayed weights* (no branching, no rollback).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from lmt_core._checks import check_choice, check_int

__all__ = ["Schedule", "DECAY_SHAPES", "constant", "cosine", "wsd", "wsd_s"]

Schedule = Callable[[int], float]
DECAY_SHAPES = ("linear", "cosine", "sqrt")


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
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


def constant() -> Schedule:
    """s_t = 1 for every t."""
    return lambda t: 1.0


def cosine(total: int, *, warmup: int = 0, final: float = 0.0) -> Schedule:
    """Linear warm-up over ``warmup`` steps, then s_t = final + (1 − final)(1 + cos(π u))/2 with
    u = (t − warmup)/(total − warmup); s_t = final for t ≥ total."""
    check_int("total", total, minimum=1)
    check_int("warmup", warmup, minimum=0, maximum=total - 1)
    final = _fraction("final", final)

    def s(t: int) -> float:
        if t < warmup:
            return (t + 1) / warmup
        return _decay((t - warmup) / (total - warmup), "cosine", final)

    return s


def wsd(total: int, *, warmup: int = 0, decay: int | float = 0.1, final: float = 0.0,
        shape: str = "linear") -> Schedule:
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
    start = total - decay

    def s(t: int) -> float:
        if t < warmup:
            return (t + 1) / warmup
        if t < start or decay == 0:
            return 1.0
        return _decay((t - start + 1) / decay, shape, final)

    return s


def wsd_s(budgets: Sequence[int], *, warmup: int = 0, decay: float = 0.1, final: float = 0.0,
          shape: str = "linear") -> Schedule:
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
    starts = [0, *budgets[:-1]]
    ends = list(budgets)

    def s(t: int) -> float:
        if t < warmup:
            return (t + 1) / warmup
        for a, b in zip(starts, ends):
            if t < b:
                d = int(round(decay * (b - a)))
                if d == 0 or t < b - d:
                    return 1.0
                return _decay((t - (b - d) + 1) / d, shape, final)
        return 1.0  # after the last budget: back on the stable branch

    return s
