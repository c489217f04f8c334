"""Tests of lmt_core.train: the stacked run equals the solo runs, stop-at-target, resume, learning."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from lmt_core import ensemble, tasks, train
from lmt_core.models import MLP
from lmt_core.optim import schedules
from lmt_core.tasks import SparseParity, hypercube
from lmt_core.train import BatchedOptimizer, History, fit, member_losses

N, K, WIDTH, B = 10, 2, 16, 16
TASK = SparseParity.first(N, K)
SEEDS = [0, 1, 2, 3]
LRS = [0.05, 0.1, 0.02, 0.08]
ATOL = 1e-5


@pytest.fixture(autouse=True)
def _static(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")  # no progress bars


def batches(step, g):
    return TASK.sample(B, generator=g)


def params_of(module):
    return [p.detach().clone() for p in module.parameters()]


def assert_same_params(a, b, atol=ATOL):
    pa, pb = list(a.parameters()), list(b.parameters())
    assert len(pa) == len(pb)
    for p, q in zip(pa, pb):
        torch.testing.assert_close(p, q, atol=atol, rtol=0)


def assert_exactly_equal(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


OPTIMIZERS = [
    dict(optimizer="sgd", momentum=0.9, weight_decay=1e-3),
    dict(optimizer="adam", weight_decay=1e-3, betas=(0.8, 0.99)),
    dict(optimizer="sgd"),
]


# ---------------------------------------------------------------- the equivalence test


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("opt", OPTIMIZERS, ids=["sgd-momentum-wd", "adam", "plain-sgd"])
def test_stacked_mlps_follow_their_solo_trajectories(opt, depth):
    kw = dict(steps=50, loss="hinge", data_seed=7, eval_every=10, progress=False, **opt)
    lrs = LRS if opt["optimizer"] == "sgd" else [lr / 10 for lr in LRS]
    ens = ensemble.stack([MLP(N, WIDTH, depth=depth, seed=s) for s in SEEDS])
    hist = fit(ens, batches, lr=lrs, **kw)
    assert hist["loss"].shape == (5, 4)
    for i, s in enumerate(SEEDS):
        solo = MLP(N, WIDTH, depth=depth, seed=s)
        h = fit(solo, batches, lr=lrs[i], **kw)
        assert_same_params(ens.member(i), solo)
        np.testing.assert_allclose(hist["loss"][:, i], h["loss"], rtol=1e-5, atol=1e-6)
        # training moved the weights far beyond the tolerance, so the comparison is not vacuous
        moved = max(
            (p - q).abs().max().item()
            for p, q in zip(solo.parameters(), MLP(N, WIDTH, depth=depth, seed=s).parameters())
        )
        assert moved > 100 * ATOL
    # members with different learning rates end in different places
    assert not torch.allclose(ens.weights[0][0], ens.weights[0][1])


def test_learning_rate_matters_per_member():
    """Same seed, different lr: member i equals the solo run with lr i, not any other."""
    kw = dict(steps=30, loss="mse", data_seed=1, optimizer="sgd", momentum=0.5, progress=False)
    ens = ensemble.stack([MLP(N, WIDTH, seed=0) for _ in range(2)])
    fit(ens, batches, lr=[0.01, 0.1], **kw)
    slow, fast = MLP(N, WIDTH, seed=0), MLP(N, WIDTH, seed=0)
    fit(slow, batches, lr=0.01, **kw)
    fit(fast, batches, lr=0.1, **kw)
    assert_same_params(ens.member(0), slow)
    assert_same_params(ens.member(1), fast)
    assert not torch.allclose(slow.first_layer, fast.first_layer, atol=1e-3)


def test_per_member_batches_follow_solo_runs():
    """With x of shape (E, B, n) each member sees its own stream."""
    E = 3

    def own(step, g):
        xs, ys = zip(*(TASK.sample(B, generator=g) for _ in range(E)))
        return torch.stack(xs), torch.stack(ys)

    kw = dict(
        steps=30,
        loss="logistic",
        data_seed=3,
        optimizer="sgd",
        momentum=0.9,
        lr=0.1,
        progress=False,
    )
    ens = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(E)])
    fit(ens, own, **kw)
    for i in range(E):
        solo = MLP(N, WIDTH, seed=i)
        fit(solo, lambda step, g, i=i: tuple(t[i] for t in own(step, g)), **kw)
        assert_same_params(ens.member(i), solo)


def small_net(seed, n=N, d=12, c=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n, d), nn.Tanh(), nn.Linear(d, c))


def three_class_batches(step, g):
    x, _ = TASK.sample(B, generator=g)
    return x, ((x[:, 0] > 0).long() + (x[:, 1] > 0).long())  # classes 0, 1, 2


@pytest.mark.parametrize("opt", OPTIMIZERS[:2], ids=["sgd-momentum-wd", "adam"])
def test_functional_ensemble_follows_solo_trajectories(opt):
    kw = dict(steps=50, loss="cross_entropy", data_seed=5, progress=False, **opt)
    lrs = [0.1, 0.05, 0.2] if opt["optimizer"] == "sgd" else [0.01, 0.005, 0.02]
    ens = ensemble.stack([small_net(s) for s in range(3)])
    assert isinstance(ens, ensemble.FunctionalEnsemble)
    fit(ens, three_class_batches, lr=lrs, **kw)
    for i in range(3):
        solo = small_net(i)
        fit(solo, three_class_batches, lr=lrs[i], **kw)
        assert_same_params(ens.member(i), solo)
        assert not torch.allclose(solo[0].weight, small_net(i)[0].weight)


# ---------------------------------------------------------------- stop at target


def _stop_member0_at(step_to_stop, E):
    def stop_when(values):
        hit = torch.zeros(E, dtype=torch.bool)
        if stop_when.calls == step_to_stop:
            hit[0] = True
        stop_when.calls += 1
        return hit

    stop_when.calls = 0
    return stop_when


@pytest.mark.parametrize("opt", OPTIMIZERS[:2], ids=["sgd-momentum-wd", "adam"])
def test_stop_when_freezes_one_member_exactly(opt):
    E = 4
    snapshots = {}

    def evaluate(model):
        snapshots[len(snapshots) + 1] = [p.detach().clone() for p in model.parameters()]
        return {"w0": model.weights[0].detach().abs().mean((1, 2))}

    ens = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(E)])
    lr = 0.05 if opt["optimizer"] == "sgd" else 0.005
    hist = fit(
        ens,
        batches,
        steps=60,
        lr=lr,
        loss="hinge",
        eval_every=10,
        evaluate=evaluate,
        stop_when=_stop_member0_at(1, E),
        progress=False,
        **opt,
    )  # hit at the 2nd evaluation
    assert hist.stop_steps().tolist() == [20, -1, -1, -1]
    assert hist.steps == [10, 20, 30, 40, 50, 60]
    at20 = snapshots[2]
    for p, q in zip(ens.parameters(), at20):
        assert torch.equal(p[0], q[0])  # member 0 did not move after step 20
        assert not torch.equal(p[1:], q[1:])  # the others went on
    w0 = hist["w0"]
    assert w0.shape == (6, 4)
    assert np.all(w0[1:, 0] == w0[1, 0]) and np.all(np.diff(w0[1:, 1]) != 0)
    # and member 0's parameters are those of a solo run of 20 steps
    solo = MLP(N, WIDTH, seed=0)
    fit(solo, batches, steps=20, lr=lr, loss="hinge", eval_every=10, progress=False, **opt)
    assert_same_params(ens.member(0), solo)


def test_stop_when_everyone_ends_the_run():
    calls = []

    def counting(step, g):
        calls.append(step)
        return batches(step, g)

    ens = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(3)])
    hist = fit(
        ens,
        counting,
        steps=100,
        eval_every=10,
        lr=0.01,
        stop_when=lambda v: v["loss"] < 100.0,
        progress=False,
    )  # everyone, first evaluation
    assert hist.stop_steps().tolist() == [10, 10, 10]
    assert len(calls) == 10 and hist.steps == [10]


def test_stop_when_scalar_and_single_model():
    calls = []

    def stop_when(values):
        calls.append(values["loss"].shape)
        return len(calls) == 4  # a plain bool: at the 4th evaluation

    hist = fit(
        MLP(N, WIDTH), batches, steps=50, eval_every=5, lr=0.01, progress=False, stop_when=stop_when
    )
    assert calls[0] == (1,)
    assert isinstance(hist.stop_steps(), int)
    assert hist.stop_steps() == 20 and hist.steps[-1] == 20
    assert hist["loss"].shape == (4,)


# ---------------------------------------------------------------- checkpoints: resume, load


class Disconnect:
    """Batches that raise KeyboardInterrupt once, at ``at`` (a Colab disconnect)."""

    def __init__(self, at=None):
        self.at, self.calls = at, []

    def __call__(self, step, g):
        if step == self.at:
            self.at = None
            raise KeyboardInterrupt
        self.calls.append(step)
        return batches(step, g)


def _ens():
    return ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(3)])


def _evaluate(model):
    X = hypercube(N)
    with torch.no_grad():
        return {"acc": (torch.sign(model(X)) == TASK.label(X)).float().mean(1), "const": 1.0}


@pytest.mark.parametrize("opt", OPTIMIZERS[:2], ids=["sgd-momentum-wd", "adam"])
@pytest.mark.parametrize("eval_every", [10, 25, 100])
def test_resume_after_disconnect_equals_uninterrupted_run(tmp_path, opt, eval_every):
    lr = [0.05, 0.1, 0.02] if opt["optimizer"] == "sgd" else [0.005, 0.01, 0.002]
    kw = dict(
        steps=100,
        loss="hinge",
        lr=lr,
        data_seed=4,
        eval_every=eval_every,
        evaluate=_evaluate,
        progress=False,
        **opt,
    )
    ref = _ens()
    ref_hist = fit(ref, Disconnect(), **kw)

    ck = tmp_path / "run"
    first = Disconnect(at=70)
    with pytest.raises(KeyboardInterrupt):
        fit(_ens(), first, checkpoint_dir=ck, checkpoint_every=20, **kw)
    assert len(list(ck.glob("run-*.pt"))) == 1
    assert first.calls == list(range(70))

    again = Disconnect()
    resumed = _ens()  # a fresh kernel: the model is rebuilt, the checkpoint holds the state
    hist = fit(resumed, again, checkpoint_dir=ck, checkpoint_every=20, **kw)
    assert again.calls == list(range(60, 100))  # resumed at the last checkpoint (step 60)
    assert_exactly_equal(resumed, ref)
    assert hist.to_dict() == ref_hist.to_dict()

    # the finished run is loaded, not retrained
    def forbidden(step, g):
        raise AssertionError("batches called for a finished run")

    loaded = _ens()
    hist2 = fit(loaded, forbidden, checkpoint_dir=ck, checkpoint_every=20, **kw)
    assert_exactly_equal(loaded, ref)
    assert hist2.to_dict() == ref_hist.to_dict()


def test_resume_with_the_same_model_object(tmp_path):
    """Resuming in the same kernel: the half-trained model in memory is reset to the checkpoint."""
    kw = dict(
        steps=100,
        loss="mse",
        lr=0.05,
        momentum=0.9,
        data_seed=2,
        progress=False,
        checkpoint_dir=tmp_path,
        checkpoint_every=20,
    )
    ref = MLP(N, WIDTH)
    ref_hist = fit(ref, batches, **{k: v for k, v in kw.items() if k != "checkpoint_dir"})
    m = MLP(N, WIDTH)
    with pytest.raises(KeyboardInterrupt):
        fit(m, Disconnect(at=70), **kw)
    hist = fit(m, Disconnect(), **kw)
    assert_exactly_equal(m, ref)
    assert hist.to_dict() == ref_hist.to_dict()


def test_resume_keeps_stopped_members_frozen(tmp_path):
    E = 3
    kw = dict(steps=60, lr=0.05, eval_every=10, loss="hinge", progress=False)
    ref = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(E)])
    ref_hist = fit(ref, batches, stop_when=_stop_member0_at(0, E), **kw)
    m = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(E)])
    with pytest.raises(KeyboardInterrupt):
        fit(
            m,
            Disconnect(at=45),
            stop_when=_stop_member0_at(0, E),
            checkpoint_dir=tmp_path,
            checkpoint_every=20,
            **kw,
        )
    m = ensemble.stack([MLP(N, WIDTH, seed=s) for s in range(E)])
    hist = fit(
        m,
        batches,
        stop_when=lambda v: torch.zeros(E, dtype=torch.bool),
        checkpoint_dir=tmp_path,
        checkpoint_every=20,
        **kw,
    )
    assert hist.stop_steps().tolist() == [10, -1, -1]
    assert_exactly_equal(m, ref)
    assert hist.to_dict() == ref_hist.to_dict()


def test_finished_run_can_be_extended(tmp_path):
    kw = dict(loss="mse", lr=0.05, momentum=0.9, data_seed=2, eval_every=10, progress=False)
    ref = MLP(N, WIDTH)
    ref_hist = fit(ref, batches, steps=60, **kw)
    m = MLP(N, WIDTH)
    fit(m, batches, steps=30, checkpoint_dir=tmp_path, **kw)
    calls = Disconnect()
    hist = fit(m, calls, steps=60, checkpoint_dir=tmp_path, **kw)
    assert calls.calls == list(range(30, 60))
    assert_exactly_equal(m, ref)
    assert hist.to_dict() == ref_hist.to_dict()


def test_checkpoint_of_another_model_is_a_separate_run(tmp_path):
    fit(MLP(N, WIDTH), batches, steps=5, progress=False, checkpoint_dir=tmp_path)
    fit(MLP(N, WIDTH + 1), batches, steps=5, progress=False, checkpoint_dir=tmp_path)
    fit(_ens(), batches, steps=5, progress=False, checkpoint_dir=tmp_path)
    assert len(list(tmp_path.glob("run-*.pt"))) == 3


def test_checkpoint_file_is_written_atomically(tmp_path):
    fit(
        MLP(N, WIDTH),
        batches,
        steps=10,
        checkpoint_every=3,
        progress=False,
        checkpoint_dir=tmp_path,
    )
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("run-") and files[0].endswith(".pt")
    saved = torch.load(tmp_path / files[0], weights_only=True)
    assert saved["finished"] and saved["state"]["step"] == 10


class Counting:
    """Batches that count their calls (0 calls: the run was loaded, not trained)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, step, g):
        self.calls += 1
        return batches(step, g)


