"""Optimizers and learning-rate schedules, one submodule per topic.

- :mod:`~lmt_core.optim.schedules` — cosine, warmup–stable–decay (WSD) and WSD-S schedules,
  for ``train.fit(..., lr_schedule=...)``.
- :mod:`~lmt_core.optim.mezo` — MeZO, zeroth-order SGD with seeded in-place perturbations.

Import the submodule you need, e.g. ``from lmt_core.optim import schedules``.
"""
