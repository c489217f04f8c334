"""lmt_core — the small library behind the LMT book.

Modules: :mod:`runtime` (seeds, device, quick/full scale), :mod:`tasks` (data generators),
:mod:`models` (MLP), :mod:`ensemble` (many models as one), :mod:`train` (the training loop),
:mod:`analysis` (Fourier–Walsh, progress measures, slope fits), :mod:`plotting` (house style), :mod:`notebook` (glue, widgets).
"""

from lmt_core import analysis, ensemble, models, notebook, plotting, runtime, tasks, train

__version__ = "0.1.0"
__all__ = ["analysis", "ensemble", "models", "notebook", "plotting", "runtime", "tasks", "train", "__version__"]
