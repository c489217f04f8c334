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
# # Over-parameterization and generalization: interpolating noisy labels
#
# A model that fits noisy training labels exactly can still generalize — or not — and this chapter
# takes three views of when. First, interpolating learners such as the 1-nearest-neighbour rule are
# *conditional samplers*: they copy the label noise onto new points, so they are bad classifiers,
# with error $2p(1-p)$ instead of the Bayes error $p$; yet they are good *teachers*, because a
# student trained on their outputs over unlabelled data learns their conditional mean, whose sign
# is Bayes-optimal. We prove both facts and check them in code. Second, whether interpolating
# noise is benign depends on *how much* over-parameterization there is: in a noisy Gaussian
# mixture we derive (up to a concentration step we skip) and check that the minimum-norm
# interpolant keeps an excess error bounded away from zero at a fixed mild ratio of parameters to
# samples, however large the sample, while a large ratio makes it benign; self-training with the
# same model repairs the damage. Third,
# *depth*, unlike width, changes the implicit bias of interpolating solutions: the convolutional
# neural tangent kernel of a deep 1-D network, interpolating noisy labels, has a U-shaped test error
# in the depth, and we split its risk into bias and variance to see which makes each arm, beside
# a deep linear convolutional model whose U has a different cause.
#
# **Papers.** Kaplun, Malach, Nakkiran and Shalev-Shwartz, *Knowledge distillation: bad models can be
# good role models* {cite}`kaplun2022knowledge`, building on the conditional-sampling observation of
# {cite}`nakkiran2020distributional`; Wen, Teng and Zhang, *Benign overfitting in classification:
# provably counter label noise with larger models* {cite}`wen2022benign`; Nichani, Radhakrishnan and
# Uhler, *Increasing depth leads to U-shaped test risk in over-parameterized convolutional networks*
# {cite}`nichani2020increasing`.
#
# **Prerequisites.** The [notation](../book/notation.md); least squares and the pseudo-inverse;
# Chapter 4 for convolutional networks. Here $n$ is the input dimension, $m$ the number of training
# samples, $N$ the number of parameters (features) of a linear-in-parameters model, $p$ the label-noise
# rate (written $\eta$ in the sections on the mixture and the kernel) and $L$ the depth.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: under a minute on one CPU core.
# Full mode (set `SCALE = "full"` in the first code cell) uses ten times larger samples for the
# 1-NN rule and its distillation, more seeds for the students, a larger sample size and more draws
# in the mixture, more draws and depths for the linear conv model, and a larger, deeper CNTK sweep
# with more seeds: about six minutes on one CPU core. The figures in the book are from quick
# mode; the recorded full-mode figure is shown beside the distillation experiment.
#
# **Open in Colab:**
# [colab/17_generalization.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/17_generalization.ipynb)
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
from scipy.spatial import cKDTree
from scipy.special import ndtr

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
# Settings: every size that differs between quick and full mode.
# noisy training points of the simulated 1-NN rule; test points (also of the distillation)
M_TRAIN = cfg.pick(quick=20_000, full=200_000)
M_TEST = cfg.pick(quick=5_000, full=50_000)
# noisy samples the 1-NN teacher memorizes; unlabelled inputs it labels for the students
M_TEACHER = cfg.pick(quick=20_000, full=100_000)
U_POOL = cfg.pick(quick=20_000, full=200_000)
# Adam steps of the distilled students, and their seeds (one stack)
STUDENT_STEPS = cfg.pick(quick=1_500, full=5_000)
SEEDS = cfg.pick(quick=[0, 1, 2], full=list(range(8)))
# the noisy Gaussian mixture: sample sizes m, ratios N/m, draws per point, noise rate,
# signal r = R_SCALE m^(1/4), the teacher's stopping time (t = TAU_TEACHER / N) and the times
# of the gradient-flow curve
N_GRID = cfg.pick(quick=[100, 200, 400, 800], full=[100, 200, 400, 800, 1600])
RATIOS = [1.5, 3.0, 30.0]
MIX_SEEDS = cfg.pick(quick=5, full=10)
ETA, R_SCALE, TAU_TEACHER = 0.2, 1.5, 0.1
TAU_GRID = np.logspace(-2, 3, 26)
# depths L of the linear conv model, and draws of the training inputs averaged per depth
DEPTHS = np.arange(1, cfg.pick(quick=17, full=25))
DRAWS = cfg.pick(quick=100, full=1000)
# the CNTK sweep: signal length d, correlation distance k, training / test points, deepest L,
# label noise, seeds (independent data sets), precision of the kernel recursion
CNTK_D, CNTK_K = 12, 4
CNTK_TRAIN = cfg.pick(quick=100, full=200)
CNTK_TEST = cfg.pick(quick=200, full=300)
CNTK_LMAX = cfg.pick(quick=32, full=56)
CNTK_ETA = 0.15
CNTK_SEEDS = cfg.pick(quick=3, full=5)
CNTK_DTYPE = torch.float32

# %% [markdown]
# ## The setting

# %% [markdown]
# :::{prf:definition} Label noise and the Bayes classifier
# :label: def-ch17-noise
#
# Inputs $x \in \mathbb R^n$ are drawn from a distribution $\mu$. A *clean labelling*
# $f^\star: \mathbb R^n \to \{-1, +1\}$ is a measurable function, and the observed label is
# $y = f^\star(x)\,\xi$, where $\xi \in \{-1,+1\}$ is independent of $x$ with
# $\Pr[\xi = -1] = p$ for a *noise rate* $0 \le p < 1/2$. The *error* of a classifier $h$ is
# $\mathrm{err}(h) = \Pr_{(x,y)}[h(x) \ne y]$ (measured against *noisy* labels). The
# *regression function* is $\eta(x) = \mathbb E[y \mid x] = (1-2p) f^\star(x)$; the *Bayes
# classifier* $\operatorname{sign} \eta = f^\star$ has the smallest error of all classifiers, the
# *Bayes error* $\mathrm{err}(f^\star) = p$.
# :::
#
# For the Bayes statement: given $x$, a classifier is wrong with probability $p$ if it outputs
# $f^\star(x)$ and $1 - p > p$ otherwise.

# %% [markdown]
# :::{prf:definition} Interpolation and conditional sampling
# :label: def-ch17-sampler
#
# A learner *interpolates* if its output $h_S$ on a training sample
# $S = ((x_1, y_1), \dots, (x_m, y_m))$ satisfies $h_S(x_i) = y_i$ for all $i$. A learner is a
# *conditional sampler* (in the large-sample limit) if, for $\mu$-almost every $x$, the law of
# $h_S(x)$ over the random sample $S$ converges to the law of $y$ given $x$:
# $\Pr_S[h_S(x) = +1] \to \Pr[y = +1 \mid x]$ as $m \to \infty$.
# :::
#
# A sampler reproduces the noise instead of averaging it out. The simplest interpolating learner is
# the *1-nearest-neighbour rule* $h_S(x) = y_{i^\star(x)}$, where
# $i^\star(x) = \arg\min_i \lVert x - x_i \rVert$ (ties broken by the smallest index); it fits every
# training label, noisy or not.
#
# ## Interpolating learners are samplers: the 1-NN rule

# %% [markdown]
# :::{prf:theorem} The 1-NN rule is a conditional sampler
# :label: thm-ch17-one-nn
#
# In the setting of {prf:ref}`def-ch17-noise`, suppose the set of points at which $f^\star$ is not
# locally constant has $\mu$-measure zero. Let $h_m$ be the 1-NN rule on $m$ i.i.d. noisy samples.
# Then for $\mu$-almost every $x$, as $m \to \infty$,
#
# $$ \Pr_S\big[h_m(x) \ne f^\star(x)\big] \to p, \qquad\text{so}\qquad \Pr_S[h_m(x) = 1] \to \Pr[y = 1 \mid x], $$
#
# and for a fresh pair $(x, y)$ independent of $S$,
#
# $$ \mathbb E_S\, \mathrm{err}(h_m) \;\to\; 2p(1-p) \;=\; p + p(1-2p) \;>\; p = \mathrm{err}(f^\star) \quad (0 < p < 1/2). $$
# :::

# %% [markdown]
# :::{prf:proof}
# *Step 1: the nearest neighbour converges.* Let $x$ be in the support of $\mu$ (a set of full
# measure), so $\mu(B(x, r)) > 0$ for every $r > 0$. The $m$ training inputs are i.i.d., hence
# $\Pr[\lVert x_{i^\star(x)} - x \rVert \ge r] = (1 - \mu(B(x,r)))^m \to 0$.
#
# *Step 2: its clean label is eventually right.* If moreover $f^\star$ is constant on a ball
# $B(x, r)$ (true for $\mu$-almost every $x$ by assumption), then
# $\Pr[f^\star(x_{i^\star(x)}) \ne f^\star(x)] \le \Pr[\lVert x_{i^\star(x)} - x \rVert \ge r] \to 0$.
#
# *Step 3: its noise is a fresh coin.* The index $i^\star(x)$ is a function of $x_1, \dots, x_m$
# only, and the noise signs $\xi_1, \dots, \xi_m$ are i.i.d. and independent of the inputs. Hence
# $\Pr[\xi_{i^\star(x)} = -1] = \sum_j \Pr[i^\star(x) = j]\,\Pr[\xi_j = -1] = p$, and
# $\xi_{i^\star(x)}$ is independent of $(x_1, \dots, x_m)$, in particular of
# $f^\star(x_{i^\star(x)})$. Since $h_m(x) = f^\star(x_{i^\star(x)})\,\xi_{i^\star(x)}$, the events
# $\{h_m(x) \ne f^\star(x)\}$ and $\{\xi_{i^\star(x)} = -1\}$ differ only on
# $\{f^\star(x_{i^\star(x)}) \neq f^\star(x)\}$, whose probability tends to $0$. So
# $q_m(x) := \Pr_S[h_m(x) \ne f^\star(x)] \to p$.
#
# *Step 4: two independent coins disagree with probability $2p(1-p)$.* A fresh label is
# $y = f^\star(x)\xi'$ with $\xi'$ independent of $S$ and $x$. Given $x$, $h_m(x) \ne y$ exactly when
# one, and only one, of the independent events $\{h_m(x) \ne f^\star(x)\}$ and $\{\xi' = -1\}$
# happens, which has probability $q_m(x)(1-p) + (1 - q_m(x))p \to 2p(1-p)$. Integrating over $x$
# (the integrand is bounded by 1, so dominated convergence applies) gives the claim. Finally
# $2p(1-p) - p = p(1-2p) > 0$ for $0 < p < 1/2$.
# :::
#
# This is the two-label-noise version of Cover and Hart's classical bound: the asymptotic 1-NN error
# is at most twice the Bayes error. Kaplun et al. {cite}`kaplun2022knowledge` show that kernel
# machines that interpolate with a sufficiently local kernel are samplers too; we do not reproduce
# their conditions and constants.
#
# (sec-ch17-sampler)=
# ### Construction: simulating the sampler
#
# Take $x$ uniform on $[-1, 1]^2$ and the clean label "outside a disc of area 2", so both classes are
# equally likely and the boundary (a circle) has measure zero. We draw $m$ noisy training points,
# run the 1-NN rule (`analysis.nearest_neighbour`; for large samples the same rule through a
# k-d tree, `one_nn` below, checked against it) on fresh test points, and compare its
# error, against the clean and the noisy test labels, with $p$ and $2p(1-p)$. The nearest
# neighbours are computed once; only the noise changes with $p$.

# %%
R2 = 2 / math.pi  # disc of area 2 inside the square of area 4


def one_nn(x_train, y_train, x_query):
    """The 1-NN rule of `analysis.nearest_neighbour`, through a k-d tree: fast for large m in 2D."""
    _, idx = cKDTree(x_train.numpy()).query(x_query.numpy())
    return y_train[torch.from_numpy(idx)]


def sample_disc_task(m, generator):
    """m points uniform on [-1, 1]^2 with the clean label +1 outside the disc of area 2, -1 inside."""
    x = torch.rand(m, 2, generator=generator) * 2 - 1
    return x, torch.where(x.pow(2).sum(1) > R2, 1.0, -1.0)


