"""Models. Each is a plain ``torch.nn.Module`` that a reader can read in one sitting.

- :mod:`~lmt_core.models.mlp` — fully connected networks with a seeded initialisation.
- :mod:`~lmt_core.models.transformer` — a minimal decoder-only transformer with attention maps.
- :mod:`~lmt_core.models.recurrent` — fixed-state sequence models: LSTM and a selective SSM.
- :mod:`~lmt_core.models.associative` — trainable associative memories: `LinearMemory`,
  `MLPMemory`.
- :mod:`~lmt_core.models.linear_ar` — next-token predictors on the one-hot prefix: `LinearAR`,
  `PrefixMLP`, and greedy generation.
- :mod:`~lmt_core.models.conv` — a one-dimensional convolutional network, `LocalCNN`.
- :mod:`~lmt_core.models.cnn2d` — a small two-dimensional CNN for 8×8 digits, `DigitCNN`.
- :mod:`~lmt_core.models.base` — what every model shares: `count_params`.

Every public name of every submodule is re-exported here (``models.Transformer``,
``models.count_params``, ...).
"""

from lmt_core.models.associative import LinearMemory, MLPMemory
from lmt_core.models.base import count_params
from lmt_core.models.cnn2d import DigitCNN
from lmt_core.models.conv import LocalCNN
from lmt_core.models.linear_ar import LinearAR, PrefixMLP, greedy_generate
from lmt_core.models.mlp import ACTIVATIONS, MLP
from lmt_core.models.recurrent import LSTM, SSM, SelectiveSSM, linear_scan
from lmt_core.models.transformer import POSITIONAL, Attention, Block, Transformer, alibi_slopes

__all__ = [
    "ACTIVATIONS",
    "LSTM",
    "MLP",
    "SSM",
    "Transformer",
    "LinearMemory",
    "MLPMemory",
    # engine helper: the other models and count_params
    "POSITIONAL",
    "Attention",
    "Block",
    "alibi_slopes",
    "SelectiveSSM",
    "linear_scan",
    "LinearAR",
    "PrefixMLP",
    "greedy_generate",
    "LocalCNN",
    "DigitCNN",
    "count_params",
]