@pytest.mark.parametrize(
    "change, retrains",
    [
        ({}, False),
        ({"lr": 0.06}, True),
        ({"tag": "another task"}, True),
        ({"weight_decay": 1e-3}, True),
        ({"data_seed": 1}, True),
        ({"lr_schedule": schedules.wsd(20, decay=5)}, True),
        ({"optimizer": "adam"}, True),
    ],
)
def test_checkpoint_key_retrains_exactly_when_a_setting_changes(tmp_path, change, retrains):
    kw = dict(
        steps=20,
        loss="mse",
        lr=0.05,
        data_seed=0,
        eval_every=5,
        progress=False,
        checkpoint_dir=tmp_path,
        tag="parity n=10 k=2",
        lr_schedule=schedules.wsd(20, decay=10),
    )
    first = MLP(N, WIDTH)
    fit(first, Counting(), **kw)
    again, counter = MLP(N, WIDTH), Counting()
    fit(again, counter, **{**kw, **change})
    assert (counter.calls == 20) == retrains and (counter.calls == 0) == (not retrains)
    if not retrains:
        assert_exactly_equal(again, first)
    assert len(list(tmp_path.glob("run-*.pt"))) == (2 if retrains else 1)


def test_run_key_is_stable_and_names_callables_not_addresses():
    m = MLP(N, WIDTH)
    k1 = train.run_key(m, tag="t", lr_schedule=schedules.cosine(100, warmup=5), loss="mse")
    k2 = train.run_key(m, tag="t", lr_schedule=schedules.cosine(100, warmup=5), loss="mse")
    k3 = train.run_key(m, tag="t", lr_schedule=schedules.cosine(100, warmup=6), loss="mse")
    assert k1 == k2 != k3 and len(k1) == 12
    assert train.run_key(m, loss=member_losses) == train.run_key(m, loss=member_losses)
    assert train.run_key(m, tag="a") != train.run_key(m, tag="b")
    with pytest.raises(TypeError, match="tag"):
        train.run_key(m, tag=3)


