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
# # Sparse parities and hidden progress
#
# A $k$-sparse parity of $n$ bits is easy to represent and to identify from a few examples, yet every
# statistical-query algorithm needs $n^{\Omega(k)}$ queries or a tolerance of $n^{-\Omega(k)}$ to
# learn it, a lower bound we prove in full. Stochastic gradient descent on a small ReLU network
# learns it anyway, because the gradient of a first-layer weight is a Fourier coefficient, of degree
# $k-1$ for the relevant coordinates and $k+1$ for the others: a *Fourier gap* that points at the
# hidden set. We prove in full that one SGD step from a sign initialisation turns this gap into
# units that read only the hidden set, the first phase of the paper's guarantee. In training the
# loss sits at chance and then drops abruptly, while a measure of the first-layer weights aligned
# with the drift the gradient predicts leaves its noise band, calibrated on irrelevant
# coordinates, before the loss and the accuracy leave theirs: progress the loss does not show,
# seen at this scale in the median over seeds (how early is measured against a lead fixed in
# advance).
#
# **Paper.** Barak, Edelman, Goel, Kakade, Malach and Zhang, *Hidden progress in deep learning: SGD
# learns parities near the computational limit* {cite}`barak2022hidden`. Background on statistical
# queries comes from {cite}`kearns1998efficient,blum1994weakly` and on Fourier analysis from
# {cite}`odonnell2014analysis`.
#
# **Prerequisites.** None beyond the [notation](../book/notation.md): this is the first chapter.
# Bits are $\pm 1$, $n$ is the input dimension, $k$ the sparsity, $d$ the width.
#
# **Time.** Quick mode is the default everywhere, with or without a GPU: the whole notebook runs in
# under a minute on a two-core CPU. Full mode (set `SCALE = "full"` in the first code cell)
# trains the plateau-and-jump experiment at twice the paper's $n$ ($n = 100$, $k = 3$, with its
# progress measures, pooled over 64 seeds), adds a sparser parity ($k = 5$, $n = 40$), and runs
# the scaling sweep and the width experiment with twice the seeds; it takes about five minutes
# on one CPU core, and its runs save checkpoints so that a disconnected session resumes where it
# stopped.
# Its recorded figure is shown below the quick-mode one.
#
# **Open in Colab:**
# [colab/01_sparse_parity.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/01_sparse_parity.ipynb)
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

import itertools
from fractions import Fraction
from math import comb

import matplotlib.pyplot as plt
import numpy as np
import torch

from lmt_core import (
    analysis,
    ensemble,
    models,
    notebook,
    plotting,
    reproduce,
    runtime,
    tasks,
    train,
)

cfg = runtime.setup(seed=0, scale=SCALE)
plotting.use_house_style()

# %%
# Every size of the chapter's experiments, quick and full (full: a few minutes on one core).
N_MAIN = cfg.pick(quick=50, full=100)  # input dimension of the plateau-and-jump run
K_MAIN = 3  # sparsity of the plateau-and-jump run and of the width experiment
# Seeds trained together in the plateau-and-jump run. Full mode pools 64 (fixed after a
# prototype on seeds 100-163, after the recorded 16-seed full run had missed the lead target):
# at full mode's n the pooled lead ratio was PROTO_E["16"] with 16 seeds, PROTO_E["64"] with 64.
E_MAIN = cfg.pick(quick=16, full=64)
PROTO_E = {"16": 0.99, "64": 0.23}
STEPS_MAIN = cfg.pick(quick=3000, full=10_000)  # its training steps
# Hidden progress, fixed before the runs: a curve "departs" when its median over seeds leaves
# the band of K_SD noise s.d. around its early-plateau level (the first EARLY of the steps);
# the progress measure must separate (exceed, at the same step, the mean + K_SD s.d. of the
# same measure over disjoint control sets of k irrelevant coordinates) by LEAD times the
# departure step.
K_SD, EARLY, LEAD = 4.0, 0.1, 0.5
# A separation must hold at PERSIST consecutive evaluations (fixed after the prototype of the
# text: with 1, single control sets crossed their band for one evaluation).
PERSIST = 3
# The drift-aligned measure was chosen by a prototype on seeds 100-115 (run once, outside the
# chapter): its lead ratios there, quick and full settings, under a single-evaluation rule (under
# the PERSIST rule adopted, the full setting's lead with 16 seeds was close to 1).
PROTO_LEAD = {"quick": 0.36, "full": 0.47}
SUB = 12  # coordinates of the sub-cube on which the per-unit Fourier gap is computed exactly
# The scaling sweep in the theorem's setting (sign initialisation, f = 0 at step 0, k = 2):
SWEEP_N = [21, 41, 81, 161]  # the sweep's n (odd)
E_SWEEP = cfg.pick(quick=8, full=16)  # seeds per point of the sweep
MAX_STEPS = 20_000  # step budget per point of the sweep
N_WIDTH, BUDGET = 30, 3000  # input dimension and step budget of the width experiment
WIDTHS = cfg.pick(  # widths of the width experiment
    quick=[2, 4, 8, 16, 32, 128], full=[2, 4, 8, 16, 32, 128, 512]
)
WIDTH_SIGN, LR_SIGN = 32, 0.5  # width and step size of the sweep's networks
B_SMALL, B_DIV = 8, 16  # the two batch regimes: B = B_SMALL, and B = n^2 // B_DIV
E_WIDTH = cfg.pick(quick=16, full=32)  # seeds per width
# Full mode only: k = 5, sizes and criteria fixed after a prototype with seeds 100-107.
N_K5, K_K5, E_K5 = 40, 5, 8  # input dimension, sparsity, seeds
WIDTH_K5, BATCH_K5, STEPS_K5 = 256, 128, 30_000  # width, batch size, training steps
JUMP_K5 = 0.9  # the jump is timed from accuracy 0.55 to this level
N_WD, STEPS_WD, E_WD = (
    50,
    3000,
    8,
)  # weight-decay exercise: n, steps, seeds (both modes)

# %% [markdown]
# ## The setting
#
# ### Sparse parities

# %% [markdown]
# :::{prf:definition} Sparse parity
# :label: def-ch01-sparse-parity
#
# For $S \subseteq [n]$ the *parity* (or *character*) on $S$ is $\chi_S(x) = \prod_{i \in S} x_i$
# for $x \in \{-1,+1\}^n$, with $\chi_\emptyset \equiv 1$. In the *$(n,k)$-sparse parity problem* an
# unknown set $S$ with $|S| = k$ is fixed; the learner sees examples $(x, \chi_S(x))$ with $x$
# uniform on $\{-1,+1\}^n$ and must output a hypothesis $h: \{-1,+1\}^n \to \{-1,+1\}$ with small
# error $\mathrm{err}_S(h) = \Pr_x[h(x) \neq \chi_S(x)]$.
# :::
#
# Identifying $S$ is statistically easy: $O(k \log n)$ examples determine it, and from about $n$
# examples Gaussian elimination over $\mathbb F_2$ finds it in polynomial time. The problem is hard for a large family
# of algorithms that only look at averages, and gradient methods seem to be among them. The tool
# for seeing why is Fourier analysis on the hypercube.
#
# ### Fourier–Walsh expansion

# %% [markdown]
# :::{prf:definition} Fourier–Walsh coefficients
# :label: def-ch01-fourier
#
# For $f, g: \{-1,+1\}^n \to \mathbb R$ let $\langle f, g \rangle = \mathbb E_x[f(x)\, g(x)]$ with $x$
# uniform. The *Fourier–Walsh coefficient* of $f$ on $S \subseteq [n]$ is
# $\hat f(S) = \langle f, \chi_S \rangle$, and the *Fourier–Walsh expansion* of $f$ is
# $f = \sum_{S \subseteq [n]} \hat f(S)\, \chi_S$. The *degree* of a coefficient $\hat f(S)$ is $|S|$.
# :::

# %% [markdown]
# :::{prf:lemma} Orthonormality and Parseval
# :label: lem-ch01-parseval
#
# The $2^n$ characters are orthonormal: $\langle \chi_S, \chi_T \rangle = 1$ if $S = T$ and $0$
# otherwise. Hence every $f: \{-1,+1\}^n \to \mathbb R$ equals its Fourier–Walsh expansion, and
# $\sum_{S} \hat f(S)^2 = \mathbb E[f(x)^2]$ (Parseval).
# :::

# %% [markdown]
# :::{prf:proof}
# Since $x_i^2 = 1$, $\chi_S \chi_T = \chi_{S \triangle T}$, and for $U \neq \emptyset$ independence
# of the coordinates gives $\mathbb E[\chi_U] = \prod_{i \in U} \mathbb E[x_i] = 0$. So the $2^n$
# characters are orthonormal vectors in the $2^n$-dimensional space of real functions on the cube,
# hence a basis, and the coefficients of $f$ in this basis are the inner products
# $\hat f(S) = \langle f, \chi_S\rangle$. Parseval follows by expanding
# $\langle f, f \rangle = \sum_{S,T} \hat f(S) \hat f(T) \langle \chi_S, \chi_T \rangle$.
# See {cite}`odonnell2014analysis`, Chapter 1.
# :::
#
# In code, `analysis.walsh_coefficients` computes all $2^n$ coefficients from the values of $f$ on
# the points of `tasks.hypercube(n)` by a fast Walsh–Hadamard transform; entry $s$ is $\hat f(S)$ for
# the set $S$ whose bit mask is $s$ (`analysis.subset_mask`). Two quick checks: a parity has a
# single coefficient, and Parseval holds for a random function.

# %%
n_demo = 10
x_cube = tasks.hypercube(n_demo)  # (2^n, n), all points of the cube
chi = tasks.parity(x_cube, [1, 4, 7])  # chi_S on the cube
coef = analysis.walsh_coefficients(chi)
print(
    "nonzero coefficients of chi_{1,4,7}:",
    torch.nonzero(coef).flatten().tolist(),
    "| mask of {1,4,7}:",
    analysis.subset_mask([1, 4, 7]),
)
f_rand = torch.rand(2**n_demo, generator=torch.Generator().manual_seed(0)) * 2 - 1
print(
    f"Parseval: sum of squared coefficients {analysis.walsh_coefficients(f_rand).pow(2).sum():.6f}"
    f" = E[f^2] {f_rand.double().pow(2).mean():.6f}"
)

# %% [markdown]
# ### Statistical queries

# %% [markdown]
# :::{prf:definition} Statistical query oracle
# :label: def-ch01-sq
#
# Let $f: \{-1,+1\}^n \to \{-1,+1\}$ be the target and $\tau > 0$ a *tolerance*. A *statistical
# query* is a function $\phi: \{-1,+1\}^n \times \{-1,+1\} \to [-1, 1]$. The oracle
# $\mathrm{STAT}(\tau)$, asked $\phi$, returns some number $v$ with
# $|v - \mathbb E_x[\phi(x, f(x))]| \le \tau$ (any such $v$: the oracle may be adversarial). A
# *statistical query (SQ) algorithm* asks queries, each chosen from the answers so far, and then
# outputs a hypothesis. It is *deterministic* if its queries and its output are functions of the
# previous answers {cite}`kearns1998efficient`.
# :::
#
# An empirical average over $m$ fresh examples answers a query to tolerance $\tau$ with high
# probability once $m \gtrsim \log(1/\delta)/\tau^2$ (Hoeffding), so a tolerance $\tau$ "costs"
# about $1/\tau^2$ samples. Many learning algorithms only use the data through such averages. A
# mini-batch gradient is one of them: each coordinate is the batch average of a function of
# $(x, y)$, accurate to about $1/\sqrt{B}$ for a batch of size $B$ when that function is bounded.

# %% [markdown]
# ## Why sparse parities are hard: the statistical-query lower bound

# %% [markdown]
# :::{prf:theorem} SQ lower bound for sparse parities
# :label: thm-ch01-sq-lower-bound
#
# Let $1 \le k < n$ and $N = \binom{n}{k}$. Suppose a deterministic SQ algorithm, for every $S$ with
# $|S| = k$ and every oracle $\mathrm{STAT}(\tau)$ for $\chi_S$, asks at most $q$ queries and
# outputs $h$ with $\mathrm{err}_S(h) < 1/4$. Then
#
# $$ q \;\ge\; (N - 1)\, \tau^2 . $$
# :::

# %% [markdown]
# :::{prf:proof}
# Write a query as $\phi(x, y) = \phi_+(x) + y\, g(x)$ with
# $\phi_+(x) = \tfrac12(\phi(x, 1) + \phi(x, -1))$ and $g(x) = \tfrac12(\phi(x,1) - \phi(x,-1))$; this
# holds for $y \in \{-1,+1\}$, and $|g| \le 1$ because $\phi$ takes values in $[-1,1]$. For the target
# $\chi_S$,
#
# $$ \mathbb E_x[\phi(x, \chi_S(x))] = \mathbb E[\phi_+] + \mathbb E[\chi_S\, g] = \mathbb E[\phi_+] + \hat g(S). $$
#
# Consider the *adversary* that answers every query with $v = \mathbb E[\phi_+]$, a number that does
# not depend on $S$. This answer is valid (within $\tau$ of the truth) for every $S$ with
# $|\hat g(S)| \le \tau$. By Parseval ({prf:ref}`lem-ch01-parseval`),
# $\sum_S \hat g(S)^2 = \mathbb E[g^2] \le 1$, so fewer than $1/\tau^2$ sets have
# $|\hat g(S)| > \tau$: each query *rules out* fewer than $1/\tau^2$ candidates.
#
# Run the algorithm against this adversary. Its answers do not depend on $S$ and the algorithm is
# deterministic, so it asks the same queries and outputs the same $h$ whatever $S$ is. If
# $q < (N-1)\tau^2$, the $q$ queries together rule out fewer than $q/\tau^2 < N - 1$ of the $N$
# candidate sets (none at all if $q = 0$; note $N \ge 2$), so two sets $S \neq S'$ of size $k$ survive: for them every answer was valid, and the
# algorithm must output $h$ with $\mathrm{err}_S(h) < 1/4$ and $\mathrm{err}_{S'}(h) < 1/4$. But
# $\chi_S \chi_{S'} = \chi_{S \triangle S'}$ has mean $0$, so $\chi_S$ and $\chi_{S'}$ differ on exactly
# half of the cube, and wherever they differ $h$ is wrong for one of them:
# $\mathrm{err}_S(h) + \mathrm{err}_{S'}(h) \ge \Pr[\chi_S \ne \chi_{S'}] = 1/2$. This contradiction
# shows $q \ge (N-1)\tau^2$.
# :::

