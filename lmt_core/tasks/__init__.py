"""Data generators, one module per concept; every task follows the contract of :mod:`.base`.

``x, y = task.sample(m, generator=g)``: a frozen dataclass draws ``m`` examples with a
``torch.Generator`` and returns tensors on ``g.device``; sequence tasks return
``(tokens, targets)`` with :data:`IGNORE_INDEX` at unscored positions.

- :mod:`~lmt_core.tasks.base` — the contract: ``Task``, ``IGNORE_INDEX``, ``all_bits``,
  ``check_tokens``, ``device_of``.
- :mod:`~lmt_core.tasks.boolean` — sparse parities on the hypercube.
"""

from lmt_core.tasks.base import IGNORE_INDEX, Task, all_bits, check_tokens, device_of

# ---- boolean, gaussian, tensors, noisy labels ----------------------------------------------
from lmt_core.tasks.boolean import SparseParity, hypercube, parity, random_signs

# ---- sequences and chains of thought -------------------------------------------------------

# ---- markov sources, facts, transfer, data order -------------------------------------------

__all__ = [
    # base
    "IGNORE_INDEX",
    "Task",
    "all_bits",
    "check_tokens",
    "device_of",
    # boolean, gaussian, tensors, noisy labels
    "SparseParity",
    "hypercube",
    "parity",
    "random_signs",
    # sequences and chains of thought
    # markov sources, facts, transfer, data order
]
