"""Tests of lmt_core.tasks: random signs, parities, the hypercube, the sparse parity task."""

import pytest
import torch

from lmt_core.tasks import SparseParity, hypercube, parity, random_signs


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_random_signs_values_shape_dtype():
    x = random_signs(500, 7, generator=gen())
    assert x.shape == (500, 7) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    assert abs(x.mean().item()) < 0.1  # balanced signs (3500 draws: sd of the mean ≈ 0.017)


def test_random_signs_deterministic_and_seed_dependent():
    assert torch.equal(random_signs(20, 5, generator=gen(3)), random_signs(20, 5, generator=gen(3)))
    assert not torch.equal(
        random_signs(20, 5, generator=gen(3)), random_signs(20, 5, generator=gen(4))
    )


def test_random_signs_bad_arguments():
    with pytest.raises(ValueError, match="m"):
        random_signs(0, 3, generator=gen())
    with pytest.raises(ValueError, match="n"):
        random_signs(3, 0, generator=gen())
    with pytest.raises(TypeError, match="generator"):
        random_signs(3, 3, generator=0)


def test_parity_hand_examples():
    x = torch.tensor([[1.0, -1.0, -1.0, 1.0], [-1.0, -1.0, -1.0, -1.0], [1.0, 1.0, -1.0, 1.0]])
    assert parity(x, [0]).tolist() == [1.0, -1.0, 1.0]
    assert parity(x, [1, 2]).tolist() == [1.0, 1.0, -1.0]
    assert parity(x, [0, 1, 2]).tolist() == [1.0, -1.0, -1.0]
    assert parity(x, (0, 1, 2, 3)).tolist() == [1.0, 1.0, -1.0]
    assert parity(x, torch.tensor([3, 1])).tolist() == [-1.0, 1.0, 1.0]
    assert parity(x, []).tolist() == [1.0, 1.0, 1.0]  # χ_∅ = 1


def test_parity_batched_shape_and_errors():
    x = random_signs(12, 5, generator=gen()).view(3, 4, 5)
    y = parity(x, [0, 4])
    assert y.shape == (3, 4)
    assert torch.equal(y, x[..., 0] * x[..., 4])
    with pytest.raises(ValueError, match="support"):
        parity(x, [5])
    with pytest.raises(ValueError, match="support"):
        parity(x, [-1])
    with pytest.raises(TypeError):
        parity([1.0, -1.0], [0])


@pytest.mark.parametrize("n", [1, 3, 6])
def test_hypercube_rows_and_ordering(n):
    X = hypercube(n)
    assert X.shape == (2**n, n) and X.dtype == torch.float32
    assert len({tuple(r) for r in X.tolist()}) == 2**n  # all distinct
    for r in range(2**n):
        for i in range(n):
            assert X[r, i].item() == (-1) ** ((r >> i) & 1)


def test_hypercube_bounds():
    with pytest.raises(ValueError, match="n"):
        hypercube(0)
    with pytest.raises(ValueError, match="n"):
        hypercube(25)


def test_sparse_parity_k_greater_than_n():
    with pytest.raises(ValueError, match="k"):
        SparseParity.random(3, 4)
    with pytest.raises(ValueError, match="k"):
        SparseParity.first(3, 4)
    with pytest.raises(ValueError, match="k"):
        SparseParity.random(3, 0)


@pytest.mark.parametrize("support", [(1, 1), (0, 5), (-1, 2), ()])
def test_sparse_parity_bad_support(support):
    with pytest.raises(ValueError, match="support"):
        SparseParity(n=5, support=support)


@pytest.mark.parametrize("noise", [-0.1, 0.5, 0.7, float("nan")])
def test_sparse_parity_noise_bounds(noise):
    with pytest.raises(ValueError, match="noise"):
        SparseParity(n=5, support=(0, 1), noise=noise)


