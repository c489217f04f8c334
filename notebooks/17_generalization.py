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
# noise is benign depends on *how much* over-parameterization there is: with many more parameters
# than samples it is, with only mildly more it is harmful, and self-training repairs part of the
# damage. Third, *depth*, unlike width, changes the implicit bias of minimum-norm solutions, and
# in a deep linear convolutional model the test risk is U-shaped in the depth; a trained
# convolutional network on digits shows the rising arm.
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
# rate and $L$ the depth.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: under a minute on one CPU core.
# Full mode (set `SCALE = "full"` in the first code cell) uses ten times larger samples for the
# 1-NN rule and its distillation, more seeds for the students, the digits sweep and the CNNs, and a
# longer depth sweep: about a minute on one CPU core. The figures in the book are from quick
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
from sklearn.datasets import load_digits

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
# tail sizes D of the digits sweep (N = 150 + D features)
D_TAIL = cfg.pick(
    quick=[0, 50, 100, 140, 160, 200, 300, 600, 1500, 6000],
    full=[0, 25, 50, 75, 100, 120, 140, 150, 160, 180, 200, 250, 300, 450, 600]
    + [1000, 1500, 3000, 6000, 12000],
)
# test images of the digits sweep (full: all the rest), and its splits, noise draws and features
TEST_DIG = cfg.pick(quick=600, full=1497)
DIG_SEEDS = cfg.pick(quick=1, full=5)
# depths L of the linear conv model, and draws of the training inputs averaged per depth
DEPTHS = np.arange(1, cfg.pick(quick=17, full=25))
DRAWS = cfg.pick(quick=100, full=1000)
# the CNN sweep: depths, channels, training images, seeds per depth (one stack),
# most Adam steps (a member stops when it interpolates) and Adam's learning rate
CNN_DEPTHS = cfg.pick(quick=[1, 2, 3, 4, 6, 8], full=[1, 2, 3, 4, 6, 8])
CNN_WIDTH = cfg.pick(quick=8, full=8)
M_CNN = cfg.pick(quick=200, full=200)
CNN_SEEDS = cfg.pick(quick=3, full=8)
CNN_STEPS = cfg.pick(quick=400, full=400)
CNN_LR = cfg.pick(quick=3e-3, full=3e-3)

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
# :::{prf:definition} Sampler with respect to a class
# :label: def-ch17-h-sampler
#
# Let $\ell$ be a loss with values in $[0,1]$, $\mathcal H$ a class of students,
# $L_{\mathcal D}(s) = \mathbb E_{(x,y)}\, \ell(s(x), y)$ and $L_h(s) = \mathbb E_x\, \ell(s(x), h(x))$.
# A teacher $h$ is an *$\varepsilon$-sampler for $\mathcal H$* if
# $\lvert L_h(s) - L_{\mathcal D}(s) \rvert \le \varepsilon$ for every $s \in \mathcal H$.
# :::

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
# reparameterised model $\theta = D^{1/2} v$ converges to the interpolant minimising
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
# Wen, Teng and Zhang {cite}`wen2022benign` study when interpolating noisy labels is benign. In
# their analysis the answer depends on the ratio of parameters to samples. Informally:

