# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Learning causal structure in context
#
# A sequence whose tokens follow a hidden causal graph, each token drawn from a transition matrix that
# is new for every sequence, can only be predicted *in context*: the model must find each position's
# parent and then estimate the transition probabilities from the pairs it has seen. A two-layer
# attention-only transformer can do both, the first layer copying each position's parent token and
# the second averaging over the positions whose parent token matches, and gradient descent finds this
# solution because the gradient of the first layer's attention scores is a mutual-information-like
# dependence between positions, which the data-processing inequality makes largest at the true parent.
# A second, simpler model, the sparse contextual bigram learned by a linear transformer, shows why
# learning from scratch first sits on a plateau and why starting from a pretrained model skips it;
# with small batches, a projected ($\ell_1$-proximal) method recovers its sparse attention where
# plain SGD does not, and the benefit of pretraining grows with the overlap of the two patterns.
#
# **Papers.** Nichani, Damian and Lee, *How transformers learn causal structure with gradient
# descent* {cite}`nichani2024transformers`; Ren, Wang and Lee, *Learning and transferring sparse
# contextual bigrams with linear transformers* {cite}`ren2024sparse`.
#
# **Prerequisites.** The [notation](../book/notation.md); basic probability (Dirichlet
# distributions, Markov chains). Chapter 9 introduces attention-based copying and retrieval, but this
# chapter is self-contained. We write $N$ for the vocabulary size (not $S$, which the book keeps for
# parity supports) and $T$ for the number of context tokens.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: the whole notebook runs in about
# a minute on one CPU thread. Full mode (set `SCALE = "full"` in the first code cell) uses a larger
# vocabulary ($N = 5$), longer contexts ($T = 64$), more steps and four seeds per ensemble, and
# takes about eight minutes on one CPU core; its record and figure are shown beside the quick-mode
# figure. The figures and numbers on the book's pages come from quick mode.
#
# **Open in Colab:**
# [colab/10_causal_structure.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/10_causal_structure.ipynb)
# (or use the rocket button at the top of the page).

# %% tags=["remove-input"]
# The scale of this chapter's experiments: "quick" (at most 90 s on a laptop CPU) or "full" (the
# papers' scale, at most 15 minutes on 2 CPU cores). LMT_SCALE, when set, overrides it.
SCALE = "quick"  # @param ["quick", "full"]

import importlib.util
import subprocess
import sys

if (
    importlib.util.find_spec("lmt_core") is None
):  # on Colab: install the book's library, keep Colab's torch
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "git+https://github.com/lmt-book/lmt@main",
        ],
        check=True,
    )

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lmt_core import (
    ensemble,
    models,
    notebook,
    optim,
    plotting,
    reproduce,
    runtime,
    tasks,
    train,
)

cfg = runtime.setup(seed=0, scale=SCALE)
plotting.use_house_style()

# %%
# Settings: every size of the chapter, in quick and in full mode.
N_VOCAB = cfg.pick(quick=3, full=5)  # vocabulary size N
T_CTX = cfg.pick(quick=32, full=64)  # context length T; sequences have L = T + 1 tokens
M_TEST = cfg.pick(quick=4000, full=10000)  # test sequences for every measured loss
M_GRAD = cfg.pick(quick=6000, full=50000)  # sequences behind the step-0 gradient
E_SEEDS = cfg.pick(
    quick=3, full=4
)  # ensemble members (initialisations) per training run
STEPS = cfg.pick(quick=500, full=1500)  # Adam steps of the disentangled model
BATCH = cfg.pick(
    quick=64, full=128
)  # sequences per step (both models, and the SCB runs)
STD_STEPS = cfg.pick(quick=1500, full=3000)  # Adam steps of the standard transformer
STD_WIDTH = 32  # residual width d of the standard transformer
STD_BATCH = 64  # sequences per step of the standard transformer
STD_E = cfg.pick(quick=3, full=4)  # standard transformers (initialisations) per run
K_POST = 512  # posterior draws of pi behind the Monte Carlo Bayes loss (paper's task)
N_TWO, T_TWO = 2, 32  # two-parent graph: vocabulary and context length (both scales)
STEPS_TWO = cfg.pick(quick=1500, full=3000)  # Adam steps of the two-head transformers
E_TWO = cfg.pick(quick=2, full=4)  # two-head transformers (initialisations)
N_SCB, T_SCB, Q_SCB = cfg.pick(
    quick=(8, 32, 2), full=(16, 64, 3)
)  # SCB: tokens, positions, Q
STEPS_SCB = cfg.pick(
    quick=600, full=3000
)  # SGD steps of each sparse-contextual-bigram run
N_PROX, T_PROX, Q_PROX = 8, 32, 2  # projected-vs-plain SGD: tokens, positions, Q
B_PROX = 8  # sequences per step of that comparison (a small batch, both methods)
STEPS_PROX = 2000  # steps of each run of that comparison (both scales)
E_PROX = cfg.pick(quick=4, full=8)  # members (data streams) per method
LR_PROX = 0.02  # base step size of both methods
N_FD, T_FD = 3, 32  # paper's disentangled transformer: vocabulary, context (full mode)
FD_STEPS = cfg.pick(quick=0, full=3000)  # its Adam steps (0: not trained in quick mode)
FD_E, FD_LR = 3, 0.01  # its initialisations and peak step size
SWEEP_T = cfg.pick(quick=(8, 16, 32), full=(16, 32, 64, 128))  # T of the SCB sweep
SWEEP_E = cfg.pick(quick=3, full=4)  # data streams per (T, step size) in that sweep
SWEEP_STEPS = cfg.pick(quick=5000, full=12000)  # cap on the steps of one sweep run
SWEEP_LR = [
    0.00125 * 2**k for k in range(11)
]  # the sweep's grid of constant step sizes
LR_REF = SWEEP_LR[3]  # a step size held fixed across T (0.01)
SWEEP_EVERY = 5  # steps between two checks of the targets in the sweep

# %% [markdown]
# ## The setting
#
# ### Sequences with a latent causal graph

# %% [markdown]
# :::{prf:definition} Random sequences with causal structure
# :label: def-ch10-task
#
# Fix a vocabulary $[N]$, a length $L$ and a *latent graph*: every position $i \in \{2, \dots, L\}$
# has one parent $p(i) < i$ (position $1$ is the root; the graph is a tree). A sequence is drawn in
# two steps:
#
# 1. a transition matrix $\pi \in \mathbb R^{N \times N}$ whose rows $\pi(\cdot \mid a)$ are
#    independent draws from the Dirichlet distribution $\mathrm{Dir}(\alpha \mathbf 1_N)$,
#    **fresh for every sequence**;
# 2. $x_1$ uniform on $[N]$ and, for $i = 2, \dots, L$, $x_i \sim \pi(\cdot \mid x_{p(i)})$.
#
# The model sees the first $T = L - 1$ tokens and must predict the last one, $y = x_L$. We take
# $p(L) = L - 1$, so the token to predict is a child of the last token it sees. The *in-context
# Markov chain* is the special graph $p(i) = i - 1$.
# :::
#
# Because $\pi$ is new in every sequence, no fixed table of bigram statistics helps: the only way to
# predict $y$ better than by token frequencies is to look back at earlier positions whose parent held
# the same token as $x_{L-1}$ and see what followed. That requires knowing the graph, which is the
# same for all sequences and must be learned from training data.
#
# This is **not** exactly the task of {cite}`nichani2024transformers`, and the difference is not
# bookkeeping. The paper's task (its Task 2.4, in our notation) is:

# %% [markdown]
# :::{prf:definition} The paper's task
# :label: def-ch10-task-paper
#
# Fix a graph on the positions $1, \dots, T - 1$ in which every position has at most one parent
# $p(i) < i$ (positions without a parent are *roots*). Draw $\pi$ with independent rows
# $\pi(\cdot \mid a) \sim \mathrm{Dir}(\alpha \mathbf 1_N)$ (the paper allows a general prior on
# $\pi$; we keep the Dirichlet rows of our task), and let $\mu_\pi$ be its stationary
# law (unique, since all entries of $\pi$ are positive almost surely). For $i = 1, \dots, T - 1$ draw
# $x_i \sim \mu_\pi$ if $i$ is a root and $x_i \sim \pi(\cdot \mid x_{p(i)})$ otherwise. Then draw the
# *query token* $x_T$ uniform on $[N]$, **independently of everything else**, and the target
# $y \sim \pi(\cdot \mid x_T)$. The model sees $x_{1:T}$ and predicts $y$.
# :::
#
# Two differences from {prf:ref}`def-ch10-task`: roots come from the stationary law, not the uniform
# one, and the query token is a fresh uniform token outside the graph, not a node of the tree. The
# second matters for the theory: in the paper's task the pair $(x_T, y)$ is independent of
# $x_{1:T-1}$ given $\pi$, which is assumption (iii) of {prf:ref}`cor-ch10-parent`: a fact
# in the paper's task, an idealisation in ours. **Which task the code uses.** The hand-set
# construction of {prf:ref}`prop-ch10-construction` is checked on {prf:ref}`def-ch10-task`, whose
# Bayes predictor has a closed form; the gradient at initialisation and every training run
# ({ref}`sec-ch10-gradient` onwards) use the paper's task, {prf:ref}`def-ch10-task-paper`, with the
# Bayes loss of {prf:ref}`prop-ch10-bayes-paper` computed by Monte Carlo below.
#
# `tasks.random_tree` draws a graph (each parent uniform among the earlier positions),
# `tasks.CausalGraphTask(parents, N, α).sequences` draws sequences of {prf:ref}`def-ch10-task` on it
# (with their matrices); `paper_sequences` below draws those of {prf:ref}`def-ch10-task-paper`.

# %%
ALPHA = 1.0  # Dirichlet concentration
notebook.glue("n_vocab", N_VOCAB)
notebook.glue("t_ctx", T_CTX)

tree = tasks.random_tree(T_CTX + 1, generator=torch.Generator().manual_seed(cfg.seed))
tree_task = tasks.CausalGraphTask(tree, N_VOCAB, ALPHA)
tokens, pi = tree_task.sequences(2, generator=cfg.generator(1))
print("parents p(i) (0-based, -1 = root):", tree.tolist()[:16], "...")
print("one sequence:                      ", tokens[0].tolist()[:16], "...")
print("its transition matrix pi:\n", pi[0].cpu().numpy().round(2))

# %% [markdown]
# ### The Bayes-optimal in-context predictor

# %% [markdown]
# :::{prf:proposition} The Bayes predictor is a smoothed in-context bigram
# :label: prop-ch10-bayes
#
# For $2 \le i \le L$ and tokens $a, s$ let $n_{as}(i) = \#\{j : 2 \le j < i,\ x_{p(j)} = a,\ x_j = s\}$
# count the transitions $a \to s$ seen before position $i$, and $n_a(i) = \sum_s n_{as}(i)$. Under
# {prf:ref}`def-ch10-task`,
#
# $$
# \Pr[x_i = s \mid x_1, \dots, x_{i-1}] \;=\; \frac{n_{as}(i) + \alpha}{n_a(i) + N\alpha},
# \qquad a = x_{p(i)} .
# $$
#
# So the predictor with the smallest expected log-loss, $\mathbb E[-\log \hat P(y \mid x_{1:T})]$, is
# this add-$\alpha$ estimate of the transition out of the parent's token, computed from the context.
# :::

# %% [markdown]
# :::{prf:proof}
# Given $\pi$, the probability of $x_{1:i-1}$ is
# $\frac1N \prod_{j=2}^{i-1} \pi(x_j \mid x_{p(j)}) = \frac1N \prod_{a} \prod_s \pi(s \mid a)^{n_{as}(i)}$:
# it factorises over the rows of $\pi$. The prior also factorises over rows and is proportional to
# $\prod_a \prod_s \pi(s \mid a)^{\alpha - 1}$, so the posterior of row $a$ is, independently of the
# other rows, $\mathrm{Dir}(\alpha + n_{a1}(i), \dots, \alpha + n_{aN}(i))$. Given $\pi$ and the past,
# $x_i \sim \pi(\cdot \mid x_{p(i)})$, so
# $\Pr[x_i = s \mid x_{1:i-1}] = \mathbb E[\pi(s \mid a) \mid x_{1:i-1}]$ with $a = x_{p(i)}$, the
# mean of the $s$-th coordinate of that Dirichlet, $(\alpha + n_{as}(i)) / (N\alpha + n_a(i))$. The
# true conditional minimises the expected log-loss among all predictors (Gibbs' inequality: the
# excess loss of $\hat P$ is the expected Kullback–Leibler divergence from the true conditional to
# $\hat P$, which is $\ge 0$).
# :::

# %% [markdown]
# For the paper's task the same computation gives a different predictor, because the roots carry
# information about $\pi$ through its stationary law.
#
# :::{prf:proposition} The Bayes predictor of the paper's task
# :label: prop-ch10-bayes-paper
#
# Under {prf:ref}`def-ch10-task-paper`, let $n_{ac}$ count the non-root positions $j \le T - 1$ with $x_{p(j)} = a$,
# $x_j = c$, let $R$ be the set of roots, and let $Q$ be the law
# under which the rows of $\pi$ are independent with $\pi(\cdot \mid a) \sim
# \mathrm{Dir}(\alpha + n_{a1}, \dots, \alpha + n_{aN})$. Then, with $a = x_T$,
#
# $$
# \Pr[y = c \mid x_{1:T}] \;=\;
# \frac{\mathbb E_Q\big[\pi(c \mid a) \prod_{r \in R} \mu_\pi(x_r)\big]}
#      {\mathbb E_Q\big[\prod_{r \in R} \mu_\pi(x_r)\big]} .
# $$
#
# Without the root factor this is the add-$\alpha$ estimate $(n_{ac} + \alpha)/(n_a + N\alpha)$ of
# {prf:ref}`prop-ch10-bayes`; with it the posterior no longer factorises over the rows (the
# stationary law depends on all of them), and there is no closed form in general. The query token
# $x_T$ enters only through which row is read.
# :::

# %% [markdown]
# :::{prf:proof}
# Given $\pi$, the probability of $x_{1:T}$ is
# $\frac1N \prod_{r \in R} \mu_\pi(x_r) \prod_a \prod_c \pi(c \mid a)^{n_{ac}}$, the factor
# $\frac1N$ being the law of the independent query token. Multiplied by the Dirichlet prior
# $\propto \prod_a \prod_c \pi(c \mid a)^{\alpha - 1}$, the posterior density of $\pi$ is
# proportional to $\prod_{r} \mu_\pi(x_r)$ times the density of $Q$. Given $\pi$ and $x_{1:T}$,
# $y \sim \pi(\cdot \mid x_T)$, so $\Pr[y = c \mid x_{1:T}]$ is the posterior mean of
# $\pi(c \mid x_T)$, which is the displayed ratio. If $R$ is empty or the factor is dropped, the
# posterior is $Q$ and the mean of $\pi(c \mid a)$ under $\mathrm{Dir}(\alpha + n_{a\cdot})$ is
# $(n_{ac} + \alpha)/(n_a + N\alpha)$.
# :::
#
# When every row has been seen many times, $Q$ concentrates and the bounded factor
# $\prod_r \mu_\pi(x_r)$ tilts it less and less, so the two predictors approach each other; we do
# not quantify how fast. Our task uses a uniform root to keep the closed form.
#
# In code, `paper_sequences` draws the paper's task on a graph of the $T - 1$ positions before the
# query, and `paper_bayes` estimates its Bayes predictive by self-normalised importance sampling:
# {glue:text}`k_post` draws $\pi^{(k)} \sim Q$, weighted by $\prod_{r \in R} \mu_{\pi^{(k)}}(x_r)$.
# Our graphs have a single root (position 1), so the weights lie in $(0, 1]$ and the estimate is
# stable.


# %%
def stationary(pi):
    """Stationary laws (..., N) of transition matrices pi (..., N, N): mu pi = mu, sum mu = 1."""
    n = pi.shape[-1]
    A = pi.transpose(-1, -2) - torch.eye(n, device=pi.device)
    A[..., -1, :] = 1.0  # replace one equation by the normalisation
    b = torch.zeros(*pi.shape[:-2], n, 1, device=pi.device)
    b[..., -1, 0] = 1.0
    return torch.linalg.solve(A, b).squeeze(-1).clamp_min(0.0)


def paper_sequences(parents, m, generator, n_vocab=N_VOCAB):
    """Task 2.4 (def-ch10-task-paper) on a graph of T - 1 positions (parents, -1 = root):
    contexts x_{1:T} (m, T) whose last token is the uniform query, targets y (m,), pi (m, N, N)."""
    pi = tasks.dirichlet_rows((m, n_vocab, n_vocab), ALPHA, generator=generator)
    dev = pi.device
    mu, rows, T1 = stationary(pi), torch.arange(m, device=dev), len(parents)
    x = torch.empty(m, T1 + 1, dtype=torch.long, device=dev)
    u = torch.rand(m, T1 + 1, generator=generator, device=dev)
    draw = lambda law, col: (u[:, col : col + 1] > law.cumsum(-1)).sum(-1)
    for i in range(T1):
        law = mu if parents[i] < 0 else pi[rows, x[:, parents[i]]]
        x[:, i] = draw(law, i).clamp(max=n_vocab - 1)
    x[:, T1] = torch.randint(0, n_vocab, (m,), generator=generator, device=dev)
    y = draw(pi[rows, x[:, T1]], T1).clamp(max=n_vocab - 1)
    return x, y, pi