gen = cfg.generator(cfg.seed)
x_tr, f_tr = sample_disc_task(M_TRAIN, gen)
x_te, f_te = sample_disc_task(M_TEST, gen)
nn_index = one_nn(x_tr, torch.arange(M_TRAIN), x_te)  # i*(x) for every test x
# the k-d tree finds a nearest neighbour exactly: on the first queries its choice is never farther
# than the brute-force rule's (in float32 that one may pick a slightly farther point for large m)
q_check = x_te[:2000].double()
d_tree = (x_tr[nn_index[:2000]].double() - q_check).norm(dim=1)
i_brute = analysis.nearest_neighbour(x_tr, torch.arange(M_TRAIN), x_te[:2000])
d_brute = (x_tr[i_brute].double() - q_check).norm(dim=1)
assert torch.all(d_tree <= d_brute + 1e-12)

P_GRID = np.round(np.arange(0.0, 0.5, 0.05), 2)
err_clean, err_noisy = [], []
for p in P_GRID:
    y_tr = tasks.flip_signs(f_tr, float(p), generator=gen)
    y_te = tasks.flip_signs(f_te, float(p), generator=gen)
    pred = y_tr[nn_index]  # the 1-NN prediction
    err_clean.append((pred != f_te).float().mean().item())
    err_noisy.append((pred != y_te).float().mean().item())
