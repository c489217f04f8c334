"""Tests of lmt_core.ensemble: stacked MLPs and generic functional ensembles equal their members."""

import pytest
import torch
from torch import nn

from lmt_core import ensemble
from lmt_core.ensemble import Ensemble, FunctionalEnsemble, StackedMLP, stack
from lmt_core.models import MLP

ATOL = 1e-5


def mlps(E=4, n=6, width=8, **kw):
    return [MLP(n, width, seed=s, **kw) for s in range(E)]


def small_net(seed, n=5, d=7, c=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n, d), nn.Tanh(), nn.Linear(d, c))


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(depth=3, activation="tanh"),
        dict(n_out=3),
        dict(bias=False),
        dict(activation="gelu", depth=2, n_out=2),
    ],
)
def test_stacked_mlp_equals_members_shared_batch(kw):
    ms = mlps(**kw)
    st = stack(ms)
    assert isinstance(st, StackedMLP) and st.members == 4
    x = torch.randn(10, 6)
    out = st(x)
    n_out = kw.get("n_out", 1)
    assert out.shape == ((4, 10) if n_out == 1 else (4, 10, n_out))
    for i, m in enumerate(ms):
        torch.testing.assert_close(out[i], m(x), atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(depth=2, n_out=2)])
def test_stacked_mlp_equals_members_per_member_batch(kw):
    ms = mlps(**kw)
    st = stack(ms)
    x = torch.randn(4, 9, 6)
    out = st(x)
    for i, m in enumerate(ms):
        torch.testing.assert_close(out[i], m(x[i]), atol=ATOL, rtol=1e-5)


def test_stacked_mlp_parameter_layout():
    ms = mlps(E=3, n=6, width=8)
    st = StackedMLP(ms)
    assert [tuple(w.shape) for w in st.weights] == [(3, 6, 8), (3, 8, 1)]
    assert [tuple(b.shape) for b in st.biases] == [(3, 1, 8), (3, 1, 1)]
    assert st.first_layer.shape == (3, 8, 6)
    for i, m in enumerate(ms):
        assert torch.equal(st.first_layer[i], m.first_layer)
    # the ensemble owns exactly the stacked tensors: E x (the parameters of one member)
    assert sum(p.numel() for p in st.parameters()) == 3 * sum(p.numel() for p in ms[0].parameters())
    assert set(st.state_dict()) == {"weights.0", "weights.1", "biases.0", "biases.1"}


def test_stacking_copies_parameters():
    ms = mlps(E=2)
    st = stack(ms)
    with torch.no_grad():
        st.weights[0].add_(1.0)
    assert not torch.equal(st.member(0).first_layer, ms[0].first_layer)  # members were copied


def test_stacked_member_round_trip():
    ms = mlps(E=3, depth=2, n_out=2, activation="tanh", first_layer_sparsity=2)
    st = stack(ms)
    x = torch.randn(5, 6)
    for i, m in enumerate(ms):
        back = st.member(i)
        assert isinstance(back, MLP)
        for p, q in zip(back.parameters(), m.parameters()):
            assert torch.equal(p, q)
        torch.testing.assert_close(back(x), m(x))
    with pytest.raises(ValueError, match="member index"):
        st.member(3)
    with pytest.raises(ValueError, match="member index"):
        st.member(-1)


def test_stacked_mlp_bad_input_shape():
    st = stack(mlps(E=4))
    with pytest.raises(ValueError):
        st(torch.randn(3, 9, 6))  # leading dim is not E
    with pytest.raises(ValueError):
        st(torch.randn(6))
    with pytest.raises(ValueError, match="x must have shape"):
        st(torch.randn(3, 7))  # wrong input dimension, shared batch
    with pytest.raises(ValueError, match="x must have shape"):
        st(torch.randn(4, 3, 7))  # wrong input dimension, per-member batch


def test_stacked_mlp_state_dict_round_trip():
    a, b = stack(mlps(E=3, depth=2)), stack(mlps(E=3, depth=2)[::-1])
    x = torch.randn(5, 6)
    assert not torch.allclose(a(x), b(x))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a(x), b(x))
    for i in range(3):
        torch.testing.assert_close(b.member(i)(x), a(x)[i], atol=ATOL, rtol=1e-5)


def test_stacked_mlp_mismatched_architectures():
    with pytest.raises(ValueError, match="architecture"):
        StackedMLP([MLP(6, 8), MLP(6, 9)])
    with pytest.raises(ValueError, match="architecture"):
        StackedMLP([MLP(6, 8), MLP(6, 8, activation="tanh")])
    with pytest.raises(ValueError, match="architecture"):
        stack([MLP(6, 8), MLP(6, 8, depth=2)])
    with pytest.raises(TypeError):
        StackedMLP([MLP(6, 8), nn.Linear(6, 8)])