# %% [markdown]
# :::{prf:theorem} Phase change of benign overfitting (informal)
# :label: thm-ch17-phase-change
#
# In the classification models analysed in {cite}`wen2022benign`, under *heavy*
# over-parameterization (parameters far more numerous than samples) an interpolating classifier
# trained on labels with noise rate $p$ has test error close to the best achievable: overfitting is
# benign. Under *mild* over-parameterization (parameters not much more numerous than samples) and
# label noise, interpolation can be harmful, with an excess error bounded away from zero: a phase
# change. Their analysis leads to self-training — re-labelling the data with a model's own
# predictions and retraining — as a remedy that improves generalization in the mild regime.
# :::
#
# We do not reproduce the paper's data model, assumptions or rates; the statement above is a summary,
# and the experiment below illustrates the mechanism in a model we can analyse. *(Proof sketch of the
# mechanism.)* Split the features into $k$ informative ones $\phi(x)$ and $D$ weak "tail" directions
# $g \in \mathbb R^D$ with i.i.d. $\mathcal N(0, \lambda/D)$ entries, independent of everything else.
# The minimum-norm interpolant predicts with the kernel $K = \Phi\Phi^\top + GG^\top$, and
# $GG^\top \to \lambda I_m$ as $D \to \infty$ (law of large numbers, entry by entry): heavy
# over-parameterization turns interpolation into *ridge regression* with penalty $\lambda$ on the
# informative features, which averages the noise out, while the tail absorbs it and contributes only
# vanishing noise at test time. With $k + D$ close to $m$, instead, $K$ is nearly singular and the
# interpolant's norm, and so its error, blows up (the interpolation peak of double descent). We skip
# the concentration bounds that make "$\to$" quantitative.
#
# (sec-ch17-digits)=
# ### Experiment: label noise on digits
#
# scikit-learn's $8\times 8$ digits stand in for natural images. We take $m$ training images with
# labels corrupted at rate $p$ (`tasks.flip_classes`: a wrong class chosen uniformly), $k$
# random ReLU features (the hidden layer of an `MLP` at initialisation), and $D$ tail features, and
# fit the one-hot labels by the minimum-norm interpolant of {prf:ref}`thm-ch17-min-norm`, computed in
# its kernel form $K(x, X)\, K(X, X)^{+}\, Y$ (the pseudo-inverse gives the least-squares fit where
# the model cannot interpolate), for a sweep of the total size $N = k + D$. *Self-training*: a ridge fit on the
# informative features (similar in effect to stopping gradient descent early) re-labels the training
# set with its own predictions, and the same interpolating model then fits these pseudo-labels. Our
# self-training is this simple two-round procedure; the paper's variant and its guarantees differ in
# details we do not reproduce.

# %%
digits = load_digits()
X_DIG = torch.tensor(digits.data, dtype=torch.float64) / 16
X_DIG = X_DIG - X_DIG.mean(0)
Y_DIG = torch.tensor(digits.target)

M_DIG, K_FEAT, P_DIG, LAM = 300, 150, 0.3, 0.3


