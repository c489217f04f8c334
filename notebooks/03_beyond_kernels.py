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
# # Beyond kernels and statistical queries
#
# Is gradient descent on a neural network more than a kernel method in disguise? Under a
# distribution that mixes the uniform cube with a component that *leaks* the relevant coordinates,
# a two-layer network trained by gradient descent learns a sparse parity, while every linear method
# over a fixed feature map of polynomial size — random features, any kernel, the network's own
# tangent kernel — stays where the leak alone puts it, in the sense that on the uniform component it
# cannot beat the square or hinge loss of the zero predictor by more than a vanishing margin; we
# prove this for finite-dimensional feature maps in full by a dimension argument (kernels with an
# infinite feature map need a reduction we do not carry out) and measure both halves exactly, on
# every point of a small cube, on Daniely and Malach's distribution itself. We then place this in the larger
# picture: gradient descent succeeds only if its tangent kernel has at least a weak edge under some
# conditions but not in general, and stochastic gradient descent is exactly as powerful as
# statistical queries or as arbitrary sample-based learning depending on how its gradient precision
# compares with its batch size; the coarse-precision half of that statement we prove in full and
# simulate. A simpler variant of Daniely and Malach's distribution, named as such, serves the
# construction and an exercise.
#
# **Papers.** Daniely and Malach, *Learning parities with neural networks*
# {cite}`daniely2020learning`; Malach, Kamath, Abbe and Srebro, *Quantifying the benefit of using
# differentiable learning over tangent kernels* {cite}`malach2021quantifying`; Abbe, Kamath, Malach,
# Sandon and Srebro, *On the power of differentiable learning versus PAC and SQ learning*
# {cite}`abbe2021power`.
#
# **Prerequisites.** Chapter 1: parities and Fourier–Walsh coefficients
# ({prf:ref}`def-ch01-sparse-parity`, {prf:ref}`def-ch01-fourier`, {prf:ref}`lem-ch01-parseval`),
# statistical queries ({prf:ref}`def-ch01-sq`, {prf:ref}`thm-ch01-sq-lower-bound`) and the ReLU
# network that computes a parity ({prf:ref}`prop-ch01-parity-network`).
#
# **Time.** Quick mode is the default everywhere, with or without a GPU: the whole notebook runs in
# about twenty seconds on one CPU thread. Full mode (set `SCALE = "full"` in the first code cell)
# runs the network-versus-kernels experiment on the cube of dimension $n = 18$ instead of $14$,
# with sample sizes up to $16000$ and eight seeds instead of four; it takes about two minutes on
# one CPU core. Its recorded figure is shown below the quick-mode one.
#
# **Open in Colab:**
# [colab/03_beyond_kernels.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/03_beyond_kernels.ipynb)
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
# Every size of the chapter's experiments, quick and full (their times: see the title cell).
N_EXP = cfg.pick(quick=14, full=18)  # the cube {±1}^n of the experiment, enumerated
K_EXP = 5  # parity degree (odd, as Daniely and Malach's distribution needs)
WIDTH = 16  # width of the network (its parameter count is the kernels' dimension)
M_GRID = cfg.pick(  # training sample sizes
    quick=[250, 500, 1000, 2000, 4000], full=[500, 1000, 2000, 4000, 8000, 16000]
)
E_NET = cfg.pick(quick=4, full=8)  # seeds: networks trained together, and kernels
STEPS = cfg.pick(quick=1000, full=1500)  # full-batch Adam steps of the network
RIDGES = [1e-3, 1e-2, 1e-1]  # ridge / m of the kernels, chosen on held-out data

# %% [markdown]
# ## The setting
#
# ### A distribution that leaks the relevant coordinates
#
# Under the uniform distribution a $k$-sparse parity is hard for every statistical-query algorithm
# ({prf:ref}`thm-ch01-sq-lower-bound`), and gradient descent pays about $n^{k-1}$ samples to find
# the hidden set (Chapter 1). Daniely and Malach ask a different question: is there *any*
# distribution under which gradient descent on a network learns something that no linear method
# over a fixed representation can? Their answer mixes the uniform distribution with a component
# that gives the hidden set away.

# %% [markdown]
# :::{prf:definition} The leaky parity distribution (this chapter's variant)
# :label: def-ch03-leaky
#
# Let $S \subseteq [n]$ with $|S| = k$ and let $0 \le \alpha < 1$. The distribution $\mathcal D_{S,\alpha}$
# on $\{-1,+1\}^n$ draws $x$ as follows: with probability $1 - \alpha$ (the *uniform component*
# $\mathcal U$), $x$ is uniform on the cube; with probability $\alpha$ (the *leaky component*
# $\mathcal L_S$), $x_i = +1$ for every $i \in S$ and the other coordinates are uniform. The label is
# always $y = \chi_S(x)$. The task is to learn $\chi_S$ under $\mathcal D_{S,\alpha}$ for an unknown
# $S$; by default $\alpha = 1/2$.
# :::
#
# This is a **variant**, chosen because its leaky component is the simplest one to picture and to
# sample; it is *not* the distribution of {cite}`daniely2020learning`, and we do not attribute
# results about it to them. Their construction, as the NeurIPS 2020 reviews of the paper describe
# it, is the following.

# %% [markdown]
# :::{prf:definition} Daniely and Malach's distribution
# :label: def-ch03-dm
#
# Let $k$ be odd and $|S| = k$. The distribution $\mathcal D^{\mathrm{DM}}_S$ draws $x$ with
# probability $1/2$ uniform on the cube, and with probability $1/2$ from the component
# $\mathcal L^{\pm}_S$: a sign $\sigma$ uniform on $\{-1,+1\}$, $x_i = \sigma$ for every $i \in S$,
# the other coordinates uniform. The label is $y = \chi_S(x)$; on $\mathcal L^{\pm}_S$ it equals
# $\sigma^k = \sigma$.
# :::
#
# The two constructions differ in what the leaky part reveals. In the variant the relevant bits are
# all $+1$ and the label there is always $+1$, so $\mathbb E[y] = \alpha$ and a constant predictor
# already has an edge. In Daniely and Malach's the relevant bits share a *random* sign and, $k$ being
# odd, the label there is that sign, so $\mathbb E[y] = 0$, and a predictor must read the relevant
# coordinates to gain anything, even on the leaky part. In both, the relevant coordinates are
# correlated with the label at degree one (next proposition), and the lower bound below holds for
# both with the same proof, because it only uses the uniform component. The chapter's
# construction and its coding exercise use the variant (`tasks.LeakyParity`); its experiment uses
# Daniely and Malach's distribution, sampled by `sample_dm` below.

# %% [markdown]
# :::{prf:proposition} The leak is visible to first-order statistics
# :label: prop-ch03-leak
#
# Let $k \ge 2$ and $(x, y) \sim \mathcal D_{S,\alpha}$. Then $\mathbb E[y] = \alpha$, and
# $\mathbb E[y\, x_i] = \alpha$ for $i \in S$ while $\mathbb E[y\, x_i] = 0$ for $i \notin S$.
# Under $\mathcal D^{\mathrm{DM}}_S$ ($k \ge 3$ odd), $\mathbb E[y] = 0$ and
# $\mathbb E[y\, x_i] = \tfrac12 \mathbf 1[i \in S]$.
# :::

# %% [markdown]
# :::{prf:proof}
# Split the expectation over the two components. On $\mathcal U$, $\mathbb E[\chi_S] = 0$ and
# $\mathbb E[\chi_S\, x_i] = \mathbb E[\chi_{S \triangle \{i\}}] = 0$ because $S \triangle \{i\} \neq \emptyset$
# for $k \ge 2$ ({prf:ref}`lem-ch01-parseval`). On $\mathcal L_S$, $y = 1$, so $\mathbb E[y] = 1$,
# $\mathbb E[y\, x_i] = 1$ for $i \in S$, and $\mathbb E[y\, x_i] = \mathbb E[x_i] = 0$ for $i \notin S$.
# Weight the components by $1 - \alpha$ and $\alpha$. Under $\mathcal D^{\mathrm{DM}}_S$ the uniform
# part is the same; on $\mathcal L^{\pm}_S$, $y = \sigma$ has mean $0$, $y\, x_i = \sigma^2 = 1$ for
# $i \in S$, and $\mathbb E[\sigma x_i] = 0$ for $i \notin S$ since $x_i$ is independent of
# $\sigma$; weight both parts by $1/2$.
# :::
#
# Compare Chapter 1: under the uniform distribution the relevant coordinates differ from the others
# only in Fourier coefficients of degree $k - 1$, of size $n^{-(k-1)/2}$. Here they differ already at
# degree one, by the constant $\alpha$, and $O(\log n / \alpha^2)$ samples reveal $S$. The task
# generator is `tasks.LeakyParity`; we check the proposition on a sample of the variant and, with
# the sampler `sample_dm` of Daniely and Malach's distribution, on a sample of theirs.

# %%
task_demo = tasks.LeakyParity.random(20, 4, alpha=0.5, seed=1)
sample = task_demo.sample_with_components(20_000, generator=cfg.generator(cfg.seed))
corr = (sample.y[:, None] * sample.x).mean(0)  # empirical E[y x_i], i = 0..n-1
on_S = torch.zeros(task_demo.n, dtype=torch.bool)
on_S[list(task_demo.support)] = True
print(
    f"S = {task_demo.support}; fraction from the leaky component {sample.leaky.float().mean():.3f}"
)
print(
    f"E[y] = {sample.y.mean():.3f}; E[y x_i] on S: {corr[on_S].numpy().round(3)}; "
    f"largest |E[y x_i]| off S: {corr[~on_S].abs().max():.3f}"
)


# %%
def sample_dm(n, support, m, *, generator):
    """m examples (x, y) of Daniely and Malach's distribution D^DM_S, and the leaky flags.

    With probability 1/2 x is uniform on {±1}^n; otherwise a shared random sign sigma fills the
    coordinates in S, the others uniform. y = chi_S(x) (= sigma on the leaky part, k odd).
    """
    x = tasks.random_signs(m, n, generator=generator)
    leaky = torch.rand(m, generator=generator, device=x.device) < 0.5
    sigma = tasks.random_signs(m, 1, generator=generator)
    idx = list(support)
    x[:, idx] = torch.where(leaky[:, None], sigma.expand(m, len(idx)), x[:, idx])
    return x, x[:, idx].prod(1), leaky


x_dm, y_dm, _ = sample_dm(20, (2, 7, 11), 20_000, generator=cfg.generator(cfg.seed))
corr_dm = (y_dm[:, None] * x_dm).mean(0)
on_dm = torch.zeros(20, dtype=torch.bool)
on_dm[[2, 7, 11]] = True
print(
    f"Daniely-Malach, S = (2, 7, 11): E[y] = {y_dm.mean():.3f}; E[y x_i] on S: "
    f"{corr_dm[on_dm].numpy().round(3)}; largest |E[y x_i]| off S: "
    f"{corr_dm[~on_dm].abs().max():.3f}"
)

# %% [markdown]
# ### Linear methods over a fixed representation

