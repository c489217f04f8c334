"""Models. Each is a plain ``torch.nn.Module`` that a reader can read in one sitting."""

from lmt_core.models.mlp import ACTIVATIONS, MLP

__all__ = ["ACTIVATIONS", "MLP"]
