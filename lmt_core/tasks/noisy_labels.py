"""Label noise (Chapter 17): each label is replaced, independently of everything else, with
probability ``p``.

* :func:`flip_signs` — ±1 labels, flipped;
* :func:`flip_classes` — class labels, replaced by a uniformly random *other* class.

The learners that interpolate noisy labels (1-nearest neighbour, minimum-norm interpolants) live
in :mod:`lmt_core.analysis.interpolation`.
"""

from __future__ import annotations

import torch

from lmt_core._checks import check_generator, check_int, check_positive

__all__ = ["flip_signs", "flip_classes"]


def _check_rate(p: float) -> float:
    """``p`` as a float in [0, 1] (else ValueError/TypeError naming ``p``)."""
    p = check_positive("p", p, allow_zero=True)
    if p > 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    return p


def flip_signs(y: torch.Tensor, p: float, *, generator: torch.Generator) -> torch.Tensor:
    """A copy of the ±1 labels ``y`` with each sign flipped independently with probability ``p``.

    The draws are made on ``generator.device``; the result has the shape and device of ``y``.
    """
    p = _check_rate(p)
    check_generator(generator)
    flip = torch.rand(y.shape, generator=generator, device=generator.device) < p
    return torch.where(flip.to(y.device), -y, y)


def flip_classes(
    y: torch.Tensor, p: float, num_classes: int, *, generator: torch.Generator
) -> torch.Tensor:
    """A copy of the class labels ``y`` (ints in ``[0, num_classes)``) where each label is,
    independently with probability ``p``, replaced by a uniformly random *other* class.

    The draws are made on ``generator.device``; the result has the shape and device of ``y``.
    """
    p = _check_rate(p)
    check_int("num_classes", num_classes, minimum=2)
    check_generator(generator)
    if y.numel() and y.device.type != "meta" and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got range [{int(y.min())}, {int(y.max())}]"
        )
    dev = generator.device
    flip = torch.rand(y.shape, generator=generator, device=dev) < p
    shift = torch.randint(1, num_classes, y.shape, generator=generator, device=dev)
    return torch.where(flip.to(y.device), (y + shift.to(y.device)) % num_classes, y)