# %% [markdown]
# :::{prf:definition} Linear method over a data-independent embedding
# :label: def-ch03-embedding
#
# An *embedding* is a map $\Psi: \{-1,+1\}^n \to \mathbb R^N$ chosen before seeing any data (it may be
# random, but its distribution does not depend on the target). A *linear method* over $\Psi$ outputs
# predictors $h_w(x) = \langle w, \Psi(x) \rangle$, with $w \in \mathbb R^N$ chosen from the data, and
# classifies by $\mathrm{sign}(h_w)$. Examples: random features $\Psi(x) = (\sigma(v_j \cdot x + c_j))_{j \le N}$
# with random $(v_j, c_j)$; a kernel method with $m$ samples, whose predictor lies in the span of
# the $m$ functions $K(x_i, \cdot)$; and the *tangent kernel* of a network $f_\theta$ at its
# initialisation $\theta_0$, with $\Psi(x) = \nabla_\theta f_{\theta_0}(x)$ and $N$ the number of
# parameters.
# :::
#
# A kernel method fits the definition through its feature map, which may be infinite-dimensional;
# for it the relevant form of the bound below is the one with a norm, applied to a finite-dimensional
# approximation of the feature map such as random features. We do not go through that reduction.

# %% [markdown]
# ## The separation
#
# ### Gradient descent learns

# %% [markdown]
# :::{prf:theorem} Gradient descent learns parities under Daniely and Malach's distribution (standard form, after Daniely and Malach 2020; constants not reproduced)
# :label: thm-ch03-dm-gd
#
# Let $k$ be odd and fixed, and let the data come from $\mathcal D^{\mathrm{DM}}_S$
# ({prf:ref}`def-ch03-dm`). For a two-layer ReLU network of width $q$ with a suitable random
# initialisation, gradient descent with suitable step sizes and regularisation (a first step on the
# first layer, then steps on the second) run on polynomially many (in $n$ and $q$) samples and
# steps returns a network whose loss under $\mathcal D^{\mathrm{DM}}_S$ is at most an explicit bound
# $\varepsilon(q, n, k)$, for every $S$ with $|S| = k$ (with high probability over the
# initialisation and the sample). For fixed $k$ the bound decreases polynomially as the width $q$
# and the dimension $n$ grow: it is small only when both are large polynomials in $k$.
# :::
#
# **What this is and is not.** The form of the guarantee, a bound in the width $q$ and the dimension
# $n$ rather than "error $\le \varepsilon$ for every $\varepsilon$ from $\mathrm{poly}(n,
# 1/\varepsilon)$ samples", is the paper's: its NeurIPS 2020 meta-review, working through the bound,
# notes that taking $q = k^{18}$ and $n \ge k^{40}$ makes it of order $1/k$. We could not check the
# paper's text, so we do not reproduce the bound itself, its probability statement or the precise
# conditions on the initialisation and the step sizes; we state the quantifiers we are sure of and
# label the statement accordingly. It is a theorem about $\mathcal D^{\mathrm{DM}}_S$ with $k$ odd,
# not about this chapter's variant $\mathcal D_{S,\alpha}$; for the variant the chapter offers only
# the proof sketch below, which applies to both.

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch, for both distributions. It is not a proof of the theorem. It skips the
# concentration of the empirical gradient; the effect of the random initial weights; the key
# approximation step, marked (\*) below, which is a heuristic here; and the analysis of the convex
# second phase. See {cite}`daniely2020learning`.)* At a small initialisation the output is close to
# $0$, so the hinge loss is in its linear part and its gradient is that of the correlation loss
# $-\mathbb E[y f_\theta(x)]$, as in Chapter 1. The gradient with respect to the first-layer
# weights $w_j$ of unit $j$, with output weight $a_j$, is then
# $-a_j\, \mathbb E[y\, x\, \sigma'(w_j \cdot x + b_j)]$. (\*) For a unit that is active on most
# inputs this is close to $-a_j\, \mathbb E[y\, x]$, which is $-a_j c\, \mathbf 1_S$ with $c = \alpha$
# or $c = 1/2$ by {prf:ref}`prop-ch03-leak`, plus a remainder from the inputs on which the unit is
# inactive. One large step (with weight decay that removes the initial weights) therefore leaves
# every unit with $w_j \approx c_j \mathbf 1_S$: each unit becomes a function of
# $s(x) = \sum_{i \in S} x_i$. With biases spread over $[-k, k]$, some linear combination of such
# units is the network of {prf:ref}`prop-ch01-parity-network`, which computes $\chi_S$ exactly. With
# the first layer fixed, training the second layer is a convex problem that gradient descent solves
# with polynomially many samples and steps, up to the error left by the first step; that error is
# what the paper's bound in $q$ and $n$ controls.
# :::
#
# ### Linear methods do not: the dimension argument
#
# The lower bound rests on one inequality: a subspace of dimension $N$ cannot be close to many
# orthonormal vectors.

# %% [markdown]
# :::{prf:lemma} Few orthonormal vectors fit in a small subspace
# :label: lem-ch03-bessel
#
# Let $V$ be a subspace of dimension $N$ of $L^2(\mathcal U)$, the real functions on the cube with
# $\langle f, g \rangle = \mathbb E_{x \sim \mathcal U}[f(x) g(x)]$, and let $P_V$ be the orthogonal
# projection onto $V$. Then for every family of orthonormal functions, in particular the parities,
#
# $$ \sum_{S \subseteq [n]} \| P_V \chi_S \|^2 \;\le\; N, \quad\text{with equality when the sum is over all } 2^n \text{ sets}. $$
#
# More generally, for any $\Psi = (\Psi_1, \dots, \Psi_N)$ with $\Psi_j \in L^2(\mathcal U)$,
# $\sum_S \| \mathbb E[\chi_S \Psi] \|_2^2 \le \sum_{j} \mathbb E[\Psi_j^2]$.
# :::

# %% [markdown]
# :::{prf:proof}
# Let $e_1, \dots, e_N$ be an orthonormal basis of $V$. Then $\|P_V \chi_S\|^2 = \sum_j \langle e_j, \chi_S \rangle^2$,
# so $\sum_S \|P_V \chi_S\|^2 = \sum_j \sum_S \langle e_j, \chi_S \rangle^2 \le \sum_j \|e_j\|^2 = N$
# by Bessel's inequality for the orthonormal family $(\chi_S)$ (Parseval, with equality, when it is
# all $2^n$ characters). The general form is the same computation with $\Psi_j$ in place of $e_j$:
# $\sum_S \|\mathbb E[\chi_S \Psi]\|^2 = \sum_j \sum_S \hat\Psi_j(S)^2 \le \sum_j \mathbb E[\Psi_j^2]$.
# :::

# %% [markdown]
# :::{prf:theorem} Fixed embeddings need dimension of order $\binom nk$
# :label: thm-ch03-dimension
#
# Let $\Psi: \{-1,+1\}^n \to \mathbb R^N$ be an embedding, $0 \le \alpha < 1$, $0 < \varepsilon \le 1$,
# and let $h_w = \langle w, \Psi \rangle$.
#
# 1. *(Square loss.)* If for every $S$ with $|S| = k$ there is $w_S$ with
#    $\mathbb E_{\mathcal D_{S,\alpha}}[(h_{w_S}(x) - y)^2] \le (1-\alpha)(1 - \varepsilon^2)$, then
#    $N \ge \varepsilon^2 \binom nk$.
# 2. *(Hinge loss and norm.)* If every coordinate of $\Psi$ takes values in $[-1, 1]$ and for every
#    $S$ with $|S| = k$ there is $w_S$ with $\|w_S\|_2 \le B$ and
#    $\mathbb E_{\mathcal D_{S,\alpha}}[\max(0, 1 - y\, h_{w_S}(x))] \le (1 - \alpha)(1 - \varepsilon)$, then
#    $N B^2 \ge \varepsilon^2 \binom nk$.
#
# A predictor that ignores the data, $h \equiv 0$, has square loss and hinge loss $1$; the
# hypotheses ask for a loss below that of $h \equiv 0$ *on the uniform component*, by a margin
# $\varepsilon^2$ or $\varepsilon$. So a linear method over an embedding of polynomial dimension
# cannot, for every $S$, beat the trivial square loss on the uniform component by more than
# $N / \binom nk$, nor the trivial hinge loss by more than $B \sqrt{N / \binom nk}$ with norm $B$ —
# while gradient descent on a network learns the parity (under $\mathcal D^{\mathrm{DM}}_S$,
# {prf:ref}`thm-ch03-dm-gd`, and at small $n$ the experiment below; for the variant, the sketch
# after the theorem and the construction in code). Both
# parts hold verbatim for $\mathcal D^{\mathrm{DM}}_S$ with $\alpha = 1/2$: the proof uses the
# leaky component only through $\mathbb E_{\mathcal D} [\ell] \ge (1-\alpha)\,\mathbb E_{\mathcal U}[\ell]$.
# :::

# %% [markdown]
# :::{prf:proof}
# Both losses are non-negative, so for any $h$,
# $\mathbb E_{\mathcal D_{S,\alpha}}[\ell] = \alpha\, \mathbb E_{\mathcal L_S}[\ell] + (1-\alpha)\, \mathbb E_{\mathcal U}[\ell] \ge (1 - \alpha)\, \mathbb E_{\mathcal U}[\ell]$,
# and the hypotheses give $\mathbb E_{\mathcal U}[\ell(h_{w_S}(x), \chi_S(x))] \le 1 - \varepsilon^2$ in case 1 and
# $\le 1 - \varepsilon$ in case 2.
#
# *Case 1.* Let $V = \mathrm{span}(\Psi_1, \dots, \Psi_N) \subseteq L^2(\mathcal U)$, of dimension at
# most $N$. The best approximation of $\chi_S$ in $V$ is $P_V \chi_S$, and by Pythagoras
# $\min_{h \in V} \mathbb E_{\mathcal U}[(h - \chi_S)^2] = 1 - \|P_V \chi_S\|^2$. Hence
# $\|P_V \chi_S\|^2 \ge \varepsilon^2$ for each of the $\binom nk$ sets, and summing,
# $\varepsilon^2 \binom nk \le \sum_S \|P_V \chi_S\|^2 \le N$ by {prf:ref}`lem-ch03-bessel`.
#
# *Case 2.* The hinge loss is at least $1 - y h$, so
# $\mathbb E_{\mathcal U}[\chi_S\, h_{w_S}] \ge \varepsilon$. But
# $\mathbb E_{\mathcal U}[\chi_S\, h_{w_S}] = \langle w_S, \mathbb E_{\mathcal U}[\chi_S \Psi] \rangle \le B\, \|\mathbb E_{\mathcal U}[\chi_S \Psi]\|_2$
# by Cauchy–Schwarz, so $\|\mathbb E_{\mathcal U}[\chi_S \Psi]\|_2^2 \ge \varepsilon^2 / B^2$ for every
# $S$. Summing over the $\binom nk$ sets and using the general form of {prf:ref}`lem-ch03-bessel`
# with $\mathbb E[\Psi_j^2] \le 1$: $\binom nk \varepsilon^2 / B^2 \le N$.
# :::
#
# **How this relates to the paper.** {cite}`daniely2020learning` prove a lower bound of the second,
# norm-times-dimension kind for their distribution and loss, with constants we do not reproduce.
# Both cases above are proved in full. Two remarks on what the theorem does *not* say. First, it is
# about losses that reward correlation, not about the 0–1 error of $\mathrm{sign}(h)$: a halfspace
# over the $n$ coordinates, $-\mathrm{sign}(\sum_{i \in S} x_i)$, agrees with $\chi_S$ on $3/4$ of the
# cube for $k = 3$ ({ref}`Exercise <ex-ch03-majority>`), so without a loss or norm condition no bound
# of this form can hold. Second, the embedding must be fixed before the data: the trained network's
# hidden layer is an embedding of dimension $d$ in which $\chi_S$ lies exactly, but it was built from
# the data, and so from $S$.

