"""lmt_core — the small library behind the LMT book.

Subpackages and modules (each ``__init__`` re-exports its public names):

- :mod:`~lmt_core.runtime` — seeds, device, the quick/full scale, progress bars, checkpoints.
- :mod:`~lmt_core.tasks` — data generators, all following one task contract.
- :mod:`~lmt_core.models` — the networks, plain ``nn.Module`` s.
- :mod:`~lmt_core.ensemble` — many models trained as one (its transformer fast path lives in
  :mod:`~lmt_core.stacked_transformer`, re-exported by ``ensemble``).
- :mod:`~lmt_core.train` — the training loop :func:`~lmt_core.train.fit`.
- :mod:`~lmt_core.optim` — learning-rate schedules, MeZO, SAM.
- :mod:`~lmt_core.analysis` — measurements on models and data (Fourier–Walsh, Hermite,
  Hessians, tangent kernels, memory, fits, ...).
- :mod:`~lmt_core.plotting` — the house style of the figures.
- :mod:`~lmt_core.notebook` — glue, widgets and ``show_source`` for the chapters.
- :mod:`~lmt_core.reproduce` — each paper's checked result, for the full-mode records.
"""

from lmt_core import (
    analysis,
    ensemble,
    models,
    notebook,
    optim,
    plotting,
    reproduce,
    runtime,
    stacked_transformer,
    tasks,
    train,
)

__version__ = "0.1.0"
__all__ = [
    "analysis",
    "ensemble",
    "models",
    "notebook",
    "optim",
    "plotting",
    "reproduce",
    "runtime",
    "stacked_transformer",
    "tasks",
    "train",
    "__version__",
]
