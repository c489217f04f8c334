"""Argument checks with messages that name the argument (internal)."""

from __future__ import annotations

import numbers

import torch


def check_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` if it is an int within bounds, else raise TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {v}")
    return v


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is a (non-negative when ``allow_zero``) positive real."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if v < 0 or (v == 0 and not allow_zero) or v != v:
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def check_generator(generator: object) -> torch.Generator:
    """Raise TypeError unless ``generator`` is a ``torch.Generator``."""
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (e.g. cfg.generator(seed)), got {type(generator).__name__}"
        )
    return generator


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return str(value)


def check_params(params: object) -> list[torch.Tensor]:
    """A non-empty list of floating-point tensors that require grad (what a loss is differentiated in)."""
    if isinstance(params, torch.Tensor):
        raise TypeError(
            "params must be a list of tensors (e.g. list(model.parameters())), not one tensor"
        )
    try:
        params = list(params)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"params must be an iterable of tensors, got {type(params).__name__}"
        ) from None
    if not params:
        raise ValueError("params is empty: pass the tensors the loss depends on")
    for i, p in enumerate(params):
        if not isinstance(p, torch.Tensor):
            raise TypeError(f"params[{i}] must be a tensor, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"params[{i}] does not require grad: set requires_grad=True")
        if not p.is_floating_point():
            raise ValueError(f"params[{i}] must be floating point, got {p.dtype}")
    return params