def test_sparse_parity_constructors():
    t = SparseParity(n=6, support=[4, 1, 2])
    assert t.support == (1, 2, 4) and t.k == 3
    f = SparseParity.first(10, 3)
    assert f.support == (0, 1, 2) and f.n == 10 and f.noise == 0
    r1, r2 = SparseParity.random(20, 4, seed=1), SparseParity.random(20, 4, seed=1)
    assert r1 == r2 and r1.k == 4 and len(set(r1.support)) == 4
    assert all(0 <= i < 20 for i in r1.support) and list(r1.support) == sorted(r1.support)
    supports = {SparseParity.random(20, 4, seed=s).support for s in range(10)}
    assert len(supports) > 1


def test_sparse_parity_label_is_product():
    task = SparseParity(n=7, support=(1, 3, 6))
    x, y = task.sample(256, generator=gen(1))
    assert x.shape == (256, 7) and y.shape == (256,)
    assert torch.equal(y, x[:, 1] * x[:, 3] * x[:, 6])
    assert torch.equal(task.label(x), y)
    # on the whole cube the label is balanced (a non-trivial parity has mean 0)
    assert task.label(hypercube(7)).sum().item() == 0
    with pytest.raises(ValueError, match="n=7"):
        task.label(torch.ones(3, 6))


def test_sparse_parity_sample_determinism():
    task = SparseParity.first(10, 3, noise=0.1)
    a, b = task.sample(64, generator=gen(5)), task.sample(64, generator=gen(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = task.sample(64, generator=gen(6))
    assert not torch.equal(a[0], c[0])
    g = gen(5)  # consecutive draws from one generator differ (online SGD)
    assert not torch.equal(task.sample(64, generator=g)[0], task.sample(64, generator=g)[0])


def test_sparse_parity_noise_rate():
    task = SparseParity.first(8, 2, noise=0.2)
    x, y = task.sample(40000, generator=gen(2))
    rate = (y != task.label(x)).float().mean().item()
    assert abs(rate - 0.2) < 0.01  # sd ≈ 0.002
    x0, y0 = SparseParity.first(8, 2).sample(1000, generator=gen(2))
    assert torch.equal(y0, parity(x0, [0, 1]))


def test_boolean_and_gaussian_helpers_stay_on_the_generator_device():
    """Under a ``meta`` default device, every helper of boolean/gaussian/tensors/noisy_labels (and
    their analysis companions) returns CPU tensors for CPU inputs and generators."""
    from lmt_core import analysis, tasks

    def g():
        return torch.Generator().manual_seed(0)

    x_cpu = torch.ones(5, device="cpu")
    W = torch.full((3, 4), 0.1, dtype=torch.float64, device="cpu")
    torch.set_default_device("meta")
    try:
        leaky = tasks.LeakyParity.first(8, 3, alpha=0.5, noise=0.1)
        X, Y, m = tasks.fixed_samples(tasks.SparseParity.first(8, 3), [3, 5], seeds=[0, 1])
        w = tasks.random_unit_vector(6, generator=g())
        out = [
            *leaky.sample_with_components(5, generator=g()),
            *leaky.sample_uniform_part(5, generator=g()),
            X,
            Y,
            m,
            *tasks.offline_batches(X, Y, m, 4)(0, g()),
            tasks.flip_signs(x_cpu, 0.3, generator=g()),
            tasks.flip_classes(x_cpu.long(), 0.3, 4, generator=g()),
            tasks.random_orthonormal(6, 3, generator=g()),
            tasks.unit_vector_with_overlap(w, 0.5, generator=g(), batch=3),
            tasks.random_quadratic_form(4, generator=g()),
            tasks.quadratic_features(W.float()),
            tasks.hypercube(3),
            tasks.orthogonal_tensor([1.0, 0.5], 4),
            analysis.decomposition_loss(W, [1.0, 0.5]),
            analysis.decomposition_grad(W, [1.0, 0.5]),
            analysis.component_fit(W, [1.0, 0.5]),
            analysis.escape_times(W, [1.0, 0.5]),
            analysis.nearest_neighbour(W, x_cpu[:3], W),
        ]
        supports = [
            tasks.SparseParity.random(8, 3).support,
            tasks.random_local_parity(8, 3).support,
        ]
    finally:
        torch.set_default_device(None)
    for i, t in enumerate(out):
        assert t.device.type == "cpu", f"output {i} landed on {t.device}"
    assert all(len(s) == 3 for s in supports)
