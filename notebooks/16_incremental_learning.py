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
# # Incremental learning: deflation in tensor decomposition, balance in contrastive learning
#
# Gradient descent from a small initialization often learns one thing at a time. For an
# over-parameterized decomposition of an orthogonal tensor $\sum_i a_i u_i^{\otimes \ell}$ the largest
# component is fitted first, then the next, as in the classical *deflation* algorithm; we derive
# from the dynamics at small initialization *when* each component is discovered,
# $t_i \approx 1/(\ell(\ell-2)\, a_i\, M_i^{\ell-2})$ with $M_i$ the largest initial correlation of
# a model component with $u_i$, and watch gradient descent hit these times. Then we run the
# paper's own model, whose components are normalized to be two-homogeneous: there the escape is
# logarithmic in the initialization scale, as for matrices, and plain gradient descent can miss a
# component altogether, in a way we predict from the initialization; the paper's modified flow,
# which re-initializes small components, repairs it.
# The second half turns to multimodal contrastive learning, where the same "rich get richer"
# dynamics is a danger: positive pairs alone align two views but grow the dominant directions until
# the representation is nearly rank one, and negative pairs are what keep it balanced; from a
# small initialization the two act in two stages, whose rates we derive and measure.
#
# **Papers.** Ge, Ren, Wang and Zhou, *Understanding deflation process in over-parametrized tensor
# decomposition* {cite}`ge2021understanding`; Ren and Li, *On the importance of contrastive loss in
# multimodal learning* {cite}`ren2023importance`.
#
# **Prerequisites.** The [notation](../book/notation.md); gradient flow and basic linear algebra
# (eigen- and singular value decompositions). No earlier chapter is needed.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: under a minute on one CPU core.
# Full mode (set `SCALE = "full"` in the first code cell) runs the staircase with $d = 2000$ rows
# and a smaller initialization, the paper's model from 16 initializations, plain against modified
# gradient flow from 96, and the contrastive experiment at $n = 64$, $d = 16$: about 4 minutes on
# one CPU core. The figures in the book are from quick mode; the
# recorded full-mode figure is shown beside the staircase.
#
# **Open in Colab:**
# [colab/16_incremental_learning.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/16_incremental_learning.ipynb)
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
import torch.nn.functional as F

from lmt_core import analysis, notebook, plotting, reproduce, runtime, tasks

cfg = runtime.setup(seed=0, scale=SCALE)
plotting.use_house_style()

# %%
# Settings: every size that differs between quick and full mode.
# d, the tensor model's number of components, and its initialization scale delta
WIDTH = cfg.pick(quick=400, full=2000)
DELTA = cfg.pick(quick=2e-3, full=1e-3)
# initializations of the staircase (the first one is plotted)
DEFL_SEEDS = cfg.pick(quick=3, full=3)
# input dimension n and representation dimension d of the two-view contrastive model
N_C = cfg.pick(quick=16, full=64)
D_C = cfg.pick(quick=4, full=16)
# SGD steps of each contrastive run, and its batch (B(B - 1) negative pairs)
STEPS_C = cfg.pick(quick=1500, full=5000)
BATCH_C = cfg.pick(quick=128, full=512)
# data sets and initializations of the contrastive runs (the first one is plotted)
CONTRAST_SEEDS = cfg.pick(quick=3, full=3)
# the paper's two-homogeneous model: width, initializations, initialization scales
HOM_WIDTH = 50
HOM_SEEDS = cfg.pick(quick=4, full=16)
HOM_DELTAS = (1e-3, 1e-6)
# plain against modified gradient flow: a small width, many initializations (batched)
FAIL_WIDTH = 16
FAIL_SEEDS = cfg.pick(quick=24, full=96)

# %% [markdown]
# ## Part I. Over-parameterized tensor decomposition
#
# ### The setting

# %% [markdown]
# :::{prf:definition} Orthogonal tensor decomposition, over-parameterized
# :label: def-ch16-tensor
#
# Fix an order $\ell \ge 2$, a dimension $n$, orthonormal vectors $u_1, \dots, u_r \in \mathbb R^n$
# and weights $a_1 > a_2 > \dots > a_r > 0$. The *target* is the orthogonally decomposable tensor
#
# $$ T^\star = \sum_{i=1}^r a_i\, u_i^{\otimes \ell} \in (\mathbb R^n)^{\otimes \ell}. $$
#
# The *model* has $d \ge r$ components (its width), the rows $w_1, \dots, w_d$ of $W \in \mathbb R^{d \times n}$,
# and computes $T(W) = \sum_{j=1}^d w_j^{\otimes \ell}$; it is *over-parameterized* when $d \gg r$. The
# loss is $L(W) = \tfrac12 \|T(W) - T^\star\|_F^2$. We train by gradient flow
# $\dot W = -\nabla L(W)$, or by gradient descent with step $\eta$, whose step $t$ approximates the
# flow at time $\eta t$, from a *small initialization*: the entries of $W(0)$ are i.i.d.
# $\mathcal N(0, \delta^2)$ with $\delta \ll a_r^{1/\ell}$.
# :::
#
# For $\ell = 2$ this is symmetric matrix factorization, $T(W) = W^\top W$. The correlations
# $c_{ji} = \langle w_j, u_i \rangle$ of the rows with the components will carry the whole story. The
# tensors never need to be formed: since $\langle x^{\otimes \ell}, y^{\otimes \ell}\rangle = \langle x, y\rangle^\ell$,
#
# $$ 2L(W) = \sum_{j,k} \langle w_j, w_k\rangle^\ell - 2\sum_{j,i} a_i\, c_{ji}^\ell + \sum_i a_i^2 . $$

# %% [markdown]
# :::{prf:lemma} The gradient
# :label: lem-ch16-gradient
#
# For every row $j$,
#
# $$ -\nabla_{w_j} L(W) \;=\; \underbrace{\ell \sum_{i=1}^r a_i\, c_{ji}^{\ell-1}\, u_i}_{\text{pull of the target}}
#    \;-\; \underbrace{\ell \sum_{k=1}^d \langle w_j, w_k\rangle^{\ell-1}\, w_k}_{\text{interaction}} . $$
#
# In particular, under gradient flow, $\dot c_{ji} = \ell\, a_i\, c_{ji}^{\ell-1} - \ell \sum_k \langle w_j, w_k\rangle^{\ell-1} c_{ki}$.
# :::

# %% [markdown]
# :::{prf:proof}
# Differentiate the display above: $\nabla_{w_j}$ of $\tfrac12\sum_{k,k'}\langle w_k, w_{k'}\rangle^\ell$ is
# $\ell \sum_k \langle w_j, w_k\rangle^{\ell-1} w_k$ (the pairs $(j,k)$ and $(k,j)$ each contribute half),
# and $\nabla_{w_j}$ of $\sum_i a_i c_{ji}^\ell$ is $\ell \sum_i a_i c_{ji}^{\ell-1} u_i$. Take the inner
# product with $u_i$, using $\langle u_{i'}, u_i\rangle = \delta_{i'i}$, for the second formula.
# :::
#
# At a small initialization both terms are small, but not equally: the pull is of order
# $\delta^{\ell-1}$, the interaction of order $d\,\delta^{2\ell-1}$ (up to powers of $\sqrt n$). So
# at first every correlation follows its own one-dimensional equation.
#
# ### When is a component discovered?

# %% [markdown]
# :::{prf:proposition} Escape time at small initialization
# :label: prop-ch16-escape
#
# Let $\ell \ge 3$, $a > 0$ and $c_0 > 0$. The solution of $\dot c = \ell\, a\, c^{\ell-1}$, $c(0) = c_0$, is
#
# $$ c(t) = c_0 \Big(1 - \frac{t}{t^\ast}\Big)^{-1/(\ell-2)}, \qquad t^\ast = \frac{1}{\ell(\ell-2)\, a\, c_0^{\ell-2}} , $$
#
# which blows up at $t^\ast$; it reaches a level $\bar c > c_0$ at time $t^\ast\big(1 - (c_0/\bar c)^{\ell-2}\big)$.
# For $\ell$ even the same holds with $|c|$ and $|c_0|$; for $\ell$ odd and $c_0 < 0$, $c(t)$ increases
# to $0$ and never escapes. For $\ell = 2$ (matrices) the solution is $c_0 e^{2at}$, which reaches
# $\bar c$ at time $\log(\bar c / c_0)/(2a)$.
# :::

# %% [markdown]
# :::{prf:proof}
# Separate variables: $\frac{d}{dt} c^{-(\ell-2)} = -(\ell-2)\, c^{-(\ell-1)}\,\dot c = -\ell(\ell-2)\, a$, so
# $c(t)^{-(\ell-2)} = c_0^{-(\ell-2)} - \ell(\ell-2)\, a\, t = c_0^{-(\ell-2)}(1 - t/t^\ast)$. Solving for
# $c$ gives the formula, and $c(t) = \bar c$ gives the hitting time. For even $\ell$ the equation is
# odd in $c$, so $-c$ solves it too. For odd $\ell$ and $c_0 < 0$ the right-hand side is positive
# and the formula (with $c_0^{\ell-2} < 0$, so $t^\ast < 0$) stays negative and tends to $0$. For
# $\ell = 2$ the equation is linear.
# :::
#
# Two features matter. First, the escape is *abrupt*: $c$ stays within a factor $2^{1/(\ell-2)}$ of
# $c_0$ until $t^\ast/2$ and then, in the last fraction of the time, grows to order one. A level
# $\bar c$ of order one is reached at $t^\ast(1 - O(\delta^{\ell-2}))$: almost exactly at $t^\ast$.
# Second, the escape time depends on the initial correlation, as $c_0^{-(\ell-2)}$, not as
# $\log(1/c_0)$ as for matrices. Among the $d$ rows, the one with the largest correlation with $u_i$
# escapes first and by a wide margin; by the time it has fitted $u_i$, the runner-up has barely moved.

# %% [markdown]
# :::{prf:corollary} Predicted discovery times and order
# :label: cor-ch16-order
#
# Let $\ell \ge 3$, and let $M_i = \max_j c_{ji}(0)$ for odd $\ell$ and $M_i = \max_j |c_{ji}(0)|$ for even $\ell$,
# assumed positive. Neglecting the interaction term, component $i$ is discovered (some row reaches correlation of order one with
# $u_i$) at the time
#
# $$ t_i \;=\; \frac{1}{\ell(\ell-2)\, a_i\, M_i^{\ell-2}} . $$
#
# With i.i.d. $\mathcal N(0,\delta^2)$ rows, $M_i/\delta$ is the maximum of $d$ standard Gaussians
# (of their absolute values for even $\ell$), about $\sqrt{2\log d}$, with fluctuations that shrink
# (slowly) as $d$ grows. So the components are discovered in order of size, $t_1 < t_2 < \dots < t_r$,
# as soon as the ratios $(a_i/a_{i+1})$ exceed the fluctuations of $(M_{i+1}/M_i)^{\ell-2}$, and the
# time scale is $t_i \approx 1/(\ell(\ell-2)\, a_i\, (\delta\sqrt{2\log d})^{\ell-2})$: inversely
# proportional to the component's size.
# :::
#
# Why may we neglect the interaction? Before any row has escaped, the interaction term is smaller
# than the pull by a factor of order $d\,\delta^{\ell}$ (times powers of $\sqrt n$), tiny for small
# $\delta$. After row $j$ has fitted component $1$, it interacts strongly with the others, and here a
# clean identity takes over.

# %% [markdown]
# :::{prf:lemma} A fitted component deflates the target
# :label: lem-ch16-deflation
#
# If $w_k = a_i^{1/\ell} u_i$ (for even $\ell$, also $w_k = -a_i^{1/\ell} u_i$), then for all other rows
#
# $$ L(W) \;=\; \tfrac12 \Big\| \sum_{j \ne k} w_j^{\otimes \ell} \;-\; \big(T^\star - a_i u_i^{\otimes \ell}\big) \Big\|_F^2 . $$
#
# So the remaining rows see the *deflated* target $\sum_{i' \ne i} a_{i'} u_{i'}^{\otimes \ell}$: the
# pull towards $u_i$ is gone, and their correlations with the other components follow the same
# equations as before.
# :::

# %% [markdown]
# :::{prf:proof}
# $w_k^{\otimes \ell} = (\pm 1)^\ell a_i u_i^{\otimes \ell} = a_i u_i^{\otimes\ell}$, so
# $T(W) - T^\star = \sum_{j\ne k} w_j^{\otimes \ell} - (T^\star - a_i u_i^{\otimes \ell})$.
# :::


