"""Tests of lmt_core.stacked_transformer: a stacked run of transformers equals its members."""

import copy

import pytest
import torch
from torch import nn

from lmt_core import ensemble, tasks, train
from lmt_core.ensemble import FunctionalEnsemble, StackedTransformer
from lmt_core.models import Transformer
from lmt_core.stacked_transformer import stackable

V, T, E = 7, 10, 3
ATOL = 1e-5

# every option of Transformer that changes its forward pass
CONFIGS = {
    "learned": dict(),
    "none-attention-only": dict(positional="none", mlp=False, n_heads=2),
    "sinusoidal-relu-no-ln": dict(
        positional="sinusoidal", activation="relu", layer_norm=False, n_heads=2
    ),
    "rope-no-bias": dict(positional="rope", bias=False, n_heads=2),
    "alibi": dict(positional="alibi", n_heads=4),
    "hard_alibi": dict(positional="hard_alibi", n_heads=4, windows=[None, 1, 2, 3]),
    "bidirectional": dict(causal=False, n_heads=2),
    "rope-bidirectional-attention-only": dict(positional="rope", causal=False, mlp=False),
    "d_head-d_mlp-n_out": dict(n_heads=2, d_head=5, d_mlp=9, n_out=4),
}


@pytest.fixture(autouse=True)
def _static(monkeypatch):
    monkeypatch.setenv("LMT_STATIC", "1")  # no progress bars


def make(seed, **kw):
    """A two-layer transformer with a large init, so that every part of it matters: biases and
    LayerNorm gains and shifts are drawn too (they start at 0 and 1 otherwise)."""
    kw = {"d_model": 16, "n_layers": 2, "max_len": 12, "init_std": 0.3, **kw}
    m = Transformer(V, seed=seed, **kw)
    g = torch.Generator().manual_seed(1000 + seed)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias") or ".ln" in name or name.startswith("ln_f"):
                p.add_(0.2 * torch.randn(p.shape, generator=g))
    return m


def tokens(*shape, seed=0):
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kw", CONFIGS.values(), ids=CONFIGS.keys())
def test_forward_equals_members_shared_and_per_member_inputs(kw):
    ms = [make(s, **kw) for s in range(E)]
    st = ensemble.stack(ms)
    assert isinstance(st, StackedTransformer) and st.members == E
    x, xe = tokens(5, T), tokens(E, 5, T, seed=1)
    out, maps = st(x, return_attention=True)
    out_e = st(xe)
    n_out = ms[0].n_out
    assert out.shape == out_e.shape == (E, 5, T, n_out)
    assert len(maps) == 2 and maps[0].shape == (E, 5, ms[0].n_heads, T, T)
    with torch.no_grad():
        for i, m in enumerate(ms):
            want, want_maps = m(x, return_attention=True)
            assert want.std() > 0.1  # the comparison is not between near-constant outputs
            torch.testing.assert_close(out[i], want, atol=ATOL, rtol=1e-5)
            torch.testing.assert_close(st(x)[i], want, atol=ATOL, rtol=1e-5)  # the fused kernel
            torch.testing.assert_close(out_e[i], m(xe[i]), atol=ATOL, rtol=1e-5)
            for a, b in zip(maps, want_maps):
                torch.testing.assert_close(a[i], b, atol=ATOL, rtol=1e-5)


def test_prefix_shapes():
    ms = [make(s) for s in range(E)]
    st = ensemble.stack(ms)
    x = tokens(4, 6)
    g = torch.Generator().manual_seed(3)
    shared, batched = torch.randn(2, 16, generator=g), torch.randn(4, 2, 16, generator=g)
    per_member = torch.randn(E, 4, 2, 16, generator=g)
    with torch.no_grad():
        for prefix in (shared, batched):
            out = st(x, prefix=prefix)
            assert out.shape == (E, 4, 8, V)
            for i, m in enumerate(ms):
                torch.testing.assert_close(out[i], m(x, prefix=prefix), atol=ATOL, rtol=1e-5)
        out = st(x, prefix=per_member)
        for i, m in enumerate(ms):
            torch.testing.assert_close(out[i], m(x, prefix=per_member[i]), atol=ATOL, rtol=1e-5)
    with pytest.raises(ValueError, match="prefix"):
        st(x, prefix=torch.randn(3, 2, 16))  # batch 3 != 4
    with pytest.raises(ValueError, match="prefix"):
        st(x, prefix=torch.randn(2, 15))


