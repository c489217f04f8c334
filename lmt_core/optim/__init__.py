"""Optimizers and learning-rate schedules, one submodule per topic; every public name is
re-exported here (``optim.wsd``, ``optim.MeZO``, ...).

- :mod:`~lmt_core.optim.schedules` — constant, warm-up, cosine, warmup–stable–decay (WSD) and
  WSD-S schedules, for ``train.fit(..., lr_schedule=...)``.
- :mod:`~lmt_core.optim.mezo` — MeZO, zeroth-order SGD with seeded in-place perturbations.
- :mod:`~lmt_core.optim.sam` — sharpness-aware minimization (full-batch and stochastic SAM).

The chapters usually write the submodule, e.g. ``optim.schedules.wsd(...)``.
"""

from lmt_core.optim import mezo, sam, schedules
from lmt_core.optim.mezo import MeZO, perturb, restore_error
from lmt_core.optim.sam import sam_gradient, sam_step, stochastic_sam_step
from lmt_core.optim.schedules import (
    DECAY_SHAPES,
    WSD,
    WSDS,
    Constant,
    Cosine,
    Schedule,
    Warmup,
    constant,
    cosine,
    warmup,
    wsd,
    wsd_s,
)

__all__ = [
    # schedules
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
    # mezo
    "MeZO",
    "perturb",
    "restore_error",
    # sam
    "sam_gradient",
    "sam_step",
    "stochastic_sam_step",
    # submodules
    "mezo",
    "sam",
    "schedules",
]
