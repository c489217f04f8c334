"""Many independent models trained as one batched computation.

A sweep over seeds (or initial scales, or learning rates) trains E models that never interact.
Looping over them in Python wastes the hardware: each model's matrices are small. Here the E
models' parameters are *stacked* along a leading member dimension and run as one model:

* :class:`StackedMLP` — the fast path for :class:`~lmt_core.models.MLP`: batched matrix products
  (one large GEMM for the first layer when all members see the same batch).
* :class:`~lmt_core.stacked_transformer.StackedTransformer` — the fast path for
  :class:`~lmt_core.models.Transformer` members of one configuration (module
  :mod:`lmt_core.stacked_transformer`, re-exported here): batched projections, MLPs and attention;
* :class:`FunctionalEnsemble` — any ``nn.Module``, through ``torch.func.functional_call``
  vectorised with ``torch.vmap``.

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

__all__ = ["Ensemble", "StackedMLP", "StackedTransformer", "FunctionalEnsemble", "stack"]


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


def _module_signature(m: nn.Module) -> list:
    return [(k, tuple(v.shape), v.dtype) for k, v in [*m.named_parameters(), *m.named_buffers()]]


class StackedMLP(Ensemble):
    """E MLPs of one architecture as batched matrix products.

    Parameters: ``weights[l]`` of shape ``(E, fan_in, fan_out)`` (transposed ``nn.Linear``
    weights) and ``biases[l]`` of shape ``(E, 1, fan_out)``. They are stored in ``nn.Linear``'s
    memory order (``weights[l].transpose(1, 2)`` is contiguous), and activations are computed
    transposed, ``(E, units, B)``: with a shared batch the first layer is then one GEMM
    ``(E·width, n_in) @ (n_in, B)``, with small leading dimensions and no copies.
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
        self._template = [copy.deepcopy(mlps[0])]  # a list: keep it out of .parameters()/state_dict
        self.n_in, self.n_out, self.activation = mlps[0].n_in, mlps[0].n_out, mlps[0].activation
        n_layers = len(mlps[0].layers)
        self.weights = (
            nn.ParameterList(  # (E, fan_in, fan_out), a transposed view of (E, fan_out, fan_in)
                nn.Parameter(
                    torch.stack([m.layers[l].weight.detach() for m in mlps]).transpose(1, 2)
                )
                for l in range(n_layers)
            )
        )
        has_bias = mlps[0].layers[0].bias is not None
        self.biases = (
            nn.ParameterList(
                nn.Parameter(torch.stack([m.layers[l].bias.detach() for m in mlps]).unsqueeze(1))
                for l in range(n_layers)
            )
            if has_bias
            else None
        )

    @property
    def first_layer(self) -> torch.Tensor:
        """First-layer weights of all members in ``nn.Linear`` layout, shape ``(E, width, n_in)``."""
        return self.weights[0].transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        E, n = self.members, self.n_in
        Ws = [W.transpose(1, 2) for W in self.weights]  # (E, fan_out, fan_in), contiguous
        bs = (
            [b.transpose(1, 2) for b in self.biases] if self.biases is not None else None
        )  # (E, fan_out, 1)
        if x.dim() == 2 and x.shape[1] == n:  # shared batch (B, n): one GEMM for all first layers
            W0 = Ws[0].reshape(-1, n)  # (E·d, n), a view
            h = (
                torch.addmm(bs[0].reshape(-1, 1), W0, x.T) if bs is not None else W0 @ x.T
            )  # (E·d, B)
            h = h.view(E, -1, x.shape[0])  # (E, d, B)
        elif x.dim() == 3 and x.shape[0] == E and x.shape[2] == n:
            xt = x.transpose(1, 2)  # (E, n, B)
            h = torch.baddbmm(bs[0], Ws[0], xt) if bs is not None else torch.bmm(Ws[0], xt)
        else:
            raise ValueError(f"x must have shape (B, {n}) or ({E}, B, {n}), got {tuple(x.shape)}")
        for l in range(1, len(Ws)):
            h = act(h)
            if Ws[l].shape[1] == 1:  # one output unit: a weighted sum (a 1-row bmm is slow on CPU)
                h = (h * self.weights[l]).sum(1, keepdim=True)  # (E, d, B) * (E, d, 1) -> (E, 1, B)
                h = h + bs[l] if bs is not None else h
            else:
                h = torch.baddbmm(bs[l], Ws[l], h) if bs is not None else torch.bmm(Ws[l], h)
        return h.squeeze(1) if self.n_out == 1 else h.transpose(1, 2)  # (E, B) or (E, B, n_out)

    def member(self, i: int) -> MLP:
        self._check_index(i)
        m = copy.deepcopy(self._template[0]).to(self.weights[0])  # the ensemble's device and dtype
        with torch.no_grad():
            for l, layer in enumerate(m.layers):
                layer.weight.copy_(self.weights[l][i].T)
                if self.biases is not None:
                    layer.bias.copy_(self.biases[l][i, 0])
        return m


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
            raise ValueError(
                f"modules must all have the same type, got {sorted(k.__name__ for k in kinds)}"
            )
        sig = _module_signature(modules[0])
        for j, m in enumerate(modules):
            if _module_signature(m) != sig:
                raise ValueError(
                    f"modules[{j}] has parameters/buffers {_module_signature(m)}, expected {sig} "
                    "(as modules[0])"
                )
        params, buffers = torch.func.stack_module_state(list(modules))
        self.members = len(modules)
        self._names = list(params)
        self.params = nn.ParameterDict(
            {k.replace(".", "__"): nn.Parameter(v) for k, v in params.items()}
        )
        for k, v in buffers.items():
            self.register_buffer("buf__" + k.replace(".", "__"), v)
        self._buffer_names = list(buffers)
        self._template = [copy.deepcopy(modules[0])]  # lists: keep them out of .modules()
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
            raise ValueError(
                f"x must have a leading member dimension {self.members}, got {tuple(x.shape)}"
            )
        in_x = 0 if self.per_member_inputs else None
        return torch.vmap(one, in_dims=(0, 0, in_x), randomness="different")(p, b, x)

    def member(self, i: int) -> nn.Module:
        self._check_index(i)
        m = copy.deepcopy(self._template[0])
        p, b = self._state()
        keys = set(m.state_dict())
        state = {k: v[i].detach().clone() for k, v in p.items()}
        state.update({k: v[i].clone() for k, v in b.items() if k in keys})
        # assign=True: the copy takes the ensemble's device and dtype
        m.load_state_dict(state, assign=True)
        for k, v in b.items():
            if k not in keys:  # non-persistent buffers are not part of a state dict
                owner, _, name = k.rpartition(".")
                m.get_submodule(owner).register_buffer(name, v[i].clone(), persistent=False)
        return m