# %% [markdown]
# ## Constructions in code
#
# ### A network that reads the leak
#
# The sketch of {prf:ref}`thm-ch03-dm-gd` has two steps: the first-order statistics $\mathbb E[y x]$
# point at $S$ ({prf:ref}`prop-ch03-leak`), and units that read $s(x) = \sum_{i \in S} x_i$ can
# compute $\chi_S$ ({prf:ref}`prop-ch01-parity-network`). We build the network exactly so: estimate
# $\mathbb E[y x]$ from $m$ samples, round it to the indicator of the coordinates where it exceeds
# $\alpha/2$, and use that vector as the first-layer weight of every unit, with the biases and
# output weights of Chapter 1. We check the result on **every** point of the cube.


# %%
def leak_reading_network(x, y, alpha, k):
    """Two-layer ReLU network built from data: first layer = rounded E[y x], then the parity readout.

    x: (m, n) samples, y: (m,) labels from the leaky distribution. Returns an MLP with k hidden units.
    """
    n = x.shape[1]
    w = ((y[:, None] * x).mean(0) > alpha / 2).float()  # estimated indicator of S
    j = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - j)  # chi_S at s = -k + 2j
    out_w = -2 * v
    out_w[0] = -v[0]
    net = models.MLP(n, k)
    with torch.no_grad():
        net.layers[0].weight.copy_(w.expand(k, n))  # every unit reads s(x) = w . x
        net.layers[0].bias.copy_(k - 2 * j)  # unit j: ReLU(s - s_j)
        net.layers[1].weight.copy_(out_w.view(1, k))
        net.layers[1].bias.fill_((-1.0) ** k)
    return net


n_cube, m_build = 14, 2000
x_cube = tasks.hypercube(n_cube)
built = 0
for k in (2, 3, 4, 5):
    for rep in range(3):
        task = tasks.LeakyParity.random(n_cube, k, alpha=0.5, seed=10 * k + rep)
        x_tr, y_tr = task.sample(
            m_build, generator=cfg.generator(cfg.seed + 10 * k + rep)
        )
        net_built = leak_reading_network(x_tr, y_tr, task.alpha, k)
        with torch.no_grad():
            assert torch.equal(net_built(x_cube), task.label(x_cube)), (k, task.support)
        built += 1
print(
    f"{built} networks built from {m_build} samples each compute chi_S on all 2^{n_cube} inputs "
    f"(k = 2..5, random S)"
)

# %% [markdown]
# Every one of them is exact, including on the uniform component, where no linear method over a
# fixed embedding of small dimension can do better than a coin in the sense of
# {prf:ref}`thm-ch03-dimension`. The network's hidden layer is an embedding of dimension $k$ that
# contains $\chi_S$ — allowed here because it was computed from the data.
#
# ### The dimension argument in numbers
#
# Now a fixed embedding: $N$ random ReLU features $\Psi_j(x) = \mathrm{ReLU}(v_j \cdot x + c_j)$ with
# the default initialisation of a first layer, on the cube of dimension $n = 12$. We compute on all
# $2^{12}$ points, so the projections are exact: for each of the $\binom{12}{3} = 220$ parities of
# degree 3, the squared correlation $\|P_V \chi_S\|^2$ with the span $V$ of the features (and a
# constant), by an orthonormal basis of $V$ from a QR decomposition. The lemma bounds the average over
# $S$ by $\dim V / \binom nk$; the maximum over $S$ is what {prf:ref}`thm-ch03-dimension` needs.


# %%
def projection_spectrum(features):
    """||P_V chi_T||^2 for every T ⊆ [n], V the span of the columns of features, and dim V.

    features: (2^n, N) values of N functions on the points of tasks.hypercube(n). An orthonormal
    basis e_1..e_dimV of V (QR) gives ||P_V chi_T||^2 = sum_j e_j-hat(T)^2, read off from the
    Walsh-Hadamard transform of the basis. Returns a (2^n,) tensor indexed by the bit mask of T.
    """
    q, r = torch.linalg.qr(features.double())
    keep = (
        r.diagonal().abs() > 1e-9 * r.diagonal().abs().max()
    )  # drop dependent columns
    e = q[:, keep].T * math.sqrt(features.shape[0])  # unit norm under the uniform law
    return analysis.walsh_coefficients(e).pow(2).sum(0), int(keep.sum())


n_dim, k_dim = 12, 3
x_all = tasks.hypercube(n_dim)
degree = torch.tensor(
    [bin(t).count("1") for t in range(2**n_dim)]
)  # |T| for each bit mask T
n_sets = comb(n_dim, k_dim)
N_GRID = [8, 32, 128, 512, 1024]
dim_rows, profiles = [], {}
for N in N_GRID:
    rf = models.MLP(n_dim, N, seed=cfg.seed + N)
    with torch.no_grad():
        feats = torch.cat([torch.relu(rf.layers[0](x_all)), torch.ones(2**n_dim, 1)], 1)
    c2_all, dimV = projection_spectrum(feats)
    c2 = c2_all[degree == k_dim]  # the 220 parities of degree 3
    profiles[N] = [float(c2_all[degree == r].sum()) for r in range(n_dim + 1)]
    dim_rows.append(
        (
            N,
            dimV,
            float(c2.mean()),
            float(c2.max()),
            float(c2.sum()),
            float(c2_all.sum()),
        )
    )
    print(
        f"N = {N:4d}: dim V = {dimV:4d}; over the {n_sets} sets of size {k_dim}: mean ||P chi_S||^2 = "
        f"{c2.mean():.2e} (Bessel bound dim V / C(n,k) = {dimV / n_sets:.2f}), max {c2.max():.2e}; "
        f"sum over all 2^n characters = {c2_all.sum():.1f}"
    )
for N, dimV, _, max_c2, _, sum_all in dim_rows:
    # a test of projection_spectrum (Parseval over all 2^n characters), not of a phenomenon
    assert abs(sum_all - dimV) < 1e-6 * dimV and max_c2 <= 1 + 1e-9, (N, sum_all, dimV)
print(
    f"N = {N_GRID[-1]}: Fourier mass of V by degree 0..{n_dim}:",
    " ".join(f"{v:.1f}" for v in profiles[N_GRID[-1]]),
)

# %%
Ns = np.array([r[0] for r in dim_rows])
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.loglog(
    Ns,
    [r[2] for r in dim_rows],
    "o-",
    label=r"mean over $|S| = 3$ of $\|P_V\chi_S\|^2$",
)
ax.loglog(Ns, [r[3] for r in dim_rows], "s-", label=r"max over $|S| = 3$")
ax.loglog(
    Ns,
    [r[1] / n_sets for r in dim_rows],
    "k--",
    label=r"Bessel bound $\dim V / \binom{n}{k}$",
)
ax.set(
    xlabel="number of random ReLU features N",
    ylabel="squared correlation with the span",
    title=f"Degree-{k_dim} parities need N of order C(n,k) = {n_sets} (n = {n_dim}, exact)",
)
ax.legend(fontsize=8)
plt.show()
notebook.glue("dim_N_max", int(Ns[-1]))
notebook.glue("dim_mean_max", dim_rows[-1][2])
i_mid = N_GRID.index(128)
notebook.glue("dim_N_mid", N_GRID[i_mid])
notebook.glue("dim_mean_mid", dim_rows[i_mid][2])
notebook.glue("dim_bound_mid", dim_rows[i_mid][1] / n_sets)

# %% [markdown]
# The mean squared correlation stays below the Bessel bound $\dim V / \binom nk$, as the lemma
# forces, and for random ReLU features it is much smaller while $N$ is small: with
# {glue:text}`dim_N_mid` features the bound is {glue:text}`dim_bound_mid:.2f` and the mean only
# {glue:text}`dim_mean_mid:.3f`. Part of their "Fourier budget" — the masses by degree printed above,
# which add up to $\dim V$ — sits on other degrees. Only when $N$ is comparable with $\binom{12}{3} = 220$
# or larger do the features capture a sizeable share of every degree-3 parity (mean
# {glue:text}`dim_mean_max:.2f` with {glue:text}`dim_N_max` features): a fixed embedding has to be of
# dimension of order $\binom nk$, as {prf:ref}`thm-ch03-dimension` says. The experiment below
# works in that regime: degree $k = 5$, and embeddings whose dimension is a small fraction of
# $\binom n5$.

# %% [markdown]
# ## Tangent kernels: when does gradient descent beat them?
#
# The network $f_\theta$ at its initialisation $\theta_0$ defines the embedding
# $\Psi(x) = \nabla_\theta f_{\theta_0}(x)$ of {prf:ref}`def-ch03-embedding`, whose kernel
# $K_0(x, x') = \langle \nabla_\theta f_{\theta_0}(x), \nabla_\theta f_{\theta_0}(x') \rangle$ is the
# (empirical) neural tangent kernel. Training the first-order Taylor model
# $f_{\theta_0}(x) + \nabla_\theta f_{\theta_0}(x) \cdot (\theta - \theta_0)$ instead of $f_\theta$ is
# a linear method over this embedding together with the fixed function $f_{\theta_0}$, so over an
# embedding of dimension $N = P + 1$ for $P$ parameters. So
# {prf:ref}`thm-ch03-dimension` applies to it verbatim: linearised training of a network with fewer
# than $\varepsilon^2 \binom nk - 1$ parameters cannot beat the trivial square loss on the uniform
# component by $\varepsilon^2$. The first step of gradient descent is tied to this kernel exactly.

# %% [markdown]
# :::{prf:proposition} The first gradient step is a tangent-kernel predictor
# :label: prop-ch03-first-step
#
# For the correlation loss $L(\theta) = -\mathbb E[y f_\theta(x)]$, one gradient step of size $\eta$
# from $\theta_0$ changes the output, to first order in $\eta$, by $\eta\, h_0(x)$ with
# $h_0(x) = \mathbb E_{(x', y')}[y'\, K_0(x', x)]$, and the correlation with the label grows by
# $\eta\, \mathbb E[y\, h_0(x)] = \eta\, \|\mathbb E[y\, \nabla_\theta f_{\theta_0}(x)]\|^2$. For the
# uniform distribution and $y = \chi_S$, the average of this growth over the $\binom nk$ sets of size
# $k$ is at most $\eta\, \mathbb E\|\nabla_\theta f_{\theta_0}(x)\|^2 / \binom nk$.
# :::

# %% [markdown]
# :::{prf:proof}
# $\nabla L(\theta_0) = -\mathbb E[y' \nabla f_{\theta_0}(x')]$, so the step is
# $\theta_1 - \theta_0 = \eta\, \mathbb E[y' \nabla f_{\theta_0}(x')]$ and, to first order,
# $f_{\theta_1}(x) - f_{\theta_0}(x) = \nabla f_{\theta_0}(x) \cdot (\theta_1 - \theta_0) = \eta\, h_0(x)$.
# Then $\mathbb E[y\, h_0(x)] = \mathbb E[y\, \nabla f_{\theta_0}(x)] \cdot \mathbb E[y' \nabla f_{\theta_0}(x')] = \|\mathbb E[y \nabla f_{\theta_0}]\|^2$.
# For $y = \chi_S$ this is $\|\mathbb E[\chi_S \Psi]\|^2$ with $\Psi = \nabla f_{\theta_0}$, and the
# general form of {prf:ref}`lem-ch03-bessel` bounds its sum over $S$ by $\mathbb E\|\Psi\|^2$.
# :::
#
# The proposition is about one step. What happens over a whole run is the subject of
# {cite}`malach2021quantifying`, whose two results we state informally.

