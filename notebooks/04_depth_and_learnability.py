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
# # Approximation, depth and learnability
#
# A deep network that *can express* a function need not be able to *learn* it. Gradient descent sees
# the target only through its correlations with the network's own features, so a target that no
# simple class approximates even weakly is invisible to it; for statistical-query algorithms, weak
# approximation by a kernel is exactly what efficient learning needs. Architecture changes the
# picture (a convolutional network learns a parity of $k$ adjacent bits that a fully connected network
# cannot), and depth separations can be algorithmic: a three-layer network both expresses and learns
# a radial function that two-layer networks cannot approximate.
#
# **Papers.** Malach, Yehudai, Shalev-Shwartz and Shamir {cite}`malach2021connection`; Malach and
# Shalev-Shwartz on convolutional versus fully connected networks {cite}`malach2020computational`
# and on hardness of approximation meeting hardness of learning {cite}`malach2022hardness`; Ren,
# Zhou and Ge on depth separation with mean-field networks {cite}`ren2023depth`. Background:
# {cite}`kearns1998efficient,blum1994weakly,shalevshwartz2017failures,odonnell2014analysis`.
#
# **Prerequisites.** Chapter 1: parities and Fourier–Walsh coefficients
# ({prf:ref}`def-ch01-fourier`), statistical queries ({prf:ref}`def-ch01-sq`) and their lower bound
# for parities ({prf:ref}`thm-ch01-sq-lower-bound`), and the ReLU network that computes a parity
# ({prf:ref}`prop-ch01-parity-network`).
#
# **Time.** Quick mode, the default everywhere (also with a GPU), runs in about 70 seconds on one
# CPU core; the figures of the book are from quick mode. Full mode (`SCALE = "full"` in the first
# code cell) trains more seeds, longer, at larger $n$ and with wider networks, in about 8 minutes
# on one CPU core; its recorded figure is shown next to the quick-mode one.
#
# **Open in Colab:**
# [colab/04_depth_and_learnability.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/04_depth_and_learnability.ipynb)
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
# Settings: every size of the chapter's experiments, quick and full.
NS_T = cfg.pick(
    quick=[12, 24, 36, 48], full=[12, 24, 36, 48, 64]
)  # CNN vs FC: n, k = 3
E_T = cfg.pick(quick=8, full=16)  # CNN vs FC: seeds per architecture, parity and n
STEPS_T = cfg.pick(quick=3000, full=10000)  # CNN vs FC: online SGD steps (the budget)
N_W, K_W = 40, 7  # width robustness: a local 7-parity of 40 bits
WIDTHS_FC = cfg.pick(quick=[16, 64, 256], full=[16, 64, 256, 1024])  # FC widths tried
E_W = cfg.pick(quick=4, full=8)  # width robustness: seeds per width
STEPS_W = cfg.pick(quick=6000, full=6000)  # width robustness: SGD steps, both modes
NS_RAD = cfg.pick(quick=[8, 16, 32], full=[8, 16, 32, 64])  # depth: input dimensions n
E_RAD = cfg.pick(quick=4, full=5)  # depth: seeds per depth and n
STEPS_RAD = cfg.pick(quick=2000, full=6000)  # depth: Adam steps


# %% [markdown]
# ## Approximation and learnability
#
# ### Weak approximation
#
# Throughout, $\mathcal D$ is a distribution on inputs $x$ and
# $\langle f, g \rangle = \mathbb E_{x \sim \mathcal D}[f(x) g(x)]$, $\|f\| = \langle f, f\rangle^{1/2}$.
# Targets are functions $f$ with $\|f\| = 1$ (for instance $\pm 1$-valued ones).


# %% [markdown]
# :::{prf:definition} Weak approximation
# :label: def-ch04-weak
#
# A set $\mathcal H$ of functions *$\gamma$-weakly approximates* a target $f$ if some $h \in \mathcal H$
# with $\|h\| \le 1$ has $\langle f, h \rangle \ge \gamma$. For a linear space $V$ of functions the best
# such $\gamma$ is $\|P_V f\|$, the norm of the orthogonal projection of $f$ on $V$. A class
# $\mathcal F$ of targets is $\gamma$-weakly approximated by $\mathcal H$ if every $f \in \mathcal F$ is.
# :::
#
# Weak approximation asks for much less than approximation: correlation $\gamma = 1/\mathrm{poly}(n)$
# instead of error $\varepsilon$. Its failure is therefore a strong statement, and it is the one that
# matters for learning, as the next result shows.
#
# ### Gradient descent only sees correlations with its own features
#
# Let $f_\theta$, $\theta \in \mathbb R^p$, be any model differentiable in $\theta$ (any depth), trained
# on the square loss $L_f(\theta) = \tfrac12 \mathbb E[(f_\theta(x) - f(x))^2]$. Its gradient is
#
# $$ \nabla L_f(\theta) = \mathbb E[f_\theta\, \nabla_\theta f_\theta] \;-\; \big(\langle f, \partial_1 f_\theta\rangle, \dots, \langle f, \partial_p f_\theta\rangle\big), $$
#
# and the target enters only through the second term: the correlations of $f$ with the *tangent
# features* $\partial_j f_\theta(x) = \partial f_\theta(x) / \partial \theta_j$. For a two-layer network
# $\sum_j a_j \sigma(w_j \cdot x + b_j)$ the tangent features are single neurons
# $\sigma(w_j \cdot x + b_j)$ and the functions $a_j \sigma'(w_j \cdot x + b_j)\, x_i$ of
# {prf:ref}`prop-ch01-gradient-fourier`. As in Chapter 1, we model finite samples by an oracle that
# returns each gradient coordinate up to a tolerance $\tau$.


# %% [markdown]
# :::{prf:definition} Approximate gradient descent
# :label: def-ch04-approx-gd
#
# *$\tau$-approximate gradient descent* with step size $\eta$ on target $f$ runs
# $\theta_{t+1} = \theta_t - \eta\, g_t$ for $t < T$, where $g_t$ is any vector with
# $\|g_t - \nabla L_f(\theta_t)\|_\infty \le \tau$ (chosen by an adversary). Its *blind trajectory*
# from $\theta_0$ is the run of exact gradient descent on the zero target,
# $\theta^0_{t+1} = \theta^0_t - \eta\, \mathbb E[f_{\theta^0_t} \nabla_\theta f_{\theta^0_t}]$; it does
# not depend on $f$.
# :::


# %% [markdown]
# :::{prf:theorem} Learning by gradient descent needs weak approximation by tangent features
# :label: thm-ch04-gd-needs-approx
#
# Fix $\theta_0$, and let $B^2 = \max_{t < T,\, j \le p} \|\partial_j f_{\theta^0_t}\|^2$ along the blind
# trajectory.
#
# 1. If $|\langle f, \partial_j f_{\theta^0_t} \rangle| \le \tau$ for all $j \le p$ and $t < T$, then the
#    blind trajectory is a valid run of $\tau$-approximate gradient descent on $f$. Its output
#    $h = f_{\theta^0_T}$ is the same for every such target.
# 2. Let $f_1, \dots, f_N$ be orthonormal and $0 < \alpha < 1$. For all but at most
#    $T p B^2 / \tau^2 + 1/\alpha^2$ indices $i$, $\tau$-approximate gradient descent on $f_i$ can end
#    with loss $L_{f_i}(\theta_T) \ge (1 - \alpha^2)/2$, while the zero predictor has loss $1/2$.
# :::


# %% [markdown]
# :::{prf:proof}
# (1) Along the blind trajectory the exact gradient for target $f$ differs from the blind update
# direction $\mathbb E[f_\theta \nabla f_\theta]$ by the vector of correlations
# $\langle f, \partial_j f_{\theta^0_t} \rangle$, each at most $\tau$ in absolute value; so the adversary
# may answer with the blind direction at every step.
#
# (2) For each of the $T p$ tangent features $\phi = \partial_j f_{\theta^0_t}$, Bessel's inequality
# gives $\sum_i \langle f_i, \phi \rangle^2 \le \|\phi\|^2 \le B^2$, so fewer than $B^2/\tau^2$ indices
# have $|\langle f_i, \phi\rangle| > \tau$; in total at most $T p B^2/\tau^2$ indices violate the
# condition of (1). For every other $i$ the run may output the same $h$. If $h \ne 0$, Bessel again
# gives at most $1/\alpha^2$ indices with $|\langle f_i, h/\|h\| \rangle| > \alpha$. For the remaining
# ones, $\|h - f_i\|^2 \ge \min_c \|c\, h/\|h\| - f_i\|^2 = 1 - \langle f_i, h/\|h\|\rangle^2 \ge 1 - \alpha^2$
# (if $h = 0$ the loss is $1/2$).
# :::
#
# So a target learnable from *every* initialisation must, along the way, correlate at level $\tau$
# with some tangent feature (unless the blind output $f_{\theta^0_T}$, which does not depend on the
# target, already approximates it): learnability implies weak approximability by the network's own
# features. For a family of $N$ orthogonal targets, success on all of them needs
# $T p B^2 / \tau^2 \gtrsim N$, the count of {prf:ref}`thm-ch01-sq-lower-bound` with $q = T p$ queries.


# %% [markdown]
# :::{prf:theorem} Learnability by deep networks needs weak approximability by shallow ones (informal: a paraphrase of the abstract of Malach, Yehudai, Shalev-Shwartz and Shamir 2021, hypotheses not reproduced)
# :label: thm-ch04-myss
#
# Under assumptions on the input distribution and on the network and its initialisation that we do
# not reproduce here, if gradient descent on a deep network of polynomial size learns a target $f$ in
# polynomially many steps (with approximate gradients of inverse-polynomial tolerance), then $f$ is
# $1/\mathrm{poly}(n)$-weakly approximated by a two-layer network of polynomial size. Consequently,
# functions that witness a depth separation by being hard even to *weakly* approximate with shallow
# networks are not efficiently learnable by gradient descent, even on deep networks that express them
# {cite}`malach2021connection`.
# :::
#
# **How this relates to the paper.** We could not establish the paper's hypotheses (on the input
# distribution, the architecture and its initialisation, the tolerance and the sizes) from the
# sources available to us, so this box is a paraphrase and not a theorem one can apply: nothing in
# this chapter is derived from it, and a reader who needs the exact conditions must take them from
# {cite}`malach2021connection`. The precise statement of this chapter is
# {prf:ref}`thm-ch04-gd-needs-approx`, which is proved in full and applies to *any* differentiable
# model: it replaces "shallow networks" by "tangent features along the blind trajectory". For a
# two-layer network $f_\theta(x) = \sum_j a_j \sigma(w_j \cdot x + b_j)$ these are the single neurons
# $\sigma(w_j \cdot x + b_j)$ (derivatives in $a_j$) and the functions
# $a_j \sigma'(w_j \cdot x + b_j)\, x_i$ and $a_j \sigma'(w_j \cdot x + b_j)$ (derivatives in $w_{ji}$
# and $b_j$), so for a two-layer model it already says: if every target of an orthonormal family has
# correlation at most $\tau$ with each of these $T p$ functions along the blind trajectory, then
# $\tau$-approximate gradient descent fails on all but $T p B^2/\tau^2 + 1/\alpha^2$ of them. For a
# deep network the tangent features are deep functions; the paper's contribution is to bound their
# correlations with the target by weak approximation with *shallow* networks, under its hypotheses.
#
# ### Statistical queries and kernels
#
# The same mechanism gives an exact characterisation for statistical-query algorithms
# ({prf:ref}`def-ch01-sq`). A *feature map* is $\Psi: \mathcal X \to \mathbb R^q$ with
# $\|\Psi(x)\|_2 \le 1$ for all $x$; it defines the kernel $K(x, x') = \Psi(x) \cdot \Psi(x')$ and the
# kernel class $\mathcal H_{\Psi, R} = \{x \mapsto w \cdot \Psi(x) : \|w\|_2 \le R\}$.