# %% [markdown]
# In the flow the fitted row is only approximately $a_i^{1/\ell}u_i$, and it keeps interacting
# weakly with the rest; controlling these errors over the whole trajectory is the hard part.
# The paper's main theorem is about a *different* model (order four, and components normalized
# so that the model is two-homogeneous) and a *modified* gradient flow; we state it in
# {ref}`sec-ch16-paper-model`, after we have watched the chapter's simpler model at work, and
# there we run the paper's model beside ours.
#
# ### The construction in code
#
# We take $\ell = 3$, $n = 8$, $r = 4$ standard basis vectors $u_i = e_i$, and weights in geometric
# progression, $a_i = q^{i-1}$. `analysis.decomposition_loss` and `analysis.decomposition_grad`
# compute the loss and its gradient through the inner products of {prf:ref}`lem-ch16-gradient`;
# first we check them against the dense tensors (`tasks.orthogonal_tensor`,
# `tasks.power_sum_tensor`), which we can still form for $n = 8$.

# %%
ORDER, N_DIM, RATIO = 3, 8, 0.6
A = torch.tensor([RATIO**i for i in range(4)], dtype=torch.float64)  # a_i = q^(i-1)
print("component sizes a_i:", [round(float(a), 3) for a in A])

W_test = 0.3 * torch.randn(
    6, N_DIM, generator=torch.Generator().manual_seed(1), dtype=torch.float64
)
T_star = tasks.orthogonal_tensor(A, N_DIM, order=ORDER)  # dense, 8^3 entries
loss_dense = 0.5 * (tasks.power_sum_tensor(W_test, ORDER) - T_star).pow(2).sum()
loss_gram = analysis.decomposition_loss(W_test, A, ORDER)
W_req = W_test.clone().requires_grad_()
(grad_auto,) = torch.autograd.grad(
    0.5 * (tasks.power_sum_tensor(W_req, ORDER) - T_star).pow(2).sum(), W_req
)
grad_gap = float(
    (grad_auto - analysis.decomposition_grad(W_test, A, ORDER)).abs().max()
)
print(f"loss: dense {loss_dense:.10f}, from inner products {loss_gram:.10f}")
print(f"max |autograd on the dense tensor - closed-form gradient| = {grad_gap:.1e}")
notebook.glue("grad_gap", grad_gap)

# %% [markdown]
# The two gradients agree to {glue:text}`grad_gap:.0e`. Now the prediction. We draw the small
# initialization of the experiment below ($d$ rows, entries $\mathcal N(0, \delta^2)$) and compute, from
# $W(0)$ alone, the predicted discovery times of {prf:ref}`cor-ch16-order`. In code the
# prediction is a few lines:

# %%
notebook.show_source(analysis.escape_times)

# %%
ETA = 0.1  # gradient-descent step; time t = ETA * steps
notebook.glue("WIDTH", WIDTH)

W0 = DELTA * torch.randn(
    WIDTH,
    N_DIM,
    generator=cfg.generator(cfg.seed),
    dtype=torch.float64,
    device=cfg.device,
)
A = A.to(cfg.device)
t_pred = analysis.escape_times(W0, A, ORDER).cpu()
M = (W0[:, :4].max(0).values / DELTA).cpu()
for i in range(4):
    print(
        f"component {i + 1}: a = {A[i]:.3f}, M_i / delta = {M[i]:.2f}, predicted discovery time "
        f"t_i = {t_pred[i]:.1f} (= {t_pred[i] / ETA:.0f} steps)"
    )
print(f"sqrt(2 log d) = {math.sqrt(2 * math.log(WIDTH)):.2f}")

# %% [markdown]
# How reliable is the order? It is random only through the maxima $M_i$. A Monte Carlo estimate of
# the probability that $t_1 < t_2 < t_3 < t_4$, for our width and a few others and for two ratios
# $q$ (the closer $q$ is to $1$, the harder):


# %%
def order_probability(width, ratio, order=ORDER, trials=4000, seed=0):
    """P(t_1 < ... < t_4) for t_i = 1 / (a_i M_i^(order-2)), M_i the max of `width` Gaussians."""
    g = torch.Generator().manual_seed(seed)
    a = torch.tensor([ratio**i for i in range(4)], dtype=torch.float64)
    Z = torch.randn(trials, width, 4, generator=g, dtype=torch.float64)
    Mx = (Z.abs() if order % 2 == 0 else Z).max(1).values  # (trials, 4)
    t = 1 / (a * Mx ** (order - 2))
    return float((t[:, 1:] > t[:, :-1]).all(1).double().mean())


for ratio in (0.7, RATIO):
    probs = {w: order_probability(w, ratio) for w in (50, WIDTH, 2000)}
    print(
        f"q = {ratio}: P(discovered in order of size) = "
        + ", ".join(f"{p:.3f} (d = {w})" for w, p in probs.items())
    )
p_order = order_probability(WIDTH, RATIO)
notebook.glue("p_order", p_order)

# %% [markdown]
# With $q = 0.6$ and $d =$ {glue:text}`WIDTH` the prediction puts the components in order of size
# with probability {glue:text}`p_order:.3f`; for $q = 0.7$ the maxima fluctuate too much at this
# width, and the order of discovery would often be that of $a_i M_i$ rather than that of $a_i$. This
# is why the experiment uses $q = 0.6$.
#
# (sec-ch16-staircase)=
# ### Experiment: the staircase
#
# Full-batch gradient descent on $L$ from $W(0)$, for a bit longer than the last predicted
# discovery. We record the fraction of each component that the model has fitted,
# $T(W)(u_i, \dots, u_i)/a_i = \sum_j c_{ji}^{\ell}/a_i$ (`analysis.component_fit`), the loss, and at the
# end the best alignment $\max_j |\langle w_j, u_i\rangle| / \|w_j\|$ of a row with each component.
# The loop is short and explicit.

# %%
STEPS = int(1.25 * float(t_pred.max()) / ETA)
RECORD = 10


def train_decomposition(
    W0, a, order, eta, steps, record=RECORD, desc="gradient descent"
):
    """Full-batch gradient descent on the decomposition loss; returns the final W and the records."""
    W = W0.clone()
    times, fits, losses = [], [], []
    for step in runtime.progress(range(steps + 1), desc, steps=True):
        if step % record == 0:
            times.append(eta * step)
            fits.append(analysis.component_fit(W, a, order))
            losses.append(analysis.decomposition_loss(W, a, order))
        W = W - eta * analysis.decomposition_grad(W, a, order)
    return (
        W,
        np.array(times),
        torch.stack(fits).cpu().numpy(),
        torch.stack(losses).cpu().numpy(),
    )


W_final, times, fits, losses = train_decomposition(W0, A, ORDER, ETA, STEPS)


def discovery_times(times, fits, level=0.5):
    """For each component, the first recorded time at which its fitted fraction reaches `level`."""
    return np.array(
        [times[np.argmax(f >= level)] if (f >= level).any() else np.nan for f in fits.T]
    )


t_disc = discovery_times(times, fits)
alignment = (
    ((W_final[:, :4] / W_final.norm(dim=1, keepdim=True)).abs().max(0).values)
    .cpu()
    .numpy()
)
for i in range(4):
    print(
        f"component {i + 1}: discovered at t = {t_disc[i]:.1f} (predicted {t_pred[i]:.1f}, "
        f"ratio {t_disc[i] / t_pred[i]:.3f}); final fit {fits[-1, i]:.3f}, best alignment {alignment[i]:.4f}"
    )
print(f"loss: {losses[0]:.4f} at t = 0, {losses[-1]:.2e} at t = {times[-1]:.0f}")

# %% tags=["readme-figure"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
for i in range(4):
    color = plotting.COLORS[i]
    ax1.plot(
        times,
        fits[:, i],
        color=color,
        label=f"component {i + 1} ($a_{i + 1}$ = {float(A[i]):.2f})",
    )
    ax1.axvline(t_pred[i], color=color, ls="--", lw=1)
ax1.plot([], [], color="gray", ls="--", lw=1, label="predicted discovery time $t_i$")
ax1.set(
    xlabel=r"time $t$ = $\eta$ $\times$ steps",
    ylabel="fitted fraction of component",
    title="Largest first: components are fitted one at a time",
)
ax1.legend(fontsize=8, loc="center right")
ax2.semilogy(times, losses, color="k", label="loss $L(W)$")
for i in range(4):
    ax2.axvline(t_pred[i], color=plotting.COLORS[i], ls="--", lw=1)
    ax2.axhline(
        0.5 * float((A[i + 1 :] ** 2).sum()) if i < 3 else np.nan,
        color=plotting.COLORS[i],
        ls=":",
        lw=1,
    )
ax2.plot(
    [],
    [],
    color="gray",
    ls=":",
    lw=1,
    label=r"$\frac{1}{2}\sum_{i' > i} a_{i'}^2$: loss after $i$ deflations",
)
ax2.set(
    xlabel=r"time $t$ = $\eta$ $\times$ steps",
    ylabel="loss (log scale)",
    title="The loss falls in steps, one per component",
)
ax2.legend(fontsize=8, loc="lower left")
reproduce.save_headline(fig)
plt.show()

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("16_incremental_learning")

# %% [markdown]
# The staircase is as predicted: each component is fitted in a short burst near its predicted time
# (dashed lines), largest first, and between bursts the loss sits on the plateau
# $\tfrac12 \sum_{i' > i} a_{i'}^2$ of a target deflated $i$ times. The measured discovery times
# (when half of a component is fitted) are within a few percent of the prediction from $W(0)$:
# {glue:text}`disc_ratio_min:.3f` to {glue:text}`disc_ratio_max:.3f` times $t_i$. At the end, each
# component is matched by a row aligned with it to at least {glue:text}`align_min:.3f`. In this
# model and at this width, plain gradient descent needed neither of the modifications of the
# paper's flow ({prf:ref}`alg-ch16-modified`); {ref}`sec-ch16-paper-model` shows where they matter.

# %%
notebook.glue("disc_ratio_min", float(np.min(t_disc / t_pred.numpy())))
notebook.glue("disc_ratio_max", float(np.max(t_disc / t_pred.numpy())))
notebook.glue("align_min", float(alignment.min()))
n_big = int((W_final.norm(dim=1) > 0.1).sum())
share = (
    ((W_final[:, :4] ** ORDER).max(0).values / A).cpu().numpy()
)  # the winning row's part of a_i
print("share of each component carried by its best row:", np.round(share, 4).tolist())
notebook.glue("share_min", float(share.min()))
notebook.glue("n_big", n_big)
print(
    f"rows with norm above 0.1 at the end: {n_big} of {WIDTH} (the model needed only r = 4)"
)

# %% [markdown]
# Over-parameterization did not lead to a "spread-out" solution in which many rows share a
# component: at the end only {glue:text}`n_big` of the {glue:text}`WIDTH` rows have norm above $0.1$.
# The winner of each race carries at least {glue:text}`share_min:.3f` of its component, and the other
# rows stayed small. This is the implicit low-rank bias of small initialization.
#
# One initialization could be lucky. We repeat the run from {glue:text}`defl_extra` more
# initializations (new draws of $W(0)$, same $d$ and $\delta$) and check the same things in each:
# the order of discovery, the prediction of the times, "one at a time" (halfway between two
# discoveries the earlier component is at least $90\%$ fitted and every later one at most $10\%$)
# and the recovery of every component at the end.


# %%
def staircase_checks(W_end, tt, ff, ll, t_hat):
    """The staircase of one run: order, timing, one at a time, recovery (see the text above)."""
    t_d = discovery_times(tt, ff)
    found = bool(np.all(np.isfinite(t_d)))
    one_at_a_time = found and all(
        ff[k, i] >= 0.9 and np.all(ff[k, i + 1 :] <= 0.1)
        for i in range(3)
        for k in [np.argmin(np.abs(tt - 0.5 * (t_d[i] + t_d[i + 1])))]
    )
    align = (W_end[:, :4] / W_end.norm(dim=1, keepdim=True)).abs().max(0).values
    return {
        "in order": found and bool(np.all(np.diff(t_d) > 0)),
        "time error": float(np.max(np.abs(t_d / t_hat - 1))),
        "one at a time": bool(one_at_a_time),
        "recovered": bool(
            np.all(np.abs(ff[-1] - 1) <= 0.1)
            and bool((align >= 0.9).all())
            and ll[-1] <= 1e-3 * ll[0]
        ),
    }


stairs = {cfg.seed: staircase_checks(W_final, times, fits, losses, t_pred.numpy())}
for seed in runtime.progress(range(cfg.seed + 1, cfg.seed + DEFL_SEEDS), "seeds"):
    W_s = DELTA * torch.randn(
        WIDTH,
        N_DIM,
        generator=cfg.generator(seed),
        dtype=torch.float64,
        device=cfg.device,
    )
    t_hat = analysis.escape_times(W_s, A, ORDER).cpu()
    run = train_decomposition(
        W_s, A, ORDER, ETA, int(1.25 * float(t_hat.max()) / ETA), desc=f"seed {seed}"
    )
    stairs[seed] = staircase_checks(*run, t_hat.numpy())
