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
        "LeakyParity": lambda: tasks.LeakyParity.first(8, 3, alpha=0.5, noise=0.1),
        "SingleIndex": lambda: tasks.SingleIndex.random(6, torch.tanh, seed=0, noise=0.1),
        "MultiIndex": lambda: tasks.MultiIndex.orthogonal_sum(6, 2, torch.tanh, noise=0.1),
        "QuadraticHierarchy": lambda: tasks.QuadraticHierarchy.random(6, "sin", seed=0),
    }
)

# ---- sequences (copy, recall, chain of thought, arithmetic, Dyck) --------------------------
TASKS.update(
    {
        "Copy": lambda: tasks.Copy(5, 4),
        "AssociativeRecall": lambda: tasks.AssociativeRecall(6, 4, n_pairs=3, n_queries=2),
        "Dyck": lambda: tasks.Dyck(2, 3, length=8),
        "ParityCoT": lambda: tasks.ParityCoT(6, (1, 4)),
        "ParityCoT (no chain)": lambda: tasks.ParityCoT(6, (1, 4), cot=False),
        "AdditionCoT": lambda: tasks.AdditionCoT(3, 10),
        "MultiplicationCoT": lambda: tasks.MultiplicationCoT(2, 10),
    }
)

# ---- markov (causal graphs, Markov text), facts, transfer, data order ----------------------
TASKS.update(
    {
        "CausalGraphTask": lambda: tasks.CausalGraphTask(
            tasks.random_tree(6, generator=cpu_gen()), N=3, alpha=0.5
        ),
        "SparseContextualBigram": lambda: tasks.SparseContextualBigram.random(4, 5, 2, alpha=0.1),
        "MarkovLanguage": lambda: tasks.MarkovLanguage(6, 2, length=5),
        "Facts": lambda: tasks.Facts(4, 2, 2, seq_len=4, n_noise=3),
        "FeatureTransfer": lambda: tasks.FeatureTransfer(n=5, features=3).target,
    }
)


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
        if (
            inspect.isclass(obj)
            and callable(getattr(obj, "sample", None))
            and obj is not tasks.Task
        ):
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


class _Call(nn.Module):
    """``model(x, **kwargs)`` as a module, to run a model with keyword arguments."""

    def __init__(self, model: nn.Module, **kwargs) -> None:
        super().__init__()
        self.model, self.kwargs = model, kwargs

    def forward(self, x: torch.Tensor):
        return self.model(x, **self.kwargs)


def _tokens(b: int = 3, t: int = 6, vocab: int = 5) -> torch.Tensor:
    return torch.randint(vocab, (b, t), generator=cpu_gen(), device="cpu")


def _transformer(positional: str, **kw) -> nn.Module:
    return models.Transformer(
        5, d_model=8, n_layers=2, n_heads=2, max_len=8, positional=positional, **kw
    )


# ---- mlp, transformer, recurrent, linear_ar, conv, cnn2d (engine helper) --------------------
MODELS.update(
    {
        "MLP": lambda: (models.MLP(6, 8, depth=2, seed=0), torch.randn(5, 6)),
        "Transformer": lambda: (_transformer("learned"), _tokens()),
        **{
            f"Transformer-{pos}": (lambda pos=pos: (_transformer(pos), _tokens()))
            for pos in models.POSITIONAL
        },
        "Transformer-attention-only": lambda: (_transformer("rope", mlp=False), _tokens()),
        "Transformer-return_attention": lambda: (
            _Call(_transformer("alibi"), return_attention=True),
            _tokens(),
        ),
        "Transformer-prefix": lambda: (
            _Call(_transformer("sinusoidal"), prefix=torch.randn(2, 8)),
            _tokens(),
        ),
        "Attention": lambda: (
            models.Attention(8, 2, 4, positional="alibi", causal=True, windows=None, bias=True),
            torch.randn(3, 6, 8),
        ),
        "Block": lambda: (
            models.Block(
                8,
                2,
                4,
                16,
                positional="hard_alibi",
                causal=True,
                windows=[None, 2],
                layer_norm=True,
                activation="gelu",
                bias=True,
            ),
            torch.randn(3, 6, 8),
        ),
        "LSTM": lambda: (models.LSTM(5, d_hidden=8), _tokens()),
        "LSTM-attention": lambda: (models.LSTM(5, d_hidden=8, attention=True), _tokens()),
        "SSM": lambda: (models.SSM(5, d_model=8, d_state=4), _tokens()),
        "SSM-attention": lambda: (models.SSM(5, d_model=8, d_state=4, attention=True), _tokens()),
        "SelectiveSSM": lambda: (models.SelectiveSSM(8, 4), torch.randn(3, 6, 8)),
        "LinearAR": lambda: (models.LinearAR(3, 6, init_scale=0.1), _tokens(vocab=3)),
        "PrefixMLP": lambda: (models.PrefixMLP(3, 6, 8, depth=2), _tokens(vocab=3)),
        "LocalCNN": lambda: (models.LocalCNN(8, 3, 4), torch.randn(5, 8)),
        "DigitCNN": lambda: (models.DigitCNN(2, 3), torch.randn(5, 64)),
    }
)


# ---- associative memories (markov/facts helper) ---------------------------------------------
MODELS.update(
    {
        "LinearMemory": lambda: (models.LinearMemory(6, 4, 5), torch.arange(5, device="cpu")),
        "MLPMemory": lambda: (models.MLPMemory(6, 4, 5, 7), torch.arange(5, device="cpu")),
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
        n
        for n in models.__all__
        if inspect.isclass(getattr(models, n)) and issubclass(getattr(models, n), nn.Module)
    }
    missing = classes - set(MODELS)
    assert not missing, f"add these models to MODELS in {__file__}: {sorted(missing)}"
