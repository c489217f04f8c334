"""Models. Each is a plain ``torch.nn.Module`` that a reader can read in one sitting.

- :mod:`~lmt_core.models.mlp` — fully connected networks with a seeded initialisation.
- :mod:`~lmt_core.models.transformer` — a minimal decoder-only transformer with attention maps.
"""

from lmt_core.models.mlp import ACTIVATIONS, MLP
from lmt_core.models.transformer import Transformer

__all__ = ["ACTIVATIONS", "MLP", "Transformer"]