# %% [markdown]
# :::{prf:theorem} Gradient descent and the tangent kernel (informal: a paraphrase of the abstract of Malach, Kamath, Abbe and Srebro 2021)
# :label: thm-ch03-malach
#
# Let $f_\theta$ be a differentiable model and consider gradient descent for $T$ steps with step
# size $\eta$ from $\theta_0$ on a loss with bounded gradients.
#
# 1. *(Under conditions, GD needs a tangent-kernel edge.)* Under conditions stated in
#    {cite}`malach2021quantifying` (on the model, the loss, the number of steps and the family of
#    problems; we do not list them here), if gradient descent reaches small error on a problem, then the
#    tangent kernel at $\theta_0$ achieves a non-trivial advantage over random guessing on it
#    (weak learning); the advantage may be very small even when gradient descent reaches small
#    error.
# 2. *(Without them, it does not.)* There are problems, and differentiable models, on which gradient
#    descent learns with small error while every kernel method of polynomial size, the tangent
#    kernel included, has no non-trivial advantage over random guessing.
# :::
#
# We do not reproduce the precise conditions or the quantitative bounds; they are in
# {cite}`malach2021quantifying`. Because the conditions of part 1 are not stated here, part 1 cannot
# be *applied* in this chapter: we use the theorem only as a map of the landscape, and nothing
# below is derived from it.

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch. This conveys the idea only: the paper's arguments for both parts, including the
# control of the whole trajectory in part 1 and the actual construction in part 2, are skipped.)*
# Part 1: the final predictor is the initial one plus the sum of $T$ updates. If the initial
# predictor is uninformative, the run must raise the correlation with the label, and by
# {prf:ref}`prop-ch03-first-step` the first step does so, to first order, through a tangent-kernel
# predictor. If every tangent-kernel predictor had negligible correlation, the first-order progress
# of the early steps would be negligible too; the work of the paper is to turn this into a bound on
# the whole run under its conditions, and the edge it obtains can be small — polynomially small in
# the length of the run — which is why the conclusion is only weak learning. Part 2: a separating
# construction must do two things. The targets must be, under the input distribution, nearly
# orthogonal from the point of view of *every* fixed embedding of polynomial size, so that
# {prf:ref}`lem-ch03-bessel` leaves almost all of them with negligible correlation, as in
# {prf:ref}`thm-ch03-dimension`; and the model must be such that gradient descent changes its own
# features early, using information that the frozen tangent features at $\theta_0$ cannot turn into
# a correlation with the label.
# :::
#
# In the experiment below, on Daniely and Malach's distribution, we measure the tangent kernel's
# edge $\mathbb E_{\mathcal D}[y h]$ where the network learns. There $\mathbb E[y] = 0$, so a
# constant predictor has no edge and any edge the kernel has comes from reading coordinates. This
# is an observation about one problem: it says nothing about part 1 beyond being consistent with it,
# since we have not checked part 1's conditions.

# %% [markdown]
# (sec-ch03-experiment)=
# ## Experiment: Daniely and Malach's distribution, measured exactly on the cube
#
# We now run the separation on $\mathcal D^{\mathrm{DM}}_S$ ({prf:ref}`def-ch03-dm`) itself, with
# $k = 5$, at a dimension small enough to enumerate the cube: $n = 14$ in quick mode ($n = 18$ in
# full mode). Three learners see the same $m$ examples:
#
# - **(a) the network**: a two-layer ReLU network of width $d$ (default initialisation), trained by
#   full-batch Adam on the square loss; several seeds, trained as one stacked model;
# - **(b) its tangent kernel**: for each seed, the first-order Taylor model of that network at its
#   initialisation, $f_{\theta_0}(x) + \nabla_\theta f_{\theta_0}(x)\cdot\Delta$, fitted on the square
#   loss to its ridge-regularised optimum in closed form (what `analysis.fit_linearized` does; here
#   with the tangent features of the whole cube computed once);
# - **(c) random features**: for each seed, ridge regression on $N = P$ features, $P - 1$ random
#   ReLU units and a constant, with $P$ the number of parameters of the network.
#
# The embeddings of (b) and (c) have dimension at most $P + 1$ and $P$, a small fraction of the
# $\binom nk$ parities of degree $k$ ($P =$ {glue:text}`n_params` against
# {glue:text}`binom_exp`, a ratio of {glue:text}`ratio_exp:.3f`): this is the regime of
# {prf:ref}`thm-ch03-dimension`. For (b)
# and (c) the ridge is chosen from three values by the square loss on held-out examples from
# $\mathcal D^{\mathrm{DM}}_S$, which favours the kernels. We then measure, **exactly** (on all
# $2^n$ points of the cube, and on all $2^{n-k+1}$ points of the leaky component), the quantities the
# theorem bounds: the correlation $\mathbb E_{\mathcal U}[\chi_S h]$ and the square loss
# $\mathbb E_{\mathcal U}[(h - \chi_S)^2]$ on the uniform component, and, for the tangent kernel, its
# edge $\mathbb E_{\mathcal D}[y h]$ on the whole distribution. There is no test sample, and so no
# sampling error in the evaluation.


# %%
def leaky_points(n, support):
    """All 2^(n-k+1) points of the leaky component (each has probability 2^-(n-k+1))."""
    rest = [i for i in range(n) if i not in support]
    inner = tasks.hypercube(len(rest))
    x = torch.empty(2 * len(inner), n)
    x[:, rest] = torch.cat([inner, inner])
    x[:, list(support)] = torch.cat([torch.ones(len(inner)), -torch.ones(len(inner))])[
        :, None
    ]
    return x, x[:, list(support)].prod(1)


# %%
S_EXP = tuple(
    sorted(
        torch.randperm(N_EXP, generator=cfg.generator(cfg.seed + 7))[:K_EXP].tolist()
    )
)
N_PARAMS = models.count_params(models.MLP(N_EXP, WIDTH))
x_cube = tasks.hypercube(N_EXP)  # the uniform component, exactly
chi_cube = x_cube[:, list(S_EXP)].prod(1).double()
x_lk, y_lk = leaky_points(N_EXP, S_EXP)  # the leaky component, exactly
y_lk = y_lk.double()
x_val, y_val, _ = sample_dm(N_EXP, S_EXP, 1000, generator=cfg.generator(cfg.seed + 1))
print(
    f"n = {N_EXP}, k = {K_EXP}, S = {S_EXP}, width d = {WIDTH}: P = {N_PARAMS} parameters "
    f"against C(n, k) = {comb(N_EXP, K_EXP)} parities of degree k "
    f"(ratio {N_PARAMS / comb(N_EXP, K_EXP):.3f}); m in {M_GRID}, {E_NET} seeds"
)
notebook.glue("n_exp", N_EXP)
notebook.glue("n_params", N_PARAMS)
notebook.glue("binom_exp", comb(N_EXP, K_EXP))
notebook.glue("ratio_exp", N_PARAMS / comb(N_EXP, K_EXP))


def exact_metrics(h_cube, h_leak):
    """Exact E_U[chi_S h], E_U[(h - chi_S)^2] and E_D[y h] from h on the cube and the leak."""
    h_cube, h_leak = h_cube.double(), h_leak.double()
    corr_u = (h_cube * chi_cube).mean(-1)
    return {
        "corr_u": corr_u.numpy(),
        "loss_u": ((h_cube - chi_cube) ** 2).mean(-1).numpy(),
        "corr_d": (0.5 * corr_u + 0.5 * (h_leak * y_lk).mean(-1)).numpy(),
    }


# %% [markdown]
# First the network, all seeds at once, for each sample size.

# %%
data = [
    sample_dm(N_EXP, S_EXP, m, generator=cfg.generator(cfg.seed + 10 + i))[:2]
    for i, m in enumerate(M_GRID)
]
results = {name: [] for name in ("network", "tangent kernel", "random features")}
for (x_tr, y_tr), m in zip(data, runtime.progress(M_GRID, "sample sizes")):
    net = ensemble.stack(
        [models.MLP(N_EXP, WIDTH, seed=100 * cfg.seed + s) for s in range(E_NET)]
    ).to(cfg.device)
    train.fit(
        net,
        lambda step, gen: (x_tr, y_tr),
        steps=STEPS,
        loss="mse",
        optimizer="adam",
        lr=0.01,
        data_seed=cfg.seed,
        progress=False,
    )
    with torch.no_grad():
        results["network"].append(exact_metrics(net(x_cube).cpu(), net(x_lk).cpu()))


# %% [markdown]
# Then the two fixed embeddings of each seed. The tangent features of a seed's network at its
# initialisation, and the random features of the same seed, are computed once on the whole cube and
# the leaky component; each sample size then costs one ridge solve. For the first seed we also
# compute, with `projection_spectrum`, the squared correlation $\|P_V \chi_T\|^2$ of the span $V$ of
# each embedding with **every** parity $\chi_T$ of degree $k$: the best square loss on the
# uniform component that *any* predictor over that embedding can reach for the set $T$ is
# $1 - \|P_V\chi_T\|^2$, whatever the data.


# %%
def ridge_select(F_tr, t_tr, F_val, t_val, m):
    """Ridge weights on (F_tr, t_tr), the ridge chosen by held-out square loss from RIDGES."""
    fits = [analysis.ridge_solve(F_tr, t_tr, r * m) for r in RIDGES]
    val = [float(((F_val.double() @ w - t_val.double()) ** 2).mean()) for w in fits]
    return fits[int(np.argmax(-np.array(val)))]


kernel_runs = {"tangent kernel": [], "random features": []}  # [seed][m] -> metrics
spectra = {}
for s in range(E_NET):
    net0 = models.MLP(
        N_EXP, WIDTH, seed=100 * cfg.seed + s
    )  # member s at initialisation
    rf_layer = models.MLP(N_EXP, N_PARAMS - 1, seed=100 * cfg.seed + 50 + s).layers[0]
    embeddings = {
        # the Taylor model: f0(x) + grad f0(x) . Delta (f0 is a fixed offset)
        "tangent kernel": lambda x: (
            net0(x).detach().double(),
            analysis.tangent_features(net0, x).double(),
        ),
        "random features": lambda x: (
            torch.zeros(len(x), dtype=torch.float64),
            torch.cat([torch.relu(rf_layer(x)), torch.ones(len(x), 1)], 1)
            .detach()
            .double(),
        ),
    }
    for name, embed in embeddings.items():
        (o_c, F_c), (o_l, F_l), (o_v, F_v) = embed(x_cube), embed(x_lk), embed(x_val)
        if s == 0:  # exact ||P_V chi_T||^2 for all T, V = span(offset, features)
            c2_all, dimV = projection_spectrum(torch.cat([o_c[:, None], F_c], 1))
            spectra[name] = (c2_all, dimV)
        per_m = []
        for x_tr, y_tr in data:
            o_t, F_t = embed(x_tr)
            w = ridge_select(F_t, y_tr - o_t, F_v, y_val - o_v, len(x_tr))
            per_m.append(exact_metrics(o_c + F_c @ w, o_l + F_l @ w))
        kernel_runs[name].append(per_m)
for name, runs in kernel_runs.items():  # regroup as [m] -> metrics over seeds
    results[name] = [
        {key: np.array([run[i][key] for run in runs]) for key in run0}
        for i, run0 in enumerate(runs[0])
    ]
