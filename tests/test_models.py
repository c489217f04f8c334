"""Tests of lmt_core.models.MLP: shapes, seeding, initialisation laws, argument checks."""

import math

import pytest
import torch

from lmt_core.models import ACTIVATIONS, MLP


def test_output_shapes():
    x = torch.randn(5, 6)
    assert MLP(6, 8)(x).shape == (5,)
    assert MLP(6, 8, n_out=3)(x).shape == (5, 3)
    assert MLP(6, 8, depth=3, n_out=2)(x).shape == (5, 2)
    assert MLP(6, 8)(torch.randn(2, 5, 6)).shape == (2, 5)  # extra leading dims are kept


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_depth_and_layer_shapes(depth):
    m = MLP(6, 8, depth=depth, n_out=2)
    assert len(m.layers) == depth + 1
    assert [tuple(l.weight.shape) for l in m.layers] == [(8, 6)] + [(8, 8)] * (depth - 1) + [(2, 8)]
    assert m.first_layer is m.layers[0].weight
    n_params = sum(p.numel() for p in m.parameters())
    assert n_params == 6 * 8 + 8 + (depth - 1) * (8 * 8 + 8) + 8 * 2 + 2


def test_forward_is_the_formula():
    m = MLP(4, 5, depth=2, activation="tanh", n_out=2, seed=3)
    x = torch.randn(7, 4)
    h = torch.tanh(x @ m.layers[0].weight.T + m.layers[0].bias)
    h = torch.tanh(h @ m.layers[1].weight.T + m.layers[1].bias)
    expect = h @ m.layers[2].weight.T + m.layers[2].bias
    torch.testing.assert_close(m(x), expect)


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_every_activation_runs(act):
    y = MLP(3, 4, activation=act)(torch.randn(2, 3))
    assert y.shape == (2,) and torch.isfinite(y).all()


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (
        MLP(10, 16, depth=2, seed=7),
        MLP(10, 16, depth=2, seed=7),
        MLP(10, 16, depth=2, seed=8),
    )
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_seed_does_not_touch_global_rng():
    torch.manual_seed(0)
    expect = torch.rand(3)
    torch.manual_seed(0)
    MLP(10, 16, seed=4)
    assert torch.equal(torch.rand(3), expect)


def test_reset_parameters_reproduces_init():
    m = MLP(5, 6, seed=2)
    w = m.layers[0].weight.detach().clone()
    with torch.no_grad():
        m.layers[0].weight.add_(1.0)
    m.reset_parameters(2)
    assert torch.equal(m.layers[0].weight, w)


def test_uniform_init_law():
    n, d = 100, 400
    m = MLP(n, d, seed=0)
    w = m.layers[0].weight
    bound = 1 / math.sqrt(n)
    assert w.abs().max().item() <= bound
    assert abs(w.std().item() - bound / math.sqrt(3)) < 0.02 * bound  # U(±b) has sd b/√3
    assert m.layers[0].bias.abs().max().item() <= bound


def test_gaussian_init_law_and_scale():
    n, d = 100, 400
    m = MLP(n, d, init="gaussian", init_scale=2.0, seed=0)
    w = m.layers[0].weight
    assert abs(w.std().item() - 2.0 / math.sqrt(n)) < 0.02 * 2.0 / math.sqrt(n)
    assert torch.count_nonzero(m.layers[0].bias) == 0
    z = MLP(5, 4, init_scale=0.0)
    assert all(torch.count_nonzero(p) == 0 for p in z.parameters())


def test_no_bias():
    m = MLP(5, 4, bias=False)
    assert all(l.bias is None for l in m.layers)
    assert torch.equal(m(torch.zeros(3, 5)), torch.zeros(3))


@pytest.mark.parametrize("s", [1, 3, 10])
def test_first_layer_sparsity(s):
    n, d = 10, 32
    m = MLP(n, d, first_layer_sparsity=s, init="gaussian", seed=1)
    nz = (m.first_layer != 0).sum(dim=1)
    assert nz.tolist() == [s] * d
    dense = MLP(n, d, init="gaussian", seed=1)
    # kept entries are the dense draw rescaled by sqrt(n/s)
    kept = m.first_layer != 0
    torch.testing.assert_close(m.first_layer[kept], dense.first_layer[kept] * math.sqrt(n / s))
    # the supports of different units differ (random choice per unit) unless s == n
    if s < n:
        assert len({tuple(r) for r in kept.int().tolist()}) > 1
    with pytest.raises(ValueError, match="first_layer_sparsity"):
        MLP(n, d, first_layer_sparsity=n + 1)
    with pytest.raises(ValueError, match="first_layer_sparsity"):
        MLP(n, d, first_layer_sparsity=0)


@pytest.mark.parametrize(
    "kwargs,name,exc",
    [
        (dict(width=-1), "width", ValueError),
        (dict(width=0), "width", ValueError),
        (dict(depth=0), "depth", ValueError),
        (dict(n_out=0), "n_out", ValueError),
        (dict(n_in=0), "n_in", ValueError),
        (dict(width=2.5), "width", TypeError),
        (dict(activation="sigmoidish"), "activation", ValueError),
        (dict(init="xavier"), "init", ValueError),
        (dict(init_scale=-1.0), "init_scale", ValueError),
        (dict(seed=-3), "seed", ValueError),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name, exc):
    args = dict(n_in=4, width=8)
    args.update(kwargs)
    n_in, width = args.pop("n_in"), args.pop("width")
    with pytest.raises(exc, match=name):
        MLP(n_in, width, **args)


def test_wrong_input_dimension():
    with pytest.raises(ValueError, match="n_in=4"):
        MLP(4, 8)(torch.randn(3, 5))


def test_gradients_flow_to_every_parameter():
    m = MLP(4, 8, depth=2, activation="tanh")
    m(torch.randn(16, 4)).pow(2).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


def test_extra_repr():
    assert "first_layer_sparsity=2" in repr(MLP(4, 8, first_layer_sparsity=2))


def test_count_params_counts_trainable_entries_only():
    from lmt_core import models

    m = models.MLP(6, 8, depth=1, seed=0)
    assert models.count_params(m) == 6 * 8 + 8 + 8 + 1
    frozen = torch.nn.Linear(3, 2)
    frozen.bias.requires_grad_(False)
    assert models.count_params(frozen) == 6
    with pytest.raises(TypeError, match="module"):
        models.count_params([torch.zeros(3)])


def test_models_package_reexports_every_submodule():
    import importlib
    import pkgutil

    from lmt_core import models

    for info in pkgutil.iter_modules(models.__path__):
        sub = importlib.import_module(f"lmt_core.models.{info.name}")
        for name in sub.__all__:
            assert getattr(models, name) is getattr(sub, name), f"models.{name} ({info.name})"
        assert f"lmt_core.models.{info.name}" in models.__doc__