# ---------------------------------------------------------------- state: continue and branch


@pytest.mark.parametrize("opt", OPTIMIZERS[:2], ids=["sgd-momentum-wd", "adam"])
def test_two_halves_with_state_equal_one_run(opt):
    lr = [0.05, 0.1, 0.02] if opt["optimizer"] == "sgd" else [0.005, 0.01, 0.002]
    kw = dict(
        loss="hinge",
        lr=lr,
        data_seed=4,
        eval_every=10,
        evaluate=_evaluate,
        lr_schedule=schedules.cosine(60, warmup=5),
        progress=False,
        **opt,
    )
    ref = _ens()
    init = params_of(ref)
    ref_hist = fit(ref, batches, steps=60, **kw)
    moved = max(float((p.detach() - q).abs().max()) for p, q in zip(ref.parameters(), init))
    assert moved > 1e-2  # non-vacuous: the run did move the parameters
    m = _ens()
    h1, st = fit(m, batches, steps=30, return_state=True, **kw)
    assert isinstance(st, train.FitState) and st.step == 30 and len(h1.steps) == 3
    h2, st2 = fit(m, batches, steps=60, state=st, return_state=True, **kw)
    assert_same_params(m, ref, atol=1e-6)
    assert h2.steps == ref_hist.steps and st2.step == 60
    np.testing.assert_allclose(h2["loss"], ref_hist["loss"], atol=1e-6)
    assert st.step == 30 and len(st.history.steps) == 3  # the given state is unchanged