err_clean, err_noisy = np.array(err_clean), np.array(err_noisy)
gap_sampler = float(np.abs(err_noisy - 2 * P_GRID * (1 - P_GRID)).max())
print(
    f"m = {M_TRAIN}: largest |1-NN error - 2p(1-p)| over the grid = {gap_sampler:.4f}; "
    f"largest |disagreement with f* - p| = {np.abs(err_clean - P_GRID).max():.4f}"
)

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
pp = np.linspace(0, 0.5, 101)
ax.plot(
    pp,
    2 * pp * (1 - pp),
    color=plotting.COLORS[1],
    label="theory: 1-NN error $2p(1-p)$",
)
ax.plot(pp, pp, color=plotting.COLORS[0], label="Bayes error $p$")
ax.plot(
    P_GRID,
    err_noisy,
    "o",
    color=plotting.COLORS[1],
    label="1-NN, simulated (noisy test labels)",
)
ax.plot(
    P_GRID,
    err_clean,
    "s",
    mfc="none",
    color=plotting.COLORS[0],
    label="1-NN disagreement with $f^\\star$",
)
ax.set(
    xlabel="label-noise rate $p$",
    ylabel="test error",
    title="The interpolating 1-NN rule copies the noise: error $2p(1-p)$, not $p$",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The circles sit on the parabola and the squares on the diagonal: the 1-NN prediction disagrees
# with the clean label on a fraction $p$ of the points, as a fresh noisy label does, and disagrees
# with a fresh noisy label at rate $2p(1-p)$.
#
# ## Bad classifiers, good teachers: distillation from a sampler
#
# In *knowledge distillation* a student is trained on unlabelled inputs $x'_1, \dots, x'_u$ drawn
# from $\mu$, labelled by the teacher. Two facts explain why a sampler is a good teacher. The first
# is a population statement about the square loss.

# %% [markdown]
# :::{prf:proposition} The student learns the teacher's conditional mean
# :label: prop-ch17-conditional-mean
#
# Let $T(x) \in \{-1, +1\}$ be a randomized teacher (random through its training sample, say) and
# $\bar T(x) = \mathbb E[T(x) \mid x]$. Over all measurable $s: \mathbb R^n \to \mathbb R$, the
# distillation loss $\mathbb E\,(s(x) - T(x))^2$ is minimised by $s = \bar T$, and
# $\mathbb E\,(s(x) - T(x))^2 = \mathbb E\,(s(x) - \bar T(x))^2 + \mathbb E\,(T(x) - \bar T(x))^2$.
# For the 1-NN teacher of {prf:ref}`thm-ch17-one-nn`, $\bar T(x) = (1 - 2q_m(x)) f^\star(x) \to (1-2p) f^\star(x) = \eta(x)$
# for almost every $x$, so for large $m$ the sign of the optimal student is the Bayes classifier
# $f^\star$.
# :::

# %% [markdown]
# :::{prf:proof}
# Write $s - T = (s - \bar T) + (\bar T - T)$ and expand the square. The cross term
# $\mathbb E[(s(x) - \bar T(x))(\bar T(x) - T(x))]$ vanishes: conditioning on $x$, the first factor
# is fixed and the second has mean $\bar T(x) - \mathbb E[T(x)\mid x] = 0$. The second summand does
# not depend on $s$, so the minimiser is $s = \bar T$. For the 1-NN teacher, given $x$,
# $T(x) = f^\star(x)$ with probability $1 - q_m(x)$ and $-f^\star(x)$ otherwise, so
# $\bar T(x) = (1 - 2 q_m(x)) f^\star(x)$, and $q_m(x) \to p < 1/2$ by {prf:ref}`thm-ch17-one-nn`.
# Hence $\operatorname{sign} \bar T(x) = f^\star(x)$ as soon as $q_m(x) < 1/2$.
# :::
#
# The proposition averages over teachers: the student would need the teacher's labels at many
# copies of the same $x$, each from an independent teacher. In practice there is *one* teacher, and
# a rich enough student could copy it — noise and all. What saves distillation is that the student
# is drawn from a *smaller* class $\mathcal H$ that cannot tell the teacher's labels from real ones.

# %% [markdown]
# :::{prf:definition} Sampler with respect to a class (the chapter's version)
# :label: def-ch17-h-sampler
#
# Let $\ell$ be a loss with values in $[0,1]$, $\mathcal H$ a class of students,
# $L_{\mathcal D}(s) = \mathbb E_{(x,y)}\, \ell(s(x), y)$ and $L_h(s) = \mathbb E_x\, \ell(s(x), h(x))$.
# A teacher $h$ is an *$\varepsilon$-sampler for $\mathcal H$* if
# $\lvert L_h(s) - L_{\mathcal D}(s) \rvert \le \varepsilon$ for every $s \in \mathcal H$.
# :::
#
# This follows the framework of Kaplun et al.'s abstract: a sampler is a teacher that no student of
# the class can tell from the data distribution. We could not check their exact definition (it may,
# for instance, quantify over the randomness of the teacher's sample or use a different loss), nor
# the constants of their theorem that nearest-neighbour and kernel interpolants are samplers; the
# proposition below is the elementary consequence of this definition, proved in full.

# %% [markdown]
# :::{prf:proposition} Distillation from a sampler
# :label: prop-ch17-distillation
#
# If $h$ is an $\varepsilon$-sampler for $\mathcal H$ and the student $\hat s \in \mathcal H$
# minimises the distillation loss up to $\delta$, $L_h(\hat s) \le \inf_{s \in \mathcal H} L_h(s) + \delta$,
# then $L_{\mathcal D}(\hat s) \le \inf_{s \in \mathcal H} L_{\mathcal D}(s) + 2\varepsilon + \delta$.
# In particular, for the 0-1 loss and $f^\star \in \mathcal H$, $\mathrm{err}(\hat s) \le p + 2\varepsilon + \delta$:
# the student is within $2\varepsilon + \delta$ of Bayes-optimal, although the teacher's own error is
# about $2p(1-p)$.
# :::

# %% [markdown]
# :::{prf:proof}
# For every $s \in \mathcal H$:
# $L_{\mathcal D}(\hat s) \le L_h(\hat s) + \varepsilon \le L_h(s) + \delta + \varepsilon \le L_{\mathcal D}(s) + \delta + 2\varepsilon$,
# using the sampler property twice and near-optimality once. Take the infimum over $s$. For the
# 0-1 loss, $L_{\mathcal D}(f^\star) = p$ by {prf:ref}`def-ch17-noise`.
# :::
#
# *Is the 1-NN rule an $\varepsilon$-sampler for a fixed small class?* (Proof sketch.) Fix the
# training inputs and one student $s$. The quantity $L_h(s)$ is a function of the $m$ independent
# noise signs, and flipping the sign $\xi_i$ changes it by at most $\mu(V_i)$, the mass of the
# Voronoi cell of $x_i$. Its mean over the signs converges to $L_{\mathcal D}(s)$ by
# {prf:ref}`thm-ch17-one-nn` and dominated convergence, and McDiarmid's inequality bounds the
# fluctuation by $\exp(-2t^2 / \sum_i \mu(V_i)^2)$, where $\sum_i \mu(V_i)^2 \le \max_i \mu(V_i) \to 0$.
# A union bound handles a finite $\mathcal H$. We skip the bound on the largest cell (of order
# $\log m / m$ for a density bounded above and below on a nice domain) and the extension to infinite
# classes by uniform convergence; Kaplun et al. {cite}`kaplun2022knowledge` develop this framework in
# general, with their own definitions and rates.
#
# (sec-ch17-distillation)=
# ### Experiment: distilling the 1-NN teacher into a small network
#
# The teacher is the 1-NN rule on $m$ noisy samples at rate $p$. It labels a pool of $u$ *fresh
# unlabelled* inputs; a two-hidden-layer MLP of width 32 (three seeds, eight in full mode, trained together with
# `ensemble.stack` and `train.fit`, logistic loss, Adam with one step decay of the learning rate)
# is fit to those labels. We measure all errors on fresh noisy test labels.

# %%
P_DISTILL = 0.2

gen = cfg.generator(cfg.seed + 1)
x_teach, f_teach = sample_disc_task(M_TEACHER, gen)
y_teach = tasks.flip_signs(
    f_teach, P_DISTILL, generator=gen
)  # the teacher's noisy data
x_pool, _ = sample_disc_task(U_POOL, gen)  # unlabelled inputs
t_pool = one_nn(x_teach, y_teach, x_pool)  # the teacher's labels
x_eval, f_eval = sample_disc_task(M_TEST, gen)
y_eval = tasks.flip_signs(f_eval, P_DISTILL, generator=gen)  # fresh noisy test labels
teacher_err = (one_nn(x_teach, y_teach, x_eval) != y_eval).float().mean().item()
bayes_err = (f_eval != y_eval).float().mean().item()  # error of f* on these labels


def pool_batches(x, t, batch=256):
    """Minibatches of the teacher-labelled pool."""

    def batches(step, generator):
        i = torch.randint(0, x.shape[0], (batch,), generator=generator)
        return x[i], t[i]

    return batches


def error_against(x, y):
    """Evaluation callback: each member's error against the labels y (± 1) on inputs x."""
    return lambda model: {"err": (torch.sign(model(x)) != y).float().mean(1)}


student = ensemble.stack(
    [models.MLP(2, 32, depth=2, seed=100 + s + cfg.seed) for s in SEEDS]
)
hist_student = train.fit(
    student,
    pool_batches(x_pool, t_pool),
    steps=STUDENT_STEPS,
    loss="logistic",
    optimizer="adam",
    lr=3e-3,
    lr_schedule=lambda t: 1.0 if t < 0.6 * STUDENT_STEPS else 0.1,
    evaluate=error_against(x_eval, y_eval),
    eval_every=250,
    data_seed=cfg.seed,
    desc="student on teacher labels",
)
student_err = np.asarray(hist_student.final("err"))
with torch.no_grad():
    student_clean = (torch.sign(student(x_eval)) != f_eval).float().mean(1).numpy()
print(
    f"p = {P_DISTILL}: Bayes error {P_DISTILL:.3f} (on this test set {bayes_err:.3f}) | sampler limit 2p(1-p) = {analysis.sampler_error(P_DISTILL):.3f}"
)
print(
    f"teacher (1-NN) error {teacher_err:.3f} | students' errors {np.round(student_err, 3)}, "
    f"disagreement with f*: {np.round(student_clean, 3)}"
)
notebook.glue("ch17_teacher_err", f"{teacher_err:.3f}")
notebook.glue("ch17_student_err", f"{student_err.mean():.3f}")
notebook.glue("ch17_bayes_err", f"{bayes_err:.3f}")
notebook.glue("ch17_sampler_limit", f"{analysis.sampler_error(P_DISTILL):.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
grid = torch.linspace(-1, 1, 121)
gx, gy = torch.meshgrid(grid, grid, indexing="xy")
g_pts = torch.stack([gx.flatten(), gy.flatten()], 1)
t_grid = one_nn(x_teach, y_teach, g_pts).view(121, 121)
with torch.no_grad():
    s_grid = torch.sign(student(g_pts)[0]).view(121, 121)
for ax, img, title in (
    (axes[0], t_grid, f"teacher (1-NN): error {teacher_err:.3f}"),
    (axes[1], s_grid, f"student (MLP, seed 0): error {student_err[0]:.3f}"),
):
    ax.imshow(
        img.numpy(),
        extent=(-1, 1, -1, 1),
        origin="lower",
        cmap="coolwarm",
        vmin=-1,
        vmax=1,
    )
    ax.add_patch(
        plt.Circle((0, 0), math.sqrt(R2), fill=False, color="k", lw=1.5, ls="--")
    )
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
fig.suptitle(
    f"Noise rate p = {P_DISTILL}: the teacher is speckled with copied noise, the student "
    "recovers the Bayes boundary (dashed)",
    fontsize=10,
)
reproduce.save_headline(fig)
plt.show()

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("17_generalization")

# %% [markdown]
# The teacher's error, {glue:text}`ch17_teacher_err`, is close to the sampler limit
# $2p(1-p) =$ {glue:text}`ch17_sampler_limit`; the students, trained only on the teacher's labels,
# reach an average error of {glue:text}`ch17_student_err`, close to the Bayes error $p$ (the error
# of $f^\star$ on the same test labels is {glue:text}`ch17_bayes_err`). The small
# network cannot reproduce the speckles (the teacher's noise lives on Voronoi cells of size about
# $1/m$), so it fits the teacher's *local average*, as {prf:ref}`prop-ch17-distillation` predicts.
#
# ## Benign and harmful overfitting: how many parameters?
#
# The 1-NN rule interpolates with no parameters to spare. For a linear-in-parameters model
# $x \mapsto \langle \theta, \phi(x) \rangle$ with $N$ features trained by gradient descent, the
# interpolant it picks is the minimum-norm one.

# %% [markdown]
# :::{prf:theorem} Gradient descent from zero finds the minimum-norm interpolant
# :label: thm-ch17-min-norm
#
# Let $\Phi \in \mathbb R^{m \times N}$ have rank $m \le N$ and $y \in \mathbb R^m$. Gradient
# descent on $\frac12 \lVert \Phi\theta - y \rVert^2$ from $\theta_0 = 0$ with step size
# $0 < \eta < 2 / \lVert \Phi \rVert_{\mathrm{op}}^2$ converges to
# $\theta^\dagger = \Phi^\top (\Phi \Phi^\top)^{-1} y$, the unique interpolant of least Euclidean
# norm. More generally, for a positive diagonal $D$, gradient descent from zero on the
# reparameterised model $\theta = D^{1/2} v$, with step size
# $0 < \eta < 2 / \lVert \Phi D^{1/2} \rVert_{\mathrm{op}}^2$, converges to the interpolant minimising
# $\theta^\top D^{-1} \theta$, namely $D \Phi^\top (\Phi D \Phi^\top)^{-1} y$.
# :::

# %% [markdown]
# :::{prf:proof}
# The gradient $\Phi^\top(\Phi\theta - y)$ lies in the row space $\mathcal R = \operatorname{range}(\Phi^\top)$,
# so every iterate does. The residual $r_t = \Phi\theta_t - y$ obeys
# $r_{t+1} = (I - \eta \Phi\Phi^\top) r_t$; the eigenvalues of $\eta\Phi\Phi^\top$ lie in $(0, 2)$
# because $\Phi\Phi^\top$ is positive definite and $\eta \lVert \Phi\Phi^\top \rVert_{\mathrm{op}} < 2$,
# so $r_t \to 0$ geometrically. On $\mathcal R$ the map $\theta \mapsto \Phi\theta$ is injective
# (its kernel is $\mathcal R^\perp$), hence linear with a bounded inverse on its image, and
# $\Phi\theta_t \to y$ implies that $\theta_t$ converges to the unique $\theta \in \mathcal R$ with
# $\Phi\theta = y$. That point is $\theta^\dagger$ (it lies in $\mathcal R$ and interpolates). Every
# interpolant is $\theta^\dagger + v$ with $v \in \ker \Phi = \mathcal R^\perp$, so
# $\lVert \theta^\dagger + v \rVert^2 = \lVert \theta^\dagger \rVert^2 + \lVert v \rVert^2$: the
# minimum norm is attained only at $v = 0$. For the weighted statement apply the first part to the
# features $\Phi D^{1/2}$ and the variable $v$: $v \to D^{1/2}\Phi^\top(\Phi D \Phi^\top)^{-1} y$,
# the interpolant of least $\lVert v \rVert = (\theta^\top D^{-1}\theta)^{1/2}$.
# :::
#
# Wen, Teng and Zhang {cite}`wen2022benign` ask when interpolating noisy labels is benign. They
# observe that a ResNet fits CIFAR-10 benignly but not ImageNet, where the test loss rises as the
# network fits the training set, and they explain it with a linear classification model in which
# the ratio of parameters to samples decides. We work in the data model of this line of work, the
# label-noisy Gaussian mixture of Chatterji and Long {cite}`chatterji2021finite`.

# %% [markdown]
# :::{prf:definition} Noisy Gaussian mixture
# :label: def-ch17-mixture
#
# Fix a mean $\mu \in \mathbb R^N$ with $\lVert \mu \rVert = r$ and a noise rate $0 \le \eta < 1/2$.
# A sample is $(x, y)$ with a clean label $\tilde y$ uniform on $\{-1, +1\}$,
# $x = \tilde y \mu + z$, $z \sim \mathcal N(0, I_N)$, and $y = \tilde y \xi$ with $\xi = -1$ with
# probability $\eta$, independently. We fit $m$ samples with linear classifiers
# $x \mapsto \operatorname{sign}\langle \theta, x \rangle$ with $N$ parameters, and call
# $N/m$ the *over-parameterization ratio*. The clean test error of $\theta$ is
# $\Pr[\tilde y \langle \theta, x \rangle < 0] = \Phi\big(-\langle \theta, \mu\rangle / \lVert\theta\rVert\big)$
# ($\tilde y\langle\theta, x\rangle \sim \mathcal N(\langle\theta,\mu\rangle, \lVert\theta\rVert^2)$), and the
# Bayes classifier $\operatorname{sign}\langle\mu, x\rangle$ has clean error $\Phi(-r)$.
# :::

# %% [markdown]
# :::{prf:theorem} Phase change of benign overfitting (paper's claim, informal)
# :label: thm-ch17-phase-change
#
# Wen, Teng and Zhang {cite}`wen2022benign` revisit the linear classification models of earlier
# analyses of benign overfitting (such as the mixture of {prf:ref}`def-ch17-mixture`, studied under
# heavy over-parameterization by {cite}`chatterji2021finite`). There, with many more parameters
# than samples, the interpolating (max-margin) classifier trained on labels with noise rate $\eta$
# has test error close to the best achievable. Under *mild* over-parameterization (parameters not
# significantly more numerous than samples) they find a phase change: with label noise, benign
# overfitting can fail, the excess error staying bounded away from zero. Their analysis leads to
# self-training as a remedy.
# :::
#
# This is a summary at the level of the paper's abstract: we could not check its exact model,
# hypotheses, rates and constants, so we do not state them. What we prove instead is a precise
# version of the phase change for the interpolant that gradient descent on the square loss finds
# ({prf:ref}`thm-ch17-min-norm`), the *minimum-norm interpolant*
# $\theta = X^\top (XX^\top)^{-1} y$ (the max-margin classifier of the paper coincides with it when
# every sample is a support vector, not in general).

# %% [markdown]
# :::{prf:proposition} Min-norm interpolation at a fixed ratio (the chapter's version)
# :label: prop-ch17-fixed-ratio
#
# In the model of {prf:ref}`def-ch17-mixture`, let $m \to \infty$ with $N/m \to c > 1$ and
# $r \to \infty$, and let $\eta$ be fixed. Then the clean test error of the minimum-norm
# interpolant of the noisy labels converges in probability to
#
# $$ E(c, \eta) \;=\; \Phi\Big(-(1 - 2\eta)\sqrt{\tfrac{c - 1}{4\eta(1-\eta)}}\Big), $$
#
# while the Bayes error $\Phi(-r) \to 0$. So for $\eta > 0$ the excess error at every *fixed*
# ratio stays bounded away from zero (harmful overfitting), and it vanishes only as $c \to \infty$,
# at most like $\exp\!\big(-(1-2\eta)^2 (c-1) / (8\eta(1-\eta))\big)$ (benign overfitting in
# the limit of heavy over-parameterization). With clean labels ($\eta = 0$) the error tends to $0$ at every
# $c > 1$.
# :::

# %% [markdown]
# :::{prf:proof} Proof sketch
# *Exact reduction.* Let $u = \mu/r$, $g = Zu \in \mathbb R^m$ and $Z_\perp = Z(I - uu^\top)$,
# where $Z$ stacks the $z_i$. Then $X = s u^\top + Z_\perp$ with $s = r\tilde y + g$, so
# $K = XX^\top = ss^\top + W$ with $W = Z_\perp Z_\perp^\top \sim \mathrm{Wishart}_m(N-1, I)$,
# independent of $(s, y)$ (Gaussian vectors: $g$ and $Z_\perp$ are independent), and $X\mu = rs$.
# For $\theta = X^\top K^{-1} y$ we get $\langle\theta, \mu\rangle = r\, s^\top K^{-1} y$ and
# $\lVert\theta\rVert^2 = y^\top K^{-1} y$. With $A = s^\top W^{-1}s$, $B = s^\top W^{-1} y$,
# $C = y^\top W^{-1} y$, the Sherman–Morrison formula gives
#
# $$ \frac{\langle \theta, \mu \rangle}{\lVert\theta\rVert} = \frac{rB}{(1 + A)\sqrt{C - B^2/(1+A)}}. $$
#
# *Concentration (skipped).* $W^{-1}$ is orthogonally invariant and independent of $s, y$, and
# quadratic forms concentrate:
# $v^\top W^{-1} v' = \big(v^\top v' + O(\lVert v\rVert \lVert v'\rVert\, m^{-1/2})\big)/(N - m)$
# (for instance $e_1^\top W^{-1} e_1 = 1/\chi^2_{N-m}$ exactly). With
# $\lVert s\rVert^2 \approx m(r^2+1)$, $s^\top y \approx r(1-2\eta)m$, $\lVert y \rVert^2 = m$ and
# $a = m/(N-m) \to 1/(c-1)$: $A \approx (r^2+1)a$, $B \approx r(1-2\eta)a$, $C \approx a$. We skip the
# bookkeeping of these error terms.
#
# *The limit.* As $r \to \infty$, $rB/(1+A) \to 1 - 2\eta$ and
# $C - B^2/(1+A) \to a\,(1 - (1-2\eta)^2) = 4\eta(1-\eta)\,a$, so the ratio tends to
# $(1-2\eta)/\sqrt{4\eta(1-\eta)a}$, which is the claim; for $\eta = 0$ the denominator tends to $0$
# and the ratio to $\infty$. The tail bound $\Phi(-t) \le e^{-t^2/2}$ gives the rate in $c$.
# :::
#
# The mechanism is visible in the proof: the interpolant must also fit the $\eta m$ flipped labels,
# and the part of $\theta$ that does so has squared norm about $4\eta(1-\eta)\,m/(N-m)$. With
# $N \gg m$ that part is cheap and nearly orthogonal to everything at test time; with $N = cm$ it is
# a fixed fraction of $\theta$ and shows up as test error, however large $m$ and the signal $r$.
# Before fitting, the signal direction is learned first: gradient descent from zero reaches the
# direction of $\mu$ (one large eigenvalue $\approx r^2 m$ of $K$) long before it fits the
# noise (the bulk of eigenvalues, of order $N$). That suggests *self-training with the same model*:
# stop gradient descent early, re-label the training set with the model's own predictions, and
# train the same model to interpolation on these pseudo-labels.
#
# (sec-ch17-mixture)=
# ### Construction: the Gram matrix of the mixture, for any $N$
#
# Everything above depends on the data only through $K$, $X\mu$ and the labels, and the proof gives
# their joint law: $s = r\tilde y + g$ and an independent $W \sim \mathrm{Wishart}_m(N - 1, I)$.
# Bartlett's decomposition samples $W = LL^\top$ with $L$ lower triangular,
# $L_{ii}^2 \sim \chi^2_{N - i}$ ($i = 1, \dots, m$) and standard normal entries below the diagonal,
# at a cost $O(m^3)$ *independent of $N$*. The cell below checks the reduction against an explicit
# draw of $X$, and Bartlett's sampler against $\mathbb E\, W = (N-1) I$.


# %%
def mixture_gram(n, p, r, y_clean, rng):
    """K = X X^T and X mu for n points x = y_clean mu + z, z ~ N(0, I_p), |mu| = r, exact in law.

    Bartlett: W = L L^T ~ Wishart_n(p - 1, I); then K = s s^T + W with s = r y_clean + g."""
    low = np.tril(rng.standard_normal((n, n)), -1)
    low[np.diag_indices(n)] = np.sqrt(rng.chisquare(p - 1 - np.arange(n)))
    s = r * y_clean + rng.standard_normal(n)
    return low @ low.T + np.outer(s, s), r * s


def margin_ratio(alpha, K, x_mu):
    """<theta, mu> / |theta| for theta = X^T alpha (depends on X only through K and X mu)."""
    return float(alpha @ x_mu) / math.sqrt(float(alpha @ K @ alpha))


# the reduction, on one explicit draw: theta = X^T K^{-1} y computed directly and from (s, W)
rng_chk = np.random.default_rng(cfg.seed)
n_c, p_c, r_c = 30, 50, 2.0
yc = rng_chk.choice([-1.0, 1.0], n_c)
yn = yc * np.where(rng_chk.random(n_c) < 0.2, -1.0, 1.0)
Z = rng_chk.standard_normal((n_c, p_c))
mu = np.zeros(p_c)
mu[0] = r_c
X = np.outer(yc, mu) + Z
theta = X.T @ np.linalg.solve(X @ X.T, yn)
s_c = r_c * yc + Z[:, 0]
Z_perp = Z.copy()
Z_perp[:, 0] = 0
K_c = np.outer(s_c, s_c) + Z_perp @ Z_perp.T
alpha_c = np.linalg.solve(K_c, yn)
assert np.allclose(K_c, X @ X.T) and np.allclose(X @ mu, r_c * s_c)
assert (
    abs(margin_ratio(alpha_c, K_c, r_c * s_c) - theta @ mu / np.linalg.norm(theta))
    < 1e-9
)
# Bartlett's sampler: E W = (p - 1) I (mean of 400 draws, n = 20, p = 40)
W_mean = np.mean(
    [mixture_gram(20, 40, 0.0, np.zeros(20), rng_chk)[0] for _ in range(400)], 0
)
assert np.abs(W_mean / 39 - np.eye(20)).max() < 0.1


# %% [markdown]
# The theory curve of the experiment is the leading-order formula of the proof at finite $r$:
# $\Phi(-rB/((1+A)\sqrt{C - B^2/(1+A)}))$ with $A, B, C$ replaced by their limits.


# %%
def fixed_ratio_theory(n, p, r, eta):
    """Leading-order clean error of the min-norm interpolant (proof of prop-ch17-fixed-ratio)."""
    a = n / (p - n)
    A, B, C = (r**2 + 1) * a, r * (1 - 2 * eta) * a, a
    return float(ndtr(-r * B / ((1 + A) * math.sqrt(C - B**2 / (1 + A)))))


def fixed_ratio_limit(c, eta):
    """E(c, eta) of prop-ch17-fixed-ratio."""
    return float(ndtr(-(1 - 2 * eta) * math.sqrt((c - 1) / (4 * eta * (1 - eta)))))


# %% [markdown]
# (sec-ch17-benign)=
# ### Experiment: benign and harmful overfitting as $m$ grows at fixed ratios
#
# For each ratio $c = N/m \in \{1.5, 3, 30\}$ and each sample size $m$ we draw the mixture with
# noise rate $\eta$ and signal $r = 1.5\, m^{1/4}$ (growing with $m$, so the Bayes error tends to
# $0$), and compute, exactly in the test distribution, the clean error of four classifiers, all
# the *same* linear model $x \mapsto \langle\theta, x\rangle$ with $N$ parameters trained from
# $\theta = 0$ by gradient flow on the square loss:
#
# - the interpolant of the noisy labels (gradient flow run to convergence: the min-norm
#   interpolant);
# - the interpolant of the clean labels (the control without label noise);
# - the *teacher*: the same flow stopped at time $t = \tau / N$ (a rule fixed in advance; in the
#   eigenbasis of $K$, $\theta_t = X^\top K^{-1}(I - e^{-tK}) y$);
# - the *self-trained student*: the same model, trained to interpolation on the teacher's labels
#   $\operatorname{sign}\langle\theta_t, x_i\rangle$ of the training inputs.
#
# Seeds are independent draws of the whole training set; we show the mean and $\pm 2$ standard
# errors.


# %%
def fixed_ratio_run(n, c, seed):
    """Clean errors of the noisy/clean interpolants, the early-stopped teacher and the student,
    the teacher's pseudo-label noise, and the error along the gradient flow."""
    rng = np.random.default_rng([cfg.seed, int(10 * c), n, seed])
    p, r = int(c * n), R_SCALE * n**0.25
    y_clean = rng.choice([-1.0, 1.0], n)
    y = y_clean * np.where(rng.random(n) < ETA, -1.0, 1.0)
    K, x_mu = mixture_gram(n, p, r, y_clean, rng)
    lam, U = np.linalg.eigh(K)
    err = lambda alpha: float(ndtr(-margin_ratio(alpha, K, x_mu)))
    flow = lambda tau: U @ (-np.expm1(-tau / p * lam) / lam * (U.T @ y))
    pseudo = np.sign(K @ flow(TAU_TEACHER))
    return {
        "interp": err(np.linalg.solve(K, y)),
        "clean": err(np.linalg.solve(K, y_clean)),
        "teacher": err(flow(TAU_TEACHER)),
        "student": err(np.linalg.solve(K, pseudo)),
        "pseudo_noise": float(np.mean(pseudo != y_clean)),
        "flow": [err(flow(tau)) for tau in TAU_GRID],
    }


runs = {
    (c, n): [fixed_ratio_run(n, c, s) for s in range(MIX_SEEDS)]
    for c in runtime.progress(RATIOS, "ratios")
    for n in N_GRID
}


def mix_stat(key, c):
    """Mean and 2 standard errors over seeds, for each n: arrays of shape (len(N_GRID),)."""
    v = np.array([[run[key] for run in runs[(c, n)]] for n in N_GRID])
    return v.mean(1), 2 * v.std(1, ddof=1) / math.sqrt(MIX_SEEDS)


for c in RATIOS:
    print(f"N/m = {c}: limit E(c, eta) = {fixed_ratio_limit(c, ETA):.4f}")
    for j, n in enumerate(N_GRID):
        row = {k: mix_stat(k, c)[0][j] for k in ("interp", "clean", "student")}
        print(
            f"  m = {n:5d}: interpolant {row['interp']:.4f} ± {mix_stat('interp', c)[1][j]:.4f}"
            f" (theory {fixed_ratio_theory(n, int(c * n), R_SCALE * n**0.25, ETA):.4f}) |"
            f" clean labels {row['clean']:.4f} | self-trained {row['student']:.4f}"
        )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
ax = axes[0]
for i, c in enumerate(RATIOS):
    mean, err2 = mix_stat("interp", c)
    ax.errorbar(
        N_GRID,
        mean,
        err2,
        fmt="o-",
        color=plotting.COLORS[i],
        capsize=3,
        label=f"N/m = {c:g}: interpolating noisy labels",
    )
    theory = [fixed_ratio_theory(n, int(c * n), R_SCALE * n**0.25, ETA) for n in N_GRID]
    ax.plot(N_GRID, theory, "--", color=plotting.COLORS[i], lw=1)
mean, err2 = mix_stat("student", RATIOS[0])
ax.errorbar(
    N_GRID,
    mean,
    err2,
    fmt="s:",
    color=plotting.COLORS[3],
    capsize=3,
    label=f"N/m = {RATIOS[0]:g}: self-trained (same model)",
)
mean, err2 = mix_stat("clean", RATIOS[0])
ax.errorbar(
    N_GRID,
    mean,
    err2,
    fmt="^:",
    color="gray",
    capsize=3,
    label=f"N/m = {RATIOS[0]:g}: interpolating clean labels",
)
ax.set_xscale("log")
ax.set(
    xlabel="training samples $m$",
    ylabel="clean test error",
    title="Fixed ratios: the mild one stays harmful as $m$ grows (dashed: theory)",
)
ax.legend(fontsize=7)
ax = axes[1]
n_big = N_GRID[-1]
for i, c in ((0, RATIOS[0]), (2, RATIOS[2])):
    curves = np.array([run["flow"] for run in runs[(c, n_big)]])
    ax.plot(TAU_GRID, curves.mean(0), color=plotting.COLORS[i], label=f"N/m = {c:g}")
ax.axvline(TAU_TEACHER, color="gray", ls=":", lw=1, label="teacher's stopping time")
ax.set_xscale("log")
ax.set(
    xlabel="gradient-flow time $t \\cdot N$",
    ylabel="clean test error",
    title=f"m = {n_big}: the test error rises as the model fits the noise (mild ratio)",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
mild_err, mild_2se = mix_stat("interp", RATIOS[0])
heavy_err, _ = mix_stat("interp", RATIOS[-1])
mild_clean, _ = mix_stat("clean", RATIOS[0])
mild_student, _ = mix_stat("student", RATIOS[0])
mild_pseudo, _ = mix_stat("pseudo_noise", RATIOS[0])
mild_teacher, _ = mix_stat("teacher", RATIOS[0])
mild_theory = fixed_ratio_theory(
    n_big, int(RATIOS[0] * n_big), R_SCALE * n_big**0.25, ETA
)
notebook.glue("ch17_mix_eta", f"{ETA}")
notebook.glue("ch17_mix_m_small", N_GRID[0])
notebook.glue("ch17_mix_m_big", n_big)
notebook.glue("ch17_mild_small", f"{mild_err[0]:.3f}")
notebook.glue("ch17_mild_big", f"{mild_err[-1]:.3f}")
notebook.glue("ch17_mild_limit", f"{fixed_ratio_limit(RATIOS[0], ETA):.3f}")
notebook.glue("ch17_heavy_small", f"{heavy_err[0]:.3f}")
notebook.glue("ch17_heavy_big", f"{heavy_err[-1]:.4f}")
notebook.glue("ch17_mild_clean", f"{mild_clean[-1]:.4f}")
notebook.glue("ch17_student_big", f"{mild_student[-1]:.4f}")
notebook.glue("ch17_teacher_big", f"{mild_teacher[-1]:.4f}")
notebook.glue("ch17_pseudo_noise", f"{mild_pseudo[-1]:.3f}")

# %% [markdown]
# At the mild ratio $N/m = 1.5$ and noise rate {glue:text}`ch17_mix_eta`, the interpolant's clean
# error is {glue:text}`ch17_mild_small` at $m =$ {glue:text}`ch17_mix_m_small` and
# {glue:text}`ch17_mild_big` at $m =$ {glue:text}`ch17_mix_m_big`, near the limit
# $E(1.5, \eta) =$ {glue:text}`ch17_mild_limit` of {prf:ref}`prop-ch17-fixed-ratio`, although the
# Bayes error is essentially $0$: harmful overfitting that more data at the same ratio does not
# cure. At $N/m = 30$ the error falls from {glue:text}`ch17_heavy_small` to
# {glue:text}`ch17_heavy_big`: benign. The control with clean labels at $N/m = 1.5$ reaches
# {glue:text}`ch17_mild_clean`, so the harm comes from the label noise, as in the paper's phase
# change. The right panel is the analogue of the paper's ImageNet observation that the test loss
# rises as the network fits its training set: along the gradient flow from $\theta = 0$ the test
# error is near zero while the model picks up the direction of $\mu$, and then, at the mild ratio,
# rises to the interpolant's error as the model fits the flipped labels; at $N/m = 30$ it barely
# moves.
#
# Self-training with the same model repairs it here: the teacher stopped at $t = \tau/N$ has clean
# error {glue:text}`ch17_teacher_big`, its labels on the training inputs disagree with the clean
# labels on a fraction {glue:text}`ch17_pseudo_noise` of them, and the student that interpolates
# them has error {glue:text}`ch17_student_big` at the largest $m$. Note what this shows and what it
# does not: the early-stopped teacher is itself already a good classifier, and the student only
# inherits its labels; the paper's self-training procedure and its guarantee may differ from this
# two-round version, which we did not check.
#
# ## Depth and the implicit bias: a U-shaped risk
#
# Width moves a network towards the heavy-over-parameterization side. Depth does something else: it
# changes *which* interpolant gradient descent picks. Nichani, Radhakrishnan and Uhler
# {cite}`nichani2020increasing` observe that test error of convolutional networks first falls and
# then rises with depth, and explain it with minimum-norm solutions: in their analysis, the
# (linearised) convolutional network of depth $L$ acts as a depth-dependent linear transformation of
# the input, followed by minimum-norm regression.

# %% [markdown]
# :::{prf:theorem} U-shaped risk in depth (paper's claims, informal)
# :label: thm-ch17-u-shape
#
# Nichani, Radhakrishnan and Uhler {cite}`nichani2020increasing` report that (i) empirically, the
# test risk of over-parameterized convolutional networks (ResNets, and kernel regression with the
# CNTK) on image classification first decreases and then increases with the depth; (ii) the
# *linear* CNTK of a convolutional network equals the kernel of a depth-dependent linear
# transformation of the input, whose properties they characterise; (iii) for over-parameterized
# linear regression after such a transformation they identify, in simplified settings, the depths
# that minimise the bias and the variance terms of the test risk.
# :::
#
# We could not check the architecture behind (ii) or the exact statements of (iii), so we state
# none of their formulas. The chapter proves its own analogue of (ii), a lemma for a deep linear
# circular convolution with a shared filter, computes the bias and variance of (iii) in that model
# numerically, and tests (i) with the CNTK of a deep 1-D ReLU network. We build the simplest model
# of the kind (ii) describes.

# %% [markdown]
# :::{prf:definition} Deep linear circular convolutional network
# :label: def-ch17-deep-conv
#
# For filters $w_1, \dots, w_L \in \mathbb R^N$ let
# $f(x) = \langle w_1 \circledast w_2 \circledast \cdots \circledast w_L,\, x \rangle$ for
# $x \in \mathbb R^N$, where $\circledast$ is circular convolution. With the unnormalised discrete
# Fourier transform $\hat u_k = \sum_j u_j e^{-2\pi i jk/N}$ we have
# $\widehat{u \circledast v} = \hat u \odot \hat v$ and $\langle u, v\rangle = \frac1N \sum_k \hat u_k \overline{\hat v_k}$.
# :::

# %% [markdown]
# :::{prf:lemma} The tangent kernel of the deep linear convolutional network
# :label: lem-ch17-conv-ntk
#
# At the initialisation $w_1 = \dots = w_L = a$, the tangent kernel
# $K_L(x, x') = \sum_{l=1}^{L} \langle \nabla_{w_l} f(x), \nabla_{w_l} f(x') \rangle$ equals
#
# $$ K_L(x, x') \;=\; \frac{L}{N} \sum_{k=0}^{N-1} \lvert \hat a_k \rvert^{2(L-1)}\, \hat x_k\, \overline{\hat x'_k}. $$
#
# So training the linearised network by gradient descent from zero output (the initial function
# subtracted) converges, by {prf:ref}`thm-ch17-min-norm` applied in the Fourier basis, to the
# linear predictor $\langle \beta, x \rangle$ that interpolates the data and minimises
# $\sum_k \lvert \hat\beta_k \rvert^2 / \lvert \hat a_k \rvert^{2(L-1)}$ (over frequencies with
# $\hat a_k \ne 0$).
# :::

# %% [markdown]
# :::{prf:proof}
# In Fourier coordinates $f(x) = \frac1N \sum_k \big(\prod_j \hat w_{j,k}\big) \overline{\hat x_k}$,
# which is linear in $w_l$: $f(x) = \langle w_l, g_l(x) \rangle$ with
# $\hat g_{l,k} = \overline{\prod_{j \ne l} \hat w_{j,k}}\; \hat x_k$ (check:
# $\frac1N\sum_k \hat w_{l,k}\overline{\hat g_{l,k}}$ is the expression above). So
# $\nabla_{w_l} f(x) = g_l(x)$, and at $w_j = a$, $\hat g_{l,k} = \overline{\hat a_k}^{\,L-1}\hat x_k$
# for every $l$. Parseval gives
# $\langle g_l(x), g_l(x') \rangle = \frac1N \sum_k \lvert \hat a_k \rvert^{2(L-1)} \hat x_k \overline{\hat x'_k}$,
# and summing over the $L$ layers gives $K_L$. The kernel is that of the features
# $x \mapsto \sqrt L\, C^{L-1} x$, where $C$ is the (real) circulant operator with eigenvalues
# $\lvert \hat a_k \rvert$ — a linear transformation of the input that depends on the depth. Gradient
# descent on the linearised model is gradient descent on these features, and
# {prf:ref}`thm-ch17-min-norm` (with the weights $D = \lvert\hat a_k\rvert^{2(L-1)}$ in the Fourier
# basis; the factor $L$ only rescales the step size) identifies the limit.
# :::
#
# For a low-pass filter, here $a = (\tfrac12, \tfrac14, 0, \dots, 0, \tfrac14)$ with
# $\hat a_k = \cos^2(\pi k / N)$, depth concentrates the implicit bias on low frequencies,
# geometrically fast. Nichani et al. {cite}`nichani2020increasing` prove that their linear CNTK is
# likewise a depth-dependent linear transformation of the input, and identify, in simplified
# settings, the depths that minimise the bias and the variance of the test risk; we could not
# check the form of their transformation or of those theorems, so the lemma above is the
# chapter's own, simpler analogue (identical filters at initialisation, not random infinite-width
# layers), and the experiment below tests only what it implies.
#
# (sec-ch17-depth-model)=
# ### Construction: risk of the minimum-norm solution against depth
#
# Inputs $x \sim \mathcal N(0, I_N)$ (isotropic in every orthonormal basis, so we work in the real
# Fourier basis directly), a smooth target $\hat w^\star_k \propto e^{-k/\ell}$ with
# $\lVert w^\star \rVert = 1$ (smoothness $\ell = 3$ unless said otherwise), responses
# $y = \langle w^\star, x \rangle + \sigma\varepsilon$, and $m < N$ samples. For each depth we
# compute the interpolant of {prf:ref}`lem-ch17-conv-ntk` in closed form, $\hat\beta = A y$ with
# $A = D\Phi^\top(\Phi D\Phi^\top)^{-1}$, and its exact risk decomposition over the noise,
# $\mathbb E\,(\langle \beta - w^\star, x\rangle + \sigma\varepsilon)^2 = \underbrace{\lVert (A\Phi - I) w^\star \rVert^2}_{\text{bias}} + \underbrace{\sigma^2 \lVert A \rVert_F^2}_{\text{variance}} + \sigma^2$,
# averaged over draws of the training inputs. The bias alone is the risk without label noise
# ($\sigma = 0$, up to the constant $\sigma^2$).

# %%
N_SIG, M_SIG, SIGMA = 63, 16, 0.2
SMOOTH = [1.5, 3.0, 10.0]  # target smoothness l; the second is the main curve
freq = torch.tensor(
    [0] + [k for k in range(1, N_SIG // 2 + 1) for _ in range(2)], dtype=torch.float64
)
a_hat = (
    torch.cos(math.pi * freq / N_SIG) ** 2
)  # Fourier magnitudes of the low-pass filter
w_stars = torch.stack([torch.exp(-freq / ell) for ell in SMOOTH], 1)
w_stars = w_stars / w_stars.norm(
    dim=0
)  # the targets, in the real Fourier basis, (N, 3)


def depth_risk(L, seed):
    """Average bias (one per target) and variance of the min-norm interpolant at depth L.

    Every depth sees the same draws of the training inputs (the same seed), so the curve is smooth.
    """
    generator = cfg.generator(seed)
    D = a_hat ** (2 * (L - 1))
    bias, var = np.zeros(len(SMOOTH)), 0.0
    for _ in range(DRAWS):
        Phi = torch.randn(M_SIG, N_SIG, generator=generator, dtype=torch.float64)
        A = analysis.min_norm_interpolant(
            Phi, torch.eye(M_SIG, dtype=torch.float64), D
        )  # beta = A y
        resid = (A @ Phi - torch.eye(N_SIG, dtype=torch.float64)) @ w_stars
        bias += resid.pow(2).sum(0).numpy()
        var += SIGMA**2 * A.pow(2).sum().item()
    return bias / DRAWS, var / DRAWS


bias_all, var_L = zip(*(depth_risk(int(L), cfg.seed + 2) for L in DEPTHS))
bias_all, var_L = np.array(bias_all), np.array(var_L)  # (depths, targets), (depths,)
bias_L = bias_all[:, 1]
risk_L = bias_L + var_L + SIGMA**2
L_best = int(DEPTHS[np.argmin(risk_L)])
L_bias = int(DEPTHS[np.argmin(bias_L)])
L_best_smooth = [int(DEPTHS[np.argmin(bias_all[:, j] + var_L)]) for j in range(3)]
print("depth:", DEPTHS.tolist())
print("risk: ", np.round(risk_L, 3).tolist())
print(
    f"minimum at L = {L_best}; bias (= risk without noise, less sigma^2) smallest at "
    f"L = {L_bias}, where it is {bias_L.min():.3f}, and {bias_L[-1]:.3f} at L = {DEPTHS[-1]}; "
    f"variance increasing in L: {bool(np.all(np.diff(var_L) > 0))}"
)
print(f"best depth for target smoothness l = {SMOOTH}: {L_best_smooth}")
notebook.glue("ch17_best_depth", L_best)
notebook.glue("ch17_bias_depth", L_bias)
notebook.glue("ch17_bias_min", f"{bias_L.min():.3f}")
notebook.glue("ch17_bias_deep", f"{bias_L[-1]:.3f}")
notebook.glue("ch17_best_smooth", ", ".join(map(str, L_best_smooth)))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
ax = axes[0]
ax.plot(
    DEPTHS, risk_L, "o-", color=plotting.COLORS[1], label="test risk, $\\sigma = 0.2$"
)
ax.plot(
    DEPTHS, bias_L, "--", color=plotting.COLORS[0], label="bias = risk at $\\sigma = 0$"
)
ax.plot(DEPTHS, var_L, ":", color=plotting.COLORS[2], label="variance")
ax.axhline(1 + SIGMA**2, color="gray", lw=0.8, label="risk of the zero predictor")
ax.set(
    xlabel="depth $L$",
    ylabel="squared test risk",
    ylim=(0, None),
    title="Deep linear conv model: U-shaped only with label noise",
)
ax.legend(fontsize=8)
ax = axes[1]
for j, ell in enumerate(SMOOTH):
    ax.plot(
        DEPTHS,
        bias_all[:, j] + var_L + SIGMA**2,
        "o-",
        ms=3,
        color=plotting.COLORS[j],
        label=f"target smoothness $\\ell = {ell:g}$",
    )
ax.set(
    xlabel="depth $L$",
    ylabel="squared test risk",
    ylim=(0, None),
    title="The best depth moves with the target's smoothness",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Every model here interpolates its $m$ training points, at every depth. What the model shows,
# and no more: depth tilts the implicit bias towards low frequencies. For a smooth target this
# lowers the bias, the falling **left arm**; the bias is smallest at
# $L =$ {glue:text}`ch17_bias_depth` ({glue:text}`ch17_bias_min`) and then barely moves
# ({glue:text}`ch17_bias_deep` at the deepest $L$): without label noise the risk falls to a
# plateau. The rising **right arm** is the label-noise *variance*: the weights
# $\lvert \hat a_k \rvert^{2(L-1)}$ decay ever faster, only a handful of low frequencies remain
# cheap, and fitting the noise forces the interpolant onto expensive directions, so the variance
# grows with depth (loosely, fewer effective parameters per sample, as in the mild regime of
# {prf:ref}`prop-ch17-fixed-ratio`). The risk is smallest at $L =$ {glue:text}`ch17_best_depth`,
# and where the U bottoms out is a property of the target as much as of the model: for the
# smoothness values $\ell = 1.5, 3, 10$ the best depths are {glue:text}`ch17_best_smooth`. The
# model does not explain the deep convolutional networks of the next section by itself; we test
# there which of its two effects they show.
#
# (sec-ch17-cntk)=
# ## The kernel of deep convolutional networks: a U-shaped test error
#
# Nichani et al. {cite}`nichani2020increasing` show the U shape with ResNets and with the
# *convolutional neural tangent kernel* (CNTK): the kernel that gradient descent on an infinitely
# wide convolutional network follows, computed in closed form {cite}`arora2019exact`. We compute it
# for one-dimensional signals, where it is cheap, and regress noisy labels with it, interpolating.

# %% [markdown]
# :::{prf:definition} CNTK of a deep circular ReLU CNN with global average pooling
# :label: def-ch17-cntk
#
# Inputs are signals $x \in \mathbb R^d$ indexed by $\mathbb Z_d$. The network has $L$ layers,
# each a circular convolution with filters of size 3 followed by ReLU, with infinitely many channels
# and the NTK parameterisation, then a global average pool and a linear read-out. Let
# $\mathcal T(M)_{ij} = \frac13 \sum_{a \in \{-1, 0, 1\}} M_{i+a,\, j+a}$ for $M \in \mathbb R^{d \times d}$,
# and for $2\times 2$ covariances with variances $v, v'$ and covariance $\rho$ let
# $V(\rho) = \frac{\sqrt{vv'}}{\pi}\big(\sin\vartheta + (\pi - \vartheta)\cos\vartheta\big)$ and
# $\dot V(\rho) = \frac{\pi - \vartheta}{\pi}$, with $\cos\vartheta = \rho/\sqrt{vv'}$ (the ReLU
# expectations $2\,\mathbb E[\sigma(u)\sigma(u')]$, $2\,\mathbb E[\sigma'(u)\sigma'(u')]$).
# For a pair of inputs start from $P_1 = \Theta_1 = \mathcal T(x x'^\top)$ and, for
# $l = 1, \dots, L$, apply $V$ and $\dot V$ entrywise (variances from the same recursion for
# $(x, x)$ and $(x', x')$):
#
# $$ \Sigma_l = V(P_l), \quad \Pi_l = \Theta_l \odot \dot V(P_l) + \Sigma_l, \quad P_{l+1} = \mathcal T(\Sigma_l), \quad \Theta_{l+1} = \mathcal T(\Pi_l). $$
#
# The CNTK is $K_L(x, x') = \frac{1}{d^2} \sum_{i,j} (\Pi_L)_{ij}$.
# :::
#
# This is the recursion of Arora et al. {cite}`arora2019exact` specialised to one dimension and
# circular padding; one pass through the layers gives the kernels of all depths at once. Exercise
# {ref}`Exercise <ex-ch17-linear-cntk>` shows why the ReLU matters: with the identity instead, $K_L$ is
# $(L+1)\,\bar x\, \bar x'$ at every depth, and interpolation does not depend on $L$ at all.
#
# (sec-ch17-cntk-depth)=
# ### Experiment: CNTK regression of noisy labels against depth
#
# The task: $x$ uniform on the sphere of radius $\sqrt d$ in $\mathbb R^d$ with $d = 12$, clean
# label $f^\star(x) = \operatorname{sign} \sum_i x_i x_{i+4}$ (a correlation at distance 4, which
# a shallow network with its small receptive field cannot see), and training labels flipped with
# probability $\eta$. For each depth we interpolate the noisy labels,
# $\hat f(x) = K_L(x, X) K_L(X, X)^{-1} y$, and measure the classification error of
# $\operatorname{sign}\hat f$ on fresh inputs against clean labels; the same with clean training
# labels is the control. Over the noise, the squared risk against the regression function
# $(1 - 2\eta) f^\star$ splits exactly into a bias
# $\lVert H (1-2\eta) f^\star(X) - (1-2\eta) f^\star(X_{\mathrm{test}})\rVert^2 / m_{\mathrm{test}}$ and
# a variance $4\eta(1-\eta) \lVert H \rVert_F^2 / m_{\mathrm{test}}$, with
# $H = K_L(X_{\mathrm{test}}, X) K_L(X, X)^{-1}$: we record both, to see which one makes each arm.
# Seeds are independent draws of the training and test sets.


# %%
def window(M):
    """T(M)_ij = mean over a in {-1, 0, 1} of M[i+a, j+a] (circular), on the last two axes."""
    return (M + M.roll((1, 1), (-2, -1)) + M.roll((-1, -1), (-2, -1))) / 3


def window_diag(v):
    """The same on variances (diagonals), on the last axis."""
    return (v + v.roll(1, -1) + v.roll(-1, -1)) / 3


def cntk_all_depths(xa, xb, depth_max):
    """CNTK of def-ch17-cntk between rows of xa (A, d) and xb (B, d), depths 1..depth_max.

    Returns a float64 array (depth_max, A, B)."""
    xa, xb = (
        torch.as_tensor(xa, dtype=CNTK_DTYPE),
        torch.as_tensor(xb, dtype=CNTK_DTYPE),
    )
    P = window(xa[:, None, :, None] * xb[None, :, None, :])
    Theta = P.clone()
    va, vb = window_diag(xa**2), window_diag(xb**2)
    out = []
    for _ in runtime.progress(range(depth_max), "layers", steps=True):
        scale = torch.sqrt(va[:, None, :, None] * vb[None, :, None, :])
        cos = (P / scale).clamp_(-1, 1)
        angle = torch.arccos(cos)
        Sigma = scale * (torch.sin(angle) + (math.pi - angle) * cos) / math.pi
        Pi = Theta * (math.pi - angle) / math.pi + Sigma
        out.append(Pi.mean((-2, -1)).double())
        P, Theta = window(Sigma), window(Pi)
        va, vb = window_diag(va), window_diag(vb)  # the ReLU map V keeps variances
    return torch.stack(out).numpy()


def corr_task(n, rng):
    """n signals uniform on the sphere of radius sqrt(d), label sign(sum_i x_i x_{i+k})."""
    x = rng.standard_normal((n, CNTK_D))
    x *= math.sqrt(CNTK_D) / np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.sign((x * np.roll(x, -CNTK_K, 1)).sum(1))


def cntk_depth_run(seed):
    """Errors (noisy and clean labels), bias, variance and training residual at every depth."""
    rng = np.random.default_rng([cfg.seed, 17, seed])
    x_tr, f_tr = corr_task(CNTK_TRAIN, rng)
    x_te, f_te = corr_task(CNTK_TEST, rng)
    y_tr = f_tr * np.where(rng.random(CNTK_TRAIN) < CNTK_ETA, -1.0, 1.0)
    K = cntk_all_depths(np.concatenate([x_tr, x_te]), x_tr, CNTK_LMAX)
    h = 1 - 2 * CNTK_ETA
    out = {k: [] for k in ("err", "err_clean", "bias", "var", "resid", "corr")}
    for K_L in K:
        K_tr, K_te = K_L[:CNTK_TRAIN], K_L[CNTK_TRAIN:]
        H = np.linalg.solve(K_tr, K_te.T).T
        out["err"].append(np.mean(np.sign(H @ y_tr) != f_te))
        out["err_clean"].append(np.mean(np.sign(H @ f_tr) != f_te))
        out["bias"].append(np.mean((h * (H @ f_tr) - h * f_te) ** 2))
        out["var"].append(4 * CNTK_ETA * (1 - CNTK_ETA) * (H**2).sum() / CNTK_TEST)
        alpha = np.linalg.solve(K_tr, y_tr)
        out["resid"].append(np.abs(K_tr @ alpha - y_tr).max())
        scale = np.sqrt(np.diag(K_tr))  # mean normalised off-diagonal entry of K(X, X)
        out["corr"].append(
            ((K_tr / np.outer(scale, scale)).sum() - CNTK_TRAIN)
            / (CNTK_TRAIN * (CNTK_TRAIN - 1))
        )
    return {k: np.array(v) for k, v in out.items()}


cntk_runs = [cntk_depth_run(s) for s in runtime.progress(range(CNTK_SEEDS), "seeds")]
cntk = {k: np.stack([r[k] for r in cntk_runs]) for k in cntk_runs[0]}  # (seeds, depths)
L_axis = np.arange(
    1, cntk["err"].shape[1] + 1
)  # all depths (3 in the capped smoke run)
cntk_mean = cntk["err"].mean(0)
i_star = int(np.argmin(cntk_mean))
L_star = int(L_axis[i_star])
left_rise = cntk["err"][:, 0] - cntk["err"][:, i_star]  # paired over seeds
right_rise = cntk["err"][:, -1] - cntk["err"][:, i_star]
se2 = lambda v: 2 * v.std(ddof=1) / math.sqrt(len(v))
print("depth:          ", L_axis.tolist())
print("error (noisy):  ", cntk_mean.round(3).tolist())
print("error (clean):  ", cntk["err_clean"].mean(0).round(3).tolist())
print("bias:           ", cntk["bias"].mean(0).round(3).tolist())
print("variance:       ", cntk["var"].mean(0).round(3).tolist())
print("kernel corr.:   ", cntk["corr"].mean(0).round(3).tolist())
print(
    f"best depth {L_star}; left arm {left_rise.mean():.3f} ± {se2(left_rise):.3f}, right arm "
    f"{right_rise.mean():.3f} ± {se2(right_rise):.3f}; largest training residual "
    f"{cntk['resid'].max():.1e}"
)
notebook.glue("ch17_cntk_eta", f"{CNTK_ETA}")
notebook.glue("ch17_cntk_m", CNTK_TRAIN)
notebook.glue("ch17_cntk_seeds", CNTK_SEEDS)
notebook.glue("ch17_cntk_err1", f"{cntk_mean[0]:.3f}")
notebook.glue("ch17_cntk_best_L", L_star)
notebook.glue("ch17_cntk_best", f"{cntk_mean[i_star]:.3f}")
notebook.glue("ch17_cntk_deep_L", int(L_axis[-1]))
notebook.glue("ch17_cntk_deep", f"{cntk_mean[-1]:.3f}")
notebook.glue("ch17_cntk_left", f"{left_rise.mean():.3f} ± {se2(left_rise):.3f}")
notebook.glue("ch17_cntk_right", f"{right_rise.mean():.3f} ± {se2(right_rise):.3f}")
notebook.glue("ch17_cntk_resid", f"{cntk['resid'].max():.0e}")
corr_mean = cntk["corr"].mean(0)
bias_mean, var_mean = cntk["bias"].mean(0), cntk["var"].mean(0)
notebook.glue("ch17_cntk_bias1", f"{bias_mean[0]:.3f}")
notebook.glue("ch17_cntk_zero", f"{(1 - 2 * CNTK_ETA) ** 2:.3f}")
notebook.glue("ch17_cntk_bias2", f"{bias_mean[min(1, len(L_axis) - 1)]:.3f}")
notebook.glue("ch17_cntk_bias_best", f"{bias_mean[i_star]:.3f}")
notebook.glue("ch17_cntk_var2", f"{var_mean[min(1, len(L_axis) - 1)]:.3f}")
notebook.glue("ch17_cntk_var_best", f"{var_mean[i_star]:.3f}")
notebook.glue("ch17_cntk_corr1", f"{corr_mean[0]:.3f}")
notebook.glue("ch17_cntk_corr_best", f"{corr_mean[i_star]:.3f}")
notebook.glue("ch17_cntk_corr_deep", f"{corr_mean[-1]:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
ax = axes[0]
plotting.plot_band(
    ax,
    L_axis,
    cntk["err"].T,
    label=f"noisy labels ($\\eta$ = {CNTK_ETA}), median and 10–90% band",
)
ax.plot(
    L_axis,
    cntk["err_clean"].mean(0),
    "--",
    color=plotting.COLORS[0],
    label="clean labels (mean)",
)
ax.axvline(L_star, color="gray", ls=":", lw=1)
ax.set(
    xlabel="depth $L$ (conv layers)",
    ylabel="test error (clean test labels)",
    title=f"CNTK interpolation, {CNTK_SEEDS} seeds: U-shaped in depth",
)
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(L_axis, cntk["bias"].mean(0), "--", color=plotting.COLORS[0], label="bias")
ax.plot(L_axis, cntk["var"].mean(0), ":", color=plotting.COLORS[2], label="variance")
ax.plot(
    L_axis,
    (cntk["bias"] + cntk["var"]).mean(0),
    "-",
    color=plotting.COLORS[1],
    label="squared risk",
)
ax.set(
    xlabel="depth $L$",
    ylabel="squared risk against $(1-2\\eta) f^\\star$",
    ylim=(0, None),
    title="Which arm is which: the variance falls, the bias rises",
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Every kernel interpolates its {glue:text}`ch17_cntk_m` noisy training labels (largest residual
# {glue:text}`ch17_cntk_resid`). The test error is {glue:text}`ch17_cntk_err1` at $L = 1$, falls to
# {glue:text}`ch17_cntk_best` at $L =$ {glue:text}`ch17_cntk_best_L` and rises to
# {glue:text}`ch17_cntk_deep` at $L =$ {glue:text}`ch17_cntk_deep_L`; paired over the
# {glue:text}`ch17_cntk_seeds` seeds, the left arm is {glue:text}`ch17_cntk_left` and the right arm
# {glue:text}`ch17_cntk_right` (mean ± 2 s.e.): a U with both arms, in the paper's setting of a
# convolutional kernel fitting label noise (on a one-dimensional synthetic task, not CIFAR).
#
# The decomposition says which mechanism makes each arm, and it is *not* the one of the linear
# model above. The first step of the left arm is the receptive field: with one layer of size-3
# filters and average pooling the predictor is a sum of functions of three neighbouring entries,
# which cannot express a correlation at distance 4 (the bias at $L = 1$,
# {glue:text}`ch17_cntk_bias1`, is above that of the zero predictor, $(1-2\eta)^2 =$
# {glue:text}`ch17_cntk_zero`). From $L = 2$ to the best depth the bias goes from
# {glue:text}`ch17_cntk_bias2` to {glue:text}`ch17_cntk_bias_best` and the variance from
# {glue:text}`ch17_cntk_var2` to {glue:text}`ch17_cntk_var_best`. On the right arm the **variance keeps
# falling** with depth and the **bias rises**: the deeper kernel fits the same clean target worse
# (the clean-label control rises too), while it fits the noise more gently. We have not pinned
# down why the bias rises. One tempting explanation, that the deep kernel forgets the inputs and
# all points look alike, is not what happens at these depths: the mean normalised off-diagonal
# entry $K_L(x_i, x_j)/\sqrt{K_L(x_i,x_i)K_L(x_j,x_j)}$ of the training kernel is
# {glue:text}`ch17_cntk_corr1` at $L = 1$, {glue:text}`ch17_cntk_corr_best` at the best depth and
# {glue:text}`ch17_cntk_corr_deep` at the deepest. So the linear model's mechanism, variance from
# fitting noise with ever fewer cheap directions, is not what makes this kernel's right arm; what
# the two share is only that depth changes the implicit bias of an interpolating solution, for
# better first and worse later.
#
# ## Checks
#
# The cell below (hidden in the book) asserts, with comparisons and margins fixed before the runs:
# the simulated 1-NN error is within $0.03$ of $2p(1-p)$ at every noise rate of the grid; the
# distillation teacher is within $0.03$ of $2p(1-p)$ and every student within $0.03$ of the Bayes
# error on the same test labels. In the noisy mixture: at $N/m = 1.5$ the interpolant's mean clean
# error at the largest $m$ is at least $0.2$ even at its lower 2-s.e. bound (the limit of
# {prf:ref}`prop-ch17-fixed-ratio` is about $0.30$), and within $0.03$ of the leading-order theory;
# at $N/m = 30$ it is at most $0.01$ at the largest $m$ and at most a quarter of its value at the
# smallest $m$; with clean labels at $N/m = 1.5$ it is at most $0.01$; the self-trained student
# gains at least $0.15$ over the interpolant at $N/m = 1.5$ at every $m$. In the linear conv model:
# an interior minimum of the risk, at least $0.2$ below both ends, the variance increasing in $L$
# (the best depths for the three smoothness values are printed, not asserted). In the CNTK: every kernel
# interpolates (residual below $10^{-6}$), the mean test error has an interior minimum, and both
# arms, paired over seeds, are positive at their lower 2-s.e. bound, the left one at least $0.1$
# and the right one at least $0.05$ on average; the variance at the deepest $L$ is below its value
# at the best depth and the bias above it.

# %% tags=["remove-input"]
TOL_SAMPLER = 0.03
# 1. the 1-NN rule is a sampler: error near 2p(1-p) across the noise grid, disagreement with f* near p
reproduce.report(
    "kaplun2022knowledge",
    claim="an interpolating 1-NN rule trained on labels with noise rate p is a conditional "
    "sampler: its error tends to 2p(1-p), not to the Bayes error p",
    paper_value="2p(1-p)",
    value=f"largest |error - 2p(1-p)| {gap_sampler:.4f}, |disagreement with f* - p| "
    f"{np.abs(err_clean - P_GRID).max():.4f}",
    assertion=f"disc task in 2D, m = {M_TRAIN} training points: at every p in 0, 0.05, ..., 0.45 "
    "the 1-NN error on fresh noisy labels is within 0.03 of 2p(1-p) and its disagreement with "
    "the clean label within 0.03 of p",
    passed=bool(
        gap_sampler <= TOL_SAMPLER and np.abs(err_clean - P_GRID).max() <= TOL_SAMPLER
    ),
    status="reproduced",
    section="sec-ch17-sampler",
)
# 2. distillation: teacher near 2p(1-p) (and clearly above Bayes); every student near the Bayes error p
reproduce.report(
    "kaplun2022knowledge",
    claim="a bad classifier can be a good teacher: students distilled from a sampler (here the "
    "1-NN rule) on unlabelled data approach the Bayes-optimal error",
    paper_value="student error close to Bayes, teacher error about 2p(1-p)",
    value=f"teacher {teacher_err:.3f}, students {student_err.min():.3f}-{student_err.max():.3f}, "
    f"Bayes {bayes_err:.3f}",
    assertion=f"p = {P_DISTILL}, 1-NN teacher on {M_TEACHER} points labelling {U_POOL} fresh "
    f"inputs, {len(SEEDS)} MLP students: the teacher within 0.03 of 2p(1-p) and at least 0.08 "
    "above p, every student within 0.03 of the Bayes error on the same test labels and at least "
    "0.08 below the teacher",
    passed=bool(
        abs(teacher_err - analysis.sampler_error(P_DISTILL)) <= TOL_SAMPLER
        and teacher_err >= P_DISTILL + 0.08
        and np.all(np.abs(student_err - bayes_err) <= TOL_SAMPLER)
        and np.all(student_err <= teacher_err - 0.08)
    ),
    status="reproduced",
    section="sec-ch17-distillation",
)
# 3. the phase change at fixed ratios, as m grows (noisy Gaussian mixture, min-norm interpolant)
reproduce.report(
    "wen2022benign",
    claim="with label noise, interpolation is harmful under mild over-parameterization (excess "
    "error bounded away from zero at a fixed ratio N/m as m grows) and benign under heavy "
    "over-parameterization; without label noise it is benign",
    paper_value="excess error bounded away from zero (mild, noisy) vs vanishing (heavy)",
    value=f"N/m = {RATIOS[0]}: {mild_err[0]:.3f} at m = {N_GRID[0]}, {mild_err[-1]:.3f} ± "
    f"{mild_2se[-1]:.3f} at m = {n_big} (theory {mild_theory:.3f}, limit "
    f"{fixed_ratio_limit(RATIOS[0], ETA):.3f}); N/m = {RATIOS[-1]}: {heavy_err[0]:.4f} -> "
    f"{heavy_err[-1]:.4f}; clean labels at N/m = {RATIOS[0]}: {mild_clean[-1]:.4f}",
    assertion=f"noisy Gaussian mixture, eta = {ETA}, r = {R_SCALE} m^(1/4), min-norm "
    f"interpolant (not the paper's max-margin classifier), {MIX_SEEDS} draws per point: at "
    f"N/m = {RATIOS[0]} and m = {n_big} the mean clean error minus 2 s.e. is >= 0.2 and within "
    f"0.03 of the theory; at N/m = {RATIOS[-1]} the error at m = {n_big} is <= 0.01 and <= 1/4 "
    f"of that at m = {N_GRID[0]}; with clean labels at N/m = {RATIOS[0]} it is <= 0.01",
    passed=bool(
        mild_err[-1] - mild_2se[-1] >= 0.2
        and abs(mild_err[-1] - mild_theory) <= 0.03
        and heavy_err[-1] <= 0.01
        and heavy_err[-1] <= heavy_err[0] / 4
        and mild_clean[-1] <= 0.01
    ),
    status="partly",
    section="sec-ch17-benign",
)
reproduce.report(
    "wen2022benign",
    claim="self-training (the same model re-labels the training set, then is retrained) "
    "improves generalization in the mildly over-parameterized regime",
    paper_value=None,
    value=f"N/m = {RATIOS[0]}: interpolant {np.round(mild_err, 3).tolist()} -> self-trained "
    f"{np.round(mild_student, 4).tolist()} for m = {N_GRID}",
    assertion=f"same sweep: the same linear model stopped at gradient-flow time {TAU_TEACHER}/N "
    "re-labels its training inputs and is then trained to interpolation on these labels; its "
    f"mean clean error is at least 0.15 below the noisy interpolant's at N/m = {RATIOS[0]} for "
    "every m (our two-round procedure, not checked against the paper's)",
    passed=bool(np.all(mild_student <= mild_err - 0.15)),
    status="partly",
    section="sec-ch17-benign",
)
# 4. depth, the chapter's linear conv model: a U made of bias (left) and noise variance (right)
reproduce.check(
    bool(
        1 < L_best < DEPTHS[-1]
        and np.all(np.diff(var_L) > 0)
        and risk_L[0] >= risk_L.min() + 0.2
        and risk_L[-1] >= risk_L.min() + 0.2
    ),
    "linear conv model: interior risk minimum 0.2 below both ends, variance increasing in L",
)
# 5. depth, the CNTK of a deep circular CNN fitting noisy labels: both arms of the U
reproduce.report(
    "nichani2020increasing",
    claim="the test error of the convolutional neural tangent kernel, interpolating noisy labels, "
    "is U-shaped in the depth: it first falls, then rises",
    paper_value="U-shaped test risk in depth (ResNets, fully convolutional networks "
    "and the CNTK, image classification)",
    value=f"error {cntk_mean[0]:.3f} at L = 1, {cntk_mean[i_star]:.3f} at L = {L_star}, "
    f"{cntk_mean[-1]:.3f} at L = {L_axis[-1]}; arms (paired, mean ± 2 s.e.) left "
    f"{left_rise.mean():.3f} ± {se2(left_rise):.3f}, right {right_rise.mean():.3f} ± "
    f"{se2(right_rise):.3f}",
    assertion=f"CNTK of a 1-D circular ReLU CNN with average pooling, d = {CNTK_D}, label "
    f"sign(sum x_i x_(i+{CNTK_K})), {CNTK_TRAIN} training points with label noise "
    f"{CNTK_ETA}, ridgeless interpolation, {CNTK_SEEDS} seeds: every residual < 1e-6; the mean "
    "error's minimum is at an interior depth; left arm mean >= 0.1 and right arm mean >= 0.05, "
    "both positive at mean - 2 s.e.",
    passed=bool(
        cntk["resid"].max() < 1e-6
        and 0 < i_star < len(L_axis) - 1
        and left_rise.mean() >= 0.1
        and right_rise.mean() >= 0.05
        and left_rise.mean() - se2(left_rise) > 0
        and right_rise.mean() - se2(right_rise) > 0
    ),
    status="reproduced",
    section="sec-ch17-cntk-depth",
)
reproduce.check(
    bool(
        cntk["var"].mean(0)[-1] < cntk["var"].mean(0)[i_star]
        and cntk["bias"].mean(0)[-1] > cntk["bias"].mean(0)[i_star]
    ),
    "CNTK: on the right arm the variance falls and the bias rises",
)

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change the noise rate, the teacher's sample size and the student's width: the teacher's error
# tracks $2p(1-p)$, while the student stays near $p$ as long as it is too small to copy the
# speckles. (In a static build this shows the default setting.)


# %%
def explore_distillation(p=0.2, m_teacher=5000, width=32):
    """Distil a 1-NN teacher (m_teacher noisy samples at rate p) into 2 MLP students of the given width."""
    g = torch.Generator().manual_seed(7)
    xt, ft = sample_disc_task(m_teacher, g)
    yt = tasks.flip_signs(ft, p, generator=g)
    xp, _ = sample_disc_task(10_000, g)
    xe, fe = sample_disc_task(3_000, g)
    ye = tasks.flip_signs(fe, p, generator=g)
    t_err = (analysis.nearest_neighbour(xt, yt, xe) != ye).float().mean().item()
    net = ensemble.stack([models.MLP(2, width, depth=2, seed=s) for s in (0, 1)])
    h = train.fit(
        net,
        pool_batches(xp, analysis.nearest_neighbour(xt, yt, xp)),
        steps=800,
        loss="logistic",
        optimizer="adam",
        lr=3e-3,
        evaluate=error_against(xe, ye),
        eval_every=100,
        desc="explore",
    )
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(h.step_array, h["err"], color=plotting.COLORS[2], lw=1)
    ax.plot([], [], color=plotting.COLORS[2], label="students")
    ax.axhline(
        t_err, color=plotting.COLORS[1], ls="--", label=f"teacher (1-NN) {t_err:.3f}"
    )
    ax.axhline(p, color=plotting.COLORS[0], ls=":", label=f"Bayes error p = {p}")
    ax.set(
        xlabel="student steps",
        ylabel="test error (noisy labels)",
        ylim=(0, 0.6),
        title=f"p = {p}, teacher on m = {m_teacher}, student width {width}",
    )
    ax.legend(fontsize=8)
    plt.show()


notebook.explore(
    explore_distillation,
    p=(0.2, (0.0, 0.45, 0.05)),
    m_teacher=(5000, (500, 20000, 500)),
    width=(32, (4, 256, 4)),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} The 1-NN rule with many classes
# :label: ex-ch17-multiclass
#
# Let there be $C$ classes, a deterministic clean label $c^\star(x)$, and noise that replaces the
# label, with probability $p$, by one of the $C - 1$ other classes chosen uniformly. Under the
# assumptions of {prf:ref}`thm-ch17-one-nn`, find the limit of the 1-NN error against noisy test
# labels, and the Bayes error. For which $p$ is the clean label still the Bayes prediction?
# *Difficulty: ★☆☆, about 15 min.*
# :::
#
# :::{solution} ex-ch17-multiclass
# :class: dropdown
#
# As in the proof, the neighbour's label is eventually a fresh noisy copy of $c^\star(x)$,
# independent of the test label. They agree if both are clean, probability $(1-p)^2$, or both are
# the same wrong class, probability $(C-1) \cdot (p/(C-1))^2 = p^2/(C-1)$. So the error tends to
# $1 - (1-p)^2 - p^2/(C-1)$, which is $2p(1-p)$ for $C = 2$. Given $x$, the clean class has
# probability $1 - p$ and each other class $p/(C-1)$, so the Bayes prediction is $c^\star(x)$ iff
# $1 - p > p/(C-1)$, i.e. $p < (C-1)/C$, and then the Bayes error is $p$.
# :::
#
# :::{exercise} Majority of k neighbours is not a sampler
# :label: ex-ch17-knn
#
# Replace the 1-NN rule by the majority vote of the $k$ nearest neighbours, $k$ odd and fixed. Show
# that in the large-sample limit its error against clean labels is
# $\Pr[\mathrm{Bin}(k, p) > k/2]$, and that it tends to $0$ as $k \to \infty$. Write
# `knn_clean_error(k, p)` that returns this number, and check it against a simulation with
# `check_knn(knn_clean_error)` below. *Difficulty: ★★☆, about 20 min.*
# :::


# %%
def check_knn(fn, m=20_000, trials=4_000, seed=3):
    """Compare fn(k, p) with the simulated clean-label error of the k-NN majority vote on the disc task."""
    g = torch.Generator().manual_seed(seed)
    x, f = sample_disc_task(m, g)
    xq, fq = sample_disc_task(trials, g)
    idx = (
        torch.cdist(xq, x).topk(9, largest=False).indices
    )  # 9 nearest neighbours of each query
    ok = True
    for k in (1, 3, 5, 9):
        for p in (0.1, 0.3):
            y = tasks.flip_signs(f, p, generator=g)
            sim = (torch.sign(y[idx[:, :k]].sum(1)) != fq).float().mean().item()
            got = float(fn(k, p))
            if abs(got - sim) > 0.03:
                print(f"k = {k}, p = {p}: your value {got:.4f}, simulation {sim:.4f}")
                ok = False
    print(
        "matches the simulation for k in (1, 3, 5, 9), p in (0.1, 0.3)"
        if ok
        else "see the mismatches above"
    )
    return ok


# %% [markdown]
# :::{solution-start} ex-ch17-knn
# :class: dropdown
# :::
#
# For almost every $x$ all $k$ nearest neighbours converge to $x$ (Step 1 of the proof with the
# $k$-th neighbour: $\Pr[\text{fewer than } k \text{ points in } B(x,r)] \to 0$) and eventually share
# the clean label $f^\star(x)$; their noise signs are $k$ independent coins (Step 3). The vote is
# wrong iff more than $k/2$ of them flipped: probability $\Pr[\mathrm{Bin}(k, p) > k/2]$, which tends
# to $0$ as $k \to \infty$ for $p < 1/2$ by the law of large numbers. The $k$-NN rule with
# $k \to \infty$ (and $k/m \to 0$) is consistent — it averages the noise instead of sampling it, and
# it no longer interpolates.


# %%
def knn_clean_error(k, p):
    """Limit of the k-NN majority vote's disagreement with the clean label: P[Bin(k, p) > k/2]."""
    return sum(
        math.comb(k, j) * p**j * (1 - p) ** (k - j) for j in range(k // 2 + 1, k + 1)
    )


assert check_knn(knn_clean_error)
assert not check_knn(lambda k, p: p)  # wrong: the 1-NN limit p, whatever k

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} The parameter norm of a deep linear convolution
# :label: ex-ch17-norm
#
# For the network of {prf:ref}`def-ch17-deep-conv`, show that the least total squared norm
# $\sum_l \lVert w_l \rVert^2$ over all factorisations $w_1 \circledast \cdots \circledast w_L = \beta$
# equals $\frac{L}{N} \sum_k \lvert \hat\beta_k \rvert^{2/L}$. What does this say about the
# interpolant that minimises the parameter norm, as $L$ grows? *Difficulty: ★★★, about 30 min.*
# :::
#
# :::{solution} ex-ch17-norm
# :class: dropdown
#
# By Parseval $\sum_l \lVert w_l\rVert^2 = \frac1N\sum_k \sum_l \lvert \hat w_{l,k}\rvert^2$, and the
# constraint reads $\prod_l \hat w_{l,k} = \hat\beta_k$ for each $k$ separately. By the AM–GM
# inequality $\sum_l \lvert \hat w_{l,k}\rvert^2 \ge L \big(\prod_l \lvert \hat w_{l,k}\rvert^2\big)^{1/L} = L\lvert\hat\beta_k\rvert^{2/L}$,
# with equality when all $\lvert \hat w_{l,k} \rvert = \lvert\hat\beta_k\rvert^{1/L}$. Such factors
# exist with real filters: give every factor the modulus $\lvert\hat\beta_k\rvert^{1/L}$, put the whole
# phase of $\hat\beta_k$ on the first factor, and choose the values at $k$ and $N - k$ conjugate (for
# the real frequencies $k = 0$ and $k = N/2$, the phase is a sign, again put on the first factor).
# So the norm-minimising interpolant minimises the quasi-norm $\sum_k \lvert\hat\beta_k\rvert^{2/L}$:
# for $L = 1$ the Euclidean norm, for $L = 2$ the $\ell_1$ norm of the spectrum, and for large $L$
# something close to the *number* of non-zero frequencies. Depth makes the bias towards sparse
# spectra stronger — the regime of {cite}`gunasekar2018implicit` for linear convolutional networks.
# :::
#
# :::{exercise} Why the ReLU: the linear CNTK with average pooling
# :label: ex-ch17-linear-cntk
#
# Replace the ReLU in {prf:ref}`def-ch17-cntk` by the identity, so that $V(\rho) = \rho$ and
# $\dot V = 1$. Show that $K_L(x, x') = (L + 1)\, \bar x\, \bar x'$ with $\bar x = \sum_i x_i / d$,
# and conclude that kernel interpolation with $K_L$ gives the same predictor at every depth. What
# does this say about where the depth dependence of {prf:ref}`lem-ch17-conv-ntk` comes from?
# *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch17-linear-cntk
# :class: dropdown
#
# Let $S(M) = \sum_{i,j} M_{ij}$. The window preserves it: $S(\mathcal T(M)) = \frac13\sum_a
# \sum_{i,j} M_{i+a, j+a} = S(M)$, because $(i,j) \mapsto (i+a, j+a)$ is a bijection of
# $\mathbb Z_d^2$. With the identity, $\Sigma_l = P_l$ and $\Pi_l = \Theta_l + P_l$, so
# $S(P_l) = S(xx'^\top) = d^2 \bar x \bar x'$ for every $l$, and $S(\Theta_{l+1}) = S(\Theta_l) +
# d^2\bar x\bar x'$ with $S(\Theta_1) = d^2 \bar x \bar x'$, so $S(\Theta_L) = L d^2 \bar x\bar x'$
# and $K_L = S(\Pi_L)/d^2 = (L+1)\bar x\bar x'$. A kernel multiplied by a constant gives the same
# interpolant, $cK(x, X)(cK(X,X))^{+}y = K(x,X)K(X,X)^{+}y$, so the predictor does not depend on
# $L$. In the infinite-width limit with independent random filters, depth alone does nothing to a
# linear convolutional network with average pooling; the depth dependence of
# {prf:ref}`lem-ch17-conv-ntk` comes from the *shared* filter $a$ of its initialisation (a
# deterministic low-pass filter applied $L-1$ times), and that of the ReLU CNTK from the
# nonlinearity.
# :::
#
# ## Discussion and further reading
#
# - **Samplers and calibration.** A sampler's conditional distribution matches the data's; a
#   classifier only needs the right *argmax*. Which of the two do you want from a model that will be
#   distilled, ensembled or used for uncertainty estimates? See {cite}`nakkiran2020distributional` for
#   "distributional generalization".
# - **How small must the student be?** {prf:ref}`prop-ch17-distillation` needs a class that cannot
#   distinguish the teacher from the data. A student as large as the teacher can copy the noise.
#   How does the largest safe student size depend on $m$ and on the geometry of the teacher's
#   errors?
# - **Mild versus heavy.** In {prf:ref}`prop-ch17-fixed-ratio` the harm of interpolation is the
#   norm $4\eta(1-\eta)\,m/(N-m)$ spent on the flipped labels. What plays the role of $N/m$ in a
#   real network, and why might ImageNet-scale training sit in the mild regime, as Wen et al.
#   {cite}`wen2022benign` argue? How does the max-margin classifier, their object, differ from the
#   min-norm interpolant when not every sample is a support vector?
# - **Two causes of a right arm.** In the linear conv model the right arm is label-noise variance;
#   in the CNTK it is bias, the deep kernel forgetting local structure. Which would you expect in a
#   trained ResNet, and what measurement would tell them apart?
# - **Depth as a transformation.** In {prf:ref}`lem-ch17-conv-ntk` depth acts by a power of one
#   operator. What changes with ReLUs, pooling or residual connections?
#
# Further reading: {cite}`kaplun2022knowledge` for the sampler framework and kernel samplers;
# {cite}`nakkiran2020distributional` for the experiments that motivated it; {cite}`wen2022benign` for
# the phase change of benign overfitting and self-training, and {cite}`chatterji2021finite` for the
# heavily over-parameterized mixture; {cite}`nichani2020increasing` for the linear CNTK and the
# depth-dependent bias and variance; {cite}`arora2019exact` for computing the CNTK.
