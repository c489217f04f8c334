"""Tests of lmt_core.analysis: Walsh–Hadamard, Fourier coefficients, progress measures, fits."""

import itertools
import math

import numpy as np
import pytest
import torch

from lmt_core.analysis import (
    LogLogFit,
    fourier_coefficient,
    loglog_fit,
    subset_mask,
    support_weight_fraction,
    walsh_coefficients,
    walsh_hadamard,
)
from lmt_core.tasks import hypercube, parity


def subsets(n):
    for k in range(n + 1):
        yield from itertools.combinations(range(n), k)


def test_subset_mask():
    assert subset_mask([]) == 0
    assert subset_mask([0]) == 1
    assert subset_mask([1, 3]) == 0b1010
    assert subset_mask((2, 0, 2)) == 0b101  # a set: repeats count once


@pytest.mark.parametrize("n", [1, 3, 5])
def test_walsh_coefficients_of_a_character_is_an_indicator(n):
    X = hypercube(n)
    for S in subsets(n):
        c = walsh_coefficients(parity(X, S))
        expect = torch.zeros(2**n, dtype=torch.float64)
        expect[subset_mask(S)] = 1.0
        torch.testing.assert_close(c, expect, atol=1e-12, rtol=0)


def test_walsh_coefficients_match_the_definition():
    n = 4
    X = hypercube(n)
    f = torch.randn(2**n, dtype=torch.float64)
    c = walsh_coefficients(f)
    for S in subsets(n):
        direct = (f * parity(X.double(), S)).mean()
        torch.testing.assert_close(c[subset_mask(S)], direct)


def test_parseval():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(3, 2**6, generator=g)
    c = walsh_coefficients(f)
    assert c.dtype == torch.float64 and c.shape == (3, 64)
    torch.testing.assert_close(c.pow(2).sum(-1), f.double().pow(2).mean(-1))