def test_bad_tokens():
    st = ensemble.stack([make(s) for s in range(E)])
    with pytest.raises(ValueError, match="tokens must have shape"):
        st(tokens(E + 1, 2, T))
    with pytest.raises(ValueError, match="tokens must have shape"):
        st(tokens(T))
    with pytest.raises(TypeError, match="integer"):
        st(torch.zeros(2, T))
    with pytest.raises(ValueError, match="max_len"):
        st(tokens(2, 13))
    with pytest.raises(RuntimeError):
        st(torch.full((2, T), V))  # outside the vocabulary: gather raises, as nn.Embedding does


def test_member_round_trip_and_layout():
    ms = [make(s, n_heads=2) for s in range(E)]
    st = ensemble.stack(ms)
    assert tuple(st.blocks[0].qkv_w.shape) == (E, 16, 3 * 16)
    assert tuple(st.embed.shape) == (E, V, 16) and tuple(st.unembed.shape) == (E, 16, V)
    # the ensemble owns exactly E x (the parameters of one member)
    assert sum(p.numel() for p in st.parameters()) == E * sum(p.numel() for p in ms[0].parameters())
    for i, m in enumerate(ms):
        back = st.member(i)
        assert type(back) is Transformer
        for (k, p), q in zip(back.named_parameters(), m.parameters()):
            assert torch.equal(p, q), k
    with torch.no_grad():
        st.blocks[1].qkv_w.add_(1.0)
    assert not torch.equal(st.member(0).blocks[1].attn.k.weight, ms[0].blocks[1].attn.k.weight)
    assert torch.equal(ms[0].blocks[1].attn.k.weight, make(0, n_heads=2).blocks[1].attn.k.weight)
    with pytest.raises(ValueError, match="member index"):
        st.member(E)


def test_state_dict_round_trip_and_dtype():
    a = ensemble.stack([make(s) for s in range(E)])
    b = ensemble.stack([make(s + 5) for s in range(E)])
    x = tokens(3, T)
    with torch.no_grad():
        assert not torch.allclose(a(x), b(x))
        b.load_state_dict(a.state_dict())
        assert torch.equal(a(x), b(x))
        c = copy.deepcopy(a).to(torch.float64)
        assert all(p.dtype == torch.float64 for p in c.parameters())
        assert c.member(1).embed.weight.dtype == torch.float64
        torch.testing.assert_close(c(x)[1], c.member(1)(x))
        torch.testing.assert_close(c(x).float(), a(x), atol=ATOL, rtol=1e-5)


def test_stack_chooses_the_path():
    assert isinstance(ensemble.stack([make(s) for s in range(2)]), StackedTransformer)

    class Sub(Transformer):
        pass

    subs = [Sub(V, d_model=16, n_layers=1, seed=s) for s in range(2)]
    assert isinstance(ensemble.stack(subs), FunctionalEnsemble)  # a subclass may change forward
    hooked = [make(s) for s in range(2)]
    hooked[0].blocks[0].mlp.act.register_forward_hook(lambda mod, i, o: o * 0)
    assert not stackable(hooked)
    assert isinstance(ensemble.stack(hooked), FunctionalEnsemble)
    tanh = [make(s) for s in range(2)]
    for m in tanh:
        m.blocks[0].mlp.act = nn.Tanh()  # a replaced activation: the generic path runs it
    assert isinstance(ensemble.stack(tanh), FunctionalEnsemble)
    frozen = [make(s) for s in range(2)]
    frozen[1].embed.weight.requires_grad_(False)  # members differ in what they train
    with pytest.raises(ValueError, match="requires_grad"):
        ensemble.stack(frozen)
    windows = [
        make(0, **CONFIGS["hard_alibi"]),
        make(1, positional="hard_alibi", n_heads=4, windows=[None, 2, 2, 3]),
    ]
    f = ensemble.stack(windows)  # per-member windows: buffers that vmap stacks
    assert isinstance(f, FunctionalEnsemble)
    x = tokens(2, T)
    with torch.no_grad():
        torch.testing.assert_close(f(x)[1], windows[1](x))
    with pytest.raises(ValueError, match="configuration"):
        ensemble.stack([make(0), make(1, positional="alibi")])  # same shapes, other forward
    with pytest.raises(ValueError, match="configuration"):
        ensemble.stack([make(0, n_heads=2), make(1, n_heads=4)])
    with pytest.raises(ValueError, match="plain Transformers"):
        StackedTransformer(subs)
    with pytest.raises(ValueError, match="E >= 1"):
        StackedTransformer([])