def test_branches_from_one_state_are_independent():
    kw = dict(loss="mse", optimizer="adam", lr=0.01, data_seed=3, eval_every=10, progress=False)
    trunk = MLP(N, WIDTH)
    _, st = fit(trunk, batches, steps=20, return_state=True, **kw)
    snapshot = st.copy()
    a, b = copy.deepcopy(trunk), copy.deepcopy(trunk)
    ha = fit(a, batches, steps=40, state=st, lr_schedule=schedules.wsd(40, decay=20), **kw)
    hb = fit(b, batches, steps=40, state=st, **kw)
    # the decayed branch differs from the constant one, and neither touched the shared state
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert ha.steps == hb.steps == [10, 20, 30, 40]
    assert st.step == snapshot.step == 20 and torch.equal(st.generator, snapshot.generator)
    for s1, s2 in zip(st.optimizer["state"], snapshot.optimizer["state"]):
        for k in s1:
            assert torch.equal(s1[k], s2[k])
    # the constant branch is exactly what continuing the trunk gives
    c = copy.deepcopy(trunk)
    fit(c, batches, steps=40, state=st.copy(), **kw)
    assert_exactly_equal(c, b)


def test_state_is_checked():
    _, st = fit(MLP(N, WIDTH), batches, steps=5, return_state=True, progress=False)
    with pytest.raises(ValueError, match="members"):
        fit(_ens(), batches, steps=10, state=st, progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        fit(MLP(N, WIDTH), batches, steps=10, state=st, optimizer="adam", progress=False)
    with pytest.raises(TypeError, match="state"):
        fit(MLP(N, WIDTH), batches, steps=10, state={"step": 3}, progress=False)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        fit(MLP(N, WIDTH), batches, steps=10, state=st, checkpoint_dir="x", progress=False)


def test_max_steps_caps_the_run(monkeypatch, tmp_path):
    monkeypatch.setenv("LMT_MAX_STEPS", "7")
    counter = Counting()
    hist = fit(MLP(N, WIDTH), counter, steps=100, eval_every=5, progress=True)
    assert counter.calls == 7 and hist.steps == [5, 7]
    fit(MLP(N, WIDTH), batches, steps=100, checkpoint_dir=tmp_path, progress=False)
    monkeypatch.delenv("LMT_MAX_STEPS")
    counter = Counting()
    fit(MLP(N, WIDTH), counter, steps=10, checkpoint_dir=tmp_path, progress=False)
    assert counter.calls == 10  # a capped run is not loaded as the real one


# ---------------------------------------------------------------- learning happens


def test_mlp_learns_a_sparse_parity():
    task = SparseParity.first(8, 2)
    X, Y = hypercube(8), task.label(hypercube(8))
    m = MLP(8, 64, seed=0)
    hist = fit(
        m,
        lambda t, g: task.sample(32, generator=g),
        steps=300,
        loss="hinge",
        lr=0.1,
        eval_every=50,
        progress=False,
    )
    with torch.no_grad():
        acc = (torch.sign(m(X)) == Y).float().mean().item()
    assert acc >= 0.95
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]