# %% [markdown]
# :::{prf:theorem} Efficient SQ learning and weak approximation by a kernel
# :label: thm-ch04-sq-kernel
#
# Let $\mathcal F$ be a class of $\pm 1$-valued targets.
#
# 1. If a deterministic SQ algorithm with $q$ queries of tolerance $\tau$ outputs, for every
#    $f \in \mathcal F$, a $\pm 1$-valued $h$ with $\Pr[h \ne f] < 1/4$, then there is a feature map
#    with $q + 1$ features such that every $f \in \mathcal F$ has correlation at least
#    $\min(\tau, 1/2)$ with some element of $\mathcal H_{\Psi, \sqrt{q+1}}$.
# 2. Conversely, if every $f \in \mathcal F$ has correlation at least $\gamma$ with some element of
#    $\mathcal H_{\Psi, R}$, for a feature map with $q$ features, then $q$ statistical queries of
#    tolerance $\gamma / (2 R \sqrt q)$ yield, for every $f \in \mathcal F$, a function $\tilde h$ with
#    $|\tilde h| \le 1$ and $\langle f, \tilde h \rangle \ge \gamma / (3R)$: a weak learner.
#
# In particular, for *weak* learning, polynomially many queries of inverse-polynomial tolerance exist
# if and only if a kernel with polynomially many features weakly approximates the class with
# polynomial norm (part 1 holds as well for a deterministic weak learner with error below
# $\tfrac12 - \gamma'$, with correlation $\min(\tau, 2\gamma')$ in place of $\min(\tau, 1/2)$).
# :::


# %% [markdown]
# :::{prf:proof}
# (1) Write each query as $\phi_i(x, y) = \phi_{i,+}(x) + y\, g_i(x)$ with $|g_i| \le 1$, as in the proof
# of {prf:ref}`thm-ch01-sq-lower-bound`. Run the algorithm against the adversary that answers
# $\mathbb E[\phi_{i,+}]$; since the algorithm is deterministic it asks fixed queries
# $g_1, \dots, g_q$ and outputs a fixed $h_0$. Set $\Psi = (g_1, \dots, g_q, h_0)/\sqrt{q+1}$. For a
# target $f$, either some answer was invalid, $|\langle f, g_i \rangle| > \tau$, and then
# $\pm\sqrt{q+1}\, e_i$ gives correlation above $\tau$; or all answers were valid for $f$, the algorithm
# output $h_0$, and $\langle f, h_0 \rangle = 1 - 2 \Pr[h_0 \ne f] > 1/2$, given by $w = \sqrt{q+1}\, e_{q+1}$.
#
# (2) Let $u = \mathbb E[f \Psi] \in \mathbb R^q$. If $\|w\| \le R$ and $\langle f, w \cdot \Psi\rangle \ge \gamma$
# then $\gamma \le w \cdot u \le R \|u\|$, so $\|u\| \ge \gamma/R$. The queries $\phi_i = y\, \Psi_i(x)$
# return $v$ with $\|v - u\|_2 \le \sqrt q\, \tau = \gamma/(2R) \le \|u\|/2$. Then
# $\langle f, v \cdot \Psi \rangle = v \cdot u \ge \|u\|^2 - \|u\| \|v - u\| \ge \|u\|^2/2$ and
# $\|v\| \le \tfrac32 \|u\|$, so $\tilde h = v \cdot \Psi / \|v\|$ satisfies $|\tilde h| \le 1$ and
# $\langle f, \tilde h\rangle \ge \|u\|/3 \ge \gamma/(3R)$.
# :::
#
# **How this relates to the paper.** {cite}`malach2021connection` prove an equivalence between
# efficient SQ learnability and weak approximation by a kernel class, for randomised algorithms and
# with their own quantitative definitions. Our version covers deterministic algorithms, and its
# converse gives a *weak* learner (correlation $\gamma/(3R)$, i.e. error at most
# $\tfrac12 - \gamma/(6R)$ for the randomised rounding of $\tilde h$). Turning it into a strong
# learner is **not** automatic here: boosting turns weak learners into strong ones only if weak
# learning succeeds under each of the reweighted distributions the booster produces, whereas this
# converse gives a weak learner under the one distribution $\mathcal D$ for which the kernel weakly
# approximates the class. Distribution-specific weak learnability does not imply strong
# learnability in general, so the equivalence above is one for *weak* learning.
#
# (sec-ch04-random-features)=
# ### In code: random features barely see a high-degree parity
#
# How weak is the correlation of a shallow model with a parity? Take $N$ random ReLU features
# $\phi_j(x) = \mathrm{ReLU}(w_j \cdot x / \sqrt n + b_j)$ with $w_j \sim \mathcal N(0, I_n)$,
# $b_j \sim \mathcal N(0, 1)$, plus a constant, on the full cube $\{-1,+1\}^n$. The best correlation of
# a target with their span is $\|P_V f\|$, computed exactly from an orthonormal basis of the span on all $2^n$ points. For
# *any* $N$-dimensional space $V$ Bessel's inequality bounds the average over the $\binom nk$
# parities of size $k$: $\binom nk^{-1} \sum_{|S| = k} \|P_V \chi_S\|^2 \le N / \binom nk$
# ({prf:ref}`thm-ch04-hardness` below).


# %%
def orthonormal_basis(features):
    """Columns spanning the same space as `features` (rank-trimmed SVD), orthonormal in the Euclidean sense."""
    U, sv, _ = torch.linalg.svd(features, full_matrices=False)
    return U[:, sv > 1e-10 * sv.max()]  # drop directions of dead (all-zero) features


def squared_correlations(features):
    """||P_V chi_S||^2 for every S at once, V = span of the columns of `features` (values on the cube).

    With an orthonormal basis e_1, ..., e_N of V (uniform measure), ||P_V chi_S||^2 = sum_j e_j_hat(S)^2:
    one Walsh-Hadamard transform per basis vector. Entry s is the value for the set with bit mask s.
    """
    Q = orthonormal_basis(features) * math.sqrt(
        len(features)
    )  # orthonormal in L2(uniform)
    return analysis.walsh_coefficients(Q.T).pow(2).sum(0)