for seed, st in stairs.items():
    print(
        f"seed {seed}: "
        + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in st.items()
        )
    )
notebook.glue("defl_extra", DEFL_SEEDS - 1)

# %% [markdown]
# (sec-ch16-paper-model)=
# ### The paper's model: two-homogeneous components
#
# Ge, Ren, Wang and Zhou do not study $\sum_j w_j^{\otimes \ell}$. Their model has order four and
# divides each component by its squared norm, so that a component's contribution grows like
# $\|w_j\|^2$, as a unit of a two-layer network does. The stored sources of this book give only the
# paper's abstract; the model below and the two modifications of the flow further down are as we
# read the paper (a third-party summary of it describes the same "small regularizer and
# re-initialization steps"). Where our reading may differ, we say so.

# %% [markdown]
# :::{prf:definition} The two-homogeneous model of Ge et al.
# :label: def-ch16-homogeneous
#
# With $T^\star = \sum_{i=1}^r a_i u_i^{\otimes 4}$ as in {prf:ref}`def-ch16-tensor` ($\ell = 4$), the model
# with $m$ components $w_1, \dots, w_m \in \mathbb R^n \setminus \{0\}$ is
#
# $$ T(W) \;=\; \sum_{j=1}^m \frac{w_j^{\otimes 4}}{\|w_j\|^2} \;=\; \sum_{j=1}^m \|w_j\|^2\, \bar w_j^{\otimes 4},
#    \qquad \bar w_j = w_j / \|w_j\|, $$
#
# trained on $L_\lambda(W) = \tfrac12\|T(W) - T^\star\|_F^2 + \tfrac\lambda2 \|W\|_F^2$ with $\lambda \ge 0$ (plain
# gradient flow: $\lambda = 0$) from $w_j(0)$ i.i.d. uniform on the sphere of radius $\delta$. We write
# $R = T^\star - T(W)$ for the residual and $R(x, y, z, \cdot)$ for the vector
# $\big(R(x, y, z, e_k)\big)_k$.
# :::
#
# The normalization separates what a component points at from how much it contributes.

# %% [markdown]
# :::{prf:proposition} Norm and direction decouple
# :label: prop-ch16-decouple
#
# Under the gradient flow of $L_\lambda$, every component $w = w_j \ne 0$ satisfies
#
# $$ \frac{d}{dt}\|w\|^2 = \big(4\, R(\bar w, \bar w, \bar w, \bar w) - 2\lambda\big)\|w\|^2,
#    \qquad \frac{d}{dt}\bar w = 4\,(I - \bar w \bar w^\top)\, R(\bar w, \bar w, \bar w, \cdot) . $$
#
# In particular the direction moves at a speed that does not depend on $\|w\|$ or on $\lambda$.
# Now hold the residual at $R = T^\star$ (the limit in which every component is still small,
# $T(W) \approx 0$), take $u_i = e_i$ and write $v_k = \bar w_k$; then for $k, k' \le r$
#
# $$ \frac{d}{dt} \log \frac{a_k v_k^2}{a_{k'} v_{k'}^2} \;=\; 8\,(a_k v_k^2 - a_{k'} v_{k'}^2), $$
#
# so the index $k^\ast = \arg\max_{k \le r} a_k v_k(0)^2$ (the *basin* of the component, unique with
# probability one) stays the maximizer, and $\bar w \to \pm e_{k^\ast}$.
# :::

# %% [markdown]
# :::{prf:proof}
# Only the $j$-th term of $T$ depends on $w$; with $R$ held fixed, $\partial L_0/\partial w =
# -\nabla_w \big(\|w\|^{-2} R(w, w, w, w)\big)$, so
# $\dot w = 4\|w\|^{-2} R(w, w, w, \cdot) - 2\|w\|^{-4} R(w, w, w, w)\, w - \lambda w$. Then
# $\frac{d}{dt}\|w\|^2 = 2\langle w, \dot w\rangle = 4\|w\|^{-2}R(w,w,w,w) - 2\lambda\|w\|^2$, which is the first
# formula by homogeneity, and $\frac{d}{dt}\bar w = (I - \bar w\bar w^\top)\dot w / \|w\|$, in which the
# radial terms drop out, is the second. With $R$ held at $T^\star$, $R(\bar w, \bar w, \bar w, \cdot)_k = a_k v_k^3$
# ($0$ for $k > r$), so $\dot v_k = 4 v_k (a_k v_k^2 - \Phi)$ with $\Phi = \sum_{i} a_i v_i^4$, and
# $\frac{d}{dt}\log v_k^2 = 8(a_k v_k^2 - \Phi)$; subtracting two of these gives the display. Put
# $U = a_{k^\ast} v_{k^\ast}^2$. The ratio $U / (a_k v_k^2)$ only grows, so $k^\ast$ stays the maximizer,
# and $\Phi = \sum_i (a_i v_i^2) v_i^2 \le U$, so $\frac{d}{dt}\log U = 8(U - \Phi) \ge 0$: $U(t) \ge U(0)$.
# Hence for $k \le r$, $k \ne k^\ast$, $\frac{d}{dt}\log(U/(a_kv_k^2)) = 8(U - a_k v_k^2)$, which is at
# least $8U(0)(1 - \rho)$ with $\rho = a_kv_k(0)^2/U(0) < 1$ (the ratio only grows), so $v_k \to 0$
# exponentially; and for $k > r$, $\frac{d}{dt}\log v_k^2 = -8\Phi \le -8 U(0)\, v_{k^\ast}(0)^2 < 0$
# (because $\Phi \ge U v_{k^\ast}^2$ and $v_{k^\ast}^2 = U/a_{k^\ast}$ does not decrease), so
# $v_k \to 0$ too. So $v_{k^\ast}^2 \to 1$.
# :::
#
# Three consequences, heuristic (not proved here: as $\delta \to 0$, and with the interaction
# neglected while all components are small, as in {prf:ref}`cor-ch16-order`), tell how this
# model differs from ours.
#
# 1. **A different escape law.** The directions settle in a time that does not depend on
#    $\delta$; then the norms of the components in the basin of $u_i$ grow like $e^{4a_i t}$, and
#    their total $S_i = \sum_j \|w_j\|^2$ obeys the logistic equation $\dot S_i = 4S_i(a_i - S_i)$. So
#    component $i$ is half-fitted at $t_i \approx \log(1/\delta^2)/(4a_i)$, up to a term that does not
#    grow as $\delta \to 0$: *logarithmic* in $1/\delta$, as for matrices, where ours is a blow-up time
#    of order $\delta^{-(\ell-2)}$.
# 2. **No winner takes all.** All components in a basin grow at the same rate, so the fitted
#    $u_i$ is *shared* among them, instead of being carried by one row.
# 3. **An empty basin is never found.** If no component starts in the basin of $u_i$, then by
#    the time the others are fitted every direction has settled near a fitted $u_{i'}$, where the
#    residual is nearly zero, and nothing moves towards $u_i$: plain gradient flow misses it.
#    The basins are read off $W(0)$, so this is a prediction, seed by seed.
#
# Consequence 3 is where the paper's modifications matter. As we read the paper, its *modified
# gradient flow* is the following; the two modifications are the paper's, the epoch lengths
# (doubling) and the constants are our choices.

# %% [markdown]
# :::{prf:algorithm} Modified gradient flow (our reading of Ge et al.)
# :label: alg-ch16-modified
#
# **Inputs:** $\delta$ (initialization scale), $\lambda > 0$ (a small regularizer), $\delta_1$
# (re-initialization threshold), $T_0$ and a number of epochs $E$.
#
# 1. Draw every $w_j$ uniformly on the sphere of radius $\delta$.
# 2. For epochs $s = 0, 1, \dots, E - 1$:
#    1. if $s > 0$, re-draw every $w_j$ with $\|w_j\| \le \delta_1$ uniformly on the sphere of radius $\delta$;
#    2. run gradient flow on $L_\lambda$ for time $2^s T_0$.
# :::
#
# The re-initialization gives the components that are still small, and which would otherwise sit
# near an already fitted direction, a fresh random direction, drawn now against the *deflated*
# residual, in which the largest unfitted component is the largest term. The regularizer makes a
# component that fits nothing shrink, and leaves each fitted $u_i$ at $a_i - \lambda/2$ instead of
# $a_i$.

# %% [markdown]
# :::{prf:theorem} The modified flow follows a deflation process (shape of the result)
# :label: thm-ch16-deflation
#
# Let $T^\star = \sum_{i=1}^r a_i u_i^{\otimes 4}$ be orthogonally decomposable, with
# $a_1 \ge \dots \ge a_r > 0$, and train the model of {prf:ref}`def-ch16-homogeneous` by the modified
# gradient flow ({prf:ref}`alg-ch16-modified`). If the width $m$ is large enough (polynomially in the
# dimension and the other parameters) and $\delta$, $\lambda$ and $\delta_1$ are small enough, then with
# high probability the trajectory is a deflation process: epoch after epoch, the largest components
# not yet fitted are fitted (components of the model become highly correlated with them, and their
# total contribution along them approaches their weight), the components fitted earlier stay near
# their fits, and at the end $\|T(W) - T^\star\|_F$ is small, after a number of epochs and a time
# polynomial in the parameters {cite}`ge2021understanding`.
# :::
#
# **How this relates to the paper.** This is the *shape* of the paper's main theorem, not its
# statement: we could not check the paper's exact conditions on $m$, $\delta$, $\lambda$, $\delta_1$ and the
# epoch lengths, how components of similar size are grouped into epochs, or its error bounds, and we
# do not reproduce them. The abstract says that the proof shows gradient flow working, for
# orthogonal tensors, like *greedy low-rank learning* for matrices; consequences 1 and 2 above are
# the matrix-like features (a logarithmic escape, a shared component).

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch. It skips the bounds on the interaction between components, the local stability
# analysis that keeps fitted components in place, the "norm–correlation" lemma that a component of
# non-negligible norm must be highly correlated with some $u_i$, and all constants; see
# {cite}`ge2021understanding`.)* In an epoch, the small components start from fresh directions (step
# 2.1) and, by {prf:ref}`prop-ch16-decouple`, their directions move in time $O(1)$, independent of
# their norms, towards the basins of the residual; the residual is the deflated tensor, because the
# components fitted earlier carry the fitted $u_i$ ({prf:ref}`lem-ch16-deflation` in this model: a
# group of components with $\sum_j \|w_j\|^2 = a_i$ along $u_i$ removes $a_i u_i^{\otimes 4}$). A component in
# the basin of an unfitted $u_i$ grows like $e^{(4a_i - 2\lambda)t}$, so within an epoch of length
# about $\log(1/\delta)/a_i$ the largest unfitted components are fitted, while those whose basin is a
# smaller component stay below $\delta_1$ and are re-drawn at the next epoch. The regularizer makes
# components that are not aligned with an unfitted direction shrink, so that the only large
# components are those near fitted directions; local stability keeps these near their fits. With
# $m$ large, every unfitted component has components in its basin in every epoch.
# :::
#
# (sec-ch16-paper-model-experiment)=
# ### Experiment: the paper's model beside ours
#
# The code is short: the inner products give the loss, as in {prf:ref}`lem-ch16-gradient`,
# $\|T(W)\|_F^2 = \sum_{j,k}\langle w_j, w_k\rangle^4 / (\|w_j\|^2\|w_k\|^2)$ and
# $\langle T(W), T^\star\rangle = \sum_{j,i} a_i c_{ji}^4/\|w_j\|^2$, and autograd gives the gradient. Every
# function takes a batch of initializations, $W$ of shape (initializations, $m$, $n$), so one run
# trains them all (the model is not a module of the library's batched engine, but the batch is the
# same idea).


# %%
def homogeneous_loss(W, a, lam=0.0):
    """L_lambda of the two-homogeneous model, one value per initialization.

    W: (B, m, n), a batch of B initializations of m components.
    """
    sq = W.pow(2).sum(-1)  # (B, m): squared norms
    gram = W @ W.transpose(-1, -2)
    model_sq = (gram.pow(4) / (sq.unsqueeze(-1) * sq.unsqueeze(-2))).sum((-1, -2))
    cross = (a * W[..., : len(a)].pow(4)).sum(-1).div(sq).sum(-1)
    return 0.5 * (model_sq - 2 * cross + a.pow(2).sum()) + 0.5 * lam * sq.sum(-1)


def homogeneous_fit(W, a):
    """T(W)(e_i, e_i, e_i, e_i) / a_i for each component: (B, r)."""
    parts = W[..., : len(a)].pow(4) / W.pow(2).sum(-1, keepdim=True)  # (B, m, r)
    return parts.sum(-2) / a