# %% [markdown]
# :::{prf:corollary} Either many queries or a tiny tolerance
# :label: cor-ch01-sq
#
# If $\tau \ge N^{-1/3}$ then $q \ge (N-1) N^{-2/3} \ge N^{1/3}/2$. Since $N \ge (n/k)^k$, for
# $k \le \sqrt n$ this reads: an SQ learner of $k$-sparse parities needs $q \ge n^{k/6}/2$ queries
# or a tolerance $\tau < n^{-k/6}$, that is $n^{\Omega(k)}$ queries or $n^{\Omega(k)}$ samples per
# query.
# :::
#
# The theorem is stated for deterministic algorithms, where the adversary argument is two lines.
# Randomised SQ algorithms obey a bound of the same form, $n^{\Omega(k)}$ queries or tolerance
# $n^{-\Omega(k)}$; the argument is slightly different (it averages over the algorithm's random
# choices) and we skip it — see {cite}`blum1994weakly,kearns1998efficient`. For gradient methods,
# Shalev-Shwartz, Shamir and Shammah {cite}`shalevshwartz2017failures` make the same point directly:
# the gradient of any network barely depends on which parity is the target, because the targets are
# orthogonal.
#
# The counting step of the proof is easy to watch. Below, three queries for $n = 11$: one that tests
# a single candidate set, one built from the majority vote, and a random one. For each we count the
# size-$k$ sets it rules out at tolerance $\tau$ and compare with the bound $1/\tau^2$.

# %%
n_sq, k_sq, tau = 11, 3, 0.05
x_sq = tasks.hypercube(n_sq)
masks = [analysis.subset_mask(T) for T in itertools.combinations(range(n_sq), k_sq)]
queries = {  # g(x) = (phi(x, 1) - phi(x, -1)) / 2 for phi = y * g(x)
    "phi = y * chi_{0,1,2}(x)": tasks.parity(x_sq, [0, 1, 2]),
    "phi = y * Maj(x)": torch.sign(x_sq.sum(1)),
    "phi = y * random": torch.rand(2**n_sq, generator=torch.Generator().manual_seed(1))
    * 2
    - 1,
}
for name, g in queries.items():
    ghat = analysis.walsh_coefficients(g)
    ruled_out = int((ghat[masks].abs() > tau).sum())
    print(
        f"{name:26s} sum_S ghat(S)^2 = {ghat.pow(2).sum():.3f} <= 1, largest |ghat(S)| with |S| = {k_sq}:"
        f" {ghat[masks].abs().max():.4f}, rules out {ruled_out} of {len(masks)} sets (bound 1/tau^2 = {1 / tau**2:.0f})"
    )

# %% [markdown]
# The single-set query rules out exactly one candidate: an algorithm built from such queries is
# exhaustive search over all $N$ sets. The majority query rules out none at this tolerance, and a
# smaller tolerance would not help it: its coefficients on all sets of size 3 are equal (of order
# $n^{-3/2}$, see {prf:ref}`lem-ch01-majority`), so its true answer is the same for every candidate.
# The random query spreads its Fourier weight over all $2^n$ sets, each coefficient of order
# $2^{-n/2}$. A query that distinguishes candidates must put weight on few of them, and Parseval
# limits how many. Gradient descent, we will see, asks queries of the majority type multiplied by
# one coordinate $x_i$, and those do distinguish candidates: their answer depends on whether $i \in S$.
#
# ## Parities are easy to represent
#
# Hardness is not about expressivity: a two-layer ReLU network with $k$ hidden units computes
# $\chi_S$ exactly.


# %% [markdown]
# :::{prf:proposition} A ReLU network that computes a parity
# :label: prop-ch01-parity-network
#
# Let $|S| = k \ge 1$, $s(x) = \sum_{i \in S} x_i$, $s_j = -k + 2j$ and $v_j = (-1)^{k-j}$ for
# $j = 0, \dots, k$. Then for all $x \in \{-1,+1\}^n$
#
# $$ \chi_S(x) \;=\; v_0 \;-\; v_0\, \mathrm{ReLU}\big(s(x) - s_0\big) \;-\; 2\sum_{j=1}^{k-1} v_j\, \mathrm{ReLU}\big(s(x) - s_j\big), $$
#
# a two-layer ReLU network with $k$ hidden units (unit $j$ has weights $1$ on $S$, $0$ elsewhere and
# bias $-s_j = k - 2j$) and output bias $v_0$.
# :::


# %% [markdown]
# :::{prf:proof}
# If $m$ of the coordinates in $S$ equal $-1$, then $s(x) = k - 2m$ and $\chi_S(x) = (-1)^m$, so
# $\chi_S(x) = P(s(x))$ for any function $P$ with $P(s_j) = v_j$ for $j = 0, \dots, k$. Take for $P$
# the piecewise-linear interpolant of these points, extended linearly beyond $s_k$. Its slope on
# $[s_j, s_{j+1}]$ is $(v_{j+1} - v_j)/2 = -v_j$, so its slope changes by $-v_j - (-v_{j-1}) = -2v_j$
# at each interior point $s_j$, $1 \le j \le k-1$. A continuous piecewise-linear function on
# $[s_0, \infty)$ is its value at $s_0$, plus its first slope times $(s - s_0)$, plus a ReLU for each
# change of slope: $P(s) = v_0 - v_0 (s - s_0) - 2\sum_{j=1}^{k-1} v_j\,\mathrm{ReLU}(s - s_j)$. Finally
# $s - s_0 = \mathrm{ReLU}(s - s_0)$ because $s \ge s_0 = -k$.
# :::
#
# Here is the construction as an `lmt_core` MLP, checked on **all** $2^n$ inputs for several $n$
# and $k$ and random supports.


# %%
def parity_network(n, support):
    """The network of the proposition: an MLP with k = |S| hidden units computing chi_S on {±1}^n."""
    k = len(support)
    j = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - j)  # v_j = chi_S at s = s_j = -k + 2j
    out_w = -2 * v  # change of slope at s_j ...
    out_w[0] = -v[0]  # ... and the first slope, on [s_0, s_1]
    net = models.MLP(n, k)
    with torch.no_grad():
        net.layers[0].weight.zero_()[:, list(support)] = 1.0  # every unit reads s(x)
        net.layers[0].bias.copy_(k - 2 * j)  # unit j: ReLU(s - s_j)
        net.layers[1].weight.copy_(out_w.view(1, k))
        net.layers[1].bias.fill_((-1.0) ** k)  # P(s_0) = v_0
    return net


