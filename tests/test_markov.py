"""Tests of lmt_core.tasks.markov: Dirichlet rows, causal-graph sequences, the Bayes predictor,
sparse contextual bigrams and the Markov language."""

import pytest
import torch

from lmt_core import tasks


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_graphs():
    assert tasks.markov_parents(5).tolist() == [-1, 0, 1, 2, 3]
    p = tasks.random_tree(30, generator=gen(1))
    assert p[0] == -1 and p[-1] == 28
    assert all(0 <= int(p[i]) < i for i in range(1, 30))
    pw = tasks.random_tree(30, generator=gen(1), window=3, last_is_chain=False)
    assert all(i - 3 <= int(pw[i]) < i for i in range(1, 30))
    assert torch.equal(
        tasks.random_tree(12, generator=gen(4)), tasks.random_tree(12, generator=gen(4))
    )
    with pytest.raises(ValueError, match="parents"):
        tasks.CausalGraphTask(torch.tensor([-1, 1]), 3)


def test_dirichlet_rows_are_distributions_with_the_right_mean():
    pi = tasks.dirichlet_rows((4000, 3, 3), 0.5, generator=gen(0))
    assert pi.shape == (4000, 3, 3) and (pi >= 0).all()
    assert torch.allclose(pi.sum(-1), torch.ones(4000, 3), atol=1e-5)
    assert torch.allclose(pi.mean(0), torch.full((3, 3), 1 / 3), atol=0.02)
    # Var of a Dirichlet(α·1) coordinate: (1/N)(1 − 1/N)/(Nα + 1) = (2/9)/2.5
    assert abs(pi[:, 0, 0].var().item() - (2 / 9) / 2.5) < 0.01


def test_parent_structure_is_respected():
    """With a deterministic π (a permutation), each token is the permuted token of its parent."""
    parents = tasks.random_tree(25, generator=gen(2))
    perm = torch.tensor([2, 0, 3, 1])
    pi = torch.nn.functional.one_hot(perm, 4).float()
    x, _ = tasks.CausalGraphTask(parents, 4).sequences(50, pi=pi, generator=gen(0))
    assert torch.equal(x[:, 1:], perm[x[:, parents[1:]]])


def test_empirical_transition_frequencies_match_pi():
    parents = tasks.markov_parents(4001)
    pi = tasks.dirichlet_rows((3, 3), 1.0, generator=gen(5))
    x, _ = tasks.CausalGraphTask(parents, 3).sequences(4, pi=pi, generator=gen(6))
    counts = torch.zeros(3, 3)
    counts.index_put_(
        (x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)), torch.ones(x[:, 1:].numel()), accumulate=True
    )
    freq = counts / counts.sum(1, keepdim=True)
    assert torch.allclose(freq, pi, atol=0.03)


def test_bayes_predictive_closed_form_on_a_small_example():
    # Markov chain 0 1 0 1 0, N = 2, α = 1: predicting position 4 (parent token 1): one transition 1→0
    x = torch.tensor([[0, 1, 0, 1, 0]])
    pred = tasks.bayes_predictive(x, tasks.markov_parents(5), 2, 1.0)
    assert torch.allclose(pred[0, 0], torch.tensor([0.5, 0.5]))
    assert torch.allclose(pred[0, 4], torch.tensor([2 / 3, 1 / 3]))  # counts (1, 0) out of a = 1
    assert torch.allclose(pred[0, 3], torch.tensor([1 / 3, 2 / 3]))  # counts (0, 1) out of a = 0
    assert torch.allclose(pred.sum(-1), torch.ones(1, 5))


def test_bayes_predictive_matches_monte_carlo_posterior():
    """Importance-weighted prior samples of π give the same posterior predictive."""
    N, alpha = 3, 0.7
    parents = tasks.random_tree(12, generator=gen(3))
    x, _ = tasks.CausalGraphTask(parents, N, alpha).sequences(1, generator=gen(4))
    i = 11
    pis = tasks.dirichlet_rows((200000, N, N), alpha, generator=gen(9)).double()
    logw = torch.zeros(pis.shape[0], dtype=torch.float64)
    for j in range(1, i):
        logw += pis[:, x[0, parents[j]], x[0, j]].log()
    w = torch.softmax(logw, 0)
    mc = (w[:, None] * pis[:, x[0, parents[i]], :]).sum(0)
    exact = tasks.bayes_predictive(x, parents, N, alpha)[0, i].double()
    assert torch.allclose(mc, exact, atol=0.01), (mc, exact)


def test_bayes_beats_unigram_and_approaches_the_entropy():
    parents = tasks.markov_parents(200)
    x, pi = tasks.CausalGraphTask(parents, 3, 1.0).sequences(300, generator=gen(7))
    bayes = tasks.predictive_cross_entropy(tasks.bayes_predictive(x, parents, 3)[:, 1:], x[:, 1:])
    uni = tasks.predictive_cross_entropy(tasks.unigram_predictive(x, 3)[:, 1:], x[:, 1:])
    true = tasks.predictive_cross_entropy(pi[torch.arange(300)[:, None], x[:, :-1]], x[:, 1:])
    assert true < bayes < uni
    late_bayes = tasks.predictive_cross_entropy(
        tasks.bayes_predictive(x, parents, 3)[:, 150:], x[:, 150:]
    )
    late_true = tasks.predictive_cross_entropy(
        pi[torch.arange(300)[:, None], x[:, 149:-1]], x[:, 150:]
    )
    assert late_bayes - late_true < 0.03


def test_sparse_contextual_bigram():
    task = tasks.SparseContextualBigram.random(5, 8, 2, seed=0)
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
        tasks.SparseContextualBigram(torch.ones(3, 4), torch.eye(3))


# ---- the Markov language ----------------------------------------------------------------------