def paper_bayes(x, parents, n_vocab=N_VOCAB, draws=K_POST, seed=0):
    """Predictive of y given contexts x (m, T) under def-ch10-task-paper: the Monte Carlo ratio of
    prop-ch10-bayes-paper (Bayes) and the add-alpha estimate without the root factor; (m, N) each."""
    x = x.cpu()
    par = torch.as_tensor(parents)
    kids, roots = (par >= 0).nonzero().squeeze(1), (par < 0).nonzero().squeeze(1)
    pairs = x[:, par[kids]] * n_vocab + x[:, kids]  # transitions a -> c seen in context
    cnt = nn.functional.one_hot(pairs, n_vocab**2).sum(1).view(-1, n_vocab, n_vocab)
    rows, q = torch.arange(x.shape[0]), x[:, -1]
    row_q = cnt[rows, q].float()  # counts out of the query token
    add_alpha = (row_q + ALPHA) / (row_q.sum(-1, keepdim=True) + n_vocab * ALPHA)
    num, den = torch.zeros_like(add_alpha), torch.zeros(x.shape[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(draws // 64):  # 64 posterior draws of pi at a time
            gam = torch.distributions.Gamma(cnt.float() + ALPHA, 1.0).sample((64,))
            pi = gam / gam.sum(-1, keepdim=True)  # (64, m, N, N) from Q
            mu = stationary(pi)  # (64, m, N)
            w = mu.gather(2, x[:, roots].expand(64, -1, -1)).prod(-1)  # root factor
            num += (w.unsqueeze(-1) * pi[:, rows, q]).sum(0)
            den += w.sum(0)
    return (num / den.unsqueeze(-1)).to(cfg.device), add_alpha.to(cfg.device)


def paper_test_set(parents, m, seed, n_vocab=N_VOCAB):
    """Test contexts (m, T), targets (m,) and the reference losses (nats) of the paper's task."""
    ctx, y, _ = paper_sequences(parents, m, cfg.generator(seed), n_vocab)
    bayes, add_alpha = paper_bayes(ctx, parents, n_vocab, seed=seed)
    unigram = tasks.unigram_predictive(torch.cat([ctx, y[:, None]], 1), n_vocab, ALPHA)
    ref = {
        name: tasks.predictive_cross_entropy(p, y).item()
        for name, p in [
            ("Bayes", bayes),
            ("add-alpha", add_alpha),
            ("unigram", unigram[:, -1]),
        ]
    }
    return ctx, y, ref


tree_p = tasks.random_tree(
    T_CTX - 1, generator=torch.Generator().manual_seed(cfg.seed), last_is_chain=False
)  # the paper's graph on positions 1..T-1 (0-based here; -1 = root)
chain_p = tasks.markov_parents(T_CTX - 1)
ctx_tp, y_tp, ref_tp = paper_test_set(tree_p, M_TEST, seed=cfg.seed + 70)
print("paper's task on the random tree, last-token losses (nats):", ref_tp)
notebook.glue("k_post", K_POST)
notebook.glue("root_tilt", ref_tp["add-alpha"] - ref_tp["Bayes"])

# %% [markdown]
# On the random tree (one root) the loss of the add-$\alpha$ estimate minus the Monte Carlo
# Bayes loss is {glue:text}`root_tilt:+.4f` nats. The true difference is $\ge 0$ (the Bayes
# predictor is optimal), so at this length the root factor of {prf:ref}`prop-ch10-bayes-paper`
# hardly matters, and the Monte Carlo error of our Bayes loss is of the same small size.

# %% [markdown]
# `tasks.bayes_predictive` evaluates the formula of {prf:ref}`prop-ch10-bayes` (our task) for every
# position at once (its unit tests compare it with a Monte Carlo posterior). Two
# baselines frame it: the in-context **unigram** predictor $(c_s + \alpha)/(i - 1 + N\alpha)$, with
# $c_s$ the count of $s$ before $i$, which ignores the graph, and the **oracle** $\pi(\cdot \mid a)$,
# which knows the matrix. On the Markov chain the Bayes loss falls from the unigram level towards the
# oracle as more transitions are seen:

# %%
long_chain = tasks.markov_parents(4 * T_CTX)
x_long, pi_long = tasks.CausalGraphTask(long_chain, N_VOCAB, ALPHA).sequences(
    M_TEST, generator=cfg.generator(2)
)


def per_position_loss(probs, x):
    """Mean -log probs[b, i, x[b, i]] over sequences b, for each position i (nats)."""
    return -probs.gather(-1, x.unsqueeze(-1)).squeeze(-1).clamp_min(1e-30).log().mean(0)


rows = torch.arange(M_TEST, device=x_long.device).unsqueeze(1)
loss_by_pos = {
    "unigram (in context)": per_position_loss(
        tasks.unigram_predictive(x_long, N_VOCAB, ALPHA), x_long
    ),
    "Bayes (in-context bigram)": per_position_loss(
        tasks.bayes_predictive(x_long, long_chain, N_VOCAB, ALPHA), x_long
    ),
}
oracle = -pi_long[rows, x_long[:, :-1], x_long[:, 1:]].log().mean(0)

fig, ax = plt.subplots(figsize=(7, 3.6))
pos = np.arange(2, x_long.shape[1] + 1)
for c, (name, l) in zip(plotting.COLORS, loss_by_pos.items()):
    ax.plot(pos, l[1:].cpu(), color=c, label=name)
ax.plot(pos, oracle.cpu(), color="gray", ls="--", label=r"oracle: knows $\pi$")
ax.set(
    xlabel="position i",
    ylabel="expected log-loss (nats)",
    xscale="log",
    title=r"In-context Markov chain: the Bayes predictor learns $\pi$ from the context",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## A two-layer attention-only transformer
#
# The papers analyse a simplified transformer whose residual stream keeps the token, the position
# and each layer's output in separate coordinates ("disentangled"), so that every attention score
# is a bilinear form between two of these pieces. We use a minimal version of it, written here in a
# dozen lines rather than in `lmt_core` because the model *is* the lesson of the chapter, and it is
# too specialised to be reused elsewhere. Positions are $1, \dots, T$ (the context), $e_a \in \mathbb
# R^N$ is the one-hot vector of token $a$.
# The paper's own, unreduced model is trained in full mode in {ref}`sec-ch10-full-dis`.


# %% [markdown]
# :::{prf:definition} Disentangled two-layer attention-only model
# :label: def-ch10-model
#
# The parameters are $A^{(1)} \in \mathbb R^{T \times T}$, $A^{(2)} \in \mathbb R^{N \times N}$ and a
# scalar $b$. For a context $x_{1:T}$:
#
# 1. **Layer 1 (positional attention).** Position $i \ge 2$ attends to $k < i$ with weights
#    $a_{ik} = \mathrm{softmax}_{k < i}(A^{(1)}_{ik})$ and writes $u_i = \sum_{k<i} a_{ik}\, e_{x_k}$
#    into its own slot of the residual stream ($u_1 = 0$).
# 2. **Layer 2 (content attention from the last position).** Position $T$ attends to $j \in \{2,
#    \dots, T\}$ and to a *sink* (a fixed extra key carrying the uniform vector) with scores
#    $s_j = e_{x_T}^\top A^{(2)} u_j$ and $s_0 = b$; with $w = \mathrm{softmax}(s_0, s_2, \dots, s_T)$
#    the output is the probability vector
#    $\hat q = w_0 \tfrac1N \mathbf 1 + \sum_{j \ge 2} w_j\, e_{x_j}$, and the prediction is
#    $\hat P(y = s) = \hat q_s$ (logits $\log \hat q$).
# :::
#
# This is a much *reduced* version of the paper's disentangled transformer, and the reductions do
# part of the learning for it. In the paper every attention score is a bilinear form on the whole
# concatenated residual stream (token, position and earlier layers' outputs) and the read-out is a
# trained linear map. Here (i) the score $A^{(1)}_{ik}$ depends on positions only (query and key are
# position embeddings), (ii) the score $s_j$ can only compare the last token with what layer 1
# copied into position $j$, and (iii) the output is the attention average itself, read as a
# probability vector, with a sink key that mixes in the uniform law, exactly the Dirichlet smoothing
# of {prf:ref}`prop-ch10-bayes`. With the roles "find the parent" and "match tokens" hard-wired this
# way, recovering the graph is close to guaranteed once the first gradient points at the parent;
# the standard transformer of {ref}`sec-ch10-standard` has no such help.


# %%
class Disentangled(nn.Module):
    """The two-layer attention-only model of def-ch10-model; forward maps tokens (B, T) to logits (B, N)."""

    def __init__(self, n_vocab, T, init_std=0.0, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.n_vocab, self.T = n_vocab, T
        self.A1 = nn.Parameter(
            init_std * torch.randn(T, T, generator=g)
        )  # position -> position
        self.A2 = nn.Parameter(
            init_std * torch.randn(n_vocab, n_vocab, generator=g)
        )  # token -> copied token
        self.b = nn.Parameter(torch.zeros(()))  # score of the sink
        self.register_buffer(
            "earlier", torch.tril(torch.ones(T, T), -1).bool()
        )  # k < i

    def layer1(self):
        """Attention a[i, k] of layer 1, shape (T, T); row 0 (the first position) is zero."""
        a = torch.softmax(self.A1.masked_fill(~self.earlier, float("-inf"))[1:], dim=-1)
        return torch.cat([a.new_zeros(1, self.T), a], 0)

    def forward(self, x, return_attention=False):
        X = nn.functional.one_hot(x, self.n_vocab).float()  # (B, T, N)
        a1 = self.layer1()
        U = torch.einsum("ik,bkn->bin", a1, X)  # u_i: the copied (parent) token
        s = torch.einsum(
            "bn,nm,bjm->bj", X[:, -1], self.A2, U[:, 1:]
        )  # scores of keys j = 2..T
        w = torch.softmax(torch.cat([self.b.expand(x.shape[0], 1), s], 1), -1)
        q = w[:, :1] / self.n_vocab + torch.einsum("bj,bjn->bn", w[:, 1:], X[:, 1:])
        return (q.log(), (a1, w)) if return_attention else q.log()


# %% [markdown]
# ### The construction: hand-set weights that compute the Bayes predictor


# %% [markdown]
# :::{prf:proposition} A two-layer model computes the in-context bigram estimate
# :label: prop-ch10-construction
#
# Set $A^{(1)}_{i\,p(i)} = \beta_1$ and $A^{(1)}_{ik} = 0$ for $k \neq p(i)$, $A^{(2)} = \beta_2 I_N$
# and $b = \beta_2 + \log(N\alpha')$ for some $\alpha' > 0$. As $\beta_1, \beta_2 \to \infty$ with
# $\beta_2 e^{-\beta_1} \to 0$ (for example $\beta_1 = \beta_2$, as in the code below) the model's
# prediction converges, for every context, to the add-$\alpha'$ estimate
# $(n_{as} + \alpha')/(n_a + N\alpha')$ with $a = x_T$, the transition counts taken over the pairs
# $(x_{p(j)}, x_j)$, $2 \le j \le T$. With $\alpha' = \alpha$ it converges to the Bayes predictor
# of {prf:ref}`prop-ch10-bayes`.
# :::


# %% [markdown]
# :::{prf:proof}
# Layer 1: $a_{i\,p(i)} = e^{\beta_1}/(e^{\beta_1} + i - 2) \to 1$, so $u_i \to e_{x_{p(i)}}$: layer 1
# copies the parent's token; more precisely $|u_i[a] - \mathbf 1[x_{p(i)} = a]| \le T e^{-\beta_1}$. Layer 2:
# then $s_j = \beta_2 u_j[x_T] = \beta_2 \mathbf 1[x_{p(j)} = x_T] + O(\beta_2 T e^{-\beta_1})$, so the $n_a$
# matching positions (those $j$ whose parent holds $a = x_T$) get weight proportional to
# $e^{\beta_2 + o(1)}$ (this is where $\beta_2 e^{-\beta_1} \to 0$ is needed), the sink gets
# $e^{\beta_2} N\alpha'$, and every other position weight proportional to $e^{o(1)}$. Dividing by
# $e^{\beta_2}$ and letting $\beta_2 \to \infty$, the non-matching positions drop out and
# $\hat q = \big(\sum_{j \text{ matching}} e_{x_j} + N\alpha' \cdot \tfrac1N \mathbf 1\big)/(n_a + N\alpha')$,
# whose $s$-th coordinate is $(n_{as} + \alpha')/(n_a + N\alpha')$. The transition $x_{p(L)} = x_T \to
# y$ is the one to predict, and $p(L) = L-1 = T$, so the counts are exactly those of
# {prf:ref}`prop-ch10-bayes` at $i = L$.
# :::
#
# Layer 2 is an *induction head* in the Markov case: position $T$ looks for earlier positions whose
# previous token equals its own token and copies what came next {cite}`nichani2024transformers`. In
# code we set the weights, measure the KL divergence from the Bayes predictive to the model's
# prediction as $\beta = \beta_1 = \beta_2$ grows, and then use a wrong smoothing $\alpha' \ne \alpha$
# to see the excess loss of a plain in-context bigram vanish as the context grows.


# %%
def set_bigram_weights(model, parents, beta, alpha_prime):
    """Hand-set the weights of prop-ch10-construction: layer 1 attends to the parent, layer 2 matches tokens."""
    T, N = model.T, model.n_vocab
    with torch.no_grad():
        model.A1.zero_()
        model.A1[torch.arange(1, T), parents[1:T]] = beta
        model.A2.copy_(beta * torch.eye(N))
        model.b.fill_(beta + math.log(N * alpha_prime))
    return model


def final_position_test_set(parents, m, seed, n_vocab=N_VOCAB):
    """m sequences on the graph: contexts (m, T), targets (m,), Bayes predictive of the target (m, N)."""
    task = tasks.CausalGraphTask(parents, n_vocab, ALPHA)
    x, _ = task.sequences(m, generator=cfg.generator(seed))
    return (
        x[:, :-1],
        x[:, -1],
        tasks.bayes_predictive(x, parents, n_vocab, ALPHA)[:, -1],
    )


def kl_from_bayes(model, ctx, bayes):
    """Mean KL(Bayes predictive || model prediction) over the test contexts (nats)."""
    with torch.no_grad():
        logq = model(ctx)
    return float((bayes * (bayes.clamp_min(1e-30).log() - logq)).sum(-1).mean())


ctx_tree, y_tree, bayes_tree = final_position_test_set(tree, M_TEST, seed=3)
BETAS = [1.0, 2.0, 4.0, 8.0, 16.0]
kl_beta = [
    kl_from_bayes(
        set_bigram_weights(Disentangled(N_VOCAB, T_CTX).to(cfg.device), tree, b, ALPHA),
        ctx_tree,
        bayes_tree,
    )
    for b in BETAS
]
for b, k in zip(BETAS, kl_beta):
    print(f"beta = {b:5.1f}: KL(Bayes || hand-set model) = {k:.2e} nats")
notebook.glue("kl_construction", kl_beta[-1])

# %%
ALPHA_WRONG = 0.1
T_SWEEP = [8, 16, 32, 64, 128, 256]
gap_plugin = []
for T_s in T_SWEEP:
    par = tasks.random_tree(T_s + 1, generator=torch.Generator().manual_seed(cfg.seed))
    ctx, _, bayes = final_position_test_set(par, M_TEST, seed=4)
    m = set_bigram_weights(
        Disentangled(N_VOCAB, T_s).to(cfg.device), par, 16.0, ALPHA_WRONG
    )
    gap_plugin.append(kl_from_bayes(m, ctx, bayes))
notebook.glue("gap_plugin_first", gap_plugin[0])
notebook.glue("gap_plugin_last", gap_plugin[-1])
notebook.glue("t_sweep_last", T_SWEEP[-1])

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(
    T_SWEEP,
    gap_plugin,
    "o-",
    color=plotting.COLORS[0],
    label=rf"hand-set, $\alpha' = {ALPHA_WRONG}$",
)
ax.axhline(
    kl_beta[-1] + 1e-12,
    color=plotting.COLORS[1],
    ls="--",
    label=rf"hand-set, $\alpha' = \alpha$ (T = {T_CTX})",
)
ax.set(
    xlabel="context length T",
    ylabel="excess loss over Bayes (nats)",
    title="The in-context bigram estimate approaches the Bayes predictor",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With the right smoothing the hand-set model matches the Bayes predictor up to
# {glue:text}`kl_construction:.1e` nats. With the wrong smoothing $\alpha' = 0.1$ the excess loss
# falls from {glue:text}`gap_plugin_first:.3f` nats at $T = 8$ to {glue:text}`gap_plugin_last:.4f`
# at $T =$ {glue:text}`t_sweep_last`: every consistent estimate of the transition row converges to the
# same answer once each token has been seen as a parent many times, and the prior only matters for
# short contexts.
#
# (sec-ch10-gradient)=
# ## How gradient descent finds the graph
#
# The construction needs the graph in $A^{(1)}$. Why would gradient descent put it there? Look at
# the gradient of the loss with respect to $A^{(1)}$ at the start of training.

# %% [markdown]
# :::{prf:proposition} The first-layer gradient at initialisation
# :label: prop-ch10-gradient
#
# Let $A^{(1)} = 0$, $A^{(2)} = \varepsilon I_N$, $b$ fixed, and let
# $\mathcal L = \mathbb E[-\log \hat q_y]$ be the population loss of {prf:ref}`def-ch10-model`. For
# $2 \le i \le T$ and $k < i$,
#
# $$
# -\frac{\partial \mathcal L}{\partial A^{(1)}_{ik}}
# = \frac{\varepsilon\, w^0}{i-1}\Big(G_{ik} - \frac1{i-1} \sum_{k' < i} G_{ik'}\Big) + O(\varepsilon^2),
# \qquad
# G_{ik} = \mathbb E\Big[\Big(\frac{\mathbf 1[x_i = y]}{q^0_y} - 1\Big)\, \mathbf 1[x_k = x_T]\Big],
# $$
#
# where $w^0 = 1/(e^b + T - 1)$ and $q^0 = w^0\big(\tfrac{e^b}{N}\mathbf 1 + \sum_{j=2}^T e_{x_j}\big)$
# is the model's prediction at $\varepsilon = 0$, a smoothed unigram of the context. In particular
# the ranking of the entries of row $i$ of the gradient is, to first order, the ranking of
# $k \mapsto G_{ik}$.
# :::

# %% [markdown]
# :::{prf:proof}
# Write $v_0 = \frac1N \mathbf 1$ and $v_j = e_{x_j}$, so $\hat q = \sum_j w_j v_j$ and, by the
# derivative of the softmax, $\partial \hat q_y / \partial s_j = w_j (v_j[y] - \hat q_y)$. Hence
# $\partial(-\log \hat q_y)/\partial s_j = -w_j(\mathbf 1[x_j = y]/\hat q_y - 1)$ for $j \ge 2$.
# Only $s_i$ depends on row $i$ of $A^{(1)}$, through $u_i$:
# $\partial u_i / \partial A^{(1)}_{ik} = a_{ik}(e_{x_k} - u_i)$, so
# $\partial s_i / \partial A^{(1)}_{ik} = \varepsilon\, a_{ik}(\mathbf 1[x_k = x_T] - u_i[x_T])$.
# At $A^{(1)} = 0$, $a_{ik} = 1/(i-1)$ and $u_i[x_T] = \frac1{i-1}\sum_{k'<i}\mathbf 1[x_{k'} = x_T]$.
# Multiplying, taking expectations and replacing $w_i$ and $\hat q$ by their values at
# $\varepsilon = 0$ (which changes the product by $O(\varepsilon^2)$ because of the factor
# $\varepsilon$) gives the formula.
# :::
#
# $G_{ik}$ measures how much "$x_k$ looks like the last token" predicts "$x_i$ looks like the target".
# The target $y$ is a child of $x_T$, so $G_{ik}$ is large when the pair $(x_k, x_i)$ is distributed
# like a parent–child pair. The data-processing inequality says no pair is more dependent than the
# true edge.

# %% [markdown]
# :::{prf:lemma} Data processing along the tree
# :label: lem-ch10-dpi
#
# Fix $\pi$. For $i \ge 2$ and every $k < i$, the triple $x_k \to x_{p(i)} \to x_i$ is a Markov chain,
# and therefore, for the $\chi^2$-mutual information
# $I_{\chi^2}(U; Z) = \sum_{u,z} P_{UZ}(u,z)^2 / (P_U(u) P_Z(z)) - 1$ (and equally for the ordinary
# mutual information),
#
# $$
# I_{\chi^2}(x_k; x_i) \;\le\; I_{\chi^2}(x_{p(i)}; x_i).
# $$
# :::

# %% [markdown]
# :::{prf:proof}
# Given $\pi$ and $x_1, \dots, x_{i-1}$, the law of $x_i$ is $\pi(\cdot \mid x_{p(i)})$: it depends on
# the past only through $x_{p(i)}$. Since $k < i$, $x_i$ is independent of $x_k$ given $x_{p(i)}$. So
# the joint law of $(x_k, x_i)$ is obtained from that of $(x_{p(i)}, x_i)$ by passing the first
# coordinate through the channel $K(u \mid w) = \Pr[x_k = u \mid x_{p(i)} = w]$, and the product of
# the marginals is obtained from the product of the marginals by the same channel. An $f$-divergence
# ($f$ convex, $f(1) = 0$) cannot increase under a channel: for laws $Q, R$ and a channel $K$,
# $D_f(QK \,\|\, RK) = \sum_z (RK)(z)\, f\big(\sum_w \tfrac{R(w) K(z \mid w)}{(RK)(z)} \tfrac{Q(w)}{R(w)}\big)
# \le \sum_z \sum_w R(w) K(z \mid w) f\big(\tfrac{Q(w)}{R(w)}\big) = D_f(Q \,\|\, R)$ by Jensen's
# inequality. Both mutual informations are $f$-divergences between the joint law and the product of
# the marginals ($f(t) = (t-1)^2$ and $f(t) = t \log t$).
# :::

# %% [markdown]
# :::{prf:corollary} The gradient points at the parent (idealised)
# :label: cor-ch10-parent
#
# Assume in addition that (i) $\pi$ is doubly stochastic, so every $x_i$ is uniform, (ii) $q^0_y$ is
# replaced by its limit $1/N$, and (iii) the pair $(x_k, x_i)$ is independent of the pair $(x_T, y)$
# given $\pi$. Then $G_{ik} = \frac1N\, \mathbb E_\pi\big[\langle D_{ki}, D_{e} \rangle\big]$, where
# $D_{ki}(a, c) = N^2 P(x_k = a, x_i = c \mid \pi) - 1$ and $D_e$ is the same for a parent–child pair
# ($\langle\cdot,\cdot\rangle$ the inner product of $L^2$ of the uniform law on $[N]^2$), and
# $G_{ik} \le G_{i\,p(i)}$ for every $k < i$.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* Under (i)–(iii), $\mathbb E[\mathbf 1[x_i = y] \mathbf 1[x_k = x_T] / q^0_y]
# = N \sum_{a,c} P(x_k = a, x_i = c) P(x_T = a, y = c)$ and
# $\mathbb E[\mathbf 1[x_k = x_T]] = 1/N$, which gives the formula for $G_{ik}$ after centring. By
# Cauchy–Schwarz, $\langle D_{ki}, D_e \rangle \le \|D_{ki}\| \|D_e\|$, and $\|D\|^2$ is exactly the
# $\chi^2$-mutual information of the pair, so {prf:ref}`lem-ch10-dpi` gives
# $\|D_{ki}\| \le \|D_{p(i)\,i}\| = \|D_e\|$, with equality of the whole bound at $k = p(i)$ where
# $D_{ki} = D_e$. What the sketch skips: the idealisations (i)–(iii) themselves. For Dirichlet rows
# $\pi$ is not doubly stochastic and the marginals are not uniform; $q^0$ is a finite-$T$ average; and
# pairs of positions in a finite tree are not exactly independent. In the paper's task
# ({prf:ref}`def-ch10-task-paper`) (iii) is exact for all $i, k \le T - 1$, because the query pair
# $(x_T, y)$ is drawn independently given $\pi$; (i) and (ii) remain idealisations. The paper
# {cite}`nichani2024transformers` controls these terms (with a $\chi^2$ normalisation by the
# stationary law and conditions on the graph and the prior); we check the unidealised gradient
# numerically below.
# :::
#
# The argument above covers one step. The paper's theorem covers training.

# %% [markdown]
# :::{prf:theorem} Gradient descent learns the causal graph (Nichani, Damian, Lee 2024; labelled informal form)
# :label: thm-ch10-nichani
#
# *Setting.* The paper's task ({prf:ref}`def-ch10-task-paper`) on a latent graph in which every
# position has at most one parent, and the disentangled two-layer attention-only transformer with
# one head per layer.
#
# *Assumptions* (their structure, as we read the paper; we could not check the exact conditions or
# constants). (A1) The prior on $\pi$ is non-degenerate: the chains it produces mix, and their
# stationary laws are bounded away from zero, so that the $\chi^2$-mutual information between
# positions, normalised by the stationary law, is a well-behaved quantity. (A2) *Identifiability with
# a gap:* for every non-root position $i$, the parent $p(i)$ is the unique maximiser of that
# dependence measure over the earlier positions $k < i$, by a margin bounded below. (A3) The
# training algorithm is the paper's staged one: gradient descent on the first layer with the second
# layer held at a small initial value, then gradient descent on the second layer, with step sizes
# and numbers of steps as chosen in the paper, and sequences long enough.
#
# *Conclusion.* After the first stage the first-layer attention of every non-root position
# concentrates on its parent (the first layer encodes the graph's adjacency matrix); after the
# second the model computes the in-context bigram estimate of the transition out of $x_T$, so its
# loss approaches the Bayes loss of {prf:ref}`prop-ch10-bayes-paper` as $T \to \infty$. For the
# in-context Markov chain the learned model is an induction head. The paper also shows that the
# learned model generalises out of distribution, to other priors on $\pi$.
#
# We give no rates: we could not check the paper's sample sizes, step counts or the precise
# form of its gap condition, and we do not guess them.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* (1) At initialisation the first-layer gradient is the $G$ of
# {prf:ref}`prop-ch10-gradient`; by the data-processing argument of {prf:ref}`cor-ch10-parent` its
# row-wise maximum is at the parent, with a gap set by the prior. (2) Gradient steps on $A^{(1)}$ grow
# the parent entry of each row fastest; the paper tracks the whole trajectory (not only the first
# step) and shows the attention concentrates on $p(i)$. (3) With layer 1 fixed, training layer 2 is a
# low-dimensional problem whose optimum sharpens the token-matching attention, which yields the
# in-context bigram estimator. Skipped here: the trajectory analysis of step (2), the concentration
# bounds for finite $T$, the precise assumptions and the rates; see the paper's main theorem. The
# paper also discusses graphs with several parents, which need several heads (we have not checked
# what it proves there), and out-of-distribution generalisation to other priors.
# :::
#
# The exact (unidealised) gradient is easy to compute with autograd on a large batch. For the paper's
# task on a random tree and Dirichlet transition matrices, we check in how many rows (the non-root
# positions $2, \dots, T - 1$) the largest entry of $-\partial \mathcal L/\partial A^{(1)}$ is the
# true parent:

# %%
ctx_grad, y_grad, _ = paper_sequences(tree_p, M_GRAD, cfg.generator(5))
x_grad = torch.cat([ctx_grad, y_grad[:, None]], 1)  # contexts and targets side by side
probe = Disentangled(N_VOCAB, T_CTX).to(cfg.device)
with torch.no_grad():
    probe.A2.copy_(0.1 * torch.eye(N_VOCAB))  # epsilon = 0.1, A1 = 0, b = 0
nn.functional.cross_entropy(probe(ctx_grad), y_grad).backward()
neg_grad = (
    (-probe.A1.grad).masked_fill(~probe.earlier, float("-inf")).cpu()
)  # only k < i counts
# rows 2..T-1 (1-based) of the graph; the query row T has no parent
grad_hits = float((neg_grad[1 : T_CTX - 1].argmax(1) == tree_p[1:]).float().mean())
notebook.glue("grad_hits", 100 * grad_hits)
print(
    f"rows whose largest negative-gradient entry is the true parent: {100 * grad_hits:.0f}%"
)


def gradient_formula(x, eps):
    """-dL/dA1 from prop-ch10-gradient on the sample x (A1 = 0, A2 = eps I, b = 0), to first order in eps."""
    ctx, y = x[:, :-1], x[:, -1]
    X = nn.functional.one_hot(ctx, N_VOCAB).float()  # (M, T, N)
    w0 = 1.0 / T_CTX  # 1 / (e^b + T - 1) with b = 0
    q0 = w0 * (1.0 / N_VOCAB + X[:, 1:].sum(1))  # the model at eps = 0, (M, N)
    r = (ctx == y.unsqueeze(1)).float() / q0.gather(
        1, y.unsqueeze(1)
    ) - 1  # 1[x_i = y] / q0_y - 1
    c = (ctx == ctx[:, -1:]).float()  # 1[x_k = x_T]
    G = (r.T @ c / x.shape[0]).masked_fill(~probe.earlier, 0.0)  # G[i, k], k < i
    n_before = torch.arange(T_CTX, device=x.device).clamp_min(1).float().unsqueeze(1)
    centred = (G - G.sum(1, keepdim=True) / n_before).masked_fill(~probe.earlier, 0.0)
    return eps * w0 / n_before * centred


EPS_CHECK = 1e-3
probe_small = Disentangled(N_VOCAB, T_CTX).to(cfg.device)
with torch.no_grad():
    probe_small.A2.copy_(EPS_CHECK * torch.eye(N_VOCAB))
nn.functional.cross_entropy(probe_small(x_grad[:, :-1]), x_grad[:, -1]).backward()
autograd = -probe_small.A1.grad.masked_fill(~probe_small.earlier, 0.0)
formula_err = float(
    (gradient_formula(x_grad, EPS_CHECK) - autograd).abs().max() / autograd.abs().max()
)
notebook.glue("formula_err", formula_err)
print(
    f"formula of prop-ch10-gradient vs autograd (eps = {EPS_CHECK}): relative difference {formula_err:.1e}"
)

# %% [markdown]
# In {glue:text}`grad_hits:.0f`% of the rows the first gradient step already favours the parent:
# the signal of {prf:ref}`prop-ch10-gradient` survives the idealisations the corollary needed. On the
# same sample, the formula of the proposition and autograd agree up to a relative difference of
# {glue:text}`formula_err:.1e` at $\varepsilon = 10^{-3}$, the size of the $O(\varepsilon^2)$ term.
#
# (sec-ch10-training)=
# ## Experiment: training on a random tree and on a Markov chain
#
# We now train the model of {prf:ref}`def-ch10-model` on the paper's task
# ({prf:ref}`def-ch10-task-paper`: the last context token is the independent query, the target
# $y \sim \pi(\cdot \mid x_T)$) with the final-token loss and Adam, from
# standard Gaussian $A^{(1)}$ and $A^{(2)}$ and $b = 0$, both layers at once (unlike the paper's
# two-stage algorithm), on the random tree and on the Markov chain. The members of the ensemble
# differ in their initialisation; `ensemble.stack` trains them as one batched model. Here
# $N =$ {glue:text}`n_vocab` and $T =$ {glue:text}`t_ctx`. The test loss is
# compared with the Monte Carlo Bayes loss of {prf:ref}`prop-ch10-bayes-paper` and the in-context
# unigram loss on the same test sequences. The layer-1 "parent hits" count the non-root positions
# $2, \dots, T - 1$ whose largest attention weight is on the parent.

# %%
LR = 0.1
notebook.glue("steps", STEPS)


def batches_for(parents, n_vocab=N_VOCAB):
    """Fresh sequences of the paper's task each step: contexts (B, T) and targets y (B,)."""
    return lambda step, g: paper_sequences(parents, BATCH, g, n_vocab)[:2]


def train_on(parents, seed):
    """Train E_SEEDS members on the graph; return the ensemble, its history and the reference losses."""
    ctx, y, ref = paper_test_set(parents, M_TEST, seed=seed)

    def evaluate(model):
        logq = model(ctx)  # (E, M, N)
        return {
            "loss": -logq.gather(
                -1, y.view(1, -1, 1).expand(logq.shape[0], -1, 1)
            ).mean((1, 2))
        }

    net = ensemble.stack(
        [
            Disentangled(N_VOCAB, T_CTX, init_std=1.0, seed=100 + s)
            for s in range(E_SEEDS)
        ]
    ).to(cfg.device)
    hist = train.fit(
        net,
        batches_for(parents),
        steps=STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        evaluate=evaluate,
        eval_every=25,
        data_seed=seed,
        desc="causal graph",
    )
    return net, hist, ref


net_tree, hist_tree, ref_tree = train_on(tree_p, seed=cfg.seed + 10)
net_chain, hist_chain, ref_chain = train_on(chain_p, seed=cfg.seed + 20)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, h, ref, name in [
    (axes[0], hist_tree, ref_tree, "random tree"),
    (axes[1], hist_chain, ref_chain, "Markov chain"),
]:
    ax.plot(h.step_array, h["loss"], color=plotting.COLORS[0], lw=1)
    ax.plot([], [], color=plotting.COLORS[0], label="trained model (each member)")
    ax.axhline(
        ref["unigram"], color=plotting.COLORS[1], ls="--", label="in-context unigram"
    )
    ax.axhline(ref["Bayes"], color="black", ls=":", label="Bayes optimal")
    ax.set(xlabel="steps", title=f"{name}: the loss drops to the Bayes loss")
    ax.legend(fontsize=8)
axes[0].set_ylabel("test log-loss on the last token (nats)")
plt.show()


def gap_and_hits(net, hist, ref, parents):
    """Final excess loss over Bayes, the fraction of the unigram-Bayes gap closed, parent accuracy (per member)."""
    gap = hist.final("loss") - ref["Bayes"]
    closed = 1 - gap / (ref["unigram"] - ref["Bayes"])
    hits = np.array(
        [
            float(
                (net.member(e).layer1()[1 : T_CTX - 1].argmax(1).cpu() == parents[1:])
                .float()
                .mean()
            )
            for e in range(net.members)
        ]
    )
    return gap, closed, hits


gap_tree, closed_tree, hits_tree = gap_and_hits(net_tree, hist_tree, ref_tree, tree_p)
gap_chain, closed_chain, hits_chain = gap_and_hits(
    net_chain, hist_chain, ref_chain, chain_p
)
print(
    "random tree : excess loss",
    gap_tree.round(4),
    "| gap closed",
    closed_tree.round(3),
    "| parent hits",
    hits_tree,
)
print(
    "Markov chain: excess loss",
    gap_chain.round(4),
    "| gap closed",
    closed_chain.round(3),
    "| parent hits",
    hits_chain,
)
notebook.glue("gap_tree_max", float(gap_tree.max()))
notebook.glue("closed_tree_min", 100 * float(closed_tree.min()))
notebook.glue("hits_tree_min", 100 * float(hits_tree.min()))
notebook.glue("gap_chain_max", float(gap_chain.max()))
notebook.glue("uni_bayes_tree", ref_tree["unigram"] - ref_tree["Bayes"])

# %% [markdown]
# After {glue:text}`steps` steps the excess loss over the Bayes predictor is at most
# {glue:text}`gap_tree_max:.4f` nats on the tree (the unigram baseline is
# {glue:text}`uni_bayes_tree:.3f` nats above Bayes, so at least {glue:text}`closed_tree_min:.0f`% of
# that gap is closed) and at most {glue:text}`gap_chain_max:.4f` nats on the Markov chain. The layer-1
# attention of every member puts its largest weight on the true parent in at least
# {glue:text}`hits_tree_min:.0f`% of the positions of the tree. The heatmaps show the first member:
# the first-layer attention is the graph's adjacency matrix, and for the Markov chain it is the
# previous-token pattern that feeds an induction head.


# %%
def show_attention(ax, attn, parents, title):
    """Draw an attention map (queries i as rows, keys k as columns, values in [0, 1]) with the
    true parent p(i) of each position i >= 1 circled in red; returns the image."""
    par = np.asarray(parents[1 : attn.shape[0]])  # positions 1.. that have a parent
    im = ax.imshow(attn, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    ax.scatter(
        par,
        np.arange(1, 1 + len(par)),
        s=12,
        facecolors="none",
        edgecolors="red",
        lw=0.8,
        label="true parent p(i)",
    )
    ax.set(xlabel="key position k", ylabel="query position i", title=title)
    ax.title.set_fontsize(9)
    return im


fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
g_rows = neg_grad[1:].numpy()  # rows i >= 2, scaled to [0, 1] for display
finite = np.isfinite(g_rows)
lo = np.where(finite, g_rows, np.inf).min(1, keepdims=True)
hi = np.where(finite, g_rows, -np.inf).max(1, keepdims=True)
g_scaled = np.vstack(
    [
        np.full((1, T_CTX), np.nan),
        np.where(finite, (g_rows - lo) / np.maximum(hi - lo, 1e-12), np.nan),
    ]
)
panels = [
    (g_scaled, tree_p, "random tree: -gradient at step 0 (row-scaled)"),
    (
        net_tree.member(0).layer1().detach().cpu().numpy(),
        tree_p,
        "random tree: learned layer-1 attention",
    ),
    (
        net_chain.member(0).layer1().detach().cpu().numpy(),
        chain_p,
        "Markov chain: learned layer-1 attention",
    ),
]
for ax, (M, par, title) in zip(axes, panels):
    im = show_attention(ax, M, par, title)
axes[0].legend(loc="upper right", fontsize=7)
fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight / scaled gradient")
plt.show()

# %% [markdown]
# (sec-ch10-standard)=
# ## A standard transformer on the paper's task
#
# The disentangled model has the two roles, "find the parent" and "match tokens", built into its
# parameterisation. A standard attention-only transformer has to discover them in a shared residual
# stream: `lmt_core.models.Transformer` with two layers, one head per layer, no MLP, learned
# absolute positions, width $d =$ {glue:text}`std_width`, {glue:text}`std_e` initialisations
# trained as one stacked ensemble with Adam. The data are the paper's task
# ({prf:ref}`def-ch10-task-paper`) on the in-context Markov chain $p(i) = i - 1$ over positions
# $1, \dots, T - 1$, then the independent uniform query $x_T$ and its target $y$. We train on
# next-token prediction at every position whose next token is a child in the graph, and on $y$ at
# the last position; the position that would predict the query token is skipped (it is independent
# of everything, so nothing can be learned there). Measured, as above, is the loss on $y$ alone,
# against the Bayes and unigram losses of the same test sequences. (The final-token loss alone is the
# paper's objective; it gives one target per sequence instead of about $T$, so it learns more
# slowly, and we do not use it here: this departure from the paper is ours, and the book does not
# run the final-token-only objective.) If the
# model learns the mechanism of {prf:ref}`prop-ch10-construction`, its layer-1 head attends to the
# previous position (the parent) and its loss on $y$ approaches the Bayes loss.

# %%
ctx_std, y_std, ref_std = paper_test_set(chain_p, M_TEST, seed=cfg.seed + 60)


def std_batches(step, g):
    """Paper's-task sequences on the chain; targets: the children x_2..x_{T-1} and y."""
    x, y, _ = paper_sequences(chain_p, STD_BATCH, g)
    target = torch.full_like(x, -100)  # tasks' IGNORE_INDEX: not counted
    target[:, : T_CTX - 2] = x[:, 1 : T_CTX - 1]  # position i predicts its child i + 1
    target[:, -1] = y  # the query position predicts y; position T - 1 predicts nothing
    return x, target


def std_eval(model):
    """Per member: the test loss on y and the layer-1 attention mass on the parent."""
    logits, maps = model(ctx_std, return_attention=True)
    logp = logits[:, :, -1].log_softmax(-1)  # (E, M, N)
    loss = -logp.gather(-1, y_std.view(1, -1, 1).expand(logp.shape[0], -1, 1)).mean(
        (1, 2)
    )
    a1 = maps[0][:, :, 0].mean(1)  # (E, T, T), averaged over the test contexts
    i = torch.arange(1, T_CTX - 1, device=a1.device)
    return {"loss": loss, "parent_mass": a1[:, i, i - 1].mean(1)}


std = ensemble.stack(
    [
        models.Transformer(
            N_VOCAB,
            d_model=STD_WIDTH,
            n_layers=2,
            n_heads=1,
            mlp=False,
            max_len=T_CTX,
            positional="learned",
            seed=cfg.seed + s,
        )
        for s in range(STD_E)
    ]
).to(cfg.device)
std_hist = train.fit(
    std,
    std_batches,
    steps=STD_STEPS,
    loss="cross_entropy",
    optimizer="adam",
    lr=3e-3,
    evaluate=std_eval,
    eval_every=250,
    data_seed=cfg.seed + 61,
    desc="standard transformer",
)

# %%
with torch.no_grad():
    _, std_maps = std(ctx_std, return_attention=True)
std_a1 = std_maps[0][:, :, 0].mean(1).cpu()  # (E, T, T) layer-1 attention
rows_std = torch.arange(1, T_CTX - 1)
std_loss = std_hist.final("loss")
std_gap = std_loss - ref_std["Bayes"]
std_closed = 1 - std_gap / (ref_std["unigram"] - ref_std["Bayes"])
std_prev = std_a1[:, rows_std, rows_std - 1].mean(1).numpy()
std_hits = (std_a1[:, rows_std].argmax(-1) == chain_p[1:]).float().mean(1).numpy()
print(
    f"standard transformers after {STD_STEPS} steps: loss on y {std_loss.round(4)} "
    f"(Bayes {ref_std['Bayes']:.4f}, unigram {ref_std['unigram']:.4f}); gap closed "
    f"{(100 * std_closed).round(0)}%; layer-1 mass on the parent {std_prev.round(3)}; "
    f"argmax = parent at {(100 * std_hits).round(0)}% of positions"
)
notebook.glue("std_width", STD_WIDTH)
notebook.glue("std_e", STD_E)
notebook.glue("std_steps", STD_STEPS)
notebook.glue("std_gap_max", float(std_gap.max()))
notebook.glue("std_closed_min", 100 * float(std_closed.min()))
notebook.glue("std_prev_min", float(std_prev.min()))
notebook.glue("std_hits_min", 100 * float(std_hits.min()))

fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
axes[0].plot(std_hist.step_array, std_hist["loss"], color=plotting.COLORS[0], lw=1)
axes[0].plot(
    [], [], color=plotting.COLORS[0], label="standard transformer (each member)"
)
axes[0].axhline(
    ref_std["unigram"], color=plotting.COLORS[1], ls="--", label="in-context unigram"
)
axes[0].axhline(ref_std["Bayes"], color="black", ls=":", label="Bayes optimal")
ax2 = axes[0].twinx()
ax2.plot(std_hist.step_array, std_hist["parent_mass"], color=plotting.COLORS[2], lw=1)
ax2.set_ylim(0, 1)
ax2.set_ylabel("layer-1 mass on the parent", color=plotting.COLORS[2])
ax2.grid(False)
axes[0].set(
    xlabel="steps",
    ylabel="test log-loss on y (nats)",
    title=f"Paper's task, chain, N={N_VOCAB}, T={T_CTX}: loss and parent attention",
)
axes[0].title.set_fontsize(9)
axes[0].legend(fontsize=8, loc="center right")
show_attention(
    axes[1],
    std_a1[0].numpy(),
    chain_p,
    "standard transformer (member 1): learned layer-1 attention",
)
axes[1].legend(loc="upper right", fontsize=7)
reproduce.save_headline(fig)
plt.show()

# %% [markdown]
# After {glue:text}`std_steps` steps every standard transformer's loss on $y$ is at most
# {glue:text}`std_gap_max:.4f` nats above the Bayes loss (at least {glue:text}`std_closed_min:.0f`%
# of the unigram-Bayes gap closed), and its layer-1 head puts on average at least
# {glue:text}`std_prev_min:.2f` of its mass on the parent, the largest weight at no fewer than
# {glue:text}`std_hits_min:.0f`% of the positions: it found the previous-token head of the
# construction without having the roles built in. The loss leaves the unigram level while the
# parent attention grows, as in step (2) of the sketch of {prf:ref}`thm-ch10-nichani`.
#
# (sec-ch10-full-dis)=
# ### The paper's disentangled transformer (full mode)
#
# Between the reduced model of {prf:ref}`def-ch10-model` and the standard transformer sits the
# model the paper itself trains: a disentangled transformer in which nothing is hard-wired.
#
# :::{prf:definition} Disentangled transformer (two attention-only layers)
# :label: def-ch10-full-dis
#
# The residual stream of position $i$ starts as $h^{(0)}_i = (e_{x_i}, e_i) \in \mathbb R^{N + T}$
# (token and position, one-hot, side by side). Layer $\ell \in \{1, 2\}$ has one matrix
# $A^{(\ell)}$ and *appends* its output instead of adding it:
# $h^{(\ell)}_i = \big(h^{(\ell-1)}_i,\ \sum_{j \le i} \mathrm{softmax}_{j \le i}
# (h^{(\ell-1)\top}_i A^{(\ell)} h^{(\ell-1)}_j)\, h^{(\ell-1)}_j\big)$, so
# $A^{(1)} \in \mathbb R^{(N+T) \times (N+T)}$ and $A^{(2)} \in \mathbb R^{2(N+T) \times 2(N+T)}$.
# The logits of $y$ are $W_O h^{(2)}_T$ with $W_O \in \mathbb R^{N \times 4(N+T)}$.
# :::
#
# Every score may now use tokens and positions together, layer 2 may attend from anything to
# anything, and the read-out is a trained linear map to logits, not the attention average read as
# a probability vector. This is our reading of the paper's disentangled transformer, which we
# could not check in detail (for instance whether layer 1 attends to the position itself, as here,
# and how the paper initialises and trains it); we train all three matrices jointly with Adam from
# a small random initialisation (standard deviation $0.01$), with a linear decay of the step size
# over the last $30\%$ of the steps. It runs in **full mode only** (about a minute; quick mode
# keeps its budget), at the sizes of the quick-mode experiments above ($N = 3$, $T = 32$), on the
# random tree and on the chain. The check uses the margins of the standard transformer's check
# above, unchanged: every member within $0.05$ nats of the Bayes loss, at least $75\%$ of the
# unigram-Bayes gap closed, and the largest layer-1 weight (averaged over test contexts, the
# position itself excluded) on the parent at $\ge 80\%$ of the non-root positions. (We ran one
# prototype of this cell at these sizes before writing it; the margins were not changed after.)


# %%
class FullDisentangled(nn.Module):
    """The disentangled transformer of def-ch10-full-dis: tokens (B, T) to logits (B, N)."""

    def __init__(self, n_vocab, T, init_std=0.01, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d0 = n_vocab + T  # h0_i = [e_{x_i}; e_i]
        self.n_vocab, self.T = n_vocab, T
        self.A1 = nn.Parameter(init_std * torch.randn(d0, d0, generator=g))
        self.A2 = nn.Parameter(init_std * torch.randn(2 * d0, 2 * d0, generator=g))
        self.W_O = nn.Parameter(init_std * torch.randn(n_vocab, 4 * d0, generator=g))
        self.register_buffer("causal", torch.tril(torch.ones(T, T)).bool())
        self.register_buffer("positions", torch.eye(T))

    def forward(self, x, return_attention=False):
        X = nn.functional.one_hot(x, self.n_vocab).float()
        h0 = torch.cat([X, self.positions.expand(x.shape[0], -1, -1)], -1)
        s1 = torch.einsum("bid,de,bje->bij", h0, self.A1, h0)
        a1 = torch.softmax(s1.masked_fill(~self.causal, float("-inf")), -1)
        h1 = torch.cat([h0, a1 @ h0], -1)  # layer 1 appends its output
        s2 = torch.einsum("bd,de,bje->bj", h1[:, -1], self.A2, h1)
        h2 = torch.cat([h1[:, -1], torch.einsum("bj,bjd->bd", s2.softmax(-1), h1)], -1)
        logits = h2 @ self.W_O.T  # read out at the query position
        return (logits, a1) if return_attention else logits


def train_full_dis(parents, seed, desc):
    """FD_E members of FullDisentangled on the paper's task on `parents`, trained together;
    returns per member the excess loss over Bayes, the share of the unigram-Bayes gap
    closed and the layer-1 parent hits, and member 0's mean layer-1 attention."""
    ctx, y, ref = paper_test_set(parents, M_TEST, seed=seed, n_vocab=N_FD)

    def evaluate(model):
        logits = model(ctx)  # (E, M, N)
        loss = nn.functional.cross_entropy(
            logits.flatten(0, 1), y.repeat(logits.shape[0]), reduction="none"
        )
        return {"loss": loss.view(logits.shape[0], -1).mean(1)}

    net = ensemble.stack(
        [FullDisentangled(N_FD, T_FD, seed=400 + s) for s in range(FD_E)]
    ).to(cfg.device)
    hist = train.fit(
        net,
        lambda step, g: paper_sequences(parents, BATCH, g, N_FD)[:2],
        steps=FD_STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=FD_LR,
        lr_schedule=optim.wsd(FD_STEPS, decay=0.3),
        evaluate=evaluate,
        eval_every=100,
        data_seed=seed,
        desc=desc,
    )
    gap = hist.final("loss") - ref["Bayes"]
    closed = 1 - gap / (ref["unigram"] - ref["Bayes"])
    hits, maps = [], []
    for e in range(FD_E):
        with torch.no_grad():
            a1 = net.member(e)(ctx[:2000], return_attention=True)[1].mean(0).cpu()
        maps.append(a1)
        a1 = a1[1 : T_FD - 1].clone()  # non-root positions (0-based 1..T-2)
        a1[torch.arange(T_FD - 2), torch.arange(1, T_FD - 1)] = -1.0  # exclude itself
        hits.append(
            float((a1.argmax(1) == torch.as_tensor(parents[1:])).float().mean())
        )
    return gap, closed, np.array(hits), maps[0]


if FD_STEPS:  # full mode
    tree_fd = tasks.random_tree(
        T_FD - 1, generator=torch.Generator().manual_seed(cfg.seed), last_is_chain=False
    )
    fd = {
        "random tree": (tree_fd, train_full_dis(tree_fd, cfg.seed + 110, "tree")),
        "Markov chain": (
            tasks.markov_parents(T_FD - 1),
            train_full_dis(tasks.markov_parents(T_FD - 1), cfg.seed + 120, "chain"),
        ),
    }
    for name, (_, (gap, closed, hits, _)) in fd.items():
        print(
            f"{name:12s}: excess over Bayes {gap.round(4)} nats, gap closed "
            f"{closed.round(3)}, layer-1 parent hits {hits}"
        )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, (name, (par, (_, _, _, a1))) in zip(axes, fd.items()):
        show_attention(ax, a1.numpy(), par, f"{name}: layer-1 attention (member 1)")
    axes[0].legend(loc="upper right", fontsize=7)
    plt.show()
    fd_gap = np.concatenate([r[0] for _, r in fd.values()])
    fd_closed = np.concatenate([r[1] for _, r in fd.values()])
    fd_hits = np.concatenate([r[2] for _, r in fd.values()])
    reproduce.report(
        "nichani2024transformers",
        claim="the paper's disentangled two-layer attention-only transformer, trained on "
        "the paper's task, reaches the in-context Bayes loss and its first layer attends "
        "to the parent",
        paper_value="layer-1 attention recovers the graph; loss near the in-context "
        "Bayes loss",
        value=f"excess over Bayes max {fd_gap.max():.4f} nats, gap closed min "
        f"{fd_closed.min():.3f}, parent hits min {fd_hits.min():.2f} ({FD_E} seeds x 2 "
        "graphs)",
        assertion=f"full disentangled transformer (A1, A2 on the concatenated stream, "
        f"linear read-out), joint Adam, N = {N_FD}, T = {T_FD}, random tree and chain: "
        "every member within 0.05 nats of the Monte Carlo Bayes loss, >= 75% of the "
        "unigram-Bayes gap closed, layer-1 argmax (mean over contexts) on the parent at "
        ">= 80% of non-root positions",
        passed=bool(
            (fd_gap <= 0.05).all()
            and (fd_closed >= 0.75).all()
            and (fd_hits >= 0.8).all()
        ),
        status="partly",
        section="sec-ch10-full-dis",
    )
else:
    print("quick mode: the disentangled transformer is trained in full mode only")

# %% [markdown]
# In full mode the cell prints, for each graph and member, the excess loss over the Bayes loss,
# the share of the unigram-Bayes gap closed and the layer-1 parent hits, and draws member 1's
# layer-1 attention with the parents circled; the numbers are in the chapter's record (the
# table at the end of the chapter and the book's Reproductions page). We keep them out of this
# text because the book is built in quick mode, where the cell does not train. What this run
# does not show: the paper's sample sizes and rates, larger $N$ and $T$, and graphs with several
# parents for this model.
#
# ### Two parents per position, two heads
#
# A position with two parents needs the first layer to copy two tokens, which one head can do only
# by splitting its attention (and then it cannot tell which parent held which token). We test the
# natural extension on the simplest two-parent graph, with a model that has **two heads per
# layer**.
#
# :::{prf:definition} A two-parent variant of the paper's task (ours)
# :label: def-ch10-task-two
#
# Positions $1, \dots, T - 2$ form a second-order chain: $x_1, x_2$ uniform, and for $i \ge 3$
# $x_i \sim \pi(\cdot \mid x_{i-2}, x_{i-1})$, where $\pi$ has $N^2$ rows, independent
# $\mathrm{Dir}(\alpha \mathbf 1_N)$ draws, fresh for every sequence. The two query tokens
# $x_{T-1}, x_T$ are uniform and independent of everything else, and $y \sim \pi(\cdot \mid
# x_{T-1}, x_T)$.
# :::
#
# It differs from a two-parent version of {prf:ref}`def-ch10-task-paper` in its uniform roots,
# chosen to keep the closed form: the argument of {prf:ref}`prop-ch10-bayes` applied to the rows
# indexed by pairs gives the Bayes predictor $(n_{(a,b)c} + \alpha)/(n_{(a,b)} + N\alpha)$ with
# $(a, b) = (x_{T-1}, x_T)$, counting the triples $(x_{i-2}, x_{i-1}, x_i)$ of the context. We have
# not checked what {cite}`nichani2024transformers` proves about several parents; this is an
# experiment, not a reproduction of a theorem. We train `models.Transformer` with two layers, **two
# heads** per layer, no MLP, width {glue:text}`std_width`, on $N =$ {glue:text}`n_two` and $T =$
# {glue:text}`t_two`, with next-token targets at the chain's children and $y$, as above. The
# construction's mechanism would show as one layer-1 head on $i - 1$ and the other on $i - 2$.


# %%
def two_parent_sequences(m, generator):
    """def-ch10-task-two: contexts (m, T_TWO) ending in the two query tokens, targets y (m,)."""
    N = N_TWO
    pi = tasks.dirichlet_rows((m, N * N, N), ALPHA, generator=generator)
    dev, rows = pi.device, torch.arange(m, device=pi.device)
    x = torch.randint(
        0, N, (m, T_TWO), generator=generator, device=dev
    )  # roots, queries
    u = torch.rand(m, T_TWO + 1, generator=generator, device=dev)
    draw = lambda law, col: (
        (u[:, col : col + 1] > law.cumsum(-1)).sum(-1).clamp(max=N - 1)
    )
    for i in range(2, T_TWO - 2):
        x[:, i] = draw(pi[rows, x[:, i - 2] * N + x[:, i - 1]], i)
    y = draw(pi[rows, x[:, -2] * N + x[:, -1]], T_TWO)
    return x, y


def two_parent_refs(x, y):
    """Bayes (add-alpha over the pair rows) and in-context unigram losses on y (nats)."""
    N, rows = N_TWO, torch.arange(x.shape[0], device=x.device)
    triples = (x[:, : T_TWO - 4] * N + x[:, 1 : T_TWO - 3]) * N + x[:, 2 : T_TWO - 2]
    cnt = nn.functional.one_hot(triples, N**3).sum(1).view(-1, N * N, N).float()
    r = cnt[rows, x[:, -2] * N + x[:, -1]]
    bayes = (r + ALPHA) / (r.sum(-1, keepdim=True) + N * ALPHA)
    uni = tasks.unigram_predictive(torch.cat([x, y[:, None]], 1), N, ALPHA)[:, -1]
    return {
        "Bayes": tasks.predictive_cross_entropy(bayes, y).item(),
        "unigram": tasks.predictive_cross_entropy(uni, y).item(),
    }


ctx_two, y_two = two_parent_sequences(M_TEST, cfg.generator(cfg.seed + 80))
ref_two = two_parent_refs(ctx_two, y_two)


def two_batches(step, g):
    x, y = two_parent_sequences(STD_BATCH, g)
    target = torch.full_like(x, -100)  # not counted
    target[:, 1 : T_TWO - 3] = x[
        :, 2 : T_TWO - 2
    ]  # position i predicts its child i + 1
    target[:, -1] = y
    return x, target


def two_eval(model):
    logp = model(ctx_two)[:, :, -1].log_softmax(-1)
    idx = y_two.view(1, -1, 1).expand(logp.shape[0], -1, 1)
    return {"loss": -logp.gather(-1, idx).mean((1, 2))}


two = ensemble.stack(
    [
        models.Transformer(
            N_TWO,
            d_model=STD_WIDTH,
            n_layers=2,
            n_heads=2,
            mlp=False,
            max_len=T_TWO,
            positional="learned",
            seed=cfg.seed + 90 + s,
        )
        for s in range(E_TWO)
    ]
).to(cfg.device)
two_hist = train.fit(
    two,
    two_batches,
    steps=STEPS_TWO,
    loss="cross_entropy",
    optimizer="adam",
    lr=3e-3,
    evaluate=two_eval,
    eval_every=250,
    data_seed=cfg.seed + 91,
    desc="two parents, two heads",
)

# %%
with torch.no_grad():
    _, two_maps = two(ctx_two, return_attention=True)
two_a1 = two_maps[0].mean(1).cpu()  # (E, 2 heads, T, T) layer-1 attention
i2 = torch.arange(2, T_TWO - 2)  # positions with two parents (0-based)
top = two_a1[:, :, i2].argmax(-1)  # (E, 2, positions): each head's favourite key
both_covered = (
    (
        ((top[:, 0] == i2 - 1) & (top[:, 1] == i2 - 2))
        | ((top[:, 0] == i2 - 2) & (top[:, 1] == i2 - 1))
    )
    .float()
    .mean(1)
    .numpy()
)  # the two heads sit on the two parents, one each
two_gap = two_hist.final("loss") - ref_two["Bayes"]
two_closed = 1 - two_gap / (ref_two["unigram"] - ref_two["Bayes"])
print(
    f"two parents, two heads, {STEPS_TWO} steps: loss on y "
    f"{two_hist.final('loss').round(4)} (Bayes {ref_two['Bayes']:.4f}, unigram "
    f"{ref_two['unigram']:.4f}); gap closed {(100 * two_closed).round(0)}%; heads on the "
    f"two parents at {(100 * both_covered).round(0)}% of positions"
)
notebook.glue("n_two", N_TWO)
notebook.glue("t_two", T_TWO)
notebook.glue("two_gap_max", float(two_gap.max()))
notebook.glue("two_closed_min", 100 * float(two_closed.min()))
notebook.glue("two_cover_min", 100 * float(both_covered.min()))

fig, axes = plt.subplots(1, 3, figsize=(13, 4.0))
axes[0].plot(two_hist.step_array, two_hist["loss"], color=plotting.COLORS[0], lw=1)
axes[0].plot([], [], color=plotting.COLORS[0], label="two-head transformer (each)")
axes[0].axhline(
    ref_two["unigram"], color=plotting.COLORS[1], ls="--", label="in-context unigram"
)
axes[0].axhline(ref_two["Bayes"], color="black", ls=":", label="Bayes optimal")
axes[0].set(
    xlabel="steps",
    ylabel="test log-loss on y (nats)",
    title="Two parents: the loss drops to the Bayes loss",
)
axes[0].title.set_fontsize(9)
axes[0].legend(fontsize=8)
for h in range(2):
    im = axes[1 + h].imshow(two_a1[0, h].numpy(), cmap="Blues", vmin=0, vmax=1)
    axes[1 + h].grid(False)
    for lag, mk in [(1, "o"), (2, "s")]:
        axes[1 + h].scatter(
            (i2 - lag).numpy(),
            i2.numpy(),
            s=10,
            marker=mk,
            facecolors="none",
            edgecolors="red",
            lw=0.6,
            label=f"parent i - {lag}",
        )
    axes[1 + h].set(
        xlabel="key position k",
        ylabel="query position i",
        title=f"member 1, layer-1 head {h + 1}",
    )
    axes[1 + h].title.set_fontsize(9)
axes[1].legend(loc="upper right", fontsize=7)
fig.colorbar(im, ax=axes[1:], shrink=0.8, label="attention weight")
plt.show()

# %% [markdown]
# Every two-head model ends at most {glue:text}`two_gap_max:.4f` nats above the Bayes loss (at
# least {glue:text}`two_closed_min:.0f`% of the unigram-Bayes gap closed), and its two layer-1
# heads have split the parents, one head on $i - 1$ and the other on $i - 2$, at no fewer than
# {glue:text}`two_cover_min:.0f`% of the positions: with two heads, the first layer copies both
# parents, one per head.
#
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("10_causal_structure")

# %% [markdown]
# (sec-ch10-scb)=
# ## Sparse contextual bigrams and transfer
#
# The second paper isolates the "which positions matter" part of the problem in a one-layer model.


# %% [markdown]
# :::{prf:definition} Sparse contextual bigram
# :label: def-ch10-scb
#
# Fix $N$ tokens, $T$ positions, a transition matrix $P \in \mathbb R^{N \times N}$ (rows are laws) and,
# for every token $v$, a law $q_v$ on the positions $[T]$ supported on at most $Q$ of them. A sample is
# a context $x_{1:T}$ of uniform tokens and a next token $y$ drawn by picking a position
# $s \sim q_{x_T}$ and then $y \sim P(\cdot \mid x_s)$. So
# $\Pr[y \mid x] = \sum_{s} q_{x_T}(s)\, P(y \mid x_s)$: the last token decides *where* to look (a
# contextual, sparse choice), the fixed matrix $P$ says *what* follows (global knowledge)
# {cite}`ren2024sparse`.
# :::
#
# A one-layer **linear** transformer (attention without softmax) with the last token as query,
# position embeddings as keys and token embeddings as values represents it:
# $f_{W,V}(x) = V^\top m_W(x)$ with $m_W(x) = \sum_{s=1}^T W_{x_T s}\, e_{x_s}$, where
# $W \in \mathbb R^{N \times T}$ holds the attention scores and $V \in \mathbb R^{N \times N}$ the
# values. With $W_{v s} = q_v(s)$ and $V = P$ it outputs $\Pr[y \mid x]$ exactly. We train it on the
# square loss $\|f_{W,V}(x) - e_y\|^2$, whose population version is
# $\mathbb E\|f_{W,V}(x) - \Pr[\cdot \mid x]\|^2$ plus a constant.


# %% [markdown]
# :::{prf:proposition} A saddle at zero, and a convex problem once the attention is known
# :label: prop-ch10-scb
#
# Let $R(W, V) = \mathbb E\|f_{W,V}(x) - e_y\|^2$. (a) $\nabla R(0, 0) = 0$: small initialisations
# start near a critical point, and near it the gradients of $W$ and $V$ are each proportional to the
# other's size. (b) For fixed $W$, $R$ is a convex quadratic in $V$; if $W_{v s} = q_v(s)$ and the
# matrix $M = \mathbb E[m_W(x) m_W(x)^\top]$ is invertible, its unique minimiser is $V = P$.
# :::


# %% [markdown]
# :::{prf:proof}
# (a) $f$ is bilinear in $(W, V)$, so $\nabla_V R = 2\,\mathbb E[m_W(x)(f - e_y)^\top]$ vanishes when
# $W = 0$ (then $m_W = 0$) and $\nabla_W R$ is linear in $V$ and vanishes when $V = 0$. (b) For
# fixed $W$, $f$ is linear in $V$, so $R$ is a convex quadratic with Hessian $2\,M \otimes I_N$,
# positive definite when $M$ is invertible. With $W = q$, $V^\top m_q(x) = \Pr[\cdot \mid x]$ at
# $V = P$, where the gradient
# $2\,\mathbb E[m_q(x) (P^\top m_q(x) - e_y)^\top] = 2\,\mathbb E[m_q(x) (P^\top m_q(x) - \mathbb E[e_y \mid x])^\top] = 0$
# vanishes; a convex function with a positive definite Hessian has one critical point.
# :::


# %% [markdown]
# :::{prf:theorem} Learning and transferring sparse contextual bigrams (Ren, Wang, Lee 2024; informal)
# :label: thm-ch10-ren
#
# For the sparse contextual bigram with $N$ tokens, $T$ positions and sparsity $Q$, the one-layer
# linear transformer trained from a small initialisation on the **$\ell_1$-regularised** square
# loss by **preconditioned projected proximal descent** converges to the ground truth
# $(W, V) = (q, P)$, and training has two stages: an initial *sample-intensive* stage, in which the
# correlation of the attention with $q$ is boosted from near zero to a constant, using
# $\mathrm{poly}(T)$ samples, followed by a *sample-efficient* stage that needs only
# $\mathrm{poly}(N, Q)$ samples, independent of $T$. If the model is instead initialised from one
# pretrained on a task whose attention pattern has a nontrivial correlation with the downstream $q$,
# fine-tuning skips the first stage. The paper also reports, empirically, that its methods converge
# with a small batch size while *unregularised* SGD fails there because of the variance of its
# gradients.
#
# *Status.* The algorithm, the two stages and their $\mathrm{poly}(T)$ and $\mathrm{poly}(N, Q)$
# sample sizes are from the paper's own list of contributions; we could not check the exponents,
# the exact conditions on $q$ and $P$, or the form of the preconditioner, and we state none. The
# method this chapter runs, {prf:ref}`alg-ch10-prox`, is a labelled variant: a simplex projection
# (an $\ell_1$ soft threshold with an adaptive level) in place of a fixed $\ell_1$ penalty with
# a projection, a scalar preconditioner and decaying step sizes of our choosing.
# {ref}`sec-ch10-sweep` measures how its two stages grow with $T$. With the best step size, the
# first grows at least like $\sqrt T$ over the $T$ measured; the $\mathrm{poly}(T)$ above is an
# upper bound, which such a slope neither confirms nor falsifies. In our variant, with our
# recovery criterion (which itself depends on $T$), the second stage also grows with $T$.
# :::


# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* Near the origin, {prf:ref}`prop-ch10-scb`(a) makes the dynamics approximately
# linear in the product of the two small factors: the signal that aligns $W$ with $q$ is weak (each
# position carries a $1/T$ share of the dependence) while the sampling noise is not, so the first
# stage needs many samples to resolve it. Once $W$ has a constant correlation with $q$, the problem
# is close to the convex regression of {prf:ref}`prop-ch10-scb`(b) together with the estimation of
# the sparse $q$, which converge fast with few samples. A pretrained $W$ starts in that second
# regime. Skipped: the concentration of the preconditioned gradients, the way the sparsity of $q$ is
# exploited (the $\ell_1$ penalty and the proximal step, which is why the second stage's sample
# size need not grow with $T$), and every rate and constant, which we do not reproduce; see the
# paper. Our transfer experiment below uses plain SGD with batches of a few dozen sequences and a
# short context (the sizes are in the settings cell), and there it converges. This does not
# contradict the paper's report that unregularised SGD fails, which is about small batches: that
# comparison is run afterwards, with a labelled variant of the paper's method
# ({prf:ref}`alg-ch10-prox`), in {ref}`sec-ch10-prox`.
# :::
#
# We train three runs, each with an ensemble of members: **pretraining** from scratch on a task
# $(q, P_{\mathrm{pre}})$; **fine-tuning** on a downstream task $(q, P_{\mathrm{down}})$ with the same
# positions (the correlation-one case of the theorem's hypothesis; transfer from partly
# correlated patterns is run in {ref}`sec-ch10-prox`) but a new transition matrix, starting from
# the pretrained $W$ and a fresh small $V$;
# and **from scratch** on the downstream task. The error is measured relative to the best predictor
# that ignores the context, $\mathbb E\|f - \Pr[\cdot \mid x]\|^2 / \mathbb E\|\bar p - \Pr[\cdot \mid x]\|^2$ with
# $\bar p$ the average of $\Pr[\cdot \mid x]$: a value near $1$ means the model has only learned the
# token frequencies.


# %%
class LinearTransformer(nn.Module):
    """One-layer linear attention: query = last token, keys = positions, values = tokens; f = V^T m_W(x)."""

    def __init__(self, n_vocab, T, init_std=1e-3, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.n_vocab = n_vocab
        self.W = nn.Parameter(
            init_std * torch.randn(n_vocab, T, generator=g)
        )  # attention scores
        self.V = nn.Parameter(
            init_std * torch.randn(n_vocab, n_vocab, generator=g)
        )  # values

    def forward(self, x):
        X = nn.functional.one_hot(x, self.n_vocab).float()
        m = torch.einsum(
            "bs,bsn->bn", self.W[x[:, -1]], X
        )  # m_W(x) = sum_s W[x_T, s] e_{x_s}
        return m @ self.V


def square_loss(out, y):
    """Mean ||f - e_y||^2 per member, for outputs (E, B, N) and tokens (B,)."""
    return (
        ((out - nn.functional.one_hot(y, out.shape[-1]).float()) ** 2).sum(-1).mean(-1)
    )


LR_SCB = 0.1
pre_task = tasks.SparseContextualBigram.random(
    N_SCB, T_SCB, Q_SCB, alpha=0.1, seed=cfg.seed + 1
)
g_down = torch.Generator().manual_seed(cfg.seed + 2)
P_down = tasks.dirichlet_rows((N_SCB, N_SCB), 0.1, generator=g_down)
down_task = tasks.SparseContextualBigram(pre_task.q, P_down)
x_scb = torch.randint(
    0, N_SCB, (M_TEST, T_SCB), generator=cfg.generator(6), device=cfg.device
)


def relative_error(task):
    p = task.conditional(x_scb)
    scale = ((p - p.mean(0)) ** 2).sum(-1).mean()
    return lambda model: {"rel_err": ((model(x_scb) - p) ** 2).sum(-1).mean(-1) / scale}


def scb_batches(task):
    return lambda step, g: task.sample(BATCH, generator=g)


def fit_scb(modules, task, seed, desc):
    net = ensemble.stack(modules).to(cfg.device)
    h = train.fit(
        net,
        scb_batches(task),
        steps=STEPS_SCB,
        loss=square_loss,
        lr=LR_SCB,
        evaluate=relative_error(task),
        eval_every=20,
        data_seed=seed,
        desc=desc,
    )
    return net, h


net_pre, h_pre = fit_scb(
    [LinearTransformer(N_SCB, T_SCB, seed=s) for s in range(E_SEEDS)],
    pre_task,
    cfg.seed + 30,
    "pretrain",
)
finetuned = [net_pre.member(e).cpu() for e in range(E_SEEDS)]
for e, mdl in enumerate(finetuned):  # keep W, start V afresh
    with torch.no_grad():
        mdl.V.copy_(
            1e-3
            * torch.randn(
                N_SCB, N_SCB, generator=torch.Generator().manual_seed(200 + e)
            )
        )
net_ft, h_ft = fit_scb(finetuned, down_task, cfg.seed + 40, "fine-tune")
net_scr, h_scr = fit_scb(
    [LinearTransformer(N_SCB, T_SCB, seed=50 + s) for s in range(E_SEEDS)],
    down_task,
    cfg.seed + 40,
    "from scratch",
)


# %%
def first_step_below(h, level):
    """Per member: the first evaluation step at which the relative error is below level (inf if never)."""
    below = h["rel_err"] < level
    return np.where(below.any(0), h.step_array[below.argmax(0)], np.inf)


LEVEL = 0.1
t_ft, t_scr = first_step_below(h_ft, LEVEL), first_step_below(h_scr, LEVEL)
support_hits = []
for e in range(E_SEEDS):
    W = net_pre.member(e).W.detach().abs().cpu()
    top = W.topk(Q_SCB, dim=1).indices.sort(1).values
    true = (pre_task.q > 0).float().topk(Q_SCB, dim=1).indices.sort(1).values
    support_hits.append(float((top == true).all(1).float().mean()))
print(
    "steps to relative error <", LEVEL, "| fine-tuned:", t_ft, "| from scratch:", t_scr
)
print(
    "pretrained W: fraction of tokens whose top-Q positions are the support of q_v:",
    support_hits,
)
notebook.glue("t_ft_max", float(t_ft.max()))
notebook.glue("t_scr_min", float(t_scr.min()))
notebook.glue("scb_level", LEVEL)

fig, ax = plt.subplots(figsize=(7, 3.8))
for h, c, name in [
    (h_pre, "gray", "pretraining (from scratch)"),
    (h_scr, plotting.COLORS[1], "downstream, from scratch"),
    (h_ft, plotting.COLORS[0], "downstream, fine-tuned from pretraining"),
]:
    ax.plot(h.step_array, h["rel_err"], color=c, lw=1)
    ax.plot([], [], color=c, label=name)
ax.axhline(1.0, color="black", ls=":", lw=1, label="context-free predictor")
ax.set(
    xlabel="steps",
    ylabel="relative error",
    yscale="log",
    title="From scratch: two plateaus. Fine-tuned: no plateau",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# From scratch, the error first sits at its initial value (the saddle at zero), then falls to about
# $1$, the level of a predictor that knows the token frequencies but not where to look, and stays
# there while the attention slowly aligns with $q$: this is the sample-intensive stage of
# {prf:ref}`thm-ch10-ren`. Fine-tuned from the pretrained attention, the model only has to learn
# the new values, the convex problem of {prf:ref}`prop-ch10-scb`(b), and every member is below a
# relative error of {glue:text}`scb_level` by step {glue:text}`t_ft_max:.0f`, while no member trained
# from scratch gets there before step {glue:text}`t_scr_min:.0f`. How the stages' sample sizes
# grow with $T$ is measured in {ref}`sec-ch10-sweep`.

# %% [markdown]
# (sec-ch10-prox)=
# ### The paper's method against plain SGD, with small batches
#
# The paper's comparison is between its own algorithm and plain SGD at a small batch size. We
# could not check the paper's constraint set, the weight of its $\ell_1$ penalty or the form of
# its preconditioner, so we run a variant of the same three ingredients, and label it as such.

# %% [markdown]
# :::{prf:algorithm} Preconditioned projected SGD (this chapter's variant)
# :label: alg-ch10-prox
#
# Start from uniform attention $W_{v s} = 1/T$ and $V = 0$. At step $t$, draw a batch of $B$
# sequences, compute the stochastic gradients $g_W, g_V$ of the square loss and set
#
# $$
# W \leftarrow \Pi_\Delta\!\big(W - \eta_W(t)\, N\, g_W\big), \qquad
# V \leftarrow V - \eta_V(t)\, g_V,
# $$
#
# where $\Pi_\Delta$ projects every row of $W$ onto the probability simplex of $\mathbb R^T$, the
# factor $N$ preconditions $W$ (row $v$ only receives the sequences whose last token is $v$, a
# $1/N$ share), and the step sizes decay as $\eta_W(t) = \eta / (1 + t/300)$ and
# $\eta_V(t) = \eta / (1 + t/3000)$. **Plain SGD** is the same loop without $\Pi_\Delta$, with
# the same batches and step sizes (and, a second time, with steps ten times smaller).
# :::
#
# The projection is where the $\ell_1$ penalty enters. For a row $z$, $\Pi_\Delta(z)_s =
# \max(z_s - \tau, 0)$ with the $\tau$ that makes the row sum to one: a **soft threshold**, which
# is the proximal step of $\tau\|w\|_1$ restricted to $w \ge 0$. So each step of
# {prf:ref}`alg-ch10-prox` is a proximal $\ell_1$ step whose threshold is set by the constraint:
# it zeroes the many positions whose weight is only sampling noise, which plain SGD keeps and
# accumulates. What differs from the paper: the threshold is adaptive rather than a fixed
# penalty weight, the preconditioner is the scalar $N$, and the step sizes decay on a schedule we
# chose.


# %%
def project_simplex(W):
    """Euclidean projection of every row of W (..., T) onto the probability simplex."""
    u = W.sort(-1, descending=True).values
    css = u.cumsum(-1) - 1
    k = torch.arange(1, W.shape[-1] + 1, dtype=W.dtype, device=W.device)
    rho = ((u - css / k) > 0).float().cumsum(-1).argmax(-1, keepdim=True)
    return (W - css.gather(-1, rho) / (rho + 1).to(W.dtype)).clamp_min(0)


def recovery(task, W, V):
    """Per member: the share of |W| on the support of q, and ||c V - P|| / ||P||
    with c the mean row sum of W (the one rescaling f = V^T m_W leaves free)."""
    support = (task.q > 0).float().to(W.device)
    A = W.abs()
    mass = ((A * support).sum(-1) / A.sum(-1).clamp_min(1e-12)).mean(-1)
    c = W.sum(-1).mean(-1)
    P = task.P.to(W.device)
    t_err = (c[:, None, None] * V - P).norm(dim=(1, 2)) / P.norm()
    return mass.cpu().numpy(), t_err.cpu().numpy()


def train_scb_members(task, lr, projected, seed, desc, W0=None):
    """E_PROX members (one data stream each) of the model f = V^T m_W, trained together
    by preconditioned SGD, with or without the simplex projection of the rows of W;
    W starts uniform (or at W0, (E_PROX, N, T)), V at zero."""
    N, T = task.N, task.T
    W = torch.full((E_PROX, N, T), 1.0 / T, device=cfg.device)
    W = (W if W0 is None else W0.clone()).requires_grad_()
    V = torch.zeros(E_PROX, N, N, device=cfg.device, requires_grad=True)
    g = cfg.generator(seed)
    hist = {"step": [], "mass": [], "t_err": []}
    for t in runtime.progress(range(STEPS_PROX + 1), desc, steps=True):
        if t % 50 == 0:
            with torch.no_grad():
                mass, t_err = recovery(task, W, V)
            (
                hist["step"].append(t),
                hist["mass"].append(mass),
                hist["t_err"].append(t_err),
            )
        x, y = task.sample(E_PROX * B_PROX, generator=g)
        x, y = x.view(E_PROX, B_PROX, T), y.view(E_PROX, B_PROX)
        X = nn.functional.one_hot(x, N).float()
        m = torch.einsum(
            "ebs,ebsn->ebn", torch.gather(W, 1, x[:, :, -1:].expand(-1, -1, T)), X
        )
        out = torch.einsum("ebn,enk->ebk", m, V)
        loss = ((out - nn.functional.one_hot(y, N).float()) ** 2).sum(-1).mean(-1).sum()
        g_W, g_V = torch.autograd.grad(loss, (W, V))
        with torch.no_grad():
            W -= lr / (1 + t / 300) * N * g_W
            V -= lr / (1 + t / 3000) * g_V
            if projected:
                W.copy_(project_simplex(W))
    with torch.no_grad():
        mass, t_err = recovery(task, W, V)
    return (
        mass,
        t_err,
        {k: np.array(v) for k, v in hist.items()},
        W.detach(),
        V.detach(),
    )


prox_task = tasks.SparseContextualBigram.random(
    N_PROX, T_PROX, Q_PROX, alpha=0.1, seed=cfg.seed + 1
)
runs_prox = {
    "projected (alg.)": train_scb_members(prox_task, LR_PROX, True, 30, "projected"),
    "plain SGD": train_scb_members(prox_task, LR_PROX, False, 30, "plain SGD"),
    "plain SGD, steps / 10": train_scb_members(
        prox_task, LR_PROX / 10, False, 30, "plain SGD, small steps"
    ),
}
MASS_MIN, T_ERR_MAX = 0.9, 0.3  # recovery: fixed before the runs
x_prox = prox_task.sample(M_TEST, generator=cfg.generator(7))[0]
p_prox = prox_task.conditional(x_prox)


def prediction_error(W, V):
    """Per member: E||f - p(.|x)||^2 / E||p_bar - p(.|x)||^2 on the test contexts."""
    X = nn.functional.one_hot(x_prox, N_PROX).float()
    out = torch.einsum("ebs,bsn->ebn", W[:, x_prox[:, -1]], X) @ V
    scale = ((p_prox - p_prox.mean(0)) ** 2).sum(-1).mean()
    return (((out - p_prox) ** 2).sum(-1).mean(-1) / scale).cpu().numpy()


recovered = {
    name: (mass >= MASS_MIN) & (t_err <= T_ERR_MAX)
    for name, (mass, t_err, _, _, _) in runs_prox.items()
}
for name, (mass, t_err, _, _, _) in runs_prox.items():
    print(
        f"{name:22s} support mass {mass.min():.3f}..{mass.max():.3f}  transition error "
        f"{t_err.min():.3f}..{t_err.max():.3f}  recovered {int(recovered[name].sum())}"
        f"/{E_PROX}"
    )
mass_p, terr_p, _, W_prox, V_prox = runs_prox["projected (alg.)"]
mass_s, terr_s, _, W_sgd, V_sgd = runs_prox["plain SGD"]
pred_p, pred_s = prediction_error(W_prox, V_prox), prediction_error(W_sgd, V_sgd)
print(
    "relative prediction error: projected",
    pred_p.round(3),
    "| plain SGD",
    pred_s.round(3),
)
notebook.glue("prox_pred_max", float(pred_p.max()))
notebook.glue("sgd_pred_max", float(pred_s.max()))
notebook.glue("prox_mass_min", float(mass_p.min()))
notebook.glue("prox_terr_max", float(terr_p.max()))
notebook.glue("sgd_mass_max", float(mass_s.max()))
notebook.glue("sgd_terr_min", float(terr_s.min()))
notebook.glue("prox_samples", STEPS_PROX * B_PROX)
notebook.glue("B_prox", B_PROX)
notebook.glue("T_prox", T_PROX)
mean_mass_p = runs_prox["projected (alg.)"][2]["mass"].mean(1)
notebook.glue("prox_mass_peak", float(mean_mass_p.max()))
notebook.glue("prox_mass_end", float(mass_p.mean()))
notebook.glue("mass_min", MASS_MIN)
notebook.glue("terr_max", T_ERR_MAX)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for (name, (_, _, h, _, _)), c in zip(runs_prox.items(), plotting.COLORS):
    for ax, key in zip(axes, ["mass", "t_err"]):
        ax.plot(h["step"] * B_PROX, h[key], color=c, lw=0.8)
        ax.plot([], [], color=c, label=name)
axes[0].axhline(MASS_MIN, color="black", ls=":", lw=1, label="recovery threshold")
axes[1].axhline(T_ERR_MAX, color="black", ls=":", lw=1)
axes[0].set(
    xlabel="samples seen",
    ylabel="share of |W| on the true Q positions",
    title="Only the projected method puts the attention on q",
)
axes[1].set(
    xlabel="samples seen",
    ylabel=r"$\|cV - P\|_F / \|P\|_F$",
    yscale="log",
    title="Transition matrix: small steps are too slow",
)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# With batches of {glue:text}`B_prox` sequences and {glue:text}`prox_samples` samples in all,
# every member of the projected method recovers the sparse contextual bigram by the criterion
# fixed before the runs (at least {glue:text}`mass_min` of the attention weight on the true
# $Q$ positions and a transition error at most {glue:text}`terr_max`): its worst member puts
# {glue:text}`prox_mass_min:.3f` of the weight on the support, with a transition error of at most
# {glue:text}`prox_terr_max:.3f`. Plain SGD with the same batches and step sizes puts at most
# {glue:text}`sgd_mass_max:.3f` of the weight there: it keeps a little weight on each of the
# $T - Q$ wrong positions, which is its sampling noise; with steps ten times smaller the noise is
# smaller but training has barely left its start. This is the paper's comparison (high variance
# with large steps, slow progress with small ones), in a variant of its algorithm and at one
# small size. Three things it does not show. First, plain SGD still *predicts* well at this
# size: its relative prediction error (as defined for the transfer runs above) is at most
# {glue:text}`sgd_pred_max:.3f`, the projected method's at most {glue:text}`prox_pred_max:.3f`;
# the advantage we measure is in recovering the parameters, not in the prediction. Second, with our step sizes the projected
# method's support mass need not grow monotonically: the criterion is checked at the step count
# of the settings cell, and nothing here guarantees it at every later step (the mean support
# mass reaches {glue:text}`prox_mass_peak:.3f` during the run and ends it at
# {glue:text}`prox_mass_end:.3f`; see the left panel). Third, this is one size, $T =$
# {glue:text}`T_prox`; how the sample sizes grow with $T$ is measured in
# {ref}`sec-ch10-sweep`.
#
# ### Transfer with a partly correlated pattern
#
# The theorem's transfer hypothesis is a *nontrivial correlation* between the pretraining and the
# downstream attention patterns. We take the projected method's trained $W$ above as the
# pretrained attention and build three downstream tasks with a new transition matrix and, for
# every token $v$, a support that shares $k \in \{0, 1, Q\}$ of its $Q$ positions with the
# pretraining one: the correlation $\langle q^{\mathrm{pre}}_v, q^{\mathrm{down}}_v\rangle /
# (\|q^{\mathrm{pre}}_v\| \|q^{\mathrm{down}}_v\|)$ is $k/Q$. Each is learned by
# {prf:ref}`alg-ch10-prox` from the pretrained $W$ (and $V = 0$), and, for comparison, from
# scratch; we count the samples until the recovery criterion above first holds. The comparison
# fixed before the runs: every member fine-tuned at correlation $1$ recovers before every member
# at correlation $1/2$, and every member at correlation $1/2$ before every member trained from
# scratch.


# %%
def downstream_task(overlap, seed):
    """q_down_v keeps `overlap` of the Q support positions of q_pre_v; a new P."""
    g = torch.Generator().manual_seed(seed)
    q = torch.zeros(N_PROX, T_PROX)
    for v in range(N_PROX):
        keep = prox_task.q[v].nonzero().flatten().tolist()
        fresh = [
            s for s in torch.randperm(T_PROX, generator=g).tolist() if s not in keep
        ]
        q[v, keep[:overlap] + fresh[: Q_PROX - overlap]] = 1.0 / Q_PROX
    return tasks.SparseContextualBigram(
        q, tasks.dirichlet_rows((N_PROX,) * 2, 0.1, generator=g)
    )


def samples_to_recovery(h):
    """Per member: samples seen at the first evaluation meeting the criterion (inf if never)."""
    ok = (h["mass"] >= MASS_MIN) & (h["t_err"] <= T_ERR_MAX)
    return np.where(ok.any(0), h["step"][ok.argmax(0)] * B_PROX, np.inf)


transfer = {}
for k in runtime.progress([0, 1, Q_PROX], "overlaps"):
    down = downstream_task(k, cfg.seed + 60)
    h = train_scb_members(
        down, LR_PROX, True, 40, f"fine-tune, overlap {k}", W0=W_prox
    )[2]
    transfer[f"corr. {k}/{Q_PROX}"] = samples_to_recovery(h)
h = train_scb_members(down, LR_PROX, True, 40, "from scratch")[2]
transfer["from scratch"] = samples_to_recovery(h)
for name, n in transfer.items():
    print(f"{name:13s} samples to recovery: {n}")
n_full, n_half = transfer[f"corr. {Q_PROX}/{Q_PROX}"], transfer[f"corr. 1/{Q_PROX}"]
n_zero, n_scr = transfer[f"corr. 0/{Q_PROX}"], transfer["from scratch"]
for key, n in [("n_full", n_full), ("n_half", n_half), ("n_scr", n_scr)]:
    notebook.glue(key + "_mean", float(n.mean()))
notebook.glue("n_zero_never", int(np.isinf(n_zero).sum()))
notebook.glue("E_prox", E_PROX)

fig, ax = plt.subplots(figsize=(7, 3.2))
for i, (name, n) in enumerate(transfer.items()):
    finite = np.isfinite(n)
    ax.scatter(n[finite], [i] * int(finite.sum()), color=plotting.COLORS[0], s=18)
    if (~finite).any():
        ax.annotate(
            f"{int((~finite).sum())} never", (STEPS_PROX * B_PROX, i), fontsize=8
        )
ax.set(
    yticks=range(len(transfer)),
    yticklabels=list(transfer),
    xlabel="samples until recovery (one dot per member)",
    xlim=(0, STEPS_PROX * B_PROX * 1.15),
    title="The more the patterns overlap, the sooner fine-tuning recovers",
)
plt.show()

# %% [markdown]
# On average, fine-tuning recovers the downstream task after {glue:text}`n_full_mean:.0f`
# samples at correlation $1$ and {glue:text}`n_half_mean:.0f` at correlation $1/2$, against
# {glue:text}`n_scr_mean:.0f` from scratch: the transfer advantage grows with the correlation,
# as the theorem's hypothesis suggests. At correlation $0$, {glue:text}`n_zero_never` of
# {glue:text}`E_prox` members do not recover within the run at all: a pretrained attention that
# points at the wrong positions is no help, and the theorem's hypothesis excludes this case.
# These are single runs of our variant at one size, with one pretrained model; the paper's
# statement is about the rates.
#
# (sec-ch10-sweep)=
# ### How the two stages scale with the context length
#
# {prf:ref}`thm-ch10-ren` says how the sample sizes of the two stages grow: $\mathrm{poly}(T)$
# for the first, independent of $T$ for the second. We measure both for
# {prf:ref}`alg-ch10-prox` on $T \in$ {glue:text}`sweep_T_list`, with $N$, $Q$ and the batch
# of the comparison above. A first attempt ran the decaying schedule of
# {prf:ref}`alg-ch10-prox`, tuned at $T = 32$, at larger $T$, and it did not recover at
# $T = 64$ and $128$ within its budget: a schedule tuned at one $T$ measures the schedule, not
# the sample complexity. So here the step size is chosen at each $T$ by a rule stated before
# the runs.
#
# - **Two targets, two starts.** *Stage 1*: from uniform attention $W_{vs} = 1/T$ and $V = 0$,
#   the samples until the attention puts half its weight on the support of $q$ (mean over
#   tokens; it starts at $Q/T$). *Stage 2*: from $W = \tfrac12 q + \tfrac12 \cdot
#   \mathrm{uniform}$ (a constant correlation, as after stage 1 or a transfer) and $V = 0$, the
#   samples until the recovery criterion of the comparison above holds.
# - **The rule.** {prf:ref}`alg-ch10-prox` with a *constant* step size $\eta$ (the same for
#   $W$ and $V$), for every $\eta$ on a fixed grid $0.00125 \cdot 2^k$, $k = 0, \dots, 10$,
#   with {glue:text}`sweep_E` data streams each. The samples needed at $T$ are those of the
#   step size whose *slowest* stream meets the target first; we report its streams' range. A
#   step size at either end of the grid would make that an upper bound only, so we check that
#   it is inside.
# - **The comparison** (fixed after a prototype run of this same sweep, as are the grid, the
#   targets and the starts): the slope of $\log(\text{samples})$ against $\log T$ of stage 1,
#   fitted per stream, is at least $0.5$ for every stream, i.e. with the best step size,
#   stage 1 grows at least like $\sqrt T$ over the $T$ measured. The paper's
#   $\mathrm{poly}(T)$ is an upper bound, which such a slope neither confirms nor
#   falsifies. For stage 2 we assert nothing: the paper predicts no growth, and we report what
#   we measure. We also record stage 1 at one step size held fixed across $T$,
#   $\eta =$ {glue:text}`lr_ref`.


# %%
def sweep_run(task, W0, target, seed, desc):
    """Algorithm alg-ch10-prox with constant steps: every step size of SWEEP_LR, SWEEP_E
    data streams each, all from (W0, V = 0). Stops once every stream of one step size
    meets `target` ("half": support mass >= 1/2; "recovered": the recovery criterion),
    and for "half" those of LR_REF too. Returns the samples of each member at its first
    hit, (len(SWEEP_LR), SWEEP_E) (inf where none within the cap)."""
    N, T = task.N, task.T
    lr = torch.tensor(SWEEP_LR).repeat_interleave(SWEEP_E)[:, None, None]
    W = W0.to(cfg.device).expand(len(lr), N, T).clone().requires_grad_()
    V = torch.zeros(len(lr), N, N, device=cfg.device, requires_grad=True)
    lr, g = lr.to(cfg.device), cfg.generator(seed)
    hit = torch.full((len(lr),), float("inf"))
    for t in runtime.progress(range(SWEEP_STEPS + 1), desc, steps=True):
        if t % SWEEP_EVERY == 0:
            with torch.no_grad():
                mass, t_err = (torch.as_tensor(a) for a in recovery(task, W, V))
            if target == "half":
                ok = mass >= 0.5
            else:
                ok = (mass >= MASS_MIN) & (t_err <= T_ERR_MAX)
            hit = torch.where(ok & hit.isinf(), float(t * B_PROX), hit)
            done = hit.isfinite().view(len(SWEEP_LR), SWEEP_E).all(1)
            if done.any() and (target != "half" or done[SWEEP_LR.index(LR_REF)]):
                break
        x, y = task.sample(len(lr) * B_PROX, generator=g)
        x, y = x.view(len(lr), B_PROX, T), y.view(len(lr), B_PROX)
        X = nn.functional.one_hot(x, N).float()
        m = torch.einsum(
            "ebs,ebsn->ebn", torch.gather(W, 1, x[:, :, -1:].expand(-1, -1, T)), X
        )
        out = torch.einsum("ebn,enk->ebk", m, V)
        loss = ((out - nn.functional.one_hot(y, N).float()) ** 2).sum(-1).mean(-1).sum()
        g_W, g_V = torch.autograd.grad(loss, (W, V))
        with torch.no_grad():
            W -= lr * N * g_W
            V -= lr * g_V
            W.copy_(project_simplex(W))
    return hit.view(len(SWEEP_LR), SWEEP_E).numpy()


def best_of_grid(hits):
    """The rule fixed before the runs: the step size whose slowest stream hits first;
    its index and its streams' samples."""
    i = int(np.argmin(hits.max(1)))
    return i, hits[i]


sweep = {"stage 1": [], "stage 2": [], "stage 1, fixed step": [], "best": []}
for T in SWEEP_T:
    task = tasks.SparseContextualBigram.random(
        N_PROX, T, Q_PROX, alpha=0.1, seed=cfg.seed + 70 + T
    )
    uniform = torch.full((N_PROX, T), 1.0 / T)
    h1 = sweep_run(task, uniform, "half", cfg.seed + 80 + T, f"stage 1, T = {T}")
    h2 = sweep_run(
        task,
        0.5 * task.q + 0.5 * uniform,
        "recovered",
        cfg.seed + 90 + T,
        f"stage 2, T = {T}",
    )
    (i1, n1), (i2, n2) = best_of_grid(h1), best_of_grid(h2)
    sweep["stage 1"].append(n1)
    sweep["stage 2"].append(n2)
    sweep["stage 1, fixed step"].append(h1[SWEEP_LR.index(LR_REF)])
    sweep["best"].append((i1, i2))
    print(
        f"T = {T:3d}: stage 1 {n1.min():.0f}..{n1.max():.0f} samples "
        f"(step {SWEEP_LR[i1]:g}), at step {LR_REF:g} {h1[SWEEP_LR.index(LR_REF)].max():.0f};"
        f" stage 2 {n2.min():.0f}..{n2.max():.0f} (step {SWEEP_LR[i2]:g})"
    )
sweep = {k: np.array(v) for k, v in sweep.items()}


# %%
def slopes(n):
    """Per stream: the least-squares slope of log(samples) against log T (nan if any inf)."""
    logT = np.log(np.array(SWEEP_T, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.array(
            [
                np.polyfit(logT, np.log(n[:, e]), 1)[0]
                if np.isfinite(n[:, e]).all()
                else np.nan
                for e in range(n.shape[1])
            ]
        )


a1, a2 = slopes(sweep["stage 1"]), slopes(sweep["stage 2"])
a1_ref = slopes(sweep["stage 1, fixed step"])
inside = bool(((sweep["best"] > 0) & (sweep["best"] < len(SWEEP_LR) - 1)).all())
print(f"slopes per stream: stage 1 {a1.round(2)}, stage 2 {a2.round(2)}, ", end="")
print(
    f"stage 1 at step {LR_REF:g} {a1_ref.round(2)}; best steps inside the grid: {inside}"
)
lr_best = np.array(SWEEP_LR)[sweep["best"]]
notebook.glue("sweep_T_list", "{" + ", ".join(str(T) for T in SWEEP_T) + "}")
notebook.glue("sweep_E", SWEEP_E)
notebook.glue("lr_ref", LR_REF)
for name, a in [("a1", a1), ("a2", a2), ("a1_ref", a1_ref)]:
    notebook.glue(
        name + "_min", float(np.nanmin(a)) if np.isfinite(a).any() else np.nan
    )
    notebook.glue(
        name + "_max", float(np.nanmax(a)) if np.isfinite(a).any() else np.nan
    )
for name, n in [("n1", sweep["stage 1"]), ("n2", sweep["stage 2"])]:
    notebook.glue(name + "_first", float(n[0].max()))
    notebook.glue(name + "_last", float(n[-1].max()))
notebook.glue("n1_ref_first", float(sweep["stage 1, fixed step"][0].max()))
notebook.glue("n1_ref_last", float(sweep["stage 1, fixed step"][-1].max()))
notebook.glue("T_first", SWEEP_T[0])
notebook.glue("T_last", SWEEP_T[-1])
notebook.glue("lr1_first", float(lr_best[0, 0]))
notebook.glue("lr1_last", float(lr_best[-1, 0]))
notebook.glue("lr2_first", float(lr_best[0, 1]))
notebook.glue("lr2_last", float(lr_best[-1, 1]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
Ts = np.array(SWEEP_T, dtype=float)
for (key, c), mk in zip(
    [
        ("stage 1", plotting.COLORS[0]),
        ("stage 1, fixed step", plotting.COLORS[2]),
        ("stage 2", plotting.COLORS[1]),
    ],
    ["o", "s", "^"],
):
    n = sweep[key]
    label = {"stage 1": "stage 1, best step", "stage 2": "stage 2, best step"}.get(
        key, f"stage 1, step {LR_REF:g}"
    )
    for e in range(n.shape[1]):
        axes[0].scatter(Ts, n[:, e], color=c, marker=mk, s=14)
    axes[0].plot(Ts, n.max(1), color=c, lw=1, label=label)
ref = sweep["stage 2"][0].max() * Ts / Ts[0]
axes[0].plot(Ts, ref, color="black", ls=":", lw=1, label=r"$\propto T$")
axes[0].set(
    xscale="log",
    yscale="log",
    xlabel="context length $T$",
    ylabel="samples to the target (one dot per stream)",
    xticks=SWEEP_T,
    xticklabels=[str(T) for T in SWEEP_T],
    title="Samples per stage against T, at the best step size",
)
axes[0].legend(fontsize=7)
axes[1].plot(Ts, lr_best[:, 0], "o-", color=plotting.COLORS[0], label="stage 1")
axes[1].plot(Ts, lr_best[:, 1], "^-", color=plotting.COLORS[1], label="stage 2")
axes[1].plot(
    Ts, lr_best[0, 1] * Ts[0] / Ts, color="black", ls=":", lw=1, label=r"$\propto 1/T$"
)
axes[1].set(
    xscale="log",
    yscale="log",
    xlabel="context length $T$",
    ylabel=r"best constant step size $\eta$",
    xticks=SWEEP_T,
    xticklabels=[str(T) for T in SWEEP_T],
    title="The usable step size falls with T",
)
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# The measured growth, stream by stream (slowest stream at the smallest and largest $T$):
#
# - **Stage 1, best step size**: from {glue:text}`n1_first:.0f` samples at
#   $T =$ {glue:text}`T_first` to {glue:text}`n1_last:.0f` at $T =$ {glue:text}`T_last`; a
#   fitted exponent between {glue:text}`a1_min:.2f` and {glue:text}`a1_max:.2f`. So with the
#   best step size stage 1 grows at least like $\sqrt T$ over the $T$ measured; this is
#   compatible with the $\mathrm{poly}(T)$ upper bound of {prf:ref}`thm-ch10-ren` but
#   neither confirms nor falsifies it (the paper's own exponent we could not check).
# - **Stage 1, step size fixed at** {glue:text}`lr_ref`: from {glue:text}`n1_ref_first:.0f` to
#   {glue:text}`n1_ref_last:.0f` samples (exponent {glue:text}`a1_ref_min:.2f` to
#   {glue:text}`a1_ref_max:.2f`): at a fixed step the escape from the uniform start grows
#   more slowly with $T$. What changes with $T$ is the step size the noise allows: the
#   best one falls from {glue:text}`lr1_first` to {glue:text}`lr1_last` (right panel). Each
#   step adds noise of a fixed size to each of the $T$ entries of a row of $W$, and the weight
#   that noise puts off the support grows with $T$ unless the step shrinks (a heuristic
#   reading of the measurements, not a proof).
# - **Stage 2**: from {glue:text}`n2_first:.0f` to {glue:text}`n2_last:.0f` samples, exponent
#   {glue:text}`a2_min:.2f` to {glue:text}`a2_max:.2f`, with the best step size falling from
#   {glue:text}`lr2_first` to {glue:text}`lr2_last`. This is **not** the paper's second
#   stage, whose sample size does not depend on $T$: in our variant the second stage grows
#   like the first. We conjecture, without having measured it, that the reason is the same
#   (the recovery criterion asks for at least {glue:text}`mass_min` of the weight on the
#   support, and the noise spread over $T - Q$ positions must stay below the rest). We do
#   not know what removes this growth in the paper: its fixed $\ell_1$ penalty, its
#   preconditioner, its step sizes or its measure of error, none of which our variant has
#   in the paper's form. The exponents are those of our variant and of our rule for the
#   step size, measured on one task per $T$; the comparison with the paper is of the shape
#   (growth or not), not of the exponents. {ref}`Exercise <ex-ch10-scb-signal>` proves why
#   the informative part of the very first gradient is of order $1/T$.
#
# ## Checks

# %% tags=["remove-input"]
# The hand-set construction equals the Bayes predictor; the wrongly smoothed one converges to it.
assert kl_beta[-1] <= 1e-3, f"construction KL {kl_beta[-1]:.2e}"
assert all(a >= b for a, b in zip(kl_beta, kl_beta[1:])), "KL should decrease with beta"
assert gap_plugin[-1] <= 0.02 and gap_plugin[-1] <= gap_plugin[0] / 4, (
    f"plug-in gaps {gap_plugin}"
)
# The first gradient step favours the parent in most rows.
reproduce.report(
    "nichani2024transformers",
    claim="at initialisation the gradient of the first-layer attention scores is a "
    "mutual-information-like dependence between positions, largest at the true parent, so "
    "the first gradient step already points at the graph",
    paper_value="the first-layer gradient is largest on the parent (data-processing inequality)",
    value=grad_hits,
    assertion=f"paper's task on a random tree (N = {N_VOCAB}, T = {T_CTX}): the largest entry "
    f"of the exact (autograd) -dL/dA1 at A1 = 0, A2 = 0.1 I is the true parent in >= 80% of "
    f"the non-root rows ({M_GRAD} sequences)",
    passed=grad_hits >= 0.8,
    status="partly",
    section="sec-ch10-gradient",
)
assert formula_err <= 1e-2, f"gradient formula vs autograd: {formula_err:.1e}"
# Training the disentangled model: loss within 0.05 nats of Bayes and within 10% of the
# unigram-Bayes gap, every member, on both graphs; layer-1 argmax = parent for >= 80% of positions.
dis_ok = all(
    bool((gap <= 0.05).all() and (closed >= 0.9).all() and (hits >= 0.8).all())
    for gap, closed, hits in [
        (gap_tree, closed_tree, hits_tree),
        (gap_chain, closed_chain, hits_chain),
    ]
)
reproduce.report(
    "nichani2024transformers",
    claim="gradient descent on a two-layer attention-only transformer learns the latent causal "
    "graph of in-context sequences in its first-layer attention and reaches the in-context "
    "(Bayes) loss",
    paper_value="layer-1 attention recovers the graph; loss near the in-context Bayes loss",
    value=f"max excess loss {max(gap_tree.max(), gap_chain.max()):.4f} nats, min parent hits "
    f"{min(hits_tree.min(), hits_chain.min()):.2f} ({E_SEEDS} seeds x 2 graphs)",
    assertion="paper's task (stationary root, independent uniform query), reduced "
    "disentangled model (positions-only layer 1, token-matching layer 2), joint Adam, on a "
    "random tree and the Markov chain: every member ends within 0.05 nats of the Monte Carlo "
    "Bayes loss, closes >= 90% of the unigram-Bayes gap, and its layer-1 argmax is the "
    "parent at >= 80% of non-root positions",
    passed=dis_ok,
    status="partly",
    section="sec-ch10-training",
)
# A standard 2-layer attention-only transformer finds the previous-token head and the Bayes loss.
reproduce.report(
    "nichani2024transformers",
    claim="a standard two-layer attention-only transformer trained on the paper's task on the "
    "in-context Markov chain learns the parent (previous-token) head in layer 1 and reaches "
    "the in-context Bayes loss",
    paper_value="layer 1 attends to the parent; loss near the Bayes loss",
    value=f"excess over Bayes max {std_gap.max():.4f} nats, parent argmax min "
    f"{std_hits.min():.2f}, parent mass min {std_prev.min():.2f} ({STD_E} seeds)",
    assertion="lmt_core Transformer (2 layers, 1 head each, no MLP, learned positions), Adam, "
    "paper's task (stationary root, independent uniform query) on the chain: every member's "
    "test loss on y within 0.05 nats of the Monte Carlo Bayes loss and >= 75% of the "
    "unigram-Bayes gap closed; layer-1 argmax on the parent at >= 80% of non-root positions",
    passed=bool(
        (std_gap <= 0.05).all()
        and (std_closed >= 0.75).all()
        and (std_hits >= 0.8).all()
    ),
    status="partly",
    section="sec-ch10-standard",
)
# Two parents, two heads: the heads split the parents and the loss reaches Bayes.
reproduce.check(
    bool(
        (two_gap <= 0.05).all()
        and (two_closed >= 0.75).all()
        and (both_covered >= 0.8).all()
    ),
    f"two-parent graph, two heads: excess {two_gap}, gap closed {two_closed}, heads on "
    f"the two parents at {both_covered} of positions (want <= 0.05, >= 0.75, >= 0.8)",
)
# Sparse contextual bigrams with small batches: the projected method recovers (q, P), plain SGD
# (same batches and steps, or steps / 10) does not; criterion fixed before the runs.
reproduce.report(
    "ren2024sparse",
    claim="with a small batch, the paper's l1-proximal (projected) method recovers the sparse "
    "attention and the transition matrix, where plain SGD suffers from the variance of its "
    "gradients (large steps) or is slow (small steps)",
    paper_value="proximal method converges to the ground truth (q, P); vanilla SGD does not "
    "(high variance with large steps, slow with small ones)",
    value=f"projected: support mass min {mass_p.min():.3f}, transition error max "
    f"{terr_p.max():.3f}, recovered {int(recovered['projected (alg.)'].sum())}/{E_PROX}; "
    f"plain SGD: mass max {mass_s.max():.3f}, recovered "
    f"{int(recovered['plain SGD'].sum())}/{E_PROX}; steps / 10: recovered "
    f"{int(recovered['plain SGD, steps / 10'].sum())}/{E_PROX}",
    assertion=f"labelled variant (simplex projection = adaptive l1 soft threshold, scalar "
    f"preconditioner N, decaying steps), N = {N_PROX}, T = {T_PROX}, Q = {Q_PROX}, batch "
    f"{B_PROX}, {STEPS_PROX} steps: every projected member has >= {MASS_MIN} of |W| on the "
    f"support of q and transition error <= {T_ERR_MAX}; no plain-SGD member (same steps, or "
    "steps / 10) meets both",
    passed=bool(
        recovered["projected (alg.)"].all()
        and not recovered["plain SGD"].any()
        and not recovered["plain SGD, steps / 10"].any()
    ),
    status="partly",
    section="sec-ch10-prox",
)
# Transfer: the more the supports overlap, the sooner fine-tuning recovers (fixed ordering).
reproduce.report(
    "ren2024sparse",
    claim="fine-tuning from a model pretrained on a correlated attention pattern bypasses "
    "the sample-intensive stage; the advantage grows with the correlation",
    paper_value="nontrivial correlation between pretraining and downstream patterns lets "
    "fine-tuning skip the initial sample-intensive stage",
    value=f"samples to recovery, min..max: corr. 1 {n_full.min():.0f}..{n_full.max():.0f}, "
    f"corr. 1/2 {n_half.min():.0f}..{n_half.max():.0f}, scratch {n_scr.min():.0f}.."
    f"{n_scr.max():.0f}; corr. 0: {int(np.isinf(n_zero).sum())}/{E_PROX} never",
    assertion="projected method (labelled variant), downstream supports sharing Q, 1 or 0 "
    "of the Q pretraining positions and a new P: every member at correlation 1 recovers "
    "before every member at correlation 1/2, and every member at correlation 1/2 before "
    "every member trained from scratch",
    passed=bool(
        np.isfinite(n_half).all()
        and n_full.max() < n_half.min()
        and n_half.max() < n_scr.min()
    ),
    status="partly",
    section="sec-ch10-prox",
)
# The sample-complexity sweep: with the best step size, stage 1 grows at least like sqrt(T)
# over the T measured (comparison fixed after a prototype of the same sweep); stage 2 is
# reported, not asserted.
reproduce.check(inside, f"best step sizes at the edge of the grid: {sweep['best']}")
reproduce.report(
    "ren2024sparse",
    claim="the first (sample-intensive) stage of learning a sparse contextual bigram from "
    "scratch needs poly(T) samples; the second stage's sample size does not depend on T",
    paper_value="stage 1: poly(T) samples; stage 2: poly(N, Q) samples, independent of T",
    value=f"T = {SWEEP_T}: stage 1 (best step) slowest stream "
    f"{sweep['stage 1'].max(1).tolist()} samples, exponent {np.nanmin(a1):.2f}.."
    f"{np.nanmax(a1):.2f}; stage 1 at step {LR_REF:g}: exponent {np.nanmin(a1_ref):.2f}.."
    f"{np.nanmax(a1_ref):.2f}; stage 2 (best step) {sweep['stage 2'].max(1).tolist()} "
    f"samples, exponent {np.nanmin(a2):.2f}..{np.nanmax(a2):.2f} (not T-independent)",
    assertion=f"projected method (labelled variant) with constant steps, N = {N_PROX}, Q = "
    f"{Q_PROX}, batch {B_PROX}, step size per T = the best of a fixed grid (slowest of "
    f"{SWEEP_E} streams): samples from uniform attention to half the weight on the support "
    "grow with T with a fitted log-log slope >= 0.5 for every stream (fixed after a "
    "prototype of the same sweep)",
    passed=bool(np.isfinite(a1).all() and (a1 >= 0.5).all()),
    status="partly",
    section="sec-ch10-sweep",
)
# Sparse contextual bigrams: fine-tuning skips the plateau, both reach a small error, the support
# is found.
plateau_100 = h_scr["rel_err"][h_scr.step_array == 100]
reproduce.report(
    "ren2024sparse",
    claim="a linear transformer learning a sparse contextual bigram from scratch goes through a "
    "slow first stage before a fast one; initialised from a model pretrained on a task with the "
    "same attention pattern, fine-tuning skips the first stage",
    paper_value="from scratch: a sample-intensive stage then a sample-efficient one; transfer "
    "skips the first",
    value=f"steps to rel. error {LEVEL}: fine-tuned max {t_ft.max():.0f}, scratch min "
    f"{t_scr.min():.0f}; support recovery min {min(support_hits):.2f}",
    assertion="plain SGD, identical q before and after transfer: every run reaches relative error "
    f"{LEVEL}; every fine-tuned member does so in <= half the steps of the fastest from-scratch "
    "member; from scratch is still >= 0.8 at step 100; the pretrained W's top-Q positions are the "
    "support of q for >= 90% of tokens",
    passed=bool(
        np.isfinite(t_ft).all()
        and np.isfinite(t_scr).all()
        and t_ft.max() <= 0.5 * t_scr.min()
        and plateau_100.size > 0
        and (plateau_100 >= 0.8).all()
        and min(support_hits) >= 0.9
    ),
    status="partly",
    section="sec-ch10-scb",
)
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change the vocabulary size, the context length and the graph, and watch how fast the layer-1
# attention finds the parents. The sliders re-run one model for the given number of steps (in a
# static build of the book, this shows the default setting).


# %%
def explore_causal(n_vocab=3, T=24, graph="tree", steps=300):
    """Train one disentangled model on a random tree or a Markov chain; plot loss and layer-1 attention."""
    par = (
        tasks.random_tree(
            T - 1, generator=torch.Generator().manual_seed(7), last_is_chain=False
        )
        if graph == "tree"
        else tasks.markov_parents(T - 1)
    )  # the paper's task: a graph on the T - 1 positions before the query
    ctx, y, ref = paper_test_set(par, 2000, seed=8, n_vocab=n_vocab)
    model = Disentangled(n_vocab, T, init_std=0.01).to(cfg.device)
    h = train.fit(
        model,
        batches_for(par, n_vocab),
        steps=steps,
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        evaluate=lambda m: {"loss": nn.functional.cross_entropy(m(ctx), y)},
        eval_every=20,
        desc="explore",
    )
    bayes_loss = ref["Bayes"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(
        h.step_array, h["loss"], color=plotting.COLORS[0], label="trained model"
    )
    axes[0].axhline(bayes_loss, color="black", ls=":", label="Bayes optimal")
    axes[0].set(
        xlabel="steps",
        ylabel="test log-loss (nats)",
        title=f"N={n_vocab}, T={T}, {graph}: loss",
    )
    axes[0].legend(fontsize=8)
    show_attention(
        axes[1], model.layer1().detach().cpu(), par, "layer-1 attention vs the graph"
    )
    axes[1].legend(fontsize=8)
    plt.show()


notebook.explore(
    explore_causal,
    n_vocab=(3, (2, 8, 1)),
    T=(24, (8, 64, 4)),
    graph=("tree", ["tree", "markov"]),
    steps=(300, (50, 2000, 50)),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} The probability of a whole sequence
# :label: ex-ch10-polya
#
# Show that under {prf:ref}`def-ch10-task` the marginal probability of a sequence (with $\pi$
# integrated out) is
# $\Pr[x_{1:L}] = \frac1N \prod_{a} \frac{\Gamma(N\alpha)}{\Gamma(N\alpha + n_a)} \prod_s \frac{\Gamma(\alpha + n_{as})}{\Gamma(\alpha)}$,
# with the counts taken over the whole sequence, and recover {prf:ref}`prop-ch10-bayes` as a ratio of
# two such probabilities. What does the formula say about the order of the transitions?
# *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch10-polya
# :class: dropdown
#
# Given $\pi$ the probability is $\frac1N\prod_a \prod_s \pi(s\mid a)^{n_{as}}$. The rows are
# independent, and for one row $\mathbb E\big[\prod_s \pi_s^{n_s}\big] = \frac{B(\alpha + n)}{B(\alpha)}$
# with $B(\beta) = \prod_s \Gamma(\beta_s)/\Gamma(\sum_s \beta_s)$, the Dirichlet normalising constant;
# this is the formula. Dividing the formula for $x_{1:i}$ by that for $x_{1:i-1}$, only the row
# $a = x_{p(i)}$ changes, $n_a$ and $n_{as}$ (with $s = x_i$) grow by one, and
# $\Gamma(z+1) = z\,\Gamma(z)$ leaves $(\alpha + n_{as})/(N\alpha + n_a)$. The formula depends on the
# sequence only through the counts: the transitions are exchangeable, which is why the Bayes
# predictor is a function of the counts alone (a Pólya urn for each row).
# :::
#
# :::{exercise} Dependence decays along a Markov chain
# :label: ex-ch10-decay
#
# Let $\pi$ be symmetric and doubly stochastic with eigenvalues $1 = \lambda_1 > |\lambda_2| \ge \dots
# \ge |\lambda_N|$, and let the chain start uniform. Show that
# $I_{\chi^2}(x_{i-d}; x_i) = \sum_{r \ge 2} \lambda_r^{2d}$. Deduce that the gradient signal of
# {prf:ref}`cor-ch10-parent` in the Markov case is largest at $k = i - 1$ and decays geometrically *in
# absolute value* with the distance $d$. Must it be positive, or monotone in $d$? *Difficulty: ★★☆, about 25 min.*
# :::
#
# :::{solution} ex-ch10-decay
# :class: dropdown
#
# The joint law of $(x_{i-d}, x_i)$ is $\frac1N \pi^d$ and both marginals are uniform, so
# $I_{\chi^2} = \sum_{a,c} \frac{(\pi^d)_{ac}^2 / N^2}{1/N^2} - 1 = \|\pi^d\|_F^2 - 1$. For a
# symmetric matrix $\|\pi^d\|_F^2 = \sum_r \lambda_r^{2d}$, and the eigenvalue $1$ (eigenvector
# $\mathbf 1$) contributes the $1$. In the corollary, $G_{ik} \propto \langle D_{ki}, D_e\rangle$ with
# $D_{ki} = N\pi^{d} - \mathbf 1\mathbf 1^\top$ for $k = i - d$ and $D_e = N\pi - \mathbf 1\mathbf 1^\top$;
# in the eigenbasis this inner product is proportional to $\sum_{r \ge 2} \lambda_r^{d+1}$, which is
# at most $\sum_{r \ge 2} |\lambda_r|^{d+1} \le \sum_{r\ge 2}\lambda_r^2$ (the value at $d = 1$) in
# absolute value and decays like $|\lambda_2|^{d+1}$. It need be neither positive nor monotone: with a
# negative eigenvalue, e.g. $\lambda_2 = -\lambda$ alone, the signal $(-\lambda)^{d+1}$ is negative at
# $d = 2$ and positive at $d = 3$. The
# speed at which the chain forgets, $|\lambda_2|$, sets how sharply the first gradient step prefers the
# previous token.
# :::
#
# :::{exercise} An induction head with Krichevsky–Trofimov smoothing
# :label: ex-ch10-kt
#
# Write `induction_head(T)` that returns a `Disentangled(N_VOCAB, T)` model whose prediction on the
# in-context Markov chain is, within $10^{-3}$, the add-$\tfrac12$ estimate
# $(n_{as} + \tfrac12)/(n_a + \tfrac N2)$ (the Bayes predictor for the prior $\mathrm{Dir}(\tfrac12
# \mathbf 1)$). Test it with `check_induction_head(induction_head)` (defined below), which compares
# your model with `tasks.bayes_predictive(..., alpha=0.5)` on random chains and says what is wrong.
# *Difficulty: ★☆☆, about 10 min.*
# :::


# %%
def check_induction_head(fn, T=20, trials=500, seed=0):
    """Compare fn(T) with the add-1/2 estimate on random Markov chains; print what is wrong. Returns bool."""
    par = tasks.markov_parents(T + 1)
    task = tasks.CausalGraphTask(par, N_VOCAB, 0.5)
    x, _ = task.sequences(trials, generator=torch.Generator().manual_seed(seed))
    want = tasks.bayes_predictive(x, par, N_VOCAB, 0.5)[:, -1]
    model = fn(T).cpu()
    with torch.no_grad():
        got = model(x[:, :-1]).exp()
    err = (got - want).abs().max().item()
    if err <= 1e-3:
        print(
            f"correct: the model matches the add-1/2 estimate on {trials} chains (max error {err:.1e})"
        )
        return True
    a1 = model.layer1().detach()
    if not bool((a1[1:].argmax(1) == par[1:T]).all()):
        print("layer 1 does not attend to the previous position everywhere: check A1")
    else:
        ratio = (got / want).mean().item()
        print(
            f"layer 1 is right but the prediction is off by up to {err:.3f} (mean ratio {ratio:.3f}): "
            "check the scale of A2 and the sink score b"
        )
    return False


# %% [markdown]
# :::{solution-start} ex-ch10-kt
# :class: dropdown
# :::
#
# By {prf:ref}`prop-ch10-construction`, take the previous-token pattern in layer 1, a large multiple
# of the identity in layer 2, and the sink score $\beta + \log(N \alpha')$ with $\alpha' = \tfrac12$.


# %%
def induction_head(T):
    """The disentangled model as an induction head with add-1/2 smoothing."""
    return set_bigram_weights(
        Disentangled(N_VOCAB, T), tasks.markov_parents(T + 1), 20.0, 0.5
    )


assert check_induction_head(induction_head)
# known wrong: the add-1 smoothing of the chapter's prior (alpha' = 1), not add-1/2
assert not check_induction_head(
    lambda T: set_bigram_weights(
        Disentangled(N_VOCAB, T), tasks.markov_parents(T + 1), 20.0, 1.0
    )
)

# %% [markdown]
# :::{solution-end}
# :::


# %% [markdown]
# :::{exercise} The first gradient's informative part is of order $1/T$
# :label: ex-ch10-scb-signal
#
# In the setting of {prf:ref}`def-ch10-scb`, start the linear transformer from uniform
# attention $W_{vs} = 1/T$ and $V = 0$, and suppose that no $q_v$ charges the last position
# ($q_v(T) = 0$ for every $v$). Write $u = \mathbf 1 / N$, $J = \mathbf 1 \mathbf 1^\top$ and
# $\bar y = \mathbb E[e_y]$ for the law of the next token. Prove that
#
# $$
# \nabla_V R(W, 0) = -2\, u\, \bar y^\top - \frac{2}{NT}\,\Big(I - \frac JN\Big) P .
# $$
#
# The first term only teaches the token frequencies (the plateau at relative error $1$ of
# {ref}`sec-ch10-scb`); the second, the only one that carries $P$ beyond its column means (the
# token frequencies), has norm
# $\tfrac{2}{NT}\|(I - J/N)P\|_F$. Then write `signal(q, P)` returning the right-hand side and
# check it with `check_signal`, which compares it with the exact gradient (all $N^T$ contexts
# enumerated) on two small tasks. How does this fit the sweep of {ref}`sec-ch10-sweep`, where
# stage 1 at a fixed step size grows much more slowly than $T$? *Difficulty: ★★, about 30 min.*
# :::


# %%
def check_signal(signal):
    """True if signal(q, P) matches the exact grad_V R at W = 1/T, V = 0 (relative
    error <= 1e-4) on two small tasks whose q puts no weight on the last position."""
    for N, T, seed in [(3, 6, 0), (2, 10, 1)]:
        g = torch.Generator().manual_seed(seed)
        q = torch.zeros(N, T)
        for v in range(N):
            q[v, torch.randperm(T - 1, generator=g)[:2]] = torch.tensor([0.3, 0.7])
        task = tasks.SparseContextualBigram(
            q, tasks.dirichlet_rows((N, N), 0.5, generator=g)
        )
        x = torch.cartesian_prod(*[torch.arange(N)] * T)  # every context, each 1/N^T
        p = task.conditional(x).double()
        m = nn.functional.one_hot(x, N).double().mean(1)  # m_W(x) at W = 1/T
        V = torch.zeros(N, N, dtype=torch.float64, requires_grad=True)
        f = m @ V
        R = ((f**2).sum(-1) - 2 * (f * p).sum(-1) + 1).mean()  # E||f - e_y||^2
        (exact,) = torch.autograd.grad(R, V)
        if (
            signal(task.q.double(), task.P.double()) - exact
        ).norm() > 1e-4 * exact.norm():
            return False
    return True


# %% [markdown]
# :::{solution-start} ex-ch10-scb-signal
# :class: dropdown
# :::
#
# $R(W, V) = \mathbb E\|V^\top m - e_y\|^2$, so $\nabla_V R = 2\,\mathbb E[m (V^\top m -
# e_y)^\top]$, which at $V = 0$ is $-2\,\mathbb E[m\, e_y^\top]$ with $m = \frac1T \sum_{s=1}^T
# e_{x_s}$. Split $I = \frac JN + (I - \frac JN)$. Since $\mathbf 1^\top m = 1$,
# $\frac JN \mathbb E[m e_y^\top] = u\, \mathbb E[e_y]^\top = u \bar y^\top$. For the rest, use
# $\mathbb E[e_y \mid x] = P^\top \sum_{s'} q_{x_T}(s') e_{x_{s'}}$ and take $s < T$. If
# $s' \ne s$, then $x_s$ is independent of $(x_T, x_{s'})$, so
# $\mathbb E[q_{x_T}(s') e_{x_s} e_{x_{s'}}^\top] = u\, \mathbb E[q_{x_T}(s') e_{x_{s'}}]^\top$,
# which $I - \frac JN$ annihilates ($(I - \frac JN) u = 0$). If $s' = s$, $x_s$ is independent
# of $x_T$, and $\mathbb E[q_{x_T}(s) e_{x_s} e_{x_s}^\top] = \bar q(s)\, I/N$ with
# $\bar q(s) = \frac1N \sum_v q_v(s)$. For $s = T$: the terms $s' < T$ give
# $\mathbb E[e_{x_T} q_{x_T}(s')]\, u^\top P$, and summed over $s' < T$ they give
# $\mathbb E[e_{x_T}] u^\top P = u u^\top P$ (each $q_v$ sums to one on $s' < T$), again
# annihilated; the term $s' = T$ vanishes because $q_v(T) = 0$. Hence
#
# $$
# \Big(I - \frac JN\Big)\mathbb E[m e_y^\top] = \frac1T \sum_{s < T} \frac{\bar q(s)}{N}
# \Big(I - \frac JN\Big) P = \frac{1}{NT}\Big(I - \frac JN\Big) P ,
# $$
#
# since $\sum_{s<T} \bar q(s) = 1$, and the formula follows. The context part of the first
# gradient is thus $\Theta(1/T)$: near the start $V$ learns $P$ at a rate $\propto \eta / T$,
# and $W$'s gradient is proportional to $V$ ({prf:ref}`prop-ch10-scb`(a)), so the two grow
# together from a start of size $1/T$. For a linear growth from a start of size $1/T$ the
# escape time grows like $\log T$ at a fixed step size, consistent with the slow growth of
# stage 1 at a fixed step in {ref}`sec-ch10-sweep` (an analogy for the nonlinear, noisy
# dynamics, not a proof about them). What makes the sample size grow like $T$ there is, we
# conjecture (we have not measured it), the step size that the noise allows, which the
# population gradient above does not see. The check, and a known-wrong
# answer:


# %%
def signal(q, P):
    """grad_V R at W = 1/T, V = 0 (the formula of the exercise)."""
    N, T = q.shape
    u = torch.full((N,), 1.0 / N, dtype=P.dtype)
    y_bar = u @ P  # x_s uniform for the chosen s, so y has the law u^T P
    C = torch.eye(N, dtype=P.dtype) - 1.0 / N
    return -2 * torch.outer(u, y_bar) - 2 / (N * T) * C @ P


assert check_signal(signal)
# known wrong: the context part without its 1/T (as if one position held all the weight)
assert not check_signal(
    lambda q, P: (
        signal(q, P)
        - 2
        / q.shape[0]
        * (1 - 1 / q.shape[1])
        * (torch.eye(q.shape[0], dtype=P.dtype) - 1 / q.shape[0])
        @ P
    )
)
print("signal formula matches the exact gradient on both tasks")

# %% [markdown]
# :::{solution-end}
# :::
#
# ## Discussion and further reading
#
# - **Several parents.** If $x_i$ depends on two earlier positions, one first-layer head can copy only
#   one parent token. The paper {cite}`nichani2024transformers` discusses an extension in which
#   several heads handle several parents (see the paper for exactly what is proved there; we have
#   not checked it). {prf:ref}`def-ch10-task-two` runs the simplest case, a second-order chain,
#   where two heads split the two parents. What would the second layer have to compute for a random
#   graph with $k$ parents, and how does the number of distinct contexts $N^{k}$ change the sample
#   size needed in context?
# - **Softmax versus linear attention.** The sparse contextual bigram paper {cite}`ren2024sparse`
#   works with linear attention and discusses its relation to softmax attention. Which part of our
#   two-layer construction needs the softmax, and which could be linear?
# - **Why the mutual information?** The first gradient step ranks candidate parents by a dependence
#   measure. When can a non-parent be *more* correlated with a child than its parent under the
#   model's actual (non-idealised) gradient, for example with very non-uniform marginals, and would
#   training recover from such a start?
# - **A standard transformer on a tree.** {ref}`sec-ch10-standard` trains a standard
#   attention-only transformer on the Markov chain, whose parent is always the previous position.
#   On a random tree the parent of each position is arbitrary and must be stored in the position
#   embeddings' query-key products. Does the same model learn it in a comparable number of steps,
#   and what in the disentangled parameterisation makes the tree no harder than the chain?
# - **Induction heads in real models.** The Markov-chain case connects this chapter to the induction
#   heads found in trained language models (Olsson et al., 2022) and to studies of how statistical
#   induction heads emerge in stages during training on in-context Markov chains (Edelman et al.,
#   2024).
#
# Further reading: the two papers above; for the data-processing inequality and $f$-divergences, any
# information-theory text.
