"""Memory accounting for training and inference: what a step keeps alive, in bytes.

On a GPU the honest number is the allocator's peak (:func:`cuda_peak_bytes`). On a CPU there is
no such counter for PyTorch tensors, so :func:`memory_budget` adds up the parts a step must hold
at once: parameters, gradients, optimizer state, the activations autograd saves for the backward
pass (measured with ``torch.autograd.graph.saved_tensors_hooks``), and for forward-only methods
the largest activation pair (input and output of one layer) alive during inference.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn

from lmt_core._checks import check_choice

__all__ = [
    "METHODS",
    "tensor_bytes",
    "saved_activation_bytes",
    "inference_activation_bytes",
    "memory_budget",
    "cuda_peak_bytes",
]

METHODS = ("inference", "mezo", "sgd", "adam")


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Total bytes of the given tensors (each counted once, by identity)."""
    seen, total = set(), 0
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def saved_activation_bytes(
    fn: Callable[[], torch.Tensor], exclude: Iterable[torch.Tensor] = ()
) -> tuple[int, torch.Tensor]:
    """Run ``fn()`` with autograd on and count the bytes of the tensors it saves for backward.

    Tensors that share storage with ``exclude`` (the parameters, already counted elsewhere) are
    left out; a tensor saved twice counts once. Returns ``(bytes, fn())``.
    """
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen: set[tuple[int, int, tuple]] = set()
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        ptr = t.untyped_storage().data_ptr()
        key = (ptr, t.storage_offset(), tuple(t.shape))
        if ptr not in skip and key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return total, out


@torch.no_grad()
def inference_activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Largest (input + output) bytes of any leaf module in one forward pass without autograd:
    the activations that must be alive at once when nothing is kept for a backward pass."""
    peak = x.numel() * x.element_size()

    def hook(_m, inputs, output):
        nonlocal peak
        size = sum(t.numel() * t.element_size() for t in inputs if torch.is_tensor(t))
        if torch.is_tensor(output):
            size += output.numel() * output.element_size()
        peak = max(peak, size)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return peak


def memory_budget(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    method: str,
) -> dict[str, int]:
    """Bytes one training step of ``method`` holds at its peak, by part, and their ``total``.

    ``method``: ``"inference"`` (a forward pass), ``"mezo"`` (forward passes plus one buffer
    for the perturbation of the largest trainable tensor), ``"sgd"`` (backprop, gradients, no
    state) or ``"adam"`` (backprop, gradients and two moment buffers). Only parameters with
    ``requires_grad`` get gradients and optimizer state.
    """
    check_choice("method", method, METHODS)
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    parts = {
        "parameters": tensor_bytes(params),
        "gradients": 0,
        "optimizer_state": 0,
        "activations": 0,
        "perturbation": 0,
    }
    if method in ("inference", "mezo"):
        parts["activations"] = inference_activation_bytes(model, x)
        if method == "mezo" and trainable:
            parts["perturbation"] = max(p.numel() * p.element_size() for p in trainable)
    else:
        saved, _ = saved_activation_bytes(lambda: loss_fn(model(x), y), exclude=params)
        parts["activations"] = saved
        parts["gradients"] = tensor_bytes(trainable)
        parts["optimizer_state"] = 2 * tensor_bytes(trainable) if method == "adam" else 0
    parts["total"] = sum(parts.values())
    return parts


def cuda_peak_bytes(fn: Callable[[], object], device: torch.device | str) -> int:
    """Peak bytes allocated on a CUDA ``device`` while ``fn()`` runs, *in addition* to what was
    already allocated when it started (the model, the data): the step's own working memory."""
    device = torch.device(device)
    if device.type != "cuda":
        raise ValueError("cuda_peak_bytes needs a CUDA device; use memory_budget on a CPU")
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device)) - int(start)