def random_relu_features(x, N, seed):
    """N random ReLU features of the rows of x, plus a constant column: shape (len(x), N + 1)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(x.shape[1], N, generator=g, dtype=x.dtype)
    b = torch.randn(N, generator=g, dtype=x.dtype)
    return torch.cat(
        [
            torch.relu(x @ W / math.sqrt(x.shape[1]) + b),
            torch.ones(len(x), 1, dtype=x.dtype),
        ],
        1,
    )


N_RF = 12  # cube dimension for the exact computation
x_rf = tasks.hypercube(N_RF).double()
set_size = torch.tensor([bin(s).count("1") for s in range(2**N_RF)])
feature_counts = [16, 64, 256]
degrees = list(range(1, 8))
corr2, corr2_max = {}, {}  # (N, k) -> mean / max over |S| = k of ||P_V chi_S||^2
for N in feature_counts:
    Phi = random_relu_features(x_rf, N, seed=cfg.seed + N)
    c2 = squared_correlations(Phi)
    assert (
        abs(float(c2.sum()) - orthonormal_basis(Phi).shape[1]) < 1e-6
    )  # Parseval: the total is dim V
    for k in degrees:
        corr2[N, k], corr2_max[N, k] = (
            float(c2[set_size == k].mean()),
            float(c2[set_size == k].max()),
        )
maj = torch.sign(x_rf[:, :11].sum(1))  # majority of 11 bits: most weight on low degrees
corr_maj = float(
    (
        orthonormal_basis(random_relu_features(x_rf, 64, seed=cfg.seed + 64)).T @ maj
    ).norm()
    / maj.norm()
)

fig, ax = plt.subplots(figsize=(7, 4))
for c, N in zip(plotting.COLORS, feature_counts):
    ax.semilogy(
        degrees,
        [corr2[N, k] for k in degrees],
        "o-",
        color=c,
        label=f"{N} random ReLU features",
    )
    ax.semilogy(
        degrees,
        [min(1, (N + 1) / comb(N_RF, k)) for k in degrees],
        ":",
        color=c,
        label=f"bound (N+1)/C(n,k), N = {N}",
    )
ax.set(
    xlabel="parity degree k",
    ylabel=r"mean over $|S| = k$ of $\|P_V \chi_S\|^2$",
    title=f"Random features correlate weakly with high-degree parities (n = {N_RF})",
)
ax.legend(fontsize=7, ncol=2)
plt.show()
for N in feature_counts:
    print(
        f"N = {N:3d}: mean squared correlation with chi_S, k = 1..{degrees[-1]}: "
        + ", ".join(f"{corr2[N, k]:.2g}" for k in degrees)
    )
print(f"64 features: correlation {corr_maj:.3f} with the majority of 11 bits")
notebook.glue("rf_k1", corr2[64, 1])
notebook.glue("rf_k6", corr2[64, 6])
notebook.glue("rf_k6max", corr2_max[64, 6])
notebook.glue("rf_maj", corr_maj)

# %% [markdown]
# With {glue:text}`rf_k1:.2f` of the squared norm of a single coordinate ($k = 1$) inside the span of
# 64 random features, but only {glue:text}`rf_k6:.1e` on average (at most {glue:text}`rf_k6max:.1e`)
# of a parity of degree $6$, the random-feature class approximates low-degree targets (the majority
# of 11 bits reaches correlation {glue:text}`rf_maj:.2f`) and barely sees high-degree ones. The
# decay follows the Bessel bound: the features' total Fourier weight, $N + 1$, is spread over
# $\binom nk$ sets of each degree.
#
# ## One property, two hardness results
#
# The counting in the last two proofs uses one property of the target class. Malach and
# Shalev-Shwartz {cite}`malach2022hardness` isolate it and show that it implies hardness of
# approximation and hardness of learning at once. We state it in the following form.


# %% [markdown]
# :::{prf:definition} $\varepsilon$-spread class
# :label: def-ch04-spread
#
# A finite class $\mathcal F = \{f_1, \dots, f_N\}$ with $\|f_i\| = 1$ is *$\varepsilon$-spread* under
# $\mathcal D$ if every $\phi$ with $\|\phi\| \le 1$ has small average squared correlation with it:
# $\frac1N \sum_{i=1}^N \langle f_i, \phi\rangle^2 \le \varepsilon$.
# :::
#
# An orthonormal class of size $N$ is $1/N$-spread (Bessel); so the $k$-parities are
# $\binom nk^{-1}$-spread, and all parities $2^{-n}$-spread.


# %% [markdown]
# :::{prf:theorem} A spread class is hard to approximate and hard to learn
# :label: thm-ch04-hardness
#
# Let $\mathcal F$ be $\varepsilon$-spread.
#
# 1. *(Linear classes.)* For every linear space $V$ of dimension $q$,
#    $\frac1N \sum_i \|P_V f_i\|^2 \le q\, \varepsilon$. So if $V$ $\gamma$-weakly approximates every
#    $f_i$, then $q \ge \gamma^2 / \varepsilon$.
# 2. *(Correlation queries, gradient descent.)* Answering each correlation query
#    $\langle f, \phi \rangle$ ($\|\phi\| \le 1$) with $0$ is valid at tolerance $\tau$ for all but at most
#    $\varepsilon N / \tau^2$ of the $f_i$. Hence a deterministic algorithm that asks $q$ correlation queries and
#    succeeds on every $f_i$ (where the $f_i$ are pairwise far apart) needs $q \ge (N - 1)\tau^2 / (\varepsilon N)$;
#    $\tau$-approximate gradient descent with $p$ parameters for $T$ steps asks
#    $T p$ such queries ({prf:ref}`thm-ch04-gd-needs-approx`, with features normalised by $B$).
# :::


# %% [markdown]
# :::{prf:proof}
# (1) With an orthonormal basis $e_1, \dots, e_q$ of $V$,
# $\frac1N \sum_i \|P_V f_i\|^2 = \sum_{j} \frac1N \sum_i \langle f_i, e_j \rangle^2 \le q\, \varepsilon$;
# if every $\|P_V f_i\| \ge \gamma$, the left side is at least $\gamma^2$.
# (2) By Markov's inequality on the average in the definition, fewer than $\varepsilon N / \tau^2$ indices
# have $\langle f_i, \phi\rangle^2 > \tau^2$. The adversary answering $0$ to every query is thus valid
# for all but $q\, \varepsilon N/\tau^2$ targets, and the algorithm's output is the same for all of them;
# if $q\, \varepsilon N / \tau^2 < N - 1$ two targets survive and, being far apart, the common output
# fails on one of them (as in the proof of {prf:ref}`thm-ch01-sq-lower-bound`).
# :::
#
# Examples, following {cite}`malach2022hardness`:
#
# - **Parities.** $k$-parities are $\binom nk^{-1}$-spread: no kernel with fewer than
#   $\gamma^2 \binom nk$ features weakly approximates them, and gradient descent needs
#   $T p / \tau^2 \gtrsim \binom nk$ — the same number twice.
# - **DNF formulas.** A parity of $k$ bits is a DNF with $2^{k-1}$ terms (one per odd assignment of the
#   $-1$'s). With $k = \log_2 n$, polynomial-size DNFs contain all $\binom{n}{\log_2 n} = n^{\Theta(\log n)}$
#   such parities, a $n^{-\Theta(\log n)}$-spread subclass: polynomial-size DNFs are neither weakly
#   approximable by polynomial-dimensional linear classes nor learnable with polynomially many
#   correlation queries of inverse-polynomial tolerance.
# - **$AC^0$.** Constant-depth circuits of polynomial size compute parities of polylogarithmically
#   many bits, which gives spread subclasses of quasi-polynomial size.
#
# **How this relates to the paper.** Our definition is one convenient form of the paper's property;
# its statements are quantitatively sharper and go further, to hardness of approximation by
# *shallow networks* (not only linear classes) for classes such as DNFs and $AC^0$ circuits. We do not
# reproduce those constructions. Note that parities themselves are *not* hard to approximate by
# two-layer networks ({prf:ref}`prop-ch01-parity-network`): the linear-class statement is about a fixed
# feature space, and a two-layer network chooses its features.
#
# ## Convolutional versus fully connected networks
#
# ### Parities of adjacent bits


# %% [markdown]
# :::{prf:definition} Local parity
# :label: def-ch04-local-parity
#
# For $1 \le k \le n$ and a start $j \in \{1, \dots, n - k + 1\}$, the *local parity* is
# $\chi_{W_j}$ with window $W_j = \{j, j+1, \dots, j+k-1\}$. In the *local parity problem* $j$ is
# unknown and $x$ is uniform on $\{-1,+1\}^n$: the class is $\mathcal L_{n,k} = \{\chi_{W_j}\}$, with
# only $n - k + 1$ members. In code: `tasks.random_local_parity(n, k, seed=...)`, a
# `tasks.SparseParity` whose support is a window.
# :::
#
# A convolutional network whose filter has width $k$ sees each window in isolation. Our model,
# `models.LocalCNN`, has $C$ filters $w_c \in \mathbb R^k$ with biases $b_c$, shared by all
# $P = n - k + 1$ positions, a ReLU, and a linear readout $U \in \mathbb R^{P \times C}$ (a
# position-weighted sum pooling):
#
# $$ f(x) = u_0 + \sum_{i=1}^{P} \sum_{c=1}^{C} U_{ic}\, \mathrm{ReLU}(w_c \cdot x_{i:i+k-1} + b_c). $$
#
# It has $C k + C + C P + 1 = C(n + 2) + 1$ parameters, exactly as many as a two-layer fully connected
# network of width $d = C$.


# %% [markdown]
# :::{prf:proposition} A CNN that computes a local parity
# :label: prop-ch04-cnn-parity
#
# With $C = k$ filters $w_c = \mathbf 1$, biases $b_c = k - 2c$ ($c = 0, \dots, k-1$), readout
# $U_{jc}$ equal to the output weights of {prf:ref}`prop-ch01-parity-network` at the position $j$ of the
# window and $0$ elsewhere, and $u_0 = (-1)^k$, the network computes $\chi_{W_j}$ exactly.
# :::


# %% [markdown]
# :::{prf:proof}
# At position $j$ the hidden units are those of {prf:ref}`prop-ch01-parity-network` for the set
# $W_j$; the readout keeps only them, with that proposition's output weights and bias.
# :::


# %%
def local_parity_cnn(n, k, start):
    """The hand-set LocalCNN of the proposition: k filters of ones, Ch. 1's parity weights at `start`."""
    c = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - c)  # chi at s = -k + 2c
    out_w = -2 * v
    out_w[0] = -v[0]
    net = models.LocalCNN(n, k, channels=k)
    with torch.no_grad():
        net.filters.fill_(1.0)
        net.bias.copy_(k - 2 * c)
        net.readout.zero_()[start] = out_w  # only the window at `start` is read
        net.out_bias.fill_((-1.0) ** k)
    return net


