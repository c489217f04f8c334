"""Tests of lmt_core.optim.schedules and of schedules inside train.fit."""

import math

import pytest
import torch

from lmt_core import train
from lmt_core.optim import schedules


def values(s, n):
    return [s(t) for t in range(n)]


def test_constant():
    assert values(schedules.constant(), 3) == [1.0, 1.0, 1.0]


def test_cosine_warmup_and_endpoints():
    s = schedules.cosine(110, warmup=10, final=0.1)
    assert s(0) == pytest.approx(0.1) and s(9) == pytest.approx(1.0)
    assert s(10) == pytest.approx(1.0)
    assert s(60) == pytest.approx(0.1 + 0.9 * 0.5)  # half-way: the cosine is at 0
    assert s(110) == pytest.approx(0.1) and s(500) == pytest.approx(0.1)
    v = values(s, 110)[10:]
    assert all(a >= b for a, b in zip(v, v[1:]))


@pytest.mark.parametrize("shape", schedules.DECAY_SHAPES)
def test_wsd_is_stable_then_decays_to_final_at_the_budget(shape):
    s = schedules.wsd(100, warmup=5, decay=0.2, final=0.0, shape=shape)
    v = values(s, 100)
    assert v[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert v[5:80] == [1.0] * 75
    assert v[99] == pytest.approx(0.0, abs=1e-12)
    assert all(a >= b for a, b in zip(v[80:], v[81:]))
    assert schedules.wsd(100, decay=20)(79) == 1.0


def test_wsd_s_decays_before_each_budget_and_returns_to_stable():
    s = schedules.wsd_s([100, 200, 400], decay=0.1, final=0.0)
    assert s(89) == 1.0 and s(99) == pytest.approx(0.0)  # decay over the last 10 steps
    assert s(100) == 1.0  # back to the stable rate
    assert s(189) == 1.0 and s(199) == pytest.approx(0.0)
    assert s(379) == 1.0 and s(385) < 1.0 and s(399) == pytest.approx(0.0)
    assert s(1000) == 1.0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: schedules.wsd(10, warmup=8, decay=5), "must not exceed"),
        (lambda: schedules.wsd(10, decay=1.5), "decay"),
        (lambda: schedules.wsd(10, shape="exp"), "shape"),
        (lambda: schedules.cosine(0), "total"),
        (lambda: schedules.wsd_s([100, 50]), "increasing"),
        (lambda: schedules.wsd_s([]), "non-empty"),
        (lambda: schedules.cosine(10, final=2.0), "final"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_fit_applies_the_schedule():
    """Plain GD on f(w) = w²/2 with a schedule: w_T = w_0 Π (1 − η s_t), a closed form."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    x, y = torch.ones(1, 1), torch.zeros(1, 1)
    s = schedules.wsd(10, warmup=2, decay=4)
    # loss (w − 0)² has gradient 2w: w ← w (1 − 2 η s_t)
    train.fit(model, lambda t, g: (x, y), steps=10, lr=0.1, lr_schedule=s, progress=False)
    want = math.prod(1 - 0.2 * s(t) for t in range(10))
    assert model.weight.item() == pytest.approx(want, rel=1e-5)
    with pytest.raises(TypeError, match="lr_schedule"):
        train.fit(model, lambda t, g: (x, y), steps=1, lr_schedule=0.5, progress=False)


def test_warmup_ramps_then_stays_constant():
    s = schedules.warmup(100, 4)
    assert values(s, 7) == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0])
    assert s(10**6) == 1.0
    assert values(schedules.warmup(10, 0), 3) == [1.0, 1.0, 1.0]
    # the stable branch of WSD, spelled out
    assert values(s, 100) == values(schedules.wsd(100, warmup=4, decay=0), 100)
    with pytest.raises(ValueError, match="warmup"):
        schedules.warmup(10, 11)
    with pytest.raises(ValueError, match="total"):
        schedules.warmup(0, 0)


def test_schedules_have_a_stable_repr():
    """fit keys checkpoints on the repr: it names the schedule and its settings, no address."""
    made = [
        schedules.constant(),
        schedules.warmup(50, 5),
        schedules.cosine(50, warmup=5),
        schedules.wsd(50, warmup=5, decay=0.2),
        schedules.wsd_s([20, 50], warmup=5),
    ]
    again = [
        schedules.constant(),
        schedules.warmup(50, 5),
        schedules.cosine(50, warmup=5),
        schedules.wsd(50, warmup=5, decay=0.2),
        schedules.wsd_s([20, 50], warmup=5),
    ]
    for a, b in zip(made, again):
        assert repr(a) == repr(b) and a == b and " at 0x" not in repr(a)
    assert repr(schedules.wsd(50, decay=10)) != repr(schedules.wsd(50, decay=11))
    assert "WSD(total=50" in repr(made[3])
