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
# # Fine-tuning with less: forward passes only, and only a few layers
#
# Fine-tuning a pretrained network with backpropagation stores gradients, optimizer state and every
# activation of the forward pass; two ideas cut this down. *MeZO* estimates a directional
# derivative from two forward passes with a random perturbation that it regenerates from a seed, so
# it trains with the memory of inference; we prove that on a quadratic its guaranteed per-step
# progress, relative to the guarantee for gradient descent, is governed by the *effective rank* of the
# Hessian, not by the parameter count.
# We state the paper's one-step theorem with its constant for directions on the sphere, prove it,
# check the constant by Monte Carlo, measure the effective rank of a pretrained network, and compare
# MeZO with linear probing and backprop fine-tuning, in accuracy and in measured memory.
# *SubTuning* trains only a few well-chosen layers: fewer free parameters mean a smaller
# generalization gap. We reproduce its headline curve: accuracy against the number of target
# samples for SubTuning, full fine-tuning and linear probing, with SubTuning ahead when data is
# scarce and full fine-tuning catching up and overtaking it when data is plentiful.
#
# **Papers.** Malladi, Gao, Nichani, Damian, Lee, Chen and Arora, *Fine-tuning language models with
# just forward passes* {cite}`malladi2023finetuning`; Kaplun, Gurevich, Swisa, David,
# Shalev-Shwartz and Malach, *Less is more: selective layer finetuning with SubTuning*
# {cite}`kaplun2023less`.
#
# **Prerequisites.** The [notation](../book/notation.md); gradient descent on a quadratic (the
# chapter on sharpness uses the same objects). Here $p$ is the number of trained parameters (the
# MeZO paper writes $d$; in this book $d$ is a width), $m$ the number of samples, $\eta$ the step
# size, $n$ the input dimension and $q$ the number of random directions per MeZO step (the
# paper's $n$).
#
# **Time.** Quick mode is the default everywhere, also with a GPU: a small MLP on a synthetic
# source/target pair, about a minute on one CPU core. Full mode (set `SCALE = "full"` in the first
# code cell) sweeps ten sample sizes up to 8192 instead of three up to 1024, with six seeds
# instead of five, runs MeZO five times longer and uses larger Monte Carlo checks: a few
# minutes on one CPU core. Memory is measured: with the kernel's peak resident memory on a
# Linux CPU, with the CUDA allocator's peak counter on a GPU. The figures on the book's pages come
# from quick mode; the recorded full-mode figure is shown beside the fine-tuning experiment.
#
# **Open in Colab:**
# [colab/13_finetuning.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/13_finetuning.ipynb)
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
import json
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
# Settings: every size that differs between quick and full mode.
N_DIRS = cfg.pick(quick=20_000, full=200_000)  # SPSA directions, unbiasedness check
P_BIG = cfg.pick(quick=2000, full=10000)  # dimension of the one-step quadratic
DRAWS = cfg.pick(quick=2000, full=4000)  # Monte Carlo draws per step size
SPHERE_DRAWS = cfg.pick(quick=200_000, full=1_000_000)  # draws for the constant γ
M_SRC, PRE_STEPS = 20_000, 3000  # source samples and Adam steps of pretraining (both)
SWEEP_M = cfg.pick(  # target sample sizes m of the SubTuning sweep
    quick=(16, 256, 1024), full=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
)
N_SEEDS = cfg.pick(quick=5, full=6)  # seeds (target sample, head) per method and m
FT_STEPS = cfg.pick(quick=800, full=1500)  # Adam steps of every backprop fine-tuning
M_MEZO = 256  # target samples of the MeZO comparison (one of SWEEP_M)
MEZO_STEPS = cfg.pick(quick=3000, full=16000)  # MeZO steps (two forward passes each)
MEM_WIDTH, MEM_DEPTH, MEM_BATCH = 1024, 8, 256  # the network whose memory we measure

# %% [markdown]
# ## The setting
#
# We fine-tune parameters $\theta \in \mathbb R^p$ of a pretrained network on a loss
# $L(\theta) = \frac1m \sum_{i=1}^m \ell(f_\theta(x_i), y_i)$ over a target sample of size $m$.
#
# ### Zeroth-order SGD and MeZO

# %% [markdown]
# :::{prf:definition} SPSA estimator and ZO-SGD
# :label: def-ch13-spsa
#
# For a perturbation scale $\varepsilon > 0$ and a direction $z \sim \mathcal N(0, I_p)$, the
# *projected gradient* is the scalar
#
# $$
# \hat g(\theta; z) = \frac{L(\theta + \varepsilon z) - L(\theta - \varepsilon z)}{2 \varepsilon},
# $$
#
# and the *simultaneous-perturbation (SPSA) gradient estimate* is the vector $\hat g\, z$.
# *Zeroth-order SGD* (ZO-SGD) updates $\theta \leftarrow \theta - \eta\, \hat g\, z$ with a fresh
# $z$ (and, for a stochastic loss, a fresh minibatch, the same for both evaluations) at each step.
# :::
#
# As $\varepsilon \to 0$, $\hat g \to z^\top \nabla L(\theta)$, the derivative of $L$ in the direction
# $z$. Two forward passes give one such number, whatever $p$ is. MeZO's code draws Gaussian
# directions; the paper's theory draws them uniformly from the sphere of radius $\sqrt p$, which
# has the same covariance $I_p$ ({prf:ref}`lem-ch13-sphere`). Averaging the estimate over $q$
# independent directions ($2q$ forward passes) is the *$q$-direction* estimate.

# %% [markdown]
# :::{prf:definition} MeZO
# :label: def-ch13-mezo
#
# *MeZO* {cite}`malladi2023finetuning` is ZO-SGD run in place. At step $t$ it draws a seed $s_t$;
# whenever $z$ is needed it is regenerated from $s_t$, tensor by tensor, and never stored. One step:
# $\theta \leftarrow \theta + \varepsilon z$, evaluate $\ell_+$; $\theta \leftarrow \theta - 2\varepsilon z$,
# evaluate $\ell_-$; $\theta \leftarrow \theta + \varepsilon z$ (back to the start);
# $\hat g = (\ell_+ - \ell_-)/(2\varepsilon)$; $\theta \leftarrow \theta - \eta \hat g z$.
# :::
#
# The memory of a MeZO step is that of a forward pass without autograd plus one buffer the size of
# the largest parameter tensor (the slice of $z$ being generated). Backpropagation with Adam holds,
# in addition, a gradient and two moment buffers per parameter and every activation that the
# backward pass needs.
#
# ### SubTuning

# %% [markdown]
# :::{prf:definition} SubTuning and the finetuning profile
# :label: def-ch13-subtuning
#
# Let a pretrained network have layers $1, \dots, D$ and let the target task get a new linear
# read-out (the *head*). For a subset $S \subseteq \{1, \dots, D\}$, *SubTuning* trains the head and
# the layers in $S$ and keeps all other layers at their pretrained values {cite}`kaplun2023less`.
# $S = \emptyset$ is *linear probing*; $S = \{1, \dots, D\}$ is full fine-tuning. The *finetuning
# profile* is the target accuracy of SubTuning with $S = \{\ell\}$, as a function of the layer $\ell$.
# *Greedy selection* with budget $b$ starts from $S = \emptyset$ and, $b$ times, adds the layer that
# most improves the accuracy on held-out validation data, stopping early when no layer improves it.
# :::
#
# ## Results
#
# ### The SPSA estimator on a quadratic
#
# Take $L(\theta) = \frac12 \theta^\top H \theta - b^\top \theta$ with $H$ symmetric positive
# semi-definite, and write $g = \nabla L(\theta) = H\theta - b$. The central difference is exact on a
# quadratic: $L(\theta + \varepsilon z) - L(\theta - \varepsilon z) = 2 \varepsilon z^\top g$, so
# $\hat g = z^\top g$ for every $\varepsilon$, and the estimate is $z z^\top g$.

# %% [markdown]
# :::{prf:proposition} Mean and curvature of the SPSA estimate
# :label: prop-ch13-moments
#
# For $z \sim \mathcal N(0, I_p)$ and any symmetric $H$, with $\hat g = z^\top g$:
#
# $$
# \mathbb E[\hat g\, z] = g, \qquad
# \mathbb E\big[(\hat g z)^\top H (\hat g z)\big] = 2\, g^\top H g + \operatorname{tr}(H)\, \|g\|^2 .
# $$
#
# In particular ($H = I$) $\mathbb E\|\hat g z\|^2 = (p + 2)\|g\|^2$: the estimate is unbiased, but its
# second moment is $p + 2$ times the squared gradient.
# :::

# %% [markdown]
# :::{prf:proof}
# $\mathbb E[\hat g z] = \mathbb E[z z^\top] g = g$. For the second identity,
# $(\hat g z)^\top H (\hat g z) = (z^\top g)^2\, z^\top H z = \sum_{i,j,k,l} g_i g_j H_{kl}\, z_i z_j z_k z_l$.
# By Isserlis' theorem, for a standard Gaussian vector
# $\mathbb E[z_i z_j z_k z_l] = \delta_{ij}\delta_{kl} + \delta_{ik}\delta_{jl} + \delta_{il}\delta_{jk}$.
# The first pairing gives $\sum_{i,k} g_i^2 H_{kk} = \|g\|^2 \operatorname{tr} H$; the second and third
# give $\sum_{i,j} g_i g_j H_{ij} = g^\top H g$ each (using $H_{ij} = H_{ji}$). Adding up proves the
# claim; $H = I$ gives $\operatorname{tr} H = p$.
# :::

# %% [markdown]
# :::{prf:theorem} One-step expected decrease of ZO-SGD on a quadratic
# :label: thm-ch13-one-step
#
# Let $L(\theta) = \frac12\theta^\top H\theta - b^\top\theta$ with $H \succeq 0$, $H \neq 0$, let $g = \nabla L(\theta) \neq 0$
# and $\theta^+ = \theta - \eta\, \hat g z$ with $z \sim \mathcal N(0, I_p)$. Then
#
# $$
# \mathbb E[L(\theta^+)] = L(\theta) - \eta \|g\|^2 + \frac{\eta^2}{2}\big(2\, g^\top H g + \operatorname{tr}(H)\|g\|^2\big).
# $$
#
# The best step $\eta^\star = \|g\|^2 / (2 g^\top H g + \operatorname{tr}(H)\|g\|^2)$ gives the
# decrease
#
# $$
# L(\theta) - \mathbb E[L(\theta^+)] = \frac{\|g\|^4}{2\,(2 g^\top H g + \operatorname{tr}(H)\|g\|^2)}
# \;\ge\; \frac{\|g\|^2}{2\,(\operatorname{tr} H + 2\|H\|)} ,
# $$
#
# where $\|H\|$ is the operator norm. Gradient descent with $\eta = 1/\|H\|$ decreases $L$ by at least
# $\|g\|^2/(2\|H\|)$. The ratio of the two guarantees is $\operatorname{tr}(H)/\|H\| + 2 = r + 2$,
# where $r = \operatorname{tr}(H)/\|H\| \le \operatorname{rank}(H) \le p$ is the *effective rank* of $H$.
# :::