def test_empty_lists():
    with pytest.raises(ValueError, match="E >= 1"):
        stack([])
    with pytest.raises(ValueError, match="E >= 1"):
        StackedMLP([])
    with pytest.raises(ValueError, match="E >= 1"):
        FunctionalEnsemble([])


def test_stack_type_checks():
    with pytest.raises(TypeError):
        stack(MLP(3, 4))
    with pytest.raises(TypeError):
        stack([MLP(3, 4), "not a module"])


def test_stack_picks_the_right_engine():
    assert isinstance(stack(mlps(E=2)), StackedMLP)
    f = stack([small_net(0), small_net(1)])
    assert isinstance(f, FunctionalEnsemble) and isinstance(f, Ensemble)
    with pytest.raises(ValueError):
        stack([MLP(5, 7), small_net(0)])  # mixed types


def test_functional_ensemble_shared_batch():
    nets = [small_net(s) for s in range(3)]
    f = stack(nets)
    assert f.members == 3
    x = torch.randn(11, 5)
    out = f(x)
    assert out.shape == (3, 11, 3)
    for i, net in enumerate(nets):
        torch.testing.assert_close(out[i], net(x), atol=ATOL, rtol=1e-5)


def test_functional_ensemble_per_member_inputs():
    nets = [small_net(s) for s in range(3)]
    f = stack(nets, per_member_inputs=True)
    x = torch.randn(3, 11, 5)
    out = f(x)
    for i, net in enumerate(nets):
        torch.testing.assert_close(out[i], net(x[i]), atol=ATOL, rtol=1e-5)
    with pytest.raises(ValueError, match="leading member dimension"):
        f(torch.randn(4, 11, 5))


def test_functional_ensemble_member_round_trip_and_parameters():
    nets = [small_net(s) for s in range(3)]
    f = FunctionalEnsemble(nets)
    x = torch.randn(4, 5)
    for i, net in enumerate(nets):
        back = f.member(i)
        assert isinstance(back, nn.Sequential)
        torch.testing.assert_close(back(x), net(x))
        for q in back.parameters():  # a trainable, independent copy
            assert isinstance(q, nn.Parameter) and q.requires_grad
    with torch.no_grad():
        f.member(0)[0].weight.add_(1.0)
    torch.testing.assert_close(f.member(0)(x), nets[0](x))
    # only the stacked parameters are trainable parameters of the ensemble
    assert sum(p.numel() for p in f.parameters()) == 3 * sum(
        p.numel() for p in nets[0].parameters()
    )
    for p in f.parameters():
        assert p.shape[0] == 3
    with pytest.raises(ValueError, match="member index"):
        f.member(5)


def test_functional_ensemble_stacks_buffers():
    nets = [nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6)).eval() for _ in range(2)]
    with torch.no_grad():
        nets[1][1].running_mean.fill_(0.5)
    f = stack(nets)
    x = torch.randn(8, 4)
    out = f(x)
    for i, net in enumerate(nets):
        torch.testing.assert_close(out[i], net(x), atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(f.member(1)[1].running_mean, torch.full((6,), 0.5))


def test_functional_ensemble_gradients_are_per_member():
    nets = [small_net(s) for s in range(2)]
    f = stack(nets)
    x = torch.randn(6, 5)
    f(x)[1].sum().backward()  # only member 1 contributes
    for p in f.parameters():
        assert torch.count_nonzero(p.grad[0]) == 0
        assert torch.count_nonzero(p.grad[1]) > 0


def test_functional_ensemble_mismatched_architectures():
    a = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    b = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    with pytest.raises(ValueError):
        stack([a, b])
    c = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3), nn.Tanh(), nn.Linear(3, 1))
    with pytest.raises(ValueError):
        FunctionalEnsemble([a, c])


def test_to_moves_everything():
    st = stack(mlps(E=2)).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in st.parameters())
    assert st(torch.randn(3, 6, dtype=torch.float64)).dtype == torch.float64
    assert st.member(0).first_layer.dtype == torch.float64
    f = stack([small_net(0), small_net(1)]).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in f.member(1).parameters())
    torch.testing.assert_close(
        f(torch.ones(2, 5, dtype=torch.float64))[1],
        f.member(1)(torch.ones(2, 5, dtype=torch.float64)),
    )


def test_module_exports():
    assert set(ensemble.__all__) == {
        "Ensemble",
        "StackedMLP",
        "StackedTransformer",
        "FunctionalEnsemble",
        "stack",
    }