checked = 0
for n in (4, 8, 12):
    x = tasks.hypercube(n)
    for k in sorted({1, 2, 3, n // 2, n}):
        task = tasks.SparseParity.random(n, k, seed=n + k)
        with torch.no_grad():
            assert torch.equal(parity_network(n, task.support)(x), task.label(x)), (
                n,
                k,
            )
        checked += 1
print(
    f"the hand-built network equals chi_S on every input, in {checked} (n, k) cases up to n = 12"
)

# %% [markdown]
# ## Where the gradient finds a signal: the Fourier gap
#
# Why, then, does gradient descent succeed at all? Look at the gradient of one first-layer weight.
# We use the *correlation loss* $L(\theta) = -\mathbb E[y\, f_\theta(x)]$; the hinge loss
# $\mathbb E\max(0, 1 - y f_\theta(x))$ used in training equals $1 + L(\theta)$ as long as
# $|f_\theta| < 1$ on the cube, as at a small initialisation, so it has the same gradient there.


# %% [markdown]
# :::{prf:proposition} The gradient of a first-layer weight is a Fourier coefficient
# :label: prop-ch01-gradient-fourier
#
# Let $f_\theta(x) = \sum_{j=1}^d a_j\, \sigma(w_j \cdot x + b_j)$, let $y = \chi_S(x)$, and let
# $g_j(x) = \sigma'(w_j \cdot x + b_j)$ (for the ReLU, $g_j(x) = \mathbf 1[w_j \cdot x + b_j > 0]$,
# the value autograd uses, with $\sigma'(0) = 0$). For the correlation loss
# $L(\theta) = -\mathbb E_x[y\, f_\theta(x)]$,
#
# $$ \frac{\partial L}{\partial w_{ji}} \;=\; -\,a_j\, \hat g_j(S \triangle \{i\}), \qquad
#    \frac{\partial L}{\partial b_j} = -\,a_j\, \hat g_j(S). $$
#
# So a relevant coordinate $i \in S$ receives a coefficient of degree $k - 1$ and an irrelevant
# coordinate $i \notin S$ one of degree $k + 1$.
# :::


# %% [markdown]
# :::{prf:proof}
# The expectation is a finite average, so we may differentiate inside it:
# $\partial L / \partial w_{ji} = -a_j\, \mathbb E[\chi_S(x)\, x_i\, \sigma'(w_j \cdot x + b_j)]$.
# Since $x_i^2 = 1$, $\chi_S(x)\, x_i = \chi_{S \triangle \{i\}}(x)$, and
# $\mathbb E[\chi_{S \triangle \{i\}}\, g_j] = \hat g_j(S \triangle \{i\})$ by definition. For
# $i \in S$ the set $S \triangle \{i\} = S \setminus \{i\}$ has $k-1$ elements; for $i \notin S$,
# $S \cup \{i\}$ has $k+1$. The bias is the case of a constant input $x_0 \equiv 1$, which contributes
# no factor: $\mathbb E[\chi_S\, g_j] = \hat g_j(S)$.
# :::
#
# For a general neuron the coefficients $\hat g_j(S \setminus \{i\})$ differ from coordinate to
# coordinate. For a *symmetric* neuron they do not, and the picture becomes exact.


# %% [markdown]
# :::{prf:corollary} Symmetric neurons see a Fourier gap
# :label: cor-ch01-symmetric
#
# If $w_j = c\,\varepsilon$ for a sign vector $\varepsilon \in \{-1,+1\}^n$ and $c > 0$ (for instance
# all ones), write $\xi_m$ for the Fourier coefficient, on any set of size $m$, of
# $x \mapsto \mathbf 1[\sum_i x_i + b_j / c > 0]$. Then
# $\hat g_j(T) = \xi_{|T|} \prod_{i \in T} \varepsilon_i$, and
#
# $$ \Big|\frac{\partial L}{\partial w_{ji}}\Big| = |a_j|\,|\xi_{k-1}| \text{ for every } i \in S, \qquad
#    \Big|\frac{\partial L}{\partial w_{ji}}\Big| = |a_j|\,|\xi_{k+1}| \text{ for every } i \notin S. $$
# :::


# %% [markdown]
# :::{prf:proof}
# The change of variables $x_i \mapsto \varepsilon_i x_i$ preserves the uniform distribution and maps
# $\chi_T$ to $(\prod_{i \in T} \varepsilon_i)\, \chi_T$, so it reduces the claim to
# $\varepsilon = \mathbf 1$. Then $g_j(x) = \mathbf 1[\sum_i x_i + b_j/c > 0]$ is invariant under
# permutations of the coordinates, so $\hat g_j(T)$ depends only on $|T|$. Apply
# {prf:ref}`prop-ch01-gradient-fourier`.
# :::
#
# For $b_j = 0$ and odd $n$, $g_j = \tfrac12(1 + \mathrm{Maj}_n)$ where
# $\mathrm{Maj}_n(x) = \mathrm{sign}(\sum_i x_i)$, and the coefficients of majority are known in
# closed form.


# %% [markdown]
# :::{prf:lemma} The Fourier gap of majority
# :label: lem-ch01-majority
#
# Let $n$ be odd and $b_j = 0$. Then $\xi_m = 0$ for every even $m \ge 2$, and for odd $m$
#
# $$ |\xi_m| \;=\; \frac{\binom{(n-1)/2}{(m-1)/2}}{\binom{n-1}{m-1}} \cdot 2^{-n} \binom{n-1}{(n-1)/2}. $$
#
# Consequently, for even $k$ with $k + 1 \le n$,
# $\;|\xi_{k-1}| \,/\, |\xi_{k+1}| = (n-k)/(k-1)$, and for fixed odd $m$,
# $|\xi_m| = \Theta(n^{-m/2})$ as $n \to \infty$: the relevant gradient is $\Theta(n^{-(k-1)/2})$, the
# irrelevant one $\Theta(n^{-(k+1)/2})$, and the *Fourier gap* $|\xi_{k-1}| - |\xi_{k+1}|$ is
# $\Theta(n^{-(k-1)/2})$.
# :::


# %% [markdown]
# :::{prf:proof}
# $\mathrm{Maj}_n$ is odd, so its even-degree coefficients vanish, and
# $\xi_m = \tfrac12 \widehat{\mathrm{Maj}}_n(m)$ for $m \ge 1$. The displayed value is majority's
# coefficient formula from {cite}`odonnell2014analysis`, Chapter 5, halved (the code below checks it
# exactly against a direct computation). For the ratio, with $r = (m-1)/2$ and $M = (n-1)/2$,
# $\binom{M}{r} / \binom{M}{r+1} = (m+1)/(n-m)$ and
# $\binom{n-1}{m+1} / \binom{n-1}{m-1} = (n-m)(n-m-1)/((m+1)m)$, so
# $|\xi_m| / |\xi_{m+2}| = (n-m-1)/m$; put $m = k-1$. For the asymptotics,
# $2^{-n}\binom{n-1}{(n-1)/2} = \Theta(n^{-1/2})$ and, for fixed $m$,
# $\binom{M}{r} / \binom{n-1}{m-1} = \Theta(n^{r - (m-1)}) = \Theta(n^{-(m-1)/2})$.
# :::
#
# So at a symmetric initialisation the population gradient already *points at* $S$: every relevant
# weight moves by the same amount, every irrelevant one by a factor $(n-k)/(k-1)$ less. The signal
# is weak, of order $n^{-(k-1)/2}$, and resolving it from a sample average takes about $n^{k-1}$
# samples. In the language of {prf:ref}`thm-ch01-sq-lower-bound`: the $n$ gradient coordinates of a
# unit are $n$ statistical queries, $\phi(x, y) = -a_j\, y\, x_i\, g_j(x)$, each needing a tolerance
# below the gap, $\tau \approx n^{-(k-1)/2}$; then $q/\tau^2 \approx n \cdot n^{k-1} = n^k$, the
# lower bound's $\binom nk \approx n^k/k!$ up to the factor $k!$. This is the sense in which gradient
# descent learns parities *near the computational limit*. Note the parity condition: with
# $b_j = 0$ and odd $n$, an odd $k$ receives no signal at all ({ref}`Exercise <ex-ch01-odd-k>`), and
# the theorem below assumes $k$ even.
#
# ### The gap in code
#
# A function of $x$ that depends only on the number $m(x)$ of coordinates equal to $-1$ has the same
# coefficient $\xi_d$ on every set of size $d$. Grouping the $2^n$ points by $m$, and by how many of
# their $-1$'s fall in the set, gives an exact formula (a Krawtchouk polynomial) that runs for $n$ in
# the hundreds. We check it against `analysis.walsh_coefficients` on small cubes, and check the
# majority formula of the lemma against it.


# %%
def symmetric_coefficient(G, d):
    """Exact Fourier coefficient, on any set T with |T| = d, of x -> G[m(x)], m(x) = #{i: x_i = -1}.

    2^n ghat(T) = sum_m G[m] * sum_l (-1)^l C(d, l) C(n - d, m - l): of the points with m minus-ones,
    C(d, l) C(n - d, m - l) have l of them inside T, where chi_T = (-1)^l.
    """
    n = len(G) - 1
    if not 0 <= d <= n:
        raise ValueError(f"need 0 <= d <= n = {n}, got d = {d}")
    total = sum(
        G[m]
        * sum((-1) ** l * comb(d, l) * comb(n - d, m - l) for l in range(min(d, m) + 1))
        for m in range(n + 1)
    )
    return Fraction(total, 2**n)


def neuron_G(n, beta=0):
    """G[m] for g(x) = 1[sum_i x_i + beta > 0], the derivative of a symmetric ReLU neuron (bias/c = beta)."""
    return [int(n - 2 * m + beta > 0) for m in range(n + 1)]


def majority_xi(n, d):
    """|xi_d| from the lemma (odd n, odd d)."""
    M, r = (n - 1) // 2, (d - 1) // 2
    return Fraction(comb(M, r), comb(n - 1, d - 1)) * Fraction(comb(n - 1, M), 2**n)


for n in (7, 8, 11):  # 8: even n, where ties sum(x) = 0 occur
    x = tasks.hypercube(n)
    ghat = analysis.walsh_coefficients((x.sum(1) > 0).double())
    sizes = torch.tensor([bin(s).count("1") for s in range(2**n)])
    exact = torch.tensor(
        [float(symmetric_coefficient(neuron_G(n), d)) for d in range(n + 1)],
        dtype=torch.float64,
    )
    assert torch.allclose(ghat, exact[sizes], atol=1e-12), n
for n in (7, 11, 31, 101):
    xi = [symmetric_coefficient(neuron_G(n), d) for d in range(1, 8)]
    assert all(xi[d - 1] == 0 for d in (2, 4, 6)), "even degrees must vanish"
    assert all(abs(xi[d - 1]) == majority_xi(n, d) for d in (1, 3, 5, 7)), (
        "majority formula"
    )
print(
    "Krawtchouk formula = Walsh-Hadamard transform; majority formula exact for n = 7, 11, 31, 101"
)

# %% [markdown]
# Now the proposition itself, for a network at PyTorch's default (random, non-symmetric)
# initialisation. We compute the *population* gradient exactly, by autograd on the correlation loss
# averaged over all $2^n$ points of the cube in double precision, and compare it with the Fourier
# formula $-a_j \hat g_j(S \triangle \{i\})$, whose coefficients come from
# `analysis.walsh_coefficients` of the $d$ functions $g_j$.

# %%
n_g, k_g, d_g = 12, 3, 32
task_g = tasks.SparseParity.random(n_g, k_g, seed=3)
x_g = tasks.hypercube(n_g).double()
y_g = task_g.label(x_g)
net_g = models.MLP(n_g, d_g, seed=0).double()

loss_g = -(y_g * net_g(x_g)).mean()  # exact population correlation loss
grad_autograd = torch.autograd.grad(loss_g, net_g.layers[0].weight)[0]  # (d, n)

with torch.no_grad():
    g_vals = (net_g.layers[0](x_g) > 0).double().T  # (d, 2^n): g_j on the cube
    g_hat = analysis.walsh_coefficients(g_vals)
    a = net_g.layers[1].weight.view(-1)  # output weights a_j
    mask_S = analysis.subset_mask(task_g.support)
    grad_fourier = torch.stack(
        [-a * g_hat[:, mask_S ^ (1 << i)] for i in range(n_g)], dim=1
    )

grad_err = float((grad_autograd - grad_fourier).abs().max())
relevant = torch.zeros(n_g, dtype=torch.bool)
relevant[list(task_g.support)] = True
print(f"max |autograd - Fourier formula| = {grad_err:.1e} over {d_g * n_g} weights")
print(
    f"default init: mean |dL/dw_ji| relevant {grad_autograd[:, relevant].abs().mean():.2e}, "
    f"irrelevant {grad_autograd[:, ~relevant].abs().mean():.2e}"
)
notebook.glue("grad_err", grad_err)

# %% [markdown]
# The largest difference between the two computations is {glue:text}`grad_err:.1e`: they agree up to
# rounding in double precision.
# Even at a random initialisation the relevant coordinates receive larger gradients on average. At a
# symmetric initialisation ($w_j = \mathbf 1$, $b_j = 0$, odd $n$) the corollary predicts the gradient
# magnitudes exactly: the same value on every relevant coordinate, the same smaller value on every
# irrelevant one, with ratio $(n-k)/(k-1)$ for even $k$, and no signal at all for odd $k$.

# %%
n_s = 13
x_s = tasks.hypercube(n_s).double()
for k in (2, 3, 4):
    task_s = tasks.SparseParity.first(n_s, k)
    net_s = models.MLP(n_s, 2).double()
    with torch.no_grad():  # two units, w_j = 1, b_j = 0, a = (+1, -1)
        net_s.layers[0].weight.fill_(1.0)
        net_s.layers[0].bias.zero_()
        net_s.layers[1].weight.copy_(torch.tensor([[1.0, -1.0]]))
    grad = torch.autograd.grad(
        -(task_s.label(x_s) * net_s(x_s)).mean(), net_s.layers[0].weight
    )[0].abs()
    rel, irr = grad[:, :k], grad[:, k:]
    xi = [abs(float(symmetric_coefficient(neuron_G(n_s), m))) for m in (k - 1, k + 1)]
    assert torch.allclose(rel, torch.full_like(rel, xi[0])) and torch.allclose(
        irr, torch.full_like(irr, xi[1])
    )
    ratio = (
        f"{xi[0] / xi[1]:.3f} = (n-k)/(k-1) = {(n_s - k) / (k - 1):.3f}"
        if xi[1]
        else "undefined: no signal"
    )
    print(f"k={k}: |grad| relevant {xi[0]:.2e}, irrelevant {xi[1]:.2e}, ratio {ratio}")

# %% [markdown]
# How the gap scales with $n$: the exact coefficients $|\xi_m|$ of the symmetric neuron for
# $m = 1, 3, 5$, which are the relevant ($m = k-1$) and irrelevant ($m = k+1$) gradients for $k = 2$
# and $k = 4$. The fitted slopes on log–log axes should approach $-m/2$; we fit over large $n$, where
# the lower-order corrections are small.

# %%
ns_gap = [51, 101, 201, 401, 801]
fig, ax = plt.subplots()
ax.set_prop_cycle(
    color=[c for c in plotting.COLORS[:3] for _ in range(2)]
)  # points and fit share a colour
gap_slopes = {}
for m in (1, 3, 5):
    xi_m = [abs(float(symmetric_coefficient(neuron_G(n), m))) for n in ns_gap]
    fit = analysis.loglog_fit(ns_gap, xi_m)
    gap_slopes[m] = fit.slope
    plotting.plot_loglog_fit(ax, ns_gap, xi_m, fit, label=f"degree m = {m}")
ax.set_xticks(ns_gap, labels=[str(n) for n in ns_gap], minor=False)
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("input dimension n")
ax.set_ylabel(r"$|\xi_m|$ = gradient per unit output weight")
ax.set_title("Degree-m coefficients of a symmetric neuron fall like $n^{-m/2}$")
plt.show()
for m, slope in gap_slopes.items():
    print(f"degree {m}: fitted slope {slope:.3f} (asymptotic -m/2 = {-m / 2})")
    assert abs(slope + m / 2) < 0.1, (
        "the coefficient of degree m should scale as n^(-m/2)"
    )

# %% [markdown]
# ## What SGD provably does
#
# The Fourier gap turns into a learning guarantee. We first prove, with explicit constants, what
# one step of SGD does to a sign-initialised unit: the paper's *feature-learning step*. Then we state
# the shape of {cite}`barak2022hidden`'s end-to-end theorem and sketch how the rest of it goes.

# %% [markdown]
# :::{prf:lemma} One SGD step finds the support
# :label: lem-ch01-one-step
#
# Let $k \ge 2$, $|S| = k$, and let $f_\theta(x) = \sum_{j=1}^d a_j\, \mathrm{ReLU}(w_j \cdot x + b_j)$
# with $w_j = \varepsilon_j \in \{-1,+1\}^n$ and $f_\theta \equiv 0$ on the cube (for instance units
# in pairs with equal $w_j, b_j$ and opposite $a_j$). Take one step of mini-batch SGD on the hinge
# loss with $B$ fresh examples $(x, \chi_S(x))$, step size $\eta$ and weight decay $\lambda = 1/\eta$
# on the first-layer weights, so that $w_j^{1} = w_j - \eta(G_j + \lambda w_j) = -\eta\, G_j$ with
# $G_j$ the batch gradient; $a_j$ and $b_j$ are not changed in this step. Write $\xi_m(\beta)$ for the
# coefficient $\xi_m$ of {prf:ref}`cor-ch01-symmetric` for the unit $\mathbf 1[\sum_i x_i + \beta > 0]$
# and $\mu_{ji} = \eta\, a_j\, \xi_{|S \triangle \{i\}|}(b_j)\, \chi_{S \triangle \{i\}}(\varepsilon_j)$.
# For $\tau > 0$ and $\delta \in (0,1)$, if
#
# $$ B \;\ge\; \frac{2}{\tau^2} \log\frac{2dn}{\delta}, $$
#
# then with probability at least $1 - \delta$ over the batch, for every unit $j$ and coordinate $i$,
#
# 1. $|w^1_{ji} - \mu_{ji}| \le \eta\, |a_j|\, \tau$; on $S$,
#    $\mu_{ji} = \eta\, a_j\, \xi_{k-1}(b_j)\, \chi_S(\varepsilon_j)\, \varepsilon_{ji}$, a common factor
#    times the initial sign;
# 2. (**separation**) if $\Delta_j = |\xi_{k-1}(b_j)| - |\xi_{k+1}(b_j)| > 0$ and $\tau \le \Delta_j/4$,
#    then every relevant weight of unit $j$ is larger in magnitude than every irrelevant one:
#    $|w^1_{ji}| \ge \eta |a_j|(|\xi_{k-1}(b_j)| - \Delta_j/4) > \eta |a_j|(|\xi_{k+1}(b_j)| + \Delta_j/4)
#    \ge |w^1_{ji'}|$ for $i \in S$, $i' \notin S$;
# 3. (**the unit reads one signed sum**) with
#    $u_j(x) = \mathrm{ReLU}\big(\eta\, a_j\, \xi_{k-1}(b_j)\, \chi_S(\varepsilon_j)
#    \sum_{i \in S} \varepsilon_{ji} x_i + b_j\big)$,
#
#    $$ \mathbb E_x\big[(\mathrm{ReLU}(w^1_j \cdot x + b_j) - u_j(x))^2\big]^{1/2}
#       \;\le\; \eta\, |a_j|\, \sqrt n\, \big(|\xi_{k+1}(b_j)| + \tau\big). $$
#
# For $b_j = 0$, odd $n$ and even $k$ ({prf:ref}`lem-ch01-majority`),
# $\Delta_j = |\xi_{k-1}|\,(n - 2k + 1)/(n - k) = \Theta(n^{-(k-1)/2})$: separation needs
# $B = O(n^{k-1} \log(dn/\delta))$. Taking $\tau = \gamma\, |\xi_{k-1}| / \sqrt n$, the error in 3,
# relative to the scale $\eta |a_j| |\xi_{k-1}|$ of the weights on $S$, is at most
# $(k-1)\sqrt n/(n-k) + \gamma$, with $B = O(n^{k} \log(dn/\delta) / \gamma^2)$.
# :::

# %% [markdown]
# :::{prf:proof}
# At $f_\theta \equiv 0$ every example is in the linear part of the hinge loss,
# $\max(0, 1 - y f) = 1 - yf$ near $f = 0$, so the batch gradient is that of the batch correlation
# loss: $G_{ji} = \frac1B \sum_{b=1}^B Z_b$ with $Z_b = -a_j\, y_b\, x_{b,i}\,
# \mathbf 1[w_j \cdot x_b + b_j > 0]$ (the value autograd uses, {prf:ref}`prop-ch01-gradient-fourier`).
# The $Z_b$ are independent, take values in $[-|a_j|, |a_j|]$, and by
# {prf:ref}`prop-ch01-gradient-fourier` and {prf:ref}`cor-ch01-symmetric` (with $c = 1$) have mean
# $-a_j\, \hat g_j(S \triangle \{i\}) = -a_j\, \xi_{|S \triangle\{i\}|}(b_j)\,
# \chi_{S \triangle \{i\}}(\varepsilon_j) = -\mu_{ji}/\eta$. Hoeffding's inequality for variables
# with range $2|a_j|$ gives $\Pr[|G_{ji} + \mu_{ji}/\eta| > |a_j|\tau] \le 2e^{-B\tau^2/2}$, and a
# union bound over the $dn$ pairs $(j, i)$ bounds the failure probability by
# $2dn\, e^{-B\tau^2/2} \le \delta$ under the condition on $B$. On the complementary event,
# $w^1_{ji} = -\eta G_{ji}$ is within $\eta|a_j|\tau$ of $\mu_{ji}$: this is 1. For $i \in S$,
# $\chi_{S \setminus \{i\}}(\varepsilon_j) = \chi_S(\varepsilon_j)\, \varepsilon_{ji}$ because
# $\varepsilon_{ji}^2 = 1$.
#
# For 2, $|\mu_{ji}| = \eta|a_j||\xi_{k-1}(b_j)|$ for $i \in S$ and $\eta|a_j||\xi_{k+1}(b_j)|$ for
# $i \notin S$; add and subtract $\eta|a_j|\tau \le \eta|a_j|\Delta_j/4$, and note
# $|\xi_{k-1}| - \Delta_j/4 - (|\xi_{k+1}| + \Delta_j/4) = \Delta_j/2 > 0$.
#
# For 3, let $w^\star_j$ equal $\mu_{ji}$ on $S$ and $0$ off $S$, so that
# $u_j(x) = \mathrm{ReLU}(w^\star_j \cdot x + b_j)$. The ReLU is $1$-Lipschitz and the coordinates of
# $x$ are uncorrelated with unit variance, so the left side is at most
# $\mathbb E[((w^1_j - w^\star_j)\cdot x)^2]^{1/2} = \|w^1_j - w^\star_j\|_2$. By 1, its
# coordinates are at most $\eta|a_j|\tau$ on $S$ and $\eta|a_j|(|\xi_{k+1}(b_j)| + \tau)$ off $S$, so
# $\|w^1_j - w^\star_j\|_2 \le \eta|a_j|\sqrt n\,(|\xi_{k+1}(b_j)| + \tau)$.
#
# The consequences for $b_j = 0$: by {prf:ref}`lem-ch01-majority`,
# $|\xi_{k+1}| = |\xi_{k-1}|\,(k-1)/(n-k)$, which gives $\Delta_j$, and
# $\sqrt n\,(|\xi_{k+1}| + \gamma|\xi_{k-1}|/\sqrt n) = |\xi_{k-1}|\,((k-1)\sqrt n/(n-k) + \gamma)$.
# Since $|\xi_{k-1}| = \Theta(n^{-(k-1)/2})$, the conditions $B \ge 32 \log(2dn/\delta)/\Delta_j^2$
# and $B \ge 2n\log(2dn/\delta)/(\gamma^2 \xi_{k-1}^2)$ read $B = O(n^{k-1}\log(dn/\delta))$ and
# $B = O(n^k \log(dn/\delta)/\gamma^2)$.
# :::
#
# Part 3 is what the end-to-end theorem needs: after one step, each unit is close in $L^2$ to a
# ReLU of the signed sum $s_{\varepsilon}(x) = \sum_{i \in S} \varepsilon_{ji} x_i$. Any sign pattern
# will do, because $\chi_S(x) = \chi_S(\varepsilon)\, \chi_S(\varepsilon \odot x)$ and
# $\chi_S(\varepsilon \odot x)$ is a function of $s_\varepsilon(x)$ (it is $(-1)^m$ with
# $s_\varepsilon = k - 2m$); so the units that share one pattern $\pm \varepsilon|_S$, with enough
# different biases, can play the role of the $k$ units of {prf:ref}`prop-ch01-parity-network`.

# %% [markdown]
# :::{prf:theorem} SGD on a two-layer ReLU network learns sparse parities (labelled variant: the shape of Barak et al.'s Theorem 4)
# :label: thm-ch01-sgd-learns
#
# Let $k \ge 2$ be even and $\varepsilon \in (0, 1/2)$. Train
# $f_\theta(x) = \sum_{j=1}^d a_j\, \mathrm{ReLU}(w_j \cdot x + b_j)$ on the $(n,k)$-sparse parity
# with the hinge loss by online mini-batch SGD (fresh samples at every step), from a sign
# initialisation: $w_j$ uniform on $\{-1,+1\}^n$, biases from a finite grid, output weights in
# pairs with opposite signs so that $f_{\theta_0} \equiv 0$; use two phases, one large step with
# weight decay $1/\eta$ on the first layer ({prf:ref}`lem-ch01-one-step`), then steps that train
# the output layer. There are a width $d = 2^{\Theta(k)} \log(k/\varepsilon)$, a batch size
# $B = n^{O(k)} \log(n/\varepsilon)$, step sizes and a number of steps $T$ polynomial in $n^k$, $d$
# and $1/\varepsilon$ such that the best iterate has expected hinge loss at most $\varepsilon$.
# In total SGD uses $T \cdot B = n^{O(k)}$ samples and time. For statistical-query learners,
# and for SGD whose gradients are only known to coarse precision ({prf:ref}`prop-ch03-coarse-sq`
# in Chapter 3), {prf:ref}`thm-ch01-sq-lower-bound` shows that $n^{\Omega(k)}$ is necessary, so
# for such learners this is optimal up to the constant in the exponent; SGD with fine precision
# is not covered (Chapter 3 shows it can learn parities with polynomially many samples).
# :::
#
# **How this relates to the paper.** This is a *labelled variant*: the paper's theorem (Theorem 4 of
# {cite}`barak2022hidden`) gives explicit values for the bias grid, the two step sizes, the weight
# decay and the number of steps, and a lower bound on $n$ in terms of $k$ and $\varepsilon$; we
# could not check that text line by line, so we give the width and the batch size in the form we
# recall ($2^{\Theta(k)}\log(k/\varepsilon)$ and $n^{O(k)}\log(n/\varepsilon)$), and leave the rest
# as "polynomial". What the chapter proves with explicit constants is the first phase,
# {prf:ref}`lem-ch01-one-step`, with $B = O(n^{k}\log(dn/\delta))$ at zero bias; the second phase is
# sketched below. The scaling sweep of {ref}`sec-ch01-scaling` uses the theorem's initialisation
# and even $k$, but many small steps rather than one large one; the plateau-and-jump experiment
# goes further from the theorem: PyTorch's default random initialisation and odd $k$.

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch. It skips the choice of the bias grid that makes enough units diverse, the
# propagation of the $L^2$ error of {prf:ref}`lem-ch01-one-step` through the output layer, and the
# convergence analysis of the second phase; see {cite}`barak2022hidden` for these.)* At the sign
# initialisation $f_{\theta_0} \equiv 0$, and {prf:ref}`lem-ch01-one-step` (proved above in full)
# shows that after the first step, with $B = n^{O(k)}\log(dn/\delta)$, every unit $j$ is within a
# small $L^2$ distance of $\mathrm{ReLU}(c_j\, s_{\varepsilon_j}(x) + b_j)$, a ReLU of the signed sum
# of the relevant coordinates with the unit's initial signs on $S$. A parity is a function of any
# one such sum (the remark after the lemma), and by {prf:ref}`prop-ch01-parity-network` $k$ ReLUs of
# one signed sum with suitable biases represent it. The units fall into $2^{k-1}$ classes (the sign
# patterns on $S$ up to a global sign), so a width $2^{\Theta(k)}$, times a logarithmic factor for
# the failure probability, puts enough units with suitable biases into one class: this, not "equal
# signs", is where the $2^k$ in the width comes from. With the first layer fixed, training the
# output layer is a convex problem (a linear model in fixed features with a convex loss), which SGD
# solves to accuracy $\varepsilon$ in polynomially many steps, up to the approximation error that
# part 3 of the lemma controls.
# :::

# %% [markdown]
# (sec-ch01-experiment)=
# ## Experiment: the plateau, the jump, and the progress underneath
#
# ### The plateau and the jump
#
# Now we train, in a setting like the paper's experiments rather than its theorem: two-layer
# ReLU networks with PyTorch's default uniform initialisation, the hinge loss, online SGD (a fresh
# batch of examples at every step) with a constant learning rate and a small weight decay, and odd
# $k = 3$; the next cell sets and prints the width, batch size, learning rate and weight decay. We
# train an ensemble of seeds as one batched model (`ensemble.stack`), so that every curve below is a
# median over members with a band from the 10th to the 90th percentile. By symmetry we may take
# $S = \{0, 1, 2\}$ (indices from 0 in code).

# %%
WIDTH, LR, BATCH, WD = (
    128,
    0.1,
    32,
    0.01,
)  # width d, learning rate, batch size, weight decay
print(
    f"width d = {WIDTH}, batch size B = {BATCH}, learning rate = {LR}, weight decay = {WD}"
)
notebook.glue("batch", BATCH)


def make_ensemble(n, members, width=WIDTH, seed=0):
    """`members` two-layer ReLU networks (default uniform init, seeds seed, seed+1, ...) as one model."""
    return ensemble.stack(
        [models.MLP(n, width, seed=seed + s) for s in range(members)]
    ).to(cfg.device)


def online_batches(task, batch=BATCH):
    """batches(step, generator) for train.fit: fresh examples at every step (online SGD)."""
    return lambda step, gen: task.sample(batch, generator=gen)


def accuracy_metric(x, y):
    """evaluate(model) for train.fit: per-member accuracy of sign(f) on the test points (x, y)."""
    return lambda model: {"acc": ((model(x) * y) > 0).float().mean(1)}


def weight_ratio(W, support):
    """Per member: rms first-layer weight on the columns `support` / rms on the others.

    W: (E, d, n). About 1 at a random initialisation, whatever `support` is."""
    on = torch.zeros(W.shape[-1], dtype=torch.bool, device=W.device)
    on[list(support)] = True
    return (W[..., on].pow(2).mean((-1, -2)) / W[..., ~on].pow(2).mean((-1, -2))).sqrt()


def subcube_fourier_ratio(n, sets, sub=SUB, seed=7):
    """measure(model) -> for each set T in `sets`, per member, the Fourier gap of the units,
    computed exactly on a sub-cube.

    Coordinates 0..sub-1 (they contain every T) range over {±1}^sub, the others are fixed at
    random signs. For unit j, g_j(x) = 1[w_j.x + b_j > 0] on these 2^sub points; the gradient
    of w_ji is -a_j ghat_j(S - {i}) for i in S and -a_j ghat_j(S + {i}) otherwise (the
    proposition, on the sub-cube), S the support. Returned for each T: sum_j |a_j|
    mean_{i in T} |ghat_j(T - i)| over sum_j |a_j| mean_{i in U - T} |ghat_j(T + i)|, U the
    sub-cube's coordinates: a list of (E,) tensors."""
    x = tasks.random_signs(1, n, generator=torch.Generator().manual_seed(seed))
    x = x.repeat(2**sub, 1).to(cfg.device)
    x[:, :sub] = tasks.hypercube(sub).to(cfg.device)
    chars = []
    for T in map(list, sets):
        rel = torch.stack([tasks.parity(x, [t for t in T if t != i]) for i in T], 1)
        irr = torch.stack(
            [tasks.parity(x, T + [i]) for i in range(sub) if i not in T], 1
        )
        chars.append((rel, irr))

    def measure(model):
        pre = torch.einsum("edn,pn->edp", model.first_layer, x)
        g = (pre + model.biases[0].transpose(1, 2) > 0).float()  # (E, d, 2^sub)
        a = model.weights[1].squeeze(-1).abs()  # (E, d): |a_j|
        out = []
        for rel, irr in chars:
            c_rel = (g @ rel / len(x)).abs().mean(-1)  # (E, d)
            c_irr = (g @ irr / len(x)).abs().mean(-1)
            out.append((a * c_rel).sum(1) / (a * c_irr).sum(1))
        return out

    return measure


def set_ratios(W, sets):
    """(E, len(sets)): weight_ratio(W, T) for each set T (all of one size)."""
    M = torch.zeros(W.shape[-1], len(sets), device=W.device)
    for c, T in enumerate(sets):
        M[list(T), c] = 1.0
    col = W.pow(2).mean(-2)  # (E, n): mean square weight on each input coordinate
    k = M[:, 0].sum()
    inside = col @ M / k
    outside = (col.sum(-1, keepdim=True) - col @ M) / (W.shape[-1] - k)
    return (inside / outside).sqrt()


def aligned_weights(model, sets):
    """(E, len(sets)): for each set T, the |a_j|-weighted mean over units j of
    sigma_j(T) sum_{i in T} |w_ji|, with sigma_j(T) = sign(-a_j b_j prod_{i in T} w_ji) the
    sign in which the drift of the proposition moves prod_{i in T} w_ji (see the text)."""
    W = model.first_layer  # (E, d, n)
    a = model.weights[1].squeeze(-1)  # (E, d)
    b = model.biases[0].reshape(a.shape)  # (E, d)
    WT = W[..., torch.as_tensor(sets, device=W.device)]  # (E, d, C, k)
    sigma = torch.sign(-(a * b)[..., None] * WT.prod(-1))  # (E, d, C)
    num = (a.abs()[..., None] * sigma * WT.abs().sum(-1)).sum(1)  # (E, C)
    return num / a.abs().sum(1, keepdim=True)


def parity_metrics(task, m_test=1000, seed=123, w0=None, controls=None):
    """evaluate(model) for train.fit: per member, test accuracy and hinge loss, the weight
    fraction on S, and (when w0, the initial first layer, and control sets are given) the
    progress measures of the hidden-progress experiment."""
    x, y = task.sample(m_test, generator=cfg.generator(seed))
    if w0 is not None:
        n = task.n
        fourier = subcube_fourier_ratio(n, [task.support, controls[0]])

    def evaluate(model):
        out = model(x)  # (E, m_test)
        W = model.first_layer
        vals = {
            "acc": ((out * y) > 0).float().mean(1),
            "test_loss": (1 - out * y).clamp(min=0).mean(1),
            "wfrac": analysis.support_weight_fraction(W, task.support),
        }
        if w0 is not None:
            four_S, four_C = fourier(model)
            r_C = set_ratios(W, controls)  # (E, C)
            al = aligned_weights(model, [list(task.support)] + controls)  # (E, 1 + C)
            al_C = al[:, 1:]
            vals |= {
                "ratio_S": weight_ratio(W, task.support),
                "ratio_C": r_C[:, 0],
                "fourier_S": four_S,
                "fourier_C": four_C,
                "move": (W - w0).abs().amax((1, 2)),  # ||W_t - W_0||_inf
                "align_S": al[:, 0],
                "align_C": al_C[:, 0],
                "align_band": al_C.mean(1) + K_SD * al_C.std(1),  # (E,) per member
            }
            med_r, med_al = r_C.quantile(0.5, dim=0), al_C.quantile(0.5, dim=0)  # (C,)
            for c in range(len(controls)):  # each control set's median over members
                vals[f"ratio_m{c}"] = float(med_r[c])
                vals[f"align_m{c}"] = float(med_al[c])
        return vals

    return evaluate


task_main = tasks.SparseParity.first(N_MAIN, K_MAIN)
controls = [  # disjoint control sets of k irrelevant coordinates
    list(range(K_MAIN * c, K_MAIN * (c + 1))) for c in range(1, N_MAIN // K_MAIN)
]
net_main = make_ensemble(N_MAIN, E_MAIN)
evaluate_main = parity_metrics(
    task_main, w0=net_main.first_layer.detach().clone(), controls=controls
)
with torch.no_grad():
    at_init = evaluate_main(net_main)  # step 0
hist = train.fit(
    net_main,
    online_batches(task_main),
    steps=STEPS_MAIN,
    loss="hinge",
    lr=LR,
    weight_decay=WD,
    evaluate=evaluate_main,
    eval_every=25,
    data_seed=cfg.seed,
    checkpoint_dir=cfg.checkpoint(f"ch01/main_n{N_MAIN}_k{K_MAIN}"),
    tag=f"{task_main!r}, batch {BATCH}, progress measures with drift-aligned",
    desc=f"n={N_MAIN}, k={K_MAIN}",
)
steps = np.concatenate([[0], hist.step_array])


def series(name):
    """(evaluations + 1, E): the metric `name` per member, from step 0."""
    v0 = torch.as_tensor(at_init[name], dtype=torch.float64).cpu().numpy().reshape(-1)
    return np.concatenate([np.broadcast_to(v0, hist[name].shape[1:])[None], hist[name]])


acc_med = np.median(series("acc"), 1)
loss_med = np.median(series("test_loss"), 1)
print(
    f"{E_MAIN} networks, n = {N_MAIN}, k = {K_MAIN}: median test accuracy {acc_med[0]:.3f} "
    f"at step 0, {acc_med[-1]:.3f} after {steps[-1]} steps"
)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
plotting.plot_band(ax1, steps, series("test_loss"), label="test hinge loss")
ax1.axhline(1.0, color="gray", ls=":", label="chance level (f = 0)")
ax1.set(
    xlabel="steps", ylabel="hinge loss", title="The loss sits at chance, then falls"
)
ax1.legend()
plotting.plot_band(
    ax2, steps, series("acc"), label="test accuracy", color=plotting.COLORS[1]
)
ax2.set(xlabel="steps", ylabel="accuracy", title="Accuracy jumps from 50% to 100%")
ax2.legend()
plt.show()


def first_step(mask):
    """The first recorded step at which `mask` holds (None if it never does)."""
    return int(steps[np.argmax(mask)]) if mask.any() else None


# Abrupt, not gradual: a linear ramp from 0.5 at step 0 to 1 at step T spends 8 times as long
# rising from 0.55 to 0.95 as reaching 0.55, a saturating exponential about 20 times; we call the
# jump abrupt if the rise takes at most half as long as the plateau before it, for the median
# curve and for the median member.
ABRUPT = 0.5
t_55, t_95 = first_step(acc_med >= 0.55), first_step(acc_med >= 0.95)
rise_ratio = (t_95 - t_55) / t_55 if t_55 and t_95 else float("nan")
acc_all = series("acc")
member_ratio = []
for e in range(E_MAIN):
    a55, a95 = first_step(acc_all[:, e] >= 0.55), first_step(acc_all[:, e] >= 0.95)
    member_ratio.append((a95 - a55) / a55 if a55 and a95 else float("inf"))
member_rise = float(np.median(member_ratio))
print(
    f"median accuracy reaches 0.55 at step {t_55} and 0.95 at step {t_95}: "
    f"the rise takes {rise_ratio:.2f} times as long as the plateau "
    f"(median over members of the same ratio: {member_rise:.2f})"
)
notebook.glue("t_55", t_55)
notebook.glue("t_95", t_95)
notebook.glue("rise_ratio", rise_ratio)
notebook.glue("member_rise", member_rise)
reproduce.report(
    "barak2022hidden",
    claim="SGD on a two-layer ReLU network learns a sparse parity after a plateau at chance "
    "level, with an abrupt jump of the loss and the error",
    paper_value="error near 50% for most of training, then an abrupt drop to near 0 "
    "((n, k) = (50, 3) among their runs)",
    value=f"n={N_MAIN}, k={K_MAIN}: accuracy {acc_med[0]:.2f} -> {acc_med[-1]:.2f}; "
    f"0.55 at step {t_55}, 0.95 at step {t_95}; rise/plateau {rise_ratio:.2f} "
    f"(median member {member_rise:.2f})",
    assertion="median test accuracy <= 0.6 at step 0 and >= 0.95 at the end, and the rise "
    f"from 0.55 to 0.95 takes at most {ABRUPT} x the steps before 0.55, for the median curve "
    "and for the median member",
    passed=bool(
        acc_med[0] <= 0.6
        and acc_med[-1] >= 0.95
        and rise_ratio <= ABRUPT
        and member_rise <= ABRUPT
    ),
    status="reproduced",
    section="sec-ch01-experiment",
)

# %% [markdown]
# (sec-ch01-hidden-progress)=
# ### Hidden progress
#
# For most of the run the networks are no better than a coin; then, within a few hundred steps,
# they become perfect. Is anything happening during the plateau? To answer this we need two things
# fixed in advance (the settings cell): when the output *departs* from chance, and when a progress
# measure *separates*.
#
# - **Departure.** The test loss and the test accuracy, medians over the seeds, fluctuate during
#   the plateau. We estimate their noise from the first {glue:text}`early_pct`% of the steps
#   (including step $0$) and call the first evaluation at which either leaves its band of
#   $\pm${glue:text}`k_sd` noise standard deviations the *departure*.
# - **Progress measures**, recorded from step $0$ {cite}`barak2022hidden`: the weight movement
#   $\|W_t - W_0\|_\infty$; the ratio of the root-mean-square first-layer weight on the relevant
#   columns to that on the others, which is about $1$ at a random initialisation; and the
#   per-unit *Fourier gap* of {prf:ref}`prop-ch01-gradient-fourier`, computed exactly on a
#   sub-cube: the first {glue:text}`sub` coordinates (which contain $S$) range over all
#   $2^{12}$ sign patterns and the others are fixed, and for each unit we compare its
#   coefficients $|\hat g_j(S \setminus \{i\})|$, $i \in S$ (the drift of the relevant weights),
#   with $|\hat g_j(S \cup \{i\})|$, $i \notin S$, weighting units by $|a_j|$. Both ratios are
#   also computed for *control* sets of $k$ irrelevant coordinates, which no gradient favours.
# - **A measure aligned with the drift.** The ratios above pool all units, most of which do
#   nothing during the plateau. {prf:ref}`prop-ch01-gradient-fourier` says more: at chance,
#   where the hinge loss acts as the correlation loss, the drift of a relevant weight $w_{ji}$
#   is $\eta\, a_j\, \hat g_j(S \setminus \{i\})$. If the pre-activation
#   $w_j \cdot x$ is close to a Gaussian of variance $s_j^2 = \|w_j\|^2$ (a heuristic, not
#   proved here), a second-order (Hermite) expansion gives
#   $\hat g_j(\{l, m\}) \approx (w_{jl} w_{jm}/s_j^2)\, \tau_j\, \varphi(\tau_j)$ with
#   $\tau_j = -b_j/s_j$ and $\varphi$ the normal density, so for $k = 3$ the drift of $w_{ji}$,
#   $i \in S$, has the sign of $-a_j b_j \prod_{l \in S \setminus \{i\}} w_{jl}$. Hence
#   $|w_{ji}|$ grows for all three $i \in S$ when
#   $\sigma_j(S) = \operatorname{sign}(-a_j b_j \prod_{i \in S} w_{ji}) = +1$ and shrinks when it
#   is $-1$ (until a sign flips). The *drift-aligned weight*
#   $A(T) = \sum_j |a_j|\, \sigma_j(T) \sum_{i \in T} |w_{ji}| \,/\, \sum_j |a_j|$ should therefore
#   grow for $T = S$, while for a control set $T$ the sign $\sigma_j(T)$ is a coin flip that
#   no gradient favours, and $A(T)$ stays near $0$.
# - **Separation.** A measure on $S$ separates when its median over the seeds exceeds, at
#   {glue:text}`persist` consecutive evaluations, the mean plus {glue:text}`k_sd` standard
#   deviations of the same median computed for each of {glue:text}`n_controls` disjoint control
#   sets: the noise band of the measure is what it does on coordinates that carry no signal. A
#   control set separates when it exceeds, in the same way, the band of the *other* control
#   sets; every control set is tested. The weight movement is not specific to $S$ (any SGD step
#   moves the weights), so we plot it but do not test it.
#
# The claim: the drift-aligned weight on $S$ separates before the departure (asserted), and it
# does so no later than {glue:text}`lead` times the departure step, before any control set
# separates (the condition for the status "reproduced"). The target {glue:text}`lead` and the
# band of {glue:text}`k_sd` s.d. were fixed before the earlier versions of this experiment and
# are unchanged. The rest was *chosen after a prototype* on other seeds (100–115): the
# drift-aligned measure, which there separated at {glue:text}`proto_lead_quick` of the departure
# in quick mode's setting and at {glue:text}`proto_lead_full` in full mode's (with single
# evaluations above the band; its $z$-score against the controls fell back into the band in
# between), while the ratios of the units' weights (top quantiles over units, $|a_j|$-weighted
# means), the weight share and a sign-coherence statistic of $\prod_{i \in T} w_{ji}$ separated
# later or let control sets separate; and the rule of {glue:text}`persist` consecutive
# evaluations, because with one evaluation single control sets crossed their band (under this
# rule the prototype's lead in full mode's setting was close to $1$). Last, the number of seeds
# pooled in full mode: the first recorded full run pooled 16, like quick mode, and missed the
# target; a second prototype on other seeds (100–163), at full mode's $n$ and under the rule of
# {glue:text}`persist` evaluations, gave a pooled lead ratio of {glue:text}`proto_e16` with 16
# seeds and {glue:text}`proto_e64` with 64, so full mode now pools 64. (The prototypes' numbers
# are typed into the settings cell: they come from runs outside the chapter.)
#
# Two earlier versions of this test were flawed, and the record said less than it seemed. The
# first calibrated the separation by the spread of the seeds at step $0$; in full mode the control
# set then "separated" long before the departure: the measures of all sets wander during the
# plateau. The second calibrated against the control sets at each step but tested one control
# set against a band that *included* it, and a value can lie at most $(C-1)/\sqrt C$ sample
# standard deviations above the mean of $C$ values that include it, which is below $4$ for
# $C \le 17$ (in this run $C =$ {glue:text}`n_controls`, bound {glue:text}`max_self_z:.2f`): in
# quick mode, with $\lfloor n/k \rfloor - 1 \le 17$ control sets, that control could not
# separate at all. Testing each control set against the others is the fix.

# %% tags=["readme-figure"]
early = steps <= EARLY * STEPS_MAIN
notebook.glue("early_pct", round(100 * EARLY))
notebook.glue("k_sd", K_SD)
notebook.glue("lead", LEAD)
notebook.glue("sub", SUB)
notebook.glue("proto_lead_quick", PROTO_LEAD["quick"])
notebook.glue("proto_lead_full", PROTO_LEAD["full"])
notebook.glue("proto_e16", PROTO_E["16"])
notebook.glue("proto_e64", PROTO_E["64"])


def departure(curve, up):
    """First step at which `curve` leaves mean +- K_SD s.d. of its early plateau."""
    mu, sd = curve[early].mean(), curve[early].std(ddof=1)
    return first_step(curve > mu + K_SD * sd if up else curve < mu - K_SD * sd), mu, sd


def held(mask):
    """The first recorded step from which `mask` holds at PERSIST consecutive evaluations."""
    run = np.convolve(mask.astype(int), np.ones(PERSIST, int), "valid") == PERSIST
    return first_step(np.concatenate([run, np.zeros(PERSIST - 1, bool)]))


# (steps, C): each control set's median over members, for both measures
ctrl_meds = {
    m: np.stack([series(f"{m}_m{c}")[:, 0] for c in range(len(controls))], 1)
    for m in ("ratio", "align")
}


def band_of(m, skip=None):
    """Per step: mean + K_SD s.d. over the control sets (without control set `skip`)."""
    C = ctrl_meds[m] if skip is None else np.delete(ctrl_meds[m], skip, 1)
    return C.mean(1) + K_SD * C.std(1, ddof=1)


dep_acc, mu_acc, sd_acc = departure(acc_med, up=True)
dep_loss, mu_loss, sd_loss = departure(loss_med, up=False)
step_dep = min(s for s in (dep_acc, dep_loss, STEPS_MAIN + 1) if s is not None)
sep, ctrl_steps = {}, {}  # per measure: when S separates; when each control set does
for m in ("ratio", "align"):
    sep[m] = held(np.median(series(f"{m}_S"), 1) > band_of(m))
    ctrl_steps[m] = [
        held(ctrl_meds[m][:, c] > band_of(m, c)) for c in range(len(controls))
    ]
ctrl_first = {
    m: min((t for t in v if t is not None), default=None) for m, v in ctrl_steps.items()
}
ctrl_before = {
    m: sum(t is not None and t < step_dep for t in v) for m, v in ctrl_steps.items()
}
step_sep = sep["align"]
notebook.glue("n_controls", len(controls))
notebook.glue("persist", PERSIST)
C_n = len(controls)
notebook.glue("max_self_z", (C_n - 1) / np.sqrt(C_n))  # the bound of the text

fig, axes = plt.subplots(4, 1, figsize=(8, 11), sharex=True)
ax1, ax2, ax3, ax4 = axes
ax1.plot(steps, acc_med, color=plotting.COLORS[1], label="test accuracy (median)")
ax1.plot(steps, loss_med, color=plotting.COLORS[0], label="test hinge loss (median)")
for mu, sd in ((mu_acc, sd_acc), (mu_loss, sd_loss)):
    ax1.axhspan(mu - K_SD * sd, mu + K_SD * sd, color="gray", alpha=0.25)
ax1.set(ylabel="output measures", title="Loss and accuracy, with their noise bands")
labels = {
    "ratio_S": "weight ratio, S",
    "ratio_C": "weight ratio, control set",
    "fourier_S": "Fourier gap ratio, S",
    "fourier_C": "Fourier gap ratio, control set",
    "align_S": "drift-aligned weight, S",
    "align_C": "drift-aligned weight, control set",
}
for i, name in enumerate(list(labels)[:4]):
    med = np.median(series(name), 1)
    ls = "-" if name.endswith("S") else ":"
    lab = labels[name]
    ax2.plot(steps, med / med[0], color=plotting.COLORS[i // 2 + 2], ls=ls, label=lab)
ax2.plot(
    steps,
    band_of("ratio") / np.median(series("ratio_S"), 1)[0],
    color="k",
    lw=0.5,
    label=f"weight ratio: control sets' mean + {K_SD:g} s.d.",
)
ax2.set_yscale("log")
ax2.set(ylabel="median / step-0 value", title="Ratio measures: S against a control set")
for name, ls in (("align_S", "-"), ("align_C", ":")):
    med = np.median(series(name), 1)
    ax3.plot(steps, med, color=plotting.COLORS[5], ls=ls, label=labels[name])
ax3.plot(steps, band_of("align"), color="k", lw=0.5, label="control sets' band")
ax3.set_yscale("symlog", linthresh=1e-3)
ax3.set(ylabel="median (weight units)", title="The measure aligned with the drift")
ax4.plot(steps, np.median(series("move"), 1), color=plotting.COLORS[4])
ax4.set(
    xlabel="steps",
    ylabel=r"$\|W_t - W_0\|_\infty$",
    title="Weight movement (median): not specific to S",
)
for ax in axes:
    if step_sep is not None:
        ax.axvline(step_sep, color="k", ls="--", lw=1, label="drift-aligned separates")
    ax.axvline(step_dep, color="gray", ls="-.", lw=1.5, label="loss/accuracy depart")
    ax.legend(fontsize=7, loc="upper left")
fig.suptitle(f"n = {N_MAIN}, k = {K_MAIN}, {E_MAIN} seeds", fontsize=10)
reproduce.save_headline(fig)
plt.show()


# %%
lead_ratio = step_sep / step_dep if step_sep is not None else float("nan")


def when(step):
    """'never' or 'at step t'."""
    return "never" if step is None else f"at step {step}"


for m, name in (("ratio", "weight ratio"), ("align", "drift-aligned weight")):
    print(
        f"{name} on S separates at step {sep[m]}; of the {len(controls)} control sets, "
        f"{ctrl_before[m]} separate before the departure (first {when(ctrl_first[m])})"
    )
print(
    f"accuracy departs at step {dep_acc} (plateau {mu_acc:.3f} ± {sd_acc:.3f}), loss at "
    f"step {dep_loss} ({mu_loss:.3f} ± {sd_loss:.3f}); lead ratio {lead_ratio:.2f}"
)
# The same comparison member by member: each seed's drift-aligned weight against the band of
# its own control sets, and its own accuracy and loss against their own plateau bands.
acc_all, loss_all = series("acc"), series("test_loss")
al_S, al_band = series("align_S"), series("align_band")
member_dep, member_lead = [], []
for e in range(E_MAIN):
    d_e = [departure(acc_all[:, e], up=True)[0], departure(loss_all[:, e], up=False)[0]]
    d_e = min(s for s in d_e + [STEPS_MAIN + 1] if s is not None)
    s_e = held(al_S[:, e] > al_band[:, e])
    member_dep.append(d_e)
    member_lead.append(s_e / d_e if s_e is not None else float("inf"))
member_lead = np.array(member_lead)
print(
    f"per member: departures from step {min(member_dep)} to {max(member_dep)}; lead ratio "
    f"median {np.median(member_lead):.2f} (min {member_lead.min():.2f}, "
    f"max {member_lead.max():.2f})"
)


for key, val in {
    "step_sep": step_sep,
    "step_dep": step_dep,
    "dep_acc": dep_acc,
    "dep_loss": dep_loss,
    "lead_ratio": lead_ratio,
    "ratio_sep": when(sep["ratio"]),
    "ratio_lead": sep["ratio"] / step_dep if sep["ratio"] else float("nan"),
    "ctrl_before": ctrl_before["align"],
    "ctrl_sep": when(ctrl_first["align"]),
    "ratio_ctrl_before": ctrl_before["ratio"],
    "ratio_ctrl_sep": when(ctrl_first["ratio"]),
    "first_member_dep": min(member_dep),
    "member_lead_med": float(np.median(member_lead)),
    "member_lead_min": float(member_lead.min()),
    "member_lead_max": float(member_lead.max()),
    "pooled_vs_first": "before"
    if step_sep is not None and step_sep < min(member_dep)
    else "at or after",
}.items():
    notebook.glue(key, val)
clean = ctrl_first["align"] is None or (
    step_sep is not None and ctrl_first["align"] > step_sep
)
lead_ok = step_sep is not None and step_sep <= LEAD * step_dep and clean
notebook.glue("lead_verdict", "meets" if lead_ok else "misses")
reproduce.report(
    "barak2022hidden",
    claim="Progress is hidden: while the loss and the error are at chance, SGD already moves "
    "the first-layer weights towards the relevant coordinates",
    paper_value="progress measures (weight movement, Fourier gap) grow during the plateau",
    value=f"drift-aligned weight on S separates at step {step_sep}, loss/accuracy depart at "
    f"step {step_dep} (lead ratio {lead_ratio:.2f}, fixed target {LEAD}); control sets "
    f"separating before the departure: {ctrl_before['align']} of {len(controls)} (first "
    f"{when(ctrl_first['align'])}); weight ratio on S {when(sep['ratio'])}; per member, "
    f"lead ratio median {np.median(member_lead):.2f}",
    assertion=f"the drift-aligned weight on S exceeds its control sets' band ({K_SD} s.d., "
    f"{PERSIST} evaluations in a row) before the loss or accuracy leaves its plateau band "
    f"({K_SD} s.d.); status 'reproduced' only if its lead ratio is <= {LEAD} and no control "
    "set, against the band of the others, separates before it",
    passed=bool(step_sep is not None and step_sep < step_dep),
    status="reproduced" if lead_ok else "partly",
    section="sec-ch01-hidden-progress",
)

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("01_sparse_parity")

# %% [markdown]
# The drift-aligned weight on $S$ separates at step {glue:text}`step_sep`; the loss or the
# accuracy first leaves its noise band at step {glue:text}`step_dep` (accuracy at
# {glue:text}`dep_acc`, loss at {glue:text}`dep_loss`). The lead ratio, separation step over
# departure step, is {glue:text}`lead_ratio:.2f`; {glue:text}`ctrl_before` of the
# {glue:text}`n_controls` control sets separate before the departure (the first
# {glue:text}`ctrl_sep`), so the run {glue:text}`lead_verdict` the condition fixed above. The
# weight ratio of the earlier versions separates {glue:text}`ratio_sep` under the same rule, and
# {glue:text}`ratio_ctrl_before` of its control sets before the departure (the first
# {glue:text}`ratio_ctrl_sep`): the pooled size of the relevant weights is no early signal. The
# record's status follows the rule in each mode; the full-mode numbers (at full mode's larger $n$)
# are in the record shown above and on the Reproductions page.
#
# What the pooled measure does and does not show. The band is calibrated on coordinates that
# carry no signal, so a separation of the median over seeds is evidence that the weights of the
# typical network have moved towards $S$ in the direction the proposition predicts while its
# output is at chance. Member by member, the picture is weaker: each seed's drift-aligned
# weight against the band of its own control sets, and its own accuracy and loss against their
# own plateau bands, give lead ratios with median {glue:text}`member_lead_med:.2f` (from
# {glue:text}`member_lead_min:.2f` to {glue:text}`member_lead_max:.2f`); the seeds depart from
# step {glue:text}`first_member_dep` on, and the pooled separation comes
# {glue:text}`pooled_vs_first` the first of them. One network's measure is as noisy as the
# median's band is wide, and its drift is small until shortly before its own jump; the median
# over the seeds gains its lead by pooling their small drifts of the same sign. In this run,
# then, the progress that Barak et al. describe as hidden during the plateau is visible in the
# median over seeds, a population effect, and not yet in a single network. Full mode, at its
# larger $n$, pools 64 seeds; its lead ratio, its control sets and its status are in the record
# shown above.
#
# The jump itself is abrupt by the criterion fixed above: the median accuracy rises from $0.55$ to
# $0.95$ in {glue:text}`rise_ratio:.2f` times the steps it took to reach $0.55$, and the median
# member in {glue:text}`member_rise:.2f` times; a linear ramp would take $8$ times, a saturating
# exponential about $20$. A stricter target of $0.2$, suggested in review, is not met at this
# scale.
#
# Three remarks. First, loss and accuracy are functions of the output, and the output is a sum over
# many units in which the relevant directions are still weak. Second, the ratio measures do not
# climb steadily from step $0$: they stay in their band for a while and then grow at an
# accelerating rate (a straight line on the logarithmic axis is exponential growth), because the
# Fourier gap of each unit grows with its own relevant weights; the drift-aligned weight, which
# counts the units by the sign of their predicted drift rather than by the size of their weights,
# leaves its band earlier; the weight movement grows from the first step but says nothing about
# $S$. Third, the small weight decay shrinks all first-layer weights during the plateau, the
# relevant ones too, so it does not make the weight share a measure of hidden progress
# ({ref}`the weight-decay exercise <ex-ch01-weight-decay>` runs it).

# %% [markdown]
# (sec-ch01-k5)=
# ### Full mode: a sparser target, $k = 5$
#
# With $k = 5$ the relevant Fourier coefficients have degree $k - 1 = 4$ and the drift is much
# weaker, so the plateau is longer at a given $n$. Full mode trains {glue:text}`e_k5` seeds on the
# parity with $n =$ {glue:text}`n_k5` and $k = 5$, with width {glue:text}`width_k5`, batch
# {glue:text}`batch_k5` and otherwise the settings above, for {glue:text}`steps_k5` steps. The
# sizes and the criterion were fixed after a prototype on other seeds (100–107), in which the
# accuracy jumped from chance to about $0.93$ within a few hundred steps and then crept towards
# $1$ over thousands: so the jump is timed from $0.55$ to {glue:text}`jump_k5` (not $0.95$), and
# the criterion is the one of the $k = 3$ run: median accuracy at most $0.6$ at step $0$ and at
# least {glue:text}`jump_k5` at the end, and, for the median member, a rise from $0.55$ to
# {glue:text}`jump_k5` that takes at most {glue:text}`abrupt` times the steps before $0.55$.
# Quick mode does not run it (about a minute on one core).

# %%
for key, val in {
    "e_k5": E_K5,
    "n_k5": N_K5,
    "width_k5": WIDTH_K5,
    "batch_k5": BATCH_K5,
    "steps_k5": STEPS_K5,
    "jump_k5": JUMP_K5,
    "abrupt": ABRUPT,
}.items():
    notebook.glue(key, val)
if cfg.scale == "full":
    task_k5 = tasks.SparseParity.first(N_K5, K_K5)
    net_k5 = make_ensemble(N_K5, E_K5, width=WIDTH_K5)
    x_k5, y_k5 = task_k5.sample(1000, generator=cfg.generator(123))
    acc_k5 = accuracy_metric(x_k5, y_k5)
    with torch.no_grad():
        acc0_k5 = acc_k5(net_k5)["acc"].numpy()
    hist_k5 = train.fit(
        net_k5,
        online_batches(task_k5, BATCH_K5),
        steps=STEPS_K5,
        loss="hinge",
        lr=LR,
        weight_decay=WD,
        evaluate=acc_k5,
        eval_every=STEPS_K5 // 100,
        data_seed=cfg.seed,
        checkpoint_dir=cfg.checkpoint(f"ch01/k5_n{N_K5}"),
        tag=f"{task_k5!r}, width {WIDTH_K5}, batch {BATCH_K5}",
        desc=f"n={N_K5}, k={K_K5}",
    )
    steps_k5 = np.concatenate([[0], hist_k5.step_array])
    a_k5 = np.concatenate([acc0_k5[None], np.asarray(hist_k5["acc"])])  # (T + 1, E)

    def cross(curve, level):
        """First recorded step at which `curve` reaches `level` (None if never)."""
        return (
            int(steps_k5[np.argmax(curve >= level)]) if (curve >= level).any() else None
        )

    rise_k5 = []
    for e in range(E_K5):
        a55, aj = cross(a_k5[:, e], 0.55), cross(a_k5[:, e], JUMP_K5)
        rise_k5.append((aj - a55) / a55 if a55 and aj else float("inf"))
    med_k5 = np.median(a_k5, 1)
    rise_k5_med = float(np.median(rise_k5))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(steps_k5, a_k5, color=plotting.COLORS[1], lw=0.5, alpha=0.5)
    ax.plot(steps_k5, med_k5, color="k", lw=1.5, label="median over seeds")
    ax.axhline(JUMP_K5, color="gray", ls=":", label=f"accuracy {JUMP_K5}")
    ax.set(
        xlabel="steps",
        ylabel="test accuracy",
        title=f"k = {K_K5}, n = {N_K5}: each seed sits at chance, then jumps",
    )
    ax.legend()
    plt.show()
    print(
        f"k = {K_K5}: median accuracy {med_k5[0]:.2f} at step 0, {med_k5[-1]:.2f} at the end; "
        f"per seed, 0.55 reached at steps {[cross(a_k5[:, e], 0.55) for e in range(E_K5)]}; "
        f"rise/plateau per seed {np.round(rise_k5, 2).tolist()}, median {rise_k5_med:.2f}"
    )
    reproduce.report(
        "barak2022hidden",
        claim="The plateau and the abrupt jump also appear for a sparser parity (k = 5)",
        paper_value="plateau then abrupt drop of the error, for k up to about 6 in their "
        "figures",
        value=f"n={N_K5}, k={K_K5}: median accuracy {med_k5[0]:.2f} -> {med_k5[-1]:.2f}; "
        f"median seed rises from 0.55 to {JUMP_K5} in {rise_k5_med:.2f} x its plateau",
        assertion=f"median accuracy <= 0.6 at step 0 and >= {JUMP_K5} at the end; for the "
        f"median seed, the rise from 0.55 to {JUMP_K5} takes at most {ABRUPT} x the steps "
        "before 0.55",
        passed=bool(
            med_k5[0] <= 0.6 and med_k5[-1] >= JUMP_K5 and rise_k5_med <= ABRUPT
        ),
        status="reproduced",
        section="sec-ch01-k5",
    )
else:
    print("quick mode: the k = 5 run is full mode's (see the Reproductions page)")

# %% [markdown]
# (sec-ch01-scaling)=
# ### How the time to learn grows with $n$, in the theorem's setting
#
# The scaling experiment runs the setting of {prf:ref}`thm-ch01-sgd-learns` and
# {prf:ref}`lem-ch01-one-step`, not the default one: even $k = 2$, odd $n$, a *sign
# initialisation* ($w_j = \varepsilon_j / \sqrt n$ with $\varepsilon_j$ uniform on
# $\{-1,+1\}^n$, $b_j = 0$, units in pairs with equal $w_j$ and opposite $a_j$, so that
# $f_{\theta_0} \equiv 0$), the hinge loss and online SGD with a constant step size, in two batch
# regimes: a fixed small batch, and a batch that grows like $n^k$. We count the steps until a
# network reaches $99\%$ test accuracy (each member stops on its own) and fit the exponent of $n$.
#
# **What the lemma predicts.** The drift of a relevant weight is $\eta\,|a_j|\,|\xi_{k-1}|$ per
# step, of order $\eta\, n^{-(k-1)/2}$ ({prf:ref}`lem-ch01-majority`); a batch of $B$ adds noise
# of standard deviation about $\eta\,|a_j|/\sqrt B$ to every weight. After $t$ steps the relevant
# weights have drifted by $t\,\eta\,|a_j|\,|\xi_{k-1}|$ and each irrelevant one has diffused by
# about $\eta\,|a_j|\sqrt{t/B}$. Each relevant weight stands out from each irrelevant one (part 2
# of {prf:ref}`lem-ch01-one-step`) once $t \gtrsim 1/(B\,\xi_{k-1}^2) \approx n^{k-1}/B$; the
# unit's whole pre-activation is dominated by $S$ (part 3, what a unit needs to compute a function
# of the relevant sum) only once $t \gtrsim n/(B\,\xi_{k-1}^2) \approx n^{k}/B$. So with a fixed
# batch the steps grow at least like $n^{k-1}$ (and like $n^k$ when part 3 is the binding
# condition): **exponent at least $k - 1 = 1$**. With $B \propto n^k$ the noise terms are
# constant and what remains is the drift, which must move a relevant weight by a constant:
# $t \approx 1/(\eta |\xi_{k-1}|) \approx n^{(k-1)/2}$, or fewer steps because the gap grows with
# the weights: **exponent at most $(k-1)/2 = 1/2$**.
#
# How we got to this test. We first wrote down point predictions, exponent $k - 1$ and then $k$
# for the fixed batch. Prototype runs refuted both as point values: the local exponent rises with
# $n$ over the range we can afford, and for larger $n$ the fixed-batch runs stopped learning
# within our step budgets (the diffusion of the irrelevant weights also shrinks the gap the drift
# relies on, which the picture above ignores). What the lemma does give in both regimes is a
# bound, and that is what we assert, with the margin fixed before the runs below: the fitted
# exponent is at least $k - 1 = 1$ with the fixed batch, and at most $(k-1)/2 + 0.1 = 0.6$ with
# $B = n^2/16$.


# %%
def sign_init_mlp(n, seed, width=WIDTH_SIGN):
    """A two-layer ReLU MLP in the theorem's initialisation: w_j = eps_j / sqrt(n) with random
    signs, b_j = 0, units in pairs with equal w_j and opposite a_j, so f = 0 everywhere."""
    net = models.MLP(n, width, seed=seed)
    half = width // 2
    eps = tasks.random_signs(
        half, n, generator=torch.Generator().manual_seed(10**4 + seed)
    )
    a = torch.full((half,), width**-0.5)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.cat([eps, eps]) / n**0.5)
        net.layers[0].bias.zero_()
        net.layers[1].weight.copy_(torch.cat([a, -a]).view(1, width))
        net.layers[1].bias.zero_()
    return net


def steps_to_solve(n, batch):
    """Per member, the first step (checked every 5) at which test accuracy reaches 99%
    (-1: never), for the (n, 2)-sparse parity from the sign initialisation."""
    task = tasks.SparseParity.first(n, 2)
    x, y = task.sample(1000, generator=cfg.generator(1))
    net = ensemble.stack([sign_init_mlp(n, s) for s in range(E_SWEEP)]).to(cfg.device)
    hist_n = train.fit(
        net,
        online_batches(task, batch=batch),
        steps=MAX_STEPS,
        loss="hinge",
        lr=LR_SIGN,
        evaluate=accuracy_metric(x, y),
        eval_every=5,
        stop_when=lambda v: v["acc"] >= 0.99,
        data_seed=cfg.seed,
        checkpoint_dir=cfg.checkpoint(f"ch01/sign_n{n}_B{batch}"),
        tag=f"{task!r}, sign init, batch {batch}",
        desc=f"n={n}, B={batch}",
    )
    return hist_n.stop_steps()


REGIMES = {  # name: (batch as a function of n, predicted exponent, assert)
    f"fixed B = {B_SMALL}": (lambda n: B_SMALL, ">= 1", lambda s: s >= 1.0),
    f"B = n^2/{B_DIV}": (lambda n: n * n // B_DIV, "<= 1/2", lambda s: s <= 0.6),
}
solve_steps = {
    name: np.stack([steps_to_solve(n, bf(n)) for n in SWEEP_N])
    for name, (bf, _, _) in REGIMES.items()
}  # (len(SWEEP_N), E)

# %%
fits = {}
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.set_prop_cycle(color=[c for c in plotting.COLORS[:2] for _ in range(2)])
for name, t in solve_steps.items():
    t = t.astype(float)
    if not reproduce.check(
        (t > 0).all(), f"{name}: some member never reached 99% within {MAX_STEPS} steps"
    ):
        continue  # (only in a capped smoke run) no step counts to fit
    med = np.median(t, 1)
    fits[name] = analysis.loglog_fit(SWEEP_N, med)
    yerr = [med - t.min(1), t.max(1) - med]
    plotting.plot_loglog_fit(
        ax, SWEEP_N, med, fits[name], label=f"{name} (median, min-max)", yerr=yerr
    )
    print(
        f"{name}: median steps {med.astype(int).tolist()} for n = {SWEEP_N}; "
        f"exponent {fits[name].slope:.2f} ± {2 * fits[name].slope_stderr:.2f} "
        f"(predicted {REGIMES[name][1]})"
    )
ax.set_xticks(SWEEP_N, labels=[str(n) for n in SWEEP_N], minor=False)
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set(
    xlabel="input dimension n",
    ylabel="steps to 99% test accuracy",
    title="k = 2, sign init: exponent >= k - 1 with a fixed batch, <= 1/2 with B ~ n^k",
)
plt.show()
(small, large) = REGIMES
if len(fits) == 2:
    notebook.glue("slope_small", fits[small].slope)
    notebook.glue("slope_small_err", 2 * fits[small].slope_stderr)
    notebook.glue("slope_large", fits[large].slope)
    notebook.glue("slope_large_err", 2 * fits[large].slope_stderr)
reproduce.report(
    "barak2022hidden",
    claim="The number of SGD steps to learn the (n, k)-sparse parity grows like a power of n "
    "(n^O(k) iterations); in the theorem's setting the exponent is the one the one-step lemma "
    "predicts in each batch regime",
    paper_value="n^O(k) iterations and samples, near the SQ limit n^k",
    value=", ".join(f"{name}: exponent {fit.slope:.2f}" for name, fit in fits.items())
    + f" (k = 2, n = {SWEEP_N[0]}..{SWEEP_N[-1]})",
    assertion="fitted exponent >= k - 1 = 1 with a fixed batch (B = 8), <= (k-1)/2 + 0.1 "
    "= 0.6 with B = n^2/16 (k = 2, sign initialisation)",
    passed=bool(
        len(fits) == 2 and all(REGIMES[m][2](f.slope) for m, f in fits.items())
    ),
    status="reproduced",
    section="sec-ch01-scaling",
)

# %% [markdown]
# With the fixed batch the fitted exponent is {glue:text}`slope_small:.2f` $\pm$
# {glue:text}`slope_small_err:.2f` (two standard errors of the fit), above the lower bound
# $k - 1 = 1$; with the batch growing like $n^2$ it is {glue:text}`slope_large:.2f` $\pm$
# {glue:text}`slope_large_err:.2f`, below the ceiling $1/2$. The printed medians show the fixed-batch
# curve bending upwards, so its exponent over this range is not an asymptotic one. In the
# noise-limited regime the samples used, steps times $B$, grow at least like $n^{k-1}$, and like
# $n^k$ once part 3 binds: the statistical-query count $n \cdot \tau^{-2} \approx n^k$ of the
# Fourier-gap section, the sense of "near the computational limit". With $B \propto n^k$ the
# steps hardly grow, but the samples per step do: only how the samples are split between steps
# and batch changes. These are exponents over a finite range of $n$ for $k = 2$; $k = 4$, where the
# bounds are $3$ and $3/2$, is out of this budget.
#
# ### Width and luck: how often does a run succeed?
#
# The same engine answers a question about probabilities. With a fixed budget of steps, what
# fraction of random initialisations solves the task, as a function of the width? Every member of
# an ensemble is an independent run (its own initialisation), so the success rate over members
# estimates the probability of success for one run.

# %%
task_w = tasks.SparseParity.first(N_WIDTH, K_MAIN)
x_w, y_w = task_w.sample(1000, generator=cfg.generator(2))
success, median_steps = [], []
for width in WIDTHS:
    h_w = train.fit(
        make_ensemble(N_WIDTH, E_WIDTH, width=width, seed=1000),
        online_batches(task_w),
        steps=BUDGET,
        loss="hinge",
        lr=LR,
        weight_decay=WD,
        eval_every=20,
        evaluate=accuracy_metric(x_w, y_w),
        stop_when=lambda v: v["acc"] >= 0.99,
        data_seed=cfg.seed,
        desc=f"width {width}",
    )
    solved = h_w.stop_steps() > 0
    success.append(float(solved.mean()))
    median_steps.append(
        float(np.median(h_w.stop_steps()[solved])) if solved.any() else float("nan")
    )
    print(
        f"width {width:4d}: {solved.sum():2d}/{E_WIDTH} runs reach 99% within {BUDGET} steps"
        + (f", median {median_steps[-1]:.0f} steps" if solved.any() else "")
    )

fig, ax = plt.subplots()
ax.plot(
    WIDTHS,
    success,
    "o-",
    label=f"fraction of {E_WIDTH} seeds solved within {BUDGET} steps",
)
ax.set_xscale("log", base=2)
ax.set(
    xlabel="width d (hidden units)",
    ylabel="success rate",
    ylim=(-0.03, 1.03),
    title=f"Wider networks succeed more often (n = {N_WIDTH}, k = {K_MAIN})",
)
ax.legend(loc="lower right")
plt.show()
notebook.glue("succ_small", success[0])
notebook.glue("width_small", WIDTHS[0])
notebook.glue("succ_large", success[-1])
notebook.glue("width_large", WIDTHS[-1])

# %% [markdown]
# At width {glue:text}`width_small` a fraction {glue:text}`succ_small:.2f` of the runs solve the
# task within the budget; at width {glue:text}`width_large` the fraction is
# {glue:text}`succ_large:.2f`, and the successful runs are also faster (printed above). One reading,
# which Chapter 2 makes precise {cite}`edelman2023pareto`: each hidden unit is a lottery ticket whose
# initial weights and bias give it a larger or smaller Fourier gap, and a wider network holds more
# tickets. We do not claim more from this plot; in particular, part of the failure at the smallest
# widths may be capacity and optimisation rather than luck.
#
# ## Checks

# %%
# The paper's results were checked where they are shown (reproduce.report): the plateau and the
# abrupt jump, the hidden progress, and the exponents of the steps in two batch regimes.
# Width: the narrowest networks mostly fail within the budget, the widest (almost) always succeed.
reproduce.check(
    success[0] <= 0.25 and success[-1] >= 0.9,
    f"success rates {success} for widths {WIDTHS}",
)
# The Fourier computation of the gradient agrees with autograd.
assert grad_err <= 1e-6, f"gradient mismatch {grad_err:.1e}"
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change $n$, $k$, the width and the learning rate, and watch the plateau move. The sliders re-run a
# four-member ensemble for at most 3000 steps (in a static build of the book, this shows the default
# setting).


# %%
def explore_parity(n=30, k=3, width=128, lr=0.1):
    """Train 4 networks on the (n, k)-sparse parity; plot accuracy and the weight fraction on S."""
    k = min(k, n)
    task = tasks.SparseParity.first(n, k)
    net = make_ensemble(n, 4, width=width, seed=100)
    h = train.fit(
        net,
        online_batches(task),
        steps=3000,
        loss="hinge",
        lr=lr,
        weight_decay=WD,
        evaluate=parity_metrics(task, m_test=500),
        eval_every=25,
        data_seed=cfg.seed,
        stop_when=lambda v: v["acc"] >= 0.99,
        desc="explore",
    )
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(h.step_array, h["acc"], color=plotting.COLORS[1], lw=1)
    ax.plot([], [], color=plotting.COLORS[1], label="test accuracy (each member)")
    ax2 = ax.twinx()
    ax2.plot(h.step_array, h["wfrac"], color=plotting.COLORS[0], lw=1, ls="--")
    ax.plot(
        [],
        [],
        color=plotting.COLORS[0],
        ls="--",
        label="weight fraction on S (right axis)",
    )
    ax.set(
        xlabel="steps",
        ylabel="accuracy",
        title=f"n={n}, k={k}, width={width}, lr={lr}: plateau, then both measures move",
    )
    ax2.set_ylabel("weight fraction on S")
    ax.legend(loc="upper left", fontsize=8)
    plt.show()


notebook.explore(
    explore_parity,
    n=(30, (8, 60, 2)),
    k=(3, (2, 5, 1)),
    width=(128, (16, 512, 16)),
    lr=(0.1, (0.02, 0.5, 0.02)),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} Two parities disagree on half the cube
# :label: ex-ch01-half-cube
#
# Let $S \neq S'$. Show that $\Pr_x[\chi_S(x) \neq \chi_{S'}(x)] = 1/2$, and deduce that every
# $h: \{-1,+1\}^n \to \{-1,+1\}$ has $\mathrm{err}_S(h) + \mathrm{err}_{S'}(h) \ge 1/2$. Where does the
# proof of {prf:ref}`thm-ch01-sq-lower-bound` use this? *Difficulty: ★☆☆, about 10 min.*
# :::
#
# :::{solution} ex-ch01-half-cube
# :class: dropdown
#
# For $\pm 1$ values, $\mathbf 1[a \neq b] = (1 - ab)/2$, so
# $\Pr[\chi_S \neq \chi_{S'}] = (1 - \mathbb E[\chi_S \chi_{S'}])/2 = (1 - \mathbb E[\chi_{S \triangle S'}])/2 = 1/2$,
# because $S \triangle S' \neq \emptyset$ ({prf:ref}`lem-ch01-parseval`). If $\chi_S(x) \neq \chi_{S'}(x)$
# then $h(x)$ differs from one of them, so $\{\chi_S \neq \chi_{S'}\} \subseteq \{h \neq \chi_S\} \cup
# \{h \neq \chi_{S'}\}$ and the union bound gives the claim. The proof uses it in its last step: the two
# surviving candidates receive the same answers, hence the same $h$, which cannot be $1/4$-accurate for
# both.
# :::
#
# :::{exercise} No signal for odd k at a symmetric initialisation
# :label: ex-ch01-odd-k
#
# Let $n$ be odd and consider a unit with $w_j = \mathbf 1$ and $b_j = 0$. Show that
# $g_j(x) + g_j(-x) = 1$, deduce that $\hat g_j(T) = 0$ for every $T$ of even size $\ge 2$, and
# conclude that for odd $k$ the population gradient of the correlation loss with respect to $w_j$ is
# zero. Then find a bias $b_j$ that restores a Fourier gap for $k = 3$ and check it with
# `symmetric_coefficient`. *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution-start} ex-ch01-odd-k
# :class: dropdown
# :::
#
# For odd $n$ the sum $\sum_i x_i$ is odd, never $0$, so exactly one of $\sum_i x_i > 0$ and
# $\sum_i (-x_i) > 0$ holds: $g_j(x) + g_j(-x) = 1$. Hence $g_j - \tfrac12$ is an odd function, while
# $\chi_T(-x) = \chi_T(x)$ for $|T|$ even, so $\hat g_j(T) = \mathbb E[(g_j - \tfrac12)\chi_T] = 0$
# for even $|T| \ge 2$ (the $\tfrac12$ only contributes to $T = \emptyset$). For odd $k$ both
# $k - 1$ and $k + 1$ are even, so by {prf:ref}`prop-ch01-gradient-fourier` every
# $\partial L / \partial w_{ji}$ vanishes. A bias with $1 < b_j < 3$, say $b_j = 2$, changes the unit
# to $\mathbf 1[\sum_i x_i \ge -1]$, which is no longer "odd around $\tfrac12$"; its even-degree
# coefficients are nonzero and the degree-2 one (relevant for $k = 3$) dominates the degree-4 one
# (irrelevant):


# %%
def has_gap(n, beta, k=3):
    """True if |xi_{k-1}| > |xi_{k+1}| for the unit 1[sum_i x_i + beta > 0] on n bits."""
    xi = [abs(symmetric_coefficient(neuron_G(n, beta=beta), m)) for m in (k - 1, k + 1)]
    return xi[0] > xi[1]


for n in (13, 31, 101):
    xi2, xi4 = (
        abs(float(symmetric_coefficient(neuron_G(n, beta=2), m))) for m in (2, 4)
    )
    print(
        f"n = {n:3d}, b = 2: |xi_2| = {xi2:.2e} (relevant), |xi_4| = {xi4:.2e} "
        f"(irrelevant), ratio {xi2 / xi4:.1f}"
    )
    assert has_gap(n, beta=2)  # the bias b = 2 restores a Fourier gap for k = 3
    assert not has_gap(n, beta=0)  # known wrong: b = 0 leaves xi_2 = xi_4 = 0

# %% [markdown]
# The random biases of PyTorch's default initialisation break this symmetry too, which is why the
# experiments above learn $k = 3$ without any special care.
#
# :::{solution-end}
# :::
#
# :::{exercise} A parity network without an output bias
# :label: ex-ch01-bias-free
#
# Write `parity_network_no_bias(n, support)` that returns an `lmt_core` `models.MLP(n, k + 1)` whose
# output bias is $0$ and which computes $\chi_S$ exactly on $\{-1,+1\}^n$. Hint: on the cube,
# $\mathrm{ReLU}(s + k + 1) - \mathrm{ReLU}(s + k) = 1$. Test it with
# `check_parity_network(parity_network_no_bias, n, support)` (defined below), which compares your
# network with $\chi_S$ on random inputs and says what is wrong. *Difficulty: ★★☆, about 20 min.*
# :::


# %%
def check_parity_network(fn, n, support, trials=4096, seed=0):
    """Compare fn(n, support)(x) with chi_S(x) on random x in {±1}^n; print what is wrong. Returns bool."""
    net = fn(n, support)
    out_bias = getattr(net.layers[-1], "bias", None)
    if out_bias is not None and out_bias.abs().max() > 0:
        print(f"the output bias is {out_bias.tolist()}, not 0")
        return False
    x = tasks.random_signs(trials, n, generator=torch.Generator().manual_seed(seed))
    x[0], x[1] = 1.0, -1.0  # include the all-(+1) and all-(-1) inputs
    with torch.no_grad():
        out = net(x).reshape(-1).float()
    want = tasks.parity(x, support)
    if out.shape != want.shape:
        print(f"wrong output shape: got {tuple(out.shape)}, expected ({trials},)")
        return False
    wrong = (out - want).abs() > 1e-4
    if not wrong.any():
        print(
            f"correct on all {trials} inputs: the network computes chi_S for S = {sorted(support)}"
        )
        return True
    m = (x[:, list(support)] < 0).sum(1)  # number of -1's inside S
    bad_m = sorted(set(m[wrong].tolist()))
    i = int(torch.nonzero(wrong)[0])
    print(
        f"wrong on {int(wrong.sum())} of {trials} inputs; the errors occur when the number of -1's "
        f"in S is {bad_m}."
    )
    print(
        f"example: m = {int(m[i])}, output {out[i].item():.4f}, expected {want[i].item():+.0f}"
    )
    if torch.allclose(out.sign(), want) and not torch.allclose(
        out.abs(), torch.ones_like(out)
    ):
        print(
            "the signs are right but the values are not ±1: check the output weights' scale"
        )
    elif out.std() < 1e-6:
        print(
            "the output is constant: the hidden units do not see the relevant coordinates"
        )
    return False


# %% [markdown]
# :::{solution-start} ex-ch01-bias-free
# :class: dropdown
# :::
#
# Replace the output bias $v_0$ by $v_0[\mathrm{ReLU}(s + k + 1) - \mathrm{ReLU}(s + k)]$. The
# $-\mathrm{ReLU}(s + k)$ part merges with the unit at $s_0 = -k$, whose output weight becomes
# $-v_0 - v_0 = -2v_0$; so every unit $j = 0, \dots, k-1$ now has output weight $-2v_j$, and one new
# unit, $\mathrm{ReLU}(s + k + 1)$, has output weight $v_0$.


# %%
def parity_network_no_bias(n, support):
    """An MLP with k + 1 hidden units and zero output bias that computes chi_S on {±1}^n."""
    k = len(support)
    j = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - j)
    net = models.MLP(n, k + 1)
    with torch.no_grad():
        net.layers[0].weight.zero_()[:, list(support)] = 1.0
        net.layers[0].bias.copy_(torch.cat([k - 2 * j, torch.tensor([k + 1.0])]))
        net.layers[1].weight.copy_(torch.cat([-2 * v, v[:1]]).view(1, k + 1))
        net.layers[1].bias.zero_()
    return net


assert check_parity_network(parity_network_no_bias, 12, [0, 5, 7, 11])
assert check_parity_network(parity_network_no_bias, 9, [2, 3])


def bias_dropped(n, support):
    """Known wrong: the network of the proposition with its output bias simply set to 0."""
    net = parity_network(n, support)
    with torch.no_grad():
        net.layers[1].bias.zero_()
    return net


assert not check_parity_network(
    bias_dropped, 12, [0, 5, 7, 11]
)  # off by v_0 everywhere
assert not check_parity_network(parity_network, 12, [0, 5, 7, 11])  # has an output bias

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Batch size and the exponent
# :label: ex-ch01-batch
#
# The scaling sweep ran two batch regimes, $B = 8$ and $B = n^2/16$. Take a third, between
# them: $B = 4n$, which grows like $n^{k-1}$ for $k = 2$. Use the drift-and-noise picture of
# {ref}`sec-ch01-scaling`, and the fixed-batch step counts printed there to calibrate its constant,
# to predict the exponent of the steps over $n = 21, \dots, 161$ and for $n \to \infty$; then run
# `steps_to_solve(n, 4 * n)` for `n in SWEEP_N` and fit. *Difficulty: ★★★, about 30 min.*
# :::
#
# :::{solution-start} ex-ch01-batch
# :class: dropdown
# :::
#
# With $B = 4n$ the per-coordinate noise condition $t \gtrsim n^{k-1}/B$ is constant, the $L^2$
# condition $t \gtrsim c\, n^{k}/B = c\,n/4$ grows linearly, and the drift needs at most about
# $n^{(k-1)/2}$ steps. The fixed-batch runs calibrate $c$: with $B = 8$, $c\, n^2/8$ steps at the
# largest $n$ of the sweep (printed below). So for $n \to \infty$ the linear term wins, exponent
# $1$; but over the sweep's range $c\,n/4$ stays below the drift-limited counts of the $B = n^2/16$
# regime, and the exponent should stay at most $1/2$, as with the larger batch. The run:

# %%
t_4n = np.stack([steps_to_solve(n, 4 * n) for n in SWEEP_N]).astype(float)
c_fit = float(np.median(solve_steps[small][-1]) * B_SMALL / SWEEP_N[-1] ** 2)
print(f"c from the fixed batch at n = {SWEEP_N[-1]}: {c_fit:.2f}")
print(f"L2 term c n / 4 at n = {SWEEP_N[-1]}: {c_fit * SWEEP_N[-1] / 4:.0f} steps")
if reproduce.check((t_4n > 0).all(), "some B = 4n member never reached 99%"):
    fit_4n = analysis.loglog_fit(SWEEP_N, np.median(t_4n, 1))
    print(
        f"B = 4n: median steps {np.median(t_4n, 1).astype(int).tolist()}, "
        f"exponent {fit_4n.slope:.2f} ± {2 * fit_4n.slope_stderr:.2f}"
    )
    reproduce.check(fit_4n.slope <= 0.6, "B = 4n: exponent above the predicted 1/2")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} What weight decay does to the progress measure
# :label: ex-ch01-weight-decay
#
# The plateau-and-jump runs use a small weight decay. Predict what changes with
# `weight_decay=0`: does the plateau-and-jump survive, and what happens to the weight share
# $\|W_{:,S}\|_F^2/\|W\|_F^2$ on $S$ during the plateau and at the end? Then train
# {glue:text}`e_wd` seeds at $n = $ {glue:text}`n_wd` for {glue:text}`steps_wd` steps with and
# without decay (otherwise as above) and compare. *Difficulty: ★★☆, about 15 min.*
# :::
#
# :::{solution-start} ex-ch01-weight-decay
# :class: dropdown
# :::
#
# **Prediction.** The plateau and the jump should survive: the drift of
# {prf:ref}`prop-ch01-gradient-fourier` does not depend on the decay. What should change most is
# the weight *share* on $S$. Without decay, the initial random weights, about $1/\sqrt n$ on each
# of the $n - k$ irrelevant coordinates, keep their squared mass, about $(n-k)/n$ of the total,
# and the share moves only once the relevant weights have grown to a size comparable to
# $\sqrt{n-k}$ times their initial size. With decay $\lambda$ every weight shrinks by the factor
# $(1 - \eta\lambda)$ per step, and the drift (on $S$) opposes it there, so the share should grow
# more with decay, and end higher. The run, fixed before it: the check is that the median share
# at the end, relative to step $0$, is larger with decay than without, and that both runs learn
# (median final accuracy at least $0.95$).

# %%
task_wd = tasks.SparseParity.first(N_WD, K_MAIN)
x_wd, y_wd = task_wd.sample(1000, generator=cfg.generator(123))


def decay_metrics(model):
    """Per member: test accuracy, weight share on S, rms weight on S and off S."""
    W = model.first_layer
    return {
        "acc": ((model(x_wd) * y_wd) > 0).float().mean(1),
        "share": analysis.support_weight_fraction(W, task_wd.support),
        "rms_S": W[..., :K_MAIN].pow(2).mean((1, 2)).sqrt(),
        "rms_off": W[..., K_MAIN:].pow(2).mean((1, 2)).sqrt(),
    }


wd_runs = {}
for wd in (WD, 0.0):
    net_wd = make_ensemble(N_WD, E_WD)
    with torch.no_grad():
        m0 = decay_metrics(net_wd)
    h_wd = train.fit(
        net_wd,
        online_batches(task_wd),
        steps=STEPS_WD,
        loss="hinge",
        lr=LR,
        weight_decay=wd,
        evaluate=decay_metrics,
        eval_every=STEPS_WD // 2,
        data_seed=cfg.seed,
        desc=f"weight decay {wd}",
    )
    rel = {
        k: np.asarray(h_wd[k]) / m0[k].numpy() for k in ("share", "rms_S", "rms_off")
    }
    wd_runs[wd] = {k: np.median(v, 1) for k, v in rel.items()}  # (2,): mid-run, end
    wd_runs[wd]["acc"] = float(np.median(np.asarray(h_wd["acc"])[-1]))
    r = wd_runs[wd]
    print(
        f"weight decay {wd}: median final accuracy {r['acc']:.2f}; relative to step 0, "
        f"share on S {r['share'][0]:.2f} at step {STEPS_WD // 2}, {r['share'][-1]:.2f} at "
        f"the end; rms weight on S {r['rms_S'][0]:.2f}, off S {r['rms_off'][0]:.2f} at step "
        f"{STEPS_WD // 2}"
    )
for key, val in {
    "n_wd": N_WD,
    "steps_wd": STEPS_WD,
    "e_wd": E_WD,
    "half_wd": STEPS_WD // 2,
    "share_mid_wd": wd_runs[WD]["share"][0],
    "share_mid_0": wd_runs[0.0]["share"][0],
    "share_end_wd": wd_runs[WD]["share"][-1],
    "share_end_0": wd_runs[0.0]["share"][-1],
    "rmsS_mid_wd": wd_runs[WD]["rms_S"][0],
    "rmsoff_mid_wd": wd_runs[WD]["rms_off"][0],
    "acc_end_wd": wd_runs[WD]["acc"],
    "acc_end_0": wd_runs[0.0]["acc"],
}.items():
    notebook.glue(key, val)
reproduce.check(
    wd_runs[WD]["share"][-1] > wd_runs[0.0]["share"][-1],
    "the weight share on S does not end higher with weight decay",
)
reproduce.check(
    min(wd_runs[WD]["acc"], wd_runs[0.0]["acc"]) >= 0.95,
    "a run with or without weight decay did not learn the parity",
)

# %% [markdown]
# Both runs learn (median final accuracy {glue:text}`acc_end_wd:.2f` with decay,
# {glue:text}`acc_end_0:.2f` without), and the share on $S$ ends higher with decay: at the end it
# is {glue:text}`share_end_wd:.1f` times its value at step $0$ with decay and
# {glue:text}`share_end_0:.1f` times without. But the mechanism of the prediction is only half
# right. At step {glue:text}`half_wd`, in the plateau, the share has barely moved in either run
# ({glue:text}`share_mid_wd:.2f` and {glue:text}`share_mid_0:.2f` times its initial value),
# and with decay the relevant weights shrink about as much as the others (their rms is
# {glue:text}`rmsS_mid_wd:.2f` times its initial value, against {glue:text}`rmsoff_mid_wd:.2f`
# off $S$): during the plateau the drift does not hold them up, and the larger final share with
# decay appears later (we evaluate only at the middle and the end, so we cannot say exactly
# when). So the weight share is not a measure of *hidden* progress in either run; the
# drift-aligned measure of {ref}`sec-ch01-hidden-progress` is the chapter's candidate, for the
# median over seeds.
#
# :::{solution-end}
# :::
#
# ## Discussion and further reading
#
# - **Is SGD a statistical-query algorithm?** A mini-batch gradient is an average, but SGD also
#   accumulates many noisy steps, and its noise is random rather than adversarial. How would you
#   argue that online SGD with batch $B$ for $T$ steps on a width-$d$ network is no better than an
#   SQ algorithm with about $T d n$ queries of tolerance $1/\sqrt B$? Where could such an argument
#   fail?
# - **Why does the loss hide the progress?** The hinge loss and the accuracy depend on the output
#   only, and the output's correlation with $\chi_S$ stays flat. Which functions of the *weights*
#   would you monitor to predict when the jump will happen, and how early can any such measure
#   detect progress, given the SQ lower bound?
# - **Symmetric versus random initialisation.** The theorem uses a sign-symmetric initialisation and
#   even $k$, as does our scaling sweep; the plateau-and-jump experiment uses neither. What
#   replaces the clean Fourier gap of
#   {prf:ref}`cor-ch01-symmetric` for a random neuron?
# - **Resources.** Width, number of samples, number of steps and luck at initialisation can be traded
#   against each other: a wider network holds more "lottery tickets", neurons that start out close to
#   $S$. Chapter 2 follows this thread, with sparse initialisations, in
#   {cite}`edelman2023pareto`.
#
# Further reading: {cite}`odonnell2014analysis` (Chapters 1–5) for Fourier analysis on the cube and
# the spectrum of majority; {cite}`kearns1998efficient` and {cite}`blum1994weakly` for statistical
# queries and the randomised lower bound; {cite}`shalevshwartz2017failures` for failures of
# gradient-based learning on parities; and {cite}`barak2022hidden` itself, whose experiments cover
# many more architectures (transformers, sparse networks) and further progress measures.