deg_exp = torch.tensor([bin(t).count("1") for t in range(2**N_EXP)])
mask_S = analysis.subset_mask(S_EXP)
proj = {}
for name, (c2_all, dimV) in spectra.items():
    c2_k = c2_all[deg_exp == K_EXP]
    proj[name] = dict(
        dimV=dimV,
        this_S=float(c2_all[mask_S]),
        mean=float(c2_k.mean()),
        max=float(c2_k.max()),
        c2_k=c2_k.numpy(),
    )
    print(
        f"{name:16s} dim V = {dimV}: ||P_V chi_S||^2 for the run's S {proj[name]['this_S']:.2e}; "
        f"over all {len(c2_k)} sets T of size {K_EXP}: mean {proj[name]['mean']:.2e}, "
        f"max {proj[name]['max']:.2e} (Bessel: mean <= dim V / C(n,k) = "
        f"{dimV / len(c2_k):.3f})"
    )
for name, per_m in results.items():
    print(
        f"{name:16s} E_U[chi_S h] (min..max over seeds): "
        + ", ".join(
            f"m={m}: {r['corr_u'].min():.3f}..{r['corr_u'].max():.3f}"
            for m, r in zip(M_GRID, per_m)
        )
    )
    r = per_m[-1]
    print(
        f"{'':16s} at m={M_GRID[-1]}: E_U[(h - chi_S)^2] {r['loss_u'].min():.3f}.."
        f"{r['loss_u'].max():.3f}, E_D[y h] {r['corr_d'].min():.3f}..{r['corr_d'].max():.3f}"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
for i, (name, per_m) in enumerate(results.items()):
    for ax, key in ((axes[0], "corr_u"), (axes[1], "loss_u")):
        ys = np.stack([r[key] for r in per_m])  # (len(M_GRID), seeds)
        ax.plot(M_GRID, np.median(ys, 1), "o-", color=plotting.COLORS[i], label=name)
        ax.fill_between(
            M_GRID, ys.min(1), ys.max(1), color=plotting.COLORS[i], alpha=0.2
        )
for j, name in enumerate(("tangent kernel", "random features")):
    axes[1].axhline(
        1 - proj[name]["this_S"],
        color=plotting.COLORS[j + 1],
        ls="--",
        lw=1,
        label=rf"best $h$ over the {name}: $1 - \|P_V\chi_S\|^2$",
    )
    axes[2].hist(
        proj[name]["c2_k"],
        bins=np.logspace(-5, 0, 41),
        color=plotting.COLORS[j + 1],
        alpha=0.6,
        label=name,
    )
    axes[2].axvline(
        proj[name]["dimV"] / comb(N_EXP, K_EXP), color=plotting.COLORS[j + 1], ls="--"
    )
axes[0].axhline(0, color="gray", ls=":", label="zero predictor")
axes[1].axhline(1, color="gray", ls=":", label="zero predictor")
for ax in axes[:2]:
    ax.set_xscale("log")
    ax.set_xticks(M_GRID, labels=[str(m) for m in M_GRID])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("training samples m")
axes[0].set(
    ylabel=r"$\mathbb{E}_{\mathcal{U}}[\chi_S h]$ (exact)",
    title="Correlation with the parity on the uniform component",
)
axes[1].set(
    ylabel=r"$\mathbb{E}_{\mathcal{U}}[(h - \chi_S)^2]$ (exact)",
    title="Square loss on the uniform component",
    ylim=(-0.05, 2.0),
)
axes[2].set(
    xscale="log",
    xlabel=r"$\|P_V \chi_T\|^2$ over all $|T| = k$ (first seed)",
    ylabel="number of sets T",
    title=r"Every parity is far from $V$; dashed: $\dim V / \binom{n}{k}$",
)
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=7)
axes[2].legend(fontsize=8)
fig.suptitle(
    f"Daniely-Malach distribution, n = {N_EXP}, k = {K_EXP}: {N_PARAMS} parameters "
    f"vs C(n, k) = {comb(N_EXP, K_EXP)}; median and min-max over {E_NET} seeds",
    fontsize=10,
)
reproduce.save_headline(fig)
plt.show()

# %%
last = {name: per_m[-1] for name, per_m in results.items()}
net_corr = float(np.median(last["network"]["corr_u"]))
net_corr_min = float(last["network"]["corr_u"].min())
net_loss_max = float(last["network"]["loss_u"].max())
kern_corr_max = max(
    float(np.abs(last[nm]["corr_u"]).max())
    for nm in ("tangent kernel", "random features")
)
kern_loss_min = min(
    float(last[nm]["loss_u"].min()) for nm in ("tangent kernel", "random features")
)
ntk_edge_min = float(last["tangent kernel"]["corr_d"].min())
ntk_edge_max = float(last["tangent kernel"]["corr_d"].max())
i_learn = next(
    (i for i, r in enumerate(results["network"]) if np.median(r["corr_u"]) >= 0.9), None
)
notebook.glue("m_max", M_GRID[-1])
notebook.glue("m_min", M_GRID[0])
notebook.glue("m_learn", M_GRID[i_learn] if i_learn is not None else "none of the m")
notebook.glue("net_corr", net_corr)
notebook.glue("net_corr_min", net_corr_min)
notebook.glue("net_loss_max", net_loss_max)
notebook.glue("kern_corr_max", kern_corr_max)
notebook.glue("kern_loss_min", kern_loss_min)
notebook.glue("ntk_edge_min", ntk_edge_min)
notebook.glue("ntk_edge_max", ntk_edge_max)
for name, key in (("tangent kernel", "ntk"), ("random features", "rf")):
    notebook.glue(f"{key}_this_S", proj[name]["this_S"])
    notebook.glue(f"{key}_proj_mean", proj[name]["mean"])
    notebook.glue(f"{key}_proj_max", proj[name]["max"])
    notebook.glue(f"{key}_bessel", proj[name]["dimV"] / comb(N_EXP, K_EXP))
    notebook.glue(
        f"{key}_slack", proj[name]["dimV"] / comb(N_EXP, K_EXP) / proj[name]["mean"]
    )

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("03_beyond_kernels")

# %% [markdown]
# **What the run shows.** With {glue:text}`m_max` samples the trained networks compute the parity
# on the uniform component: their exact correlation $\mathbb E_{\mathcal U}[\chi_S f]$ is
# {glue:text}`net_corr:.3f` (median over seeds; the worst seed {glue:text}`net_corr_min:.3f`, and
# square loss there at most {glue:text}`net_loss_max:.3f`); the median first passes $0.9$ at
# $m =$ {glue:text}`m_learn`. The tangent kernels and the random features, fitted on the same data,
# stay at correlation at most {glue:text}`kern_corr_max:.3f` in absolute value at every seed, and
# their square loss on the uniform component is at least {glue:text}`kern_loss_min:.3f`, against
# $1$ for the zero predictor: what they fit is the leak, which on the uniform component is noise.
# (At the smallest sample sizes the networks overfit, and their loss there leaves the plotted
# range.)
#
# **Against the bound.** Whatever the data and the ridge, a predictor over the tangent embedding of
# the first seed cannot reach a square loss on the uniform component below
# $1 - \|P_V\chi_S\|^2$, and here $\|P_V\chi_S\|^2 =$ {glue:text}`ntk_this_S:.1e` (random
# features: {glue:text}`rf_this_S:.1e`): the lower half of the separation holds *for this $S$*
# with room to spare, not only on average. Over all $\binom nk =$ {glue:text}`binom_exp` sets of size
# $k$ the mean of $\|P_V\chi_T\|^2$ is {glue:text}`ntk_proj_mean:.1e` for the tangent embedding and
# {glue:text}`rf_proj_mean:.1e` for random features, far below the Bessel bound
# $\dim V / \binom nk$ ({glue:text}`ntk_bessel:.3f` and {glue:text}`rf_bessel:.3f`) that
# {prf:ref}`thm-ch03-dimension` uses; the largest value over all $T$ is
# {glue:text}`ntk_proj_max:.1e` and {glue:text}`rf_proj_max:.1e`. So the bound holds with room to
# spare — the mean is a factor {glue:text}`ntk_slack:.0f` (tangent) and {glue:text}`rf_slack:.0f`
# (random features) below it: these embeddings put much of their Fourier mass on other degrees
# (compare the profile by degree of the previous section), while the bound allows for the worst
# embedding. The experiment is in the theorem's regime, but the theorem is not what is tight here.
#
# *A caveat on the printed $\dim V$ of the tangent embedding.* In exact arithmetic its span has
# dimension at most $P + 1 - (d + 1)$: for each hidden unit,
# $\partial f / \partial a_j = \mathrm{ReLU}(z_j) = z_j \mathbf 1[z_j > 0]$ is a combination of that
# unit's derivatives in $w_j$ and $b_j$, and $f_{\theta_0}$ itself lies in the span. The features
# are computed in single precision, whose rounding leaves these $d + 1$ directions independent, at
# the level of the rounding but above the rank threshold of `projection_spectrum`; so the
# printed $\dim V$ counts them, and the computed $V$ is a slightly larger space than the exact
# span. This can only *raise* the measured $\|P_V\chi_T\|^2$ (a projection onto a larger space is
# longer), so the kernels' distance from $\chi_S$ reported here is, if anything, understated; and
# the Bessel bound holds for the computed $V$ with its own dimension.
#
# **What the tangent kernel does learn.** Its edge on the whole distribution,
# $\mathbb E_{\mathcal D}[y h]$, is between {glue:text}`ntk_edge_min:.3f` and
# {glue:text}`ntk_edge_max:.3f` over seeds. Under $\mathcal D^{\mathrm{DM}}_S$ the constant
# predictor has no edge at all ($\mathbb E[y] = 0$), so this edge is not the trivial one of the
# chapter's variant: the kernel reads the relevant coordinates, as the degree-one statistics of
# {prf:ref}`prop-ch03-leak` allow, and gains essentially all of its edge on the leaky component.
# So where gradient descent learns, the tangent kernel here has a weak edge. Part 1 of
# {prf:ref}`thm-ch03-malach` predicts such an edge under conditions that we have not checked, so
# this is an observation consistent with the theorem, not a test of it.
#
# **What it does not show.** The theorem of Daniely and Malach is asymptotic: its bound is small
# only for $n$ a large power of $k$, and its algorithm is their two-phase gradient descent, not Adam
# on the square loss. We run one $k$, small $n$ and a generic optimiser; the network's success here
# is an observation at this size, and the smallest sample sizes show that it needs enough samples
# (at $m =$ {glue:text}`m_min` it fails too).


# %% [markdown]
# (sec-ch03-precision)=
# ## Stochastic gradient descent, precision and batch size
#
# Chapter 1 argued that a mini-batch gradient is a statistical query: each coordinate is a batch
# average of a bounded function of $(x, y)$. That is only half true, and
# {cite}`abbe2021power` make it exact. What decides is how the *precision* of the gradient compares
# with the *sampling noise* of the batch.


# %% [markdown]
# :::{prf:definition} SGD with batch size $b$ and precision $\rho$
# :label: def-ch03-sgd-precision
#
# Let $f_\theta$ be a differentiable model with $P$ parameters and $\ell$ a loss. *SGD with batch
# size $b$ and precision $\rho$* runs, for $t = 0, 1, \dots, T_{\mathrm{train}} - 1$,
# $\theta_{t+1} = \theta_t - \eta\, g_t$, where $g_t$ is any vector with
# $\| g_t - \frac1b \sum_{i=1}^{b} \nabla_\theta \ell(f_{\theta_t}(x_i^{(t)}), y_i^{(t)}) \|_\infty \le \rho$ for a fresh batch
# $(x_i^{(t)}, y_i^{(t)})_{i \le b}$: every coordinate of the batch gradient is known only up to
# $\rho$, and the error may be chosen adversarially (rounding to a grid of step $2\rho$ is one
# admissible choice). *GD with precision $\rho$* is the same with one fixed sample of size $m$ in
# place of the fresh batches. The per-example gradients are assumed bounded, say in $[-1, 1]$.
# :::