checked = 0
for n in (6, 10, 14):
    x = tasks.hypercube(n)
    for k in sorted({1, 2, 3, n // 2, n}):
        for start in range(n - k + 1):
            task = tasks.local_parity(n, k, start)
            with torch.no_grad():
                assert torch.equal(local_parity_cnn(n, k, start)(x), task.label(x)), (
                    n,
                    k,
                    start,
                )
            checked += 1
n_params_cnn = models.count_params(models.LocalCNN(32, 5, 16))
n_params_fc = models.count_params(models.MLP(32, 16))
print(
    f"the hand-set CNN equals the local parity on all 2^n inputs in {checked} cases (n <= 14, every k and start)"
)
print(
    f"parameters for n = 32: CNN (k = 5, C = 16) {n_params_cnn}, fully connected (d = 16) {n_params_fc}"
)

# %% [markdown]
# ### The separation

# %% [markdown]
# :::{prf:theorem} CNNs learn local parities; fully connected networks trained by gradient descent do not
# :label: thm-ch04-cnn-fc
#
# 1. *(CNN.)* Let the $C = 2^k$ filters be the pattern detectors $w_c = z_c$, $b_c = 1 - k$, for the
#    $2^k$ patterns $z_c \in \{-1,+1\}^k$, so that $\mathrm{ReLU}(z_c \cdot x_{i:i+k-1} + 1 - k) = \mathbf 1[x_{i:i+k-1} = z_c]$.
#    Every function of one window, in particular every $\chi_{W_j}$, is a linear function of the
#    $P \cdot 2^k$ hidden units, and gradient descent on the readout (a convex problem) learns
#    $\mathcal L_{n,k}$ in time and samples polynomial in $n$ and $2^k$. Malach and Shalev-Shwartz
#    prove that gradient descent on a CNN learns this class in time polynomial in $n$ and $2^k$
#    {cite}`malach2020computational`.
# 2. *(Fully connected.)* Let $f_\theta$ be a fully connected network whose initialisation law is
#    invariant under permuting the input coordinates (for instance i.i.d. first-layer weights). Run
#    $\tau$-approximate gradient descent for $T$ steps, with $B$ as in
#    {prf:ref}`thm-ch04-gd-needs-approx` for every initialisation (a bound that holds almost surely;
#    otherwise replace $B^2$ by its expectation over the initialisation). Then for every $j$ and $0 < \alpha < 1$, with probability at
#    least $1 - (T p B^2/\tau^2 + 1/\alpha^2) / \binom nk$ over the initialisation, the run on
#    $\chi_{W_j}$ can end with loss at least $(1 - \alpha^2)/2$.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch for part 1: it skips the sample-complexity bound of least squares and the paper's
# analysis of training the filters too.)* (1) The indicator form: $z_c \cdot z = k$ if $z = z_c$ and
# $\le k - 2$ otherwise. A function $g$ of the window at $j$ is $\sum_c g(z_c)\, \mathbf 1[x_{W_j} = z_c]$,
# a readout supported on row $j$. Least squares over $P 2^k$ bounded features is learned by gradient
# descent with polynomially many samples and steps.
#
# (2) For each initialisation $\theta_0$ let $\mathrm{Bad}(\theta_0)$ be the sets $S$, $|S| = k$, for which
# the blind run of {prf:ref}`thm-ch04-gd-needs-approx` is invalid or its output correlates more than
# $\alpha$ in absolute value with $\chi_S$; by that theorem, applied to the orthonormal family of all $k$-parities,
# $|\mathrm{Bad}(\theta_0)| \le T p B^2/\tau^2 + 1/\alpha^2$. A permutation $\pi$ of the coordinates maps
# the network with first-layer columns permuted to $x \mapsto f_\theta(\pi x)$, and the uniform
# distribution is permutation invariant, so blind trajectories commute with $\pi$ and
# $\mathrm{Bad}(\pi \theta_0) = \pi(\mathrm{Bad}(\theta_0))$. Since $\pi\theta_0$ has the same law as
# $\theta_0$, $\Pr[W_j \in \mathrm{Bad}(\theta_0)]$ is the same for every $k$-set (the permutations act
# transitively on them: the *orbit* of one local parity is all $k$-parities), hence equal to
# $\mathbb E|\mathrm{Bad}(\theta_0)| / \binom nk$.
# :::
#
# The CNN's advantage is not expressivity (a fully connected network of width $k$ computes the
# parity too, {prf:ref}`prop-ch01-parity-network`) but the symmetry of the learner: a fully connected
# network cannot prefer adjacent coordinates, so learning one local parity is as hard as learning
# every $k$-parity, the problem of {prf:ref}`thm-ch01-sq-lower-bound` with $\binom nk$ candidates. The
# CNN's weight sharing shrinks the candidates to $n - k + 1$ windows.
# %% [markdown]
# (sec-ch04-cnn-fc)=
# ## Experiment: CNN versus fully connected network, with controls
#
# The theorem makes three predictions that a single accuracy table cannot separate from a
# mere difference in budget, so we test each of them with its own control.
#
# 1. *Equivariance.* A fully connected network cannot tell a window from any other set of $k$
#    coordinates, so on a **non-local** $k$-parity of the same $n$ it should behave exactly as on
#    the local one: same time to learn, in law (the proof of part 2 above, with the non-local set
#    in place of $W_j$). Every function our CNN computes (one convolution, a ReLU, a linear
#    read-out over positions) is a constant plus a sum of functions of single windows; if no
#    window contains the support $S$, each of them misses a bit of $S$ and is orthogonal to
#    $\chi_S$. So whatever its weights, the CNN has zero correlation with a non-local
#    parity, and on it the CNN should fail however long it trains.
# 2. *Cost against $n$.* At fixed $k$ the CNN searches $n - k + 1$ windows, so its time to learn
#    should grow only mildly with $n$; the fully connected network pays for the whole orbit, and
#    its time should grow like $n^{k-1}$ (the Fourier gap of Chapter 1).
# 3. *Not a matter of width.* For $k$ large enough, widening the fully connected network (many
#    times the CNN's parameter count) should not rescue it.
#
# Both models are trained with the same online SGD (hinge loss, fresh batch every step, the same
# learning rate and number of steps) and PyTorch's default initialisation; in (1) and (2) they
# have the same width ($C = d$, so the same number of parameters). Each architecture is an
# ensemble of seeds trained as one (`ensemble.stack`; the CNN runs as a `FunctionalEnsemble`). A
# member counts as having *learned* the parity at the first evaluation (every 50 steps) where its
# test accuracy reaches $0.95$; it is then frozen (`stop_when`), and a member that never gets there
# is given the whole budget as its time (a censored time, plotted at the budget).

# %%
WIDTH, LR, BATCH = 16, 0.1, 32  # channels C = width d, learning rate, batch size
ACC_LEARNED, EVAL_SEP = (
    0.95,
    50,
)  # "learned": test accuracy >= 0.95, checked every 50 steps
print(f"width C = d = {WIDTH}, learning rate {LR}, batch {BATCH}")
notebook.glue("sep_width", WIDTH)
notebook.glue("acc_learned", ACC_LEARNED)


def online_batches(task, batch=BATCH):
    """batches(step, generator) for train.fit: fresh examples at every step."""
    return lambda step, gen: task.sample(batch, generator=gen)


def accuracy_metric(task, m_test=1000, seed=123):
    """evaluate(model) for train.fit: per-member test accuracy of sign(f)."""
    x, y = task.sample(m_test, generator=cfg.generator(seed))
    return lambda model: {"acc": ((model(x) * y) > 0).float().mean(1)}


def build(kind, n, k, width, seed):
    """A LocalCNN with window k and `width` channels, or a two-layer MLP of width `width`."""
    if kind == "CNN":
        return models.LocalCNN(n, k, width, seed=seed)
    return models.MLP(n, width, seed=seed)


def train_models(kind, task, k, members, steps, width=WIDTH, seed=0, stop=True):
    """Train `members` seeds of one architecture on `task` as one ensemble; return the History.

    With stop=True a member is frozen once its test accuracy reaches ACC_LEARNED.
    """
    net = ensemble.stack(
        [build(kind, task.n, k, width, seed + s) for s in range(members)]
    ).to(cfg.device)
    return train.fit(
        net,
        online_batches(task),
        steps=steps,
        loss="hinge",
        lr=LR,
        evaluate=accuracy_metric(task),
        eval_every=EVAL_SEP,
        stop_when=(lambda m: m["acc"] >= ACC_LEARNED) if stop else None,
        data_seed=cfg.seed,
        desc=f"{kind} n={task.n} S={task.support[0]}..{task.support[-1]}",
    )


def time_to_learn(hist, steps):
    """Per member: the step at which it first reached ACC_LEARNED, or `steps` if never."""
    t = hist.stop_steps().astype(float)
    return np.where(t < 0, steps, t)


def spread_parity(n, k):
    """A non-local k-parity of n bits: support 0, s, ..., (k-1)s with spacing s = n // k."""
    s = n // k
    assert (k - 1) * s + 1 > k, "no window of k bits may contain the whole support"
    return tasks.SparseParity(n, tuple(range(0, s * k, s)))


# %% [markdown]
# ### Local and non-local parities, and the time to learn against $n$
#
# At $k = 3$ both architectures learn within the budget at small $n$, so times can be compared.
# For each $n$ we train each architecture on a random local parity and on the evenly spread
# parity $\{0, s, 2s\}$, $s = \lfloor n/3 \rfloor$.

# %%
K_T = 3
ttl = {}  # (architecture, parity, n) -> time to learn per seed
acc_t = {}  # (architecture, parity, n) -> final test accuracy per seed
for n in NS_T:
    parities = {
        "local": tasks.random_local_parity(n, K_T, seed=cfg.seed + n),
        "non-local": spread_parity(n, K_T),
    }
    for kind in ("CNN", "FC"):
        for where, task in parities.items():
            h = train_models(kind, task, K_T, E_T, STEPS_T, seed=1000 * cfg.seed + n)
            ttl[kind, where, n] = time_to_learn(h, STEPS_T)
            acc_t[kind, where, n] = h.final("acc")
    print(
        f"n = {n:2d}: median (min-max) steps to learn over {E_T} seeds; "
        f"{STEPS_T} = not learned"
    )
    for kind in ("CNN", "FC"):
        for where in parities:
            t = ttl[kind, where, n]
            print(
                f"    {kind} on the {where:9s} parity: {np.median(t):6.0f} "
                f"({t.min():.0f}-{t.max():.0f}), "
                f"final accuracy up to {acc_t[kind, where, n].max():.2f}"
            )

# %% [markdown]
# ### Is the fully connected failure a matter of width?
#
# At $n =$ {glue:text}`n_w` and $k =$ {glue:text}`k_w` the orbit has $\binom{n}{k} =$
# {glue:text}`orbit_w:.2e` parities. We train the CNN of width {glue:text}`sep_width` and fully connected
# networks of increasing width on the same local parity, with the same number of steps.

# %%
task_w = tasks.random_local_parity(N_W, K_W, seed=cfg.seed + 7)
hist_w = {"CNN": train_models("CNN", task_w, K_W, E_W, STEPS_W, seed=2000)}
for w in WIDTHS_FC:
    hist_w[w] = train_models("FC", task_w, K_W, E_W, STEPS_W, width=w, seed=2000)
params_w = {w: models.count_params(models.MLP(N_W, w)) for w in WIDTHS_FC}
params_cnn_w = models.count_params(models.LocalCNN(N_W, K_W, WIDTH))
ttl_cnn_w = time_to_learn(hist_w["CNN"], STEPS_W)
print(
    f"n = {N_W}, k = {K_W}, window {task_w.support[0]}..{task_w.support[-1]}, "
    f"{STEPS_W} steps, {E_W} seeds"
)
print(
    f"    CNN, C = {WIDTH} ({params_cnn_w} parameters): steps to learn "
    f"{np.median(ttl_cnn_w):.0f} ({ttl_cnn_w.min():.0f}-{ttl_cnn_w.max():.0f}), "
    f"final accuracy {np.median(hist_w['CNN'].final('acc')):.2f} (median)"
)
for w in WIDTHS_FC:
    a = hist_w[w].final("acc")
    print(
        f"    FC, d = {w:4d} ({params_w[w]:6d} parameters): final accuracy median "
        f"{np.median(a):.2f} ({a.min():.2f}-{a.max():.2f})"
    )

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
series = [
    ("CNN", "local", plotting.COLORS[0], "-", "o"),
    ("CNN", "non-local", plotting.COLORS[0], ":", "x"),
    ("FC", "local", plotting.COLORS[1], "-", "s"),
    ("FC", "non-local", plotting.COLORS[1], "--", "D"),
]
for i, (kind, where, c, ls, mk) in enumerate(series):
    t = np.array([ttl[kind, where, n] for n in NS_T])  # (len(NS_T), E)
    med = np.median(t, 1)
    ax1.errorbar(
        np.array(NS_T) + 0.4 * (i - 1.5),  # side by side, not on top
        med,
        yerr=[med - t.min(1), t.max(1) - med],
        color=c,
        ls=ls,
        marker=mk,
        capsize=3,
        label=f"{kind}, {where} parity",
    )
ax1.axhline(STEPS_T, color="gray", ls=":", lw=1)
ax1.text(NS_T[0], STEPS_T * 1.03, "budget: not learned", fontsize=8, color="gray")
ax1.set(
    xlabel="input length n",
    ylabel="SGD steps to reach test accuracy 0.95",
    xticks=NS_T,
    ylim=(0, STEPS_T * 1.12),
    title=f"k = {K_T}: the FC net cannot tell local from non-local",
)
ax1.legend(fontsize=8, loc="center left")
h = hist_w["CNN"]
plotting.plot_band(
    ax2, h.step_array, h["acc"], label=f"CNN, C = {WIDTH}", color=plotting.COLORS[0]
)
for w, c in zip(WIDTHS_FC, plotting.COLORS[1:]):
    h = hist_w[w]
    plotting.plot_band(ax2, h.step_array, h["acc"], label=f"FC, d = {w}", color=c)
ax2.axhline(0.5, color="gray", ls=":", lw=1)
ax2.set(
    xlabel="SGD steps",
    ylabel="test accuracy (median, min-max)",
    ylim=(0.3, 1.02),
    title=f"n = {N_W}, k = {K_W}: no FC width learns it",
)
ax2.legend(fontsize=8)
reproduce.save_headline(fig)
plt.show()

# %%
med_t = {key: float(np.median(t)) for key, t in ttl.items()}
n_lo, n_hi = NS_T[0], NS_T[-1]
growth_cnn = med_t["CNN", "local", n_hi] / med_t["CNN", "local", n_lo]
growth_fc = med_t["FC", "local", n_hi] / med_t["FC", "local", n_lo]
fc_ratio = max(  # largest ratio between local and non-local median times, over n
    max(med_t["FC", "local", n], med_t["FC", "non-local", n])
    / min(med_t["FC", "local", n], med_t["FC", "non-local", n])
    for n in NS_T
)
cnn_spread_acc = max(float(acc_t["CNN", "non-local", n].max()) for n in NS_T)
fc_w_acc = max(float(hist_w[w].final("acc").max()) for w in WIDTHS_FC)
cnn_w_acc = float(np.median(hist_w["CNN"].final("acc")))
for name, value in [
    ("n_lo", n_lo),
    ("n_hi", n_hi),
    ("k_t", K_T),
    ("steps_t", STEPS_T),
    ("e_t", E_T),
    ("cnn_t_lo", med_t["CNN", "local", n_lo]),
    ("cnn_t_hi", med_t["CNN", "local", n_hi]),
    ("fc_t_lo", med_t["FC", "local", n_lo]),
    ("fc_t_hi", med_t["FC", "local", n_hi]),
    ("growth_cnn", growth_cnn),
    ("growth_fc", growth_fc),
    ("fc_ratio", fc_ratio),
    ("cnn_spread_acc", cnn_spread_acc),
    ("n_w", N_W),
    ("k_w", K_W),
    ("steps_w", STEPS_W),
    ("e_w", E_W),
    ("cnn_w_t", float(np.median(ttl_cnn_w))),
    ("cnn_w_acc", cnn_w_acc),
    ("fc_w_acc", fc_w_acc),
    ("fc_w_max", WIDTHS_FC[-1]),
    ("fc_w_params", params_w[WIDTHS_FC[-1]]),
    ("cnn_w_params", params_cnn_w),
    ("orbit_w", float(comb(N_W, K_W))),
    ("tp_tau", float(BATCH * STEPS_W * params_w[WIDTHS_FC[0]])),  # T p / tau^2
]:
    notebook.glue(name, value)

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("04_depth_and_learnability")

# %% [markdown]
# **What the run shows** (quick mode; the recorded figure above is the full run).
#
# - *Equivariance.* On the fully connected network the local and the non-local parity are the
#   same problem: at every $n$ the two median times to learn differ by a factor of at most
#   {glue:text}`fc_ratio:.2f`, within the seed-to-seed spread of either. The CNN, which learns every
#   local parity, never learns the non-local one: its best seed over all $n$ ends at test accuracy
#   {glue:text}`cnn_spread_acc:.2f`. On the non-local parity the fully connected network *beats* the
#   CNN. Locality, not convolution as such, is what the CNN exploits.
# - *Cost against $n$.* From $n =$ {glue:text}`n_lo` to $n =$ {glue:text}`n_hi` the CNN's median time
#   to learn goes from {glue:text}`cnn_t_lo:.0f` to {glue:text}`cnn_t_hi:.0f` steps (a factor
#   {glue:text}`growth_cnn:.1f`), the fully connected network's from {glue:text}`fc_t_lo:.0f` to
#   {glue:text}`fc_t_hi:.0f` (a factor of at least {glue:text}`growth_fc:.1f`; a time equal to the
#   budget of {glue:text}`steps_t` steps means "not learned", so this factor is a lower bound). The
#   prediction $n^{k-1}$ for $k =$ {glue:text}`k_t` is a factor
#   $($ {glue:text}`n_hi` $/$ {glue:text}`n_lo` $)^{k-1}$ over this range.
# - *Width.* At $n =$ {glue:text}`n_w`, $k =$ {glue:text}`k_w` the CNN with
#   {glue:text}`cnn_w_params` parameters learns the parity in a median of {glue:text}`cnn_w_t:.0f`
#   steps, while no fully connected network up to width {glue:text}`fc_w_max`
#   ({glue:text}`fc_w_params` parameters) gets a single seed above test accuracy
#   {glue:text}`fc_w_acc:.2f` in {glue:text}`steps_w` steps.
#
# Our fully connected networks are trained by SGD, not by the adversarial approximate gradient
# descent of the theorem, and at this scale the theorem's bound is not what stops them: with $\tau$
# of the order of the batch noise, $1/\sqrt{32}$, the count $T p / \tau^2$ is already
# {glue:text}`tp_tau:.1e` for the narrowest fully connected network of the width experiment, more
# than the {glue:text}`orbit_w:.2e` parities of the orbit (compare {ref}`Exercise <ex-ch04-orbit>`). The quantitative reason SGD needs so many
# steps is the Fourier gap of Chapter 1, of order $n^{-(k-1)/2}$ for the fully connected network;
# the orbit argument explains why no fully connected architecture can avoid paying for all
# $\binom nk$ candidates, and the equivariance control shows that it indeed pays the same on a
# window as on any other set.
#
# ## Depth separation can be algorithmic
#
# ### The separating function
#
# The classical depth separations between two and three layers use radial functions
# $f(x) = g(\|x\|)$ on $\mathbb R^n$: Eldan and Shamir {cite}`eldan2016power` showed that a certain radial function
# is computed by a small three-layer network but not approximated by any two-layer network of width
# sub-exponential in $n$; Safran, Eldan and Shamir {cite}`safran2019depth` showed a separation, under a suitable
# input distribution, for the simple Lipschitz target $f^\star(x) = \mathrm{ReLU}(1 - \|x\|)$: two-layer
# networks of polynomial size cannot approximate it beyond an accuracy that is inverse-polynomial in
# $n$, while three-layer networks approximate it to any accuracy with polynomial size (we do not
# reproduce their exact conditions and rates). Why three layers suffice is easy to see.


# %% [markdown]
# :::{prf:proposition} Three layers compute radial functions
# :label: prop-ch04-three-layer
#
# Let $G: [0, \infty) \to \mathbb R$ be $L$-Lipschitz, $R > 0$, and $h, \delta > 0$ with $R / h$ and
# $n R^2 / \delta$ integers. There is a three-layer ReLU network (two hidden layers) with
# $2n(R/h + 1)$ units in the first hidden layer and $n R^2 / \delta + 1$ in the second such that for
# all $x \in [-R, R]^n$
#
# $$ \big| f(x) - G(\|x\|^2) \big| \;\le\; L\Big(\frac{n h^2}{4} + \frac{\delta}{2}\Big). $$
#
# For $f^\star$, $G(s) = \mathrm{ReLU}(1 - \sqrt s)$ is not Lipschitz at $0$, but
# $G_\varepsilon(s) = \mathrm{ReLU}\big(1 - \sqrt{\max(s, \varepsilon^2)}\big)$ is
# $1/(2\varepsilon)$-Lipschitz and $|G_\varepsilon - G| \le \varepsilon$ everywhere (the two differ
# only for $s < \varepsilon^2$, by $\varepsilon - \sqrt s \le \varepsilon$). Applied to
# $G_\varepsilon$ with $n h^2 \le \varepsilon^2$ and $\delta \le \varepsilon^2$ (chosen to meet the
# integrality conditions), the proposition gives
# $|f(x) - \mathrm{ReLU}(1 - \|x\|)| \le \varepsilon + \tfrac{1}{2\varepsilon}\cdot\tfrac{3\varepsilon^2}{4}
# < 2\varepsilon$ on $[-R, R]^n$, with widths polynomial in $n$, $R$ and $1/\varepsilon$.
# :::


# %% [markdown]
# :::{prf:proof}
# *First layer.* Let $q$ be the piecewise-linear interpolant of $t \mapsto t^2$ at the knots
# $0, \pm h, \pm 2h, \dots, \pm R$. On $[0, R]$ its slope on $[lh, (l+1)h]$ is $(2l + 1) h$, so
# $q(t) = \sum_{l=0}^{R/h} c_l \big(\mathrm{ReLU}(t - lh) + \mathrm{ReLU}(-t - lh)\big)$ with $c_0 = h$,
# $c_l = 2h$ for $l \ge 1$: $2(R/h + 1)$ units per coordinate. Interpolating a convex function from above
# on intervals of length $h$ gives $0 \le q(t) - t^2 \le \max_{a \le t \le a+h}(t-a)(a+h-t) = h^2/4$.
# So $r(x) = \sum_i q(x_i)$, a linear function of the first layer, satisfies
# $\|x\|^2 \le r(x) \le \|x\|^2 + n h^2/4$ and $r(x) \le n R^2$.
#
# *Second layer.* Let $\hat G$ be the piecewise-linear interpolant of $G$ at $0, \delta, \dots, nR^2$:
# $\hat G(s) = G(0) + \sum_l \Delta_l\, \mathrm{ReLU}(s - l\delta)$, with $\Delta_l$ the changes of slope
# (the first one is the initial slope; $\mathrm{ReLU}(s) = s$ for $s = r(x) \ge 0$). Its units
# $\mathrm{ReLU}(r(x) - l\delta)$ take the linear function $r$ of the first layer as input. For
# $L$-Lipschitz $G$, $|\hat G - G| \le L\delta/2$ on $[0, nR^2]$ (at $s \in [a, a+\delta]$ the error
# is at most $2L(s-a)(a + \delta - s)/\delta$). Then
# $|\hat G(r(x)) - G(\|x\|^2)| \le L\delta/2 + L\, n h^2/4$.
# :::
#
# We build this network as an `lmt_core` MLP with two hidden layers for a target that oscillates in
# the radius, $G(s) = \sin(\omega s)$, on $\mathbb R^4$, and measure its error on Gaussian inputs.


# %%
def radial_target(x, omega=1.0):
    """The radial target sin(omega ||x||^2)."""
    return torch.sin(omega * x.pow(2).sum(-1))


def three_layer_radial(n, G, R, h, delta):
    """The network of the proposition as models.MLP(n, width, depth=2): first layer ~ x_i^2, second ~ G(||x||^2)."""
    knots1 = torch.arange(0, R + h / 2, h)  # lh, l = 0..R/h
    c = torch.full_like(knots1, 2 * h)
    c[0] = h
    knots2 = torch.arange(0, n * R**2 + delta / 2, delta)  # l delta, l = 0..nR^2/delta
    Gk = G(knots2)
    slopes = torch.diff(Gk) / delta
    Delta = torch.cat(
        [slopes[:1], torch.diff(slopes)]
    )  # changes of slope at knots2[:-1]
    m1, m2 = 2 * n * len(knots1), len(knots2) - 1
    net = models.MLP(n, max(m1, m2), depth=2)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        W1, b1 = (
            net.layers[0].weight,
            net.layers[0].bias,
        )  # unit (i, sign, l): ReLU(sign * x_i - lh)
        for i in range(n):
            for s_idx, sign in enumerate((1.0, -1.0)):
                rows = slice(
                    (2 * i + s_idx) * len(knots1), (2 * i + s_idx + 1) * len(knots1)
                )
                W1[rows, i] = sign
                b1[rows] = -knots1
        coef_r = c.repeat(2 * n)  # r(x) = sum over units of c_l * unit
        net.layers[1].weight[:m2, :m1] = coef_r  # second layer: ReLU(r(x) - l delta)
        net.layers[1].bias[:m2] = -knots2[:-1]
        net.layers[2].weight[0, :m2] = Delta
        net.layers[2].bias.fill_(float(Gk[0]))
    return net


N_RAD, OMEGA = 4, 1.0
H_KNOT, DELTA = 0.1, 0.1
hand = three_layer_radial(
    N_RAD, lambda s: torch.sin(OMEGA * s), R=4.0, h=H_KNOT, delta=DELTA
)
x_test_rad = torch.randn(5000, N_RAD, generator=cfg.generator(7))
inside = (x_test_rad.abs() <= 4.0).all(1)
with torch.no_grad():
    err_hand = (hand(x_test_rad) - radial_target(x_test_rad, OMEGA))[inside].abs()
bound_hand = OMEGA * (N_RAD * H_KNOT**2 / 4 + DELTA / 2)  # L = omega for sin(omega s)
print(
    f"hand-built 3-layer net (widths {hand.width}, {hand.width}): max error {err_hand.max():.4f} on "
    f"{int(inside.sum())} Gaussian points in [-4, 4]^{N_RAD}; the proposition's bound {bound_hand:.4f}"
)
notebook.glue("hand_err", float(err_hand.max()))
notebook.glue("hand_bound", bound_hand)
# %% [markdown]
# The largest error is {glue:text}`hand_err:.4f`, within the proposition's bound
# {glue:text}`hand_bound:.4f`.
#
# ### Learning it: Ren, Zhou and Ge
#
# Expressing a function is not learning it ({prf:ref}`thm-ch04-myss`). For this target the
# separation is algorithmic.

# %% [markdown]
# :::{prf:theorem} Three-layer mean-field networks learn the separating function (informal; labelled paraphrase of Ren, Zhou and Ge 2023)
# :label: thm-ch04-rzg
#
# For the target $f^\star(x) = \mathrm{ReLU}(1 - \|x\|)$ on $\mathbb R^n$ under the input distribution of
# Safran, Eldan and Shamir, and every $\varepsilon > 0$, an over-parameterised three-layer network in a
# mean-field parameterisation, with a number of neurons polynomial in $n$ and $1/\varepsilon$,
# trained by a variant of gradient flow (in two stages, with projections) for a time polynomial in $n$
# and $1/\varepsilon$, reaches square loss at most $\varepsilon$ {cite}`ren2023depth`. By contrast,
# two-layer networks of polynomial size cannot reach this accuracy for small enough
# inverse-polynomial $\varepsilon$: that half is the approximation lower bound of Safran, Eldan and
# Shamir {cite}`safran2019depth`, not a result of {cite}`ren2023depth`.
# :::
#
# What we could check against the paper's text is the target, the depth-separation claim and the
# "any desired accuracy" guarantee; the description of the training procedure (two stages, with
# projections) and the polynomial dependences are as we understand the paper and were not checked
# line by line.

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch. It names the steps of the paper's argument and skips all of them: the multilayer
# mean-field limit, the discretisation bounds and the dynamics of each stage.)* The paper extends the
# mean-field description, in which each layer is a distribution over neurons, to three layers in a
# way that lets every layer move far from its initialisation. It decomposes the loss into the error
# of discretising the infinite-width network with polynomially many neurons and the loss the network
# would have *if its first layer represented the right feature exactly* — here $\|x\|^2$, as in
# {prf:ref}`prop-ch04-three-layer`. Training proceeds in two stages: in the first the lower layers
# learn to represent the norm (a quadratic, which the mean-field dynamics can find); in the second the
# top layers fit the one-dimensional function of the norm, a well-behaved two-layer problem in one
# input. Both stages take polynomial time, and the discretisation error is polynomially small.
# :::
# %% [markdown]
# (sec-ch04-depth-experiment)=
# ### Experiment: the separating function, three layers against two as $n$ grows
#
# We test the phenomenon behind {prf:ref}`thm-ch04-rzg` on its own target,
# $f^\star(x) = \mathrm{ReLU}(1 - \|x\|)$, with inputs $x \sim \mathcal N(0, I_n / n)$, so that
# $\|x\|^2$ has mean $1$ and standard deviation $\sqrt{2/n}$: the kink of $f^\star$ sits in the
# middle of the data, at every $n$. (This is our choice of a distribution concentrated near the
# unit sphere; we could not check the exact distribution of Safran, Eldan and Shamir, and we do
# not use the paper's mean-field parameterisation or its two-stage training: both depths are
# trained with plain Adam.) For each $n$ we train three-layer networks (two hidden layers of width
# $w = 4n$, a width the construction of {prf:ref}`prop-ch04-three-layer` needs to grow with $n$)
# and two-layer networks with the same number of parameters, on fresh samples and the square
# loss, and measure the test error relative to the variance of $f^\star$.
#
# What should a two-layer network reach? A sum of ridge functions $\sigma(w_j \cdot x + b_j)$
# represents the quadratic $\|x\|^2$ with $O(n)$ units, hence every affine function of $\|x\|^2$; the
# rest of $f^\star$ lives in higher powers of $\|x\|^2$, which are polynomials of degree $4$ and more
# in $x$ and need of order $n^2$ ridge functions and more. The fraction of $\mathrm{Var}(f^\star)$
# that no affine function of $\|x\|^2$ explains, $\rho_1(n)$, is therefore a natural plateau for a
# two-layer network. As $n \to \infty$ it tends to $(\pi - 2)/(2(\pi - 1)) \approx 0.27$
# ({ref}`Exercise <ex-ch04-relu-target>`). The three-layer network only needs $\|x\|^2$ in its first
# layer and one ReLU of it in the second. The comparison, fixed before the run: at the largest
# $n$, the three-layer networks' median relative error is at most half the two-layer median and
# their ranges over seeds do not overlap; and the two-layer median does not improve from the
# smallest to the largest $n$, although its parameter budget grows like $n^2$.

# %%
LR_RAD, BATCH_RAD, M_TEST_RAD = 1e-2, 256, 10000
W_PER_N = 4  # three-layer width w = 4n


def relu_target(x):
    """The separating function ReLU(1 - ||x||)."""
    return torch.relu(1 - x.norm(dim=-1))


def concentrated_inputs(m, n, generator):
    """m points of N(0, I_n / n): ||x||^2 has mean 1 and standard deviation sqrt(2 / n)."""
    return torch.randn(m, n, generator=generator, device=generator.device) / math.sqrt(
        n
    )


def affine_floor(x, y, degree):
    """Fraction of Var(y) left by the best polynomial of degree `degree` in s = ||x||^2."""
    s = x.double().pow(2).sum(1)
    A = torch.stack([s**j for j in range(degree + 1)], 1)
    coef = torch.linalg.lstsq(A, y.double()[:, None]).solution
    return float((y.double() - (A @ coef)[:, 0]).var() / y.double().var())


def equal_budget_width(n, w):
    """Width of a two-layer net with as many parameters as a three-layer net of width w."""
    return round(w * (n + w + 3) / (n + 2))


rad_runs = {}  # n -> {"3 layers": History, "2 layers": History}
rad_nets, rad_tests, rho1, rho2, rad_params = {}, {}, {}, {}, {}
for n in NS_RAD:
    x_t = concentrated_inputs(M_TEST_RAD, n, cfg.generator(7))
    f_t = relu_target(x_t)
    mu, sd = float(f_t.mean()), float(f_t.std())
    y_t = (f_t - mu) / sd  # standardised: the test MSE is the error relative to Var(f*)
    rad_tests[n] = (x_t, f_t, mu, sd)
    rho1[n], rho2[n] = affine_floor(x_t, f_t, 1), affine_floor(x_t, f_t, 2)
    w3 = W_PER_N * n
    d2 = equal_budget_width(n, w3)
    builders = {
        "3 layers": lambda s: models.MLP(n, w3, depth=2, seed=s),
        "2 layers": lambda s: models.MLP(n, d2, seed=s),
    }
    rad_params[n] = {k: models.count_params(b(0)) for k, b in builders.items()}

    def batches(step, gen, n=n, mu=mu, sd=sd):
        x = concentrated_inputs(BATCH_RAD, n, gen)
        return x, (relu_target(x) - mu) / sd

    def rel_mse(model, x_t=x_t, y_t=y_t):
        return {"rel_mse": (model(x_t) - y_t).pow(2).mean(1)}

    rad_runs[n], rad_nets[n] = {}, {}
    for name, b in builders.items():
        net = ensemble.stack([b(100 * cfg.seed + s) for s in range(E_RAD)])
        rad_nets[n][name] = net.to(cfg.device)
        rad_runs[n][name] = train.fit(
            rad_nets[n][name],
            batches,
            steps=STEPS_RAD,
            loss="mse",
            optimizer="adam",
            lr=LR_RAD,
            lr_schedule=lambda t: 0.5 * (1 + math.cos(math.pi * t / STEPS_RAD)),
            evaluate=rel_mse,
            eval_every=STEPS_RAD // 10,
            data_seed=cfg.seed,
            desc=f"{name}, n={n}",
        )
    print(
        f"n = {n:2d} (rho_1 = {rho1[n]:.3f}, rho_2 = {rho2[n]:.3f}): test MSE / Var(f*) per seed"
    )
    for name, h in rad_runs[n].items():
        print(
            f"    {name} ({rad_params[n][name]} parameters): "
            + " ".join(f"{v:.3f}" for v in h.final("rel_mse"))
        )

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for name, c, mk in (
    ("3 layers", plotting.COLORS[0], "o"),
    ("2 layers", plotting.COLORS[1], "s"),
):
    r = np.array(
        [rad_runs[n][name].final("rel_mse") for n in NS_RAD]
    )  # (len(NS_RAD), E)
    med = np.median(r, 1)
    ax1.errorbar(
        NS_RAD,
        med,
        yerr=[med - r.min(1), r.max(1) - med],
        color=c,
        marker=mk,
        capsize=3,
        label=f"{name} (median, min-max)",
    )
ax1.plot(NS_RAD, [rho1[n] for n in NS_RAD], "k--", lw=1, label=r"$\rho_1(n)$")
ax1.axhline((math.pi - 2) / (2 * (math.pi - 1)), color="gray", ls=":", lw=1)
ax1.text(NS_RAD[0], 0.29, r"$(\pi-2)/(2(\pi-1))$", fontsize=8, color="gray")
ax1.set(
    xlabel="input dimension n",
    ylabel=r"test MSE / Var$(f^\star)$",
    yscale="log",
    xticks=NS_RAD,
    title="Equal budgets: two layers plateau, three do not",
)
ax1.legend(fontsize=8)
n_show = NS_RAD[-1]
x_t, f_t, mu, sd = rad_tests[n_show]
r_t = x_t.norm(dim=1)
order = torch.argsort(r_t)[::5]  # every 5th test point, by radius
with torch.no_grad():
    for (name, net), c in zip(rad_nets[n_show].items(), plotting.COLORS):
        out = net(x_t[order])[0] * sd + mu
        ax2.scatter(r_t[order], out, s=3, alpha=0.4, color=c, label=f"{name} (seed 0)")
ax2.plot(r_t[order], f_t[order], "k", lw=1.2, label=r"$\mathrm{ReLU}(1 - \|x\|)$")
ax2.set(
    xlabel=r"$\|x\|$",
    ylabel="network output",
    title=f"n = {n_show}: what each depth learned",
)
ax2.legend(fontsize=8, markerscale=4)
plt.show()

# %%
med_rad = {
    (n, name): float(np.median(rad_runs[n][name].final("rel_mse")))
    for n in NS_RAD
    for name in ("3 layers", "2 layers")
}
n_rad_lo, n_rad_hi = NS_RAD[0], NS_RAD[-1]
max3_hi = float(rad_runs[n_rad_hi]["3 layers"].final("rel_mse").max())
min2_hi = float(rad_runs[n_rad_hi]["2 layers"].final("rel_mse").min())
stalled = sum(  # three-layer runs that ended no better than half the best two-layer run
    int((rad_runs[n]["3 layers"].final("rel_mse") > 0.5 * min2).sum())
    for n in NS_RAD
    for min2 in [float(rad_runs[n]["2 layers"].final("rel_mse").min())]
)
for name, value in [
    ("n_rad_lo", n_rad_lo),
    ("n_rad_hi", n_rad_hi),
    ("e_rad", E_RAD),
    ("mse3_lo", med_rad[n_rad_lo, "3 layers"]),
    ("mse3_hi", med_rad[n_rad_hi, "3 layers"]),
    ("mse2_lo", med_rad[n_rad_lo, "2 layers"]),
    ("mse2_hi", med_rad[n_rad_hi, "2 layers"]),
    ("max3_hi", max3_hi),
    ("min2_hi", min2_hi),
    ("stalled", stalled),
    ("runs3", E_RAD * len(NS_RAD)),
    ("rho1_hi", rho1[n_rad_hi]),
    ("rho2_hi", rho2[n_rad_hi]),
    ("p3_hi", rad_params[n_rad_hi]["3 layers"]),
    ("p2_hi", rad_params[n_rad_hi]["2 layers"]),
]:
    notebook.glue(name, value)

# %% [markdown]
# At $n =$ {glue:text}`n_rad_hi`, with {glue:text}`p3_hi` parameters for the three-layer networks and
# {glue:text}`p2_hi` for the two-layer ones, the three-layer median relative error is
# {glue:text}`mse3_hi:.3f` (worst of {glue:text}`e_rad` seeds {glue:text}`max3_hi:.3f`) and the
# two-layer median {glue:text}`mse2_hi:.3f` (best seed {glue:text}`min2_hi:.3f`). From
# $n =$ {glue:text}`n_rad_lo` to $n =$ {glue:text}`n_rad_hi` the two-layer median goes from
# {glue:text}`mse2_lo:.3f` to {glue:text}`mse2_hi:.3f`, although its width grows with $n$: it
# approaches the affine plateau ($\rho_1 =$ {glue:text}`rho1_hi:.3f` at the largest $n$, tending to
# $0.27$) from below, i.e. it learns little beyond an affine function of $\|x\|^2$. The three-layer
# median goes from {glue:text}`mse3_lo:.3f` to {glue:text}`mse3_hi:.3f`. The right panel shows the
# difference: the three-layer outputs follow the kink of $\mathrm{ReLU}(1 - \|x\|)$, the two-layer
# outputs a smooth curve through it, spread at each radius. Not every three-layer run succeeds:
# {glue:text}`stalled` of the {glue:text}`runs3` three-layer runs (all $n$ together) ended no better
# than half the best two-layer run at their $n$, stuck near the two-layer level; the comparison
# above is over all seeds, failures included.
#
# What this does and does not show. It shows, at equal and polynomially growing budgets, the
# pattern of {prf:ref}`thm-ch04-rzg` and of Safran, Eldan and Shamir's lower bound: gradient-based
# training of a three-layer network finds the separating function to an error well below the level
# at which two-layer networks stall. It does not show the asymptotic statements: our $n$ stops at
# {glue:text}`n_rad_hi`, the three-layer error is not driven to an arbitrary $\varepsilon$ (it is
# limited by our finite width and step budget, and it grows slowly with $n$ at $w = 4n$), the
# two-layer plateau is that of *trained* networks (we do not certify that no two-layer network of
# this size does better: at these sizes the lower bound is not in force), and neither the
# distribution nor the training algorithm is the paper's.
#
# ## Checks
#
# Every comparison below was fixed before the runs it checks; the training-dependent ones go
# through `reproduce.check` or `reproduce.report` (skipped, and said so, in the capped smoke test).

# %%
# Random features: the exact average squared correlation obeys the Bessel bound, and decays with k.
ratio_to_bound = max(v / ((N + 1) / comb(N_RF, k)) for (N, k), v in corr2.items())
falls_with_k = all(corr2[N, k] < corr2[N, k - 1] for (N, k) in corr2 if k >= 2)
reproduce.report(
    "malach2021connection",
    claim="a family that gradient descent learns efficiently must be weakly approximable by "
    "polynomially many (random or tangent) features; random features of polynomial size "
    "correlate only weakly with parities of growing degree, which are therefore not learnable",
    paper_value="no polynomial-size random-feature class weakly approximates parities "
    "of degree omega(1)",
    value=corr2[64, 6],
    assertion="exact mean squared correlation of N = 16, 64, 256 random ReLU features with the "
    "k-parities of n = 12 bits falls strictly with k = 1..7 (value: N = 64, k = 6)",
    passed=falls_with_k,
    status="partly",
    section="sec-ch04-random-features",
)
reproduce.report(
    "malach2022hardness",
    claim="a spread class (e.g. k-parities, spread 1/C(n,k)) is hard to approximate by any "
    "linear class of small dimension and hard to learn with few correlation queries",
    paper_value="mean squared projection on a q-dimensional space at most q times the spread",
    value=ratio_to_bound,
    assertion="for N = 16, 64, 256 random ReLU features (plus a constant) and k = 1..7 on n = 12, "
    "the exact mean over |S| = k of ||P_V chi_S||^2 is at most (N + 1)/C(12, k) "
    "(value: largest ratio to the bound)",
    passed=ratio_to_bound <= 1 + 1e-9,
    status="partly",
    section="sec-ch04-random-features",
)

# %%
# CNN vs FC, the mechanism controls (k = 3).
reproduce.check(
    all(med_t["CNN", "local", n] < STEPS_T for n in NS_T),
    "the median CNN learns the local 3-parity within the budget at every n",
)
reproduce.check(
    cnn_spread_acc <= 0.6,
    f"no CNN seed exceeds test accuracy 0.6 on the non-local parity (best {cnn_spread_acc:.2f})",
)
reproduce.check(
    fc_ratio <= 2.0,
    "the FC net's median times to learn the local and the non-local parity agree within a "
    f"factor 2 at every n (largest ratio {fc_ratio:.2f})",
)
reproduce.check(
    growth_fc >= 4.0 and growth_cnn <= 2.5,
    f"from n = {n_lo} to {n_hi} the FC net's median time grows by a factor >= 4 "
    f"({growth_fc:.1f}) and the CNN's by <= 2.5 ({growth_cnn:.1f})",
)
# CNN vs FC, the headline: k = 7, FC failure robust to the width.
reproduce.report(
    "malach2020computational",
    claim="a CNN learns k-local parities (k-patterns) efficiently with gradient descent, while "
    "fully connected networks, being invariant to permutations of the input, cannot learn them "
    "in polynomial time",
    paper_value="CNN near 100% test accuracy, fully connected network near chance",
    value=f"n={N_W}, k={K_W}: CNN (C={WIDTH}) median accuracy {cnn_w_acc:.2f}; best FC seed "
    f"over widths {WIDTHS_FC[0]}..{WIDTHS_FC[-1]} {fc_w_acc:.2f}",
    assertion=f"local 7-parity of 40 bits, same SGD and steps: the median CNN of width {WIDTH} "
    f"reaches test accuracy {ACC_LEARNED} within the budget, no seed of an FC net of any width "
    f"in {WIDTHS_FC} exceeds 0.6; controls at k = 3 (checked above): FC times on a local and a "
    "non-local parity within a factor 2, CNN <= 0.6 on the non-local one, FC time growing >= 4x "
    "and CNN time <= 2.5x from the smallest to the largest n",
    passed=bool(np.median(ttl_cnn_w) < STEPS_W) and fc_w_acc <= 0.6,
    status="reproduced",
    section="sec-ch04-cnn-fc",
)

# %%
# Depth: the hand-built three-layer network is within the proposition's bound.
assert float(err_hand.max()) <= bound_hand
# Two layers plateau as n (and the budget) grow.
reproduce.check(
    med_rad[n_rad_hi, "2 layers"] >= med_rad[n_rad_lo, "2 layers"],
    f"the two-layer median relative error does not fall from n = {n_rad_lo} to n = {n_rad_hi}",
)
# Three layers beat two at equal budget at the largest n.
reproduce.report(
    "ren2023depth",
    claim="three-layer networks trained by (mean-field) gradient descent learn ReLU(1 - ||x||), "
    "which two-layer networks of polynomial size cannot approximate",
    paper_value="three layers reach any epsilon in polynomial time; two layers cannot",
    value=f"n={n_rad_hi}: 3 layers {med_rad[n_rad_hi, '3 layers']:.3f} "
    f"(max {max3_hi:.3f}), 2 layers {med_rad[n_rad_hi, '2 layers']:.3f} (min {min2_hi:.3f})",
    assertion=f"ReLU(1 - ||x||), x ~ N(0, I_n / n), n in {NS_RAD}, Adam, equal parameter "
    "counts (3 layers of width 4n): at the largest n the median relative test MSE of the "
    "3-layer nets is <= half the 2-layer median and every 3-layer seed is below every 2-layer "
    "seed; the 2-layer median does not fall from the smallest to the largest n",
    passed=med_rad[n_rad_hi, "3 layers"] <= 0.5 * med_rad[n_rad_hi, "2 layers"]
    and max3_hi < min2_hi,
    status="partly",
    section="sec-ch04-depth-experiment",
)
print("all checks passed")
# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change $n$, $k$, the width (channels $=$ hidden units) and the number of steps, and compare the
# CNN with the fully connected network of the same size; untick `local` to train both on the
# spread parity $\{0, s, 2s, \dots\}$ instead. The sliders re-run two seeds of each (in a static
# build of the book, this shows the default setting).


# %%
def explore_separation(n=32, k=4, width=16, steps=1000, local=True):
    """Train 2 CNNs and 2 FC networks of equal size on a local or a spread k-parity."""
    k = min(k, n)
    if local or n // k < 2:  # a spread parity needs spacing n // k >= 2
        task = tasks.random_local_parity(n, k, seed=n + k)
    else:
        task = spread_parity(n, k)
    hists = {
        kind: train_models(kind, task, k, 2, steps, width=width, seed=500, stop=False)
        for kind in ("CNN", "FC")
    }
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for (name, h), c in zip(hists.items(), plotting.COLORS):
        ax.plot(h.step_array, h["acc"], color=c, lw=1)
        ax.plot([], [], color=c, label=f"{name} (2 seeds)")
    ax.axhline(0.5, color="gray", ls=":", lw=1)
    ax.set(
        xlabel="SGD steps",
        ylabel="test accuracy",
        ylim=(0.3, 1.02),
        title=f"n={n}, k={k}, support {task.support}, width={width}",
    )
    ax.legend()
    plt.show()


notebook.explore(
    explore_separation,
    n=(32, (8, 96, 4)),
    k=(4, (2, 7, 1)),
    width=(16, (4, 64, 4)),
    steps=(1000, (200, 4000, 200)),
    local=(True, True),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} The orbit of a local parity
# :label: ex-ch04-orbit
#
# Show that the permutations of the $n$ coordinates map $\chi_{W_j}$ onto every parity of size $k$, and
# that they do not preserve the class $\mathcal L_{n,k}$ of local parities. For $n = 48$ and $k = 5$,
# compare the number of candidates a fully connected network faces with the number a CNN faces, and
# use {prf:ref}`cor-ch01-sq` to say what an SQ learner of all $5$-parities of $48$ bits needs.
# Which part of the CNN breaks the permutation symmetry? *Difficulty: ★☆☆, about 15 min.*
# :::
#
# :::{solution} ex-ch04-orbit
# :class: dropdown
#
# A permutation $\pi$ maps $\chi_S$ to $\chi_{\pi(S)}$, and for any two sets $S, S'$ of size $k$ some
# permutation maps $S$ to $S'$; so the orbit of $\chi_{W_j}$ is all $\binom nk$ parities of size $k$.
# Most of them are not windows (for $k \ge 2$, e.g. $\{1, 3, \dots\}$), so $\mathcal L_{n,k}$ is not
# preserved. For $n = 48$, $k = 5$: $\binom{48}{5} = 1\,712\,304$ candidates against $44$ windows.
# {prf:ref}`cor-ch01-sq` gives $q \ge N^{1/3}/2 \approx 60$ queries or tolerance $\tau < N^{-1/3} \approx 0.008$;
# {prf:ref}`thm-ch01-sq-lower-bound` itself says $q \ge (N-1)\tau^2$, about $5 \times 10^4$ queries at
# the batch-noise tolerance $\tau = 1/\sqrt{32}$. A width-16 fully connected network on 48 bits has
# $p = 16 \cdot 50 + 1 = 801$ parameters, so $T = 1500$ SGD steps would ask $T p \approx 1.2 \times 10^6$
# queries: the worst-case bound alone does not forbid success at this scale, and the failures in
# the chapter's experiments come from SGD's weak signal (Chapter 1), not from an adversary. The weight sharing breaks the symmetry: the same
# filter is applied to *contiguous* windows, so the CNN's function class is preserved only by
# shifts (and reflections), not by arbitrary permutations.
# :::
#
# :::{exercise} A CNN for any function of one window
# :label: ex-ch04-pattern-cnn
#
# Write `window_function_cnn(n, k, start, values)` that returns a `LocalCNN(n, k, channels=2**k)` computing
# $g(x_{W})$ on $\{-1,+1\}^n$, for the window $W$ at `start` and any $g: \{-1,+1\}^k \to \mathbb R$ given
# by `values`, a tensor of length $2^k$ whose entry $r$ is $g$ at the pattern `tasks.hypercube(k)[r]`.
# Use the pattern detectors of {prf:ref}`thm-ch04-cnn-fc`. Test it with
# `check_window_cnn(window_function_cnn)`, defined below. Why does this show that learning the readout
# alone is a convex problem that contains every local parity? *Difficulty: ★★☆, about 20 min.*
# :::


# %%
def check_window_cnn(fn, n=9, k=3, trials=3, seed=0):
    """Compare fn(n, k, start, values) with g(x[start:start+k]) on all of {±1}^n for random g and starts."""
    g = torch.Generator().manual_seed(seed)
    x, patterns = tasks.hypercube(n), tasks.hypercube(k)
    for _ in range(trials):
        start = int(torch.randint(0, n - k + 1, (1,), generator=g))
        values = torch.randn(2**k, generator=g)
        net = fn(n, k, start, values)
        if not isinstance(net, models.LocalCNN) or net.channels != 2**k:
            print(f"expected a LocalCNN with 2^k = {2**k} channels, got {net!r}")
            return False
        with torch.no_grad():
            out = net(x)
        idx = (
            (x[:, start : start + k].unsqueeze(1) == patterns).all(-1).float().argmax(1)
        )  # pattern index of each window
        want = values[idx]
        wrong = (out - want).abs() > 1e-4
        if wrong.any():
            i = int(torch.nonzero(wrong)[0])
            print(
                f"start {start}: wrong on {int(wrong.sum())} of {len(x)} inputs, e.g. window "
                f"{x[i, start : start + k].tolist()}: output {out[i]:.4f}, expected {want[i]:.4f}"
            )
            if (out - out.mean()).abs().max() < 1e-6:
                print("the output is constant: check the readout row of the window")
            return False
    print(f"correct on all 2^{n} inputs for {trials} random functions g and windows")
    return True


# %% [markdown]
# :::{solution-start} ex-ch04-pattern-cnn
# :class: dropdown
# :::
#
# Filter $c$ is the pattern $z_c$ with bias $1 - k$, so its unit is $\mathbf 1[x_{i:i+k-1} = z_c]$; the
# readout row at `start` holds the values $g(z_c)$, all other rows and the output bias are $0$. The
# network is then $\sum_c g(z_c) \mathbf 1[x_W = z_c] = g(x_W)$. With the filters fixed this way,
# every function of every window is a linear function of the $P \cdot 2^k$ hidden units, so fitting the
# readout by least squares (a convex problem) finds any local parity.


# %%
def window_function_cnn(n, k, start, values):
    """LocalCNN with the 2^k pattern detectors as filters, reading g(window at start) from `values`."""
    net = models.LocalCNN(n, k, channels=2**k)
    with torch.no_grad():
        net.filters.copy_(tasks.hypercube(k))  # filter c = pattern c
        net.bias.fill_(1.0 - k)  # ReLU(z_c . z + 1 - k) = 1[z = z_c]
        net.readout.zero_()[start] = values
        net.out_bias.zero_()
    return net


def window_function_cnn_no_bias(n, k, start, values):
    """A known-wrong answer: filter biases 0 instead of 1 - k (units are not indicators)."""
    net = window_function_cnn(n, k, start, values)
    with torch.no_grad():
        net.bias.zero_()
    return net


assert check_window_cnn(window_function_cnn)
assert not check_window_cnn(
    window_function_cnn_no_bias
)  # wrong: ReLU(z_c . z), no 1[.]

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} The Bessel bound is tight
# :label: ex-ch04-bessel
#
# (a) Prove that for every linear space $V$ of functions on $\{-1,+1\}^n$ with $\dim V = N$,
# $\binom nk^{-1} \sum_{|S| = k} \|P_V \chi_S\|^2 \le N / \binom nk$. (b) Find a space $V$ of dimension
# $N \le \binom nk$ for which equality holds, and one for which the left side is $0$. (c) In the
# random-feature computation above, the average squared correlation is far below the bound for large
# $k$. Explain why: where does the Fourier weight of a ReLU feature sit? *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch04-bessel
# :class: dropdown
#
# (a) This is part 1 of {prf:ref}`thm-ch04-hardness` with $\varepsilon = \binom nk^{-1}$: with an
# orthonormal basis $e_1, \dots, e_N$ of $V$,
# $\sum_{|S| = k} \|P_V \chi_S\|^2 = \sum_j \sum_{|S| = k} \hat e_j(S)^2 \le \sum_j \|e_j\|^2 = N$ by
# Parseval ({prf:ref}`lem-ch01-parseval`). (b) Equality: $V$ spanned by $N$ parities of size $k$, each
# in $V$ (squared correlation $1$) and the others orthogonal to $V$. Zero: $V$ spanned by parities of
# other sizes. (c) Equality in (a) needs each $e_j$ to have all its Fourier weight on degree $k$. A
# ReLU feature of $w \cdot x / \sqrt n$ has most of its weight on low degrees (its Fourier weight on
# degree $m$ decays with $m$, as for the majority function in Chapter 1), so only a small part of
# the total $N + 1$ is available for degree $k$ — and it is shared among $\binom nk$ sets.
# :::
#
# :::{exercise} The two-layer plateau
# :label: ex-ch04-relu-target
#
# Let $x \sim \mathcal N(0, I_n/n)$, $s = \|x\|^2$ and $f^\star(x) = \mathrm{ReLU}(1 - \|x\|)$, and let
# $\rho_1(n)$ be the fraction of $\mathrm{Var}(f^\star)$ left unexplained by the best affine function
# of $s$ (the dashed curve of the depth experiment). (a) Show that
# $\rho_1(n) \to (\pi - 2)/(2(\pi - 1)) \approx 0.27$ as $n \to \infty$. (b) Using the first layer of
# {prf:ref}`prop-ch04-three-layer`, show that a two-layer network with $2n(R/h + 1)$ hidden units
# approximates $a + b\,\|x\|^2$ within $|b|\, n h^2/4$ on $[-R, R]^n$. Why does this make $\rho_1$ a
# natural plateau for two-layer networks, but not a lower bound on what they can reach?
# *Difficulty: ★★☆, about 25 min.*
# :::
#
# :::{solution} ex-ch04-relu-target
# :class: dropdown
#
# (a) Write $s = 1 + \sqrt{2/n}\, Z_n$ with $Z_n = (\sum_i (g_i^2 - 1))/\sqrt{2n}$, $g \sim \mathcal N(0, I_n)$;
# by the central limit theorem $Z_n \to Z \sim \mathcal N(0, 1)$ in law, with all moments converging.
# Since $\sqrt{s} = 1 + (s - 1)/2 + O((s-1)^2)$,
# $\sqrt{2n}\, f^\star = \mathrm{ReLU}(-Z_n) + O(Z_n^2/\sqrt n)$, and affine functions of $s$ are affine
# functions of $Z_n$. Rescaling does not change $\rho_1$, so $\rho_1(n)$ tends to the fraction of
# $\mathrm{Var}(\mathrm{ReLU}(-Z))$ that no affine function of $Z$ explains. With
# $\mathbb E[\mathrm{ReLU}(Z)] = 1/\sqrt{2\pi}$, $\mathbb E[\mathrm{ReLU}(Z)^2] = 1/2$ and
# $\mathbb E[Z\, \mathrm{ReLU}(Z)] = 1/2$: $\mathrm{Var} = \tfrac12 - \tfrac1{2\pi}$, the affine part explains
# $(\tfrac12)^2 = \tfrac14$, and
# $\rho_1 \to (\tfrac14 - \tfrac1{2\pi}) / (\tfrac12 - \tfrac1{2\pi}) = (\pi - 2)/(2(\pi - 1)) \approx 0.2665$.
# The printed values of $\rho_1(n)$ in the depth experiment decrease towards it.
#
# (b) The first layer of the proposition gives $r(x) = \sum_i q(x_i)$, linear in its $2n(R/h + 1)$
# units, with $0 \le r(x) - \|x\|^2 \le n h^2/4$; then $a + b\, r(x)$ is a two-layer network (output
# bias $a$, output weights $b$ times the coefficients of $r$). So affine functions of $\|x\|^2$ cost
# $O(n)$ units at fixed accuracy, and a two-layer network reaches $\rho_1$ cheaply. Going below it
# needs the higher powers of $s$, polynomials of degree $4$ and more in $x$; representing
# $\|x\|^4$ exactly by ridge functions of degree-$4$ polynomials takes of order $n^2$ directions,
# and Safran, Eldan and Shamir's lower bound says that no polynomial-size two-layer network
# approximates $f^\star$ to small enough inverse-polynomial accuracy. Neither fact puts the floor at
# exactly $\rho_1$: at our sizes the two-layer networks (width of order $20n$) can and do go somewhat
# below it at small $n$. $\rho_1$ is where the cheap part of $f^\star$ ends, not a theorem.
# :::
#
# ## Discussion and further reading
#
# - **Which features does gradient descent query?** {prf:ref}`thm-ch04-gd-needs-approx` uses the tangent
#   features along the blind trajectory. For a two-layer network these are neurons; for a deep
#   network they are deep functions. What must one assume about the initialisation and the input
#   distribution to reduce them to shallow networks, as {cite}`malach2021connection` do?
# - **Architecture as prior knowledge.** The CNN wins because its symmetry group (shifts) is smaller
#   than that of the fully connected network (all permutations). Which other architectures
#   (attention with positional encodings, graph networks) can you analyse with the orbit argument
#   of {prf:ref}`thm-ch04-cnn-fc`, and what class plays the role of the local parities?
# - **Weak versus strong.** The hardness results rule out even *weak* approximation and learning.
#   Are there natural targets that are weakly but not strongly approximable by shallow networks, and
#   what does gradient descent on deep networks do with them?
# - **Depth separations that are learnable.** {prf:ref}`thm-ch04-rzg` shows one separating function is
#   learnable. By {prf:ref}`thm-ch04-myss` it must be weakly approximable by two-layer networks.
#   Check this for $\mathrm{ReLU}(1 - \|x\|)$: which simple function of $x$ already correlates with it?
#
# Further reading: {cite}`eldan2016power` and {cite}`safran2019depth` for the separating functions; {cite}`shalevshwartz2017failures` for failures of
# gradient-based learning; {cite}`abbe2021power` and {cite}`malach2021quantifying` (Chapter 3) for what
# differentiable learning can do beyond statistical queries and tangent kernels.
