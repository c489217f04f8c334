"""Tests of lmt_core.tasks.causal: causal-graph sequences, the Bayes predictor, sparse contextual bigrams."""

import pytest
import torch

from lmt_core.tasks import causal


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_graphs():
    assert causal.markov_parents(5).tolist() == [-1, 0, 1, 2, 3]
    p = causal.random_tree(30, generator=gen(1))
    assert p[0] == -1 and p[-1] == 28
    assert all(0 <= int(p[i]) < i for i in range(1, 30))
    pw = causal.random_tree(30, generator=gen(1), window=3, last_is_chain=False)
    assert all(i - 3 <= int(pw[i]) < i for i in range(1, 30))
    assert torch.equal(causal.random_tree(12, generator=gen(4)), causal.random_tree(12, generator=gen(4)))
    with pytest.raises(ValueError, match="parents"):
        causal.sample(torch.tensor([-1, 1]), 3, 3)


def test_dirichlet_rows_are_distributions_with_the_right_mean():
    pi = causal.dirichlet_transitions(4000, 3, 0.5, generator=gen(0))
    assert pi.shape == (4000, 3, 3) and (pi >= 0).all()
    assert torch.allclose(pi.sum(-1), torch.ones(4000, 3), atol=1e-5)
    assert torch.allclose(pi.mean(0), torch.full((3, 3), 1 / 3), atol=0.02)
    # Var of a Dirichlet(α·1) coordinate: (1/N)(1 − 1/N)/(Nα + 1) = (2/9)/2.5
    assert abs(pi[:, 0, 0].var().item() - (2 / 9) / 2.5) < 0.01


def test_parent_structure_is_respected():
    """With a deterministic π (a permutation), each token is the permuted token of its parent."""
    parents = causal.random_tree(25, generator=gen(2))
    perm = torch.tensor([2, 0, 3, 1])
    pi = torch.nn.functional.one_hot(perm, 4).float()
    x, _ = causal.sample(parents, 50, 4, pi=pi, generator=gen(0))
    assert torch.equal(x[:, 1:], perm[x[:, parents[1:]]])


def test_empirical_transition_frequencies_match_pi():
    parents = causal.markov_parents(4001)
    pi = causal.dirichlet_transitions(1, 3, 1.0, generator=gen(5))[0]
    x, _ = causal.sample(parents, 4, 3, pi=pi, generator=gen(6))
    counts = torch.zeros(3, 3)
    counts.index_put_((x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)), torch.ones(x[:, 1:].numel()), accumulate=True)
    freq = counts / counts.sum(1, keepdim=True)
    assert torch.allclose(freq, pi, atol=0.03)


def test_bayes_predictive_closed_form_on_a_small_example():
    # Markov chain 0 1 0 1 0, N = 2, α = 1: predicting position 4 (parent token 1): one transition 1→0
    x = torch.tensor([[0, 1, 0, 1, 0]])
    pred = causal.bayes_predictive(x, causal.markov_parents(5), 2, 1.0)
    assert torch.allclose(pred[0, 0], torch.tensor([0.5, 0.5]))
    assert torch.allclose(pred[0, 4], torch.tensor([2 / 3, 1 / 3]))   # counts (1, 0) out of a = 1
    assert torch.allclose(pred[0, 3], torch.tensor([1 / 3, 2 / 3]))   # counts (0, 1) out of a = 0
    assert torch.allclose(pred.sum(-1), torch.ones(1, 5))


def test_bayes_predictive_matches_monte_carlo_posterior():
    """Importance-weighted prior samples of π give the same posterior predictive."""
    N, alpha = 3, 0.7
    parents = causal.random_tree(12, generator=gen(3))
    x, _ = causal.sample(parents, 1, N, alpha, generator=gen(4))
    i = 11
    pis = causal.dirichlet_transitions(200000, N, alpha, generator=gen(9)).double()
    logw = torch.zeros(pis.shape[0], dtype=torch.float64)
    for j in range(1, i):
        logw += pis[:, x[0, parents[j]], x[0, j]].log()
    w = torch.softmax(logw, 0)
    mc = (w[:, None] * pis[:, x[0, parents[i]], :]).sum(0)
    exact = causal.bayes_predictive(x, parents, N, alpha)[0, i].double()
    assert torch.allclose(mc, exact, atol=0.01), (mc, exact)


def test_bayes_beats_unigram_and_approaches_the_entropy():
    parents = causal.markov_parents(200)
    x, pi = causal.sample(parents, 300, 3, 1.0, generator=gen(7))
    bayes = causal.cross_entropy(causal.bayes_predictive(x, parents, 3)[:, 1:], x[:, 1:])
    uni = causal.cross_entropy(causal.unigram_predictive(x, 3)[:, 1:], x[:, 1:])
    true = causal.cross_entropy(pi[torch.arange(300)[:, None], x[:, :-1]], x[:, 1:])
    assert true < bayes < uni
    late_bayes = causal.cross_entropy(causal.bayes_predictive(x, parents, 3)[:, 150:], x[:, 150:])
    late_true = causal.cross_entropy(pi[torch.arange(300)[:, None], x[:, 149:-1]], x[:, 150:])
    assert late_bayes - late_true < 0.03


def test_sparse_contextual_bigram():
    task = causal.SparseContextualBigram.random(5, 8, 2, seed=0)
    assert ((task.q > 0).sum(1) == 2).all()
    x, y = task.sample(20000, generator=gen(1))
    assert x.shape == (20000, 8) and y.shape == (20000,)
    p = task.conditional(x)
    assert torch.allclose(p.sum(1), torch.ones(20000), atol=1e-5)
    # the conditional law is the right one: E[1{y = s}] = E[p(s | x)]
    emp = torch.nn.functional.one_hot(y, 5).float().mean(0)
    assert torch.allclose(emp, p.mean(0), atol=0.015)
    # and it depends only on the positions selected by the last token
    x2 = x.clone()
    v = x[:, -1]
    off = task.q[v] == 0
    off[:, -1] = False
    x2[off] = (x2[off] + 1) % 5
    assert torch.allclose(task.conditional(x2), p, atol=1e-6)
    with pytest.raises(ValueError):
        causal.SparseContextualBigram(torch.ones(3, 4), torch.eye(3))