def test_frozen_parameters_stay_frozen():
    ms = [make(s) for s in range(E)]
    for m in ms:
        m.embed.weight.requires_grad_(False)
        m.unembed.weight.requires_grad_(False)
    st = ensemble.stack(ms)
    assert isinstance(st, StackedTransformer)
    assert not st.embed.requires_grad and not st.unembed.requires_grad
    assert st.blocks[0].qkv_w.requires_grad
    assert not st.member(0).embed.weight.requires_grad
    x, y = tokens(4, T), tokens(4, T, seed=2)
    before = st.embed.detach().clone()
    train.fit(
        st,
        lambda t, g: (x, y),
        steps=3,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.01,
        progress=False,
    )
    assert torch.equal(st.embed, before)


def test_gradients_are_per_member():
    st = ensemble.stack([make(s) for s in range(E)])
    st(tokens(4, T))[1].sum().backward()  # only member 1 contributes
    for name, p in st.named_parameters():
        assert torch.count_nonzero(p.grad[0]) == 0 and torch.count_nonzero(p.grad[2]) == 0, name
        assert torch.count_nonzero(p.grad[1]) > 0, name


# ---------------------------------------------------------------- trajectories


def seq_batches(step, g, B=8):
    """Previous-token prediction on random tokens (position 0 is not scored)."""
    x = torch.randint(0, V, (B, T), generator=g)
    y = x.roll(1, dims=-1)
    y[:, 0] = tasks.IGNORE_INDEX
    return x, y


def per_member_batches(step, g, B=8):
    xs, ys = zip(*(seq_batches(step, g, B) for _ in range(E)))
    return torch.stack(xs), torch.stack(ys)


@pytest.mark.parametrize(
    "kw,opt",
    [
        (dict(), dict(optimizer="adam", lr=[0.01, 0.003, 0.005])),
        (
            dict(positional="rope", n_heads=2, mlp=False),
            dict(optimizer="sgd", lr=0.1, momentum=0.9),
        ),
        (
            dict(positional="hard_alibi", n_heads=2, layer_norm=False),
            dict(optimizer="adam", lr=0.01, weight_decay=1e-3),
        ),
    ],
    ids=["learned-adam", "rope-attention-only-sgd", "hard-alibi-adam-wd"],
)
def test_members_follow_their_solo_trajectories(kw, opt):
    """Member i of a stacked run ends where transformer i trained alone (same batches) ends."""
    kw = {"init_std": 0.1, **kw}
    steps = 30
    ens = ensemble.stack([make(s, **kw) for s in range(E)])
    hist = train.fit(
        ens,
        seq_batches,
        steps=steps,
        loss="cross_entropy",
        data_seed=1,
        eval_every=10,
        progress=False,
        **opt,
    )
    lrs = opt["lr"] if isinstance(opt["lr"], list) else [opt["lr"]] * E
    for i in range(E):
        solo, start = make(i, **kw), make(i, **kw)
        h = train.fit(
            solo,
            seq_batches,
            steps=steps,
            loss="cross_entropy",
            data_seed=1,
            eval_every=10,
            progress=False,
            **{**opt, "lr": lrs[i]},
        )
        torch.testing.assert_close(
            torch.as_tensor(hist["loss"][:, i]), torch.as_tensor(h["loss"]), atol=1e-5, rtol=1e-4
        )
        moved = max(
            (p - q).abs().max().item() for p, q in zip(solo.parameters(), start.parameters())
        )
        assert moved > 1e-2  # non-vacuous: every member trained
        for (k, p), q in zip(ens.member(i).named_parameters(), solo.parameters()):
            if opt["optimizer"] == "adam" and k.endswith("attn.k.bias"):
                # its gradient is 0 in exact arithmetic (a softmax ignores a shift of a row of
                # scores): Adam's normalised step turns the float noise into lr-sized steps
                continue
            torch.testing.assert_close(p, q, atol=2e-5, rtol=1e-4, msg=k)