def test_ensemble_learns_a_sparse_parity_and_evaluate_records_accuracy():
    task = SparseParity.first(8, 2)
    X, Y = hypercube(8), task.label(hypercube(8))
    ens = ensemble.stack([MLP(8, 64, seed=s) for s in range(3)])
    hist = fit(
        ens,
        lambda t, g: task.sample(32, generator=g),
        steps=300,
        loss="hinge",
        lr=0.1,
        eval_every=50,
        progress=False,
        evaluate=lambda model: {"acc": (torch.sign(model(X)) == Y).float().mean(1)},
    )
    assert hist["acc"].shape == (6, 3)
    assert (hist.final("acc") >= 0.95).all()


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "kwargs,exc,msg",
    [
        (dict(lr=[0.1, 0.2]), ValueError, "lr"),
        (dict(lr=[0.1] * 5), ValueError, "lr"),
        (dict(lr=-0.1), ValueError, "lr"),
        (dict(lr=[0.1, 0.1, float("nan")]), ValueError, "lr"),
        (dict(steps=0), ValueError, "steps"),
        (dict(steps=1.5), TypeError, "steps"),
        (dict(loss="l1"), ValueError, "loss"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer"),
        (dict(momentum=-0.9), ValueError, "momentum"),
        (dict(weight_decay=-1.0), ValueError, "weight_decay"),
        (dict(eval_every=0), ValueError, "eval_every"),
        (dict(checkpoint_every=0), ValueError, "checkpoint_every"),
        (dict(data_seed=-1), ValueError, "data_seed"),
    ],
)
def test_bad_arguments(kwargs, exc, msg):
    args = dict(steps=3, progress=False)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        fit(_ens(), batches, **args)