# %% [markdown]
# :::{prf:proof}
# A quadratic is its own second-order Taylor expansion: for every $\Delta$,
# $L(\theta + \Delta) = L(\theta) + g^\top \Delta + \frac12 \Delta^\top H \Delta$. Put
# $\Delta = -\eta \hat g z$ and take expectations with {prf:ref}`prop-ch13-moments`:
# $\mathbb E[g^\top \Delta] = -\eta\|g\|^2$ and $\mathbb E[\Delta^\top H \Delta] = \eta^2(2g^\top H g + \operatorname{tr}(H)\|g\|^2)$,
# which is the first display. It is a convex parabola in $\eta$ with positive leading
# coefficient (because $\operatorname{tr} H > 0$), minimized at $\eta^\star$, where the decrease is
# $\eta^\star\|g\|^2/2$, the middle expression. Since $0 \preceq H$, $g^\top H g \le \|H\|\|g\|^2$,
# so the denominator is at most $2\|g\|^2(\operatorname{tr} H + 2\|H\|)$: the lower bound. For
# gradient descent, $L(\theta - \eta g) = L(\theta) - \eta\|g\|^2 + \frac{\eta^2}{2} g^\top H g \le L(\theta) - \eta\|g\|^2(1 - \eta\|H\|/2)$,
# which for $\eta = 1/\|H\|$ is $L(\theta) - \|g\|^2/(2\|H\|)$. Dividing the two guarantees gives
# $(\operatorname{tr} H + 2\|H\|)/\|H\| = r + 2$. Finally
# $\operatorname{tr} H = \sum_i \lambda_i \le \operatorname{rank}(H)\, \lambda_{\max}$.
# :::

# %% [markdown]
# So the price of estimating the gradient from one random direction is a factor $r + 2$ in the
# guaranteed per-step progress (the actual ratio can be larger, see below), and $r$ can be far
# smaller than $p$. Whether it is small for a pretrained network is an empirical question; we
# measure it on this chapter's network in {ref}`sec-ch13-rank`. The MeZO paper turns the
# computation into a theorem for general losses and minibatches. Its analysis draws the
# directions uniformly from the sphere of radius $\sqrt p$ rather than from a Gaussian, which
# changes the fourth moments and bounds the step length.

# %% [markdown]
# :::{prf:lemma} Moments of directions on the sphere
# :label: lem-ch13-sphere
#
# Let $z$ be uniform on the sphere $\{z \in \mathbb R^p : \|z\| = \sqrt p\}$, $p \ge 2$. Then
# $\mathbb E[z z^\top] = I_p$ and, for all indices,
# $\mathbb E[z_i z_j z_k z_l] = \frac{p}{p+2}\big(\delta_{ij}\delta_{kl} + \delta_{ik}\delta_{jl}
# + \delta_{il}\delta_{jk}\big)$. Hence, for every $g$ and every symmetric $H$,
#
# $$
# \mathbb E\big[(z^\top g)^2\, z^\top H z\big]
# = \frac{p}{p+2}\big(2\, g^\top H g + \operatorname{tr}(H)\, \|g\|^2\big),
# $$
#
# and for $\hat G = \frac1q \sum_{j=1}^q z_j z_j^\top g$ with $z_1, \dots, z_q$ independent copies
# of $z$,
#
# $$
# \mathbb E\big[\hat G\big] = g, \qquad
# \mathbb E\big[\hat G^\top H \hat G\big] = \Big(1 - \frac1q\Big) g^\top H g
# + \frac1q\, \frac{p}{p+2}\big(2\, g^\top H g + \operatorname{tr}(H)\|g\|^2\big).
# $$
# :::

# %% [markdown]
# :::{prf:proof}
# Write $z = \sqrt p\, u/\|u\|$ with $u \sim \mathcal N(0, I_p)$; the direction $u/\|u\|$ is
# uniform on the unit sphere and independent of $\|u\|$. So
# $\mathbb E[u_iu_ju_ku_l] = \mathbb E\|u\|^4\, \mathbb E[z_iz_jz_kz_l]/p^2$, and
# $\mathbb E\|u\|^4 = \operatorname{Var}\|u\|^2 + p^2 = 2p + p^2 = p(p+2)$ ($\|u\|^2$ is a
# $\chi^2_p$ variable). Isserlis' theorem gives
# $\mathbb E[u_iu_ju_ku_l] = \delta_{ij}\delta_{kl} + \delta_{ik}\delta_{jl} + \delta_{il}\delta_{jk}$,
# hence the fourth moments; in the same way $\mathbb E[z z^\top] = p\,\mathbb E[uu^\top]/\mathbb E\|u\|^2 = I$.
# The first display then follows exactly as in {prf:ref}`prop-ch13-moments`, each of the three
# pairings now weighted by $p/(p+2)$. For $\hat G$: $\mathbb E[\hat G] = \mathbb E[zz^\top]g = g$.
# Expand $\hat G^\top H \hat G = q^{-2}\sum_{j,k} (z_j^\top g)(z_k^\top g)\, z_j^\top H z_k$. The
# $q(q-1)$ terms with $j \ne k$ have mean $g^\top H g$ by independence; the $q$ terms with $j = k$
# have the mean of the first display. Dividing by $q^2$ gives the second display.
# :::

# %% [markdown]
# :::{prf:theorem} Dimension-free descent under low effective rank (Malladi et al. 2023)
# :label: thm-ch13-mezo-rate
#
# Let $L(\theta) = \mathbb E_{\mathcal B} L(\theta; \mathcal B)$ be twice differentiable, where the
# minibatch loss $L(\cdot\,; \mathcal B)$ has an unbiased gradient $g_{\mathcal B}$,
# $\mathbb E_{\mathcal B}\, g_{\mathcal B} = \nabla L(\theta_t)$, and let
# $G = \max_{\mathcal B} \|g_{\mathcal B}\|$. Assume *local $r$-effective rank*: there is a
# symmetric $H$ with $\nabla^2 L(\theta) \preceq H$ for every $\theta$ with
# $\|\theta - \theta_t\| \le \eta\, p\, G$, and $\operatorname{tr}(H) \le r \ell$ where
# $\ell = \|H\|$. Let
# $\theta_{t+1} = \theta_t - \eta \hat G$ with
# $\hat G = \frac1q\sum_{j=1}^q z_j z_j^\top g_{\mathcal B}$ (the $q$-direction SPSA estimate in
# the limit $\varepsilon \to 0$), the $z_j$ independent, uniform on the sphere of radius
# $\sqrt p$, and independent of $\mathcal B$. Then
#
# $$
# \mathbb E\big[L(\theta_{t+1})\big] \le L(\theta_t) - \eta\, \|\nabla L(\theta_t)\|^2
# + \frac{\eta^2 \ell\, \gamma}{2}\, \mathbb E_{\mathcal B}\|g_{\mathcal B}\|^2,
# \qquad \gamma = 1 + \frac{p r + p - 2}{q\, (p + 2)} .
# $$
#
# The descent lemma for one SGD step with step size $\eta_{\mathrm{SGD}}$ on the same minibatch
# gives the bound $-\eta_{\mathrm{SGD}}\|\nabla L\|^2 + \frac12\eta_{\mathrm{SGD}}^2\ell\,
# \mathbb E\|g_{\mathcal B}\|^2$; with $\eta = \eta_{\mathrm{SGD}}/\gamma$ the zeroth-order bound is
# exactly $1/\gamma$ times it. Since $\gamma \le 1 + (r+1)/q$, the slowdown depends on the
# effective rank $r$ and not on the number of parameters $p$.
# :::
#
# In the paper {cite}`malladi2023finetuning` the parameter count is $d$ and the number of
# directions $n$, so $\gamma = \frac{dr + d - 2}{n(d+2)} + 1$; the paper also turns the bound into
# a global rate under a Polyak–Łojasiewicz condition, which we do not reproduce. We could not
# check the paper's text here; the statement above is the one the proof below establishes, and
# its constant is the one reported for the paper (and checked by Monte Carlo in
# {ref}`sec-ch13-gamma`). With Gaussian directions the same argument gives the slightly larger
# factor $1 + (r+1)/q$ ({ref}`the exercise on averaging <ex-ch13-average>`) but no bound on the
# step length.

# %% [markdown]
# :::{prf:proof}
# *Step length.* $\|z_j z_j^\top g_{\mathcal B}\| \le \|z_j\|^2 \|g_{\mathcal B}\| = p\,\|g_{\mathcal B}\|$,
# so $\|\eta \hat G\| \le \eta\, p\, G$: the whole segment from $\theta_t$ to $\theta_{t+1}$ lies in
# the ball of the assumption (a ball is convex). This is where the sphere is needed; a Gaussian
# $z$ has no bounded norm.
#
# *Second-order bound.* Taylor's formula with integral remainder, with $\Delta = -\eta\hat G$:
# $L(\theta_t + \Delta) = L(\theta_t) + \nabla L(\theta_t)^\top\Delta
# + \int_0^1 (1-s)\,\Delta^\top \nabla^2 L(\theta_t + s\Delta)\,\Delta\, ds
# \le L(\theta_t) + \nabla L(\theta_t)^\top\Delta + \frac12 \Delta^\top H \Delta$, since every point
# of the segment satisfies $\nabla^2 L \preceq H$.
#
# *Expectation over the directions* ({prf:ref}`lem-ch13-sphere` with $g = g_{\mathcal B}$): the
# linear term has mean $-\eta\, \nabla L(\theta_t)^\top g_{\mathcal B}$; in the quadratic term use
# $g^\top H g \le \ell\|g\|^2$ and $\operatorname{tr} H \le r\ell$:
# $\mathbb E_z[\hat G^\top H \hat G] \le \ell\|g\|^2\big[(1 - \frac1q) + \frac1q\frac{p(r+2)}{p+2}\big]
# = \ell\|g\|^2\, \gamma$, because $\frac{p(r+2)}{p+2} - 1 = \frac{pr + p - 2}{p+2}$.
#
# *Expectation over the minibatch*: $\mathbb E_{\mathcal B}[\nabla L(\theta_t)^\top g_{\mathcal B}]
# = \|\nabla L(\theta_t)\|^2$, which gives the claim. With $\eta = \eta_{\mathrm{SGD}}/\gamma$ the
# right-hand side is $-\frac{\eta_{\mathrm{SGD}}}{\gamma}\|\nabla L\|^2
# + \frac{\eta_{\mathrm{SGD}}^2 \ell}{2\gamma}\mathbb E\|g_{\mathcal B}\|^2$, $1/\gamma$ times the SGD
# bound. Finally $\frac{pr + p - 2}{p+2} \le r + 1$. The proof treats the exact directional
# derivative; MeZO's finite difference with $\varepsilon > 0$ adds an $O(\varepsilon^2)$ error
# (exact on a quadratic), which the theorem ignores.
# :::
#
# ### Fewer tuned parameters, smaller generalization gap
#
# The simplest way to see why tuning fewer parameters helps with scarce data is a counting bound.
# Write $\mathcal L(\theta)$ for the population loss and $\hat{\mathcal L}_m(\theta)$ for the
# average over $m$ i.i.d. samples.