def test_chain_is_stochastic_and_stationary():
    lang = tasks.MarkovLanguage(10, 3, seed=1)
    P = lang.transition
    assert torch.allclose(P.sum(1), torch.ones(10, dtype=P.dtype))
    assert (P > 0).all()  # the uniform mixture makes it irreducible
    assert torch.allclose(lang.stationary @ P, lang.stationary, atol=1e-10)
    assert lang.stationary.sum().item() == pytest.approx(1.0)
    assert ((P > 0.05).sum(1) <= 3).all()  # sparse: at most out_degree likely successors


def test_entropy_rate_bounds():
    lang = tasks.MarkovLanguage(16, 3, seed=0)
    assert 0 < lang.entropy_rate() < torch.log(torch.tensor(16.0)).item()
    # a deterministic-ish chain (out_degree 1) has a much smaller entropy rate
    assert tasks.MarkovLanguage(16, 1, seed=0).entropy_rate() < lang.entropy_rate()


def test_sample_follows_the_chain():
    lang = tasks.MarkovLanguage(6, 2, length=19, seed=3)
    inputs, targets = lang.sample(4000, generator=torch.Generator().manual_seed(0))
    assert (
        inputs.shape == targets.shape == (4000, 19) and inputs.dtype == targets.dtype == torch.long
    )
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # targets are the next tokens
    x = torch.cat([inputs, targets[:, -1:]], 1)  # the whole drawn sequences (4000, 20)
    assert int(x.min()) >= 0 and int(x.max()) < 6
    counts = torch.zeros(6, 6, dtype=torch.float64)
    counts.index_put_(
        (x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)),
        torch.ones(4000 * 19, dtype=torch.float64),
        accumulate=True,
    )
    n_from = counts.sum(1, keepdim=True)
    emp = counts / n_from
    # within 4 binomial standard deviations (rare states are visited less often)
    P = lang.transition
    assert ((emp - P).abs() <= 4 * (P * (1 - P) / n_from).sqrt() + 1e-3).all()
    first = torch.bincount(x[:, 0], minlength=6).double() / 4000
    assert torch.allclose(first, lang.stationary, atol=0.03)


def test_sample_is_reproducible_and_checks_generator():
    lang = tasks.MarkovLanguage(8, 3, length=7, seed=0)
    a = lang.sample(5, generator=torch.Generator().manual_seed(4))
    b = lang.sample(5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(TypeError):
        lang.sample(5, generator=4)


def test_excess_loss_is_zero_for_the_truth_and_positive_otherwise():
    lang = tasks.MarkovLanguage(8, 3, length=10, seed=0)
    x, _ = lang.sample(16, generator=torch.Generator().manual_seed(0))
    true_logits = torch.log(lang.transition.float())[x]
    assert lang.excess_loss(true_logits, x).item() == pytest.approx(0.0, abs=1e-5)
    assert lang.excess_loss(torch.zeros(16, 10, 8), x).item() > 0.1
    with pytest.raises(ValueError):
        lang.excess_loss(torch.zeros(16, 10, 5), x)


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        tasks.MarkovLanguage(5, 6)
    with pytest.raises(ValueError):
        tasks.MarkovLanguage(1, 1)
    with pytest.raises(ValueError, match="length"):
        tasks.MarkovLanguage(5, 2, length=0)
    with pytest.raises(TypeError, match="generator"):
        tasks.MarkovLanguage(5, 2).sample(3, generator=None)


def test_dirichlet_rows_small_alpha_and_arguments():
    p = tasks.dirichlet_rows((2000, 4), 0.1, generator=gen(0), dtype=torch.float64)
    assert torch.allclose(p.sum(-1), torch.ones(2000, dtype=torch.float64))
    assert p.mean().item() == pytest.approx(0.25, abs=0.02)
    # Var of a Dirichlet(α·1) coordinate: (1/N)(1 − 1/N)/(Nα + 1) = (3/16)/1.4
    assert abs(p[:, 0].var().item() - (3 / 16) / 1.4) < 0.01
    with pytest.raises(ValueError, match="alpha"):
        tasks.dirichlet_rows((3, 3), 0.0, generator=gen())
    with pytest.raises(ValueError, match="shape"):
        tasks.dirichlet_rows((3, 0), 1.0, generator=gen())
    with pytest.raises(TypeError, match="generator"):
        tasks.dirichlet_rows((3, 3), 1.0, generator=None)


def test_causal_graph_task_contract_and_helpers_on_meta_default():
    """sample is the final-token task; the predictive laws stay on the tokens' device."""
    task = tasks.CausalGraphTask(tasks.random_tree(7, generator=gen(1)), 3, 0.5)
    assert task == tasks.CausalGraphTask(tuple(task.parents), 3, 0.5) and task.L == 7
    ctx, y = task.sample(10, generator=gen(2))
    x, _ = task.sequences(10, generator=gen(2))
    assert torch.equal(ctx, x[:, :-1]) and torch.equal(y, x[:, -1])
    torch.set_default_device("meta")
    try:
        x, pi = task.sequences(4, generator=gen(3))
        outs = [
            x,
            pi,
            tasks.bayes_predictive(x, task.parents, 3, 0.5),
            tasks.unigram_predictive(x, 3),
            tasks.predictive_cross_entropy(pi[:, 0], x[:, 1]),
            tasks.markov_parents(4),
            tasks.random_tree(5, generator=gen()),
        ]
        lang = tasks.MarkovLanguage(5, 2, length=4)
        xl, _ = lang.sample(3, generator=gen())
        outs.append(lang.excess_loss(torch.zeros(3, 4, 5, device="cpu"), xl))
    finally:
        torch.set_default_device(None)
    assert all(o.device.type == "cpu" for o in outs)
