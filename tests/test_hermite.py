"""Closed-form checks of lmt_core.analysis.hermite."""

import math

import numpy as np
import pytest
import torch

from lmt_core.analysis import hermite as H


def test_he_low_degrees_match_closed_forms():
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    assert torch.allclose(H.hermite_he(0, z), torch.ones_like(z))
    assert torch.allclose(H.hermite_he(2, z), z**2 - 1)
    assert torch.allclose(H.hermite_he(3, z), z**3 - 3 * z)
    assert torch.allclose(H.hermite_he(4, z), z**4 - 6 * z**2 + 3)
    assert np.allclose(H.hermite_polynomial(3, np.array([2.0])), (8 - 6) / math.sqrt(6))


def test_hermite_all_matches_single_degree():
    z = np.linspace(-4, 4, 9)
    allh = H.hermite_all(8, z)
    assert allh.shape == (9, 9)
    for j in range(9):
        assert np.allclose(allh[:, j], H.hermite_polynomial(j, z))


def test_orthonormality_by_quadrature():
    z, w = H.gauss_hermite(40)
    assert abs(w.sum() - 1) < 1e-12
    h = H.hermite_all(12, z)
    gram = (h * w[:, None]).T @ h
    assert np.allclose(gram, np.eye(13), atol=1e-10)


def test_monomial_coefficients():
    c = H.hermite_coefficients(lambda t: t**3, 6)
    assert np.allclose(c, [0, 3, 0, math.sqrt(6), 0, 0, 0], atol=1e-10)
    assert np.allclose(c, H.monomial_coefficients(3, 6), atol=1e-10)
    for p in range(7):
        assert np.allclose(
            H.hermite_coefficients(lambda t, p=p: t**p, 8), H.monomial_coefficients(p, 8), atol=1e-8
        )


def test_relu_coefficients_and_parseval():
    c_num = H.hermite_coefficients(torch.relu, 8)
    c_ref = H.relu_coefficients(8)
    assert abs(c_ref[2] - 1 / (2 * math.sqrt(math.pi))) < 1e-12
    assert np.allclose(c_num, c_ref, atol=2e-3)
    assert H.relu_coefficients(200).__pow__(2).sum() == pytest.approx(
        0.5, abs=5e-3
    )  # E[ReLU^2] = 1/2


def test_tanh_is_odd_and_information_exponents():
    c = H.hermite_coefficients(torch.tanh, 9)
    assert np.allclose(c[0::2], 0, atol=1e-12)
    assert c[1] > 0.5
    assert H.information_exponent(c) == 1
    assert (
        H.information_exponent(H.hermite_coefficients(lambda t: H.hermite_polynomial(3, t), 6)) == 3
    )
    assert H.information_exponent(H.hermite_coefficients(lambda t: t**2, 6)) == 2
    assert H.information_exponent([1.0, 0.0, 0.0]) is None


def test_correlated_pair_identity():
    """E[h_j(u·x) h_l(v·x)] = δ_jl (u·v)^j, by an exact two-dimensional quadrature."""
    z, w = H.gauss_hermite(20)
    a, b = np.meshgrid(z, z, indexing="ij")
    ww = np.outer(w, w)
    for rho in (-0.7, 0.3, 0.9):
        s = rho * a + math.sqrt(1 - rho**2) * b  # (a, s) is a pair with correlation rho
        for j in range(6):
            for l in range(6):
                val = (ww * H.hermite_polynomial(j, a) * H.hermite_polynomial(l, s)).sum()
                assert val == pytest.approx(rho**j if j == l else 0.0, abs=1e-10)


def test_bad_arguments():
    with pytest.raises(ValueError):
        H.hermite_he(-1, np.zeros(2))
    with pytest.raises(ValueError):
        H.gauss_hermite(500)
    with pytest.raises(ValueError):
        H.hermite_coefficients(lambda t: t[:3], 2)