# %% [markdown]
# :::{prf:theorem} A parameter-counting generalization bound (standard; not the paper's theorem)
# :label: thm-ch13-count
#
# Let the loss take values in $[0, 1]$. Fix the subset $S$, the frozen layers and the quantization
# before seeing the target sample (a data-dependent choice of $S$ needs a further union bound over the
# candidate subsets), and let the $p_S$ tuned parameters
# each take one of $2^B$ values (e.g. $B = 32$ for float32 numbers). With probability at least
# $1 - \delta$ over the sample, simultaneously for every setting $\theta_S$ of the tuned parameters,
#
# $$
# \big|\mathcal L(\theta_S) - \hat{\mathcal L}_m(\theta_S)\big| \le \sqrt{\frac{p_S B \ln 2 + \ln(2/\delta)}{2m}} .
# $$
# :::

# %% [markdown]
# :::{prf:proof}
# There are at most $N = 2^{p_S B}$ settings. For a fixed one, the loss values of the $m$ samples
# are i.i.d. in $[0, 1]$, so by Hoeffding's inequality
# $\Pr[|\mathcal L - \hat{\mathcal L}_m| > t] \le 2 e^{-2mt^2}$. A union bound over the $N$
# settings gives failure probability at most $2N e^{-2mt^2}$, which equals $\delta$ for
# $t = \sqrt{(\ln N + \ln(2/\delta))/(2m)}$, the claim since $\ln N = p_S B \ln 2$. The bound
# holds for every setting at once, so in particular for the one that training picks from the data.
# :::
#
# The bound depends on the tuned parameters only: tuning one layer of $p_S$ parameters instead of
# all $p$ replaces $p$ by $p_S$ in the complexity term. Kaplun et al. prove a generalization bound
# of this kind for SubTuning, in which the complexity is that of the tuned layers, under their own
# assumptions and with constants we do not reproduce here {cite}`kaplun2023less`. We could not
# check the paper's statement, so the theorem above is a labelled stand-in: it shares the
# dependence on the number of tuned parameters, but it counts quantized parameters, needs a loss
# in $[0, 1]$ (the 0-1 loss, not the cross-entropy we train with) and a subset fixed before the
# sample is seen. The chapter's SubTuning experiment chooses the layer on separate validation
# data, so the choice does not depend on the training sample. Like every
# counting bound it is loose for real networks (it is vacuous until $m$ exceeds the number of bits);
# what it explains is the direction of the effect: with $m$ small, fewer free parameters leave less
# room to fit the noise of the sample. The other side of the trade-off is approximation: the tuned
# layers must be able to adapt the network to the target, and which layers can do so depends on the
# task. This is what the finetuning profile measures.
#
# ## Construction in code
#
# ### The MeZO round trip
#
# One MeZO step moves the parameters by $+\varepsilon z$, $-2\varepsilon z$, $+\varepsilon z$ before
# the update. In exact arithmetic they are back where they started. In floating point each in-place
# addition rounds to the nearest representable number, so they come back only up to rounding. We
# measure this on a network: the largest change, and the change in units of
# $u\,(|\theta| + 2\varepsilon|z|)$ entry by entry, where $u = 2^{-24}$ is the unit roundoff of
# float32. Three roundings (and the rounding of $\varepsilon z$ itself) allow a few units.

# %%
EPS = 1e-3  # MeZO perturbation scale


def round_trip_report(params, eps, seed):
    """Max |Δθ| after MeZO's +εz, −2εz, +εz round trip, the same in units of u(|θ| + 2ε|z|), and
    the share of entries that came back bit-identical."""
    params = list(params)
    before = [p.detach().clone() for p in params]
    z = [torch.zeros_like(p) for p in params]
    optim.perturb(z, 1.0, seed)  # the same z MeZO regenerates from `seed`
    err = optim.restore_error(params, eps, seed)
    u = torch.finfo(params[0].dtype).eps / 2
    ratio, same, total = 0.0, 0, 0
    for p, b, zi in zip(params, before, z):
        d = (p.detach() - b).abs()
        ratio = max(ratio, float((d / (u * (b.abs() + 2 * eps * zi.abs()))).max()))
        same += int((d == 0).sum())
        total += d.numel()
        with torch.no_grad():
            p.copy_(b)  # leave the network exactly as it was
    return err, ratio, same / total


demo_net = models.MLP(32, 64, depth=3, n_out=4, seed=cfg.seed)
rt_err, rt_units, rt_same = round_trip_report(demo_net.parameters(), EPS, seed=7)
print(
    f"max |Δθ| = {rt_err:.2e}; worst entry = {rt_units:.2f} units of u(|θ|+2ε|z|); "
    f"{100 * rt_same:.1f}% of entries bit-identical"
)
notebook.glue("rt_err", rt_err)
notebook.glue("rt_units", rt_units)
notebook.glue("rt_same", 100 * rt_same)

# %% [markdown]
# The worst entry moved by {glue:text}`rt_units:.2f` units of $u(|\theta| + 2\varepsilon|z|)$ (at most
# {glue:text}`rt_err:.1e` in absolute terms), and {glue:text}`rt_same:.1f`% of the entries came back
# bit-identical. So the claim "MeZO restores the parameters" is true up to rounding, not bit for
# bit: the drift is of the order of the float32 rounding of the perturbed values, far below the
# update $\eta \hat g z$ that follows, and it does not accumulate systematically because each step
# uses a new $z$.
#
# ### The estimator is unbiased
#
# On a random quadratic in $p$ dimensions we average $\hat g z$ over many directions and compare
# with $g$. By {prf:ref}`prop-ch13-moments` the per-coordinate variance is
# $\|g\|^2 + g_i^2$, so the Monte Carlo mean should be within a few standard errors of $g$ in every
# coordinate. We also check, with `optim.perturb` on an actual parameter tensor, that MeZO's two
# forward passes give $\hat g = z^\top g$ up to rounding.


