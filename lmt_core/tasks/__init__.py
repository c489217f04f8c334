"""Data generators. Every generator returns tensors on the requested device and takes an explicit
``torch.Generator`` (or seed), so that a run is reproducible."""

from lmt_core.tasks.boolean import SparseParity, hypercube, parity, random_signs

__all__ = ["SparseParity", "hypercube", "parity", "random_signs"]