def sphere(shape, radius, generator):
    """Points drawn uniformly on the sphere of the given radius; shape (..., n)."""
    X = torch.randn(
        *shape, generator=generator, dtype=torch.float64, device=generator.device
    )
    return radius * X / X.norm(dim=-1, keepdim=True)


def train_homogeneous(W0, a, eta, epochs, lam=0.0, reinit=None, record=20, desc="GD"):
    """Gradient descent on L_lambda, in epochs of the given numbers of steps.

    reinit = (delta, delta_1, generator): before every epoch but the first, each
    component of norm <= delta_1 is re-drawn on the sphere of radius delta (the
    modified flow).
    Returns the final W and the recorded times and fits, (T,) and (T, B, r).
    """
    W, times, fits, step = W0.clone(), [], [], 0
    for e, n_steps in enumerate(epochs):
        if reinit is not None and e > 0:
            delta, delta_1, gen = reinit
            small = W.norm(dim=-1, keepdim=True) <= delta_1
            W = torch.where(small, sphere(W.shape, delta, gen), W)
        for _ in runtime.progress(range(n_steps), desc, steps=True):
            if step % record == 0:
                times.append(eta * step)
                fits.append(homogeneous_fit(W, a))
            W.requires_grad_(True)
            (grad,) = torch.autograd.grad(homogeneous_loss(W, a, lam).sum(), W)
            W = (W - eta * grad).detach()
            step += 1
    times.append(eta * step)
    fits.append(homogeneous_fit(W, a))
    return W, np.array(times), torch.stack(fits).cpu().numpy()


def half_times(times, fits):
    """First recorded time each component is half-fitted, (B, r); NaN if never."""
    hit = fits >= 0.5  # (T, B, r)
    first = times[np.argmax(hit, axis=0)]
    return np.where(hit.any(0), first, np.nan)


# %% [markdown]
# The same weights $a_i = 0.6^{i-1}$ as in the staircase, $m =$ {glue:text}`HOM_WIDTH` components and
# two initialization scales, $\delta = 10^{-3}$ and $\delta = 10^{-6}$, with {glue:text}`hom_seeds`
# initializations each. We record the half-fit times and the largest share of a component carried
# by a single component of the model, $\max_j \|w_j\|^2 \bar w_{ji}^4 / \sum_j \|w_j\|^2 \bar w_{ji}^4$.

# %%
ETA_HOM = 0.05
notebook.glue("HOM_WIDTH", HOM_WIDTH)
notebook.glue("hom_seeds", HOM_SEEDS)
hom = {}
for delta in HOM_DELTAS:
    W0_h = sphere(
        (HOM_SEEDS, HOM_WIDTH, N_DIM), delta, cfg.generator(cfg.seed + 10)
    ).to(cfg.device)
    # long enough for the smallest component: 1.4 log(1/delta^2) / (4 a_r)
    n_steps = int(1.4 * math.log(delta**-2) / (4 * float(A[-1])) / ETA_HOM)
    W_h, t_h, f_h = train_homogeneous(
        W0_h, A, ETA_HOM, [n_steps], record=2, desc=f"delta = {delta:g}"
    )
    parts = W_h[..., :4].pow(4) / W_h.pow(2).sum(-1, keepdim=True)  # (B, m, r)
    hom[delta] = {
        "times": t_h,
        "fits": f_h,
        "t_half": half_times(t_h, f_h),
        "share": (parts.max(-2).values / parts.sum(-2)).cpu().numpy(),
    }
    law = 4 * A.cpu().numpy() * hom[delta]["t_half"] / math.log(delta**-2)
    print(
        f"delta = {delta:g}: half-fit times (first initialization) "
        f"{np.round(hom[delta]['t_half'][0], 2).tolist()}; 4 a_i t_i / log(1/delta^2) "
        f"in [{np.nanmin(law):.3f}, {np.nanmax(law):.3f}]; largest one-component share "
        f"{hom[delta]['share'].max():.3f}, smallest {hom[delta]['share'].min():.3f}"
    )

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
for i in range(4):
    for delta, ls in zip(HOM_DELTAS, ("-", "--")):
        ax1.plot(
            hom[delta]["times"],
            hom[delta]["fits"][:, 0, i],
            color=plotting.COLORS[i],
            ls=ls,
            label=f"$a_{i + 1}$ = {float(A[i]):.2f}, delta = {delta:g}",
        )
ax1.set(
    xlabel=r"time $t$ = $\eta$ $\times$ steps",
    ylabel="fitted fraction of component",
    title="Paper's model: delta 1000x smaller only doubles the times",
)
ax1.legend(fontsize=7, loc="center right")
ratio_h = hom[HOM_DELTAS[1]]["t_half"] / hom[HOM_DELTAS[0]]["t_half"]
ax2.boxplot([ratio_h[:, i] for i in range(4)])
ax2.axhline(
    math.log(HOM_DELTAS[1] ** -2) / math.log(HOM_DELTAS[0] ** -2),
    color="k",
    ls="--",
    lw=1,
    label="log law: ratio of log(1/delta^2)",
)
ax2.set_yscale("log")
ax2.set_ylim(0.8, 2e3)
ax2.axhline(
    HOM_DELTAS[0] / HOM_DELTAS[1],
    color="gray",
    ls=":",
    lw=1,
    label="blow-up law of our model (l = 3): 1000",
)
ax2.set(
    xlabel="component i",
    ylabel="t_i(delta = 1e-6) / t_i(delta = 1e-3)",
    title="Escape times scale like log(1/delta), not 1/delta",
)
ax2.legend(fontsize=8, loc="center right")
plt.show()

ratio_max = float(np.nanmax(ratio_h))
law_small = (
    4 * A.cpu().numpy() * hom[HOM_DELTAS[1]]["t_half"] / math.log(HOM_DELTAS[1] ** -2)
)
share_max_h = float(max(h["share"].max() for h in hom.values()))
notebook.glue("ratio_h_min", float(np.nanmin(ratio_h)))
notebook.glue("ratio_h_max", ratio_max)
notebook.glue("law_min", float(np.nanmin(law_small)))
notebook.glue("law_max", float(np.nanmax(law_small)))
notebook.glue("share_max_h", share_max_h)

# %% [markdown]
# Plain gradient descent on the paper's model also fits the components largest first (left), but
# by a different law. Dividing $\delta$ by $1000$ multiplies the half-fit times by
# {glue:text}`ratio_h_min:.2f` to {glue:text}`ratio_h_max:.2f` (right), close to the ratio of the
# logarithms, $2$; in our model ({prf:ref}`prop-ch16-escape`, $\ell = 3$) it would multiply them by
# $1000$. At $\delta = 10^{-6}$, $4a_i t_i / \log(1/\delta^2)$ is between {glue:text}`law_min:.3f` and
# {glue:text}`law_max:.3f` (consequence 1 predicts $1$ as $\delta \to 0$). And no component wins a
# race: the largest share of any $u_i$ carried by a single component is {glue:text}`share_max_h:.2f`,
# where in our model the winning row carried at least {glue:text}`share_min:.3f`.
#
# ### Experiment: where plain gradient descent fails, and the modification repairs it
#
# Consequence 3 predicts a failure of plain gradient flow that has nothing to do with luck in a
# race: with $m =$ {glue:text}`FAIL_WIDTH` components, weights $a_i = 2^{-(i-1)}$ and $\delta = 10^{-6}$,
# the basin of the smallest component is often empty at initialization. We draw
# {glue:text}`fail_seeds` initializations, read the empty basins off $W(0)$, and train each by
# (i) plain gradient descent, (ii) gradient descent with the regularizer only ($\lambda = 0.01$),
# (iii) the modified flow of {prf:ref}`alg-ch16-modified` ($\lambda = 0.01$, $\delta_1 = 0.1$, five
# epochs of doubling length, the first $1.5\log(1/\delta^2)/(4a_1)$), all for the same number of
# steps. A component counts as recovered when its fitted fraction ends at least $0.9$ (with the
# regularizer it ends at $1 - \lambda/(2a_i) \ge 0.96$).

# %%
A_FAIL = torch.tensor(
    [0.5**i for i in range(4)], dtype=torch.float64, device=cfg.device
)
DELTA_FAIL, LAM, DELTA_1 = 1e-6, 0.01, 0.1
notebook.glue("FAIL_WIDTH", FAIL_WIDTH)
notebook.glue("fail_seeds", FAIL_SEEDS)
W0_f = sphere((FAIL_SEEDS, FAIL_WIDTH, N_DIM), DELTA_FAIL, cfg.generator(cfg.seed + 20))
basin = (A_FAIL * W0_f[..., :4].pow(2)).argmax(-1)  # (B, m): each component's basin
occupied = (
    torch.stack([(basin == i).any(-1) for i in range(4)], -1).cpu().numpy()
)  # (B, r)
T0_FAIL = 1.5 * math.log(DELTA_FAIL**-2) / (4 * float(A_FAIL[0]))
EPOCHS = [int(2**s * T0_FAIL / ETA_HOM) for s in range(5)]
variants = {
    "plain": dict(lam=0.0, reinit=None),
    "regularizer only": dict(lam=LAM, reinit=None),
    "modified": dict(
        lam=LAM, reinit=(DELTA_FAIL, DELTA_1, cfg.generator(cfg.seed + 21))
    ),
}
final_fit = {}
for name, kw in variants.items():
    _, t_f, f_f = train_homogeneous(
        W0_f, A_FAIL, ETA_HOM, EPOCHS, record=100, desc=name, **kw
    )
    final_fit[name] = f_f[-1]  # (B, r)
    if name == "modified":
        times_mod, fits_mod = t_f, f_f
recovered = {name: f >= 0.9 for name, f in final_fit.items()}
all_rec = {name: rec.all(-1) for name, rec in recovered.items()}
plain_fail = ~all_rec["plain"]
agree = (recovered["plain"] == occupied).all(-1)
for name in variants:
    print(
        f"{name:17s}: all four recovered in {int(all_rec[name].sum())}/{FAIL_SEEDS}; "
        f"where plain failed: {int((all_rec[name] & plain_fail).sum())}"
        f"/{int(plain_fail.sum())}"
    )
print(
    f"every basin occupied at t = 0: {int(occupied.all(-1).sum())}/{FAIL_SEEDS}; "
    "plain GD "
    f"recovered exactly the occupied basins in {int(agree.sum())}/{FAIL_SEEDS}"
)

# %%
fail_rate = float(plain_fail.mean())
agree_rate = float(agree.mean())
repair_rate = float((all_rec["modified"] & plain_fail).sum() / max(plain_fail.sum(), 1))
notebook.glue("fail_rate", fail_rate)
notebook.glue("agree_rate", agree_rate)
notebook.glue("repair_rate", repair_rate)
notebook.glue("mod_rate", float(all_rec["modified"].mean()))
notebook.glue("reg_rate", float(all_rec["regularizer only"].mean()))
notebook.glue("plain_rate", float(all_rec["plain"].mean()))

k_show = int(np.argmax(plain_fail)) if plain_fail.any() else 0
fig, ax = plt.subplots(figsize=(8, 3.8))
for i in range(4):
    ax.plot(
        times_mod,
        fits_mod[:, k_show, i],
        color=plotting.COLORS[i],
        label=f"$a_{i + 1}$ = {float(A_FAIL[i]):.3f}"
        + ("" if occupied[k_show, i] else " (empty basin at t = 0)"),
    )
for t_ep in np.cumsum(EPOCHS)[:-1] * ETA_HOM:
    ax.axvline(t_ep, color="gray", lw=0.8, ls=":")
ax.set(
    xlabel=r"time $t$ = $\eta$ $\times$ steps (dotted: re-initializations)",
    ylabel="fitted fraction of component",
    title=f"Modified flow, an initialization where plain GD failed (#{k_show})",
)
ax.legend(fontsize=8, loc="center right")
plt.show()

# %% [markdown]
# Plain gradient descent failed to recover all four components in {glue:text}`fail_rate:.0%` of
# the initializations, and which components it recovered was predicted from $W(0)$ alone, by the
# occupied basins, in {glue:text}`agree_rate:.0%` of them. The regularizer alone does not help
# (all four recovered in {glue:text}`reg_rate:.0%`, against {glue:text}`plain_rate:.0%` for plain
# descent): it is the re-initialization that repairs the failures. The modified flow recovered all
# four components in {glue:text}`mod_rate:.0%` of the initializations, and in
# {glue:text}`repair_rate:.0%` of those where plain descent had failed. The figure shows one of
# these: the missing component is found only after a re-initialization, drawn against the
# deflated residual. The modified flow can still fail, when every component of the model ends up
# sharing one of the larger $u_i$, so that none is small enough to be re-drawn; the width that the
# theorem asks for rules this out.