# %%
def random_quadratic(p, spectrum, seed):
    """H = Q diag(spectrum) Q^T with a random rotation Q, a random b, and L(θ) = ½θᵀHθ − bᵀθ (float64)."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(p, p, generator=g, dtype=torch.float64))
    H = (Q * torch.as_tensor(spectrum, dtype=torch.float64)) @ Q.T
    b = torch.randn(p, generator=g, dtype=torch.float64)
    return H, b


p_mc, n_dirs = 50, N_DIRS
H_mc, b_mc = random_quadratic(p_mc, torch.linspace(0.1, 2.0, p_mc), seed=cfg.seed)
theta0 = torch.zeros(p_mc, dtype=torch.float64)
grad0 = H_mc @ theta0 - b_mc
Z = torch.randn(
    n_dirs,
    p_mc,
    generator=torch.Generator().manual_seed(cfg.seed + 1),
    dtype=torch.float64,
)
est = (Z @ grad0)[:, None] * Z  # one SPSA estimate per row
mc_mean, mc_se = est.mean(0), est.std(0) / math.sqrt(n_dirs)
z_scores = (mc_mean - grad0) / mc_se
print(
    f"max |z-score| over {p_mc} coordinates: {z_scores.abs().max():.2f}; "
    f"relative error ‖mean − g‖/‖g‖ = {(mc_mean - grad0).norm() / grad0.norm():.3f} "
    f"(expected about sqrt((p+1)/N) = {math.sqrt((p_mc + 1) / n_dirs):.3f})"
)


def quad_loss(theta):
    return 0.5 * theta @ H_mc @ theta - b_mc @ theta


theta_t = theta0.clone()
opt_check = optim.MeZO([theta_t.requires_grad_()], lr=1e-12, eps=EPS, seed=3)
g_hat_mezo, _ = opt_check.step(lambda: quad_loss(theta_t))
z_check = torch.zeros(p_mc, dtype=torch.float64)
optim.perturb([z_check], 1.0, 3)  # the direction of that step
print(
    f"MeZO's two-forward-pass ĝ = {g_hat_mezo:.6f}; zᵀg = {float(z_check @ grad0):.6f}"
)
notebook.glue("zmax", float(z_scores.abs().max()))

# %% [markdown]
# The worst of the 50 coordinates is {glue:text}`zmax:.2f` standard errors from $g$ (for 50 coordinates
# a maximum near 2–3 is what chance gives): the estimator is unbiased, and MeZO's $\hat g$ equals
# $z^\top g$ to the printed digits. Note the printed relative error:
# it is as large as $\sqrt{(p+1)/N}$ predicts, the $p$-fold variance of
# {prf:ref}`prop-ch13-moments` in action.
#
# (sec-ch13-one-step)=
# ### One-step decrease: effective rank, not dimension
#
# Now a quadratic in $p = $ {glue:text}`p_big` dimensions whose Hessian has a few eigenvalues equal
# to 1 and a tail of tiny ones, so $r \ll p$, at a random point $\theta = \theta^\star + \delta$,
# where the gradient is $g = H\delta$. For a range of step sizes we compare the formula of
# {prf:ref}`thm-ch13-one-step` with a Monte Carlo average of $L(\theta - \eta \hat g z) - L(\theta)$
# (with a 95% confidence band). Because Gaussian $z$ is rotation invariant we may take $H$ diagonal.

# %%
p_big = P_BIG
n_top = 10
spec = torch.full((p_big,), 1e-3, dtype=torch.float64)
spec[:n_top] = 1.0  # 10 large eigenvalues, a long tiny tail
delta = torch.randn(
    p_big, generator=torch.Generator().manual_seed(cfg.seed + 2), dtype=torch.float64
)
g_big = spec * delta  # gradient H(θ − θ*) at θ = θ* + δ
r_eff = float(spec.sum() / spec.max())


def predicted_change(eta, g, spec):
    """E[L(θ − η ĝ z)] − L(θ) from the theorem, for diagonal H = diag(spec)."""
    gHg = float((spec * g**2).sum())
    return -eta * float(g @ g) + 0.5 * eta**2 * (
        2 * gHg + float(spec.sum()) * float(g @ g)
    )


def mc_change(eta, g, spec, draws, seed):
    """Monte Carlo mean and standard error of L(θ − η ĝ z) − L(θ), ĝ = zᵀg (exact on a quadratic)."""
    z = torch.randn(
        draws,
        len(g),
        generator=torch.Generator().manual_seed(seed),
        dtype=torch.float64,
    )
    delta = -eta * (z @ g)[:, None] * z
    change = delta @ g + 0.5 * (delta**2 * spec).sum(1)
    return float(change.mean()), float(change.std() / math.sqrt(draws))


gg, gHg = float(g_big @ g_big), float((spec * g_big**2).sum())
eta_star = gg / (2 * gHg + float(spec.sum()) * gg)
etas = eta_star * np.array([0.25, 0.5, 1.0, 1.5, 2.0])
draws = DRAWS
pred = np.array([predicted_change(e, g_big, spec) for e in etas])
mc = np.array(
    [mc_change(e, g_big, spec, draws, seed=10 + i) for i, e in enumerate(etas)]
)
zo_gain = -predicted_change(eta_star, g_big, spec)
gd_gain = gg**2 / (2 * gHg)  # exact GD decrease at its best step ‖g‖²/gᵀHg
print(f"p = {p_big}, effective rank r = {r_eff:.1f}")
print(
    f"best ZO decrease {zo_gain:.3f} vs best GD decrease {gd_gain:.3f}: ratio {gd_gain / zo_gain:.1f} "
    f"(guarantee ratio r + 2 = {r_eff + 2:.1f}; the dimension is {p_big})"
)
mc_err = np.abs(mc[:, 0] - pred) / mc[:, 1]
notebook.glue("p_big", p_big)
notebook.glue("r_eff", r_eff)
notebook.glue("slow_ratio", gd_gain / zo_gain)
notebook.glue("mc_err_max", float(mc_err.max()))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
eta_grid = eta_star * np.linspace(0.1, 2.1, 101)
ax.plot(
    eta_grid / eta_star,
    [predicted_change(e, g_big, spec) for e in eta_grid],
    "-",
    color=plotting.COLORS[0],
    label="theorem",
)
ax.errorbar(
    etas / eta_star,
    mc[:, 0],
    yerr=1.96 * mc[:, 1],
    fmt="o",
    color=plotting.COLORS[1],
    label=f"Monte Carlo ({draws} draws, 95% CI)",
)
ax.axhline(0, color="grey", lw=0.8)
ax.set(
    xlabel=r"step size $\eta / \eta^\star$",
    ylabel=r"$\mathbb{E}[L(\theta^+)] - L(\theta)$",
    title="One ZO-SGD step: the formula matches Monte Carlo",
)
ax.legend()
ax = axes[1]
ranks, ratio_true = [], []
for k_top in (1, 3, 10, 30, 100, 300, 1000):  # k_top unit eigenvalues, a 1e-4 tail
    s = torch.full((p_big,), 1e-4, dtype=torch.float64)
    s[:k_top] = 1.0
    g_k = s * delta
    gg_k, gHg_k = float(g_k @ g_k), float((s * g_k**2).sum())
    zo = gg_k**2 / (2 * (2 * gHg_k + float(s.sum()) * gg_k))
    ratio_true.append((gg_k**2 / (2 * gHg_k)) / zo)
    ranks.append(float(s.sum() / s.max()))
ax.loglog(
    ranks,
    ratio_true,
    "o-",
    color=plotting.COLORS[1],
    label="best GD decrease / best ZO decrease",
)
ax.loglog(
    ranks,
    np.array(ranks) + 2,
    "--",
    color=plotting.COLORS[0],
    label=r"$r + 2$ (guarantee ratio)",
)
ax.axhline(p_big, color="grey", ls=":", label=f"dimension p = {p_big}")
ax.set(
    xlabel="effective rank r of H",
    ylabel="slowdown of one ZO step",
    title="The slowdown follows r, not p",
)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Left: the Monte Carlo averages sit on the parabola of {prf:ref}`thm-ch13-one-step` (worst deviation
# {glue:text}`mc_err_max:.1f` standard errors). With $r = $ {glue:text}`r_eff:.1f` in $p = $
# {glue:text}`p_big` dimensions, the best ZO step makes {glue:text}`slow_ratio:.1f` times less progress
# than the best GD step, not thousands of times less. Right: for Hessians with $r$ unit eigenvalues
# the slowdown follows $r + 2$, whatever $p$ is. One caveat: the theorem compares *guarantees*. The
# ratio of the actual best decreases is $2 + \operatorname{tr}(H)\|g\|^2/g^\top H g \ge r + 2$, with
# equality when $g$ lies along the top eigenvectors. At $\theta^\star + \delta$ the gradient
# $H\delta$ nearly does, so the two agree. A gradient with a large component along the flat
# directions would let GD take a much longer best step, and the ratio could then be of order $p$
# ({ref}`see the discussion <sec-ch13-discussion>`) or larger still: it grows without bound as
# $g^\top H g/\|g\|^2 \to 0$.

# %% [markdown]
# (sec-ch13-gamma)=
# ### The constant γ for directions on the sphere
#
# {prf:ref}`thm-ch13-mezo-rate` rests on the second moment of {prf:ref}`lem-ch13-sphere`. We
# check it by Monte Carlo in a small dimension, $p = 6$ with $q = 2$ directions, where the sphere
# and the Gaussian differ most (the factor $p/(p+2) = 3/4$). First for a random positive
# semi-definite $H$ and a random $g$; then for the case where the bound of the theorem is tight:
# $H$ with $r$ eigenvalues equal to $\ell$ and the others zero, and $g$ in their span, where
# $\mathbb E[\hat G^\top H \hat G] = \gamma\, \ell\, \|g\|^2$ exactly. The check must be able to
# tell the paper's constant from the Gaussian one, so we also measure how many standard errors
# the Gaussian formula is away.


# %%
def sphere_directions(draws, q, p, seed):
    """draws × q independent directions uniform on the sphere of radius √p, (draws, q, p)."""
    u = torch.randn(
        draws, q, p, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    return math.sqrt(p) * u / u.norm(dim=-1, keepdim=True)


def second_moment_mc(H, g, q, draws, seed):
    """Monte Carlo mean and standard error of Ĝᵀ H Ĝ, Ĝ = (1/q) Σ_j z_j z_jᵀ g, sphere z_j."""
    z = sphere_directions(draws, q, len(g), seed)
    G = ((z @ g)[..., None] * z).mean(1)  # (draws, p)
    vals = ((G @ H) * G).sum(1)
    return float(vals.mean()), float(vals.std() / math.sqrt(draws))


def sphere_formula(H, g, q):
    p, gHg, gg = len(g), float(g @ H @ g), float(g @ g)
    return (1 - 1 / q) * gHg + p / (p + 2) * (2 * gHg + float(H.trace()) * gg) / q


def gaussian_formula(H, g, q):  # the same with z ~ N(0, I) (exercise on averaging)
    gHg, gg = float(g @ H @ g), float(g @ g)
    return (1 + 1 / q) * gHg + float(H.trace()) * gg / q


p_s, q_s = 6, 2
gen_s = torch.Generator().manual_seed(cfg.seed + 5)
A_s = torch.randn(p_s, p_s, generator=gen_s, dtype=torch.float64)
H_s, g_s = A_s @ A_s.T / p_s, torch.randn(p_s, generator=gen_s, dtype=torch.float64)
mc_s, se_s = second_moment_mc(H_s, g_s, q_s, SPHERE_DRAWS, seed=cfg.seed + 6)
z_sphere = (mc_s - sphere_formula(H_s, g_s, q_s)) / se_s
z_gauss = (mc_s - gaussian_formula(H_s, g_s, q_s)) / se_s
print(
    f"random H, p = {p_s}, q = {q_s}: Monte Carlo {mc_s:.4f} ± {se_s:.4f}; sphere formula "
    f"{sphere_formula(H_s, g_s, q_s):.4f} ({z_sphere:+.1f} s.e.), Gaussian formula "
    f"{gaussian_formula(H_s, g_s, q_s):.4f} ({z_gauss:+.1f} s.e.)"
)
r_tight, ell = 2, 1.5
H_t = torch.diag(torch.tensor([ell] * r_tight + [0.0] * (p_s - r_tight))).double()
g_t = torch.zeros(p_s, dtype=torch.float64)
g_t[:r_tight] = torch.tensor([1.0, -2.0], dtype=torch.float64)  # in the top eigenspace
mc_t, se_t = second_moment_mc(H_t, g_t, q_s, SPHERE_DRAWS, seed=cfg.seed + 7)
scale_t = ell * float(g_t @ g_t)
gamma_paper = 1 + (p_s * r_tight + p_s - 2) / (q_s * (p_s + 2))
gamma_mc, gamma_se = mc_t / scale_t, se_t / scale_t
gamma_gauss = 1 + (r_tight + 1) / q_s
print(
    f"tight case r = {r_tight}: E[ĜᵀHĜ]/(ℓ‖g‖²) = {gamma_mc:.4f} ± {gamma_se:.4f}; "
    f"paper's γ = {gamma_paper:.4f}; Gaussian 1 + (r+1)/q = {gamma_gauss:.4f}"
)
notebook.glue("gamma_paper", gamma_paper)
notebook.glue("gamma_mc", gamma_mc)
notebook.glue("gamma_z", abs(gamma_mc - gamma_paper) / gamma_se)
notebook.glue("gamma_gauss_z", abs(gamma_mc - gamma_gauss) / gamma_se)
notebook.glue("z_sphere", abs(z_sphere))
notebook.glue("z_gauss", abs(z_gauss))

# %% [markdown]
# With $r = 2$, $p = 6$ and $q = 2$ the paper's constant is $\gamma =$
# {glue:text}`gamma_paper:.3f`, and Monte Carlo gives {glue:text}`gamma_mc:.3f`
# ({glue:text}`gamma_z:.1f` standard errors away), while the Gaussian constant is
# {glue:text}`gamma_gauss_z:.0f` standard errors away. For the random $H$ the sphere formula is
# {glue:text}`z_sphere:.1f` and the Gaussian formula {glue:text}`z_gauss:.0f` standard errors from
# the Monte Carlo mean. The check asserts both directions: agreement with the sphere formula
# (within 4.5 standard errors) and disagreement with the Gaussian one (more than 10), so it would
# fail if the lemma had the wrong fourth moments.
#
# %% [markdown]
# (sec-ch13-experiment)=
# ## Experiment: fine-tuning a pretrained network on a scarce target task
#
# ### Source and target
#
# `tasks.FeatureTransfer` draws a random teacher with features $\phi(x) = \mathrm{ReLU}(Ax + c)$ of
# a Gaussian input $x \in \mathbb R^n$. The *source* task labels $x$ by $\arg\max V_s \phi(x)$ over 10
# classes and has plenty of data; the *target* task labels it by $\arg\max V_t \phi(x)$ over 4
# classes with an independent read-out $V_t$, and we see only $m$ target samples. A network that
# learned the source task carries a representation of $\phi$, but not a perfect one, so the target
# needs a new head and can profit from adapting some layers.
#
# We pretrain an MLP with three hidden layers with Adam (using `train.fit`), on
# {glue:text}`m_src` source samples in both modes: it takes a few seconds, and SubTuning's
# advantage rests on a good pretrained network.

# %%
N_IN, WIDTH, DEPTH = 32, 64, 3
task = tasks.FeatureTransfer(
    n=N_IN, features=16, source_classes=10, target_classes=4, seed=cfg.seed
)
dev = cfg.device
source, target = task.source, task.target  # the two views of one teacher
x_src, y_src = source.sample(M_SRC, generator=cfg.generator(cfg.seed + 100))
x_src_test, y_src_test = source.sample(2000, generator=cfg.generator(cfg.seed + 101))
x_tgt_test, y_tgt_test = target.sample(4000, generator=cfg.generator(cfg.seed + 102))
x_tgt_val, y_tgt_val = target.sample(1000, generator=cfg.generator(cfg.seed + 103))


def accuracy(model, x, y):
    """Share of correct argmax predictions; (E,) for an ensemble, a float for one model."""
    with torch.no_grad():
        acc = (model(x).argmax(-1) == y).float().mean(-1)
    return acc if acc.dim() else float(acc)


def minibatches(x, y, batch):
    """batches(step, generator) for train.fit: a random minibatch of (x, y)."""

    def batches(step, gen):
        idx = torch.randint(0, len(x), (batch,), generator=gen, device=gen.device)
        return x[idx], y[idx]

    return batches


pretrained = models.MLP(
    N_IN, WIDTH, depth=DEPTH, n_out=task.source_classes, seed=cfg.seed
).to(dev)
train.fit(
    pretrained,
    minibatches(x_src, y_src, 128),
    steps=PRE_STEPS,
    loss="cross_entropy",
    optimizer="adam",
    lr=3e-3,
    data_seed=cfg.seed,
    eval_every=PRE_STEPS,
    desc="pretraining",
)
src_acc = accuracy(pretrained, x_src_test, y_src_test)
print(f"source test accuracy after pretraining: {src_acc:.3f}")
notebook.glue("src_acc", src_acc)
notebook.glue("m_src", M_SRC)

# %% [markdown]
# ### Every way of fine-tuning at every sample size, as one batched run
#
# Every method starts from the pretrained body with a fresh 4-class head and runs Adam
# ({glue:text}`ft_steps` steps, minibatches of 128 drawn with replacement from the $m$ target
# samples). The methods differ only in which hidden layers (numbered $0, 1, 2$) may move: none
# (linear probing), one (the *finetuning profile*), or all (full fine-tuning); the head always
# trains. All runs, {glue:text}`n_configs` methods × {glue:text}`n_sizes` sample sizes ×
# {glue:text}`n_seeds` seeds, are one `ensemble.stack` of MLPs trained by one `train.fit`: each
# member gets its own minibatches, and a gradient hook zeroes the gradient of the layers a
# member keeps frozen (Adam moves a parameter whose gradients are all zero by exactly zero). For
# each seed the target samples are nested: the first $m$ of one stream, so the comparison across
# $m$ is paired.


# %%
def with_new_head(body, classes, seed):
    """A copy of the pretrained network with a freshly initialised linear head for `classes` classes."""
    net = copy.deepcopy(body)
    head = nn.Linear(net.width, classes)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bound = 1 / math.sqrt(net.width)
        head.weight.copy_((torch.rand(head.weight.shape, generator=g) * 2 - 1) * bound)
        head.bias.copy_((torch.rand(classes, generator=g) * 2 - 1) * bound)
    net.layers[-1] = head.to(next(body.parameters()).device)
    net.n_out = classes
    return net


configs = {"linear probe": [], "layer 0": [0], "layer 1": [1], "layer 2": [2]}
configs["full"] = list(range(DEPTH))
SEEDS = list(range(cfg.seed, cfg.seed + N_SEEDS))
m_max = max(SWEEP_M)
pools = [target.sample(m_max, generator=cfg.generator(1000 + s)) for s in SEEDS]
pool_x = torch.stack([x for x, _ in pools])  # (seeds, m_max, n): sample s, first m used
pool_y = torch.stack([y for _, y in pools])


def finetune_sweep(config_list, sizes, seeds, steps, px, py, batch=128):
    """Fine-tune one member per (config, m, seed), all as one stacked ensemble; return it.

    config_list: lists of trainable hidden layers; seeds: head seeds, seed k trains on the
    first m rows of px[k], py[k]. Member order: config-major, then m, then seed."""
    members = [(c, m, s) for c in config_list for m in sizes for s in seeds]
    ens = ensemble.stack(
        [with_new_head(pretrained, task.target_classes, s) for _, _, s in members]
    )
    E = len(members)
    for layer in range(DEPTH):  # zero the gradient of frozen layers, member by member
        mask = torch.tensor([float(layer in c) for c, _, _ in members], device=dev)
        for prm in (ens.weights[layer], ens.biases[layer]):
            shape = (E,) + (1,) * (prm.dim() - 1)
            prm.register_hook(lambda grad, mk=mask.view(shape): grad * mk)
    who = torch.tensor([seeds.index(s) for _, _, s in members], device=dev)[:, None]
    size = torch.tensor([float(m) for _, m, _ in members], device=dev)[:, None]

    def batches(step, gen):  # member e: `batch` indices drawn from its first m samples
        idx = (torch.rand(E, batch, generator=gen, device=gen.device) * size).long()
        return px[who, idx], py[who, idx]

    train.fit(
        ens,
        batches,
        steps=steps,
        loss="cross_entropy",
        optimizer="adam",
        lr=3e-3,
        data_seed=cfg.seed,
        eval_every=steps,
        desc="fine-tuning sweep",
    )
    return ens


shape = (len(configs), len(SWEEP_M), N_SEEDS)
sweep = finetune_sweep(
    list(configs.values()), list(SWEEP_M), SEEDS, FT_STEPS, pool_x, pool_y
)
test_acc = accuracy(sweep, x_tgt_test, y_tgt_test).view(shape).cpu().numpy()
val_acc = accuracy(sweep, x_tgt_val, y_tgt_val).view(shape).cpu().numpy()
names = list(configs)
for j, m in enumerate(SWEEP_M):
    print(
        f"m = {m:5d}: "
        + ", ".join(f"{k} {test_acc[i, j].mean():.3f}" for i, k in enumerate(names))
    )
notebook.glue("ft_steps", FT_STEPS)
notebook.glue("n_configs", len(configs))
notebook.glue("n_sizes", len(SWEEP_M))
notebook.glue("n_seeds", N_SEEDS)

# %% [markdown]
# ### SubTuning: the layer chosen on validation data
#
# SubTuning's layer is chosen greedily with a budget of one layer ({prf:ref}`def-ch13-subtuning`):
# at each $m$, the single layer with the best mean validation accuracy (1000 held-out target
# samples, the same for all $m$). Its test accuracy is then compared, seed by seed, with full
# fine-tuning and linear probing. The choice among three layers uses the validation set only
# through $\log_2 3$ bits, but at small $m$ that set is far larger than the training sample: in
# the paper, too, the layers are chosen with held-out data.

# %%
layer_rows = [names.index(f"layer {i}") for i in range(DEPTH)]
chosen = [int(np.argmax(val_acc[layer_rows, j].mean(-1))) for j in range(len(SWEEP_M))]
sub_acc = np.stack(
    [test_acc[layer_rows[c], j] for j, c in enumerate(chosen)]
)  # (m, seeds)
full_acc = test_acc[names.index("full")]
lp_acc = test_acc[names.index("linear probe")]


def mean_2se(d):
    """Mean and two standard errors of the mean over the last axis (the seeds)."""
    d = np.asarray(d)
    return d.mean(-1), 2 * d.std(-1, ddof=1) / math.sqrt(d.shape[-1])


gap_full, gap_full_2se = mean_2se(sub_acc - full_acc)  # per m
gap_lp, gap_lp_2se = mean_2se(sub_acc - lp_acc)
for j, m in enumerate(SWEEP_M):
    print(
        f"m = {m:5d}: SubTuning (layer {chosen[j]}) {sub_acc[j].mean():.3f}; "
        f"minus full {gap_full[j]:+.3f} ± {gap_full_2se[j]:.3f}; "
        f"minus linear probe {gap_lp[j]:+.3f} ± {gap_lp_2se[j]:.3f}"
    )
scarce = [j for j, m in enumerate(SWEEP_M) if m <= 256]
scarce_gap, scarce_2se = mean_2se((sub_acc - full_acc)[scarce].mean(0))
lp_gap_all, lp_2se_all = mean_2se((sub_acc - lp_acc).mean(0))
big_gap, big_2se = mean_2se((full_acc - sub_acc)[-1])
behind = [
    j for j in range(len(SWEEP_M)) if gap_full[j] <= 0
]  # full at or above SubTuning
cross = next(
    (
        SWEEP_M[j]
        for j in range(len(SWEEP_M))
        if all(gap_full[k] <= 0 for k in range(j, len(SWEEP_M)))
    ),
    None,
)
print(
    f"scarce regime (m ≤ 256): SubTuning − full = {scarce_gap:+.3f} ± {scarce_2se:.3f}; "
    f"largest m = {SWEEP_M[-1]}: full − SubTuning = {big_gap:+.3f} ± {big_2se:.3f}; "
    f"full fine-tuning at or above SubTuning from m = {cross}"
)
notebook.glue("scarce_gap", float(scarce_gap))
notebook.glue("scarce_2se", float(scarce_2se))
notebook.glue("big_gap", float(big_gap))
notebook.glue("big_2se", float(big_2se))
notebook.glue("m_largest", SWEEP_M[-1])
notebook.glue("lp_gap_all", float(lp_gap_all))
notebook.glue("lp_2se_all", float(lp_2se_all))
notebook.glue("cross", "none in range" if cross is None else f"m = {cross}")
notebook.glue("sub_layers", ", ".join(str(c) for c in chosen))

# %% [markdown]
# ### MeZO against probing and backprop fine-tuning
#
# MeZO fine-tunes all parameters (body and fresh head) on the $m =$ {glue:text}`m_mezo` target
# samples of the sweep, full batch, with two forward passes per step. The seeds are batched too:
# MeZO runs on the stacked ensemble, and the perturbation $z$ of a stacked tensor is a slice of
# independent Gaussians per member, so each member is a MeZO run with its own directions. The
# update needs one projected gradient per member, so `optim.perturb` (one scale for all) is
# replaced by the member-wise version below, which regenerates $z$ from the seed in the same way.


# %%
@torch.no_grad()
def perturb_members(params, scale, seed):
    """θ ← θ + scale · z in place, z regenerated from `seed` tensor by tensor as in
    optim.perturb; `scale` is a number or one per member, shape (E,)."""
    for i, prm in enumerate(params):
        g = torch.Generator(device=prm.device).manual_seed(seed * 1_000_003 + i)
        z = torch.randn(prm.shape, generator=g, device=prm.device, dtype=prm.dtype)
        if torch.is_tensor(scale):
            z.mul_(scale.view((-1,) + (1,) * (prm.dim() - 1)))
            prm.add_(z)
        else:
            prm.add_(z, alpha=scale)


def mezo_members(ens, x, y, steps, lr, eps, seed):
    """MeZO on every member of a stacked ensemble at once; returns the losses (steps, E)."""
    params = list(ens.parameters())
    losses = []
    for t in runtime.progress(range(steps), "MeZO", steps=True):
        with torch.no_grad():
            perturb_members(params, eps, seed + t)
            plus = train.member_losses(ens(x), y, "cross_entropy")
            perturb_members(params, -2 * eps, seed + t)
            minus = train.member_losses(ens(x), y, "cross_entropy")
            perturb_members(params, eps, seed + t)  # back to θ, up to rounding
            g_hat = (plus - minus) / (
                2 * eps
            )  # (E,): one projected gradient per member
            perturb_members(params, -lr * g_hat, seed + t)
        losses.append(((plus + minus) / 2).cpu())
    return torch.stack(losses).numpy()


MEZO_LR = 1e-3
mezo_ens = ensemble.stack(
    [with_new_head(pretrained, task.target_classes, s) for s in SEEDS]
)
mezo_losses = mezo_members(
    mezo_ens,
    pool_x[:, :M_MEZO],
    pool_y[:, :M_MEZO],
    MEZO_STEPS,
    MEZO_LR,
    EPS,
    seed=cfg.seed,
)
j_mezo = list(SWEEP_M).index(M_MEZO)
mezo_acc = accuracy(mezo_ens, x_tgt_test, y_tgt_test).cpu().numpy()  # (seeds,)
mezo_lp, mezo_lp_2se = mean_2se(mezo_acc - lp_acc[j_mezo])
mezo_ft, mezo_ft_2se = mean_2se(full_acc[j_mezo] - mezo_acc)
print(
    f"m = {M_MEZO}, {N_SEEDS} seeds: MeZO ({MEZO_STEPS} steps) {mezo_acc.mean():.3f}, "
    f"linear probe {lp_acc[j_mezo].mean():.3f}, full fine-tuning {full_acc[j_mezo].mean():.3f}"
    f"\nMeZO − linear probe {mezo_lp:+.3f} ± {mezo_lp_2se:.3f}; "
    f"full − MeZO {mezo_ft:+.3f} ± {mezo_ft_2se:.3f}"
)
notebook.glue("m_mezo", M_MEZO)
notebook.glue("mezo_steps", MEZO_STEPS)
notebook.glue("mezo_acc", float(mezo_acc.mean()))
notebook.glue("mezo_lp_acc", float(lp_acc[j_mezo].mean()))
notebook.glue("mezo_full_acc", float(full_acc[j_mezo].mean()))
notebook.glue("mezo_lp", float(mezo_lp))
notebook.glue("mezo_lp_2se", float(mezo_lp_2se))
notebook.glue("mezo_ft", float(mezo_ft))
notebook.glue("mezo_ft_2se", float(mezo_ft_2se))

# %% [markdown]
# (sec-ch13-rank)=
# ### The effective rank of the pretrained network
#
# {prf:ref}`thm-ch13-mezo-rate` replaces the dimension $p$ by the effective rank
# $r = \operatorname{tr}(H)/\|H\|$. We measure it where MeZO starts: the Hessian of the target
# loss (the $m =$ {glue:text}`m_mezo` samples) over all $p$ parameters of the pretrained body with
# a fresh head, for each seed. The top eigenvalue comes from Lanczos and the trace from
# Hutchinson's estimator (`analysis.lanczos`, `analysis.hutchinson_trace`, Hessian–vector products
# only). The trace of the actual Hessian stands in for that of the upper bound $H$ of the theorem,
# so the measured $r$ is a proxy. For comparison, the same measurement on a network of the same
# architecture at random initialisation.


# %%
def effective_rank(net, x, y, seed):
    """(trace, its standard error, top eigenvalue) of the Hessian of the loss of net on (x, y)."""
    params = [q for q in net.parameters()]
    loss_fn = lambda: nn.functional.cross_entropy(net(x), y)  # noqa: E731
    top = analysis.lanczos(
        loss_fn, params, k=1, steps=30, generator=torch.Generator().manual_seed(seed)
    )
    tr = analysis.hutchinson_trace(
        loss_fn, params, probes=100, generator=torch.Generator().manual_seed(seed + 1)
    )
    return tr.mean, tr.stderr, float(top.values[0])


p_net = sum(q.numel() for q in with_new_head(pretrained, 4, 0).parameters())
rank_rows = []
for k, s in enumerate(SEEDS):
    net_s = with_new_head(pretrained, task.target_classes, s)
    rank_rows.append(effective_rank(net_s, pool_x[k, :M_MEZO], pool_y[k, :M_MEZO], s))
tr_pre, tr_se, lam_pre = (np.array(v) for v in zip(*rank_rows))
r_pre = tr_pre / lam_pre
random_body = models.MLP(N_IN, WIDTH, depth=DEPTH, n_out=10, seed=cfg.seed + 9).to(dev)
tr_rnd, _, lam_rnd = effective_rank(
    with_new_head(random_body, task.target_classes, 0),
    pool_x[0, :M_MEZO],
    pool_y[0, :M_MEZO],
    0,
)
gamma_net = 1 + (p_net * r_pre.max() + p_net - 2) / (
    p_net + 2
)  # q = 1 direction per step
print(
    f"p = {p_net} parameters; pretrained: λ_max {lam_pre.min():.1f}–{lam_pre.max():.1f}, "
    f"tr H {tr_pre.min():.1f}–{tr_pre.max():.1f} (± {tr_se.max():.1f}), "
    f"r = tr/λ_max {r_pre.min():.2f}–{r_pre.max():.2f} over {N_SEEDS} heads; "
    f"random init: λ_max {lam_rnd:.2f}, r = {tr_rnd / lam_rnd:.2f}"
)
print(f"the theorem's slowdown with q = 1 at the largest r: γ = {gamma_net:.2f}")
notebook.glue("p_net", p_net)
notebook.glue("r_min", float(r_pre.min()))
notebook.glue("r_max", float(r_pre.max()))
notebook.glue("r_rnd", float(tr_rnd / lam_rnd))
notebook.glue("gamma_net", float(gamma_net))

# %% [markdown]
# ### Memory, measured
#
# At width 64 the whole network is about 40 KiB, below what a process's memory can resolve, so we
# measure on a wider and deeper MLP of the same kind ({glue:text}`mem_width` units, {glue:text}`mem_depth`
# hidden layers, a batch of {glue:text}`mem_batch`): memory depends on the architecture, not on what
# the weights learned. On a GPU we read the allocator's peak (`analysis.cuda_peak_bytes`). On a
# Linux CPU we read the kernel's peak resident set size (`VmHWM` in `/proc/self/status`) of a
# fresh Python process that runs the script `MEMORY_PROBE` below: a fresh process, because this
# notebook's own heap, fragmented by everything above, would blur a peak of a few MiB. Before
# each step the script returns freed memory to the system (`malloc_trim`) and resets the peak
# (writing `5` to `/proc/self/clear_refs`); the step's extra peak over the memory resident before
# it, plus the bytes of the parameters, is its footprint. Each step runs once first, so one-time
# allocations of the libraries are not counted, and we keep the least of three measurements:
# other allocations can only add to a peak. The theory predicts: inference holds the parameters
# and a few activations; MeZO adds one buffer of the size of the largest parameter tensor (the
# slice of $z$ being generated); backprop with Adam adds a gradient and two moment
# buffers per parameter, at least $3\times$ the parameters, plus the saved activations.


# %%
MEMORY_PROBE = r"""
import ctypes, gc, json, sys
import torch
from torch import nn
from lmt_core import models, optim
width, depth, batch = map(int, sys.argv[1:4])
libc = ctypes.CDLL("libc.so.6")
libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: large buffers are mmapped, freed at once


