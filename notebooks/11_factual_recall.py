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
# # Factual recall and associative memories
#
# A language model that answers "the capital of France is …" has stored a fact in its weights.
# This chapter studies the simplest machines that store facts, *associative memories*: a matrix
# or an MLP that maps a random embedding of a key to a vector whose best-matching output embedding
# is the value. We prove that the plain sum-of-outer-products memory in $\mathbb R^{d\times d}$
# recalls $N$ random pairs once $N \log N \lesssim d^2$, and that no memory with $b$-bit parameters
# stores more than $b$ bits per parameter, so that at fixed precision this $d^2/\log d$ is the best
# order any memory with $d^2$ parameters can reach; we check the $d^2$-type scaling in code. A one-layer
# attention-only transformer trained on a synthetic subject–relation–answer task then stores a
# number of facts that grows about linearly with its parameter count (its capacity at $99\%$
# recall, measured in full mode by a search over the number of facts; the capacities are stable
# under one doubling of the steps, from $3000$ to $6000$ Adam steps, which is evidence of
# convergence, not proof); the same number of trained parameters stores about as
# many facts whether it sits in the attention, in the MLP or in both (measured at one width and
# two budgets), and its training first passes through a plateau where it answers from the
# relation alone, with close to the loss of the best subject-blind predictor, for a time that
# grows with the number of subjects.
#
# **Paper.** Nichani, Lee and Bietti, *Understanding factual recall in transformers via
# associative memories* {cite}`nichani2024understanding`.
#
# **Prerequisites.** Softmax cross-entropy and a one-layer transformer (the `lmt_core`
# `Transformer`); Gaussian tail bounds. Chapter 1 is helpful for the style of the experiments.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: the whole notebook runs in about
# a minute on one CPU thread. Full mode (set `SCALE = "full"` in the first code cell) uses larger
# dimensions, more facts and longer training, and takes about ten minutes on one CPU core;
# its record and figure are shown beside the quick-mode figure. Every figure of the book's build
# comes from quick mode.
#
# **Open in Colab:**
# [colab/11_factual_recall.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/11_factual_recall.ipynb)
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