# %% [markdown]
# :::{prf:theorem} SGD between SQ and PAC (informal; after Abbe, Kamath, Malach, Sandon and Srebro 2021)
# :label: thm-ch03-abbe
#
# 1. *(SGD simulates SQ.)* For every SQ algorithm making $q$ queries of tolerance $\tau$
#    ({prf:ref}`def-ch01-sq`) there is a differentiable model of size polynomial in $q$ and the
#    algorithm's running time such that SGD with precision $\rho$ of order $\tau$ and batch size
#    $b$ of order $\log(q/\delta)/\tau^2$ outputs, with probability at least $1 - \delta$, what the
#    algorithm outputs (for some valid oracle).
# 2. *(Fine precision: PAC.)* If $b\rho$ is at most a small enough constant, SGD with batch size $b$
#    and precision $\rho$ on a model of polynomial size can simulate any polynomial-time learning
#    algorithm that uses samples; so SGD can learn, for example, parities under the uniform
#    distribution with polynomially many samples (by Gaussian elimination), which no SQ algorithm
#    can ({prf:ref}`thm-ch01-sq-lower-bound`). The same holds for GD with $m\rho$ small.
# 3. *(Coarse precision: SQ.)* If $b\rho^2$ is large enough (larger than a logarithmic factor in the
#    number of steps and parameters), everything SGD with batch size $b$ and precision $\rho$ can
#    learn can also be learned by an SQ algorithm with tolerance of order $\rho$ and a number of
#    queries of order the number of steps times parameters (a *randomised* SQ algorithm: the
#    simulation draws SGD's initialisation), so the lower bound for randomised SQ algorithms,
#    {prf:ref}`thm-ch02-sq-luck`, applies to it.
#
# The paper's statements have explicit constants and logarithmic factors that we do not reproduce
# {cite}`abbe2021power`; part 3 is proved in full, with our own constants, in
# {prf:ref}`prop-ch03-coarse-sq` below.
# :::
#
# Between $b\rho \approx 1$ and $b\rho^2 \approx 1$, that is for $1/b \lesssim \rho \lesssim 1/\sqrt b$, the
# two results leave a gap. The three scales at play are the precision $\rho$, the *sampling
# noise* of a batch average of bounded terms, of order $1/\sqrt b$, and the *influence of one
# example* on that average, of order $1/b$.
#
# A statistical query returns the population average up to the tolerance, and nothing about the
# particular examples. A batch gradient is the population average *plus* a fluctuation of size
# about $1/\sqrt b$ that depends on which examples were drawn. If the precision is coarser than
# that fluctuation, rounding (or an adversary working within $\rho$) can erase it, and what is left
# is an SQ answer: this is the SQ side. If the precision is finer than the fluctuation, the
# gradient carries information about the sample itself, information no SQ oracle gives; and once it
# is finer than the influence $1/b$ of a single example, a suitably built model can read individual
# examples out of its gradients, store them in its weights and compute with them — arbitrary
# computation, which is the PAC side.


# %% [markdown]
# :::{prf:proof}
# *(Proof sketch. It skips the construction of the models, the handling of the adversarial
# rounding along a whole run, and all constants; see {cite}`abbe2021power`.)*
#
# *Part 3, coarse precision* (the full proof, with constants, is that of
# {prf:ref}`prop-ch03-coarse-sq` below). Suppose $\rho \gg 1/\sqrt b$. A coordinate of the batch gradient is
# the average of $b$ bounded terms, so by Hoeffding it lies within about $\sqrt{\log(1/\delta)/b} \ll \rho$
# of its population value with probability $1 - \delta$. An SQ algorithm can ask for that
# population value (the query is the per-example gradient coordinate, a bounded function of
# $(x, y)$) with tolerance of order $\rho$ and use the answer $v$ as $g_t$: since
# $|v - \text{population}| \lesssim \rho$ and $|\text{batch} - \text{population}| \ll \rho$, the answer
# differs from the batch gradient by at most about $\rho$, so it is an admissible $g_t$ in
# {prf:ref}`def-ch03-sgd-precision`. Each step of SGD is thus one round of statistical queries, one
# per parameter, and the whole run is an SQ algorithm: whatever the batch contains beyond its
# population average lies below the precision and can be hidden by the adversary.
#
# *Part 2, fine precision.* Suppose $\rho \ll 1/b$. Then changing a single example of the batch
# moves the batch average of a coordinate by about $1/b \gg \rho$, which survives rounding: the
# rounded gradient still depends on individual examples. The construction uses this to read the
# batch: the model contains parts whose per-example gradient encodes a bit of an individual
# example (for instance, one coordinate whose gradient is $+1/b$ or $-1/b$ per example according to
# that bit, arranged so that only one example of the batch contributes), so the update writes that
# bit into a parameter. Over many steps the parameters store enough examples, and further parts of
# the model, whose gradients implement the steps of a circuit, run any polynomial-time algorithm
# on them — the gradient steps become a general-purpose computer. Rounding noise below the
# per-example influence cannot erase the bits.
#
# *Part 1.* Choose the model so that its gradient at each step is the query's value: with
# $b \approx \log(q/\delta)/\tau^2$, the batch average is within $\tau/2$ of the population value for
# all $q$ queries, and precision $\rho \approx \tau/2$ keeps the total error within $\tau$.
# :::
#
# Part 3 is short enough to prove completely. We state it in the form we prove, with our constants.

# %% [markdown]
# :::{prf:proposition} Coarse-precision SGD is simulated by statistical queries
# :label: prop-ch03-coarse-sq
#
# Let $f_\theta$ be a model with $P$ parameters, labels $y \in \{-1,+1\}$, and a loss whose
# per-example gradient coordinates $\partial_j \ell(f_\theta(x), y)$ lie in $[-1, 1]$ for all
# $\theta, x, y$. Consider SGD with batch size $b$, precision $\rho$, $T$ steps and step size $\eta$
# ({prf:ref}`def-ch03-sgd-precision`), from an initialisation $\theta_0$ drawn from some
# distribution, and suppose it *learns* a family of targets with confidence $1 - \delta$: for every
# target in the family and every rule that chooses the admissible $g_t$ (possibly as a function of
# the history and of the current batch), the final $\theta_T$ is *good* (a property of $\theta_T$ and
# the target, e.g. $\mathrm{err}(\mathrm{sign} f_{\theta_T}) < 1/4$) with probability at least
# $1 - \delta$ over $\theta_0$ and the batches. If
#
# $$ b \;\ge\; \frac{8}{\rho^2}\, \log(4TP), $$
#
# then there is a randomised SQ algorithm that asks $q = TP$ queries with tolerance $\tau = \rho/2$
# and, for every target in the family and every valid oracle, outputs a good $\theta_T$ with
# probability at least $1 - 2\delta$ over its own randomness.
# :::

# %% [markdown]
# :::{prf:proof}
# *The algorithm.* Draw $\theta_0$ from the initialisation. For $t = 0, \dots, T-1$ ask the $P$
# queries $\phi_{t,j}(x, y) = \partial_j \ell(f_{\theta_t}(x), y)$, which take values in $[-1, 1]$,
# receive answers $v_{t,j}$ with $|v_{t,j} - \mathbb E[\phi_{t,j}]| \le \rho/2$, and set
# $\theta_{t+1} = \theta_t - \eta\, v_t$. Output $\theta_T$. Fix a target and a valid oracle; to keep
# notation light, take the oracle deterministic (a randomised one is handled by conditioning on its
# randomness). Then, given $\theta_0$, the whole sequence $\theta_0, \dots, \theta_T$ is fixed.
#
# *A coupling.* Draw, independently of everything, fresh batches $Z_0, \dots, Z_{T-1}$ of $b$
# examples each, and let $\bar\phi_{t,j}$ be the average of $\phi_{t,j}$ over $Z_t$. Since
# $\theta_t$ does not depend on the batches, each $\bar\phi_{t,j}$ is an average of $b$ independent
# terms in $[-1,1]$ with mean $\mathbb E[\phi_{t,j}]$, and Hoeffding's inequality gives
# $\Pr[|\bar\phi_{t,j} - \mathbb E\phi_{t,j}| > \rho/2] \le 2e^{-b\rho^2/8}$. By a union bound over
# the $TP$ pairs, the event $E$ that all $TP$ deviations are at most $\rho/2$ has
# $\Pr[E \mid \theta_0] \ge 1 - 2TP\,e^{-b\rho^2/8} \ge 1/2$ under the condition on $b$. On $E$,
# $\|v_t - \bar\phi_t\|_\infty \le \rho/2 + \rho/2 = \rho$ for every $t$.
#
# *The rule.* Let SGD run from the same $\theta_0$ on the batches $Z_t$ with the following rule: at
# step $t$, if the parameters so far are $\theta_0, \dots, \theta_t$ (those of the algorithm) and
# $\|v_t - \bar\phi_t\|_\infty \le \rho$, take $g_t = v_t$; otherwise take the batch gradient
# itself. Both choices are admissible. On $E$ the first case applies at every step, so, by induction
# on $t$, this SGD run produces exactly the sequence $\theta_0, \dots, \theta_T$ of the algorithm. By hypothesis the run's output
# is good with probability at least $1 - \delta$ over $\theta_0$ and the batches. Write
# $s(\theta_0)$ for the conditional probability, given $\theta_0$, that it is good; then
# $\mathbb E[1 - s(\theta_0)] \le \delta$, so by Markov's inequality
# $\Pr[s(\theta_0) \le 1/2] \le 2\delta$.
#
# *Conclusion.* If $s(\theta_0) > 1/2$, then $\Pr[E \mid \theta_0] + s(\theta_0) > 1$, so the event
# "$E$ holds and the SGD run's output is good" has positive probability given $\theta_0$; on it, that
# output is the algorithm's $\theta_T$, which does not depend on the batches. So the algorithm's
# $\theta_T$ is good whenever $s(\theta_0) > 1/2$, which happens with probability at least
# $1 - 2\delta$.
# :::
#
# With {prf:ref}`thm-ch02-sq-luck` this gives a concrete limit. If coarse-precision SGD learns
# $k$-sparse parities under the uniform distribution ("good": error below $1/4$) with confidence
# $1 - \delta$, $\delta < 1/2$, then $q/\tau^2 = 4TP/\rho^2 \ge (1 - 2\delta)\binom nk - 1$: the
# number of steps times the number of parameters must grow like $\rho^2 \binom nk$.
#
# The two conditions can be seen in a few lines. Take per-example gradient terms $\pm 1$ with
# population mean $0$, their batch average over $b$ examples, and round it to the grid
# $\{2\rho j\}$. Exactly, from the binomial distribution, we compute (i) the probability that the
# rounded batch gradient equals the rounded population gradient — then the batch carries no
# information beyond a statistical query — and (ii) the probability that flipping one example of
# the batch changes the rounded gradient — then individual examples are visible.


