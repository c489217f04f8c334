"""The task contract every data generator of :mod:`lmt_core.tasks` follows.

A *task* is a frozen dataclass (validated in ``__post_init__``) with one sampling method::

    x, y = task.sample(m, generator=g)

* ``m`` is the number of examples (sequences, for a sequence task);
* ``generator`` is a ``torch.Generator``, and every returned tensor lives on
  ``generator.device`` — a task never decides the device itself, so the batches that
  :func:`lmt_core.train.fit` draws with its own generator land where the model is;
* a sequence task returns ``(tokens, targets)``, both ``(m, T)`` integer tensors, with
  ``targets`` equal to :data:`IGNORE_INDEX` at the positions that are not scored.

This module also holds the few helpers that several tasks share: :func:`all_bits` (every bit
pattern of length n), :func:`check_tokens` (the one validation of a token batch) and
:func:`device_of` (the device a generator draws on).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from lmt_core._checks import check_generator, check_int

__all__ = ["IGNORE_INDEX", "Task", "all_bits", "check_tokens", "device_of"]

# Targets equal to this value are left out of the loss and of every accuracy (PyTorch's
# ``cross_entropy`` default, so ``ignore_index`` never needs to be passed).
IGNORE_INDEX = -100


@runtime_checkable
class Task(Protocol):
    """What :func:`lmt_core.train.fit` and the chapters expect of a data generator."""

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` examples ``(x, y)`` (or ``(tokens, targets)``) on ``generator.device``."""
        ...


def device_of(generator: torch.Generator) -> torch.device:
    """The device ``generator`` draws on (checked to be a ``torch.Generator``)."""
    return check_generator(generator).device


def all_bits(n: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """Every bit pattern of length ``n``: row ``r`` holds the binary digits of ``r``.

    Entry ``(r, i)`` is bit ``i`` (least significant first) of ``r``; with this ordering a
    Walsh–Hadamard transform of a vector of values indexes the Fourier coefficient of a set
    ``S`` by the bit mask of ``S``.

    Returns:
        int64 tensor of shape ``(2**n, n)`` with entries 0/1, on ``device`` (n ≤ 24).
    """
    check_int("n", n, minimum=1, maximum=24)
    device = torch.device(device)
    r = torch.arange(2**n, device=device).unsqueeze(1)
    return (r >> torch.arange(n, device=device)) & 1


def check_tokens(
    tokens: object, vocab_size: int | None = None, *, max_length: int | None = None
) -> torch.Tensor:
    """Validate a batch of tokens and return it as int64.

    Args:
        tokens: an integer tensor of shape ``(B, T)``.
        vocab_size: if given, every token must lie in ``[0, vocab_size)``.
        max_length: if given, ``T`` must be at most this (a model's context length).

    Raises:
        TypeError: ``tokens`` is not an integer tensor.
        ValueError: wrong shape, a sequence longer than ``max_length``, or a token outside the
            vocabulary.
    """
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"tokens must be a tensor of shape (B, T), got {type(tokens).__name__}")
    if tokens.dim() != 2:
        raise ValueError(f"tokens must have shape (B, T), got {tuple(tokens.shape)}")
    if tokens.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"tokens must be an integer tensor, got {tokens.dtype}")
    if max_length is not None and tokens.shape[1] > max_length:
        raise ValueError(
            f"tokens: sequence length {tokens.shape[1]} exceeds the context length {max_length}"
        )
    # the range check reads values, which a tensor on the meta device does not have
    if vocab_size is not None and tokens.numel() and tokens.device.type != "meta":
        lo, hi = int(tokens.min()), int(tokens.max())
        if lo < 0 or hi >= vocab_size:
            raise ValueError(f"tokens must lie in [0, {vocab_size}), got values in [{lo}, {hi}]")
    return tokens.long()
