"""Device correctness without a GPU.

Under ``torch.set_default_device("meta")`` a tensor created without an explicit device lands on
the meta device (even when a CPU generator drives it), and mixing it with a CPU tensor raises.
So every task's ``sample`` and every model's forward and backward are run here under that
default with CPU generators and CPU inputs: each output must be on the CPU. Code that passes
this test puts its tensors where its inputs and generator are, and so also works on CUDA.

The registries below list one small instance of every task and every model; a completeness test
fails when a public task class or model class of :mod:`lmt_core` has no entry.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Callable

import pytest
import torch
from torch import nn

from lmt_core import models, tasks


@contextlib.contextmanager
def meta_default():
    """Make ``meta`` the default device for tensors created without one."""
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None)


def cpu_gen(seed: int = 0) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def assert_on_cpu(obj, where: str) -> None:
    """Every tensor in ``obj`` (a tensor or a nested tuple/list/dict of them) is on the CPU."""
    if isinstance(obj, torch.Tensor):
        assert obj.device.type == "cpu", f"{where}: a tensor landed on {obj.device}"
    elif isinstance(obj, (tuple, list)):
        for i, o in enumerate(obj):
            assert_on_cpu(o, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for k, o in obj.items():
            assert_on_cpu(o, f"{where}[{k!r}]")


# --------------------------------------------------------------------------------------------
# Tasks: name -> factory of a small instance (built on the CPU, outside the meta context).
# One block per concept module of lmt_core.tasks.
# --------------------------------------------------------------------------------------------

TASKS: dict[str, Callable[[], object]] = {}

# ---- boolean, gaussian (and hierarchical), tensors -----------------------------------------
TASKS.update(
    {
        "SparseParity": lambda: tasks.SparseParity.first(8, 3, noise=0.1),
    }
)

# ---- sequences (copy, recall, chain of thought, arithmetic, Dyck) --------------------------
TASKS.update({})

# ---- markov (causal graphs, Markov text), facts, transfer, data order ----------------------
TASKS.update({})


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_sample_stays_on_the_generator_device(name: str):
    task = TASKS[name]()
    assert isinstance(task, tasks.Task), f"{name} does not follow the task contract"
    with meta_default():
        x, y = task.sample(4, generator=cpu_gen())
    assert_on_cpu((x, y), f"{name}.sample")
    assert x.shape[0] == 4 and y.shape[0] == 4


def _task_classes() -> set[str]:
    names = set()
    for name in tasks.__all__:
        obj = getattr(tasks, name)
        if inspect.isclass(obj) and callable(getattr(obj, "sample", None)) and obj is not tasks.Task:
            names.add(name)
    return names


def test_every_task_class_is_in_the_registry():
    missing = _task_classes() - set(TASKS)
    assert not missing, f"add these tasks to TASKS in {__file__}: {sorted(missing)}"


# --------------------------------------------------------------------------------------------
# Models: name -> factory returning (model, inputs) built on the CPU; forward and backward run
# under the meta default.
# --------------------------------------------------------------------------------------------

MODELS: dict[str, Callable[[], tuple[nn.Module, torch.Tensor]]] = {}

MODELS.update(
    {
        "MLP": lambda: (models.MLP(6, 8, depth=2, seed=0), torch.randn(5, 6)),
    }
)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_forward_backward_stays_on_the_input_device(name: str):
    model, x = MODELS[name]()
    with meta_default():
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        assert_on_cpu(out, f"{name}.forward")
        out.float().square().mean().backward()
    for pname, p in model.named_parameters():
        if p.grad is not None:
            assert p.grad.device.type == "cpu", f"{name}: gradient of {pname} on {p.grad.device}"


def test_every_model_class_is_in_the_registry():
    classes = {
        n for n in models.__all__ if inspect.isclass(getattr(models, n))
        and issubclass(getattr(models, n), nn.Module)
    }
    missing = classes - set(MODELS)
    assert not missing, f"add these models to MODELS in {__file__}: {sorted(missing)}"