# %%
def rounded_mean_stats(b, rho):
    """Exact (P[round(batch mean) = round(0)], P[flipping one example changes round(batch mean)]).

    Terms are +-1 with mean 0; round(v) = nearest point of the grid {2 rho j}; ties are negligible.
    """

    def pmf(t):  # Binomial(t, 1/2)
        j = np.arange(t + 1)
        logp = np.array(
            [
                math.lgamma(t + 1) - math.lgamma(i + 1) - math.lgamma(t - i + 1)
                for i in j
            ]
        )
        return j, np.exp(logp - t * math.log(2))

    cell = lambda v: np.floor(v / (2 * rho) + 0.5)
    j, p = pmf(b)
    same_as_population = float(p[cell((2 * j - b) / b) == 0].sum())
    j1, p1 = pmf(b - 1)  # the other b - 1 examples
    before, after = (
        (2 * j1 - (b - 1) - 1) / b,
        (2 * j1 - (b - 1) + 1) / b,
    )  # one example: -1 -> +1
    return same_as_population, float(p1[cell(before) != cell(after)].sum())


B_GRID = [16, 64, 256, 1024, 4096]
RHO_GRID = np.logspace(-4, -0.5, 15)
sq_like = np.array([[rounded_mean_stats(b, r)[0] for r in RHO_GRID] for b in B_GRID])
pac_like = np.array([[rounded_mean_stats(b, r)[1] for r in RHO_GRID] for b in B_GRID])

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for i, b in enumerate(B_GRID):
    for ax, vals in ((axes[0], sq_like), (axes[1], pac_like)):
        ax.semilogx(
            RHO_GRID,
            vals[i],
            "o-",
            ms=3,
            color=plotting.COLORS[i % len(plotting.COLORS)],
            label=f"b = {b}",
        )
        ax.axvline(
            1 / b, color=plotting.COLORS[i % len(plotting.COLORS)], ls=":", lw=0.8
        )
        ax.axvline(
            1 / math.sqrt(b),
            color=plotting.COLORS[i % len(plotting.COLORS)],
            ls="--",
            lw=0.8,
        )
axes[0].set(
    xlabel=r"precision $\rho$",
    ylabel="probability",
    title=r"Rounded batch gradient = rounded population value"
    "\n"
    r"(SQ-like once $\rho \gg 1/\sqrt{b}$, dashed)",
)
axes[1].set(
    xlabel=r"precision $\rho$",
    ylabel="probability",
    title=r"One example changes the rounded gradient"
    "\n"
    r"(PAC-like while $\rho \ll 1/b$, dotted)",
)
for ax in axes:
    ax.legend(fontsize=8)
plt.show()

sq_at_coarse = rounded_mean_stats(1024, 8 / math.sqrt(1024))[0]
pac_at_fine = rounded_mean_stats(1024, 0.1 / 1024)[1]
notebook.glue("sq_at_coarse", sq_at_coarse)
notebook.glue("pac_at_fine", pac_at_fine)
print(
    f"b = 1024: P[rounded batch = rounded population] at rho = 8/sqrt(b): {sq_at_coarse:.4f}; "
    f"P[one example visible] at rho = 0.1/b: {pac_at_fine:.4f}"
)

# %% [markdown]
# For $b = 1024$, at precision $\rho = 8/\sqrt b$ the rounded batch gradient equals the rounded
# population value with probability {glue:text}`sq_at_coarse:.4f`: the batch might as well have been
# a statistical query. At $\rho = 0.1/b$, flipping a single example changes the rounded gradient with
# probability {glue:text}`pac_at_fine:.4f`: every example leaves a trace, which is the raw material
# of the PAC simulation. In between, individual examples are visible only some of the time. This
# toy measures information in one rounded average; the theorem is about what a *designed* model can
# do with it over a whole run, and about adversarial rather than nearest-point rounding.

# %% [markdown]
# ### The coupling of the proof, simulated
#
# The proof of {prf:ref}`prop-ch03-coarse-sq` rests on one event $E$: along the run of the SQ
# algorithm, every coordinate of every fresh batch gradient lies within $\rho$ of the oracle's
# answer, so that the answer is an admissible $g_t$ and SGD can follow the SQ run exactly. We
# simulate it for logistic regression $f_\theta(x) = \theta\cdot x$ on $\{-1,+1\}^{10}$ with
# $y = \mathrm{Maj}(x_1, x_2, x_3)$ (per-example gradients $-y\,x_j\,\sigma(-y\,\theta\cdot x)$ lie in
# $[-1,1]$): the oracle returns the exact population gradient rounded to the grid $\rho\mathbb Z$
# (error at most $\rho/2$), and we count the runs of fresh batches on which $E$ holds. At the batch
# size $b^\star = \lceil 8\log(4TP)/\rho^2\rceil$ of the proposition the proof guarantees
# $\Pr[E] \ge 1/2$; at $b^\star/64$, where $b\rho^2$ is small, we expect $E$ to fail: the batch then
# shows more than a statistical query does.


# %%
def coupling_rate(b, rho, *, runs=200, n=10, T=20, lr=0.5, seed=0):
    """Fraction of runs with ||v_t - batch gradient_t||_inf <= rho for all t (event E).

    v_t: population gradient rounded to the grid rho Z, along the SQ run theta_{t+1} = theta_t -
    lr v_t; batches: b fresh uniform points of the cube per step and run.
    """
    x = tasks.hypercube(n).double()
    y = torch.sign(x[:, :3].sum(1))
    gen = torch.Generator().manual_seed(seed)
    theta = torch.zeros(n, dtype=torch.float64)
    ok = torch.ones(runs, dtype=torch.bool)
    for _ in range(T):
        per_example = -(y * torch.sigmoid(-y * (x @ theta)))[:, None] * x  # (2^n, P)
        v = rho * torch.round(per_example.mean(0) / rho)  # the oracle's answer
        idx = torch.randint(len(x), (runs, b), generator=gen)
        batch = per_example[idx].mean(1)  # (runs, P)
        ok &= (batch - v).abs().amax(1) <= rho
        theta = theta - lr * v
    return float(ok.double().mean())