def status(key):  # a line of /proc/self/status, in bytes
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith(key + ":")).split()[1]) * 1024


def peak_extra(fn):  # peak resident memory while fn() runs, minus the memory before
    gc.collect()
    libc.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    before = status("VmRSS")
    fn()
    return status("VmHWM") - before


torch.manual_seed(0)
net = models.MLP(32, width, depth=depth, n_out=4, seed=0)
x, y = torch.randn(batch, 32), torch.randint(0, 4, (batch,))
ce = nn.functional.cross_entropy
mezo = optim.MeZO(net.parameters(), lr=1e-9, eps=1e-3, seed=0)


def inference():
    with torch.no_grad():
        net(x)


def adam():
    opt = torch.optim.Adam(net.parameters(), lr=1e-9)
    ce(net(x), y).backward()
    opt.step()
    del opt
    net.zero_grad(set_to_none=True)


steps = {"inference": inference, "mezo": lambda: mezo.step(lambda: ce(net(x), y)), "adam": adam}
for fn in steps.values():
    fn()  # warm-up: one-time allocations of the libraries
print(json.dumps({k: min(peak_extra(fn) for _ in range(3)) for k, fn in steps.items()}))
"""

net_mem = models.MLP(N_IN, MEM_WIDTH, depth=MEM_DEPTH, n_out=4, seed=cfg.seed).to(dev)
param_bytes = analysis.tensor_bytes(net_mem.parameters())
largest_bytes = max(analysis.tensor_bytes([q]) for q in net_mem.parameters())
mem_extra = None
if dev.type == "cuda":
    x_mem = torch.randn(MEM_BATCH, N_IN, generator=cfg.generator(7), device=dev)
    y_mem = torch.randint(0, 4, (MEM_BATCH,), generator=cfg.generator(8), device=dev)
    ce = nn.functional.cross_entropy
    mem_opt = optim.MeZO(net_mem.parameters(), lr=1e-9, eps=EPS, seed=0)

    def forward_only():
        with torch.no_grad():
            net_mem(x_mem)

    def adam_step():
        opt = torch.optim.Adam(net_mem.parameters(), lr=1e-9)
        ce(net_mem(x_mem), y_mem).backward()
        opt.step()
        del opt
        net_mem.zero_grad(set_to_none=True)

    steps_mem = {
        "inference": forward_only,
        "mezo": lambda: mem_opt.step(lambda: ce(net_mem(x_mem), y_mem)),
        "adam": adam_step,
    }
    for fn in steps_mem.values():
        fn()  # warm-up: library workspaces, not counted
    mem_extra = {k: analysis.cuda_peak_bytes(fn, dev) for k, fn in steps_mem.items()}
    mem_how = "CUDA allocator peak"
elif sys.platform.startswith("linux"):
    args = [str(v) for v in (MEM_WIDTH, MEM_DEPTH, MEM_BATCH)]
    run = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, *args], capture_output=True, text=True
    )
    if run.returncode == 0:
        mem_extra = json.loads(run.stdout.strip().splitlines()[-1])
        mem_how = "peak resident memory, fresh process"
    else:
        mem_how = "not measured: " + run.stderr.strip().splitlines()[-1]
else:
    mem_how = "not measured on this system"
if mem_extra is not None:
    mem = {k: param_bytes + v for k, v in mem_extra.items()}
    mib = 2**20
    print(
        f"parameters {param_bytes / mib:.1f} MiB, largest tensor {largest_bytes / mib:.1f} MiB; "
        f"measured extra peak ({mem_how}): "
        + ", ".join(f"{k} {v / mib:.1f} MiB" for k, v in mem_extra.items())
    )
    mezo_vs_adam = mem["mezo"] / mem["adam"]
    mezo_vs_inf = mem["mezo"] / mem["inference"]
    print(
        f"footprint: MeZO / backprop-Adam = {mezo_vs_adam:.2f}; "
        f"MeZO / inference = {mezo_vs_inf:.2f}; Adam extra / parameters = "
        f"{mem_extra['adam'] / param_bytes:.2f}"
    )
else:
    mezo_vs_adam = mezo_vs_inf = float("nan")
    print(f"memory {mem_how}")
notebook.glue("mem_width", MEM_WIDTH)
notebook.glue("mem_depth", MEM_DEPTH)
notebook.glue("mem_batch", MEM_BATCH)
notebook.glue("mezo_vs_adam", mezo_vs_adam)
notebook.glue("mezo_vs_inf", mezo_vs_inf)
notebook.glue("mem_how", mem_how)

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
ax = axes[0, 0]
ms = np.array(SWEEP_M)
for label, acc, color in (
    ("linear probing", lp_acc, plotting.COLORS[2]),
    ("SubTuning (one layer)", sub_acc, plotting.COLORS[0]),
    ("full fine-tuning", full_acc, plotting.COLORS[1]),
):
    mean, two_se = mean_2se(acc)
    ax.plot(ms, mean, "o-", color=color, label=label)
    ax.fill_between(ms, mean - two_se, mean + two_se, color=color, alpha=0.2)
ax.set_xscale("log", base=2)
ax.set(
    xlabel="target samples m",
    ylabel="target test accuracy",
    title=f"Accuracy against m (mean ± 2 s.e., {N_SEEDS} seeds)",
)
ax.legend()
ax = axes[0, 1]
ax.errorbar(
    ms, gap_full, yerr=gap_full_2se, fmt="o-", color=plotting.COLORS[0], capsize=3
)
ax.axhline(0, color="grey", lw=0.8)
ax.axvspan(
    ms[0] / 1.2, 256 * 1.2, color="grey", alpha=0.1, label="scarce regime (asserted)"
)
ax.set_xscale("log", base=2)
ax.set(
    xlabel="target samples m",
    ylabel="SubTuning − full fine-tuning (accuracy)",
    title="SubTuning wins with scarce data; above 0 it is ahead",
)
ax.legend()
ax = axes[1, 0]
bars = {
    "linear probe": lp_acc[j_mezo],
    f"MeZO\n({MEZO_STEPS} steps)": mezo_acc,
    "full FT\n(backprop)": full_acc[j_mezo],
}
for i, (label, acc) in enumerate(bars.items()):
    ax.bar(i, acc.mean(), color=plotting.COLORS[[2, 3, 1][i]], alpha=0.7)
    ax.plot(np.full(len(acc), i), acc, "k.", ms=5)
ax.set_xticks(range(len(bars)), list(bars))
lo = min(a.min() for a in bars.values())
ax.set(
    ylim=(lo - 0.05, min(1.0, max(a.max() for a in bars.values()) + 0.03)),
    ylabel="target test accuracy",
    title=f"MeZO against probing and backprop, m = {M_MEZO} (dots: seeds)",
)
ax = axes[1, 1]
if mem_extra is not None:
    labels = ["inference", "MeZO", "backprop + Adam"]
    ax.bar(
        labels,
        [mem[k] / 2**20 for k in ("inference", "mezo", "adam")],
        color=[plotting.COLORS[2], plotting.COLORS[3], plotting.COLORS[1]],
    )
    ax.axhline(param_bytes / 2**20, color="grey", ls=":", label="the parameters")
    ax.legend()
ax.set(
    ylabel="memory of one step (MiB)",
    title=f"Measured memory ({mem_how})",
)
plt.tight_layout()
reproduce.save_headline(fig)
plt.show()

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
_record = reproduce.show_record("13_finetuning")  # caption and figure

# %% [markdown]
# Top left: linear probing levels off, since it cannot change the representation; SubTuning (the
# layer chosen on validation data at each $m$: {glue:text}`sub_layers`) and full fine-tuning keep
# improving with $m$. Top right: averaged over the scarce regime $m \le 256$, SubTuning is ahead
# of full fine-tuning by {glue:text}`scarce_gap:.3f` ± {glue:text}`scarce_2se:.3f` (mean ± 2 s.e.
# over seeds, paired); at the largest $m =$ {glue:text}`m_largest`, full fine-tuning minus SubTuning
# is {glue:text}`big_gap:+.3f` ± {glue:text}`big_2se:.3f`; the smallest $m$ from which full
# fine-tuning stays at or above SubTuning: {glue:text}`cross`. Averaged over all $m$, SubTuning
# is ahead of linear probing by {glue:text}`lp_gap_all:.3f` ± {glue:text}`lp_2se_all:.3f`. In
# quick mode the sweep stops at $m = 1024$, before the crossover, which the full-mode record
# above shows. Bottom left: MeZO, with forward passes only, beats
# linear probing by {glue:text}`mezo_lp:.3f` ± {glue:text}`mezo_lp_2se:.3f` and ends
# {glue:text}`mezo_ft:.3f` ± {glue:text}`mezo_ft_2se:.3f` below backprop fine-tuning
# ({glue:text}`mezo_acc:.3f` against {glue:text}`mezo_lp_acc:.3f` and
# {glue:text}`mezo_full_acc:.3f`). Bottom right: measured, MeZO's footprint is
# {glue:text}`mezo_vs_inf:.2f` times that of inference and {glue:text}`mezo_vs_adam:.2f` times
# that of backprop with Adam ({glue:text}`mem_how`). For a large language model, where the
# parameters and optimizer state dominate, the paper reports savings of up to 12 times. The measured effective rank of the
# pretrained network's Hessian is $r =$ {glue:text}`r_min:.1f`–{glue:text}`r_max:.1f` for
# $p =$ {glue:text}`p_net` parameters, so {prf:ref}`thm-ch13-mezo-rate` predicts a slowdown
# $\gamma \approx$ {glue:text}`gamma_net:.1f` per step with one direction, not one of order $p$.
# A network at random initialisation has a small effective rank too ($r =$
# {glue:text}`r_rnd:.1f`): at this scale low effective rank is not specific to pretraining.

# %% [markdown]
# ## Check
#
# The asserts below test what could fail. The MeZO round trip is at rounding level and not
# larger; the SPSA estimator is unbiased, MeZO's two forward passes give $z^\top g$, and the
# one-step formula matches Monte Carlo; the second moment for sphere directions matches
# {prf:ref}`lem-ch13-sphere` and rejects the Gaussian formula, and the tight case reproduces the
# paper's $\gamma$. On the network: the effective rank is at most $p/100$ for every head; MeZO
# beats linear probing (paired mean minus 2 s.e. above 0) and, in full mode, comes within 0.02 of
# backprop fine-tuning; MeZO's measured footprint is at most 1.25 times inference's and at most
# 0.5 of backprop with Adam's, and its extra memory is less than half the parameters' bytes (a
# stored $z$ would need all of them). For SubTuning: averaged over $m \le 256$, SubTuning beats
# full fine-tuning (paired, mean minus 2 s.e. above 0); averaged over all $m$ it beats linear
# probing in the same sense; and in full mode, at the largest $m$, full fine-tuning beats SubTuning
# in the same sense (the crossover). The margins were fixed before the runs.

# %%
assert rt_units <= 8, (
    f"round-trip error {rt_units:.1f} units of rounding: more than rounding"
)
assert float(z_scores.abs().max()) < 4.5, (
    "SPSA mean is off the gradient by more than 4.5 standard errors"
)
assert abs(g_hat_mezo - float(z_check @ grad0)) < 1e-6 * (1 + abs(g_hat_mezo)), (
    "MeZO's ĝ is not zᵀ∇L"
)
assert mc_err.max() < 4.5, (
    f"one-step formula off Monte Carlo by {mc_err.max():.1f} standard errors"
)
assert abs(z_sphere) < 4.5 and abs(z_gauss) > 10, (
    f"sphere moment: {z_sphere:.1f} s.e. from the lemma, {z_gauss:.1f} from the Gaussian"
)
assert abs(gamma_mc - gamma_paper) < 4.5 * gamma_se, (
    f"tight case: Monte Carlo {gamma_mc:.4f} is not the paper's γ = {gamma_paper:.4f}"
)
assert abs(gamma_mc - gamma_gauss) > 10 * gamma_se, "cannot tell sphere from Gaussian"
reproduce.check(
    bool((r_pre <= p_net / 100).all()),
    f"effective rank {r_pre.max():.1f} of the pretrained network above p/100 = {p_net / 100:.0f}",
)
if mem_extra is not None:
    assert mezo_vs_inf <= 1.25 and mezo_vs_adam <= 0.5, (
        f"MeZO memory {mezo_vs_inf:.2f}× inference, {mezo_vs_adam:.2f}× Adam"
    )
    assert mem_extra["mezo"] < 0.5 * param_bytes, "MeZO's extra memory: a stored z?"
    assert mem_extra["adam"] >= 3 * param_bytes, (
        "Adam's extra memory below 3× parameters"
    )
mezo_close = cfg.scale == "quick" or mezo_ft <= 0.02
reproduce.report(
    "malladi2023finetuning",
    claim="fine-tuning with forward passes only (MeZO) beats linear probing and comes close to "
    "backprop fine-tuning, at about the memory of inference",
    paper_value="MeZO above linear probing, comparable to fine-tuning, up to 12x less memory",
    value=f"MeZO {mezo_acc.mean():.3f}, linear probe {lp_acc[j_mezo].mean():.3f}, full "
    f"{full_acc[j_mezo].mean():.3f}; memory {mezo_vs_inf:.2f}x inference, "
    f"{mezo_vs_adam:.2f}x Adam ({mem_how})",
    assertion=f"m = {M_MEZO}, {N_SEEDS} seeds, {MEZO_STEPS} MeZO steps: MeZO − linear probe, "
    "mean − 2 s.e. > 0"
    + (
        "; full − MeZO ≤ 0.02"
        if cfg.scale == "full"
        else " (the gap to full FT in full mode)"
    )
    + "; measured memory ≤ 1.25× inference and ≤ 0.5× Adam",
    passed=bool(mezo_lp - mezo_lp_2se > 0 and mezo_close),
    status="partly",
    section="sec-ch13-experiment",
)
crossover_ok = cfg.scale == "quick" or big_gap - big_2se > 0
reproduce.report(
    "kaplun2023less",
    claim="SubTuning beats full fine-tuning when target data is scarce and linear probing "
    "throughout; with plenty of data full fine-tuning catches up and overtakes it",
    paper_value="SubTuning above full fine-tuning at small m, full fine-tuning ahead at large m",
    value=f"SubTuning − full over m ≤ 256: {scarce_gap:+.3f} ± {scarce_2se:.3f}; "
    f"full − SubTuning at m = {SWEEP_M[-1]}: {big_gap:+.3f} ± {big_2se:.3f}; "
    f"SubTuning − probe: {lp_gap_all:+.3f} ± {lp_2se_all:.3f}",
    assertion=f"{N_SEEDS} seeds, m in {list(SWEEP_M)}, paired: SubTuning − full averaged over "
    "m ≤ 256 and SubTuning − linear probe averaged over all m have mean − 2 s.e. > 0"
    + (
        f"; full − SubTuning at m = {SWEEP_M[-1]} has mean − 2 s.e. > 0"
        if cfg.scale == "full"
        else " (the crossover is checked in full mode)"
    ),
    passed=bool(
        scarce_gap - scarce_2se > 0 and lp_gap_all - lp_2se_all > 0 and crossover_ok
    ),
    status="reproduced" if cfg.scale == "full" else "partly",
    section="sec-ch13-experiment",
)
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# How much target data does SubTuning need before full fine-tuning catches up? Move $m$ and the
# number of Adam steps; the cell re-runs the finetuning profile for two seeds, as one batched run
# (in a static build of the book it shows the default setting).


# %%
def explore_profile(m=256, steps=400):
    """Target test accuracy of linear probing, each single layer, and full fine-tuning."""
    samples = [target.sample(m, generator=cfg.generator(5000 + s)) for s in (0, 1)]
    px = torch.stack([x for x, _ in samples])
    py = torch.stack([y for _, y in samples])
    ens = finetune_sweep(list(configs.values()), [m], [0, 1], steps, px, py)
    accs = accuracy(ens, x_tgt_test, y_tgt_test).view(len(configs), 2).mean(1).cpu()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(range(len(accs)), accs, color=plotting.COLORS[: len(accs)])
    ax.axhline(float(accs[-1]), color="grey", ls=":", lw=1)  # full fine-tuning's level
    ax.set_xticks(range(len(accs)), list(configs), rotation=20)
    ax.set(
        ylim=(0, 1),
        ylabel="target test accuracy",
        title=f"Finetuning profile with m = {m} target samples (2 seeds)",
    )
    plt.show()


notebook.explore(explore_profile, m=(256, (16, 4096, 16)), steps=(400, (50, 1500, 50)))

# %% [markdown]
# ## Exercises
#
# :::{exercise} Rademacher directions
# :label: ex-ch13-rademacher
#
# Replace $z \sim \mathcal N(0, I_p)$ by a vector of independent uniform signs $z_i = \pm 1$. Show that
# $\hat g z$ is still unbiased on a quadratic and compute $\mathbb E[(\hat g z)^\top H (\hat g z)]$.
# Is the one-step guarantee better or worse than with Gaussian directions? *Difficulty: ★★☆, about
# 20 min.*
# :::
#
# :::{solution} ex-ch13-rademacher
# :class: dropdown
#
# $\mathbb E[zz^\top] = I$ still, so the mean is $g$. For signs, $\mathbb E[z_iz_jz_kz_l]$ is $1$ when the
# indices pair up and $0$ otherwise, exactly as for Gaussians, except that $\mathbb E[z_i^4] = 1$
# instead of $3$: the three pairings all hold when $i=j=k=l$ and the Gaussian formula counts that
# case three times. So $\mathbb E[(\hat g z)^\top H(\hat g z)] = 2 g^\top H g + \operatorname{tr}(H)\|g\|^2 - 2\sum_i H_{ii} g_i^2$,
# smaller than the Gaussian value by $2\sum_i H_{ii}g_i^2 \ge 0$ (for $H \succeq 0$). The guarantee
# is slightly better, but the leading term $\operatorname{tr}(H)\|g\|^2$, hence the factor $r$, is
# unchanged.
# :::
#
# :::{exercise} Averaging over q directions
# :label: ex-ch13-average
#
# Let $\hat G = \frac1q\sum_{j=1}^q z_j z_j^\top g$ with independent $z_j \sim \mathcal N(0, I_p)$. Show
# that $\mathbb E[\hat G^\top H \hat G] = (1 + \frac1q) g^\top H g + \frac1q \operatorname{tr}(H)\|g\|^2$
# and deduce that the best-step decrease is at least $\|g\|^2 / (2\|H\|(1 + (r+1)/q))$. How does this
# relate to the factor $\gamma$ of {prf:ref}`thm-ch13-mezo-rate`? *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch13-average
# :class: dropdown
#
# Expand $\hat G^\top H \hat G = q^{-2}\sum_{j,k} g^\top z_j z_j^\top H z_k z_k^\top g$. The $q$ diagonal
# terms have mean $2g^\top Hg + \operatorname{tr}(H)\|g\|^2$ ({prf:ref}`prop-ch13-moments`); the
# $q(q-1)$ off-diagonal terms factor by independence into $g^\top H g$. Dividing by $q^2$ gives
# the formula. As in {prf:ref}`thm-ch13-one-step`, the best step decreases $L$ by
# $\|g\|^4 / (2\,\mathbb E[\hat G^\top H \hat G])$, and $g^\top Hg \le \|H\|\|g\|^2$,
# $\operatorname{tr} H = r\|H\|$ bound the denominator by $2\|H\|\|g\|^2(1 + (r+1)/q)$. Against GD's
# $\|g\|^2/(2\|H\|)$ the slowdown is $1 + (r+1)/q$. With directions on the sphere,
# {prf:ref}`lem-ch13-sphere` replaces $(r+1)/q$ by $(pr + p - 2)/(q(p+2))$, the paper's $\gamma$ of
# {prf:ref}`thm-ch13-mezo-rate`, which is smaller and tends to $1 + (r+1)/q$ as $p \to \infty$.
# Both interpolate, with $q$ directions per step (and $2q$ forward passes), between the $r+2$
# of a single direction and no slowdown at all.
# :::
#
# :::{exercise} A zeroth-order gradient from forward passes only
# :label: ex-ch13-spsa-code
#
# Write `spsa_gradient(loss_fn, params, eps, seeds)` that returns, as a list of tensors shaped like
# `params`, the average over `seeds` of MeZO's estimate $\hat g z$, using only `loss_fn()` (a
# forward pass) and `optim.perturb`, and that leaves `params` as it found them up to rounding. Test
# it with `check_spsa_gradient(spsa_gradient)` (defined below), which compares it with the true
# gradient of a small network's loss. *Difficulty: ★★☆, about 25 min.*
# :::


# %%
def check_spsa_gradient(fn, n_seeds=3000, seed=0):
    """Compare fn(loss_fn, params, eps, seeds) with autograd's gradient on a tiny MLP; print a verdict."""
    net = models.MLP(6, 5, depth=1, n_out=3, seed=seed).double()
    x = torch.randn(
        20, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    y = torch.arange(20) % 3
    loss_fn = lambda: nn.functional.cross_entropy(net(x), y)  # noqa: E731
    params = list(net.parameters())
    true = torch.autograd.grad(loss_fn(), params)
    before = [p.detach().clone() for p in params]
    with torch.no_grad():
        est = fn(loss_fn, params, 1e-4, list(range(n_seeds)))
    drift = max(float((p.detach() - b).abs().max()) for p, b in zip(params, before))
    if len(est) != len(params) or any(e.shape != p.shape for e, p in zip(est, params)):
        print("wrong shapes: return one tensor per parameter, shaped like it")
        return False
    if drift > 1e-10:
        print(
            f"the parameters moved by {drift:.1e}: restore them after each pair of evaluations"
        )
        return False
    e, t = torch.cat([a.flatten() for a in est]), torch.cat([b.flatten() for b in true])
    cos = float(e @ t / (e.norm() * t.norm()))
    rel = float((e - t).norm() / t.norm())
    expected = math.sqrt((t.numel() + 1) / n_seeds)
    if rel > 3 * expected:
        print(
            f"relative error {rel:.2f} (cosine {cos:.2f}) is more than 3× the expected {expected:.2f}: "
            "check the sign, the factor 1/(2ε) and that you average ĝz over the seeds"
        )
        return False
    print(
        f"correct: relative error {rel:.2f} (expected about {expected:.2f}), cosine with the gradient {cos:.2f}"
    )
    return True


# %% [markdown]
# :::{solution-start} ex-ch13-spsa-code
# :class: dropdown
# :::
#
# For each seed, perturb by $+\varepsilon z$, evaluate, move by $-2\varepsilon z$, evaluate, move back;
# then add $\hat g z$ to the running sum by perturbing zero tensors with the same seed.


# %%
def spsa_gradient(loss_fn, params, eps, seeds):
    """Average of MeZO's SPSA estimate ĝ z over the given seeds (forward passes only)."""
    total = [torch.zeros_like(p) for p in params]
    for s in seeds:
        optim.perturb(params, eps, s)
        plus = float(loss_fn())
        optim.perturb(params, -2 * eps, s)
        minus = float(loss_fn())
        optim.perturb(params, eps, s)
        optim.perturb(
            total, (plus - minus) / (2 * eps) / len(seeds), s
        )  # total += ĝ z / |seeds|
    return total


assert check_spsa_gradient(spsa_gradient)


def spsa_wrong(
    loss_fn, params, eps, seeds
):  # divides by ε instead of 2ε: twice too large
    return [2 * t for t in spsa_gradient(loss_fn, params, eps, seeds)]


assert not check_spsa_gradient(spsa_wrong)

# %% [markdown]
# The relative error is large (about $\sqrt{(p+1)/N}$ for $N$ directions): a single MeZO step is a
# very noisy gradient, which is why MeZO needs many more steps than backprop.
#
# :::{solution-end}
# :::
#
# :::{exercise} How many samples make the counting bound non-vacuous?
# :label: ex-ch13-count
#
# Using {prf:ref}`thm-ch13-count` with $B = 32$ and $\delta = 0.05$, compute the number of target
# samples $m$ at which the bound drops below $0.1$ for (a) tuning one of the two $64 \times 64$ hidden
# layers (layer 1 or 2) of the quick-mode network and (b) full fine-tuning (the head is tuned in both). What does this say about the bound,
# and about the direction of the effect? *Difficulty: ★☆☆, about 10 min.*
# :::
#
# :::{solution} ex-ch13-count
# :class: dropdown
#
# Solve $\sqrt{(p_S B\ln 2 + \ln 40)/(2m)} \le 0.1$: $m \ge 50\,(22.2\,p_S + 3.7)$. With width 64, one
# hidden layer (64·64 + 64 weights and biases) plus the head (64·4 + 4) has $p_S = 4420$, so
# $m \gtrsim 4.9$ million; full fine-tuning adds the first layer (32·64 + 64) and another hidden
# layer, $p_S = 10{,}692$, so $m \gtrsim 11.9$ million. The bound is vacuous at $m = 64$ by far; it
# only explains that the guaranteed gap grows like $\sqrt{p_S}$, and SubTuning divides $p_S$ here
# by about 2.4. Sharper, norm-based or compression-based bounds are needed for numbers.
# :::
#
# (sec-ch13-discussion)=
# ## Discussion and further reading
#
# - {prf:ref}`thm-ch13-one-step` compares ZO-SGD with the GD *guarantee* $\|g\|^2/(2\|H\|)$. Take
#   $g$ with equal components along all $p$ eigenvectors of the spectrum used above and compute the
#   ratio of the actual best decreases: why is it close to $p$, and why does the paper's assumption
#   (a bound on the Hessian, with GD's step limited by $1/\|H\|$) make the guarantee the fair
#   comparison?
# - MeZO's analysis needs a small effective rank of the Hessian *at the pretrained point*, and the
#   paper argues that prompts and pretraining are what make it small. In this chapter the random
#   network's Hessian also had a small effective rank (its eigenvalues are much smaller, and the
#   Hutchinson trace is noisy). What would a measurement along a whole training run from scratch
#   show, and which quantity, $r$ or the Hessian's scale, decides MeZO's step size?
# - The round-trip error is at rounding level per step. Over $10^5$ steps, is the accumulated
#   drift a random walk or a bias? How would you test it, and does it matter next to the SGD noise?
# - MeZO can optimize non-differentiable objectives (accuracy, F1). Which parts of
#   {prf:ref}`thm-ch13-one-step` survive when $L$ is not smooth?
# - SubTuning trades approximation (which layers can adapt) for estimation (how many parameters
#   are fitted). The finetuning profile depends on the task shift: input corruptions favour early
#   layers, new label semantics late ones {cite}`kaplun2023less`. Design a target task for which
#   layer 0 is the best single layer.
# - Combining the two: MeZO on a SubTuning subset has a smaller $p$ and, plausibly, a smaller $r$.
#   Which of the two does the analysis say matters?
# - Related: parameter-efficient methods (LoRA, prefix tuning), which the MeZO paper combines with
#   zeroth-order updates, and classical SPSA analyses, whose rates depend on $p$ because they assume
#   no structure of the Hessian.