def test_bad_model_and_batches():
    with pytest.raises(TypeError, match="model"):
        fit(lambda x: x, batches, steps=3)
    with pytest.raises(TypeError, match="batches"):
        fit(MLP(N, WIDTH), [1, 2], steps=3)
    with pytest.raises(ValueError, match="no parameters"):
        fit(nn.Identity(), batches, steps=3)


def test_lr_tensor_per_member_is_accepted():
    ens = _ens()
    fit(ens, batches, steps=3, lr=torch.tensor([0.1, 0.2, 0.3]), progress=False)


# ---------------------------------------------------------------- member_losses


def test_member_losses_closed_forms():
    out = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    y = torch.tensor([1.0, 1.0, -1.0])
    torch.testing.assert_close(
        member_losses(out, y, "mse"), torch.tensor([(0.25 + 4 + 9) / 3, 1.0])
    )
    torch.testing.assert_close(
        member_losses(out, y, "hinge"), torch.tensor([(0.5 + 2 + 3) / 3, 1.0])
    )
    logi = [
        (math.log1p(math.exp(-0.5)) + math.log1p(math.exp(1.0)) + math.log1p(math.exp(2.0))) / 3,
        math.log(2.0),
    ]
    torch.testing.assert_close(member_losses(out, y, "logistic"), torch.tensor(logi))
    # per-member targets (E, B)
    y2 = torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]])
    torch.testing.assert_close(
        member_losses(out, y2, "hinge"), torch.tensor([(0.5 + 2 + 3) / 3, 1.0])
    )
    torch.testing.assert_close(
        member_losses(out, y2, "mse"), torch.tensor([(0.25 + 4 + 9) / 3, 1.0])
    )
    # multi-output mse averages over every output
    torch.testing.assert_close(
        member_losses(torch.ones(2, 3, 4), torch.zeros(3, 4), "mse"), torch.ones(2)
    )


def test_member_losses_cross_entropy():
    logits = torch.tensor(
        [[[0.0, 0.0], [math.log(3.0), 0.0]], [[2.0, 2.0], [0.0, 0.0]]]
    )  # (E=2, B=2, C=2)
    y = torch.tensor([0, 1])
    expect0 = (math.log(2.0) + math.log(4.0)) / 2  # -log(1/2), -log(1/4)
    torch.testing.assert_close(
        member_losses(logits, y, "cross_entropy"), torch.tensor([expect0, math.log(2.0)])
    )
    y2 = torch.tensor([[0, 0], [1, 1]])
    torch.testing.assert_close(
        member_losses(logits, y2, "cross_entropy"),
        torch.tensor([(math.log(2.0) + math.log(4 / 3)) / 2, math.log(2.0)]),
    )


def test_member_losses_callable_and_unknown():
    def f(out, y):
        return out.abs().mean(1)

    torch.testing.assert_close(
        member_losses(torch.tensor([[-2.0, 2.0]]), torch.zeros(2), f), torch.tensor([2.0])
    )
    with pytest.raises(ValueError, match="loss"):
        member_losses(torch.zeros(1, 2), torch.zeros(2), "huber")


def test_callable_loss_trains():
    ens = _ens()
    before = params_of(ens)
    fit(ens, batches, steps=5, lr=0.1, loss=lambda out, y: ((out - y) ** 2).mean(1), progress=False)
    assert all(not torch.equal(a, b) for a, b in zip(before, ens.parameters()))


