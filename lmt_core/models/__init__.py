"""Models. Each is a plain ``torch.nn.Module`` that a reader can read in one sitting.

- :mod:`~lmt_core.models.mlp` — fully connected networks with a seeded initialisation.
- :mod:`~lmt_core.models.transformer` — a minimal decoder-only transformer with attention maps.
- :mod:`~lmt_core.models.recurrent` — fixed-state sequence models: LSTM and a selective SSM.
"""

from lmt_core.models.mlp import ACTIVATIONS, MLP
from lmt_core.models.recurrent import LSTM, SSM
from lmt_core.models.transformer import Transformer

__all__ = ["ACTIVATIONS", "LSTM", "MLP", "SSM", "Transformer"]
