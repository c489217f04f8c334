"""One training loop for one model or an ensemble of E models.

:func:`fit` runs (stochastic) gradient descent and returns a :class:`History`. It treats a plain
``nn.Module`` as an ensemble of one, so single runs and seed sweeps share every line of code:

* each member has its own learning rate, its own loss and metric history, and stops on its own
  when ``stop_when`` says so (its parameters freeze; the others go on);
* the optimiser (SGD with momentum and weight decay, or Adam) acts element-wise, so member ``i``
  of a stacked run follows exactly the trajectory it would follow alone;
* with ``checkpoint_dir`` the state is saved every ``checkpoint_every`` steps, a run that was
  interrupted (a Colab disconnect) resumes where it stopped with the same final result, and a
  finished run is loaded instead of retrained (train-or-load).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lmt_core._checks import check_choice, check_int, check_positive
from lmt_core.ensemble import Ensemble
from lmt_core.runtime import is_interactive

__all__ = ["LOSSES", "IGNORE_INDEX", "History", "BatchedOptimizer", "member_losses", "fit"]

LOSSES = ("mse", "hinge", "logistic", "cross_entropy")
IGNORE_INDEX = -100  # cross_entropy targets with this value are left out of the loss
Batch = tuple[torch.Tensor, torch.Tensor]
CHECKPOINT_FILE = "state.pt"


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
            raise ValueError(f"cross_entropy needs logits of shape (E, B, ..., C), got {tuple(out.shape)}")
        E, C = out.shape[0], out.shape[-1]
        if y.shape == out.shape[1:-1]:
            y = y.expand(out.shape[:-1])
        if y.shape != out.shape[:-1]:
            raise ValueError(f"targets y of shape {tuple(y.shape)} do not match logits {tuple(out.shape)}: "
                             "expected (B, ...) or (E, B, ...) without the class dimension")
        per = nn.functional.cross_entropy(out.reshape(-1, C), y.reshape(-1).long(), reduction="none",
                                          ignore_index=IGNORE_INDEX).view(E, -1)
        counted = (y.reshape(E, -1) != IGNORE_INDEX).sum(1).clamp(min=1)
        return per.sum(1) / counted
    if y.shape != out.shape and y.shape != out.shape[1:]:  # no silent (E, B, 1) x (B,) broadcasting
        raise ValueError(f"targets y of shape {tuple(y.shape)} do not match outputs {tuple(out.shape)}: "
                         "expected (B, ...) or (E, B, ...)")
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
        return {"t": self.t, "state": self.state}

    def load_state_dict(self, sd: dict) -> None:
        self.t = int(sd["t"])
        self.state = [{k: v.to(p.device) for k, v in st.items()} for st, p in zip(sd["state"], self.params)]


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
                raise ValueError(f"metric {k!r} must have {self.members} values (one per member), got {v.numel()}")
            self.metrics.setdefault(k, []).append(v.tolist())

    def to_dict(self) -> dict:
        return {"members": self.members, "single": self.single, "steps": self.steps,
                "metrics": self.metrics, "stopped_at": self.stopped_at}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(members=int(d["members"]), single=bool(d["single"]), steps=list(d["steps"]),
                   metrics={k: [list(r) for r in v] for k, v in d["metrics"].items()},
                   stopped_at=list(d["stopped_at"]))


def _as_lr(lr: float | Sequence[float] | torch.Tensor, members: int, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(lr, dtype=torch.float32, device=device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(members).clone()
    if t.numel() != members:
        raise ValueError(f"lr must be one number or one per member ({members}), got {t.numel()} values")
    if not torch.isfinite(t).all() or (t <= 0).any():
        raise ValueError(f"lr must be positive and finite, got {t.tolist()}")
    return t


def _signature(model: nn.Module) -> list:
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


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
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` for ``steps`` updates and return its :class:`History`.

    Args:
        model: a plain ``nn.Module`` (one member) or an :class:`~lmt_core.ensemble.Ensemble`
            (E members, outputs ``(E, B, ...)``).
        batches: ``batches(step, generator) -> (x, y)``; called once per step with a generator
            seeded by ``data_seed`` (and checkpointed with the run). ``x`` of shape ``(B, ...)`` is
            shared by all members; ``(E, B, ...)`` gives each member its own batch.
        steps: number of updates.
        loss: see :func:`member_losses`.
        optimizer: ``"sgd"`` (with ``momentum``, ``weight_decay``) or ``"adam"`` (``betas``).
        lr: one learning rate, or one per member.
        lr_schedule: ``lr_schedule(step) -> s_t``; update ``step`` (0-based) uses ``lr * s_t``
            (see :mod:`lmt_core.optim.schedules`). ``None``: constant.
        evaluate: ``evaluate(model) -> {name: value}``, value a tensor ``(E,)`` or a number;
            called (under ``torch.no_grad``) every ``eval_every`` steps and at the end.
        stop_when: ``stop_when(metrics) -> bool (E,)``: a member stops (freezes) the first time
            it holds; training ends when every member has stopped.
        checkpoint_dir: where to save ``state.pt`` every ``checkpoint_every`` steps and at the end.
            If it already holds a finished run of this model, that run is loaded, not retrained.
        progress: show a ``tqdm.auto`` bar (never in static builds, see ``runtime.is_interactive``).

    Returns:
        The run's :class:`History`; ``model`` holds the final parameters.
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
    if not callable(loss):
        check_choice("loss", loss, LOSSES)
    is_ens = isinstance(model, Ensemble)
    E = model.members if is_ens else 1
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters to train")
    device = params[0].device
    lr_t = _as_lr(lr, E, device)
    opt = BatchedOptimizer(params, lr_t, ensemble=is_ens, kind=optimizer, momentum=momentum,
                           weight_decay=weight_decay, betas=betas)
    gen = torch.Generator(device=device).manual_seed(data_seed)
    hist = History(members=E, single=not is_ens, stopped_at=[-1] * E)
    active = torch.ones(E, dtype=torch.bool, device=device)
    start = 0
    ckpt = Path(checkpoint_dir) / CHECKPOINT_FILE if checkpoint_dir is not None else None

    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=True)
        if state["signature"] != _signature(model):
            raise ValueError(f"checkpoint_dir {checkpoint_dir!s} holds a run of a different model; "
                             "use another directory or delete it")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"].cpu())
        hist = History.from_dict(state["history"])
        active = state["active"].to(device)
        start = int(state["step"])
        if state["finished"] and (start >= steps or not bool(active.any())):
            return hist  # train-or-load: the finished run is the answer

    running = torch.zeros(E, device=device)  # training loss summed since the last record
    n_run = 0
    if ckpt is not None and start > 0:
        running, n_run = state["running"].to(device), int(state["n_run"])

    def save(step: int, finished: bool) -> None:
        if ckpt is not None:
            _save(ckpt, {"signature": _signature(model), "model": model.state_dict(),
                         "optimizer": opt.state_dict(), "generator": gen.get_state(),
                         "history": hist.to_dict(), "active": active, "step": step,
                         "running": running, "n_run": n_run, "finished": finished})

    bar = tqdm(range(start, steps), desc=desc, disable=not (progress and is_interactive()),
               initial=start, total=steps, leave=False)
    step = start
    for t in bar:
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
        if step % eval_every == 0 or step == steps:
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
                bar.set_postfix(done=f"{E - int(active.sum())}/{E}")
                if not active.any():
                    break
        if step % checkpoint_every == 0:
            save(step, finished=False)
    bar.close()
    save(step, finished=True)
    return hist