import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lmt_core import (
    analysis,
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
D_MEM = cfg.pick(
    quick=[32, 64, 128, 256], full=[32, 64, 128, 256, 512]
)  # memory widths d
TRIALS, QUERIES = cfg.pick(
    quick=(2, 256), full=(3, 512)
)  # draws per point, recall queries
S_BIG, R_BIG, D_BIG = cfg.pick(
    quick=(512, 4, 16), full=(1024, 4, 16)
)  # storage: S, R, D
D_MODELS = cfg.pick(
    quick=[16, 24, 32, 48], full=[16, 24, 32, 48, 64]
)  # transformer widths
STEPS_STORE = cfg.pick(quick=1200, full=6000)  # Adam steps of each storage model
S_PL, D_PL = cfg.pick(
    quick=(128, 8), full=(256, 8)
)  # plateau task: subjects, answers/relation
D_PLATEAU = cfg.pick(quick=32, full=64)  # width of the plateau model
STEPS_PL = cfg.pick(quick=1500, full=3000)  # SGD steps of the plateau run
EXPLORE_STEPS = cfg.pick(quick=1500, full=1500)  # steps of the Explore cell
CAP_D = cfg.pick(quick=[], full=[8, 12, 16, 24])  # capacity search: widths (full only)
CAP_GRID = [
    0.08,
    0.11,
    0.16,
    0.22,
    0.32,
    0.45,
    0.64,
]  # facts per parameter, ratio ~sqrt 2 (trade-off grid)
CAP_SEARCH = [0.11, 0.16, 0.22, 0.32, 0.45]  # capacity search: facts per parameter
CAP_SEEDS = (0, 1)  # initialisations per grid point
CAP_STEPS = 3000  # Adam steps (cosine decay) of the capacity search; then twice as many
CAP_LR = 0.05  # its learning rate (fixed after a prototype, see the text)
TRADE_D = 16  # trade-off: width of every split (same embeddings)
TRADE_SPLITS = cfg.pick(
    quick=["attn-small", "mlp-small"],
    full=["attn", "attn+mlp", "mlp", "attn-small", "mlp-small"],
)  # trade-off: which splits of the parameters between attention and MLP
TRADE_SEEDS = cfg.pick(quick=(0,), full=(0, 1))  # trade-off: initialisations
TRADE_STEPS = cfg.pick(quick=800, full=2000)  # trade-off: Adam steps (cosine decay)
S_SWEEP = [32, 64, 128, 256]  # plateau duration: numbers of subjects (both modes)
STEPS_SWEEP = 1500  # SGD steps of the plateau sweep
D_SWEEP = 32  # width of the plateau-sweep models

# %% [markdown]
# ## The setting
#
# ### Associative memories

# %% [markdown]
# :::{prf:definition} Associative memory
# :label: def-ch11-memory
#
# Let $f: [N] \to [M]$ be a set of $N$ associations $x \mapsto f(x)$. Each input $x$ has an
# *input embedding* $e_x \in \mathbb R^d$ and each output $y$ an *output embedding*
# $u_y \in \mathbb R^d$. A *memory* is a map $h: \mathbb R^d \to \mathbb R^d$ with parameters
# $\theta$; it *recalls* $\hat y(x) = \arg\max_{y \in [M]} u_y^\top h(e_x)$ and *stores* $f$ if
# $\hat y(x) = f(x)$ for every $x$. Two kinds:
#
# - a *linear memory* $h(e) = W e$ with $W \in \mathbb R^{d \times d}$ ($d^2$ parameters); the
#   *outer-product memory* is the linear memory with $W = \sum_{x=1}^N u_{f(x)}\, e_x^\top$;
# - an *MLP memory* $h(e) = V \sigma(W e)$ with $W \in \mathbb R^{m \times d}$,
#   $V \in \mathbb R^{d \times m}$ ($2md$ parameters, $m$ hidden units, activation $\sigma$).
# :::
#
# In this chapter the embeddings are *random*: i.i.d. uniform on the unit sphere $S^{d-1}$ unless
# said otherwise. Two such vectors are nearly orthogonal, $u^\top u' = O(1/\sqrt d)$, which is
# what makes a sum of outer products work: $W e_x = u_{f(x)} + \sum_{x' \neq x} u_{f(x')}
# (e_{x'}^\top e_x)$ is the right output embedding plus *crosstalk* from the other pairs.
#
# ### Synthetic facts

# %% [markdown]
# :::{prf:definition} Synthetic factual recall
# :label: def-ch11-facts
#
# There are $S$ subjects, $R$ relations and, for each relation $r$, a set $\mathcal A_r$ of $D$
# possible answers; the sets of different relations are disjoint. A *fact base* is a map
# $a^\star: [S] \times [R] \to \bigcup_r \mathcal A_r$ with $a^\star(s, r) \in \mathcal A_r$. A
# query is a sequence of $T$ tokens $(z_1, \dots, z_{T-1}, r)$: the subject $s$ at a random
# position among the first $T - 1$, *noise* tokens (from a separate vocabulary) elsewhere, the
# relation last. The target is $a^\star(s, r)$. The fact base is *balanced* if every answer in
# $\mathcal A_r$ is the answer of exactly $S/D$ subjects, for every $r$.
# :::
#
# A *subject-blind* predictor is any $q(\cdot \mid r)$, a distribution over answers that depends
# on the relation only. For a balanced fact base the best one is uniform on $\mathcal A_r$, with
# cross-entropy $\log D$ (see {ref}`ex-ch11-relation-only`); we call it the *relation-only
# predictor*. It "hallucinates": it always answers with a plausible answer of the right type,
# right for one subject in $D$. In code, `tasks.Facts(S, R, D)` builds a random balanced fact base
# and its queries; answers are output classes $0, \dots, RD - 1$, relation by relation.

# %%
demo = tasks.Facts(
    n_subjects=6, n_relations=2, answers_per_relation=3, seq_len=5, n_noise=4, seed=0
)
print(demo)
print(
    "answer classes a*(s, r), one row per subject:\n",
    demo.answers.T.tolist(),
    "(transposed: rows are relations)",
)
x_demo, y_demo = demo.sample(4, generator=cfg.generator(1))
print(
    "queries (subjects 0-5, relations 6-7, noise 8-11):\n",
    x_demo.tolist(),
    "\ntargets:",
    y_demo.tolist(),
)
print(
    f"relation-only loss {demo.relation_only_loss():.4f} = log D = {math.log(demo.D):.4f}"
)

# %% [markdown]
# ## Results
#
# ### The outer-product memory stores about $d^2/\log d$ pairs

# %% [markdown]
# :::{prf:proposition} Capacity of the outer-product memory
# :label: thm-ch11-outer-product
#
# Let $e_1, \dots, e_N, u_1, \dots, u_N$ be independent and uniform on $S^{d-1}$, let
# $f(x) = x$ (one output per input) and $W = \sum_{i=1}^N u_i e_i^\top$. There are absolute
# constants $c, C > 0$ such that for every $\delta \in (0, 1)$: if
#
# $$ d \;\ge\; C \log (N/\delta) \qquad\text{and}\qquad N \log(N/\delta) \;\le\; c\, d^2, $$
#
# then with probability at least $1 - \delta$ the memory recalls every pair:
# $\arg\max_k u_k^\top W e_j = j$ for all $j \in [N]$.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* We skip the values of the constants and the two standard tail bounds we use:
# for independent uniform unit vectors, $\Pr[|a^\top b| > t] \le 2 e^{-d t^2/2}$; and Bernstein's
# inequality for sums of independent centred sub-exponential variables.
#
# The score of output $k$ for input $j$ is $s_{jk} = u_k^\top W e_j = \sum_i (u_k^\top u_i)(e_i^\top e_j)$.
# Split off the terms with $i \in \{j, k\}$, using $\|u_i\| = \|e_i\| = 1$:
#
# $$ s_{jj} = 1 + \underbrace{\sum_{i \neq j} (u_j^\top u_i)(e_i^\top e_j)}_{\xi_j}, \qquad
#    s_{jk} = u_k^\top u_j + e_k^\top e_j + \underbrace{\sum_{i \notin \{j,k\}} (u_k^\top u_i)(e_i^\top e_j)}_{\xi_{jk}}
#    \quad (k \neq j). $$
#
# The two inner products in $s_{jk}$ exceed $1/5$ in absolute value with probability at most
# $4 e^{-d/50}$. Conditionally on $(e_j, u_k)$, the terms of $\xi_{jk}$ are i.i.d. (they involve the
# independent pairs $(u_i, e_i)$), centred, with variance $1/d^2$ and sub-exponential norm
# $O(1/d)$ (a product of two independent $O(1/\sqrt d)$-sub-Gaussian variables). Bernstein's
# inequality gives $\Pr[|\xi_{jk}| > 1/5] \le 2\exp(-c' \min(d^2/N,\, d))$, and the same for
# $\xi_j$ (condition on $(e_j, u_j)$). A union bound over the $N^2$ pairs $(j, k)$ makes all these
# events fail together with probability at most
# $N^2 (4 e^{-d/50} + 4 e^{-c' \min(d^2/N, d)}) \le \delta$ under the two conditions (with suitable
# $c, C$). On the complement, $s_{jj} \ge 4/5 > 3/5 \ge s_{jk}$ for all $k \neq j$.
# :::
#
# The condition is tight for this construction up to constants. When $N \gg d$ the crosstalk
# $\xi_{jk}$ dominates the wrong scores and is nearly Gaussian with standard deviation $\sqrt N/d$;
# the largest of the $N - 1$ wrong scores is then about $\sqrt{2 \log N}\,\sqrt N / d$, which passes
# the correct score $\approx 1$ once $2 N \log N > d^2$. So the plain outer-product memory recalls a
# fixed fraction $\tau$ of the pairs up to about
#
# $$ N^\star(d) \;\approx\; \frac{d^2}{2 \log\big(N^\star / (1-\tau)\big)}, $$
#
# (from $N \Pr[Z > d/\sqrt N] \approx 1 - \tau$ without the Gaussian prefactor): a capacity of order
# $d^2/\log d$, *not* $d^2$. On log–log axes its local slope is
# $\mathrm d \log N^\star / \mathrm d \log d = 2/(1 + 1/\log(N^\star/(1-\tau)))$, a little below 2,
# and that is the prediction we test below.
#
# Where does the logarithm come from? Not from the memory being *untrained*. At a fixed precision
# of $b$ bits per parameter, {prf:ref}`thm-ch11-counting` (below) applies to **every** memory with
# $d^2$ parameters, trained or not, with $M = N$ outputs:
#
# $$
# N \log_2 N \;\le\; b\, d^2, \qquad\text{so}\qquad N \;\le\; \frac{b\, d^2}{\log_2 N}
# \;\approx\; \frac{b\, d^2}{2 \log_2 d} \quad (N \approx d^2).
# $$
#
# (The theorem counts memories that store *every* $f$; one that stores a uniformly random $f$ with
# probability at least $\tfrac12$ obeys the same bound up to one bit, since then
# $2^{b d^2} \ge N^N / 2$.) So at fixed precision no memory stores $\asymp d^2$ pairs with distinct
# outputs: $d^2/\log d$ is
# the information-theoretic order, and the outer-product memory attains it up to a constant factor
# (the factor $b$ and the constants of the proposition). Each pair needs $\log_2 N$ bits to name its
# output, and that is the logarithm. A trained memory can improve the constant, not the order, as
# long as the precision is fixed; a memory with $\asymp d^2$ pairs needs precision growing like
# $\log d$ bits per parameter. This is also why the paper's upper and lower bounds are stated
# "up to logarithmic factors" {cite}`nichani2024understanding`.
#
# ### Storage scales with the number of parameters

# %% [markdown]
# :::{prf:theorem} No memory stores more facts than its bits allow
# :label: thm-ch11-counting
#
# Let a family of memories (of any architecture: linear, MLP, transformer) have $P$ parameters,
# each taking one of $2^b$ values (e.g. $b = 32$ for float32). Fix the embeddings. If for every
# $f: [N] \to [M]$ some parameter setting stores $f$, then
#
# $$ P \;\ge\; \frac{N \log_2 M}{b}. $$
# :::

# %% [markdown]
# :::{prf:proof}
# Recall is a function of the parameters: each of the at most $2^{bP}$ settings recalls one map
# $x \mapsto \hat y(x)$. Storing every $f$ requires a different setting for each of the $M^N$ maps
# $f$, so $2^{bP} \ge M^N$; take $\log_2$.
# :::
#
# The counting theorem is the paper's kind of lower bound. Its upper bounds say that well-chosen
# memories reach it up to logarithmic factors {cite}`nichani2024understanding`. We state them in the
# form we can vouch for: the structure (which parameters, which scaling) is the paper's as we read it;
# the powers of the logarithms, the constants and the exact conditions on the embeddings, the
# activation and the number of outputs are not checked, and we write $\mathrm{polylog}$ for them.

# %% [markdown]
# :::{prf:theorem} Storage in linear and MLP memories (after Nichani, Lee, Bietti 2024; labelled form)
# :label: thm-ch11-paper-memories
#
# Let the input embeddings $e_1, \dots, e_N$ and output embeddings $u_1, \dots, u_M$ be independent
# and uniform on $S^{d-1}$, and $f: [N] \to [M]$. With high probability over the embeddings:
#
# 1. (*linear memory*) if $d^2 \ge N \cdot \mathrm{polylog}(N)$, and there are enough distinct
#    outputs for a linear read-out to separate the inputs (a linear memory with $M$ outputs has
#    only $Md$ effective parameters, so $Md \gtrsim N$ is necessary; {ref}`ex-ch11-many-to-one`),
#    then some $W \in \mathbb R^{d \times d}$ stores $f$;
# 2. (*MLP memory*) for a suitable activation, if the number of parameters $md$ of the first layer
#    satisfies $md \ge N \cdot \mathrm{polylog}(N)$ (and $d$ is at least polylogarithmic in $N$),
#    then some MLP memory $h(e) = V\sigma(We)$ with $m$ hidden units stores $f$;
# 3. (*lower bound*) any memory whose $P$ parameters have $b$ bits each and which stores every $f$
#    has $P \ge N \log_2 M / b$ ({prf:ref}`thm-ch11-counting`).
#
# Hence the storage capacity of both memories is their parameter count up to logarithmic factors
# and the factor $b$. The case $M = N$ of part 1 at fixed precision is the $d^2/\log d$ of
# {prf:ref}`thm-ch11-outer-product`, which proves part 1 with an explicit $\log$ for the
# outer-product memory.
# :::

# %% [markdown]
# :::{prf:theorem} A one-layer transformer stores facts in its attention or its MLP (after Nichani, Lee, Bietti 2024; labelled form)
# :label: thm-ch11-paper-transformer
#
# On the synthetic task of {prf:ref}`def-ch11-facts`, with random embeddings, a one-layer
# transformer (self-attention, optionally followed by an MLP, read out at the last position) can
# recall all $SR$ facts in either of two ways:
#
# 1. (*attention as the memory*) the value–output maps of the heads store the facts as associative
#    memories from subjects to answers, and this works once those parameters number
#    $SR \cdot \mathrm{polylog}(SR)$;
# 2. (*MLP as the memory*) the attention only moves the subject (and the relation) to the last
#    position, and the MLP stores the facts, which works once its parameters number
#    $SR \cdot \mathrm{polylog}(SR)$.
#
# Conversely, by the counting argument, any such model with $b$-bit parameters needs at least
# $SR \log_2 D / b$ of them. So the total storage is linear in the parameters of whichever part holds
# the facts, up to logarithmic factors.
# :::
#
# We prove neither upper bound here (the outer-product proposition is the special case we prove).
# In the experiments we train the attention-only family only: first a budget-limited count
# ({ref}`sec-ch11-storage`), then the capacity itself, measured by a search over the number of
# facts, with a check that one doubling of the steps leaves it in place
# ({ref}`sec-ch11-capacity`, full mode). Then we measure
# the trade-off between attention and MLP storage: the capacities of models with the same
# number of trained parameters placed in the attention, in the MLP (with a frozen attention
# that only routes the subject) or in both ({ref}`sec-ch11-tradeoff`).


# %% [markdown]
# ### Training first learns the relation: a hallucination plateau
#
# The paper analyses gradient flow on a simplified linear-attention model of the task and proves
# (in our reading; we could not check the exact statement, its assumptions or its time scales)
# that learning is *sequential*: the model first fits the relation-only predictor and stays near
# it before it learns the subject-specific facts. The mechanism is easiest to see in a model with a
# separate parameter for each relation and for each fact.

# %% [markdown]
# :::{prf:proposition} A plateau at the relation-only loss
# :label: thm-ch11-plateau
#
# Consider the logits $z(s, r) = A_r + B_{s,r} \in \mathbb R^{RD}$ with parameters
# $A \in \mathbb R^{R \times RD}$, $B \in \mathbb R^{S \times R \times RD}$, the loss
# $L = \frac{1}{SR} \sum_{s,r} -\log \mathrm{softmax}(z(s,r))_{a^\star(s,r)}$ on a balanced fact
# base, and gradient flow $\dot A = -\nabla_A L$, $\dot B = -\nabla_B L$ from $A = B = 0$. Then for
# all $t \ge 0$
#
# $$ \max_{s, r, v} |B_{s,r,v}(t)| \le \frac{t}{SR} \qquad\text{and}\qquad L(t) \;\ge\; \log D - \frac{2t}{SR}. $$
#
# In contrast, each row $A_r$ receives the gradient $\frac1R\big(\bar p_r - \mathrm{unif}(\mathcal A_r)\big)$,
# where $\bar p_r$ is the prediction averaged over subjects: $S$ times the per-fact gradient.
# :::

# %% [markdown]
# :::{prf:proof}
# The gradient of the loss with respect to $z(s, r)$ is $\frac{1}{SR}(p(s,r) - \mathbf e_{a^\star(s,r)})$
# with $p = \mathrm{softmax}(z)$, and $B_{s,r}$ enters only $z(s, r)$, so every entry of
# $\nabla_{B_{s,r}} L$ lies in $[-\frac{1}{SR}, \frac{1}{SR}]$; integrating from $B = 0$ gives the
# first bound. For the second, the map $z \mapsto -\log \mathrm{softmax}(z)_a$ has gradient
# $p - \mathbf e_a$, of $\ell_1$ norm at most $2$, so it is $2$-Lipschitz for $\|\cdot\|_\infty$ and
# $L(A, B) \ge L(A, 0) - 2 \max |B| \ge L(A, 0) - 2t/(SR)$. Finally $L(A, 0)$ is the loss of the
# subject-blind predictor $q(\cdot \mid r) = \mathrm{softmax}(A_r)$; for a balanced fact base the
# answers of relation $r$ are uniform on $\mathcal A_r$, so by Gibbs' inequality its loss is at
# least the entropy $\log D$. The gradient of $A_r$ is the sum over $s$ of the gradients of the
# $z(s, r)$, which gives the last formula.
# :::
#
# So the loss cannot go much below $\log D$ before time of order $SR \log D$, while the relation
# part, driven by a gradient $S$ times larger, fits the relation-only predictor on a time scale of
# order $R$ (up to logarithmic factors; a heuristic we do not prove): between the two the model sits on a plateau at loss $\log D$, answering every query
# with a uniformly random answer of the right type. A transformer has no private parameter per
# fact, but the same asymmetry holds: the relation token sits at the last position, and its
# contribution to the output is shared by all $S$ subjects, while each fact must be read from the
# subject token, which the attention first has to find among the noise.
#
# (sec-ch11-memory)=
# ## The outer-product memory in code
#
# `analysis.outer_product_accuracy(N, d)` draws $N$ input and $N$ output embeddings, builds
# $W = \sum_i u_i e_i^\top$ and returns the fraction of the pairs it recalls (estimated on a subset
# of `queries` inputs when $N$ is large). We sweep $N$ on a log grid for several $d$.

# %%
TAU = 0.9  # capacity: largest N with accuracy >= TAU
g_mem = cfg.generator(cfg.seed + 11)

curves = {}
for d in D_MEM:
    grid = np.unique(np.geomspace(d / 4, d * d / 4, 16).astype(int))
    acc = [
        analysis.outer_product_accuracy(
            int(N), d, trials=TRIALS, queries=QUERIES, sphere=True, generator=g_mem
        )
        for N in grid
    ]
    curves[d] = (grid, np.array(acc))
capacity = np.array(
    [analysis.capacity_from_curve(*curves[d], threshold=TAU) for d in D_MEM]
)
for d, c in zip(D_MEM, capacity):
    print(
        f"d = {d:4d}: capacity N* = {c:7.1f},  N*/d^2 = {c / d**2:.3f},  N* log(N*/(1-tau)) / d^2 = "
        f"{c * math.log(c / (1 - TAU)) / d**2:.3f}"
    )

# %% [markdown]
# Neither normalisation is exactly flat: $N^\star/d^2$ drifts *down* as $d$ grows, the logarithm at
# work, while $N^\star \log(N^\star/(1-\tau))/d^2$ drifts *up*, because at small $d$ the $1/d$
# terms of the proof ($u_k^\top u_j$ and $e_k^\top e_j$, which the asymptotic rule drops) still
# cost capacity. We therefore compare the fitted exponent with two predictions that err on opposite
# sides: the local slope of the asymptotic $d^2/\log$ rule, and the capacity of the Gaussian model
# of the scores (`analysis.gaussian_model_accuracy`: the terms of the proof's decomposition
# treated as independent Gaussians, which exaggerates the $1/d$ terms). Here is that model in full,
# the variances of the proof's terms and one Gauss–Hermite integral:

# %%
notebook.show_source(analysis.gaussian_model_accuracy)

# %% [markdown]
# The figure shows the recall curves (left, Gaussian model dashed) and the capacities on log–log
# axes (right).


# %%
def rule_capacity(d, tau=TAU):
    """Solve N = d^2 / (2 log(N / (1 - tau))) by fixed-point iteration (the d^2/log rule)."""
    N = d * d / 10
    for _ in range(100):
        N = d * d / (2 * math.log(N / (1 - tau)))
    return N


fit_mem = analysis.loglog_fit(D_MEM, capacity)
rule = np.array([rule_capacity(d) for d in D_MEM])
slope_rule = analysis.loglog_fit(D_MEM, rule).slope
cap_gauss = np.array(
    [
        analysis.capacity_from_curve(
            curves[d][0],
            [
                analysis.gaussian_model_accuracy(int(N), d, sphere=True)
                for N in curves[d][0]
            ],
            TAU,
        )
        for d in D_MEM
    ]
)
slope_gauss = analysis.loglog_fit(D_MEM, cap_gauss).slope
band = (min(slope_rule, slope_gauss) - 0.1, max(slope_rule, slope_gauss) + 0.1)
print(
    f"fitted slope {fit_mem.slope:.2f} ± {fit_mem.slope_stderr:.2f}; d^2/log rule {slope_rule:.2f}; "
    f"Gaussian model {slope_gauss:.2f}; band [{band[0]:.2f}, {band[1]:.2f}]"
)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for c, d in zip(plotting.COLORS, D_MEM):
    grid, acc = curves[d]
    ax1.plot(grid, acc, "o-", ms=3, color=c, label=f"d = {d}")
    ax1.plot(
        grid,
        [analysis.gaussian_model_accuracy(int(N), d, sphere=True) for N in grid],
        "--",
        color=c,
        lw=1,
    )
ax1.axhline(TAU, color="gray", lw=0.8)
ax1.set(
    xscale="log",
    xlabel="stored pairs N",
    ylabel="recall accuracy",
    title="Recall collapses at a threshold that grows like d²\n(dashed: Gaussian model)",
)
ax1.legend(fontsize=8)
plotting.plot_loglog_fit(
    ax2, D_MEM, capacity, fit_mem, label=f"capacity N* (accuracy ≥ {TAU})"
)
ax2.plot(
    D_MEM,
    rule,
    ":",
    color="k",
    label=f"d²/(2 log(N*/(1-τ))) rule, slope {slope_rule:.2f}",
)
ax2.plot(
    D_MEM,
    cap_gauss,
    "-.",
    color=plotting.COLORS[3],
    label=f"Gaussian model, slope {slope_gauss:.2f}",
)
ax2.plot(
    D_MEM,
    capacity[0] * (np.array(D_MEM) / D_MEM[0]) ** 2,
    color="gray",
    lw=0.8,
    label="slope 2 (reference)",
)
ax2.set(
    xlabel="embedding dimension d",
    ylabel="capacity N*",
    title="Capacity of the outer-product memory:\nslope just below 2, as d²/log predicts",
)
ax2.legend(fontsize=8)
plt.tight_layout()
plt.show()
notebook.glue("mem_slope", float(fit_mem.slope))
notebook.glue("mem_slope_rule", float(slope_rule))
notebook.glue("mem_slope_gauss", float(slope_gauss))
notebook.glue("mem_ratio_lo", float(capacity[-1] / D_MEM[-1] ** 2))
notebook.glue("mem_ratio_hi", float(capacity[0] / D_MEM[0] ** 2))

# %% [markdown]
# The fitted exponent is {glue:text}`mem_slope:.2f`, between the local slope
# {glue:text}`mem_slope_rule:.2f` of the $d^2/\log$ rule and the Gaussian model's
# {glue:text}`mem_slope_gauss:.2f`, and below the 2 of pure $d^2$ scaling; $N^\star/d^2$ falls from
# {glue:text}`mem_ratio_hi:.3f` to {glue:text}`mem_ratio_lo:.3f` over the sweep. A memory whose
# capacity grew like $d$ would have slope 1. Be aware of what this range of $d$ can and cannot
# show: it clearly separates $d^2$-type from $d$-type scaling, but a $\log d$ factor changes the
# local slope by only about $0.2$ here, comparable to the $1/d$ effects, so the data are
# *consistent with* $d^2/\log d$ rather than a proof of the logarithm; the proposition and the
# heuristic converse are what pin it down. The constant is far from what
# {prf:ref}`thm-ch11-counting` allows: at the largest $d$ the memory holds only
# {glue:text}`mem_ratio_lo:.3f` $d^2$ pairs ({ref}`ex-ch11-trained` asks whether training does better).
#
# (sec-ch11-storage)=
# ## Experiment: a one-layer transformer stores facts in proportion to its parameters
#
# We now train a transformer on the task of {prf:ref}`def-ch11-facts`. To count storage honestly
# we follow the paper's set-up: token and output embeddings are random unit vectors and are
# **frozen**, so every fact has to be stored in the trained weights (otherwise a subject's own
# embedding could hold its answers). The model is the `lmt_core` `Transformer` with one layer, no
# positions (the subject is found by its content), no LayerNorm, and **attention only**, with one
# head per relation: the construction in which the value matrices are the memory. The model reads
# out the answer at the last position.


# %%
class LastToken(nn.Module):
    """Wrap a sequence model: return only the logits at the last position, (B, T, V) -> (B, V)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)[:, -1]


def freeze_random_embeddings(model, task, d, seed):
    """Set the embedding and read-out of `model` to random unit vectors in R^d, and freeze them."""
    g = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        model.embed.weight.copy_(
            analysis.gaussian_embeddings(task.vocab_size, d, g, sphere=True)
        )
        model.unembed.weight.copy_(
            analysis.gaussian_embeddings(task.n_answers, d, g, sphere=True)
        )
    model.embed.weight.requires_grad_(False)
    model.unembed.weight.requires_grad_(False)


def fact_transformer(task, d, *, seed=0, mlp=False, d_mlp=None):
    """One-layer transformer for `task` with frozen random unit-norm embeddings and read-out.

    Attention-only by default, with one head per relation; `mlp=True` adds an MLP of width d_mlp.
    """
    model = models.Transformer(
        task.vocab_size,
        d_model=d,
        n_layers=1,
        n_heads=1 if mlp else task.R,
        mlp=mlp,
        d_mlp=d_mlp,
        positional="none",
        layer_norm=False,
        n_out=task.n_answers,
        max_len=task.T,
        seed=seed,
    )
    freeze_random_embeddings(model, task, d, seed)
    return LastToken(model).to(cfg.device)


def n_trainable(model):
    """Number of trained parameters (the frozen embeddings do not count)."""
    return models.count_params(model)


def fact_batches(task, batch):
    """Online batches of random queries: batches(step, generator) -> (tokens (B, T), answers (B,))."""
    return lambda step, g: task.sample(batch, generator=g)


def fact_metrics(task, seed=5):
    """Accuracy, cross-entropy and the probability mass on the right answer *set* A_r, on every fact."""
    x, y = task.all_facts(generator=cfg.generator(seed))
    rel = y // task.D

    def evaluate(model):
        logits = model(x)
        p_set = (
            logits.softmax(-1).view(-1, task.R, task.D).sum(-1)
        )  # (F, R): mass on each A_r
        return {
            "acc": (logits.argmax(-1) == y).float().mean(),
            "test_loss": nn.functional.cross_entropy(logits, y),
            "rel_mass": p_set[torch.arange(len(y)), rel].mean(),
        }

    return evaluate


# %% [markdown]
# The fact base has more facts than any of the models can hold, so each model stores what it can.
# We count the facts it recalls *beyond chance*: the number of correct answers minus $SR/D$, the
# number the relation-only predictor gets right by luck. The trainable parameters are the query,
# key, value and output maps, about $4d^2$.

# %%
task_big = tasks.Facts(S_BIG, R_BIG, D_BIG, seq_len=4, n_noise=8, seed=cfg.seed)
print(task_big)

params, stored, acc_big = [], [], []
for d in D_MODELS:
    model = fact_transformer(task_big, d, seed=cfg.seed)
    hist = train.fit(
        model,
        fact_batches(task_big, 256),
        steps=STEPS_STORE,
        loss="cross_entropy",
        optimizer="adam",
        lr=5e-2,
        evaluate=fact_metrics(task_big),
        eval_every=STEPS_STORE // 4,
        data_seed=cfg.seed,
        desc=f"d={d}",
    )
    acc = hist.final("acc")
    params.append(n_trainable(model))
    acc_big.append(acc)
    stored.append(acc * task_big.n_facts - task_big.n_facts / task_big.D)
    print(
        f"d = {d:3d}: {params[-1]:6d} parameters, accuracy {acc:.3f}, facts stored beyond chance {stored[-1]:.0f}"
    )
params, stored = np.array(params), np.array(stored)

# %%
# A log-log fit needs positive counts: a model that stores nothing beyond chance has no fit.
store_fits = bool((stored > 0).all())
fit_store = analysis.loglog_fit(params, stored) if store_fits else None
store_slope = fit_store.slope if store_fits else float("nan")
fig, ax = plt.subplots(figsize=(6.4, 4))
if store_fits:
    plotting.plot_loglog_fit(
        ax, params, stored, fit_store, label="facts stored beyond chance"
    )
ax.plot(
    params,
    stored[0] * params / params[0],
    color="gray",
    lw=0.8,
    label="slope 1 (reference)",
)
ax.set(
    xlabel="trained parameters (attention)",
    ylabel="facts stored",
    title=f"A one-layer attention-only transformer stores\nfacts in proportion to its parameters ({task_big.n_facts} facts)",
)
ax.legend(fontsize=8)
if cfg.quick:  # in full mode the headline is the capacity figure
    reproduce.save_headline(fig)
plt.show()
notebook.glue("store_slope", float(store_slope))
notebook.glue("store_per_param", float(np.median(stored / params)))
notebook.glue("store_steps", int(STEPS_STORE))
# %% [markdown]
# The number of facts recalled beyond chance grows with exponent {glue:text}`store_slope:.2f` in the
# number of trained parameters, about {glue:text}`store_per_param:.2f` facts per parameter. Read
# this with care: it is **not** a measurement of capacity. After {glue:text}`store_steps` Adam
# steps the larger models are still improving, so each count is the number of facts *learned
# within the budget*. That is a lower bound on each model's capacity, but a family of lower bounds
# that grows linearly says nothing about how the capacities grow: a near-unit slope could come from
# optimisation speed alone. The capacity the theorems are about (the largest fact set a model
# stores with $99\%$ accuracy when trained to convergence) is measured in the next section, and
# the paper's trade-off between attention and MLP storage in {ref}`sec-ch11-tradeoff`.

# %% [markdown]
# (sec-ch11-capacity)=
# ## Experiment: capacity, stable under a doubling of the steps
#
# To measure the capacity itself we fix, for each width $d$, a geometric grid of fact counts
# $N$ (ratio about $\sqrt2$, from $0.11$ to $0.45$ facts per trained parameter) and train, for
# every grid point and two initialisations, the attention-only model on exactly $N$ facts. The
# grid is the batched form of a bisection to resolution $\sqrt 2$: all grid points and seeds of
# one width are the members of one `ensemble.stack`, member $k$ drawing its queries from the
# first $N_k$ facts only. To make "stored" a property of the weights and not of the noise draw,
# the queries here are (subject, relation) pairs with no noise tokens ($T = 2$).
#
# The **capacity** at width $d$ is read off the best seed's accuracy $a(N)$ on its own facts
# (capacity is the existence of weights that store the facts, so the best of the seeds is the
# better lower bound): on the grid, the largest $N$ with $a(N) \ge 99\%$; between grid points,
# the $N$ at which $a$ first falls below $99\%$, interpolated linearly in $\log N$
# (`analysis.capacity_from_curve`). The slope is fitted to the interpolated capacities, which
# do not jump by a whole grid step when one accuracy crosses $99\%$.
#
# **Convergence, with a criterion fixed before the recorded run.** Every width is searched twice:
# with {glue:text}`cap_steps` Adam steps and with twice as many (the same cosine decay of the
# learning rate, stretched; a member that recalls all its facts stops early). The capacity at a
# width counts as *converged* when doubling the steps changes its interpolated value by at most
# $10\%$ (a quarter of a grid step); the checks assert this at every width. The criterion is
# lenient: with the capacity interpolated between grid points of ratio $\sqrt 2$, it trips only
# if the accuracy at the first failing grid point rises to within a few points of $99\%$, so
# passing it is evidence of convergence, not proof. It replaces the
# previous edition's criterion (no member's accuracy moving by more than $0.02$ over the last
# quarter of a run), which also watched members far above the capacity: those still creep up
# with more steps while staying far below $99\%$ (compare the two budgets in the printout), and
# they do not move the capacity.
#
# **Disclosure.** The learning rate ($0.05$, the previous edition used $0.02$, which reached
# lower capacities at the largest width in the same number of steps), the narrower grid, the
# number of steps, the $10\%$ tolerance and the use of the interpolated capacity for the slope
# were set after prototype runs of this search; the band for the slope, $[0.7, 1.3]$, and the
# requirement of strict growth were fixed in the previous edition, before any converged run.
#
# The search uses a faster but equivalent form of the model. The loss is read at the last
# position only, so `LastAttention` computes the attention of that position alone (the first
# position's output is never used) with the weights of the `lmt_core` `Transformer` it is built
# from; the next cell checks that the two give the same logits. It is stacked by
# `ensemble.stack` through the generic `torch.func` path and is several times faster per step
# on a CPU at these sizes, which pays for the longer runs.


# %%
def subset_ensemble(task, d, n_subjects, seeds, build=None):
    """Attention-only models of width d, one per (S_k, seed): member k learns subjects < S_k.

    `build(seed)`, when given, makes each member instead (a `models.Transformer`).

    Returns the stacked ensemble, the member list [(S_k, seed)], batches(step, g) giving
    member k queries (B, T) from its own S_k x R facts (loss only at the last position), and
    evaluate(model) -> accuracy, cross-entropy and mass on the right answer set, (E,) each,
    over each member's own facts.
    """
    R = task.R
    members = [(S, s) for S in n_subjects for s in seeds]
    E = len(members)
    if build is None:
        build = lambda s: fact_transformer(task, d, seed=s).model
    ens = ensemble.stack([build(s) for S, s in members])
    n_own = torch.tensor([S * R for S, _ in members])

    def batches(step, g, B=256):
        i = (torch.rand(E, B, generator=g) * n_own[:, None]).long().reshape(-1)
        x, y = task.encode(i // R, i % R, generator=g)
        target = torch.full(
            (E * B, task.T), -100
        )  # IGNORE_INDEX except the last position
        target[:, -1] = y
        return x.view(E, B, -1), target.view(E, B, -1)

    x_all, y_all = task.all_facts(generator=cfg.generator(5))
    rel = y_all // task.D
    subj = torch.arange(task.S)[None, :, None]
    own = subj < torch.tensor([S for S, _ in members])[:, None, None]
    own = (
        own.expand(E, task.S, R).reshape(E, -1).float()
    )  # (E, S R): member's own facts

    def evaluate(model):
        logits = model(x_all)[:, :, -1]  # (E, S R, RD)
        p_set = logits.softmax(-1).view(E, -1, R, task.D).sum(-1)
        ce = nn.functional.cross_entropy(
            logits.transpose(1, 2), y_all.expand(E, -1), reduction="none"
        )
        mean = lambda v: (v * own).sum(1) / own.sum(1)
        return {
            "acc": mean((logits.argmax(-1) == y_all).float()),
            "test_loss": mean(ce),
            "rel_mass": mean(p_set[:, torch.arange(len(y_all)), rel]),
        }

    return ens, members, batches, evaluate


# %%
class LastAttention(nn.Module):
    """The attention-only fact transformer, evaluated at the last position only.

    Built from a one-layer attention-only `models.Transformer` without positions or
    LayerNorm: copies its trained maps q, k, v, o; the frozen embedding and read-out become
    buffers (not trained, not counted). tokens (B, T) -> logits at position T-1, (B, n_out).
    """

    def __init__(self, model):
        super().__init__()
        attn = model.blocks[0].attn
        self.H, self.dh = attn.n_heads, attn.d_head
        self.register_buffer("emb", model.embed.weight.detach().clone())
        self.register_buffer("unemb", model.unembed.weight.detach().clone())
        self.q, self.k, self.v, self.o = (
            copy.deepcopy(attn.q),
            copy.deepcopy(attn.k),
            copy.deepcopy(attn.v),
            copy.deepcopy(attn.o),
        )

    def forward(self, tokens):
        h = self.emb[tokens]  # (B, T, d)
        B, T, _ = h.shape
        q = self.q(h[:, -1]).view(B, self.H, self.dh)  # the last position's queries
        k = self.k(h).view(B, T, self.H, self.dh)
        v = self.v(h).view(B, T, self.H, self.dh)
        scores = torch.einsum("bhe,bthe->bht", q, k) / math.sqrt(self.dh)
        mixed = torch.einsum("bht,bthe->bhe", scores.softmax(-1), v).reshape(B, -1)
        return (h[:, -1] + self.o(mixed)) @ self.unemb.T


# The check: same logits as the Transformer (weights moved off their initialisation first).
task_chk = tasks.Facts(32, R_BIG, D_BIG, seq_len=2, n_noise=0)
ref = fact_transformer(task_chk, 8, seed=3)
with torch.no_grad():
    for p in ref.parameters():
        if p.requires_grad:
            p.add_(0.3 * torch.randn(p.shape, generator=cfg.generator(7)))
fast = LastAttention(ref.model)
x_chk, _ = task_chk.all_facts(generator=cfg.generator(5))
gap = (ref(x_chk) - fast(x_chk)).abs().max().item()
print(
    f"largest logit difference {gap:.1e}; trained parameters "
    f"{n_trainable(fast)} (LastAttention) = {n_trainable(ref)} (Transformer)"
)
assert gap < 1e-5 and n_trainable(fast) == n_trainable(ref)


# %%
def capacity_run(d, steps):
    """Capacity search at width d: LastAttention models, one member per (N, seed), trained
    `steps` Adam steps (cosine decay) on their own N facts (queries (subject, relation)).

    Returns a dict: trained parameters, grid of N, best accuracy per N (over CAP_SEEDS), the
    largest grid N at >= 99% (0 if none), and the interpolated capacity (nan when the curve
    does not cross 99% inside the grid).
    """
    n_par = n_trainable(fact_transformer(task_big, d))  # trained weights only
    S_grid = sorted({max(1, round(f * n_par / R_BIG)) for f in CAP_SEARCH})
    task_cap = tasks.Facts(
        S_grid[-1] + (-S_grid[-1]) % D_BIG, R_BIG, D_BIG, seq_len=2, n_noise=0
    )
    R = task_cap.R
    members = [(S, s) for S in S_grid for s in CAP_SEEDS]
    E = len(members)
    ens = ensemble.stack(
        [
            LastAttention(fact_transformer(task_cap, d, seed=s).model)
            for _, s in members
        ],
        per_member_inputs=True,
    )
    n_own = torch.tensor([S * R for S, _ in members])  # member k: facts 0 .. N_k - 1

    def batches(step, g, B=256):
        i = (torch.rand(E, B, generator=g) * n_own[:, None]).long().reshape(-1)
        x, y = task_cap.encode(i // R, i % R, generator=g)
        return x.view(E, B, -1), y.view(E, B)

    x_all, y_all = task_cap.all_facts(generator=cfg.generator(5))  # subject-major
    own = (torch.arange(len(y_all))[None, :] < n_own[:, None]).float()  # (E, S R)
    x_each = x_all.expand(E, -1, -1)

    def evaluate(model):
        right = (model(x_each).argmax(-1) == y_all).float()
        return {"acc": (right * own).sum(1) / own.sum(1)}

    hist = train.fit(
        ens,
        batches,
        steps=steps,
        loss="cross_entropy",
        optimizer="adam",
        lr=CAP_LR,
        lr_schedule=optim.cosine(steps, final=0.01),
        evaluate=evaluate,
        eval_every=max(1, steps // 4),
        stop_when=lambda m: m["acc"] >= 1.0,
        data_seed=cfg.seed,
        desc=f"capacity d={d}, {steps} steps",
    )
    best = np.array(hist["acc"])[-1].reshape(len(S_grid), len(CAP_SEEDS)).max(1)
    n_grid = [S * R for S in S_grid]
    ok = [n for n, a in zip(n_grid, best) if a >= 0.99]
    try:
        interp = analysis.capacity_from_curve(n_grid, best, threshold=0.99)
    except ValueError:  # the curve does not cross 99% inside the grid (censored)
        interp = float("nan")
    print(
        f"d = {d:2d}, {n_par:5d} parameters, {steps:5d} steps: best accuracy per N "
        + ", ".join(f"{n}: {a:.3f}" for n, a in zip(n_grid, best))
        + f" -> capacity {max(ok) if ok else 0} on the grid, {interp:.0f} interpolated"
    )
    return dict(
        n_par=n_par, n_grid=n_grid, best=best, grid=max(ok) if ok else 0, cap=interp
    )


cap_runs = {}  # (d, steps) -> the dict of capacity_run
for d in CAP_D:
    for steps in (CAP_STEPS, 2 * CAP_STEPS):
        cap_runs[d, steps] = capacity_run(d, steps)

# %%
# Per width: parameters, interpolated capacity at both budgets, its relative change.
cap_params = np.array([cap_runs[d, CAP_STEPS]["n_par"] for d in CAP_D])
cap_1x = np.array([cap_runs[d, CAP_STEPS]["cap"] for d in CAP_D])
cap_2x = np.array([cap_runs[d, 2 * CAP_STEPS]["cap"] for d in CAP_D])
grid_1x = [cap_runs[d, CAP_STEPS]["grid"] for d in CAP_D]
grid_2x = [cap_runs[d, 2 * CAP_STEPS]["grid"] for d in CAP_D]
cap_change = np.abs(cap_2x / cap_1x - 1) if CAP_D else np.zeros(0)


def first_failing(run):
    """Best accuracy at the first grid N below 99% (nan if none): what doubling must not raise."""
    below = [a for a in run["best"] if a < 0.99]
    return float(below[0]) if below else float("nan")


fail_1x = [first_failing(cap_runs[d, CAP_STEPS]) for d in CAP_D]
fail_2x = [first_failing(cap_runs[d, 2 * CAP_STEPS]) for d in CAP_D]
cap_fits = len(CAP_D) >= 2 and bool(np.isfinite(cap_2x).all())
fit_cap = analysis.loglog_fit(cap_params, cap_2x) if cap_fits else None
fit_cap_log = (
    analysis.loglog_fit(cap_params / np.log(cap_params), cap_2x) if cap_fits else None
)
cap_slope = fit_cap.slope if cap_fits else float("nan")
cap_slope_log = fit_cap_log.slope if cap_fits else float("nan")
for j, d in enumerate(CAP_D):
    print(
        f"d = {d:2d}: {cap_params[j]:5d} parameters; capacity {cap_1x[j]:.0f} after "
        f"{CAP_STEPS} steps, {cap_2x[j]:.0f} after {2 * CAP_STEPS} (change "
        f"{cap_change[j]:.1%}); on the grid {grid_1x[j]} and {grid_2x[j]}; "
        f"{cap_2x[j] / cap_params[j]:.3f} facts per parameter; accuracy at the first "
        f"failing grid point {fail_1x[j]:.3f} and {fail_2x[j]:.3f}"
    )
if CAP_D:
    print(
        f"log-log slope in P: {cap_slope:.2f}; in P / ln P: {cap_slope_log:.2f}; "
        f"largest change on doubling the steps {cap_change.max():.1%} (criterion 10%)"
    )

# %%
if CAP_D:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for d in CAP_D:
        run = cap_runs[d, 2 * CAP_STEPS]
        ax.scatter(
            [run["n_par"]] * len(run["n_grid"]),
            run["n_grid"],
            c=run["best"] >= 0.99,
            cmap="coolwarm_r",
            vmin=0,
            vmax=1,
            s=18,
            marker="s",
        )
    ax.scatter(
        cap_params,
        cap_1x,
        s=70,
        facecolors="none",
        edgecolors="k",
        label=f"capacity after {CAP_STEPS} steps",
    )
    if cap_fits:
        plotting.plot_loglog_fit(
            ax,
            cap_params,
            cap_2x,
            fit_cap,
            label=f"capacity after {2 * CAP_STEPS} steps",
        )
    ax.plot(
        cap_params,
        cap_2x[0] * cap_params / cap_params[0],
        color="gray",
        lw=0.8,
        label="slope 1 (reference)",
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="trained parameters P (attention)",
        ylabel="number of facts N",
        title="Capacity at 99% recall: doubling the steps leaves it in place\n"
        "(squares: grid points, blue = stored, red = not)",
    )
    ax.legend(fontsize=8)
    reproduce.save_headline(fig)
    plt.show()
else:
    print("The capacity search runs in full mode only; its record is shown below.")
notebook.glue("cap_steps", int(CAP_STEPS))
notebook.glue("cap_steps2", int(2 * CAP_STEPS))
notebook.glue("cap_slope", float(cap_slope))
notebook.glue("cap_slope_log", float(cap_slope_log))
notebook.glue("cap_change", float(cap_change.max()) if CAP_D else 0.0)

# %% [markdown]
# The search trains every grid point of every width, twice, at two budgets, and runs in full
# mode only (quick mode prints one line instead). Its figure, recorded by `make reproduce`, is
# shown below: the squares are the grid points after the longer run (blue: stored at $99\%$ by
# the best seed), the line the log-log fit of the capacities after the longer run against the
# trained parameters, the open circles the capacities after the shorter one. The record's table
# on the Reproductions page gives the capacities at both budgets, the largest change on doubling
# the steps and the fitted slopes, in $P$ and in $P/\ln P$.
#
# What it shows and what it does not. In the recorded run doubling the steps moves no capacity by
# more than the tolerance, so the capacities are stable under one doubling of the steps
# ({glue:text}`cap_steps` → {glue:text}`cap_steps2`): evidence of convergence, not proof (see
# the lenience of the criterion above). At the largest width, $d = 24$, the capacity on the grid
# is the grid's lowest fact count (the grid was narrowed after the prototypes): had that one
# accuracy fallen below $99\%$, the capacity there would have been censored, and the slope
# leans on this width. The log-log slope in $P$ is below 1, and closer to 1 in $P/\ln P$,
# which is what "linear up to logarithmic factors" allows but does not single out: the widths
# span one decade of parameters only, so a slope near 1 in $P/\ln P$ cannot be told apart from
# a power of $P$ a little below 1. The capacity is a lower bound in two further ways: it is
# measured on a grid of ratio $\sqrt 2$ (the interpolation between grid points assumes the
# accuracy falls smoothly), and as the best of two initialisations of one optimiser; other
# optimisers or more seeds could only raise it. Convergence is tested by one doubling of the
# steps, not by a bound on what further training could reach. The status is "partly" for these
# reasons. For comparison, {prf:ref}`thm-ch11-counting` with $b$-bit parameters allows at most
# $b/\log_2 D$ facts per parameter here ($8$ for 32-bit floats and $D = 16$); the trained
# attention-only models store well under one.

# %%
reproduce.show_record("11_factual_recall")

# %% [markdown]
# (sec-ch11-tradeoff)=
# ## Experiment: attention or MLP, the same budget
#
# {prf:ref}`thm-ch11-paper-transformer` says that either part of the block can be the memory,
# and that what counts is the number of parameters. We test that trade-off directly. All models
# have width $d =$ {glue:text}`trade_d`, the same frozen random embeddings, $R = 4$ heads and the
# queries of the capacity search ($T = 2$, no noise); they differ only in where their trained
# parameters sit:
#
# - **attention only** (`attn`): the model of the capacity search, heads of width $d/R$, no MLP;
# - **attention and MLP** (`attn+mlp`): heads of half that width and an MLP of $d$ hidden units,
#   both trained, about half of the parameters in each;
# - **MLP only** (`mlp`): an MLP of $2d$ hidden units; the attention is **frozen** at a fixed map
#   with no stored information, $Q = K = 0$ (uniform attention) and $V = O = I$, so it only
#   copies the mean of the subject and relation embeddings to the last position; its
#   weights are not trained and not counted;
# - two models with half the budget, `attn-small` (heads of width $d/(2R)$, no MLP) and
#   `mlp-small` (frozen attention, an MLP of $d$ units).
#
# Each model's capacity is measured exactly as in {ref}`sec-ch11-capacity` (same grid of facts
# per parameter, {glue:text}`trade_steps` Adam steps with cosine decay, best seed at $\ge 99\%$).
# The comparison was fixed before the run: **at the same budget the capacities of the splits
# lie within a factor 2 of each other** (two steps of the $\sqrt 2$ grid), none at the edges
# of the grid, and (full mode, where both budgets run) **every split of the larger budget
# stores more facts than every split of the smaller one**. If only one part could hold facts,
# or only the parameters of one part counted, the first or the second check would fail.
# Quick mode runs the two half-budget models only, with one seed and fewer steps.


# %%
def split_transformer(task, d, split, *, seed=0):
    """One-layer transformer of width d whose trained parameters follow `split`.

    split: "attn" | "attn+mlp" | "mlp" | "attn-small" | "mlp-small" (see the text). Frozen
    random unit embeddings and read-out (freeze_random_embeddings); R heads; a frozen attention
    is the fixed copy map Q = K = 0, V = O = I.
    """
    d_head, d_mlp, frozen_attn = {
        "attn": (d // task.R, None, False),
        "attn+mlp": (d // (2 * task.R), d, False),
        "mlp": (d // task.R, 2 * d, True),
        "attn-small": (d // (2 * task.R), None, False),
        "mlp-small": (d // task.R, d, True),
    }[split]
    model = models.Transformer(
        task.vocab_size,
        d_model=d,
        n_layers=1,
        n_heads=task.R,
        d_head=d_head,
        mlp=d_mlp is not None,
        d_mlp=d_mlp,
        positional="none",
        layer_norm=False,
        n_out=task.n_answers,
        max_len=task.T,
        seed=seed,
    )
    freeze_random_embeddings(model, task, d, seed)
    if frozen_attn:
        attn = model.blocks[0].attn
        with torch.no_grad():
            for lin in (attn.q, attn.k, attn.v, attn.o):
                lin.bias.zero_()
            attn.q.weight.zero_()
            attn.k.weight.zero_()
            attn.v.weight.copy_(torch.eye(task.R * d_head, d))
            attn.o.weight.copy_(torch.eye(d, task.R * d_head))
        attn.requires_grad_(False)
    return model.to(cfg.device)


# %%
trade = {}  # split -> (trained parameters, capacity, grid of N, best accuracy per N, drift)
for split in TRADE_SPLITS:
    n_par = n_trainable(split_transformer(task_big, TRADE_D, split))
    S_grid = sorted({max(1, round(f * n_par / R_BIG)) for f in CAP_GRID})
    task_tr = tasks.Facts(
        S_grid[-1] + (-S_grid[-1]) % D_BIG, R_BIG, D_BIG, seq_len=2, n_noise=0
    )
    ens, members, batches, evaluate = subset_ensemble(
        task_tr,
        TRADE_D,
        S_grid,
        TRADE_SEEDS,
        build=lambda s: split_transformer(task_tr, TRADE_D, split, seed=s),
    )
    hist = train.fit(
        ens,
        batches,
        steps=TRADE_STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=2e-2,
        lr_schedule=optim.cosine(TRADE_STEPS, final=0.01),
        evaluate=evaluate,
        eval_every=max(1, TRADE_STEPS // 8),
        stop_when=lambda m: m["acc"] >= 1.0,
        data_seed=cfg.seed,
        desc=f"trade-off {split}",
    )
    acc = np.array(hist["acc"])
    best = acc[-1].reshape(len(S_grid), len(TRADE_SEEDS)).max(1)
    n_grid = np.array([S * R_BIG for S in S_grid])
    ok = n_grid[best >= 0.99]
    drift = float(np.abs(acc[-1] - acc[-min(3, len(acc))]).max())
    trade[split] = (n_par, int(ok.max()) if ok.size else 0, n_grid, best, drift)
    print(
        f"{split:10s}: {n_par:5d} trained parameters, capacity {trade[split][1]:4d} facts "
        f"({trade[split][1] / n_par:.3f} per parameter); best accuracy per N "
        + ", ".join(f"{n}: {a:.2f}" for n, a in zip(n_grid, best))
        + f"; largest change, last quarter {drift:.3f}"
    )

# %%
fig, ax = plt.subplots(figsize=(6.4, 4))
marks = {"attn": "o", "attn+mlp": "D", "mlp": "s", "attn-small": "o", "mlp-small": "s"}
for j, (split, (n_par, cap, n_grid, best, _)) in enumerate(trade.items()):
    ax.scatter(
        n_par, cap, s=60, marker=marks[split], color=plotting.COLORS[j], label=split
    )
p_ref = np.array([400, 1300])
per_param = np.median([v[1] / v[0] for v in trade.values()])
ax.plot(
    p_ref, per_param * p_ref, color="gray", lw=0.8, label="proportional (reference)"
)
ax.set(
    xscale="log",
    yscale="log",
    xlabel="trained parameters (attention + MLP)",
    ylabel="capacity (largest N stored at 99%)",
    title=f"Same budget, same capacity, wherever the parameters sit\n(d = {TRADE_D})",
)
ax.legend(fontsize=8)
plt.show()

# %%
budgets = {}  # budget -> capacities of its splits (the half budget: names "-small")
for split, (n_par, cap, *_) in trade.items():
    budgets.setdefault("half" if split.endswith("-small") else "full", []).append(cap)
trade_ratio = max(max(c) / max(min(c), 1) for c in budgets.values())
trade_edges = all(
    v[1] > v[2][0] and v[1] < v[2][-1] for v in trade.values()
)  # not censored
if len(budgets) > 1:
    trade_order = min(budgets["full"]) > max(budgets["half"])
else:
    trade_order = True  # one budget only (quick mode): nothing to order
notebook.glue("trade_d", TRADE_D)
notebook.glue("trade_steps", int(TRADE_STEPS))
notebook.glue("trade_ratio", float(trade_ratio))
notebook.glue("trade_per_param", float(per_param))
notebook.glue("trade_drift", float(max(v[4] for v in trade.values())))
print(
    f"largest ratio of capacities at one budget {trade_ratio:.2f} (limit 2); capacities "
    f"off the grid's edges: {trade_edges}; larger budget above smaller: {trade_order}"
)

# %% [markdown]
# At each budget the splits store about the same number of facts: the largest ratio of two
# capacities at one budget is {glue:text}`trade_ratio:.2f`, and the models store about
# {glue:text}`trade_per_param:.2f` facts per trained parameter, whether those parameters are
# the attention's, the MLP's or both. In full mode, where both budgets run, the record (below
# the checks, on the Reproductions page) shows that every split of the larger budget stores
# more than every split of the smaller one; quick mode runs the smaller budget only, with one
# seed and fewer steps, so its capacities are lower and it tests only the equality at one
# budget. The splits are not identical: in the full run the attention-only model stores the
# fewest facts of the larger budget (still within the factor 2; the record gives the numbers).
# What this does not show: it is one width and two budgets, a factor 2 apart, so it
# cannot tell the paper's "linear up to logarithms" from other increasing laws; unlike those
# of {ref}`sec-ch11-capacity`, these capacities are not checked by doubling the steps, so they
# are lower bounds reached with this budget of steps (the largest accuracy change over the
# last quarter of a run is {glue:text}`trade_drift:.3f`);
# and the MLP-only model still has an attention that routes the subject, frozen and not
# counted, as in the paper's construction where the attention only moves the subject to the
# last position.

# %% [markdown]
# (sec-ch11-plateau)=
# ## Experiment: the hallucination plateau
#
# Now a model that is large enough to store all the facts (the sizes are printed below: $R = 4$
# relations, $D = 8$ answers per relation), trained by SGD with momentum. Besides the loss
# we record the probability the model puts on the right answer *set* $\mathcal A_r$: when it is
# close to 1 while the accuracy is still near $1/D$, the model knows the type of the answer but not
# the answer.

# %%
task_pl = tasks.Facts(S_PL, 4, D_PL, seq_len=4, n_noise=8, seed=cfg.seed)
model_pl = fact_transformer(task_pl, D_PLATEAU, seed=cfg.seed)
hist_pl = train.fit(
    model_pl,
    fact_batches(task_pl, 128),
    steps=STEPS_PL,
    loss="cross_entropy",
    optimizer="sgd",
    lr=0.5,
    momentum=0.9,
    evaluate=fact_metrics(task_pl),
    eval_every=25,
    data_seed=cfg.seed,
    desc="plateau",
)
steps_pl = hist_pl.step_array
loss_rel = task_pl.relation_only_loss()
i_rel = int(
    np.argmax(hist_pl["rel_mass"] >= 0.95)
)  # first evaluation where the type is known
loss_plateau, acc_plateau = hist_pl["test_loss"][i_rel], hist_pl["acc"][i_rel]
loss_final, acc_final = hist_pl["test_loss"][-1], hist_pl["acc"][-1]
print(task_pl)
print(
    f"relation-only loss log D = {loss_rel:.4f}; at step {steps_pl[i_rel]} (mass on A_r >= 0.95): "
    f"loss {loss_plateau:.4f}, accuracy {acc_plateau:.3f}; final loss {loss_final:.4f}, accuracy {acc_final:.3f}"
)

# %%
fig, ax = plt.subplots(figsize=(7.5, 4))
ax.plot(
    steps_pl,
    hist_pl["test_loss"],
    color=plotting.COLORS[0],
    label="cross-entropy (all facts)",
)
ax.axhline(
    loss_rel, color=plotting.COLORS[1], ls="--", label="relation-only predictor: log D"
)
ax.axhline(
    math.log(task_pl.n_answers),
    color="gray",
    ls=":",
    label="uniform over all answers: log RD",
)
ax.axvline(steps_pl[i_rel], color="gray", lw=0.8)
ax2 = ax.twinx()
ax2.plot(
    steps_pl,
    hist_pl["rel_mass"],
    color=plotting.COLORS[2],
    lw=1,
    label="mass on the right answer set",
)
ax2.plot(steps_pl, hist_pl["acc"], color=plotting.COLORS[3], lw=1, label="accuracy")
ax2.set(ylabel="probability / accuracy", ylim=(0, 1.02))
ax.set(
    xlabel="steps",
    ylabel="cross-entropy",
    title="First the type of the answer, then the answer:\nthe loss pauses at the relation-only loss log D",
)
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = ax2.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="center right")
plt.show()
notebook.glue("plateau_loss", float(loss_plateau))
notebook.glue("plateau_logD", float(loss_rel))
notebook.glue("plateau_acc", float(acc_plateau))
notebook.glue("plateau_step", int(steps_pl[i_rel]))
notebook.glue("final_loss", float(loss_final))
# %% [markdown]
# Early in training the model puts almost all its probability on the right answer set,
# and at that moment (step {glue:text}`plateau_step`, vertical line) its loss is
# {glue:text}`plateau_loss:.3f`, against $\log D = $ {glue:text}`plateau_logD:.3f` for the
# relation-only predictor, with accuracy {glue:text}`plateau_acc:.2f`, near $1/D$: it hallucinates
# a plausible answer. Only then does the loss leave the plateau and fall, to
# {glue:text}`final_loss:.3f` at the end. The plateau here is short, because the model is small
# and the task tiny; {prf:ref}`thm-ch11-plateau` suggests (it proves a lower bound only for its toy
# model) that its length grows with the number of subjects; the next experiment measures it.

# %% [markdown]
# ### How long the plateau lasts
#
# {prf:ref}`thm-ch11-plateau` bounds, for its toy model, the time to leave the plateau from
# below by a quantity proportional to $SR$. We measure the duration in the transformer, with the
# same task ($R = 4$, $D = 8$, noise tokens) for $S \in$ {glue:text}`sweep_S`, two
# initialisations each, all as members of one `ensemble.stack` (member $k$ learns the first
# $S_k$ subjects). The plateau's **duration** is defined in advance as the number of steps from
# the first evaluation (every 25 steps) at which the mass on the right answer set reaches $0.9$
# to the first at which the accuracy reaches $0.5$. The toy predicts a duration growing like
# $S$; the check below asks that the mean duration grow strictly with $S$ and that its log-log
# slope lie in $[0.5, 1.5]$ (a law $\propto S$, up to the 25-step resolution).

# %%
task_sw = tasks.Facts(max(S_SWEEP), 4, D_PL, seq_len=4, n_noise=8, seed=cfg.seed)
ens, members_sw, batches, evaluate = subset_ensemble(task_sw, D_SWEEP, S_SWEEP, (0, 1))
hist_sw = train.fit(
    ens,
    lambda step, g: batches(step, g, B=128),
    steps=STEPS_SWEEP,
    loss="cross_entropy",
    optimizer="sgd",
    lr=0.5,
    momentum=0.9,
    evaluate=evaluate,
    eval_every=25,
    data_seed=cfg.seed,
    desc="plateau sweep",
)


def first_step(steps, curve, level):
    """First evaluation step at which curve >= level (nan if never)."""
    hit = np.flatnonzero(np.asarray(curve) >= level)
    return float(steps[hit[0]]) if hit.size else float("nan")


st_sw = hist_sw.step_array
acc_sw, mass_sw = np.array(hist_sw["acc"]), np.array(hist_sw["rel_mass"])
dur = np.array(
    [
        first_step(st_sw, acc_sw[:, k], 0.5) - first_step(st_sw, mass_sw[:, k], 0.9)
        for k in range(len(members_sw))
    ]
).reshape(len(S_SWEEP), 2)
dur_mean = dur.mean(1)
dur_ok = bool(np.isfinite(dur).all() and (dur > 0).all())
fit_dur = analysis.loglog_fit(np.array(S_SWEEP), dur_mean) if dur_ok else None
dur_slope = fit_dur.slope if dur_ok else float("nan")
for S, row in zip(S_SWEEP, dur):
    print(f"S = {S:4d}: plateau duration {row[0]:.0f}, {row[1]:.0f} steps (two seeds)")
print(f"log-log slope of the mean duration in S: {dur_slope:.2f}")

# %%
fig, ax = plt.subplots(figsize=(6.4, 4))
for j, S in enumerate(S_SWEEP):
    k = 2 * j
    ax.plot(
        st_sw, hist_sw["test_loss"][:, k], color=plotting.COLORS[j], label=f"S = {S}"
    )
ax.axhline(task_pl.relation_only_loss(), color="gray", ls="--", label="log D")
ax.set(
    xlabel="steps",
    ylabel="cross-entropy (own facts)",
    title="The plateau at log D lasts longer with more subjects\n(seed 0 of each S)",
)
ax.legend(fontsize=8)
plt.show()
notebook.glue("sweep_S", ", ".join(str(S) for S in S_SWEEP))
notebook.glue("dur_slope", float(dur_slope))
notebook.glue("dur_lo", float(dur_mean[0]))
notebook.glue("dur_hi", float(dur_mean[-1]))

# %% [markdown]
# The type of the answer is learned at the same moment for every $S$ (the relation is shared by
# all subjects), but the time to leave the plateau grows: the mean duration goes from
# {glue:text}`dur_lo:.0f` steps at the smallest $S$ to {glue:text}`dur_hi:.0f` at the largest,
# a log-log slope of {glue:text}`dur_slope:.2f` in $S$. A slope of 1 is what the toy's bound
# predicts; the measured slope is somewhat above it (with only four values of $S$, two seeds
# and a resolution of 25 steps, we do not read more into the difference). This is the
# transformer with noise tokens trained by SGD, not the paper's linear-attention model under
# gradient flow.
#
# ## Checks

# %%
# Memory: capacity exponent in the band of the two predictions, far above linear (slope 1),
# and N*/d^2 smaller at the largest d than at the smallest (the log factor).
reproduce.report(
    "nichani2024understanding",
    claim="an associative memory W = sum_i u_i e_i^T with d x d parameters stores about d^2 "
    "input-output pairs, up to a log factor",
    paper_value="storage ~ d^2 (parameters), up to logarithms",
    value=fit_mem.slope,
    assertion=f"outer-product memory, d = {D_MEM}: the log-log slope of the capacity at "
    f"recall >= {TAU} is >= 1.5 (d^2-like, not d-like), inside the band of the d^2/log rule and "
    "the Gaussian model widened by 0.1, and N*/d^2 is smaller at the largest d than at the "
    "smallest",
    passed=bool(
        band[0] <= fit_mem.slope <= band[1]
        and fit_mem.slope >= 1.5
        and capacity[-1] / D_MEM[-1] ** 2 < capacity[0] / D_MEM[0] ** 2
    ),
    status="partly",
    section="sec-ch11-memory",
)
# Transformer storage: facts stored grow linearly in the trained parameters (within a band).
reproduce.report(
    "nichani2024understanding",
    claim="the number of facts a one-layer transformer (or an associative memory) can store "
    "grows linearly, up to log factors, with its number of parameters",
    paper_value="storage capacity proportional to the parameter count",
    value=store_slope,
    assertion=f"facts recalled beyond chance (of {task_big.n_facts}) by attention-only "
    f"transformers with frozen random embeddings, d = {D_MODELS}, after {STEPS_STORE} Adam "
    "steps, grow with d and their log-log slope in the trained parameters is in [0.75, 1.35] "
    "(a count learned within the budget, a lower bound on capacity)",
    passed=bool(
        store_fits and np.all(np.diff(stored) > 0) and 0.75 <= store_slope <= 1.35
    ),
    status="partly",
    section="sec-ch11-storage",
)
# Capacity (full mode): stable under one doubling of the steps at every width (the interpolated
# capacity moves by <= 10%; evidence of convergence, not proof), bracketed by the grid at both
# budgets, growing strictly with the
# parameters, log-log slope in [0.7, 1.3] (linear up to logs; band fixed in the last edition).
if CAP_D:
    reproduce.report(
        "nichani2024understanding",
        claim="the capacity of a one-layer attention-only transformer (the largest number of "
        "facts it stores) grows linearly, up to log factors, with its number of parameters",
        paper_value="capacity proportional to the parameter count",
        value=f"slope {cap_slope:.2f} in P ({cap_slope_log:.2f} in P/ln P); capacities "
        f"{np.round(cap_2x).astype(int).tolist()} facts after {2 * CAP_STEPS} steps, "
        f"{np.round(cap_1x).astype(int).tolist()} after {CAP_STEPS} (on the grid "
        f"{grid_2x} and {grid_1x}) for {cap_params.tolist()} parameters; largest change "
        f"on doubling the steps {cap_change.max():.1%} (criterion 10%); accuracy at the "
        f"first failing grid point {np.round(fail_1x, 3).tolist()} and "
        f"{np.round(fail_2x, 3).tolist()}",
        assertion=f"attention-only transformers, d = {CAP_D}, trained {CAP_STEPS} and "
        f"{2 * CAP_STEPS} Adam steps (cosine decay) on each N of a sqrt-2 grid, best of "
        f"{len(CAP_SEEDS)} seeds: at every width the capacity (N where the accuracy first "
        "falls below 99%, interpolated) lies inside the grid at both budgets and changes by "
        "<= 10% when the steps double (stable under doubling); after the longer run it grows strictly "
        "with the trained parameters and its log-log slope is in [0.7, 1.3]",
        passed=bool(
            cap_fits
            and np.isfinite(cap_1x).all()
            and cap_change.max() <= 0.10
            and np.all(np.diff(cap_2x) > 0)
            and 0.7 <= cap_slope <= 1.3
        ),
        status="partly",
        section="sec-ch11-capacity",
    )
# Trade-off: at one budget the capacities of the splits are within a factor 2, none at the
# edges of the grid; with two budgets (full mode), every split of the larger beats every split
# of the smaller.
reproduce.report(
    "nichani2024understanding",
    claim="a one-layer transformer can store facts in its attention or in its MLP: the "
    "capacity depends on the total number of trained parameters, not on how they are split",
    paper_value="capacity set by total parameters (attention + MLP), either part can store",
    value="; ".join(f"{k}: {v[1]} facts / {v[0]} parameters" for k, v in trade.items())
    + f"; largest ratio at one budget {trade_ratio:.2f}; largest change over the last "
    f"quarter {max(v[4] for v in trade.values()):.3f}",
    assertion=f"d = {TRADE_D}, splits {TRADE_SPLITS}, {TRADE_STEPS} Adam steps, best of "
    f"{len(TRADE_SEEDS)} seed(s) on the sqrt-2 grid: at each budget the capacities (largest N "
    "at >= 99%) of the splits are within a factor 2 and off the grid's edges; with two "
    "budgets, every split of the larger stores more than every split of the smaller",
    passed=bool(trade_ratio <= 2 and trade_edges and trade_order),
    status="partly",
    section="sec-ch11-tradeoff",
)
# Plateau duration: grows strictly with S, log-log slope in [0.5, 1.5] (the toy's law ~ S).
reproduce.report(
    "nichani2024understanding",
    claim="the hallucination plateau (relation known, facts not yet) lasts longer the more "
    "facts there are to learn",
    paper_value="plateau length grows with the number of subjects",
    value=dur_slope,
    assertion=f"S = {S_SWEEP}, 2 seeds each: the mean number of steps from mass 0.9 on the "
    "right answer set to accuracy 0.5 grows strictly with S, with log-log slope in [0.5, 1.5]",
    passed=bool(dur_ok and np.all(np.diff(dur_mean) > 0) and 0.5 <= dur_slope <= 1.5),
    status="reproduced",
    section="sec-ch11-plateau",
)
# Plateau: once the answer type is known the loss is within 10% of log D, accuracy still low,
# and then the loss falls to near 0 and every fact is recalled.
reproduce.report(
    "nichani2024understanding",
    claim="gradient training on factual recall first learns the relation (the answer's type), "
    "sitting at the relation-only loss log D with near-chance accuracy (hallucination), before "
    "it learns the facts",
    paper_value="a plateau at the relation-only loss, then the facts",
    value=f"loss {loss_plateau:.3f} vs log D {loss_rel:.3f}, accuracy {acc_plateau:.2f} when "
    f"the type is known; final loss {loss_final:.4f}, accuracy {acc_final:.3f}",
    assertion="when the mass on the right answer set first reaches 0.95 the loss is within 10% "
    "of log D and the accuracy <= 0.35; at the end the loss is <= 5% of log D and the accuracy "
    ">= 0.99",
    passed=bool(
        abs(loss_plateau - loss_rel) <= 0.1 * loss_rel
        and acc_plateau <= 0.35
        and loss_final <= 0.05 * loss_rel
        and acc_final >= 0.99
    ),
    status="partly",
    section="sec-ch11-plateau",
)
print("all checks passed")

# %% [markdown]
# The bands: the capacity exponent must lie between the two predictions, widened by $0.1$ on each
# side for the noise of the measured capacities (the fit's standard error is a few hundredths),
# and well above 1, which rules out linear-in-$d$ storage. The band alone would also accept a pure
# $d^2$ law (slope 2); the check that is sensitive to the logarithm is the second one, that
# $N^\star/d^2$ is smaller at the largest $d$ than at the smallest. The storage exponent must lie within
# $[0.75, 1.35]$ of the linear law. That band tests the budget-limited count described above, not
# the capacity, and it would also pass for under-trained models whose capacities grow differently.
# The capacity check (full mode) is the one that tests the paper's claim. At every width the
# capacity must lie inside the grid at both budgets (a capacity at the grid's edge would be
# censored) and move by at most $10\%$ when the steps double (the convergence criterion, set
# before the recorded run); after the longer run it must grow strictly with the parameters and
# have a log-log slope in $[0.7, 1.3]$. It fails if the capacities are budget-limited (they
# would move with the steps) or if they grow like $d$ rather than like the parameter count
# (slope near $1/2$ in $P$). The trade-off check
# ({ref}`sec-ch11-tradeoff`) asks, at each budget, for capacities within a factor 2 of each
# other across the splits (none censored by the grid), and in full mode for every split of
# the larger budget to beat every split of the smaller; it fails if one part cannot store,
# or if only one part's parameters count. The plateau
# check asks for a duration growing strictly with $S$ with slope in $[0.5, 1.5]$, around the
# toy's law $\propto S$; it fails for a plateau of fixed length (slope 0).
#
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change the number of subjects $S$ and the width $d$ and watch the plateau: more subjects make it
# longer ({prf:ref}`thm-ch11-plateau`), a smaller model may never leave it. The sliders re-run the
# plateau experiment for {glue:text}`explore_steps` steps (in a static build of the book, this shows the default
# setting).


# %%
def explore_plateau(subjects=64, d=32, lr=0.5):
    """Train the attention-only transformer on S subjects x 4 relations (D = 8) and plot the loss."""
    subjects = max(8, 8 * (subjects // 8))
    task = tasks.Facts(subjects, 4, 8, seq_len=4, n_noise=8, seed=1)
    d = 4 * max(1, d // 4)
    h = train.fit(
        fact_transformer(task, d, seed=1),
        fact_batches(task, 128),
        steps=EXPLORE_STEPS,
        loss="cross_entropy",
        optimizer="sgd",
        lr=lr,
        momentum=0.9,
        evaluate=fact_metrics(task),
        eval_every=50,
        data_seed=1,
        desc="explore",
    )
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(h.step_array, h["test_loss"], label="cross-entropy")
    ax.axhline(
        task.relation_only_loss(), color=plotting.COLORS[1], ls="--", label="log D"
    )
    ax.set(
        xlabel="steps",
        ylabel="cross-entropy",
        title=f"S = {subjects}, d = {d}, lr = {lr}: the plateau at log D",
    )
    ax.legend()
    plt.show()


notebook.glue("explore_steps", EXPLORE_STEPS)
notebook.explore(
    explore_plateau,
    subjects=(64, (16, 512, 16)),
    d=(32, (8, 64, 4)),
    lr=(0.5, (0.1, 1.0, 0.1)),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} The relation-only predictor
# :label: ex-ch11-relation-only
#
# Show that among all subject-blind predictors $q(\cdot \mid r)$ the cross-entropy
# $\frac1{SR}\sum_{s,r} -\log q(a^\star(s,r) \mid r)$ is minimised by the empirical distribution of
# the answers of relation $r$, with value the empirical conditional entropy $H(a \mid r)$, and that
# this equals $\log D$ for a balanced fact base. What is the accuracy of this predictor? Compare
# with `Facts.relation_only_loss`. *Difficulty: ★☆☆, about 10 min.*
# :::
#
# :::{solution} ex-ch11-relation-only
# :class: dropdown
#
# For a fixed $r$ let $\hat p_r(a) = \#\{s : a^\star(s,r) = a\}/S$. The loss is
# $\frac1R \sum_r \big(-\sum_a \hat p_r(a) \log q(a \mid r)\big)
# = \frac1R \sum_r \big(H(\hat p_r) + \mathrm{KL}(\hat p_r \,\|\, q(\cdot\mid r))\big)$, minimised
# by $q(\cdot \mid r) = \hat p_r$ (Gibbs' inequality, $\mathrm{KL} \ge 0$ with equality iff the
# distributions agree), with value $\frac1R \sum_r H(\hat p_r) = H(a \mid r)$. Balanced means
# $\hat p_r$ is uniform on $\mathcal A_r$, so $H(\hat p_r) = \log D$. Any deterministic answer
# that depends only on $r$ is right for exactly $S/D$ of the $S$ subjects: accuracy $1/D$.
# `Facts.relation_only_loss` computes $H(a \mid r)$ from the counts, and equals $\log D$ for the
# balanced bases the class builds.
# :::
#
# :::{exercise} Many inputs, few outputs
# :label: ex-ch11-many-to-one
#
# Redo the decomposition of {prf:ref}`thm-ch11-outer-product` when $f: [N] \to [M]$ maps $N/M$
# inputs to each output. Show that the wrong score $u_k^\top W e_j$ now contains the term
# $\sum_{i: f(i) = k} e_i^\top e_j$, of variance about $N/(Md)$, and deduce that the plain
# outer-product memory needs $N/M \lesssim d/\log M$, even when $N \ll d^2$. Is this a weakness of
# the outer product only, or of every linear memory with $M$ outputs?
# *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch11-many-to-one
# :class: dropdown
#
# Group the sum by outputs: $W = \sum_y u_y v_y^\top$ with $v_y = \sum_{i: f(i) = y} e_i$, so
# $u_k^\top W e_j = \sum_y (u_k^\top u_y)(v_y^\top e_j)$. The term $y = k$ is
# $\|u_k\|^2 v_k^\top e_j = \sum_{i : f(i) = k} e_i^\top e_j$ (for $k \neq f(j)$, $j$ is not among
# these $i$): a sum of $N/M$ independent inner products, variance $N/(Md)$. The correct score is
# still $\approx 1$, so with $M - 1$ competitors we need $\sqrt{2 \log M \cdot N/(Md)} < 1$, that
# is $N/M \lesssim d/(2\log M)$: about $Md/\log M$ pairs in all.
#
# This is not only a weakness of the outer product. For *any* linear memory the score is
# $u_y^\top W e_x = w_y^\top e_x$ with $w_y = W^\top u_y$: a linear classifier with $M$ weight
# vectors in $\mathbb R^d$, so only $Md$ numbers matter, and for $M = 2$ Cover's counting theorem
# limits it to about $2d$ random pairs. Storing $N \approx d^2$ associations in a linear memory
# requires at least about $d$ distinct outputs; the $d^2$ statements are made under assumptions of
# this kind.
# :::
#
# :::{exercise} A lookup-table MLP memory
# :label: ex-ch11-lookup
#
# Write `lookup_mlp(E, U, f)` that, given unit-norm input embeddings `E` ($N \times d$), output
# embeddings `U` ($M \times d$) and targets `f` ($N$ integers), returns an `models.MLPMemory`
# with $m = N$ hidden ReLU units that stores $f$ exactly. Hint: give unit $i$ the input weights
# $e_i$ and the bias $-\beta$ with $\max_{j \neq i} e_i^\top e_j < \beta < 1$, so that it fires for
# input $i$ only; `MLPMemory` has no biases, but you can fold $\beta$ in by appending a constant
# coordinate to the embeddings, or by choosing the embeddings yourself. How does its parameter
# count, $2Nd$, compare with the capacity results? Check it with `check_memory` below.
# *Difficulty: ★★☆, about 25 min.*
# :::


# %%
def check_memory(fn, n_in=200, n_out=20, d=16, seed=0):
    """Build fn(E, U, f) for random unit embeddings and targets; report the recall accuracy."""
    g = torch.Generator().manual_seed(seed)
    E = analysis.gaussian_embeddings(n_in, d, g, sphere=True)
    U = analysis.gaussian_embeddings(n_out, d, g, sphere=True)
    f = torch.randint(0, n_out, (n_in,), generator=g)
    mem = fn(E, U, f)
    if not isinstance(mem, models.MLPMemory):
        print(f"expected an models.MLPMemory, got {type(mem).__name__}")
        return False
    if mem.E.shape[0] != n_in or mem.U.shape[0] != n_out:
        print(
            f"the memory has {mem.E.shape[0]} inputs and {mem.U.shape[0]} outputs, expected {n_in} and {n_out}"
        )
        return False
    with torch.no_grad():
        pred = mem(torch.arange(n_in)).argmax(-1)
    acc = float((pred == f).float().mean())
    print(
        f"recall accuracy {acc:.3f} on {n_in} pairs with {mem.W.shape[0]} hidden units"
    )
    if acc < 1:
        print(
            "some pairs are recalled wrongly: do the hidden units fire for their own input only?"
        )
    return acc == 1.0


# %% [markdown]
# :::{solution-start} ex-ch11-lookup
# :class: dropdown
# :::
#
# Append a constant coordinate: the memory's input embeddings are $\tilde e_i = (e_i, 1)$ in
# dimension $d + 1$, unit $i$ has weights $(e_i, -\beta)$, so it computes
# $\mathrm{ReLU}(e_i^\top e_j - \beta)$, which is $1 - \beta$ for $j = i$ and $0$ otherwise. Its
# output weights are $\tilde u_{f(i)}$, the output embedding padded with a $0$. Then
# $h(\tilde e_j) = (1 - \beta)\, \tilde u_{f(j)}$ and the score of output $k$ is
# $(1-\beta) u_k^\top u_{f(j)}$, largest at $k = f(j)$ because the $u$'s are distinct unit
# vectors.


# %%
def lookup_mlp(E, U, f):
    """An MLP memory with one ReLU unit per stored input (a lookup table)."""
    N, d = E.shape
    gram = E @ E.T
    beta = (gram - 2 * torch.eye(N)).max().item()  # largest off-diagonal inner product
    beta = (beta + 1) / 2  # strictly between it and 1
    mem = models.MLPMemory(N, U.shape[0], d + 1, N)
    with torch.no_grad():
        mem.E.copy_(torch.cat([E, torch.ones(N, 1)], 1))
        mem.U.copy_(torch.cat([U, torch.zeros(U.shape[0], 1)], 1))
        mem.W.copy_(
            torch.cat([E, -beta * torch.ones(N, 1)], 1)
        )  # unit i: ReLU(e_i . e - beta)
        mem.V.copy_(mem.U[f].T)  # unit i writes u_{f(i)}
    return mem


assert check_memory(lookup_mlp)
# known wrong: a lookup table that writes output 0 for every input, ignoring f
assert not check_memory(lambda E, U, f: lookup_mlp(E, U, torch.zeros_like(f)))

# %% [markdown]
# The lookup table uses $2N(d+1)$ parameters for $N$ pairs, where {prf:ref}`thm-ch11-counting`
# requires only $N \log_2 M / b$: a factor $2(d+1)b/\log_2 M$ more, because each unit stores one
# pair. The paper's MLP memories store
# about $md$ pairs with $m$ units by letting every unit take part in many associations.
#
# :::{solution-end}
# :::
#
# :::{exercise} Does training beat the outer product?
# :label: ex-ch11-trained
#
# Train an `models.LinearMemory(N, N, d)` with `train.fit(..., loss="cross_entropy")` on the
# $N$ pairs $x \mapsto x$ (inputs `torch.arange(N)`, targets the same) for $d = 32$ and
# $N = 50, 100, 200, 400$, and compare its recall with the outer-product memory built on the same
# embeddings (`analysis.outer_product_memory(mem.E, mem.U)`). Then repeat with $M = 8$ outputs
# shared by all inputs. Explain the second result with {ref}`ex-ch11-many-to-one`.
# *Difficulty: ★★★, about 40 min.*
# :::
#
# :::{solution} ex-ch11-trained
# :class: dropdown
#
# ```python
# for N in (50, 100, 200, 400):
#     mem = models.LinearMemory(N, N, 32, seed=0)
#     x = torch.arange(N)
#     h = train.fit(mem, lambda t, g: (x, x), steps=1500, loss="cross_entropy", optimizer="adam", lr=0.05,
#                   evaluate=lambda m: {"acc": (m(x).argmax(-1) == x).float().mean()}, eval_every=500)
#     W0 = analysis.outer_product_memory(mem.E, mem.U)
#     print(N, h.final("acc"), analysis.recall_accuracy(W0, mem.E, mem.U, x))
# ```
#
# The book's build does not run this code, so we report no numbers from it; run it and compare.
# What can be said without running it:
#
# *One output per input.* At fixed precision training can gain only a constant factor over the
# outer product (the counting bound, {prf:ref}`thm-ch11-counting`); at $d = 32$ and $N = 400$ it
# does not forbid storing all pairs ($N \log_2 N$ is about $3.5 \cdot 10^3$ bits, against
# $32 d^2 \approx 3.3 \cdot 10^4$ bits in float32). Whether Adam finds such a $W$ within the budget is
# what the run shows.
#
# *Few shared outputs: a proof that every linear memory fails.* The scores are
# $u_y^\top W e_x = w_y^\top e_x$ with $w_y = W^\top u_y$. Storing $f$ requires, for every two
# outputs $y \ne y'$, that $(w_y - w_{y'})^\top e_x$ be positive on the inputs of $y$ and negative on
# those of $y'$: the $2N/M$ random points of the two classes must be *homogeneously linearly
# separable* with the labels $f$ gives them. The labels are fixed and the points are i.i.d. from a
# symmetric law, so by Wendel's theorem (Cover's counting of dichotomies) this happens with
# probability $2^{-(n-1)} \sum_{k < d} \binom{n-1}{k}$ with $n = 2N/M$. For $M = 8$, $N = 512$ and
# $d = 32$, $n = 128 = 4d$ and this probability is about $3 \cdot 10^{-9}$: with overwhelming
# probability **no** $W$, trained or constructed, stores $f$, although $N = 512 \ll d^2$. A linear
# memory with $M$ outputs is a linear classifier with $M d$ effective parameters
# ({ref}`ex-ch11-many-to-one`), so the number of *outputs* limits it as much as $d$; the $d^2$-type
# upper bounds of {prf:ref}`thm-ch11-paper-memories` assume enough outputs.
# :::
#
# :::{exercise} Where does the transformer store the facts?
# :label: ex-ch11-mlp-storage
#
# Rerun the storage experiment with `fact_transformer(task, d, mlp=True, d_mlp=w)` (one attention
# head and an MLP) for a small $d$ and several widths $w$. Plot the facts stored against the MLP's
# parameters $2dw$. Then freeze the MLP at initialisation and compare. What does this say about
# the paper's claim that either the attention or the MLP can serve as the memory?
# *Difficulty: ★★★, about 40 min.*
# :::
#
# :::{solution} ex-ch11-mlp-storage
# :class: dropdown
#
# Change the model line of the storage loop to
# `model = fact_transformer(task_big, 16, seed=cfg.seed, mlp=True, d_mlp=w)` and loop over `w`
# (e.g. 32, 64, 128, 256); to freeze the MLP, call
# `model.model.blocks[0].mlp.requires_grad_(False)` before training. (The book's build does not run
# this loop, and we give the reasoning, not a measurement; the build does run the related
# experiment of {ref}`sec-ch11-tradeoff`, where the attention is frozen and the MLP trained.)
# Count the parameters of each part
# separately: at $d = 16$ the attention has about $4d^2 \approx 10^3$, the MLP $2dw$, which passes it
# from $w = 32$ on. If the stored facts keep growing with $w$, the MLP is the memory. One subtlety
# of this task: because the answer sets $\mathcal A_r$ are disjoint, even a single head can store
# facts in its value matrix, by writing for subject $s$ the *sum* $\sum_r u_{a^\star(s,r)}$ of its
# $R$ answers and letting the relation token pick the answer set; so the frozen-MLP model is not
# useless, it is limited by the $O(d^2)$ attention parameters. This is the trade-off of
# {cite}`nichani2024understanding`: either part can hold the facts, and the storage is set by the
# parameters that hold them, in whichever part (in {ref}`sec-ch11-tradeoff` a model with half
# its trained parameters in each part stores about as much as one with all of them in one).
# :::
#
# ## Discussion and further reading
#
# - **Bits per parameter.** {prf:ref}`thm-ch11-counting` counts bits, so a float32 parameter could
#   in principle hold 32 bits. Trained memories store a small constant number of *facts* per
#   parameter. What limits them: the argmax read-out, the optimiser, or the crosstalk of random
#   embeddings?
# - **Untrained versus trained memories.** At fixed precision the $\log d$ factor of the
#   outer-product memory is unavoidable for every memory (the counting bound above), so training
#   can only win a constant factor. How large a constant does a closed-form memory (a pseudo-inverse,
#   a whitened outer product) win, and how does the capacity grow if the precision grows with $d$?
# - **Hallucination.** On the plateau the model answers with an answer of the right type chosen
#   from the relation alone. Which features of real training data would make such a stage long,
#   and could a model's confidence on the plateau reveal that it does not know the subject?
# - **Where facts live.** Interpretability work finds facts stored in the MLPs of language models;
#   the theory says the attention's value matrices could store them just as well, and at our
#   small scale ({ref}`sec-ch11-tradeoff`) a parameter stores as much in either. What in the
#   training data or the architecture tips the balance?
#
# Further reading: {cite}`nichani2024understanding` itself, whose experiments vary the sizes of the
# attention and the MLP independently and measure the trade-off, and which complements its
# constructions with lower bounds on the parameters needed.
