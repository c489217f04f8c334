"""Tests of associative memories: lmt_core.analysis.associative (outer product, recall,
capacity, Gaussian model) and lmt_core.models.associative (LinearMemory, MLPMemory)."""

import math

import pytest
import torch

from lmt_core import analysis as am
from lmt_core import models, train


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_embeddings_scale_and_sphere():
    E = am.gaussian_embeddings(2000, 64, gen())
    assert E.shape == (2000, 64)
    assert E.pow(2).sum(1).mean().item() == pytest.approx(1.0, abs=0.02)  # E||e||^2 = 1
    S = am.gaussian_embeddings(50, 64, gen(), sphere=True)
    assert torch.allclose(S.norm(dim=1), torch.ones(50), atol=1e-5)


def test_outer_product_is_sum_of_outer_products():
    E, U = am.gaussian_embeddings(5, 4, gen(1)), am.gaussian_embeddings(5, 4, gen(2))
    W = am.outer_product_memory(E, U)
    ref = sum(torch.outer(U[i], E[i]) for i in range(5))
    assert torch.allclose(W, ref, atol=1e-6)
    scores = am.memory_scores(W, E, U)
    assert torch.allclose(scores[2, 3], U[3] @ W @ E[2], atol=1e-6)


def test_orthonormal_embeddings_store_exactly():
    E = torch.eye(8)
    U = torch.eye(8)[torch.randperm(8, generator=gen())]
    assert am.recall_accuracy(am.outer_product_memory(E, U), E, torch.eye(8), U.argmax(1)) == 1.0


def test_outer_product_accuracy_falls_with_N_and_rises_with_d():
    g = gen(0)
    few = am.outer_product_accuracy(20, 64, trials=2, sphere=True, generator=g)
    many = am.outer_product_accuracy(2000, 64, trials=2, queries=200, sphere=True, generator=g)
    wide = am.outer_product_accuracy(2000, 256, trials=1, queries=200, sphere=True, generator=g)
    assert few >= 0.95 and many <= 0.5 and wide >= 0.95


def test_gaussian_model_tracks_simulation():
    g = gen(3)
    for N in (100, 300, 900):
        sim = am.outer_product_accuracy(N, 96, trials=3, queries=300, sphere=True, generator=g)
        assert abs(sim - am.gaussian_model_accuracy(N, 96, sphere=True)) < 0.15


def test_capacity_from_curve_interpolates_in_log_N():
    assert am.capacity_from_curve([10, 100], [1.0, 0.8], 0.9) == pytest.approx(math.sqrt(1000))
    with pytest.raises(ValueError, match="fall below"):
        am.capacity_from_curve([10, 100], [1.0, 0.95], 0.9)
    with pytest.raises(ValueError, match="increasing"):
        am.capacity_from_curve([100, 10], [1.0, 0.5], 0.9)


def test_trained_linear_memory_beats_outer_product():
    N, d = 100, 32  # about twice the outer-product capacity at d = 32
    mem = models.LinearMemory(N, N, d, seed=0)
    x = torch.arange(N)
    h = train.fit(
        mem,
        lambda t, g: (x, x),
        steps=1000,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.05,
        evaluate=lambda m: {"acc": (m(x).argmax(-1) == x).float().mean()},
        eval_every=300,
        progress=False,
    )
    W0 = am.outer_product_memory(mem.E, mem.U)
    assert h.final("acc") >= 0.95 and am.recall_accuracy(W0, mem.E, mem.U, x) <= 0.75
    assert sum(p.numel() for p in mem.parameters()) == d * d


def test_mlp_memory_shapes_and_training():
    mem = models.MLPMemory(64, 8, 16, 32, seed=1)
    assert mem(torch.arange(5)).shape == (5, 8)
    assert sum(p.numel() for p in mem.parameters()) == 2 * 16 * 32
    x = torch.arange(64)
    y = torch.randint(0, 8, (64,), generator=gen())
    h = train.fit(
        mem,
        lambda t, g: (x, y),
        steps=300,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.02,
        evaluate=lambda m: {"acc": (m(x).argmax(-1) == y).float().mean()},
        eval_every=300,
        progress=False,
    )
    assert h.final("acc") == 1.0
    with pytest.raises(ValueError, match="activation"):
        models.MLPMemory(4, 4, 4, 4, activation="tanh")


def test_gaussian_model_uses_the_shared_quadrature():
    """More nodes than the shared Gauss–Hermite rule allows are refused, not silently used."""
    assert 0.0 <= am.gaussian_model_accuracy(300, 64) <= 1.0
    with pytest.raises(ValueError, match="num_nodes"):
        am.gaussian_model_accuracy(300, 64, points=201)