RHO_SIM, T_SIM, P_SIM = 0.25, 20, 10
b_star = math.ceil(8 * math.log(4 * T_SIM * P_SIM) / RHO_SIM**2)
rate_star = coupling_rate(b_star, RHO_SIM, T=T_SIM, n=P_SIM)
rate_small = coupling_rate(b_star // 64, RHO_SIM, T=T_SIM, n=P_SIM)
print(
    f"rho = {RHO_SIM}, T = {T_SIM}, P = {P_SIM}: P[E] = {rate_star:.3f} at b* = {b_star} "
    f"(b rho^2 = {b_star * RHO_SIM**2:.0f}); P[E] = {rate_small:.3f} at b*/64 = "
    f"{b_star // 64} (b rho^2 = {b_star // 64 * RHO_SIM**2:.1f}); 200 runs each"
)
notebook.glue("b_star", b_star)
notebook.glue("b_small", b_star // 64)
notebook.glue("rate_star", rate_star)
notebook.glue("rate_small", rate_small)

# %% [markdown]
# At $b^\star =$ {glue:text}`b_star` the event holds in a fraction {glue:text}`rate_star:.3f` of the
# runs (the proof needs only $1/2$; Hoeffding with a union bound is loose), so SGD with these batches
# can be made to follow the SQ run. At $b =$ {glue:text}`b_small` it holds in
# {glue:text}`rate_small:.3f`: some batch gradient strays farther than $\rho$ from the oracle's
# answer, so this run of the SQ algorithm can no longer be passed off as SGD on these batches.
#
# ## Checks

# %%
# (a) Daniely-Malach: on their distribution, the trained network computes chi_S on the uniform
# component (exact correlation >= 0.9, median over seeds, at the largest m), while both kernels,
# with P << C(n,k) parameters, stay at |correlation| <= 0.1 and square loss >= 0.9 there, every
# seed.
reproduce.report(
    "daniely2020learning",
    claim="On Daniely and Malach's distribution (k odd, shared sign on S, mixing 1/2), gradient "
    "descent on a two-layer ReLU network learns the parity, while random features and the "
    "tangent kernel with far fewer parameters than C(n, k) do not beat the zero predictor on "
    "the uniform component (their own distribution, small n, Adam instead of their algorithm)",
    paper_value="network: loss <= a bound in the width q and n (small for q, n large "
    "powers of k); every linear method of poly size: no non-trivial loss (asymptotic in n)",
    value=f"n={N_EXP}, k={K_EXP}, m={M_GRID[-1]}, P={N_PARAMS} vs C(n,k)="
    f"{comb(N_EXP, K_EXP)}, {E_NET} seeds, exact on the cube: network E_U[chi_S f] "
    f"median {net_corr:.3f} (min {net_corr_min:.3f}); kernels |E_U[chi_S h]| <= "
    f"{kern_corr_max:.3f}, E_U[(h - chi_S)^2] >= {kern_loss_min:.3f}; ||P_V chi_S||^2 "
    f"{proj['tangent kernel']['this_S']:.1e} (tangent), "
    f"{proj['random features']['this_S']:.1e} (random features)",
    assertion="network median E_U[chi_S f] >= 0.9; both kernels, every seed: "
    "|E_U[chi_S h]| <= 0.1 and E_U[(h - chi_S)^2] >= 0.9",
    passed=bool(net_corr >= 0.9 and kern_corr_max <= 0.1 and kern_loss_min >= 0.9),
    status="partly",
    section="sec-ch03-experiment",
)
# (b) Malach et al.: where the network learns, its tangent kernel has an edge on D^DM (where
# the constant predictor has none) and no edge on the uniform component.
reproduce.report(
    "malach2021quantifying",
    claim="Where gradient descent learns, the tangent kernel at initialisation has a weak "
    "edge (observed on one problem; the theorem's conditions are not checked, part 2 not run)",
    paper_value=None,
    value=f"tangent kernel E_D[y h] {ntk_edge_min:.3f}..{ntk_edge_max:.3f} over seeds, "
    f"|E_U[chi_S h]| <= {kern_corr_max:.3f}; network E_U[chi_S f] median {net_corr:.3f}",
    assertion="network median E_U[chi_S f] >= 0.9; tangent kernel E_D[y h] >= 0.1 for every "
    "seed (E[y] = 0, so a constant has no edge) and |E_U[chi_S h]| <= 0.1",
    passed=bool(net_corr >= 0.9 and ntk_edge_min >= 0.1 and kern_corr_max <= 0.1),
    status="partly",
    section="sec-ch03-experiment",
)
# (c) Abbe et al., part 3: the coupling event of the proof holds at the proposition's batch size
# in at least half of the runs (as proved), and fails in most runs at b*/64.
reproduce.report(
    "abbe2021power",
    claim="SGD with coarse precision (b rho^2 large) is simulated by statistical queries (proved "
    "here with our constants); the coupling of the proof simulated, and seen to break when "
    "b rho^2 is small",
    paper_value="thresholds b rho^2 >> log factors (SQ) and b rho << 1 (PAC)",
    value=f"rho={RHO_SIM}, T={T_SIM}, P={P_SIM}, 200 runs: P[E] {rate_star:.3f} at "
    f"b*={b_star}, {rate_small:.3f} at b*/64={b_star // 64}",
    assertion="P[E] >= 1/2 at b* and P[E] < 1/2 at b*/64",
    passed=bool(rate_star >= 0.5 and rate_small < 0.5),
    status="partly",
    section="sec-ch03-precision",
)
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# How much of a degree-$k$ parity can $N$ random ReLU features capture on the cube of dimension
# $n$? The sliders recompute the exact squared correlations of the dimension argument (in a static
# build of the book, this shows the default setting).


# %%
def explore_dimension(n=10, k=3, N=64):
    """Histogram of ||P_V chi_S||^2 over all |S| = k for N random ReLU features on {±1}^n."""
    k = min(k, n)
    x = tasks.hypercube(n)
    layer = models.MLP(n, N, seed=7).layers[0]
    with torch.no_grad():
        feats = torch.cat([torch.relu(layer(x)), torch.ones(2**n, 1)], 1)
    c2_all, dimV = projection_spectrum(feats)
    c2 = c2_all[torch.tensor([bin(t).count("1") == k for t in range(2**n)])]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.hist(c2.numpy(), bins=30, color=plotting.COLORS[0])
    ax.axvline(
        min(1.0, dimV / len(c2)), color="k", ls="--", label=r"$\dim V / \binom{n}{k}$"
    )
    ax.set(
        xlabel=r"$\|P_V \chi_S\|^2$",
        ylabel="number of sets S",
        title=f"n={n}, k={k}, N={N}: {len(c2)} parities, mean {c2.mean():.2e}",
    )
    ax.legend()
    plt.show()


notebook.explore(
    explore_dimension, n=(10, (4, 14, 1)), k=(3, (1, 6, 1)), N=(64, (4, 1024, 4))
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} A halfspace that agrees with a parity on three quarters of the cube
# :label: ex-ch03-majority
#
# Let $k = 3$ and $S = \{1, 2, 3\}$. Show that
# $\mathrm{Maj}(x_1, x_2, x_3) = \tfrac12(x_1 + x_2 + x_3) - \tfrac12 x_1 x_2 x_3$, and deduce that
# $-\mathrm{Maj}$, a halfspace over the embedding $\Psi(x) = x$ of dimension $n$, agrees with
# $\chi_S$ on $3/4$ of the cube. Why does this not contradict {prf:ref}`thm-ch03-dimension`?
# *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch03-majority
# :class: dropdown
#
# Both sides are functions of $(x_1, x_2, x_3)$; check the four cases by the number $j$ of minus
# ones: $j = 0$: $\tfrac32 - \tfrac12 = 1$; $j = 1$: $\tfrac12 + \tfrac12 = 1$; $j = 2$:
# $-\tfrac12 - \tfrac12 = -1$; $j = 3$: $-\tfrac32 + \tfrac12 = -1$. So
# $\mathbb E[\mathrm{Maj}\, \chi_S] = -\tfrac12$ and $\Pr[-\mathrm{Maj} = \chi_S] = (1 + \tfrac12)/2 = 3/4$.
# No contradiction: the theorem bounds losses that reward the *real-valued* correlation
# $\mathbb E[\chi_S h]$, and every linear $h = \langle w, x \rangle$ has
# $\mathbb E[\chi_S h] = 0$ for $k \ge 2$; the correlation of $\mathrm{sign}(h)$ is a different
# quantity. Its square loss is $\mathbb E[(h - \chi_S)^2] = \mathbb E[h^2] + 1 \ge 1$, no better than $h \equiv 0$.
# :::
#
# :::{exercise} The tangent kernel is a small embedding
# :label: ex-ch03-ntk-dimension
#
# A two-layer network $f_\theta(x) = \sum_{j=1}^d a_j\, \mathrm{ReLU}(w_j \cdot x + b_j) + c$ on
# $\{-1,+1\}^n$ has $P = d(n + 2) + 1$ parameters. Use {prf:ref}`thm-ch03-dimension` to give a lower
# bound on the width $d$ for which linearised training (the first-order Taylor model at any fixed
# $\theta_0$, trained with any method) can reach square loss
# $(1-\alpha)(1 - \varepsilon^2)$ under $\mathcal D_{S,\alpha}$ for every $S$ of size $k$. Compare it
# with the width the network itself needs. *Difficulty: ★☆☆, about 10 min.*
# :::
#
# :::{solution} ex-ch03-ntk-dimension
# :class: dropdown
#
# The Taylor model is $f_{\theta_0}(x) + \langle \theta - \theta_0, \nabla f_{\theta_0}(x)\rangle$,
# a linear predictor over the embedding $\Psi(x) = (f_{\theta_0}(x), \nabla f_{\theta_0}(x))$ of
# dimension $P + 1$, fixed before the data. Case 1 of the theorem gives
# $P + 1 \ge \varepsilon^2 \binom nk$, i.e. $d \ge (\varepsilon^2 \binom nk - 2)/(n + 2)$, of order
# $\varepsilon^2 n^{k-1}/k!$. The network trained by gradient descent needs width about $k + 1$ to
# represent the parity ({prf:ref}`prop-ch01-parity-network`) and, with the leak, polynomially many
# samples to find it ({prf:ref}`thm-ch03-dm-gd`); the linearisation of any width below the bound
# cannot even beat the zero predictor by $\varepsilon^2$ on the uniform component.
# :::
#
# :::{exercise} Find the hidden set from the leak
# :label: ex-ch03-find-support
#
# Write `find_support(x, y, k)` that returns the set $S$ (a sorted list of $k$ indices) from
# samples of $\mathcal D_{S,\alpha}$, using only first-order statistics. How many samples does it
# need, as a function of $n$ and $\alpha$? Test it with `check_find_support(find_support)`
# (defined below), which runs it on random tasks and reports failures.
# *Difficulty: ★★☆, about 15 min.*
# :::


# %%
def check_find_support(fn, trials=20, n=40, m=400, seed=0):
    """Run fn(x, y, k) on random leaky tasks; print what went wrong. Returns True if all correct."""
    failures = []
    for t in range(trials):
        k = 2 + t % 4
        task = tasks.LeakyParity.random(n, k, alpha=0.5, seed=seed + t)
        x, y = task.sample(m, generator=torch.Generator().manual_seed(seed + 1000 + t))
        got = fn(x, y, k)
        try:
            got = sorted(int(i) for i in got)
        except TypeError:
            print(f"fn must return an iterable of indices, got {got!r}")
            return False
        if got != list(task.support):
            failures.append((k, list(task.support), got))
    if not failures:
        print(f"correct on all {trials} tasks (n = {n}, m = {m}, k = 2..5)")
        return True
    k, want, got = failures[0]
    print(
        f"wrong on {len(failures)} of {trials} tasks; e.g. k = {k}: expected {want}, got {got}"
    )
    if len(got) != k:
        print("the answer must have exactly k indices")
    return False


# %% [markdown]
# :::{solution-start} ex-ch03-find-support
# :class: dropdown
# :::
#
# By {prf:ref}`prop-ch03-leak`, $\mathbb E[y x_i] = \alpha$ on $S$ and $0$ off $S$; take the $k$
# coordinates with the largest empirical correlation. Each empirical average has standard deviation
# at most $1/\sqrt m$, so by Hoeffding and a union bound over the $n$ coordinates,
# $m \gtrsim \log(n/\delta) / \alpha^2$ samples suffice — logarithmic in $n$, against the $n^{k-1}$ of
# the uniform distribution.


# %%
def find_support(x, y, k):
    """The k coordinates with the largest empirical E[y x_i]."""
    return sorted(torch.topk((y[:, None] * x).mean(0), k).indices.tolist())


assert check_find_support(find_support)
# known wrong: the first k coordinates, whatever the data
assert not check_find_support(lambda x, y, k: list(range(k)))

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Where the gradient precision hides the sample
# :label: ex-ch03-precision
#
# In the setting of the last figure (terms $\pm 1$, batch size $b$, batch average rounded to the
# nearest point of the grid $\{2\rho j\}$), show: if $b\rho < 1$, flipping any one example from
# $-1$ to $+1$ always changes the rounded average, whatever the other examples are; if $b\rho > 2$,
# there are values of the other examples for which it does not. Show with $b = 10$,
# $\rho = 0.11$ that for $1 < b\rho < 2$ every flip may still be visible. Then explain in two
# sentences why part 2 of {prf:ref}`thm-ch03-abbe` needs $b\rho$ small rather than $b\rho^2$ small.
# *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch03-precision
# :class: dropdown
#
# The flip moves the average from $v$ to $v + 2/b$, and the rounded value changes exactly when a
# cell boundary $2\rho(j + \tfrac12)$ lies in $(v, v + 2/b]$. Boundaries are $2\rho$ apart, so if
# $2/b > 2\rho$, that is $b\rho < 1$, every such interval contains one. The averages before and after
# a flip lie on the lattice $\Lambda = \{-1 + 2i/b : i = 0, \dots, b\}$, and every pair $(u, u + 2/b)$
# of neighbours in $\Lambda$ is realised by a flip (the other $b - 1$ examples can take any number of
# $+1$'s). If $b\rho > 2$, the cell of $0$, an interval of length $2\rho > 4/b$ around $0$, contains
# two neighbouring points $u, u + 2/b$ of the lattice $-1 + (2/b)\mathbb Z$, and both lie in
# $[-1, 1]$ (if $\rho \le 1$ because the cell does; if $\rho > 1$ take $u = -1$): for those values of
# the other examples the flip is invisible. For $1 < b\rho \le 2$ it depends on where the lattice
# sits relative to the cell boundaries $\pm\rho, \pm 3\rho, \dots$: with $b = 10$ and $\rho = 0.11$
# the boundaries are $\pm 0.11, \pm 0.33, \pm 0.55, \pm 0.77, \pm 0.99$ and the lattice is
# $\{-1, -0.8, \dots, 1\}$, so every cell contains exactly one lattice point and every flip is
# visible, although $b\rho = 1.1 > 1$. The
# simulation of a sample-based algorithm must read individual examples at *every* step, so the
# influence $1/b$ of one example has to exceed the precision, $b\rho \ll 1$. The condition
# $b\rho^2 \gg 1$ of part 3 compares the precision with the sampling noise $1/\sqrt b$ instead, and
# between the two ($1/b \lesssim \rho \lesssim 1/\sqrt b$) neither argument applies.
# :::
#
# ## Discussion and further reading
#
# - **Is the leak cheating?** The distribution $\mathcal D_{S,\alpha}$ is designed to hand the
#   hidden set to anything that computes first-order statistics. Which natural data distributions
#   have such "leaks", where simple statistics point at the features that a network then combines
#   non-linearly? Compare the staircase functions and curriculum results of later chapters.
# - **Kernels of which size?** The separation is against embeddings of polynomial dimension and
#   norm. A kernel with an infinite feature map, fitted from $m$ samples, is an embedding of
#   dimension $m$ that depends on the inputs; why does this not escape the lower bound, and what role
#   does the norm play?
# - **Weak versus strong learning.** In our experiment the tangent kernel has a non-trivial edge on
#   $\mathcal D^{\mathrm{DM}}_S$, all of it from the leaky component, and none on the uniform one.
#   How would you design a distribution on which gradient descent learns but the tangent kernel has
#   *no* edge, in the spirit of part 2 of {prf:ref}`thm-ch03-malach`?
# - **Precision in practice.** Training in float32 or bfloat16 has relative precision of about
#   $10^{-7}$ or $10^{-3}$, and batch sizes are in the thousands. Which regime of
#   {prf:ref}`thm-ch03-abbe` are we in, and does it matter for the networks we actually train, which
#   are not the contrived models of the PAC simulation?
#
# Further reading: {cite}`daniely2020learning`, {cite}`malach2021quantifying` and
# {cite}`abbe2021power` themselves; {cite}`kearns1998efficient` and {cite}`blum1994weakly` on
# statistical queries; {cite}`shalevshwartz2017failures` on failures of gradient methods on parities;
# and Chapter 1 ({cite}`barak2022hidden`) for what gradient descent does on the uniform distribution.
