"""One training loop for one model or an ensemble of E models.

:func:`fit` runs (stochastic) gradient descent and returns a :class:`History`. It treats a plain
``nn.Module`` as an ensemble of one, so single runs and seed sweeps share every line of code:

* each member has its own learning rate, its own loss and metric history, and stops on its own
  when ``stop_when`` says so (its parameters freeze; the others go on);
* the optimiser (SGD with momentum and weight decay, or Adam) acts element-wise, so member ``i``
  of a stacked run follows exactly the trajectory it would follow alone;
* with ``checkpoint_dir`` the state is saved every ``checkpoint_every`` steps, a run that was
  interrupted (a Colab disconnect) resumes where it stopped with the same final result, and a
  finished run is loaded instead of retrained (train-or-load). The checkpoint file is keyed on
  the run's settings (:func:`run_key`), so a changed setting starts afresh and never loads an
  old run;
* ``return_state=True`` also returns the loop's :class:`FitState` (step, optimiser moments, data
  generator, stopped members, history), and ``state=`` continues from one: a run can branch,
  e.g. into several learning-rate decays off one stable run.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from lmt_core import runtime
from lmt_core._checks import check_choice, check_int, check_positive
from lmt_core.ensemble import Ensemble
from lmt_core.tasks.base import IGNORE_INDEX

__all__ = ["LOSSES", "History", "FitState", "BatchedOptimizer", "member_losses", "run_key", "fit"]

LOSSES = ("mse", "hinge", "logistic", "cross_entropy")
Batch = tuple[torch.Tensor, torch.Tensor]


def member_losses(out: torch.Tensor, y: torch.Tensor, loss: str | Callable) -> torch.Tensor:
    """Mean loss of each member.

    Args:
        out: model outputs ``(E, B, ...)``; for ``cross_entropy`` logits ``(E, B, ..., C)``, e.g.
            ``(E, B, T, V)`` for a sequence model.
        y: targets ``(B, ...)`` shared by all members, or ``(E, B, ...)``; ±1 labels for ``hinge``
            and ``logistic``, class indices for ``cross_entropy``, where the value
            :data:`IGNORE_INDEX` (−100) marks positions that do not count.
        loss: ``"mse"`` (f − y)², ``"hinge"`` max(0, 1 − y f), ``"logistic"`` log(1 + e^{−y f}),
            ``"cross_entropy"``, or a callable ``(out, y) -> (E,)``.

    Returns:
        Tensor of shape ``(E,)``.
    """
    if callable(loss):
        return loss(out, y)
    check_choice("loss", loss, LOSSES)
    if loss == "cross_entropy":
        # logits (E, B, ..., C), class targets (B, ...) or (E, B, ...); targets equal to
        # IGNORE_INDEX (e.g. the prompt positions of a sequence) do not count
        if out.dim() < 3:
            raise ValueError(
                f"cross_entropy needs logits of shape (E, B, ..., C), got {tuple(out.shape)}"
            )
        E, C = out.shape[0], out.shape[-1]
        if y.shape == out.shape[1:-1]:
            y = y.expand(out.shape[:-1])
        if y.shape != out.shape[:-1]:
            raise ValueError(
                f"targets y of shape {tuple(y.shape)} do not match logits {tuple(out.shape)}: "
                "expected (B, ...) or (E, B, ...) without the class dimension"
            )
        per = nn.functional.cross_entropy(
            out.reshape(-1, C), y.reshape(-1).long(), reduction="none", ignore_index=IGNORE_INDEX
        ).view(E, -1)
        counted = (y.reshape(E, -1) != IGNORE_INDEX).sum(1).clamp(min=1)
        return per.sum(1) / counted
    if y.shape != out.shape and y.shape != out.shape[1:]:  # no silent (E, B, 1) x (B,) broadcasting
        raise ValueError(
            f"targets y of shape {tuple(y.shape)} do not match outputs {tuple(out.shape)}: "
            "expected (B, ...) or (E, B, ...)"
        )
    if loss == "mse":
        per = (out - y) ** 2
    elif loss == "hinge":
        per = torch.relu(1 - y * out)
    else:
        per = nn.functional.softplus(-y * out)
    return per.flatten(1).mean(1)


class BatchedOptimizer:
    """SGD or Adam on parameters with a leading member dimension, one learning rate per member.

    Update of member e (SGD): g ← ∇ + λ θ;  v ← μ v + g;  θ ← θ − η_e · a_e · v, where a_e ∈ {0, 1}
    says whether the member is still training. Adam is the usual bias-corrected update with the
    same per-member step size and mask. For a plain module (``ensemble=False``) E = 1.
    """

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        lr: torch.Tensor,
        *,
        ensemble: bool,
        kind: str = "sgd",
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.kind = check_choice("optimizer", kind, ("sgd", "adam"))
        self.lr, self.ensemble = lr, ensemble
        self.momentum, self.weight_decay = momentum, weight_decay
        self.betas, self.eps = betas, eps
        self.t = 0
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.params]

    def _per_member(self, v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return v.view(-1, *([1] * (p.dim() - 1))) if self.ensemble else v.reshape(())

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, active: torch.Tensor, scale: float = 1.0) -> None:
        """One update; ``active`` is a bool tensor ``(E,)``, frozen members do not move;
        ``scale`` multiplies every learning rate for this step (a schedule's value)."""
        self.t += 1
        neg_step = (self.lr * active).mul_(-float(scale))  # −η_e s_t a_e
        b1, b2 = self.betas
        for p, st in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g.add(p, alpha=self.weight_decay)
            eta = self._per_member(neg_step, p)
            if self.kind == "sgd":
                if self.momentum:
                    buf = st.get("momentum")
                    buf = g.clone() if buf is None else buf.mul_(self.momentum).add_(g)
                    st["momentum"] = buf
                    g = buf
                p.addcmul_(eta, g)  # θ ← θ + (−η a) · v in one fused kernel
            else:
                m = st.setdefault("m", torch.zeros_like(p)).mul_(b1).add_(g, alpha=1 - b1)
                v = st.setdefault("v", torch.zeros_like(p)).mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = v.div(1 - b2**self.t).sqrt_().add_(self.eps)  # √v̂ + ε
                p.add_(m.div(1 - b1**self.t).mul_(eta).div_(denom))  # θ − η m̂ / (√v̂ + ε)

    def state_dict(self) -> dict:
        """The kind, the step count and the moments (references, not copies)."""
        return {"kind": self.kind, "t": self.t, "state": self.state}

    def load_state_dict(self, sd: dict) -> None:
        """Load what :meth:`state_dict` returned (moments moved to the parameters' devices).

        Raises:
            ValueError: the state is of another optimizer kind or of other parameters.
        """
        if sd.get("kind", self.kind) != self.kind:
            raise ValueError(
                f"optimizer state of kind {sd['kind']!r}, this optimizer is {self.kind!r}"
            )
        if len(sd["state"]) != len(self.params):
            raise ValueError(
                f"optimizer state for {len(sd['state'])} parameters, the model has "
                f"{len(self.params)}"
            )
        for i, (st, p) in enumerate(zip(sd["state"], self.params)):
            for k, v in st.items():
                if v.shape != p.shape:
                    raise ValueError(
                        f"optimizer state {k!r} of parameter {i} has shape "
                        f"{tuple(v.shape)}, the parameter {tuple(p.shape)}"
                    )
        self.t = int(sd["t"])
        self.state = [
            {k: v.to(p.device) for k, v in st.items()} for st, p in zip(sd["state"], self.params)
        ]


@dataclass
class History:
    """Metrics recorded during :func:`fit`, one value per member at each evaluation.

    Attributes:
        members: E.
        single: True when a plain module was trained (then ``h[name]`` has shape ``(T,)``).
        steps: the step (number of updates done) of each record, length T.
        metrics: name → list of T lists of E floats. ``"loss"`` is the mean training loss since
            the previous record; other names come from ``evaluate``.
        stopped_at: per member, the step at which ``stop_when`` first held (-1: never).
    """

    members: int
    single: bool
    steps: list[int] = field(default_factory=list)
    metrics: dict[str, list[list[float]]] = field(default_factory=dict)
    stopped_at: list[int] = field(default_factory=list)

    def __getitem__(self, name: str) -> np.ndarray:
        """Array ``(T, E)`` of a metric (``(T,)`` for a single model)."""
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; recorded: {sorted(self.metrics)}")
        a = np.asarray(self.metrics[name], dtype=float).reshape(len(self.steps), self.members)
        return a[:, 0] if self.single else a

    @property
    def step_array(self) -> np.ndarray:
        """The recorded steps as an array ``(T,)``."""
        return np.asarray(self.steps)

    def final(self, name: str) -> np.ndarray | float:
        """The last recorded value: ``(E,)`` or a float for a single model."""
        a = self[name]
        return float(a[-1]) if self.single else a[-1]

    def stop_steps(self) -> np.ndarray | int:
        """``stopped_at`` as an array ``(E,)`` (an int for a single model); -1 where never."""
        a = np.asarray(self.stopped_at, dtype=int)
        return int(a[0]) if self.single else a

    def record(self, step: int, values: dict[str, torch.Tensor]) -> None:
        self.steps.append(int(step))
        for k, v in values.items():
            v = torch.as_tensor(v, dtype=torch.float64).detach().cpu().reshape(-1)
            if v.numel() == 1 and self.members > 1:
                v = v.expand(self.members)
            if v.numel() != self.members:
                raise ValueError(
                    f"metric {k!r} must have {self.members} values (one per member), got {v.numel()}"
                )
            self.metrics.setdefault(k, []).append(v.tolist())

    def to_dict(self) -> dict:
        return {
            "members": self.members,
            "single": self.single,
            "steps": self.steps,
            "metrics": self.metrics,
            "stopped_at": self.stopped_at,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(
            members=int(d["members"]),
            single=bool(d["single"]),
            steps=list(d["steps"]),
            metrics={k: [list(r) for r in v] for k, v in d["metrics"].items()},
            stopped_at=list(d["stopped_at"]),
        )


def _as_lr(
    lr: float | Sequence[float] | torch.Tensor, members: int, device: torch.device
) -> torch.Tensor:
    t = torch.as_tensor(lr, dtype=torch.float32, device=device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(members).clone()
    if t.numel() != members:
        raise ValueError(
            f"lr must be one number or one per member ({members}), got {t.numel()} values"
        )
    if not torch.isfinite(t).all() or (t <= 0).any():
        raise ValueError(f"lr must be positive and finite, got {t.tolist()}")
    return t


def _describe(obj: object) -> object:
    """A stable, JSON-able description of a setting (a callable by its name, not its address)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_describe(o) for o in obj]
    if isinstance(obj, functools.partial):
        return {
            "partial": _describe(obj.func),
            "args": _describe(list(obj.args)),
            "kwargs": {k: _describe(v) for k, v in sorted(obj.keywords.items())},
        }
    if (
        type(obj).__repr__ is not object.__repr__
        and not callable(getattr(obj, "__code__", None))
        and not hasattr(obj, "__qualname__")
    ):
        return repr(obj)  # an object with its own repr, e.g. schedules.WSD(total=..., ...)
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{getattr(obj, '__module__', None) or type(obj).__module__}.{name}"


def run_key(model: nn.Module, *, tag: str = "", **settings: object) -> str:
    """A short hash of a run's identity: ``tag``, the model's parameter names and shapes, and
    ``settings`` (the hyperparameters :func:`fit` passes: loss, optimizer, lr, ...).

    Callables are described by their qualified name, or by their ``repr`` when they define one
    (the schedules of :mod:`lmt_core.optim.schedules` do), never by their memory address, so the
    key is the same in every session. What the key cannot see (the task, the batches function,
    the closure values of a lambda) belongs in ``tag``.

    Returns:
        12 hexadecimal digits.
    """
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a string, got {type(tag).__name__}")
    desc = {
        "tag": tag,
        "model": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "settings": {k: _describe(v) for k, v in sorted(settings.items())},
    }
    blob = json.dumps(desc, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class FitState:
    """Everything :func:`fit`'s loop carries from one step to the next, except the parameters.

    Attributes:
        step: updates done so far.
        optimizer: the optimiser's kind, step count and moments (``BatchedOptimizer.state_dict``).
        generator: the state of the data generator (a ``torch.ByteTensor``).
        history: the :class:`History` so far.
        active: bool ``(E,)``, the members that have not stopped.
        running: ``(E,)`` training loss summed since the last record, over ``n_run`` steps.
        n_run: steps summed in ``running``.

    The parameters live in the model. To branch a run, copy both::

        hist, st = fit(model, batches, steps=800, return_state=True, ...)
        branch = copy.deepcopy(model)
        fit(branch, batches, steps=1000, state=st.copy(), lr_schedule=decay, ...)
        fit(model, batches, steps=2000, state=st, ...)        # the main run goes on

    (:func:`fit` never changes the state it is given, so ``copy()`` is a safeguard for your own
    edits.)
    """

    step: int
    optimizer: dict
    generator: torch.Tensor
    history: History
    active: torch.Tensor
    running: torch.Tensor
    n_run: int

    def copy(self) -> "FitState":
        """An independent copy (tensors cloned, history copied)."""
        return FitState(
            step=self.step,
            optimizer=copy.deepcopy(self.optimizer),
            generator=self.generator.clone(),
            history=copy.deepcopy(self.history),
            active=self.active.clone(),
            running=self.running.clone(),
            n_run=self.n_run,
        )

    def to_dict(self) -> dict:
        """Plain containers of tensors and numbers (what a checkpoint file stores)."""
        return {
            "step": self.step,
            "optimizer": self.optimizer,
            "generator": self.generator,
            "history": self.history.to_dict(),
            "active": self.active,
            "running": self.running,
            "n_run": self.n_run,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "FitState":
        return cls(
            step=int(d["step"]),
            optimizer=d["optimizer"],
            generator=d["generator"],
            history=History.from_dict(d["history"]),
            active=d["active"],
            running=d["running"],
            n_run=int(d["n_run"]),
        )


def _save(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a disconnect mid-save leaves the previous checkpoint intact


def fit(
    model: nn.Module,
    batches: Callable[[int, torch.Generator], Batch],
    *,
    steps: int,
    loss: str | Callable = "mse",
    optimizer: str = "sgd",
    lr: float | Sequence[float] | torch.Tensor = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    lr_schedule: Callable[[int], float] | None = None,
    data_seed: int = 0,
    evaluate: Callable[[nn.Module], dict[str, torch.Tensor | float]] | None = None,
    eval_every: int = 100,
    stop_when: Callable[[dict[str, torch.Tensor]], torch.Tensor | bool] | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1000,
    tag: str = "",
    state: FitState | None = None,
    return_state: bool = False,
    progress: bool = True,
    desc: str = "training",
) -> History | tuple[History, FitState]:
    """Train ``model`` up to step ``steps`` and return its :class:`History`.

    Args:
        model: a plain ``nn.Module`` (one member) or an :class:`~lmt_core.ensemble.Ensemble`
            (E members, outputs ``(E, B, ...)``).
        batches: ``batches(step, generator) -> (x, y)``; called once per step with a generator
            seeded by ``data_seed`` (and checkpointed with the run). ``x`` of shape ``(B, ...)`` is
            shared by all members; ``(E, B, ...)`` gives each member its own batch.
        steps: the step to stop at (the number of updates of a fresh run).
        loss: see :func:`member_losses`.
        optimizer: ``"sgd"`` (with ``momentum``, ``weight_decay``) or ``"adam"`` (``betas``).
        lr: one learning rate, or one per member.
        lr_schedule: ``lr_schedule(step) -> s_t``; update ``step`` (0-based) uses ``lr * s_t``
            (see :mod:`lmt_core.optim.schedules`). ``None``: constant.
        evaluate: ``evaluate(model) -> {name: value}``, value a tensor ``(E,)`` or a number;
            called (under ``torch.no_grad``) every ``eval_every`` steps and at the end.
        stop_when: ``stop_when(metrics) -> bool (E,)``: a member stops (freezes) the first time
            it holds; training ends when every member has stopped.
        checkpoint_dir: where to save the run every ``checkpoint_every`` steps and at the end,
            in a file ``run-<key>.pt`` whose key (:func:`run_key`) hashes ``tag``, the model's
            parameter names and shapes, and the settings loss, optimizer, lr, momentum,
            weight_decay, betas, data_seed, eval_every and lr_schedule. A run with the same key
            resumes (interrupted) or is loaded (finished) instead of retrained; a changed
            setting starts a fresh run. Use ``runtime.Config.checkpoint(name)``: ``None`` in
            quick mode.
        tag: what the key cannot see and still makes the run: the task, the batches function
            (e.g. ``tag=repr(task)``).
        state: a :class:`FitState` from an earlier ``fit(..., return_state=True)`` of this model
            (or of a ``copy.deepcopy`` of it): the run goes on from ``state.step`` with its
            optimiser moments, data generator, stopped members, history and running loss.
            ``state`` itself is not changed. Not together with ``checkpoint_dir``.
        return_state: also return the :class:`FitState` at the end.
        progress: show a bar (:func:`lmt_core.runtime.progress`: never in static builds).

    With ``$LMT_MAX_STEPS`` set (:func:`lmt_core.runtime.max_steps`), at most that many updates
    are done in this call (a smoke test; such runs are checkpointed under their own key).

    Returns:
        The run's :class:`History` (``(History, FitState)`` with ``return_state``); ``model``
        holds the final parameters.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not callable(batches):
        raise TypeError("batches must be a callable (step, generator) -> (x, y)")
    if lr_schedule is not None and not callable(lr_schedule):
        raise TypeError("lr_schedule must be a callable step -> multiplier, or None")
    check_int("steps", steps, minimum=1)
    check_int("eval_every", eval_every, minimum=1)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    check_int("data_seed", data_seed, minimum=0)
    check_positive("momentum", momentum, allow_zero=True)
    check_positive("weight_decay", weight_decay, allow_zero=True)
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a string, got {type(tag).__name__}")
    if state is not None and not isinstance(state, FitState):
        raise TypeError(
            f"state must be a FitState (from fit(..., return_state=True)), got "
            f"{type(state).__name__}"
        )
    if state is not None and checkpoint_dir is not None:
        raise ValueError("pass either state (continue a run in memory) or checkpoint_dir, not both")
    if not callable(loss):
        check_choice("loss", loss, LOSSES)
    is_ens = isinstance(model, Ensemble)
    E = model.members if is_ens else 1
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters to train")
    device = params[0].device
    lr_t = _as_lr(lr, E, device)
    opt = BatchedOptimizer(
        params,
        lr_t,
        ensemble=is_ens,
        kind=optimizer,
        momentum=momentum,
        weight_decay=weight_decay,
        betas=betas,
    )
    gen = torch.Generator(device=device).manual_seed(data_seed)
    cap = runtime.max_steps()

    ckpt = None
    if checkpoint_dir is not None:
        settings = dict(
            loss=loss,
            optimizer=optimizer,
            lr=lr_t.tolist(),
            momentum=momentum,
            weight_decay=weight_decay,
            betas=list(betas),
            data_seed=data_seed,
            eval_every=eval_every,
            lr_schedule=lr_schedule,
        )
        if cap is not None:
            settings["max_steps"] = cap  # a capped smoke run never stands in for a real one
        ckpt = Path(checkpoint_dir) / f"run-{run_key(model, tag=tag, **settings)}.pt"
        if ckpt.exists():
            saved = torch.load(ckpt, map_location=device, weights_only=True)
            model.load_state_dict(saved["model"])
            state = FitState.from_dict(saved["state"])
            if saved["finished"] and (state.step >= steps or not bool(state.active.any())):
                hist = state.history  # train-or-load: the finished run is the answer
                return (hist, state) if return_state else hist
        else:
            state = None

    if state is None:
        hist = History(members=E, single=not is_ens, stopped_at=[-1] * E)
        active = torch.ones(E, dtype=torch.bool, device=device)
        running = torch.zeros(E, device=device)  # training loss summed since the last record
        start, n_run = 0, 0
    else:
        state = state.copy()  # the caller's state stays as it was (branches are independent)
        if state.active.numel() != E or state.history.members != E:
            raise ValueError(
                f"state is of a run with {state.active.numel()} members, the model has {E}"
            )
        if state.optimizer.get("kind", optimizer) != optimizer:
            raise ValueError(
                f"state is of a run with optimizer={state.optimizer['kind']!r}, "
                f"got optimizer={optimizer!r}"
            )
        opt.load_state_dict(state.optimizer)
        gen.set_state(state.generator.cpu())
        hist, start, n_run = state.history, state.step, state.n_run
        active, running = state.active.to(device), state.running.to(device)
    end = steps if cap is None else min(steps, start + cap)

    def current(step: int) -> FitState:
        return FitState(
            step=step,
            optimizer=opt.state_dict(),
            generator=gen.get_state(),
            history=hist,
            active=active,
            running=running,
            n_run=n_run,
        )

    def save(step: int, finished: bool) -> None:
        if ckpt is not None:
            _save(
                ckpt,
                {
                    "model": model.state_dict(),
                    "state": current(step).to_dict(),
                    "finished": finished,
                },
            )

    loop = range(start, end)
    bar = runtime.progress(loop, desc, total=steps, initial=start, steps=True) if progress else None
    step = start
    for t in bar if bar is not None else loop:
        x, y = batches(t, gen)
        out = model(x)
        if not is_ens:
            out = out.unsqueeze(0)
        losses = member_losses(out, y, loss)
        opt.zero_grad()
        losses.sum().backward()  # members share no parameters: each gets its own gradient
        opt.step(active, 1.0 if lr_schedule is None else lr_schedule(t))
        running += losses.detach()
        n_run += 1
        step = t + 1
        if step % eval_every == 0 or step == end:
            values: dict[str, torch.Tensor] = {"loss": running / n_run}
            running.zero_()
            n_run = 0
            if evaluate is not None:
                with torch.no_grad():
                    values.update({k: torch.as_tensor(v) for k, v in evaluate(model).items()})
            hist.record(step, values)
            if stop_when is not None:
                hit = torch.as_tensor(stop_when(values), device=device).reshape(-1).bool()
                if hit.numel() == 1:
                    hit = hit.expand(E)
                new = hit & active
                for e in torch.nonzero(new).flatten().tolist():
                    hist.stopped_at[e] = step
                active &= ~hit
                if bar is not None:
                    bar.set_postfix(done=f"{E - int(active.sum())}/{E}")
                if not active.any():
                    break
        if step % checkpoint_every == 0:
            save(step, finished=False)
    if bar is not None:
        bar.close()
    save(step, finished=True)
    return (hist, current(step).copy()) if return_state else hist
