"""Tests of lmt_core.tasks.text (the random sparse Markov language)."""

import pytest
import torch

from lmt_core.tasks.text import MarkovLanguage


def test_chain_is_stochastic_and_stationary():
    lang = MarkovLanguage(10, 3, seed=1)
    P = lang.transition
    assert torch.allclose(P.sum(1), torch.ones(10, dtype=P.dtype))
    assert (P > 0).all()                                        # the uniform mixture makes it irreducible
    assert torch.allclose(lang.stationary @ P, lang.stationary, atol=1e-10)
    assert lang.stationary.sum().item() == pytest.approx(1.0)
    assert ((P > 0.05).sum(1) <= 3).all()                      # sparse: at most out_degree likely successors


def test_entropy_rate_bounds():
    lang = MarkovLanguage(16, 3, seed=0)
    assert 0 < lang.entropy_rate() < torch.log(torch.tensor(16.0)).item()
    # a deterministic-ish chain (out_degree 1) has a much smaller entropy rate
    assert MarkovLanguage(16, 1, seed=0).entropy_rate() < lang.entropy_rate()


def test_sample_follows_the_chain():
    lang = MarkovLanguage(6, 2, seed=3)
    x = lang.sample(4000, 20, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 20) and x.dtype == torch.long
    assert int(x.min()) >= 0 and int(x.max()) < 6
    counts = torch.zeros(6, 6, dtype=torch.float64)
    counts.index_put_((x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)), torch.ones(4000 * 19, dtype=torch.float64),
                      accumulate=True)
    emp = counts / counts.sum(1, keepdim=True)
    assert torch.allclose(emp, lang.transition, atol=0.02)
    first = torch.bincount(x[:, 0], minlength=6).double() / 4000
    assert torch.allclose(first, lang.stationary, atol=0.03)


def test_sample_is_reproducible_and_checks_generator():
    lang = MarkovLanguage(8, 3, seed=0)
    a = lang.sample(5, 7, torch.Generator().manual_seed(4))
    b = lang.sample(5, 7, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    with pytest.raises(TypeError):
        lang.sample(5, 7, generator=4)


def test_excess_loss_is_zero_for_the_truth_and_positive_otherwise():
    lang = MarkovLanguage(8, 3, seed=0)
    x = lang.sample(16, 10, torch.Generator().manual_seed(0))
    true_logits = torch.log(lang.transition.float())[x]
    assert lang.excess_loss(true_logits, x).item() == pytest.approx(0.0, abs=1e-5)
    assert lang.excess_loss(torch.zeros(16, 10, 8), x).item() > 0.1
    with pytest.raises(ValueError):
        lang.excess_loss(torch.zeros(16, 10, 5), x)


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        MarkovLanguage(5, 6)
    with pytest.raises(ValueError):
        MarkovLanguage(1, 1)