def stack(modules: Sequence[nn.Module], *, per_member_inputs: bool = False) -> Ensemble:
    """Stack E independently initialised modules into one :class:`Ensemble`.

    MLPs of one architecture become a :class:`StackedMLP`; ``models.Transformer``\\ s of one
    configuration a :class:`StackedTransformer` (a subclass, hooks or a replaced activation fall
    back to the generic path); anything
    else a :class:`FunctionalEnsemble`. Different seeds, initial scales or sparsities per member
    are set when building the modules: ``stack([MLP(n, d, seed=s) for s in seeds])``.
    ``per_member_inputs`` matters for the generic path only (the stacked paths read it off the
    shape: ``(B, ...)`` shared, ``(E, B, ...)`` one batch per member).

    Raises:
        ValueError: transformers of different configurations (e.g. positional schemes) or with
            different trainable parameters, or modules of different types or parameter shapes.
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
    if stackable(modules):
        return StackedTransformer(modules)  # type: ignore[arg-type]
    return FunctionalEnsemble(modules, per_member_inputs=per_member_inputs)


# At the end: stacked_transformer subclasses Ensemble (defined above). lmt_core/__init__ imports
# this module first, so the cycle always resolves in this order.
from lmt_core.stacked_transformer import StackedTransformer, stackable  # noqa: E402