# %% [markdown]
# ## Part II. Multimodal contrastive learning
#
# The mechanism of Part I, "directions grow at a rate proportional to their current size", is
# welcome when we want to find the components of a tensor one by one. In representation learning it
# is a problem: a representation trained by such dynamics ends up dominated by the top direction of
# the data. Ren and Li {cite}`ren2023importance` show that in contrastive learning the *negative
# pairs* counteract this.
#
# ### The setting

# %% [markdown]
# :::{prf:definition} Linear two-view contrastive learning
# :label: def-ch16-contrastive
#
# A data point produces two views $x^A, x^B \in \mathbb R^n$ (say, an image and its caption), with
# covariances $\Sigma_A = \mathbb E[x^A x^{A\top}]$, $\Sigma_B$ and cross-covariance
# $C = \mathbb E[x^A x^{B\top}]$. Linear encoders $W_A, W_B \in \mathbb R^{d \times n}$ give
# representations $f_A = W_A x^A$, $f_B = W_B x^B \in \mathbb R^d$. A *positive pair* is the two views
# of one data point, a *negative pair* two views of independent data points. The representation's
# *condition number* is
#
# $$ \kappa(W_A) = \frac{s_{\max}(W_A \Sigma_A^{1/2})}{s_{\min}(W_A \Sigma_A^{1/2})}, $$
#
# the ratio of the largest to the smallest singular value, i.e. the square root of the ratio of the
# extreme eigenvalues of the representation's covariance $W_A\Sigma_A W_A^\top$ (for $d \le n$). It is
# $1$ for a perfectly balanced (whitened) representation and $\infty$ for a collapsed one.
# The losses we compare are
#
# - *positive pairs only*, $L_{\mathrm{pos}} = -\mathbb E\langle f_A, f_B\rangle$, with norm control:
#   after each step both encoders are rescaled by a common factor so that
#   $\|W_A\|_F^2 + \|W_B\|_F^2 = 2$;
# - the *spectral contrastive loss*
#   $L_{\mathrm{sc}} = -2\,\mathbb E\langle f_A, f_B\rangle + \mathbb E_{\text{neg}}\langle f_A, f_B' \rangle^2$,
#   where $f_B'$ is the representation of an independent data point;
# - the *CLIP (InfoNCE) loss*: in a batch, the cross-entropy of recognizing the positive partner among
#   all candidates, with cosine similarities divided by a temperature $\tau$, averaged over both
#   directions.
# :::
#
# ### Positive pairs alone collapse the representation
#
# Gradient flow on $L_{\mathrm{pos}} = -\operatorname{tr}(W_A C W_B^\top)$ is linear:
# $\dot W_A = W_B C^\top$, $\dot W_B = W_A C$. Each direction grows at a rate equal to its current
# size times the cross-covariance: the "rich get richer" of Part I, in its matrix form.

# %% [markdown]
# :::{prf:proposition} Positive pairs increase the condition number without bound
# :label: prop-ch16-positive
#
# Let $C = \sum_k s_k\, p_k q_k^\top$ be a singular value decomposition with $s_1 > s_2$, let
# $\Sigma_A \succ 0$ and $2 \le d \le n$ (so that $\kappa$ is defined), and suppose $W_A(0) p_1 + W_B(0) q_1 \ne 0$. Let
# $(W_A(t), W_B(t))$ be the gradient flow of $L_{\mathrm{pos}}$, possibly rescaled at every time by any
# positive scalars (norm control, as long as it rescales both encoders by the same factor). Then
# $W_A(t)/\|W_A(t)\|_F$ converges to a rank-one matrix $v\, p_1^\top$ with $v \ne 0$, and
# $\kappa(W_A(t)) \to \infty$.
# :::

# %% [markdown]
# :::{prf:proof}
# Stack $Z = [W_A, W_B] \in \mathbb R^{d \times 2n}$. The flow is $\dot Z = Z K$ with the symmetric
# matrix $K = \begin{pmatrix} 0 & C \\ C^\top & 0 \end{pmatrix}$, so $Z(t) = Z(0)e^{Kt}$, and a scalar
# rescaling only multiplies this by a positive factor, which changes neither the limit of
# $W_A/\|W_A\|_F$ nor $\kappa$. The eigenvalues of $K$ are $\pm s_k$, with unit eigenvectors
# $v_k^\pm = (p_k, \pm q_k)/\sqrt2$, and $0$ on the rest. Hence
# $e^{-s_1 t} e^{Kt} = v_1^+ v_1^{+\top} + O(e^{-(s_1 - s_2)t})$ and
# $e^{-s_1 t} Z(t) \to Z(0) v_1^+ v_1^{+\top}$, whose $A$-block is
# $\tfrac12 (W_A(0)p_1 + W_B(0) q_1)\, p_1^\top = v\, p_1^\top$ with $v \ne 0$ by assumption. So
# $e^{-s_1 t} W_A(t) \to v p_1^\top$, and the singular values of
# $e^{-s_1 t} W_A(t)\Sigma_A^{1/2}$ converge to those of $v p_1^\top \Sigma_A^{1/2}$: one positive value
# ($\Sigma_A^{1/2}p_1 \ne 0$) and $d - 1 \ge 1$ zeros. The ratio of the largest to the smallest
# therefore tends to infinity.
# :::
#
# The same computation shows that the positive-pair loss does align the two views: both encoders
# end up reading the top singular pair $(p_1, q_1)$ of $C$, so $f_A$ and $f_B$ become proportional.
# Alignment is bought with collapse.
#
# ### Negative pairs restore the balance
#
# For the spectral contrastive loss the effect of the negative pairs is transparent in the symmetric
# case, where the two views coincide ($x^A = x^B = x$, covariance $\Sigma$) and the encoders are tied
# ($W_A = W_B = W$; the flow keeps them tied if they start tied). Write $P = W\Sigma W^\top$ for the
# representation covariance. Below, $L_{\mathrm{sc}}(W)$ and its gradient flow are taken as functions of
# the shared $W$; the untied flow started at $W_A = W_B = W$ moves each encoder by
# $\dot W = 2W\Sigma - 2PW\Sigma$, the same trajectory at half the speed.

# %% [markdown]
# :::{prf:proposition} The spectral contrastive loss balances the representation
# :label: prop-ch16-spectral
#
# Let $\Sigma \succ 0$ and $d \le n$. In the symmetric case:
#
# 1. $L_{\mathrm{sc}}(W) = \|P - I_d\|_F^2 - d$.
# 2. Its gradient flow is $\dot W = 4 W \Sigma - 4 P W \Sigma$: the positive pairs contribute the
#    growth term $4W\Sigma$, the negative pairs the term $-4PW\Sigma$.
# 3. Every critical point has $P$ an orthogonal projection; every local minimum is global, with
#    $P = I_d$, so $\kappa(W) = 1$.
# :::

# %% [markdown]
# :::{prf:proof}
# (1) $\mathbb E\langle Wx, Wx\rangle = \operatorname{tr}(W\Sigma W^\top) = \operatorname{tr} P$, and for independent
# $x, x'$, $\mathbb E\langle Wx, Wx'\rangle^2 = \mathbb E\,\operatorname{tr}(W^\top W x' x'^\top W^\top W x x^\top)
# = \operatorname{tr}(W^\top W\Sigma W^\top W \Sigma) = \operatorname{tr}(P^2)$. So
# $L_{\mathrm{sc}} = \operatorname{tr}(P^2) - 2\operatorname{tr}P = \|P - I\|_F^2 - d$.
# (2) $\nabla_W \operatorname{tr}P = 2W\Sigma$ and $\nabla_W \operatorname{tr}(P^2) = 4PW\Sigma$.
# (3) At a critical point $(I - P)W\Sigma = 0$; multiplying by $W^\top$ on the right gives
# $(I - P)P = 0$, so the symmetric matrix $P$ has eigenvalues in $\{0, 1\}$: a projection. If its
# rank is $k < d$, it is not a local minimum: $\operatorname{rank} W = \operatorname{rank} P = k < n$,
# so there is $z \ne 0$ with $W\Sigma z = 0$; take a unit $u \in \ker P$ and
# $W_\epsilon = W + \epsilon\, u z^\top$. Then
# $P_\epsilon = P + \epsilon(u z^\top \Sigma W^\top + W\Sigma z u^\top) + \epsilon^2 (z^\top\Sigma z) u u^\top
# = P + \epsilon^2 \gamma\, u u^\top$ with $\gamma = z^\top \Sigma z > 0$, and since $Pu = 0$,
# $\|P_\epsilon - I\|_F^2 = \|P - I\|_F^2 - 2\epsilon^2\gamma + \epsilon^4\gamma^2$, smaller for small
# $\epsilon$. Hence local minima have $P = I_d$, the global minimum of (1), where all singular values
# of $W\Sigma^{1/2}$ equal $1$.
# :::
#
# Item 2 is the mechanism. The positive term $4W\Sigma$ alone would grow each direction of the
# representation in proportion to its current size and the data variance along it, exactly the
# dynamics of {prf:ref}`prop-ch16-positive`. The negative term $-4PW\Sigma$ is the same growth
# weighted by $P$: it is strongest along the dominant directions of the representation and cancels
# the growth exactly where the representation's variance has reached $1$. Large directions are
# held back, small ones keep growing, and the condition number shrinks.

# %% [markdown]
# :::{prf:theorem} Positive pairs align, negative pairs balance (Ren and Li, as far as we can establish it)
# :label: thm-ch16-contrastive
#
# *Setting* {cite}`ren2023importance`: the two modalities are $x^A = A z + A_\xi \xi_A$ and
# $x^B = B z + B_\xi \xi_B$, with a shared, non-isotropic signal $z$ (a positive pair shares $z$; a
# negative pair has independent signals), linear maps $A, B$ from the signal to the observations and
# independent noises $\xi_A, \xi_B$; the representations, as far as we can establish, are linear,
# $f_A = W_A x^A$, $f_B = W_B x^B$, trained by gradient descent on a contrastive loss from a small
# initialization. *Result*: the
# training goes in two stages. In the first, the positive pairs align the representations of the
# two views, and the condition number of the learned representation (of $W_A A$ and $W_B B$ on the
# signal) grows. In the second, the negative pairs reduce the condition number, and the learned
# representations end up aligned and balanced.
# :::
#
# **How this relates to the paper.** The setting is the one the paper describes in its
# introduction, and the two stages are its headline (the conference version of the abstract
# describes them as stages); the exact assumptions (on the signal, the noise, $A$ and $B$), the exact
# loss, the initialization, the step size and the quantitative bounds (how far the condition number
# grows, how fast it falls, after how many steps) we could not check, and we do not reproduce them.
# We give no proof of this theorem. What we prove is the following variant, for the spectral contrastive loss in the symmetric case of
# {prf:ref}`prop-ch16-spectral`, with the rates of both stages exact.

# %% [markdown]
# :::{prf:theorem} The two stages of the spectral contrastive flow (a variant we prove)
# :label: thm-ch16-two-stages
#
# In the symmetric case, let $\Sigma = V \Lambda V^\top$ with $\lambda_1 > \lambda_d > 0$ the first and
# $d$-th eigenvalues, and let $W(0) = Q\, S(0)\, V_d^\top$ with $Q$ orthogonal, $S(0)$ diagonal and
# positive, $V_d$ the first $d$ eigenvectors, and $p_k(0) = \lambda_k s_k(0)^2 < 1$. Under the gradient flow of
# $L_{\mathrm{sc}}$, $P(t) = W\Sigma W^\top$ has eigenvalues $p_k(t)$ whose odds $o_k = p_k / (1 - p_k)$ obey
#
# $$ o_k(t) = o_k(0)\, e^{8\lambda_k t} . $$
#
# Consequently, with $\kappa = \kappa(W)$:
#
# 1. *(positive pairs: growth)* $\kappa(t)^2 \ge \dfrac{o_1(0)}{o_d(0)}\, e^{8(\lambda_1 - \lambda_d)t}\,(1 - p_1(t))$;
#    from a small initialization ($p_k(0) \le \epsilon$), $\kappa^2$ grows at the exact rate
#    $8(\lambda_1 - \lambda_d)$ until $p_1$ approaches $1$, around $t \approx \log(1/p_1(0))/(8\lambda_1)$;
# 2. *(negative pairs: balance)* $1 \le \kappa(t)^2 \le 1 + \max_k e^{-8\lambda_k t}/o_k(0)$, so
#    $\kappa \to 1$, at the rate $e^{-8\lambda_d t}$ at worst.
#
# If $p_d \ll 1$ at the time $\kappa$ peaks, the peak is where $\lambda_1(1 - p_1) = \lambda_d$, at
# $t_{\mathrm{peak}} \approx \big[\log(1/p_1(0)) + \log(\lambda_1/\lambda_d - 1)\big]/(8\lambda_1)$.
# :::