def test_per_member_inputs_follow_solo_trajectories():
    ens = ensemble.stack([make(s, init_std=0.1) for s in range(E)], per_member_inputs=True)
    assert isinstance(ens, StackedTransformer)
    steps, lr = 20, 0.01
    seen = []

    def batches(step, g):
        xb, yb = per_member_batches(step, g)
        seen.append((xb, yb))
        return xb, yb

    train.fit(
        ens, batches, steps=steps, loss="cross_entropy", optimizer="adam", lr=lr, progress=False
    )
    for i in range(E):
        solo = make(i, init_std=0.1)
        train.fit(
            solo,
            lambda t, g: (seen[t][0][i], seen[t][1][i]),
            steps=steps,
            loss="cross_entropy",
            optimizer="adam",
            lr=lr,
            progress=False,
        )
        for (k, p), q in zip(ens.member(i).named_parameters(), solo.parameters()):
            if not k.endswith("attn.k.bias"):  # see test_members_follow_their_solo_trajectories
                torch.testing.assert_close(p, q, atol=2e-5, rtol=1e-4, msg=k)


class Disconnect:
    """Batches that raise KeyboardInterrupt at step ``at`` (a Colab disconnect)."""

    def __init__(self, at=None):
        self.at = at

    def __call__(self, step, g):
        if step == self.at:
            raise KeyboardInterrupt
        return seq_batches(step, g)


def test_checkpoint_resumes_to_the_uninterrupted_run(tmp_path):
    kw = dict(
        steps=30,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.01,
        data_seed=3,
        eval_every=10,
        progress=False,
    )
    ref = ensemble.stack([make(s) for s in range(E)])
    ref_hist = train.fit(ref, Disconnect(), **kw)
    with pytest.raises(KeyboardInterrupt):
        train.fit(
            ensemble.stack([make(s) for s in range(E)]),
            Disconnect(at=25),
            checkpoint_dir=tmp_path,
            checkpoint_every=10,
            **kw,
        )
    resumed = ensemble.stack([make(s) for s in range(E)])  # a fresh kernel
    hist = train.fit(resumed, Disconnect(), checkpoint_dir=tmp_path, checkpoint_every=10, **kw)
    for p, q in zip(resumed.parameters(), ref.parameters()):
        assert torch.equal(p, q)
    assert hist.to_dict() == ref_hist.to_dict()


@pytest.mark.parametrize(
    "kw",
    [
        CONFIGS["learned"],
        CONFIGS["sinusoidal-relu-no-ln"],
        CONFIGS["rope-no-bias"],
        CONFIGS["hard_alibi"],
        CONFIGS["alibi"],
    ],
    ids=["learned", "sinusoidal", "rope", "hard_alibi", "alibi"],
)
def test_no_tensor_is_created_on_the_default_device(kw):
    """Under a meta default device, every tensor the forward creates must follow the input's
    device (a CUDA run would otherwise mix devices)."""
    st = ensemble.stack([make(s, **kw) for s in range(E)])
    x = tokens(2, T)
    torch.set_default_device("meta")
    try:
        out, maps = st(x, return_attention=True)
        (out.sum() + st(x).sum()).backward()
    finally:
        torch.set_default_device(None)
    assert out.device.type == "cpu" and maps[0].device.type == "cpu"
    assert st.embed.grad.device.type == "cpu" and st.member(0).embed.weight.device.type == "cpu"