# ---------------------------------------------------------------- BatchedOptimizer vs torch.optim


@pytest.mark.parametrize(
    "kind,kw,ref",
    [
        (
            "sgd",
            dict(momentum=0.9, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        ("adam", dict(weight_decay=0.01), lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01)),
    ],
)
def test_batched_optimizer_matches_torch_optim(kind, kw, ref):
    g = torch.Generator().manual_seed(0)
    w0 = torch.randn(3, 4, 5, generator=g)
    mine = w0.clone().requires_grad_()
    theirs = [w0[e].clone().requires_grad_() for e in range(3)]
    opt = BatchedOptimizer([mine], torch.full((3,), 0.1), ensemble=True, kind=kind, **kw)
    topts = [ref([t]) for t in theirs]
    for _ in range(10):
        target = torch.randn(3, 4, 5, generator=g)
        opt.zero_grad()
        (torch.sin(mine) * target).sum().backward()
        opt.step(torch.ones(3, dtype=torch.bool))
        for e in range(3):
            topts[e].zero_grad()
            (torch.sin(theirs[e]) * target[e]).sum().backward()
            topts[e].step()
    for e in range(3):
        torch.testing.assert_close(mine[e], theirs[e], atol=1e-5, rtol=1e-5)


def test_batched_optimizer_mask_freezes():
    p = torch.zeros(2, 3, requires_grad=True)
    opt = BatchedOptimizer([p], torch.tensor([1.0, 1.0]), ensemble=True, kind="sgd", momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (p - 1).pow(2).sum().backward()
        opt.step(torch.tensor([True, False]))
    assert torch.count_nonzero(p[1]) == 0 and torch.count_nonzero(p[0]) == 3


# ---------------------------------------------------------------- History


def test_history_shapes_and_accessors():
    ens = _ens()
    hist = fit(
        ens,
        batches,
        steps=25,
        eval_every=10,
        progress=False,
        evaluate=lambda m: {"acc": torch.tensor([0.1, 0.2, 0.3]), "const": 7.0},
    )
    assert hist.steps == [10, 20, 25] and hist.step_array.tolist() == [10, 20, 25]
    assert hist["loss"].shape == (3, 3) and hist["acc"].shape == (3, 3)
    assert hist["const"].tolist() == [[7.0] * 3] * 3  # a number is broadcast to every member
    assert hist.final("acc").tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert hist.stop_steps().tolist() == [-1, -1, -1]
    with pytest.raises(KeyError, match="acc"):
        hist["nope"]
    single = fit(MLP(N, WIDTH), batches, steps=25, eval_every=10, progress=False)
    assert single.single and single["loss"].shape == (3,)
    assert isinstance(single.final("loss"), float) and single.stop_steps() == -1
    assert History.from_dict(hist.to_dict()) == hist


def test_history_loss_is_the_mean_since_the_last_record():
    seen = []

    def recording_loss(out, y):
        v = ((out - y) ** 2).mean(1)
        seen.append(v.detach().clone())
        return v

    hist = fit(
        _ens(), batches, steps=20, eval_every=10, lr=0.01, loss=recording_loss, progress=False
    )
    seen = torch.stack(seen)
    np.testing.assert_allclose(hist["loss"][0], seen[:10].mean(0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(hist["loss"][1], seen[10:].mean(0).numpy(), rtol=1e-5)


def test_history_record_rejects_wrong_member_count():
    h = History(members=3, single=False, stopped_at=[-1] * 3)
    with pytest.raises(ValueError, match="one per member"):
        h.record(1, {"x": torch.ones(2)})


def test_member_losses_rejects_mismatched_targets():
    out = torch.zeros(3, 5, 1)
    with pytest.raises(ValueError, match="targets y"):
        train.member_losses(out, torch.zeros(5), "mse")


def test_cross_entropy_on_sequences_skips_ignored_positions():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(2, 3, 4, 5, generator=g)  # (E, B, T, C)
    y = torch.randint(0, 5, (3, 4), generator=g)
    y[:, :2] = tasks.IGNORE_INDEX
    got = train.member_losses(out, y, "cross_entropy")
    want = torch.stack(
        [
            torch.nn.functional.cross_entropy(out[e, :, 2:].reshape(-1, 5), y[:, 2:].reshape(-1))
            for e in range(2)
        ]
    )
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="do not match logits"):
        train.member_losses(out, y[:, :3], "cross_entropy")