def digits_sweep(seed):
    """Test errors of the min-norm interpolant on noisy / self-trained labels for each tail size D."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(X_DIG), generator=g)
    tr, te = perm[:M_DIG], perm[M_DIG : M_DIG + TEST_DIG]
    y_noisy = tasks.flip_classes(Y_DIG[tr], P_DIG, 10, generator=g)
    layer = models.MLP(64, K_FEAT, init="gaussian", seed=seed).layers[
        0
    ]  # random ReLU features
    W, b = (
        3 * layer.weight.double(),
        0.5 * torch.randn(K_FEAT, generator=g, dtype=torch.float64),
    )
    phi = lambda x: torch.relu(x @ W.T + b) / math.sqrt(K_FEAT)
    F_tr, F_te = phi(X_DIG[tr]), phi(X_DIG[te])
    K_tr, K_te = F_tr @ F_tr.T, F_te @ F_tr.T
    onehot = lambda y: torch.nn.functional.one_hot(y, 10).double()
    ridge = torch.linalg.solve(
        K_tr + LAM * torch.eye(M_DIG, dtype=torch.float64), onehot(y_noisy)
    )
    ridge_err = ((K_te @ ridge).argmax(1) != Y_DIG[te]).float().mean().item()
    pseudo = (K_tr @ ridge).argmax(1)  # self-training labels
    errs, errs_self = [], []
    for D in D_TAIL:
        G = torch.randn(M_DIG, D, generator=g, dtype=torch.float64) * math.sqrt(
            LAM / max(D, 1)
        )
        G_te = torch.randn(len(te), D, generator=g, dtype=torch.float64) * math.sqrt(
            LAM / max(D, 1)
        )
        # min-norm least squares in kernel form: predictions K(test, train) K(train, train)^+ Y
        K_pinv = torch.linalg.pinv(K_tr + G @ G.T, hermitian=True)
        K_cross = K_te + G_te @ G.T
        errs.append(
            ((K_cross @ K_pinv @ onehot(y_noisy)).argmax(1) != Y_DIG[te])
            .float()
            .mean()
            .item()
        )
        errs_self.append(
            ((K_cross @ K_pinv @ onehot(pseudo)).argmax(1) != Y_DIG[te])
            .float()
            .mean()
            .item()
        )
    return np.array(errs), np.array(errs_self), ridge_err


N_TOTAL = K_FEAT + np.array(D_TAIL)
dig_runs = [
    digits_sweep(1000 * cfg.seed + r)
    for r in runtime.progress(range(DIG_SEEDS), "splits")
]
err_interp = np.mean([r[0] for r in dig_runs], 0)
err_self = np.mean([r[1] for r in dig_runs], 0)
err_ridge = float(np.mean([r[2] for r in dig_runs]))
i_mild = int(np.argmin(np.abs(N_TOTAL - 1.5 * M_DIG)))  # mild: N = 1.5 m
i_heavy = len(N_TOTAL) - 1
print(f"m = {M_DIG}, p = {P_DIG}: ridge (no interpolation) error {err_ridge:.3f}")
for N, e, es in zip(N_TOTAL, err_interp, err_self):
    print(
        f"  N = {N:6d} ({N / M_DIG:5.1f} m): interpolating noisy labels {e:.3f} | self-trained {es:.3f}"
    )
notebook.glue("ch17_mild_err", f"{err_interp[i_mild]:.2f}")
notebook.glue("ch17_heavy_err", f"{err_interp[i_heavy]:.2f}")
notebook.glue("ch17_self_err", f"{err_self[i_mild]:.2f}")
notebook.glue("ch17_ridge_err", f"{err_ridge:.2f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.semilogx(
    N_TOTAL / M_DIG,
    err_interp,
    "o-",
    color=plotting.COLORS[1],
    label="interpolating the noisy labels",
)
ax.semilogx(
    N_TOTAL / M_DIG,
    err_self,
    "s-",
    color=plotting.COLORS[2],
    label="self-trained, then interpolating",
)
ax.axhline(
    err_ridge,
    color=plotting.COLORS[0],
    ls="--",
    label="ridge on the informative features",
)
ax.axvline(1.0, color="gray", lw=0.8, ls=":")
ax.set(
    xlabel="parameters / samples  $N / m$",
    ylabel="test error (clean test labels)",
    title=f"Digits, {int(P_DIG * 100)}% label noise: harmful near $N = m$, benign for $N \\gg m$",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The error peaks at $N \approx m$, the interpolation threshold. At $N = 1.5\,m$ (mild
# over-parameterization) the interpolant's test error is still {glue:text}`ch17_mild_err`; with $N \gg m$ it falls to {glue:text}`ch17_heavy_err`, close to the
# non-interpolating ridge fit ({glue:text}`ch17_ridge_err`). Self-training at $N = 1.5\,m$ lowers the
# error to {glue:text}`ch17_self_err`: the pseudo-labels carry less noise than the original labels,
# so the ill-conditioned interpolant has less to amplify. Left of $N = m$ the model cannot
# interpolate and is a least-squares fit with too few features.
#
# ## Depth and the implicit bias: a U-shaped risk
#
# Width moves a network towards the heavy-over-parameterization side. Depth does something else: it
# changes *which* interpolant gradient descent picks. Nichani, Radhakrishnan and Uhler
# {cite}`nichani2020increasing` observe that test error of convolutional networks first falls and
# then rises with depth, and explain it with minimum-norm solutions: in their analysis, the
# (linearised) convolutional network of depth $L$ acts as a depth-dependent linear transformation of
# the input, followed by minimum-norm regression. We build the simplest model of this kind.

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
# geometrically fast. Nichani et al.'s linear CNTK is a different (and more realistic) depth-dependent
# transformation; the mechanism is the same, and we do not reproduce their theorems on the optimal
# depths for bias and variance.
#
# (sec-ch17-depth-model)=
# ### Construction: risk of the minimum-norm solution against depth
#
# Inputs $x \sim \mathcal N(0, I_N)$ (isotropic in every orthonormal basis, so we work in the real
# Fourier basis directly), a smooth target $\hat w^\star_k \propto e^{-k/3}$ with
# $\lVert w^\star \rVert = 1$, responses $y = \langle w^\star, x \rangle + \sigma\varepsilon$, and
# $m < N$ samples. For each depth we compute the interpolant of {prf:ref}`lem-ch17-conv-ntk` in
# closed form, $\hat\beta = A y$ with $A = D\Phi^\top(\Phi D\Phi^\top)^{-1}$, and its exact risk
# decomposition over the noise, $\mathbb E\,(\langle \beta - w^\star, x\rangle + \sigma\varepsilon)^2 = \underbrace{\lVert (A\Phi - I) w^\star \rVert^2}_{\text{bias}} + \underbrace{\sigma^2 \lVert A \rVert_F^2}_{\text{variance}} + \sigma^2$,
# averaged over draws of the training inputs.

# %%
N_SIG, M_SIG, SIGMA = 63, 16, 0.2
freq = torch.tensor(
    [0] + [k for k in range(1, N_SIG // 2 + 1) for _ in range(2)], dtype=torch.float64
)
a_hat = (
    torch.cos(math.pi * freq / N_SIG) ** 2
)  # Fourier magnitudes of the low-pass filter
w_star = torch.exp(-freq / 3.0)
w_star = w_star / w_star.norm()  # the target, in the real Fourier basis


def depth_risk(L, seed):
    """Average bias and variance of the min-norm interpolant of the depth-L linear conv model.

    Every depth sees the same draws of the training inputs (the same seed), so the curve is smooth.
    """
    generator = cfg.generator(seed)
    D = a_hat ** (2 * (L - 1))
    bias = var = 0.0
    for _ in range(DRAWS):
        Phi = torch.randn(M_SIG, N_SIG, generator=generator, dtype=torch.float64)
        A = analysis.min_norm_interpolant(
            Phi, torch.eye(M_SIG, dtype=torch.float64), D
        )  # beta = A y
        bias += (
            ((A @ Phi - torch.eye(N_SIG, dtype=torch.float64)) @ w_star)
            .pow(2)
            .sum()
            .item()
        )
        var += SIGMA**2 * A.pow(2).sum().item()
    return bias / DRAWS, var / DRAWS


bias_L, var_L = map(np.array, zip(*(depth_risk(int(L), cfg.seed + 2) for L in DEPTHS)))
risk_L = bias_L + var_L + SIGMA**2
L_best = int(DEPTHS[np.argmin(risk_L)])
print("depth:", DEPTHS.tolist())
print("risk: ", np.round(risk_L, 3).tolist())
print(
    f"minimum at L = {L_best}; bias is smallest at L = {int(DEPTHS[np.argmin(bias_L)])}, "
    f"variance at L = {int(DEPTHS[np.argmin(var_L)])} (increasing in L: {bool(np.all(np.diff(var_L) > 0))})"
)
L_bias = int(DEPTHS[np.argmin(bias_L)])
notebook.glue("ch17_best_depth", L_best)
notebook.glue("ch17_bias_depth", L_bias)

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(DEPTHS, risk_L, "o-", color=plotting.COLORS[1], label="test risk")
ax.plot(DEPTHS, bias_L, "--", color=plotting.COLORS[0], label="bias")
ax.plot(DEPTHS, var_L, ":", color=plotting.COLORS[2], label="variance")
ax.axhline(1 + SIGMA**2, color="gray", lw=0.8, label="risk of the zero predictor")
ax.set(
    xlabel="depth $L$",
    ylabel="squared test risk",
    ylim=(0, None),
    title="Min-norm interpolants of a deep linear conv model: risk is U-shaped in depth",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Every model here interpolates its $m$ training points, at every depth: there is no under-fitting
# on either arm. The **left arm** falls because depth tilts the implicit bias towards low
# frequencies, where the smooth target lives: the bias drops (it is smallest at
# $L =$ {glue:text}`ch17_bias_depth`). The **right arm** rises because the weights
# $\lvert \hat a_k \rvert^{2(L-1)}$ decay ever faster, so only a handful of low frequencies remain
# cheap; the interpolant must use ever more expensive directions to fit the noise, and the variance
# grows with depth — deep models drift back towards the *mild* over-parameterization regime of the
# previous section, in an effective number of parameters. Beyond the bias minimum the bias rises too,
# because the high frequencies of $w^\star$ are ignored. The risk is smallest where falling bias and
# growing variance balance, at $L =$ {glue:text}`ch17_best_depth`.
#
# (sec-ch17-cnn-depth)=
# ### Experiment: depth sweep of a trained convolutional network on digits
#
# Now a real, non-linear network. `models.DigitCNN(L, C)` stacks $L$ convolutional layers with $3\times 3$
# filters, zero padding and ReLU at a fixed width of $C$ channels on the $8\times 8$ digits, followed by
# a linear read-out of all $64 C$ activations into 10 logits; only the depth changes along the sweep.
# Every depth is trained with Adam on cross-entropy from several seeds at once (one
# `ensemble.stack` per depth) on the same $m$ training images with *clean* labels, and each member
# stops the first time it classifies every training image correctly, so every network on the curve
# is an interpolating solution, as in {cite}`nichani2020increasing`. (In trial runs while writing
# the chapter, not executed here, 20% label noise gave quick-scale curves that were flat within the
# seed-to-seed spread, so we show the clean case.) We record
# the training error of every member to make sure that no part of the curve comes from under-fitting.

# %%
g_cnn = cfg.generator(cfg.seed + 17)
perm_cnn = torch.randperm(len(X_DIG), generator=g_cnn)
x_cnn_tr, y_cnn_tr = (
    X_DIG[perm_cnn[:M_CNN]].float().to(cfg.device),
    Y_DIG[perm_cnn[:M_CNN]].to(cfg.device),
)
x_cnn_te, y_cnn_te = (
    X_DIG[perm_cnn[M_CNN:]].float().to(cfg.device),
    Y_DIG[perm_cnn[M_CNN:]].to(cfg.device),
)


def cnn_errors(model):
    """Training and test classification error of every member, shape (E,) each."""
    return {
        "train": (model(x_cnn_tr).argmax(-1) != y_cnn_tr).float().mean(1),
        "test": (model(x_cnn_te).argmax(-1) != y_cnn_te).float().mean(1),
    }


cnn_train_err, cnn_test_err, cnn_steps = [], [], []
for L in CNN_DEPTHS:
    nets = ensemble.stack(
        [
            models.DigitCNN(L, CNN_WIDTH, seed=1000 * cfg.seed + s)
            for s in range(CNN_SEEDS)
        ]
    ).to(cfg.device)
    h = train.fit(
        nets,
        lambda step, gen: (x_cnn_tr, y_cnn_tr),
        steps=CNN_STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=CNN_LR,
        evaluate=cnn_errors,
        eval_every=25,
        stop_when=lambda mt: mt["train"] == 0,
        desc=f"depth {L}",
    )
    cnn_train_err.append(h.final("train"))
    cnn_test_err.append(h.final("test"))
    cnn_steps.append(h.stop_steps())
cnn_train_err, cnn_test_err = (
    np.array(cnn_train_err),
    np.array(cnn_test_err),
)  # (depths, seeds)
cnn_mean = cnn_test_err.mean(1)
L_cnn_best = CNN_DEPTHS[int(np.argmin(cnn_mean))]
cnn_rise = cnn_mean[-1] - cnn_mean.min()
print("depth:               ", CNN_DEPTHS)
print("max training error:  ", cnn_train_err.max(1).round(3).tolist())
print("steps to interpolate:", [s.tolist() for s in cnn_steps])
print("mean test error:     ", cnn_mean.round(3).tolist())
notebook.glue("ch17_cnn_m", M_CNN)
notebook.glue("ch17_cnn_width", CNN_WIDTH)
notebook.glue("ch17_cnn_train_max", f"{cnn_train_err.max():.3f}")
notebook.glue("ch17_cnn_best_depth", L_cnn_best)
notebook.glue("ch17_cnn_best_err", f"{cnn_mean.min():.3f}")
notebook.glue("ch17_cnn_deep_depth", CNN_DEPTHS[-1])
notebook.glue("ch17_cnn_deep_err", f"{cnn_mean[-1]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
plotting.plot_band(
    ax,
    np.array(CNN_DEPTHS),
    cnn_test_err,
    label=f"test error (median, 10–90% band over {CNN_SEEDS} seeds)",
)
ax.plot(
    CNN_DEPTHS,
    cnn_train_err.max(1),
    "s--",
    color=plotting.COLORS[0],
    label="training error (worst seed)",
)
ax.set(
    xlabel="depth $L$ (number of conv layers)",
    ylabel="classification error",
    ylim=(0, None),
    title=f"Interpolating CNNs on {M_CNN} digits: test error against depth",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Every network on this curve interpolates: the largest training error over all depths and seeds
# is {glue:text}`ch17_cnn_train_max`. So nothing here is under-fitting, and whatever varies with depth
# is a difference between *interpolating* solutions. On {glue:text}`ch17_cnn_m` training images and
# width {glue:text}`ch17_cnn_width`, the mean test error is smallest at depth
# $L =$ {glue:text}`ch17_cnn_best_depth` ({glue:text}`ch17_cnn_best_err`) and rises to
# {glue:text}`ch17_cnn_deep_err` at $L =$ {glue:text}`ch17_cnn_deep_depth`. This is the **right arm**
# of the U, and it is the regime Nichani et al. attribute to the implicit bias: deeper networks fit
# the same data with a different interpolant, which generalizes worse, the analogue of the growing
# variance in the linear model above. (At this scale we cannot rule out that early stopping at the
# first interpolating step, which comes at a different time for each depth, contributes too.)
# We do **not** see a clear left arm (full mode runs the same sweep with more seeds): the minimum
# sits at the shallow end of the sweep. With a linear read-out over every position even a single
# convolutional layer already sees the whole image, and on this small, easy data set a shallow
# interpolant is as good as it gets. A falling left arm needs harder data and wider networks than
# this chapter's CPU budget allows (the paper's CIFAR experiments); where one appears, check in the
# training-error curve that it is not simply shallow networks failing to interpolate.
#
# ## Checks
#
# The cell below (hidden in the book) asserts: the simulated 1-NN error is within $0.03$ of
# $2p(1-p)$ at every noise rate of the grid; the distillation teacher is within $0.03$ of $2p(1-p)$
# and every student within $0.03$ of the Bayes error on the same test labels; on digits the
# interpolant's error at $N = 1.5\,m$ exceeds that at the largest $N$ by at least $0.25$, the largest
# $N$ is within $0.08$ of ridge, and self-training gains at least $0.15$ at $N = 1.5\,m$; the depth
# curve has an interior minimum, rises by at least $0.2$ on both sides, and its variance grows with
# depth; every trained CNN of the depth sweep has training error at most $0.01$ (in fact zero, it
# stops at interpolation), and the mean test error of the deepest CNN exceeds the minimum over
# depths by at least $0.03$.

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
# 3. label noise on digits: harmful at N = 1.5 m, benign (near ridge) for N >> m, self-training helps at N = 1.5 m
reproduce.report(
    "wen2022benign",
    claim="interpolating noisy labels is benign under heavy over-parameterization and harmful "
    "under mild over-parameterization (a phase change in the ratio of parameters to samples)",
    paper_value="excess error vanishing (heavy) vs bounded away from zero (mild)",
    value=f"error {err_interp[i_mild]:.3f} at N = 1.5m, {err_interp[i_heavy]:.3f} at "
    f"N = {N_TOTAL[i_heavy] / M_DIG:.0f}m, ridge {err_ridge:.3f}",
    assertion=f"digits, m = {M_DIG}, 30% label noise, min-norm interpolant of 150 random ReLU "
    f"features plus an isotropic tail, mean of {DIG_SEEDS} split(s): the error at N = 1.5m "
    "exceeds the error at the largest N by at least 0.25, and the largest N is within 0.08 of "
    "ridge (one m only, the mild point near the interpolation peak: not the paper's limit)",
    passed=bool(
        err_interp[i_mild] >= err_interp[i_heavy] + 0.25
        and err_interp[i_heavy] <= err_ridge + 0.08
    ),
    status="partly",
    section="sec-ch17-digits",
)
reproduce.report(
    "wen2022benign",
    claim="self-training improves generalization in the mildly over-parameterized regime",
    paper_value=None,
    value=f"error at N = 1.5m: {err_interp[i_mild]:.3f} -> {err_self[i_mild]:.3f} self-trained",
    assertion="same sweep: re-labelling the training set with a ridge fit on the informative "
    "features (not the same model, as in the paper) and interpolating these labels lowers the "
    "error at N = 1.5m by at least 0.15",
    passed=bool(err_self[i_mild] <= err_interp[i_mild] - 0.15),
    status="partly",
    section="sec-ch17-digits",
)
# 4. depth: the risk falls from L = 1 to its minimum and rises again beyond it
reproduce.report(
    "nichani2020increasing",
    claim="the test risk of over-parameterized convolutional models is U-shaped in the depth: it "
    "first falls, then rises, through the depth-dependent implicit bias of min-norm solutions",
    paper_value="U-shaped test risk in depth",
    value=f"risk {risk_L[0]:.3f} at L = 1, {risk_L.min():.3f} at L = {L_best}, "
    f"{risk_L[-1]:.3f} at L = {DEPTHS[-1]}",
    assertion=f"the chapter's deep linear circular conv model (not the paper's CNTK), min-norm "
    f"interpolant, label noise sigma = {SIGMA}, {DRAWS} draws: an interior minimum, the risk at "
    "both ends at least 0.2 above it, the variance increasing in L and the bias minimum between "
    "the risk minimum and the deepest L",
    passed=bool(
        1 < L_best < DEPTHS[-1]
        and np.all(np.diff(var_L) > 0)
        and L_best < L_bias < DEPTHS[-1]
        and risk_L[0] >= risk_L.min() + 0.2
        and risk_L[-1] >= risk_L.min() + 0.2
    ),
    status="partly",
    section="sec-ch17-depth-model",
)
# 5. trained CNNs on digits: every depth interpolates, and the deepest generalizes worse than the best depth
reproduce.report(
    "nichani2020increasing",
    claim="beyond an optimal depth, the test error of interpolating convolutional networks rises "
    "with depth (the right arm of the U)",
    paper_value="U-shaped test error against depth (CNNs on image data)",
    value=f"test error {cnn_mean.min():.3f} at L = {L_cnn_best}, {cnn_mean[-1]:.3f} at "
    f"L = {CNN_DEPTHS[-1]}; largest training error {cnn_train_err.max():.3f}",
    assertion=f"DigitCNN of width {CNN_WIDTH} on {M_CNN} clean digits, {CNN_SEEDS} seeds per "
    "depth, each stopped when it interpolates: every member's training error <= 0.01, and the "
    "deepest's mean test error at least 0.03 above the best depth's (the left arm is not shown)",
    passed=bool(cnn_train_err.max() <= 0.01 and cnn_rise >= 0.03),
    status="partly",
    section="sec-ch17-cnn-depth",
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
# :::{exercise} A depth sweep on digits
# :label: ex-ch17-conv-depth
#
# The depth sweep above reads out every position, so even one layer sees the whole image. Replace
# the read-out of `DigitCNN` by a global average pool followed by a linear layer (a *fully
# convolutional* network, whose receptive field grows by two pixels per layer), train depths
# $1, 2, 4, 8, 16$ at width 32 on 500 digits to zero training error, and plot test error against
# depth over three seeds. Where is the minimum? For each depth record the training error and the
# number of steps: which part of your curve reflects under-fitting or optimisation difficulty, and
# which part could reflect the implicit-bias mechanism of {prf:ref}`lem-ch17-conv-ntk`?
# *Difficulty: ★★★, about 60 min and a GPU.*
# :::
#
# :::{solution} ex-ch17-conv-depth
# :class: dropdown
#
# A compact network: `nn.Sequential(*[m for l in range(L) for m in (nn.Conv2d(1 if l == 0 else 32, 32, 3, padding=1), nn.ReLU())],
# nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))`, stacked over seeds with
# `ensemble.stack` and trained as in the experiment above (Adam on cross-entropy, each member stopped
# when every training image is classified correctly). Expect: with average pooling, very shallow
# networks see only $3\times 3$ patches and may not interpolate at all, or interpolate with poor
# generalization; errors fall over the first few layers as the receptive field grows to cover
# the digit; beyond a critical depth they rise again although the training error stays at zero, the
# regime Nichani et al. {cite}`nichani2020increasing` attribute to the implicit bias. A left arm
# made of networks that do not reach zero training error is under-fitting, not the paper's
# mechanism; likewise, if the deepest networks fail to interpolate or need a much smaller learning
# rate, that part of the curve reflects optimisation — report both separately.
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
# - **Mild versus heavy.** In the digits experiment, heavy over-parameterization behaves like ridge
#   regression because of an isotropic tail. What plays the role of the tail in a real network, and
#   why might ImageNet-scale training sit in the mild regime, as Wen et al. {cite}`wen2022benign`
#   argue?
# - **Depth as a transformation.** In {prf:ref}`lem-ch17-conv-ntk` depth acts by a power of one
#   operator. What changes with ReLUs, pooling or residual connections?
#
# Further reading: {cite}`kaplun2022knowledge` for the sampler framework and kernel samplers;
# {cite}`nakkiran2020distributional` for the experiments that motivated it; {cite}`wen2022benign` for
# the phase change of benign overfitting and self-training; {cite}`nichani2020increasing` for the
# linear CNTK and the depth-dependent bias and variance.