def test_walsh_hadamard_twice_is_n_times_identity():
    g = torch.Generator().manual_seed(1)
    v = torch.randn(2, 5, 2**7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(walsh_hadamard(walsh_hadamard(v)), 2**7 * v)
    assert torch.equal(walsh_hadamard(torch.tensor([3.0])), torch.tensor([3.0]))
    assert walsh_hadamard(torch.tensor([1.0, 2.0])).tolist() == [3.0, -1.0]


def test_walsh_hadamard_is_the_hadamard_matrix():
    n = 3
    N = 2**n
    H = torch.tensor(
        [[(-1) ** bin(s & r).count("1") for r in range(N)] for s in range(N)], dtype=torch.float64
    )
    v = torch.randn(N, dtype=torch.float64)
    torch.testing.assert_close(walsh_hadamard(v), H @ v)
    # non-contiguous input (a transposed table of values) gives the same answer
    M = torch.randn(N, 4, dtype=torch.float64)
    torch.testing.assert_close(walsh_hadamard(M.T), (H @ M).T)


def test_walsh_hadamard_does_not_modify_input():
    v = torch.arange(8.0)
    walsh_hadamard(v)
    assert torch.equal(v, torch.arange(8.0))


@pytest.mark.parametrize("N", [0, 3, 6, 12])
def test_walsh_hadamard_rejects_non_powers_of_two(N):
    with pytest.raises(ValueError, match="power of two"):
        walsh_hadamard(torch.zeros(N))


def test_majority_of_three():
    X = hypercube(3)
    maj = torch.sign(X.sum(1))
    c = walsh_coefficients(maj)
    expect = torch.zeros(8, dtype=torch.float64)
    for i in range(3):
        expect[subset_mask([i])] = 0.5
    expect[subset_mask([0, 1, 2])] = -0.5
    torch.testing.assert_close(c, expect)
    # and the expansion reproduces the function
    recon = (X.sum(1) - X.prod(1)) / 2
    assert torch.equal(recon, maj)


def test_fourier_coefficient_exact_on_the_cube():
    n = 5
    X = hypercube(n)
    g = torch.Generator().manual_seed(2)
    f = torch.randn(2**n, generator=g, dtype=torch.float64)
    c = walsh_coefficients(f)
    for S in [(), (0,), (1, 3), (0, 2, 4), tuple(range(n))]:
        torch.testing.assert_close(fourier_coefficient(f, X.double(), S), c[subset_mask(S)])


def test_fourier_coefficient_keeps_extra_dims_and_estimates():
    n = 6
    X = hypercube(n)
    f = (
        torch.stack([parity(X, [0, 1]), 0.3 * parity(X, [2]) + 1.0], 1)
        .unsqueeze(-1)
        .expand(-1, -1, 4)
    )
    out = fourier_coefficient(f, X, [0, 1])
    assert out.shape == (2, 4)
    torch.testing.assert_close(out, torch.tensor([[1.0] * 4, [0.0] * 4]))
    torch.testing.assert_close(fourier_coefficient(f, X, [2])[1], torch.full((4,), 0.3))
    torch.testing.assert_close(fourier_coefficient(f, X, [])[1], torch.full((4,), 1.0))
    # Monte-Carlo estimate on random points: close, not exact
    g = torch.Generator().manual_seed(3)
    x = (1 - 2 * torch.randint(0, 2, (20000, n), generator=g)).float()
    fx = 0.7 * parity(x, [1, 4]) + 0.2 * parity(x, [0])
    assert abs(fourier_coefficient(fx, x, [1, 4]).item() - 0.7) < 0.03


def test_support_weight_fraction():
    n, width, S = 10, 6, [1, 4, 7]
    torch.testing.assert_close(
        support_weight_fraction(torch.ones(width, n), S), torch.tensor(3 / 10)
    )
    W = torch.zeros(width, n)
    W[:, S] = torch.randn(width, 3)
    torch.testing.assert_close(support_weight_fraction(W, S), torch.tensor(1.0))
    # leading member dimension: one fraction per member
    Ws = torch.ones(4, width, n)
    Ws[1, :, S] = 0.0
    Ws[2] *= 5.0
    Ws[3, :, S] = 3.0
    out = support_weight_fraction(Ws, S)
    assert out.shape == (4,)
    torch.testing.assert_close(out, torch.tensor([0.3, 0.0, 0.3, 27 / (27 + 7)]))


def test_support_weight_fraction_is_detached():
    W = torch.ones(3, 5, requires_grad=True)
    assert not support_weight_fraction(W, [0]).requires_grad


@pytest.mark.parametrize(
    "W,S",
    [
        (torch.ones(5), [0]),
        (torch.ones(3, 5), []),
        (torch.ones(3, 5), [5]),
        (torch.ones(3, 5), [-1]),
    ],
)
def test_support_weight_fraction_errors(W, S):
    with pytest.raises(ValueError):
        support_weight_fraction(W, S)


def test_loglog_fit_exact_power_law():
    x = np.array([1.0, 2.0, 5.0, 10.0, 30.0])
    fit = loglog_fit(x, 3 * x**2.5)
    assert isinstance(fit, LogLogFit)
    assert fit.slope == pytest.approx(2.5, abs=1e-12)
    assert math.exp(fit.intercept) == pytest.approx(3.0, rel=1e-12)
    assert fit.slope_stderr == pytest.approx(0.0, abs=1e-10)
    assert fit.r2 == pytest.approx(1.0)
    np.testing.assert_allclose(
        fit.predict(np.array([4.0, 100.0])), 3 * np.array([4.0, 100.0]) ** 2.5
    )
    two = loglog_fit([1, 4], [2, 1])
    assert two.slope == pytest.approx(-0.5) and two.slope_stderr == 0.0


def test_loglog_fit_noisy_stderr():
    rng = np.random.default_rng(0)
    x = np.geomspace(1, 1000, 40)
    y = 2 * x**-1.0 * np.exp(rng.normal(0, 0.1, x.size))
    fit = loglog_fit(x, y)
    assert abs(fit.slope + 1.0) < 4 * fit.slope_stderr + 1e-9
    assert 0 < fit.slope_stderr < 0.05 and 0.9 < fit.r2 < 1.0


@pytest.mark.parametrize(
    "x,y,msg",
    [
        ([1.0], [1.0], "two points"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same length"),
        ([0.0, 1.0], [1.0, 2.0], "positive"),
        ([1.0, 2.0], [-1.0, 2.0], "positive"),
        ([1.0, float("inf")], [1.0, 2.0], "finite"),
        ([1.0, 2.0], [1.0, float("nan")], "finite"),
    ],
)
def test_loglog_fit_errors(x, y, msg):
    with pytest.raises(ValueError, match=msg):
        loglog_fit(x, y)


def test_engine_analysis_modules_are_reexported_without_hiding_submodules():
    import types

    from lmt_core import analysis
    from lmt_core.analysis import fits, fourier, hermite, hessian, memory, tangent

    for sub in (fits, fourier, hermite, hessian, memory, tangent):
        for name in sub.__all__:
            assert getattr(analysis, name) is getattr(sub, name), f"analysis.{name}"
        assert sub.__name__ in analysis.__doc__
    # the function names that equal a submodule's name were renamed
    assert isinstance(analysis.hermite, types.ModuleType)
    assert isinstance(analysis.hessian, types.ModuleType)
    assert analysis.hermite_polynomial(2, 1.0) == hermite.hermite_polynomial(2, 1.0)
