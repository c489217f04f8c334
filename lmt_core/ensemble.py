"""Many independent models trained as one batched computation.

A sweep over seeds (or initial scales, or learning rates) trains E models that never interact.
Looping over them in Python wastes the hardware: each model's matrices are small. Here the E
models' parameters are *stacked* along a leading member dimension and run as one model:

* :class:`StackedMLP` — the fast path for :class:`~lmt_core.models.MLP`: batched matrix products
  (one large GEMM for the first layer when all members see the same batch).
* :class:`FunctionalEnsemble` — any ``nn.Module`` (e.g. a transformer), through
  ``torch.func.functional_call`` vectorised with ``torch.vmap``.

Build either with :func:`stack`; train with :func:`lmt_core.train.fit`, which gives each member its
own learning rate, loss, history and stop-at-target. Member ``i`` of a stacked run follows the same
trajectory as model ``i`` trained alone on the same batches (tested to float tolerance).
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from lmt_core.models.mlp import ACTIVATIONS, MLP

__all__ = ["Ensemble", "StackedMLP", "FunctionalEnsemble", "stack"]


class Ensemble(nn.Module):
    """Base class: E models whose parameters carry a leading member dimension of size E.

    ``forward(x)`` takes ``(B, ...)`` (the same batch for every member) or ``(E, B, ...)`` (one
    batch per member) and returns ``(E, B, ...)``.
    """

    members: int

    def member(self, i: int) -> nn.Module:  # pragma: no cover - abstract
        """Member ``i`` as a stand-alone module (a copy)."""
        raise NotImplementedError

    def _check_index(self, i: int) -> int:
        if not isinstance(i, int) or not 0 <= i < self.members:
            raise ValueError(f"member index must be an int in [0, {self.members}), got {i!r}")
        return i


def _mlp_signature(m: MLP) -> tuple:
    return (m.n_in, m.width, m.depth, m.n_out, m.activation, m.layers[0].bias is not None)


class StackedMLP(Ensemble):
    """E MLPs of one architecture as batched matrix products.

    Parameters: ``weights[l]`` of shape ``(E, fan_in, fan_out)`` (transposed ``nn.Linear``
    weights) and ``biases[l]`` of shape ``(E, 1, fan_out)``.
    """

    def __init__(self, mlps: Sequence[MLP]) -> None:
        super().__init__()
        if len(mlps) < 1:
            raise ValueError("mlps must contain at least one MLP (E >= 1)")
        sig = _mlp_signature(mlps[0])
        for j, m in enumerate(mlps):
            if not isinstance(m, MLP):
                raise TypeError(f"mlps[{j}] must be an MLP, got {type(m).__name__}")
            if _mlp_signature(m) != sig:
                raise ValueError(f"mlps[{j}] has architecture {_mlp_signature(m)}, expected {sig}")
        self.members = len(mlps)
        self._template = copy.deepcopy(mlps[0])
        self.n_in, self.n_out, self.activation = mlps[0].n_in, mlps[0].n_out, mlps[0].activation
        n_layers = len(mlps[0].layers)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[l].weight.detach().T for m in mlps]).contiguous())
            for l in range(n_layers))
        has_bias = mlps[0].layers[0].bias is not None
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([m.layers[l].bias.detach() for m in mlps]).unsqueeze(1))
            for l in range(n_layers)) if has_bias else None

    @property
    def first_layer(self) -> torch.Tensor:
        """First-layer weights of all members in ``nn.Linear`` layout, shape ``(E, width, n_in)``."""
        return self.weights[0].transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        E = self.members
        W0 = self.weights[0]  # (E, n, d)
        if x.dim() == 2:  # shared batch (B, n): one GEMM against all members' first layers
            B = x.shape[0]
            h = (x @ W0.permute(1, 0, 2).reshape(self.n_in, -1)).view(B, E, -1).transpose(0, 1)
        elif x.dim() == 3 and x.shape[0] == E:
            h = torch.bmm(x, W0)
        else:
            raise ValueError(f"x must have shape (B, {self.n_in}) or ({E}, B, {self.n_in}), got {tuple(x.shape)}")
        if self.biases is not None:
            h = h + self.biases[0]
        for l in range(1, len(self.weights)):
            h = act(h)
            h = torch.baddbmm(self.biases[l], h, self.weights[l]) if self.biases is not None \
                else torch.bmm(h, self.weights[l])
        return h.squeeze(-1) if self.n_out == 1 else h

    def member(self, i: int) -> MLP:
        self._check_index(i)
        m = copy.deepcopy(self._template)
        with torch.no_grad():
            for l, layer in enumerate(m.layers):
                layer.weight.copy_(self.weights[l][i].T)
                if self.biases is not None:
                    layer.bias.copy_(self.biases[l][i, 0])
        return m.to(self.weights[0].device)


class FunctionalEnsemble(Ensemble):
    """E copies of any module architecture, run with ``vmap(functional_call)``.

    With ``per_member_inputs=False`` every member sees the same batch ``x``; with ``True`` the
    input carries a leading member dimension ``(E, B, ...)``. Buffers are stacked too; parameters are registered with ``.`` replaced by ``__`` in names.
    """

    def __init__(self, modules: Sequence[nn.Module], *, per_member_inputs: bool = False) -> None:
        super().__init__()
        if len(modules) < 1:
            raise ValueError("modules must contain at least one module (E >= 1)")
        self.per_member_inputs = bool(per_member_inputs)
        kinds = {type(m) for m in modules}
        if len(kinds) != 1:
            raise ValueError(f"modules must all have the same type, got {sorted(k.__name__ for k in kinds)}")
        params, buffers = torch.func.stack_module_state(list(modules))
        self.members = len(modules)
        self._names = list(params)
        self.params = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v) for k, v in params.items()})
        for k, v in buffers.items():
            self.register_buffer("buf__" + k.replace(".", "__"), v)
        self._buffer_names = list(buffers)
        self._template = copy.deepcopy(modules[0])
        self._base = [copy.deepcopy(modules[0]).to("meta")]  # a list: keep it out of .modules()

    def _state(self) -> tuple[dict, dict]:
        p = {k: self.params[k.replace(".", "__")] for k in self._names}
        b = {k: getattr(self, "buf__" + k.replace(".", "__")) for k in self._buffer_names}
        return p, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, b = self._state()
        base = self._base[0]

        def one(params: dict, buffers: dict, xb: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(base, (params, buffers), (xb,))

        if self.per_member_inputs and (x.dim() < 1 or x.shape[0] != self.members):
            raise ValueError(f"x must have a leading member dimension {self.members}, got {tuple(x.shape)}")
        in_x = 0 if self.per_member_inputs else None
        return torch.vmap(one, in_dims=(0, 0, in_x), randomness="different")(p, b, x)

    def member(self, i: int) -> nn.Module:
        self._check_index(i)
        m = copy.deepcopy(self._template)
        p, b = self._state()
        m.load_state_dict({**{k: v[i] for k, v in p.items()}, **{k: v[i] for k, v in b.items()}})
        return m


def stack(modules: Sequence[nn.Module], *, per_member_inputs: bool = False) -> Ensemble:
    """Stack E independently initialised modules into one :class:`Ensemble`.

    MLPs of one architecture become a :class:`StackedMLP`; anything else a
    :class:`FunctionalEnsemble`. Different seeds, initial scales or sparsities per member are
    set when building the modules: ``stack([MLP(n, d, seed=s) for s in seeds])``.
    ``per_member_inputs`` matters for the generic path only (a StackedMLP reads it off the shape).
    """
    if not isinstance(modules, Sequence) or isinstance(modules, (str, bytes)):
        raise TypeError("modules must be a list of nn.Module")
    if len(modules) < 1:
        raise ValueError("modules must contain at least one module (E >= 1)")
    for j, m in enumerate(modules):
        if not isinstance(m, nn.Module):
            raise TypeError(f"modules[{j}] must be an nn.Module, got {type(m).__name__}")
    if all(isinstance(m, MLP) for m in modules):
        return StackedMLP(modules)  # type: ignore[arg-type]
    return FunctionalEnsemble(modules, per_member_inputs=per_member_inputs)