# %% [markdown]
# :::{prf:proof}
# With $W = QSV_d^\top$ the flow of {prf:ref}`prop-ch16-spectral` (item 2) is
# $\dot W = 4(I - P)W\Sigma = 4Q(I - S^2\Lambda_d)S\Lambda_d V_d^\top$, again of this form, so by uniqueness the
# form is kept, with $\dot s_k = 4\lambda_k s_k(1 - \lambda_k s_k^2)$ and, for $p_k = \lambda_k s_k^2$,
# $\dot p_k = 8\lambda_k p_k(1 - p_k)$ (this is {ref}`Exercise <ex-ch16-commuting>`). Then
# $\frac{d}{dt}\log o_k = \dot p_k / (p_k(1 - p_k)) = 8\lambda_k$. The singular values of $W\Sigma^{1/2}$ are
# the $\sqrt{p_k}$, so $\kappa^2 = \max_k p_k / \min_k p_k$. (1) $\kappa^2 \ge p_1/p_d =
# (o_1/o_d)(1 - p_1)/(1 - p_d) \ge (o_1/o_d)(1 - p_1)$. (2) $0 < p_k < 1$ for all $t$ (the logistic
# equation keeps $(0, 1)$), so $\kappa^2 \le 1/\min_k p_k = 1 + \max_k 1/o_k$. For the peak,
# $\frac{d}{dt}\log(p_1/p_d) = 8\lambda_1(1 - p_1) - 8\lambda_d(1 - p_d)$, which vanishes at
# $\lambda_1(1 - p_1) = \lambda_d$ when $p_d \approx 0$, i.e. at $o_1 = \lambda_1/\lambda_d - 1$; solve
# $o_1(0)e^{8\lambda_1 t} = \lambda_1/\lambda_d - 1$ with $o_1(0) \approx p_1(0)$.
# :::
#
# (sec-ch16-two-stages)=
# ### Experiment: the two stages, measured
#
# Positive pairs alone give $\dot p_k = 4\lambda_k p_k$ ({ref}`Exercise <ex-ch16-commuting>`): the
# first stage without the second. The negative pairs are invisible while the representation is small
# (their term is quadratic in $P$) and take over once it is of order one: this is the stage-wise
# picture of Ren and Li, in a model where every rate is explicit. A generic small initialization is
# not of the form $QS(0)V_d^\top$, but the flow $\dot W \approx 4W\Sigma$ of the first stage turns its
# rows towards the top eigenvectors, so the prediction should hold approximately, with
# $p_1(0) := \lambda_1 \|W(0) v_1\|^2$. We check it by gradient descent on the population loss,
# $W \leftarrow W + 4\eta (I - P)W\Sigma$, from two small generic initializations.

# %%
N_S, D_S = 16, 4
lam_S = torch.tensor([1.0, 0.7, 0.5, 0.35] + [0.1] * (N_S - D_S), dtype=torch.float64)
g_S = torch.Generator().manual_seed(cfg.seed + 30)
V_S = torch.linalg.qr(torch.randn(N_S, N_S, generator=g_S, dtype=torch.float64))[0]
Sigma_S = V_S @ torch.diag(lam_S) @ V_S.T
Sigma_half = V_S @ torch.diag(lam_S.sqrt()) @ V_S.T
ETA_S, STEPS_S = 0.01, 2500


def spectral_flow(W0, eta=ETA_S, steps=STEPS_S, desc="spectral flow"):
    """Gradient descent on the population L_sc (symmetric case): times and kappa."""
    W, times, kappas = W0.clone(), [], []
    for step in runtime.progress(range(steps + 1), desc, steps=True):
        s = torch.linalg.svdvals(W @ Sigma_half)
        times.append(eta * step)
        kappas.append(float(s[0] / s[-1]))
        W = (
            W
            + 4
            * eta
            * (torch.eye(D_S, dtype=W.dtype) - W @ Sigma_S @ W.T)
            @ W
            @ Sigma_S
        )
    return np.array(times), np.array(kappas)


stages = {}
for scale in (1e-4, 1e-6):
    W0_S = scale * torch.randn(D_S, N_S, generator=g_S, dtype=torch.float64) / N_S**0.5
    p1_0 = float(lam_S[0] * (W0_S @ V_S[:, 0]).pow(2).sum())
    l1, ld = float(lam_S[0]), float(lam_S[D_S - 1])
    t_pred = (math.log(1 / p1_0) + math.log(l1 / ld - 1)) / (8 * l1)
    tt, kk = spectral_flow(W0_S, desc=f"scale {scale:g}")
    stages[scale] = dict(times=tt, kappa=kk, t_pred=t_pred, t_peak=tt[np.argmax(kk)])
    print(
        f"init scale {scale:g}: kappa {kk[0]:.2f} -> peak {kk.max():.3g} at t = "
        f"{tt[np.argmax(kk)]:.2f} (predicted {t_pred:.2f}) -> {kk[-1]:.4f} "
        f"at t = {tt[-1]:.0f}"
    )

# %%
fig, ax = plt.subplots(figsize=(8, 4))
for (scale, st), color in zip(stages.items(), plotting.COLORS):
    ax.semilogy(st["times"], st["kappa"], color=color, label=f"init scale {scale:g}")
    ax.axvline(st["t_pred"], color=color, ls="--", lw=1)
    t_lin = st["times"][st["times"] <= st["t_pred"]]
    ax.semilogy(
        t_lin,
        st["kappa"][0] * np.exp(4 * (l1 - ld) * t_lin),
        color=color,
        ls=":",
        lw=1,
    )
ax.plot([], [], color="gray", ls="--", lw=1, label="predicted peak time")
ax.plot(
    [],
    [],
    color="gray",
    ls=":",
    lw=1,
    label=r"$\kappa(0)\,e^{4(\lambda_1-\lambda_d)t}$",
)
ax.set(
    xlabel=r"time $t$ = $\eta$ $\times$ steps",
    ylabel=r"condition number $\kappa(W)$ (log scale)",
    title="Spectral contrastive flow: kappa grows, then negatives bring it to 1",
)
ax.legend(fontsize=8)
plt.show()
peak_err = max(abs(st["t_peak"] / st["t_pred"] - 1) for st in stages.values())
peak_gain = min(st["kappa"].max() / st["kappa"][0] for st in stages.values())
kappa_end_S = max(st["kappa"][-1] for st in stages.values())
notebook.glue("peak_err", peak_err)
notebook.glue("peak_gain", peak_gain)
notebook.glue("kappa_end_S", kappa_end_S)

# %% [markdown]
# Both stages are there: from either initialization, $\kappa$ first grows (by a factor of at least
# {glue:text}`peak_gain:.3g`), at about the rate $4(\lambda_1 - \lambda_d)$ of the first stage (dotted,
# drawn from $\kappa(0)$; the early transient is the rows turning towards the top eigenvectors), and
# then falls to {glue:text}`kappa_end_S:.4f` or less. The peak comes within
# {glue:text}`peak_err:.1%` of the time predicted by {prf:ref}`thm-ch16-two-stages`, though the
# initialization is not of the theorem's form. A smaller initialization makes the first stage
# longer and the peak higher, by the factor $e^{4(\lambda_1 - \lambda_d)\Delta t}$ of the extra time.
#
# The experiment below goes beyond this model: two different views, untied encoders, mini-batch SGD
# and the CLIP loss, from an initialization of order one.
#
# (sec-ch16-contrastive-experiment)=
# ### Experiment: the condition number during training
#
# The data: a latent $z \in \mathbb R^n$ with independent coordinates of variances spread over more
# than an order of magnitude, and two views $x^A = U_A z + \xi_A$, $x^B = U_B z + \xi_B$ with random
# rotations $U_A, U_B$ (the "modalities") and a little independent noise. We train $d$-dimensional
# representations with each of the three losses by mini-batch SGD, with the same step size and
# initialization, and record $\kappa(W_A)$ and the alignment of positive pairs, the mean cosine
# similarity of $f_A$ and $f_B$ on a fixed test batch.

# %%
LR_C, NOISE, TAU = 0.02, 0.1, 0.5
notebook.glue("batch_c", BATCH_C)
variances = torch.logspace(0, -1.3, N_C)  # latent variances, 1 down to 0.05


def two_view_data(seed):
    """Random rotations U_A, U_B and a sampler of (x_A, x_B) batches for the two-view model."""
    g = torch.Generator().manual_seed(seed)
    # random_orthonormal has orthonormal rows; .T: x = U z, with U's columns orthonormal
    U_A = tasks.random_orthonormal(N_C, N_C, generator=g).T
    U_B = tasks.random_orthonormal(N_C, N_C, generator=g).T
    Sigma_A = U_A @ torch.diag(variances) @ U_A.T + NOISE**2 * torch.eye(N_C)

    def sample(batch, gen):
        z = torch.randn(batch, N_C, generator=gen) * variances.sqrt()
        return (
            z @ U_A.T + NOISE * torch.randn(batch, N_C, generator=gen),
            z @ U_B.T + NOISE * torch.randn(batch, N_C, generator=gen),
        )

    return sample, Sigma_A


def condition_number(W, Sigma):
    """kappa = s_max / s_min of W Sigma^(1/2): the spread of the representation's scales."""
    s = torch.linalg.svdvals(W @ torch.linalg.cholesky(Sigma))
    return float(s.max() / s.min())


# %% [markdown]
# The three losses, on a batch of representations $f_A, f_B$ (rows are data points; off-diagonal
# pairs in the batch are the negative pairs):


# %%
def positive_only(fa, fb):
    """-E<f_A, f_B> over positive pairs (norm control is applied to the weights after each step)."""
    return -(fa * fb).sum(1).mean()


def spectral_contrastive(fa, fb):
    """-2 E<f_A, f_B> (positive pairs) + E<f_A, f_B'>^2 (negative pairs: off-diagonal of the batch)."""
    S = fa @ fb.T
    B, diag = S.shape[0], S.diagonal()
    # the mean of the squared off-diagonal entries, without indexing them out of the batch
    return -2 * diag.mean() + (S.pow(2).sum() - diag.pow(2).sum()) / (B * (B - 1))


def clip_loss(fa, fb, tau=TAU):
    """Symmetric InfoNCE on cosine similarities / tau: find each point's partner among the batch."""
    logits = F.normalize(fa, dim=1) @ F.normalize(fb, dim=1).T / tau
    labels = torch.arange(logits.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


LOSSES = {
    "positive pairs only": positive_only,
    "spectral contrastive": spectral_contrastive,
    "CLIP (InfoNCE)": clip_loss,
}

# %% [markdown]
# The training loop: plain SGD on the two encoders; for the positive-only loss, the norm control.


# %%
def train_contrastive(loss_fn, seed, steps=STEPS_C, record=25):
    """SGD on (W_A, W_B); returns steps, kappa(W_A) and the positive-pair cosine over training."""
    sample, Sigma_A = two_view_data(seed)
    g_init, g_data = (
        torch.Generator().manual_seed(seed + 1),
        torch.Generator().manual_seed(seed + 2),
    )
    W_A = (torch.randn(D_C, N_C, generator=g_init) / math.sqrt(N_C)).requires_grad_()
    W_B = (torch.randn(D_C, N_C, generator=g_init) / math.sqrt(N_C)).requires_grad_()
    xa_test, xb_test = sample(1000, torch.Generator().manual_seed(seed + 3))
    rec = {"step": [], "kappa": [], "cosine": []}
    for step in runtime.progress(range(steps + 1), "SGD steps", steps=True):
        if step % record == 0:
            with torch.no_grad():
                rec["step"].append(step)
                rec["kappa"].append(condition_number(W_A, Sigma_A))
                rec["cosine"].append(
                    float(F.cosine_similarity(xa_test @ W_A.T, xb_test @ W_B.T).mean())
                )
        xa, xb = sample(BATCH_C, g_data)
        gA, gB = torch.autograd.grad(loss_fn(xa @ W_A.T, xb @ W_B.T), (W_A, W_B))
        with torch.no_grad():
            W_A -= LR_C * gA
            W_B -= LR_C * gB
            if loss_fn is positive_only:  # norm control: ||W_A||_F^2 + ||W_B||_F^2 = 2
                scale = torch.sqrt((W_A.pow(2).sum() + W_B.pow(2).sum()) / 2)
                W_A /= scale
                W_B /= scale
    return {k: np.array(v) for k, v in rec.items()}


# one run of each loss per seed (data set and initialization); the figure shows the first seed
runs_by_seed = {
    cfg.seed + 4 * k: {
        name: train_contrastive(fn, cfg.seed + 4 * k) for name, fn in LOSSES.items()
    }
    for k in runtime.progress(range(CONTRAST_SEEDS), "seeds")
}
runs = runs_by_seed[cfg.seed]
for seed, seed_runs in runs_by_seed.items():
    for name, r in seed_runs.items():
        print(
            f"seed {seed}, {name:22s}: kappa {r['kappa'][0]:.2f} -> {r['kappa'][-1]:.3g}, "
            f"positive-pair cosine {r['cosine'][0]:+.2f} -> {r['cosine'][-1]:.3f}"
        )

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
for (name, r), color in zip(runs.items(), plotting.COLORS):
    ax1.semilogy(r["step"], r["kappa"], color=color, label=name)
    ax2.plot(r["step"], r["cosine"], color=color, label=name)
ax1.set(
    xlabel="steps",
    ylabel=r"condition number $\kappa(W_A)$ (log scale)",
    title="Without negative pairs the representation collapses",
)
ax2.set(
    xlabel="steps",
    ylabel="mean cosine of positive pairs",
    title="All three losses align the two views",
)
ax1.legend(fontsize=8)
ax2.legend(fontsize=8, loc="lower right")
plt.show()

kappa_final = {name: float(r["kappa"][-1]) for name, r in runs.items()}
kappa_ratio = kappa_final["positive pairs only"] / max(
    kappa_final["spectral contrastive"], kappa_final["CLIP (InfoNCE)"]
)
notebook.glue("kappa_pos", kappa_final["positive pairs only"])
notebook.glue("kappa_sc", kappa_final["spectral contrastive"])
notebook.glue("kappa_clip", kappa_final["CLIP (InfoNCE)"])
notebook.glue("kappa_ratio", kappa_ratio)
notebook.glue("cos_pos_max", float(runs["positive pairs only"]["cosine"].max()))
notebook.glue("cos_pos_end", float(runs["positive pairs only"]["cosine"][-1]))

# %% [markdown]
# All three losses align the views, but only the two with negative pairs keep the representation
# balanced: at the end $\kappa$ is {glue:text}`kappa_sc:.2f` with the spectral contrastive loss and
# {glue:text}`kappa_clip:.2f` with CLIP, against {glue:text}`kappa_pos:.3g` with positive pairs
# only, {glue:text}`kappa_ratio:.3g` times larger than the larger of the two. The positive-only
# encoders are numerically rank one: they read only the top latent direction, as
# {prf:ref}`prop-ch16-positive` predicts. With negative pairs, $\kappa$ decreases from its initial
# value. It does not reach exactly $1$ because SGD on batches of {glue:text}`batch_c` keeps
# fluctuating, and because with two different views and a little noise the balanced optimum is
# only approximately whitened.
#
# The right panel has a twist. With positive pairs only, the mean cosine of positive pairs first
# rises to {glue:text}`cos_pos_max:.2f` and then slowly falls, to {glue:text}`cos_pos_end:.2f` at the
# end. Once both encoders read a single latent direction, the cosine of a pair is $\pm 1$, with the
# sign decided by whether the two noisy views agree on the sign of that one coordinate; a collapsed
# representation has no other directions to average this noise out. Alignment without balance is
# fragile.
#
# ## Checks
#
# The checks below, one per result of the two papers, are made on every initialization and seed
# of the runs above, with the same thresholds in quick and full mode.

# %%
# Part I, every initialization: the components are discovered in order of size, close to the
# predicted times, one at a time, and all are recovered (staircase_checks above).
n_stair = sum(
    st["in order"] and st["one at a time"] and st["recovered"] for st in stairs.values()
)
time_error = max(st["time error"] for st in stairs.values())
reproduce.report(
    "ge2021understanding",
    claim="from a small initialization, gradient flow on an over-parameterized orthogonal tensor "
    "decomposition follows a tensor deflation process: the components are fitted one at a time, "
    "largest first, and all of them are recovered",
    paper_value="a theorem (qualitative trajectory), for a modified gradient flow",
    value=f"{n_stair}/{len(stairs)} initializations; discovery times within "
    f"{time_error:.1%} of the prediction from W(0)",
    assertion=f"the chapter's model sum_j w_j^(x3) (not the paper's parametrization), d = {WIDTH} "
    f"rows, delta = {DELTA:g}, plain gradient descent (not the paper's modified flow), "
    f"{len(stairs)} initializations, each: the 4 components (a_i = 0.6^(i-1)) half-fitted in order "
    "of size, halfway between two discoveries the earlier one >= 90% and every later one <= 10% "
    "fitted, at the end every fit within 10% of 1, a row aligned >= 0.9 with each component and "
    "the loss down 1000-fold; every discovery time within 10% of 1/(l(l-2) a_i M_i^(l-2))",
    passed=n_stair == len(stairs) and time_error <= 0.1,
    status="partly",
    section="sec-ch16-staircase",
)
# Part I, the paper's model: escape times logarithmic in 1/delta (a blow-up law would
# multiply them by 1000), 4 a_i t_i / log(1/delta^2) near 1 at delta = 1e-6, no winner.
reproduce.check(
    np.all(np.isfinite(ratio_h)) and ratio_max <= 3,
    "two-homogeneous model: t_i(1e-6) / t_i(1e-3) <= 3 for every component "
    f"(got {ratio_max:.2f})",
)
reproduce.check(
    np.nanmin(law_small) >= 0.8 and np.nanmax(law_small) <= 1.25,
    "two-homogeneous model at delta = 1e-6: 4 a_i t_i / log(1/delta^2) in [0.8, 1.25]",
)
reproduce.check(
    share_max_h <= 0.9,
    "two-homogeneous model: no component carries > 90% of a u_i "
    f"(got {share_max_h:.2f})",
)
# Part I, plain against modified flow (the paper's model, a = 2^-(i-1), m = 16, delta = 1e-6).
reproduce.report(
    "ge2021understanding",
    claim="plain gradient flow on the paper's two-homogeneous model can miss a "
    "component; the modified flow (a small regularizer, re-initialization of small "
    "components) recovers all",
    paper_value="a theorem for the modified flow (large width); the failure of plain "
    "flow is the chapter's own prediction",
    value=f"plain GD failed in {fail_rate:.0%} of {FAIL_SEEDS} initializations (what "
    f"it recovers predicted from W(0) in {agree_rate:.0%}); the modified flow "
    f"recovered all four in {all_rec['modified'].mean():.0%}, and in "
    f"{repair_rate:.0%} of plain's failures",
    assertion=f"sum_j w_j^(x4)/||w_j||^2, n = 8, a_i = 2^-(i-1), m = {FAIL_WIDTH}, "
    f"delta = 1e-6, {FAIL_SEEDS} initializations, same number of steps: plain GD "
    "misses a component (final fit < 0.9) in >= 20% of them; the components plain "
    "GD recovers are exactly the basins occupied at t = 0 in >= 85%; the modified "
    "flow (our reading: lambda = 0.01, re-draw ||w|| <= 0.1, 5 doubling epochs) "
    "recovers all four in >= 90% of all and >= 80% of those plain GD failed",
    passed=fail_rate >= 0.2
    and agree_rate >= 0.85
    and all_rec["modified"].mean() >= 0.9
    and repair_rate >= 0.8,
    status="partly",
    section="sec-ch16-paper-model-experiment",
)
# Part II, the two stages of the spectral contrastive flow from a small initialization.
reproduce.report(
    "ren2023importance",
    claim="training goes in two stages: the positive pairs first align the "
    "representations while the condition number grows, then the negative pairs reduce "
    "the condition number",
    paper_value="a theorem for their linear two-modality model (rates not checked)",
    value=f"kappa grew >= {peak_gain:.3g}x, then fell to <= {kappa_end_S:.4f}; peak "
    f"time within {peak_err:.1%} of the prediction",
    assertion="spectral contrastive loss, symmetric case, population gradient descent, "
    "n = 16, d = 4, two generic initializations of scale 1e-4 and 1e-6: kappa rises "
    ">= 100-fold "
    "above kappa(0), ends <= 1.05, and peaks within 15% of "
    "[log(1/p_1(0)) + log(l_1/l_d - 1)] / (8 l_1)",
    passed=peak_gain >= 100 and kappa_end_S <= 1.05 and peak_err <= 0.15,
    status="partly",
    section="sec-ch16-two-stages",
)
# Part II, every seed: positive pairs only increase the condition number, negative pairs
# decrease it, and every loss aligns the positive pairs.
growth_pos = min(
    r["positive pairs only"]["kappa"][-1] / r["positive pairs only"]["kappa"][0]
    for r in runs_by_seed.values()
)
cos_min = min(r[name]["cosine"][-1] for r in runs_by_seed.values() for name in LOSSES)
reproduce.report(
    "ren2023importance",
    claim="in multimodal contrastive learning, positive pairs alone align the two representations "
    "at the cost of increasing their condition number",
    paper_value="qualitative (a theorem on the training dynamics of a linear model)",
    value=f"kappa grew {growth_pos:.3g}x (smallest over seeds); positive-pair cosine >= {cos_min:.2f}",
    assertion=f"linear two-view model, n = {N_C}, d = {D_C}, SGD with norm control, "
    f"{len(runs_by_seed)} seeds: with positive pairs only kappa(W_A) grows at least 10-fold in "
    "every seed, and every loss ends with a mean positive-pair cosine >= 0.8",
    passed=growth_pos >= 10 and cos_min >= 0.8,
    status="reproduced",
    section="sec-ch16-contrastive-experiment",
)
balanced = all(
    r[name]["kappa"][-1] <= r[name]["kappa"][0]
    for r in runs_by_seed.values()
    for name in ("spectral contrastive", "CLIP (InfoNCE)")
)
ratio_min = min(
    r["positive pairs only"]["kappa"][-1]
    / max(r["spectral contrastive"]["kappa"][-1], r["CLIP (InfoNCE)"]["kappa"][-1])
    for r in runs_by_seed.values()
)
reproduce.report(
    "ren2023importance",
    claim="the negative pairs of a contrastive loss reduce the condition number of the learned "
    "representation, keeping it balanced",
    paper_value="qualitative (a theorem on the training dynamics of a linear model)",
    value=f"kappa(positive only) / kappa(with negatives) >= {ratio_min:.3g}; "
    f"kappa decreased with negatives: {balanced}",
    assertion=f"same runs ({len(runs_by_seed)} seeds): with the spectral contrastive loss and with "
    "CLIP, kappa(W_A) ends at or below its initial value in every seed, and the positive-only "
    "run's final kappa is at least 3 times the larger of the two in every seed",
    passed=balanced and ratio_min >= 3,
    status="reproduced",
    section="sec-ch16-contrastive-experiment",
)

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change the ratio $q$ of successive component sizes, the initialization scale $\delta$, the width
# $d$ and the order $\ell$, and compare the staircase with the predicted times (dashed). Small
# $\delta$ sharpens the staircase but slows everything down (as $\delta^{-(\ell-2)}$); $q$ close to $1$
# or a small width lets the random maxima $M_i$ reorder the discoveries. The run stops after 6000
# steps (in a static build of the book, this shows the default setting).


# %%
def explore_deflation(ratio=0.7, log10_delta=-2.3, width=100, order=3):
    """Gradient descent on an orthogonal tensor with a_i = ratio^(i-1); fits and predicted times."""
    a = torch.tensor([ratio**i for i in range(4)], dtype=torch.float64)
    W_init = 10**log10_delta * torch.randn(
        width, N_DIM, generator=torch.Generator().manual_seed(7), dtype=torch.float64
    )
    t_hat = analysis.escape_times(W_init, a, order)
    eta = 0.1 if order == 3 else 0.05
    steps = min(6000, int(1.25 * float(t_hat[torch.isfinite(t_hat)].max()) / eta))
    _, tt, ff, _ = train_decomposition(W_init, a, order, eta, steps, desc="explore")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i in range(4):
        ax.plot(
            tt,
            ff[:, i],
            color=plotting.COLORS[i],
            label=f"$a_{i + 1}$ = {float(a[i]):.2f}",
        )
        if t_hat[i] <= tt[-1]:
            ax.axvline(float(t_hat[i]), color=plotting.COLORS[i], ls="--", lw=1)
    ax.set(
        xlabel=r"time $t$ = $\eta$ $\times$ steps",
        ylabel="fitted fraction",
        title=f"order {order}, q = {ratio}, delta = {10**log10_delta:.1e}, d = {width}: discoveries vs prediction",
    )
    ax.legend(fontsize=8, loc="center right")
    plt.show()


notebook.explore(
    explore_deflation,
    ratio=(0.7, (0.3, 0.95, 0.05)),
    log10_delta=(-2.3, (-3.0, -1.0, 0.1)),
    width=(100, (10, 800, 10)),
    order=(3, [3, 4]),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} The matrix case: greedy, but not winner-takes-all
# :label: ex-ch16-matrix
#
# Take $\ell = 2$, so $T(W) = W^\top W$. Neglecting the interaction term, solve for the correlations
# $c_{ji}(t)$ and find the time at which component $i$ reaches a level $\bar c$ of order one. Compare
# with $\ell \ge 3$ in two respects: (a) how the gap $t_2 - t_1$ between two discoveries grows as the
# initialization scale $\delta \to 0$, and (b) whether a single row or all rows carry the fitted
# component. *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch16-matrix
# :class: dropdown
#
# For $\ell = 2$, {prf:ref}`lem-ch16-gradient` without interaction is $\dot c_{ji} = 2a_i c_{ji}$, so
# $c_{ji}(t) = c_{ji}(0)e^{2a_i t}$, and the vector $(c_{1i}, \dots, c_{di})$ grows as a whole:
# $\sum_j c_{ji}^2 = \|W u_i\|^2$ reaches $\bar c^2$ at $t_i = \log(\bar c/\|W(0)u_i\|)/(2a_i) \approx
# \log(1/\delta)/(2a_i)$ (proposition {prf:ref}`prop-ch16-escape`, case $\ell = 2$). (a) The ratio
# $t_2/t_1 \approx a_1/a_2$ is as for tensors, but the gap $t_2 - t_1 \approx \log(1/\delta)(1/a_2 - 1/a_1)/2$
# grows only logarithmically as $\delta \to 0$, while each transition takes a time of order $1/a_i$
# independent of $\delta$. For $\ell \ge 3$ the gap grows like $\delta^{-(\ell-2)}$, so the staircase
# is much sharper. (b) Every row's correlation is multiplied by the same factor $e^{2a_i t}$, so the
# fitted part of $T(W) = W^\top W$ along $u_1 u_1^\top$ is spread over all rows in proportion to
# their initial correlations: the model's *Gram matrix* is learned one rank at a time
# (greedy low-rank learning), but no single row wins. For $\ell \ge 3$ the finite-time blow-up
# makes the first row to escape win the whole component, as in the experiment.
# :::
#
# :::{exercise} The blow-up solution in code
# :label: ex-ch16-blowup
#
# Write `blowup_solution(c0, a, order, t)` that returns the solution $c(t)$ of
# $\dot c = \ell a c^{\ell-1}$, $c(0) = c_0 > 0$, for $\ell \ge 3$ and $0 \le t$ below the blow-up
# time (use {prf:ref}`prop-ch16-escape`). Check it with `check_blowup_solution(blowup_solution)`,
# which compares it with a numerical integration of the equation. *Difficulty: ★☆☆, about 10 min.*
# :::


# %%
def check_blowup_solution(
    fn, cases=((3, 1.0, 0.01), (3, 0.3, 0.05), (4, 0.6, 0.02), (5, 0.5, 0.1))
):
    """Compare fn(c0, a, order, t) with a Runge-Kutta integration of dc/dt = order a c^(order-1)."""
    ok = True
    for order, a, c0 in cases:
        t_star = 1 / (order * (order - 2) * a * c0 ** (order - 2))
        t_end, n_steps = 0.9 * t_star, 20000
        h, c = t_end / n_steps, c0
        rhs = lambda c: order * a * c ** (order - 1)
        for _ in range(n_steps):  # classical RK4
            k1 = rhs(c)
            k2 = rhs(c + h * k1 / 2)
            k3 = rhs(c + h * k2 / 2)
            k4 = rhs(c + h * k3)
            c += h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        got = float(fn(c0, a, order, t_end))
        if not math.isfinite(got) or abs(got - c) > 1e-6 * abs(c):
            ok = False
            print(
                f"order {order}, a = {a}, c0 = {c0}: at t = {t_end:.4g} got {got:.6g}, expected {c:.6g}"
            )
            if abs(got - c0) < 1e-12:
                print("  your solution does not move: did you use t?")
            elif got < c:
                print(
                    "  too small: check the exponent -1/(order - 2) and the blow-up time"
                )
            else:
                print(
                    "  too large: check the factor order * (order - 2) in the blow-up time"
                )
    if ok:
        print(f"correct in all {len(cases)} cases")
    return ok


# %% [markdown]
# :::{solution-start} ex-ch16-blowup
# :class: dropdown
# :::
#
# With $t^\ast = 1/(\ell(\ell-2)\,a\,c_0^{\ell-2})$, $c(t) = c_0(1 - t/t^\ast)^{-1/(\ell-2)}$:


# %%
def blowup_solution(c0, a, order, t):
    """Solution of dc/dt = order * a * c^(order-1), c(0) = c0 > 0, before its blow-up time."""
    t_star = 1 / (order * (order - 2) * a * c0 ** (order - 2))
    return c0 * (1 - t / t_star) ** (-1 / (order - 2))


assert check_blowup_solution(blowup_solution)
# known wrong: the exponent -1/(order - 1) instead of -1/(order - 2)
assert not check_blowup_solution(
    lambda c0, a, order, t: (
        c0 * (1 - t * order * (order - 2) * a * c0 ** (order - 2)) ** (-1 / (order - 1))
    )
)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Order four
# :label: ex-ch16-order4
#
# Take $\ell = 4$ in the chapter's model. Predict from {prf:ref}`cor-ch16-order` how the discovery
# times scale with $\delta$ now, and write `order4_times(W0, a)`, which returns the predicted
# discovery times $t_1, \dots, t_r$ from the initialization `W0` (rows $w_j(0)$) and the weights `a`
# (without calling `analysis.escape_times`). `check_order4_times(order4_times)` runs gradient descent
# at order four from a fixed initialization and compares your times with the measured ones. Then
# compute `order_probability(WIDTH, RATIO, order=4)`: why is the order of discovery less reliable
# than for $\ell = 3$ at the same width? *Difficulty: ★★☆, about 20 min.*
# :::

# %%
_order4_run = {}


def check_order4_times(fn, tol=0.1):
    """Compare fn(W0, a) with the half-fit times of gradient descent at order 4."""
    if not _order4_run:  # one run, shared by every call: 200 rows, delta = 0.02
        W0 = 0.02 * torch.randn(
            200,
            N_DIM,
            generator=cfg.generator(cfg.seed + 4),
            dtype=torch.float64,
            device=cfg.device,
        )
        _, tt, ff, _ = train_decomposition(W0, A, 4, 0.05, 5000, desc="order 4")
        _order4_run.update(W0=W0, measured=discovery_times(tt, ff))
    W0, measured = _order4_run["W0"], _order4_run["measured"]
    got = np.asarray(torch.as_tensor(fn(W0, A)).cpu(), dtype=float)
    print(
        "predicted:",
        np.round(got, 1).tolist(),
        "measured:",
        np.round(measured, 1).tolist(),
    )
    if not np.all(np.isfinite(measured)):
        print(
            "the run did not half-fit every component (capped run?): nothing to compare"
        )
        return False
    ok = got.shape == measured.shape and bool(np.all(np.abs(got / measured - 1) <= tol))
    print("correct" if ok else f"not within {tol:.0%} of the measured times")
    return ok


# %% [markdown]
# :::{solution-start} ex-ch16-order4
# :class: dropdown
# :::
#
# Now $t_i = 1/(8 a_i M_i^2)$, with $M_i$ the largest $|c_{ji}(0)|$ (for even $\ell$ the sign does not
# matter): the times scale as $\delta^{-2}$, so the check uses a larger $\delta$, $0.02$, and a smaller
# step, because the curvature at the fitted point grows with $\ell$.


# %%
def order4_times(W0, a):
    """Predicted discovery times at order 4: 1 / (8 a_i M_i^2), M_i = max_j |c_ji(0)|."""
    M = W0[:, : len(a)].abs().max(0).values
    return 1 / (8 * a * M**2)


if reproduce.check(
    check_order4_times(order4_times), "order four: prediction within 10%"
):
    # known wrong: the order-3 formula 1 / (3 a_i M_i), used at order 4
    assert not check_order4_times(
        lambda W0, a: 1 / (3 * a * W0[:, : len(a)].abs().max(0).values)
    )
print(
    f"P(order of size) at d = {WIDTH}, q = {RATIO}: order 3 {order_probability(WIDTH, RATIO):.3f}, "
    f"order 4 {order_probability(WIDTH, RATIO, order=4):.3f}"
)

# %% [markdown]
# The prediction holds again. The order is less reliable because the random factor in $t_i$ is now
# $M_i^{2}$ instead of $M_i$: the relative fluctuations of the maximum are doubled, while the
# deterministic factor $1/a_i$ is unchanged. In general, the larger $\ell$, the more the "luck" of
# the initialization competes with the size of the component.
#
# :::{solution-end}
# :::
#
# :::{exercise} Diagonal dynamics of the two losses
# :label: ex-ch16-commuting
#
# In the symmetric case of {prf:ref}`prop-ch16-spectral`, let $\Sigma = V\Lambda V^\top$ and suppose
# $W(0) = Q\, S(0)\, V_d^\top$ with $Q$ orthogonal ($d \times d$), $S(0)$ diagonal with positive entries
# and $V_d$ the first $d$ eigenvectors. Show that $W(t)$ keeps this form under the flow of
# $L_{\mathrm{sc}}$ and under the flow of $-\operatorname{tr}P$ (positive pairs only, no norm control), and that
# the eigenvalues $p_k = \lambda_k s_k^2$ of $P$ obey
#
# $$ \dot p_k = 8\lambda_k\, p_k (1 - p_k) \quad\text{and}\quad \dot p_k = 4\lambda_k\, p_k $$
#
# respectively. Deduce that with negative pairs $\kappa(W)^2 = \max_k p_k/\min_k p_k \to 1$, and with
# positive pairs only $\kappa(W)^2$ grows like $e^{4(\lambda_1 - \lambda_d)t}$.
# *Difficulty: ★★☆, about 25 min.*
# :::
#
# :::{solution} ex-ch16-commuting
# :class: dropdown
#
# With $W = QSV_d^\top$: $W\Sigma = QS\Lambda_d V_d^\top$ and $P = QS\Lambda_d S Q^\top$, where $\Lambda_d$ holds
# $\lambda_1, \dots, \lambda_d$. The spectral flow is $\dot W = 4(I - P)W\Sigma = 4Q(I - S^2\Lambda_d)S\Lambda_d V_d^\top$,
# again of the form $Q\dot S V_d^\top$ with $\dot s_k = 4\lambda_k s_k(1 - \lambda_k s_k^2)$; by uniqueness
# of solutions the form is kept. Then $\dot p_k = 2\lambda_k s_k \dot s_k = 8\lambda_k p_k(1 - p_k)$, a
# logistic equation: every $p_k(0) > 0$ converges to $1$, so $\max p_k / \min p_k \to 1$. For
# $-\operatorname{tr}P$, $\dot W = 2W\Sigma$ gives $\dot s_k = 2\lambda_k s_k$ and $\dot p_k = 4\lambda_k p_k$, so
# $p_k(t) = p_k(0)e^{4\lambda_k t}$ and $p_1/p_d = (p_1(0)/p_d(0))\,e^{4(\lambda_1 - \lambda_d)t}$. The
# negative term turns the exponential growth, whose rate is the data variance along the direction,
# into a logistic one that saturates at the same level for every direction.
# :::
#
# ## Discussion and further reading
#
# - **Small initialization as a bias.** In both parts the dynamics at small scale is "each direction
#   grows in proportion to its size times its signal". For tensors this gives an implicit bias towards
#   few components (low rank); in contrastive learning it gives collapse. What plays the role of the
#   negative pairs in tensor decomposition, and what plays the role of the small initialization in
#   contrastive learning?
# - **Why the modifications?** In the paper's model an empty basin defeats plain gradient descent
#   and the re-initialization repairs it ({ref}`sec-ch16-paper-model-experiment`); the regularizer
#   alone did not matter there. What is the regularizer for? Look for a failure it repairs, for
#   instance components with nearly equal $a_i$, non-orthogonal components, or noise in $T^\star$.
#   And can the chapter's model $\sum_j w_j^{\otimes 3}$ fail in the same way (hint: is there a
#   basin, and does a small row ever stop moving)?
# - **Discovery times as a measurement.** The prediction $t_i \propto 1/a_i$ lets one read off the
#   spectrum of the target from the times of the loss drops. Is there an analogue for networks
#   trained on data with a hierarchy of features (saddle-to-saddle dynamics)?
# - **Beyond the linear model.** CLIP normalizes the representations and uses a temperature. In our
#   runs it balanced the representation at least as well as the spectral loss. Which part of the
#   InfoNCE gradient acts like the term $-4PW\Sigma$?
#
# Further reading: {cite}`ge2021understanding` (the full deflation analysis of the modified
# gradient flow, with its quantitative conditions) and {cite}`ren2023importance` (the
# quantitative analysis of the contrastive model). Related background: the saddle-to-saddle dynamics
# of small-initialization training and greedy low-rank learning for matrix factorization (Li, Luo
# and Lyu {cite}`li2021towards`), incremental learning in diagonal networks (Gissin, Shalev-Shwartz and Daniely
# {cite}`gissin2020implicit`), and the spectral contrastive loss (HaoChen, Wei, Gaidon and Ma {cite}`haochen2021provable`).
