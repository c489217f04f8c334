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
# # The edge of stability and sharpness
#
# Gradient descent with learning rate $\eta$ is unstable on a quadratic whose curvature exceeds
# $2/\eta$, yet full-batch training of neural networks typically drives the sharpness
# $\lambda_{\max}(\theta)$ up to $2/\eta$ and then keeps it there while the loss still falls, in
# spikes: the *edge of stability*. A cubic Taylor expansion explains why: the blow-up along the top
# eigenvector feeds back, through the third derivative of the loss, into a decrease of the sharpness,
# so that gradient descent follows *projected* gradient descent on the set
# $\{\lambda_{\max}(\theta) \le 2/\eta\}$. Sharpness-aware minimization (SAM) makes such a bias
# explicit, and we show which sharpness it minimizes (top eigenvalue or trace of the Hessian) and
# why minimizing sharpness is not all there is to generalization.
#
# **Papers.** Damian, Nichani and Lee, *Self-stabilization: the implicit bias of gradient descent at
# the edge of stability* {cite}`damian2022selfstabilization`; Wen, Ma and Li, *How does
# sharpness-aware minimization minimize sharpness?* {cite}`wen2022sharpness`; Wen, Li and Ma,
# *Sharpness minimization algorithms do not only minimize sharpness to achieve better
# generalization* {cite}`wen2023sharpness`. The phenomenon was documented by Cohen et al.
# {cite}`cohen2021gradient`.
#
# **Prerequisites.** Gradient descent, eigenvalues of symmetric matrices, Taylor expansions. The
# [notation](../book/notation.md) writes the sharpness as $\lambda_{\max}(\theta)$; the sources write
# $S(\theta)$, and so do we in the sections that follow them, always with the argument $\theta$.
#
# **Time.** Quick mode is the default everywhere, also with a GPU: an MLP on 500 digits for 2000
# full-batch steps at three learning rates, under a minute on one CPU core. Full mode (set
# `SCALE = "full"` in the first code cell) uses all 1797 digits, a wider network and longer runs:
# about two minutes on one CPU core. The figures on this page are from quick mode; the recorded full-mode
# figure is shown beside the edge-of-stability experiment.
#
# **Open in Colab:**
# [colab/14_sharpness.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/14_sharpness.ipynb)
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
from sklearn.datasets import load_digits

from lmt_core import analysis, models, notebook, optim, plotting, reproduce, runtime

cfg = runtime.setup(seed=0, scale=SCALE)
plotting.use_house_style()

# %%
# Settings: every size that differs between quick and full mode.
M_DIGITS = cfg.pick(quick=500, full=1797)  # training digits (1797: all of them)
WIDTH = cfg.pick(quick=32, full=64)  # hidden units per layer of the MLP
STEPS = cfg.pick(quick=2000, full=6000)  # full-batch GD steps at each learning rate
MAX_STEPS = cfg.pick(quick=6000, full=20000)  # step limit, runs to the SAM/GD target
TRACE_PROBES = cfg.pick(quick=30, full=100)  # Hutchinson probes for the Hessian trace

# %% [markdown]
# ## The setting
#
# We minimize a training loss $L(\theta) = \hat L(\theta)$ over parameters $\theta \in \mathbb R^P$ by
# full-batch gradient descent (GD), $\theta_{t+1} = \theta_t - \eta \nabla L(\theta_t)$.

# %% [markdown]
# :::{prf:definition} Sharpness and the edge of stability
# :label: def-ch14-sharpness
#
# The *sharpness* at $\theta$ is the largest eigenvalue of the Hessian,
# $S(\theta) = \lambda_{\max}(\theta) = \lambda_1(\nabla^2 L(\theta))$, with unit eigenvector
# $u(\theta)$. Gradient descent with learning rate $\eta$ is at the *edge of stability* when
# $S(\theta_t)$ hovers around the *stability threshold* $2/\eta$. *Progressive sharpening* is the
# steady increase of $S(\theta_t)$ observed before that {cite}`cohen2021gradient`.
# :::
#
# Two other measures of sharpness appear below: the trace $\operatorname{Tr} \nabla^2 L(\theta)$, the
# sum of all curvatures, and the curvature $v^\top \nabla^2 L(\theta) v$ along a direction $v$. Neither
# needs the Hessian as a matrix. `lmt_core.analysis.hessian` computes Hessian–vector products
# $\nabla^2 L(\theta) v$ by differentiating $\nabla L(\theta) \cdot v$ once more (double backpropagation,
# about the cost of two gradients), the top eigenvalue by power iteration or Lanczos on such products,
# and the trace by Hutchinson's estimator $\operatorname{Tr} H = \mathbb E[z^\top H z]$ for $z$ with
# independent uniform $\pm 1$ entries (since $\mathbb E[z z^\top] = I$). On a quadratic with a known
# spectrum:

# %%
g = torch.Generator().manual_seed(0)
eigs = torch.tensor([6.0, 3.0, 2.0, 1.0, 0.5, 0.25, 0.0, -0.5], dtype=torch.float64)
Q, _ = torch.linalg.qr(torch.randn(8, 8, generator=g, dtype=torch.float64))
A = Q @ torch.diag(eigs) @ Q.T
theta = torch.randn(8, generator=g, dtype=torch.float64, requires_grad=True)
quad = lambda: 0.5 * theta @ A @ theta  # noqa: E731  Hessian = A everywhere
v = torch.randn(8, generator=g, dtype=torch.float64)
top = analysis.top_eigenvalue(quad, [theta], iters=300, tol=1e-12, generator=g)
tr = analysis.hutchinson_trace(quad, [theta], probes=200, generator=g)
print(f"|Hv - Av| = {(analysis.hvp(quad, [theta], v) - A @ v).norm():.1e}")
print(
    f"power iteration: {top.values:.6f} (true 6) after {top.iters} products;"
    f" Lanczos top 3: {analysis.lanczos(quad, [theta], k=3, steps=8, generator=g).values.tolist()}"
)
print(
    f"Hutchinson, 200 probes: {tr.mean:.3f} ± {tr.stderr:.3f} (true trace {eigs.sum():.2f})"
)

# %% [markdown]
# ## Why $2/\eta$: gradient descent on a quadratic

# %% [markdown]
# :::{prf:proposition} Gradient descent diverges along sharp directions
# :label: prop-ch14-quadratic
#
# Let $L(\theta) = \tfrac12 (\theta - \theta^*)^\top A (\theta - \theta^*)$ with $A$ symmetric
# positive semi-definite, top eigenvalue $\lambda > 0$ and unit eigenvector $u$. Gradient descent
# with learning rate $\eta$ gives $u \cdot (\theta_t - \theta^*) = (1 - \eta\lambda)^t\, u \cdot
# (\theta_0 - \theta^*)$. Hence if $\eta > 2/\lambda$ and $u \cdot (\theta_0 - \theta^*) \neq 0$, then
# $|u \cdot (\theta_t - \theta^*)| \to \infty$ geometrically, with a sign flip at every step, and
# $L(\theta_t) \to \infty$. If $\eta < 2/\lambda$, the loss is non-increasing along the iterates.
# :::

# %% [markdown]
# :::{prf:proof}
# $\nabla L(\theta) = A(\theta - \theta^*)$, so $\delta_t = \theta_t - \theta^*$ satisfies
# $\delta_{t+1} = (I - \eta A)\delta_t$. Write $\delta_t = \sum_i c_{i,t} u_i$ in an orthonormal
# eigenbasis of $A$ (eigenvalues $\lambda_i \ge 0$, with $u_1 = u$, $\lambda_1 = \lambda$); then
# $c_{i,t+1} = (1 - \eta\lambda_i) c_{i,t}$, so $c_{i,t} = (1-\eta\lambda_i)^t c_{i,0}$, which is the first
# claim for $i = 1$. For $\eta > 2/\lambda$ we have $1 - \eta\lambda < -1$, so
# $|c_{1,t}| = |1 - \eta\lambda|^t |c_{1,0}| \to \infty$ with alternating sign, and
# $L(\theta_t) = \tfrac12 \sum_i \lambda_i c_{i,t}^2 \ge \tfrac12 \lambda c_{1,t}^2 \to \infty$ because
# every term is non-negative. If $\eta < 2/\lambda$, then $0 \le \eta\lambda_i < 2$ and
# $|1 - \eta\lambda_i| \le 1$ for every $i$, so no term $\tfrac12\lambda_i c_{i,t}^2$ increases.
# :::
#
# A neural network's loss is not a quadratic, and its Hessian changes along the trajectory. The
# proposition says what happens *locally*: once $S(\theta) > 2/\eta$, the component of
# $\theta - \theta^*$ along $u(\theta)$ starts to grow by a factor of about $|1 - \eta S(\theta)| > 1$
# per step. What the quadratic cannot tell us is what happens next.

# %%
lam, eta_q = 6.0, 0.4  # 2 / eta = 5 < lambda = 6
with torch.no_grad():
    d = Q[:, 0] * 1e-3 + Q[:, 3] * 1.0  # a small component along the top eigenvector
    along = []
    for t in range(30):
        along.append(float(Q[:, 0] @ d))
        d = d - eta_q * A @ d
ratios = np.array(along[1:]) / np.array(along[:-1])
print(
    f"per-step factor along u: {ratios.mean():.4f} (predicted 1 - eta*lambda = {1 - eta_q * lam:.4f});"
    f" |x_29| / |x_0| = {abs(along[-1] / along[0]):.3g}"
)

# %% [markdown]
# ## Self-stabilization: a cubic Taylor argument
#
# Fix a reference point $\theta^\star$ where the sharpness is exactly at the threshold,
# $S(\theta^\star) = 2/\eta$, with top eigenvector $u$, and write
#
# $$ \nabla L^\star = \nabla L(\theta^\star), \qquad \nabla S^\star = \nabla S(\theta^\star), \qquad
#    \alpha = -\nabla L^\star \cdot \nabla S^\star, \qquad \beta = \lVert \nabla S^\star \rVert^2 . $$
#
# $\alpha$ is the rate of *progressive sharpening*: a small gradient step $-\eta \nabla L$ changes the
# sharpness by $-\eta \nabla S \cdot \nabla L = \eta\alpha$ to first order, and $\alpha > 0$ means that
# following the gradient sharpens. Track two numbers,
#
# $$ x_t = u \cdot (\theta_t - \theta^\star) \quad \text{(displacement along the top eigenvector)}, \qquad
#    y_t = \nabla S^\star \cdot (\theta_t - \theta^\star) \approx S(\theta_t) - 2/\eta . $$
#
# **The $x$ equation.** Expand the gradient to first order around $\theta^\star$ along $u$:
# $u \cdot \nabla L(\theta_t) \approx u\cdot \nabla L^\star + S(\theta_t)\, x_t$. The reference point
# is chosen so that $u \cdot \nabla L^\star = 0$ (we return to this below), and
# $S(\theta_t) \approx 2/\eta + y_t$, so
#
# $$ x_{t+1} = x_t - \eta\, (2/\eta + y_t)\, x_t = -(1 + \eta y_t)\, x_t . $$
#
# **The $y$ equation.** Here the second-order expansion is not enough; we need the third derivative.
# Expanding the gradient to second order, $\nabla L(\theta^\star + \delta) \approx \nabla L^\star +
# \nabla^2 L^\star \delta + \tfrac12 \nabla^3 L^\star[\delta, \delta]$, with $\delta \approx x u$ the
# last term is $\tfrac12 x^2 \nabla^3 L^\star[u, u]$. The key identity is
#
# $$ \nabla^3 L(\theta)[u, u] = \nabla S(\theta) \qquad \text{(for a simple top eigenvalue)}, $$
#
# the derivative of $S(\theta) = u(\theta)^\top \nabla^2 L(\theta)\, u(\theta)$: differentiating $u$
# contributes nothing because $u$ is a unit eigenvector, so $2 (\partial u)^\top \nabla^2 L\, u =
# 2 S\, (\partial u)^\top u = S\, \partial \lVert u \rVert^2 = 0$. Dotting the step
# $\theta_{t+1} - \theta_t = -\eta \nabla L(\theta_t)$ with $\nabla S^\star$ and dropping the term
# $\nabla S^\star \cdot \nabla^2 L^\star \delta$ (it is handled by moving the reference point, below):
#
# $$ y_{t+1} = y_t + \eta\Big(\alpha - \frac{\beta}{2}\, x_t^2\Big) . $$
#
# The two equations form a closed system for $(x_t, y_t)$, and one period of its motion has four stages:
#
# 1. **Progressive sharpening.** While $|x_t|$ is small, $y_t$ grows by $\eta\alpha$ per step.
# 2. **Blow-up.** Once $y_t > 0$ (sharpness above $2/\eta$), $|x_t|$ is multiplied by $1 + \eta y_t > 1$
#    at every step, with alternating sign: the instability of {prf:ref}`prop-ch14-quadratic`.
# 3. **Self-stabilization.** Once $x_t^2 > 2\alpha/\beta$, the cubic term wins and $y_t$ *decreases*:
#    the oscillation along $u$, through $\nabla^3 L[u, u] = \nabla S$, pushes the parameters in the
#    direction $-\nabla S$ that lowers the sharpness.
# 4. **Return to stability.** When $y_t < 0$ the factor $|1 + \eta y_t| < 1$ shrinks $|x_t|$ again, and
#    the cycle restarts.
#
# Averaged over a cycle, $y$ does not drift, so the time average of $x_t^2$ is $2\alpha/\beta$: the
# oscillation is exactly large enough to cancel progressive sharpening. Meanwhile the slow motion of
# $\theta$ (everything except the oscillation along $u$) is gradient descent *constrained* to
# $S \le 2/\eta$: when the constraint is active, the $-\nabla S$ push of stage 3 removes the component
# of the gradient that would sharpen, which is what a projection does.

# %% [markdown]
# :::{prf:definition} The constrained trajectory
# :label: def-ch14-pgd
#
# Let $\mathcal M = \{\theta : S(\theta) \le 2/\eta \text{ and } \nabla L(\theta) \cdot u(\theta) = 0\}$
# be the *stable set* and $\mathrm{proj}_{\mathcal M}$ the (locally defined) Euclidean projection onto it.
# The *constrained trajectory* is projected gradient descent
# $\theta^\dagger_{t+1} = \mathrm{proj}_{\mathcal M}(\theta^\dagger_t - \eta \nabla L(\theta^\dagger_t))$.
# :::
#
# The second condition in $\mathcal M$, $\nabla L \cdot u = 0$, says that $\theta^\dagger$ sits at the
# bottom of the parabola along the sharpest direction; it is what made $u \cdot \nabla L^\star = 0$ in
# the $x$ equation, with $\theta^\star = \theta^\dagger_t$ as a moving reference point.

# %% [markdown]
# :::{prf:theorem} Self-stabilization (informal, after Damian, Nichani and Lee)
# :label: thm-ch14-self-stabilization
#
# Suppose that along the constrained trajectory $\theta^\dagger_t$ (i) the top eigenvalue of
# $\nabla^2 L$ is simple and separated from the rest by a gap, (ii) progressive sharpening holds,
# $\alpha_t = -\nabla L(\theta^\dagger_t)\cdot\nabla S(\theta^\dagger_t) > 0$, and
# $\beta_t = \lVert \nabla S(\theta^\dagger_t) \rVert^2 > 0$, (iii) the third derivative of $L$ is
# bounded and the fourth derivative small on a neighbourhood of size $\varepsilon$, the scale of the
# oscillation $\sqrt{2\alpha_t/\beta_t}$, and (iv) $\nabla S$ is nearly orthogonal to $u$ and to the
# other sharp directions. Then gradient descent started near $\theta^\dagger_0$ satisfies, for the time
# horizon of the paper, $\theta_t = \theta^\dagger_t + v_t + O(\varepsilon^2)$, where the displacement
# $v_t$ has component $x_t$ along $u(\theta^\dagger_t)$ and component $y_t / \lVert \nabla S \rVert$ along
# $\nabla S(\theta^\dagger_t)$ (both can be of order $\varepsilon$), and
# $(x_t, y_t)$ follow the two-dimensional map above with $\alpha = \alpha_t$, $\beta = \beta_t$ up to
# higher-order corrections. (The paper defines $v_t$ by a linearised "predicted" dynamics; we have
# not checked its exact form and error terms.) In particular $\theta_t$ stays $O(\varepsilon)$-close to the constrained
# trajectory, the sharpness $S(\theta_t)$ oscillates around $2/\eta$, and $L(\theta_t)$ follows
# $L(\theta^\dagger_t)$ plus the oscillation term $\tfrac1\eta x_t^2$.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* The derivation above is the heart of the proof: the first-order expansion along $u$
# gives the $x$ equation and the second-order expansion of the gradient, with
# $\nabla^3 L[u,u] = \nabla S$, gives the $y$ equation. The paper makes this rigorous by comparing
# $\theta_t$ with $\theta^\dagger_t + v_t$ step by step and bounding the errors: the Taylor
# remainders (by (iii)), the change of $u$ and of the reference point between steps (by (i)), the
# dropped term $\nabla S \cdot \nabla^2 L\, \delta$ and the coupling to other directions (by (iv)), and it
# must keep the $(x, y)$ cycles small (in the continuous-time idealisation of the two-dimensional map
# they are closed orbits of a conserved quantity, {ref}`Exercise <ex-ch14-conserved>`). We skip these estimates and the precise constants, time
# horizon and error exponents: the paper states the result with explicit dependence on the problem
# constants, which we do not reproduce {cite}`damian2022selfstabilization`.
# :::
#
# (sec-ch14-toy)=
# ## The construction: a valley whose walls get steeper
#
# The theorem can be watched in three dimensions. Take $\theta = (x, z, w)$ and
#
# $$ L(x, z, w) = \tfrac12\, s(z, w)\, x^2 - c z + \tfrac{\mu}{2} w^2,
#    \qquad s(z, w) = s_0 + z + w, \qquad c, \mu > 0 . $$
#
# For fixed $(z, w)$ this is a parabola in $x$ of curvature $s(z, w)$ with its bottom at $x = 0$: the
# valley floor is $\{x = 0\}$, along it the loss decreases as $z$ grows while the walls get steeper
# (progressive sharpening), and $w$ is a direction in which the loss is a gentle parabola. On the floor
# the Hessian is $\mathrm{diag}(s, 0, \mu)$ (off the floor its off-diagonal entries are $O(|x|)$), so
# while $s > \mu$ the sharpness is $S = s$, with $u = e_x$, $\nabla S = (0, 1, 1)$ and $\beta = 2$, and the
# stable set of {prf:ref}`def-ch14-pgd` is $\{x = 0,\ s(z, w) \le 2/\eta\}$. The model has no
# progressive sharpening *limit* of its own: the loss is unbounded below along $z$, and only the
# constraint stops $z$. Because $s$ is linear, $L$ is a cubic polynomial and the $y$ equation of the
# derivation holds *exactly*, with $y_t = s(z_t, w_t) - 2/\eta$ and $\alpha_t = c - \mu w_t$ (plug in the
# gradient: $y_{t+1} - y_t = -\eta(\partial_z L + \partial_w L) = \eta(c - \mu w_t - x_t^2)$), while the $x$
# equation $x_{t+1} = -(1 + \eta y_t) x_t$ is exact too. The constrained trajectory is projected gradient
# descent on the loss of the floor, $\tilde L(z, w) = -c z + \tfrac{\mu}{2} w^2$, over the half-plane
# $s(z, w) \le 2/\eta$, where the projection is explicit. It moves up the valley to the boundary and
# then slides along it to the point where the boundary is tangent to a level set of $\tilde L$.
# Everything here is deterministic: this section does not depend on the seed.

# %%
ETA_TOY, S0, C_TOY, MU_TOY, T_TOY, X0 = 0.5, 3.8, 0.01, 0.1, 1500, 0.1
LIMIT = 2 / ETA_TOY


def toy_grad(x, z, w):
    """Gradient of L(x, z, w) = s x^2 / 2 - c z + mu w^2 / 2 with s = s0 + z + w."""
    s = S0 + z + w
    return np.array([s * x, 0.5 * x * x - C_TOY, 0.5 * x * x + MU_TOY * w])


def toy_loss(x, z, w):
    return 0.5 * (S0 + z + w) * x * x - C_TOY * z + 0.5 * MU_TOY * w * w


def floor_grad(z, w):
    """Gradient of the loss on the valley floor, L(0, z, w) = -c z + mu w^2 / 2."""
    return np.array([-C_TOY, MU_TOY * w])


def project(z, w):
    """Euclidean projection of (z, w) onto the half-plane s(z, w) = s0 + z + w <= 2 / eta."""
    excess = S0 + z + w - LIMIT
    return (z - excess / 2, w - excess / 2) if excess > 0 else (z, w)


theta_gd = np.array([X0, 0.0, 0.0])  # start X0 off the valley floor
zw_pgd = np.array([0.0, 0.0])
rows = []
for t in range(T_TOY):
    x, z, w = theta_gd
    rows.append(
        (
            x,
            S0 + z + w - LIMIT,
            z,
            w,
            *zw_pgd,
            toy_loss(x, z, w),
            toy_loss(0.0, *zw_pgd),
            C_TOY - MU_TOY * w,
        )
    )
    theta_gd = theta_gd - ETA_TOY * toy_grad(x, z, w)
    zw_pgd = np.array(project(*(zw_pgd - ETA_TOY * floor_grad(*zw_pgd))))
x_toy, y_toy, z_gd, w_gd, z_pgd, w_pgd, loss_gd, loss_pgd, alpha_toy = np.array(rows).T
dev = np.hypot(z_gd - z_pgd, w_gd - w_pgd)
print(
    f"constrained trajectory ends at (z, w) = ({z_pgd[-1]:.3f}, {w_pgd[-1]:.3f}), s = {S0 + z_pgd[-1] + w_pgd[-1]:.4f}"
)

# %% [markdown]
# The sharpness of the toy loss is the top eigenvalue of its $3 \times 3$ Hessian; we check with the
# Hessian module that it equals $s(z, w)$ up to $O(|x|)$ at a few points of the gradient-descent path.


# %%
def toy_sharpness(point):
    p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    loss_fn = lambda: (
        0.5 * (S0 + p[1] + p[2]) * p[0] ** 2 - C_TOY * p[1] + 0.5 * MU_TOY * p[2] ** 2
    )  # noqa: E731
    return float(torch.linalg.eigvalsh(analysis.dense_hessian(loss_fn, [p]))[-1])


for t in (0, 200, 1000):
    print(
        f"step {t:4d}: top Hessian eigenvalue {toy_sharpness([x_toy[t], z_gd[t], w_gd[t]]):.4f},"
        f" s(z, w) = {S0 + z_gd[t] + w_gd[t]:.4f}, |x| = {abs(x_toy[t]):.3f}"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
t_show = slice(0, 400)
ax = axes[0]
ax.plot(
    np.arange(T_TOY)[t_show],
    x_toy[t_show],
    color=plotting.COLORS[0],
    lw=0.8,
    label=r"$x_t$ (displacement along $u$)",
)
ax.plot(
    np.arange(T_TOY)[t_show],
    y_toy[t_show],
    color=plotting.COLORS[1],
    lw=1.5,
    label=r"$y_t = S(\theta_t) - 2/\eta$",
)
ax.axhline(0, color="gray", lw=0.5)
ax.set(
    xlabel="steps",
    ylabel="value",
    title="Sharpening, blow-up, self-stabilization, return",
)
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(z_gd, w_gd, color=plotting.COLORS[0], lw=0.8, label="gradient descent")
ax.plot(
    z_pgd,
    w_pgd,
    color=plotting.COLORS[1],
    lw=2,
    ls="--",
    label="projected GD on $S \\leq 2/\\eta$",
)
zz = np.linspace(min(z_gd.min(), 0), z_gd.max() + 0.05, 10)
ax.plot(zz, LIMIT - S0 - zz, color="gray", lw=1, ls=":", label="boundary $S = 2/\\eta$")
ax.set(
    xlabel="$z$",
    ylabel="$w$",
    title="The slow motion follows the constrained trajectory",
)
ax.legend(fontsize=8)
ax = axes[2]
ax.plot(loss_gd, color=plotting.COLORS[0], lw=0.8, label="gradient descent")
ax.plot(
    loss_pgd, color=plotting.COLORS[1], lw=2, ls="--", label="constrained trajectory"
)
ax.plot(
    loss_pgd + x_toy**2 / ETA_TOY,
    color=plotting.COLORS[2],
    lw=1,
    ls=":",
    label=r"constrained $+\ x_t^2/\eta$ (theorem)",
)
ax.set(
    xlabel="steps",
    ylabel="loss $L$",
    title="Loss: non-monotone, constrained loss plus oscillation",
)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The left panel shows the four stages: the sharpness rises linearly, overshoots $2/\eta$ a little, the
# displacement along $u$ blows up with alternating sign (the dense band), the sharpness falls back,
# the oscillation dies down, and the next cycle is smaller. The $(z, w)$ path of gradient descent
# follows the constrained trajectory onto the boundary $S = 2/\eta$ and along it, spiralling around it
# with shrinking amplitude, and the loss is the constrained loss plus the oscillation energy
# $x_t^2/\eta$, as the theorem says. We check the
# theorem's predictions in the sense in which it states them:

# %%
late = slice(T_TOY // 2, T_TOY)
toy_dev_all = dev.max()
toy_dev_late = dev[late].max()
balance = np.mean(x_toy[late] ** 2) / np.mean(
    alpha_toy[late]
)  # predicted: 2 / beta = 1
toy_sharp_late = np.mean(y_toy[late] + LIMIT) / LIMIT
print(
    f"max distance of (z, w) from the constrained trajectory: {toy_dev_all:.3f} over all steps,"
    f" {toy_dev_late:.2e} over the second half"
)
print(
    f"oscillation balance: mean x^2 / mean alpha = {balance:.4f} (predicted 2 / beta = 1)"
)
print(f"mean sharpness over the second half / (2/eta) = {toy_sharp_late:.5f}")
notebook.glue("toy_dev_all", float(toy_dev_all))
notebook.glue("toy_dev_late", float(toy_dev_late))
notebook.glue("toy_balance", float(balance))

# %% [markdown]
# The distance of $(z_t, w_t)$ from the constrained trajectory peaks at {glue:text}`toy_dev_all:.3f`
# during the first, largest cycle and is {glue:text}`toy_dev_late:.1e` over the second half of the run;
# the time average of $x_t^2$ divided by that of $\alpha_t$ is {glue:text}`toy_balance:.3f`, against the
# predicted $2/\beta = 1$. Here the cycles shrink from one to the next, and gradient descent settles
# into the period-two orbit $x_t = \pm\sqrt{2\alpha/\beta}$ on the boundary. That is a property of
# these constants, not a law: the discrete map only nearly conserves the quantity of
# {ref}`Exercise <ex-ch14-conserved>`. In trial runs while writing the chapter, with faster sharpening
# and a smaller initial displacement ($c = 0.05$, $s_0 = 3.6$, $x_0 = 0.05$, $\mu = 0.2$) the cycles grew
# instead: $x$ collapsed to tiny values between bursts, each blow-up started later and overshot more,
# and the run diverged after a few hundred steps. The theorem's assumptions are there to exclude such
# runs.
#
# (sec-ch14-digits)=
# ## Experiment: the edge of stability on digits
#
# Now a real network. An MLP with two hidden layers of $\tanh$ units is trained by full-batch gradient
# descent on $m$ images of scikit-learn's handwritten digits (8×8 pixels, $n = 64$), with the
# squared loss on one-hot targets, $L(\theta) = \frac1{2m}\sum_i \lVert f_\theta(x_i) - e_{y_i}\rVert^2$,
# the setting in which Cohen et al. observed the phenomenon most clearly. Every few steps we estimate
# $S(\theta_t)$ with a few power iterations warm-started from the previous eigenvector: the Hessian
# changes little between measurements, so a few Hessian–vector products suffice.

# %%
LRS = (0.3, 0.45, 0.6)
MEASURE_EVERY, POWER_ITERS = 5, 3


def digits_data(m, seed):
    """m digits (pixels scaled to [0, 1] and centred) with one-hot targets, on cfg.device."""
    X, labels = load_digits(return_X_y=True)
    idx = np.random.default_rng(seed).permutation(len(X))[:m]
    X = torch.tensor(X[idx] / 16.0, dtype=torch.float32)
    Y = torch.nn.functional.one_hot(torch.tensor(labels[idx]), 10).float()
    return (X - X.mean(0)).to(cfg.device), Y.to(cfg.device)


X_dig, Y_dig = digits_data(M_DIGITS, cfg.seed)


def make_net(seed=cfg.seed, width=WIDTH):
    return models.MLP(64, width, depth=2, n_out=10, activation="tanh", seed=seed).to(
        cfg.device
    )


def mse_closure(net, X=X_dig, Y=Y_dig):
    return lambda: 0.5 * ((net(X) - Y) ** 2).sum(1).mean()


def train_gd(lr, steps, net=None, desc="GD", X=X_dig, Y=Y_dig):
    """Full-batch GD on (X, Y); returns (net, loss per step, measurement steps, sharpness at those steps)."""
    net = make_net() if net is None else net
    params = list(net.parameters())
    loss_fn = mse_closure(net, X, Y)
    vec, losses, sharp_steps, sharp = None, [], [], []
    for t in runtime.progress(range(steps), desc, steps=True):
        if t % MEASURE_EVERY == 0:
            est = analysis.top_eigenvalue(
                loss_fn,
                params,
                iters=POWER_ITERS if vec is not None else 20,
                tol=0.0,
                v0=vec,
                generator=cfg.generator(t),
            )
            vec = est.vectors
            sharp_steps.append(t)
            sharp.append(est.values)
        loss = loss_fn()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g_ in zip(params, grads):
                p.sub_(lr * g_)
        losses.append(loss.item())
    return net, np.array(losses), np.array(sharp_steps), np.array(sharp)


runs = {lr: train_gd(lr, STEPS, desc=f"GD, eta={lr}") for lr in LRS}

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
for i, (lr, (_, losses, st, sh)) in enumerate(runs.items()):
    col = plotting.COLORS[i]
    ax1.plot(st, sh, color=col, lw=1, label=f"$\\eta$ = {lr}")
    ax1.axhline(2 / lr, color=col, ls="--", lw=1)
    ax2.plot(losses, color=col, lw=0.8, label=f"$\\eta$ = {lr}")
ax1.plot([], [], color="gray", ls="--", label="$2/\\eta$")
ax1.set(
    xlabel="steps",
    ylabel="sharpness $S(\\theta_t)$",
    title="Sharpness rises, then hovers at 2/η",
)
ax1.legend(fontsize=8)
ax2.set(
    xlabel="steps",
    ylabel="training loss",
    yscale="log",
    title="The loss keeps falling, non-monotonically",
)
ax2.legend(fontsize=8)
plt.tight_layout()
reproduce.save_headline(fig)
plt.show()

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
_record = reproduce.show_record("14_sharpness")  # caption and figure

# %%
eos = {}
for lr, (_, losses, st, sh) in runs.items():
    late_sh = sh[st >= 0.7 * STEPS]
    late_loss = losses[int(0.7 * STEPS) :]
    eos[lr] = dict(
        ratio0=sh[0] * lr / 2,
        ratio_med=float(np.median(late_sh)) * lr / 2,
        up_frac=float(np.mean(np.diff(late_loss) > 0)),
        loss_drop=losses[-1] / losses[0],
    )
    print(
        f"eta = {lr}: S_0 = {sh[0]:.2f} = {eos[lr]['ratio0']:.2f} x 2/eta; median S over the last 30%"
        f" = {eos[lr]['ratio_med']:.3f} x 2/eta; loss {losses[0]:.3f} -> {losses[-1]:.4f},"
        f" rising at {100 * eos[lr]['up_frac']:.0f}% of the late steps"
    )
ratios_med = [e["ratio_med"] for e in eos.values()]
notebook.glue("eos_ratio_min", min(ratios_med))
notebook.glue("eos_ratio_max", max(ratios_med))
notebook.glue("eos_up_min", 100 * min(e["up_frac"] for e in eos.values()))

# %% [markdown]
# For each learning rate the sharpness starts below $2/\eta$, rises (progressive sharpening) and then
# stays at the threshold: over the last 30% of training its median is between
# {glue:text}`eos_ratio_min:.3f` and {glue:text}`eos_ratio_max:.3f` times $2/\eta$. Meanwhile the loss
# keeps decreasing on average but goes *up* at {glue:text}`eos_up_min:.0f`% or more of the late steps: it
# is not the monotone decrease that the classical analysis ($S < 2/\eta$) guarantees. A slightly larger
# value than $2/\eta$ is expected: the sharpness oscillates around the threshold, overshooting in
# the blow-up stage of each cycle. We check below that the late median lies in
# $[0.9, 1.1] \cdot 2/\eta$. In trial runs with seeds 0, 1 and 2 the late medians stayed within a few
# percent of $2/\eta$, so the band leaves room for other seeds, while the check still fails if the
# sharpness settles well below the threshold (as at learning rates so small that the run ends before
# reaching it) or runs away above it.
#
# ## What sharpness does SAM minimize?

# %% [markdown]
# :::{prf:definition} Sharpness-aware minimization
# :label: def-ch14-sam
#
# Given a loss $L$, learning rate $\eta$ and radius $\rho > 0$, one step of (normalized) SAM is
#
# $$ \theta_{t+1} = \theta_t - \eta\, \nabla L\Big(\theta_t + \rho\, \frac{\nabla L(\theta_t)}{\lVert \nabla L(\theta_t) \rVert}\Big). $$
#
# *Full-batch SAM* uses the training loss $L = \frac1m \sum_k L_k$. *Stochastic SAM* with batch size
# one ("1-SAM") draws $k$ uniformly at each step and uses $L_k$ in both places.
# :::
#
# SAM was motivated as gradient descent on the worst-case loss in a ball,
# $\max_{\lVert \epsilon \rVert \le \rho} L(\theta + \epsilon)$, approximated to first order. Wen, Ma and Li
# show that near a manifold of minimizers the algorithm actually regularizes a specific sharpness,
# and which one depends on the batch size.

# %% [markdown]
# :::{prf:theorem} The implicit bias of SAM (informal, after Wen, Ma and Li)
# :label: thm-ch14-sam
#
# Let $L$ be smooth enough (four times continuously differentiable) and let $\Gamma$ be a compact
# manifold of global minimizers on which $\nabla^2 L$ has rank equal to the codimension of $\Gamma$
# (the loss is non-degenerate across $\Gamma$). Let $\eta, \rho \to 0$ in the regime of the paper and
# start near $\Gamma$.
#
# 1. *Full batch:* SAM stays close to $\Gamma$ and, on the time scale of order $1/(\eta\rho^2)$ steps,
#    the projection of $\theta_t$ onto $\Gamma$ follows a Riemannian gradient flow on $\Gamma$ of the
#    top eigenvalue $\lambda_1(\nabla^2 L)$ (for this flow to be defined, $\lambda_1$ must be
#    differentiable along it, e.g. the top eigenvalue simple there; we have not checked the paper's
#    exact form of this condition).
# 2. *Batch size one:* if moreover every $L_k$ is minimized on $\Gamma$ (interpolation, as for an
#    overparameterized model with the squared loss), 1-SAM follows a Riemannian gradient flow of the
#    trace $\operatorname{Tr}\nabla^2 L$.
# :::

# %% [markdown]
# :::{prf:proof}
# *(Proof sketch.)* Write $v = \nabla L / \lVert \nabla L \rVert$. By Taylor's theorem the SAM gradient is
#
# $$ \nabla L(\theta + \rho v) = \nabla L(\theta) + \rho\, \nabla^2 L(\theta)\, v + \tfrac{\rho^2}{2}\nabla^3 L(\theta)[v, v] + O(\rho^3). $$
#
# The first two terms point (mostly) across $\Gamma$ and keep the iterate near it; the motion *along*
# $\Gamma$ comes from the third term, and for a *fixed* unit vector $v$ one has
# $\nabla^3 L[v, v] = \nabla (v^\top \nabla^2 L\, v)$, the gradient of the curvature along $v$. So the
# question is which direction $v$ points in.
# *Full batch:* near $\Gamma$, $\nabla L(\theta) \approx \nabla^2 L\, (\theta - \Phi(\theta))$ with
# $\Phi$ the projection onto $\Gamma$; the paper shows that the normal component of SAM oscillates like
# gradient descent at the edge of stability, and that this oscillation aligns $\nabla L$ with the top
# eigenvector $u_1$. Then $\nabla^3 L[v, v] \approx \nabla^3 L[u_1, u_1] = \nabla \lambda_1$ (the
# identity used for {prf:ref}`thm-ch14-self-stabilization`), and the tangential drift is
# $-\eta \rho^2/2$ times the projection of $\nabla\lambda_1$ onto $\Gamma$.
# *Batch size one:* for $L_k = \tfrac12 (f_\theta(x_k) - y_k)^2$ the gradient
# $\nabla L_k = r_k \nabla f_k$ is parallel to $\nabla f_k = \nabla_\theta f_\theta(x_k)$, so
# $v = \pm \nabla f_k / \lVert \nabla f_k \rVert$ *exactly*, whatever the (small) residual $r_k$. At an
# interpolating point $\nabla^2 L_k = \nabla f_k \nabla f_k^\top$ has rank one, and
# $v^\top \nabla^2 L_k v = \lVert \nabla f_k \rVert^2 = \operatorname{Tr}\nabla^2 L_k$. Differentiating
# both expressions shows that $\nabla^3 L_k[v, v]$ and $\nabla \operatorname{Tr}\nabla^2 L_k$ differ only by
# multiples of $\nabla f_k$, a direction normal to $\Gamma$; so the drift *along* $\Gamma$ is that of
# $-\nabla \operatorname{Tr}\nabla^2 L_k$, which averages over $k$ to $-\nabla \operatorname{Tr}\nabla^2 L$. The steps we skip are the ones that make this rigorous: the
# alignment argument for full-batch SAM, the control of the normal dynamics, and the stochastic
# approximation that turns the averaged drift into a flow; the exact constants and the regime of
# $\eta, \rho$ are in {cite}`wen2022sharpness`.
# :::
#
# (sec-ch14-sam-experiment)=
# ### Experiment: SAM against gradient descent on digits
#
# We train the same network from the same initialization with GD and with full-batch SAM, at the
# same learning rate $\eta = 0.2$ (below the edge of stability for both), and stop each run the first
# time the training loss falls below the same target, so that we compare minimizers of equal
# training loss. Then we measure the top eigenvalue and the trace (Hutchinson, with its standard
# error).

# %%
SAM_LR, SAM_RHO, LOSS_TARGET = 0.2, 0.1, 0.1


def train_to_target(rho):
    """Full-batch SAM (rho > 0) or GD (rho = 0) until the training loss is <= LOSS_TARGET."""
    net = make_net()
    params, loss_fn = list(net.parameters()), mse_closure(net)
    for t in runtime.progress(range(MAX_STEPS), f"rho={rho}", steps=True):
        if optim.sam_step(loss_fn, params, SAM_LR, rho) <= LOSS_TARGET:
            break
    top_ = analysis.top_eigenvalue(
        loss_fn, params, iters=100, tol=1e-4, generator=cfg.generator(1)
    )
    tr_ = analysis.hutchinson_trace(
        loss_fn, params, probes=TRACE_PROBES, generator=torch.Generator().manual_seed(1)
    )
    return dict(
        steps=t + 1,
        loss=loss_fn().item(),
        top=top_.values,
        trace=tr_.mean,
        trace_se=tr_.stderr,
    )


compare = {"GD": train_to_target(0.0), "SAM": train_to_target(SAM_RHO)}
for name, r in compare.items():
    print(
        f"{name:4s}: {r['steps']:5d} steps, loss {r['loss']:.4f}, top eigenvalue {r['top']:.2f},"
        f" trace {r['trace']:.1f} ± {r['trace_se']:.1f}"
    )
trace_ratio = compare["SAM"]["trace"] / compare["GD"]["trace"]
top_ratio = compare["SAM"]["top"] / compare["GD"]["top"]
notebook.glue("sam_trace_ratio", trace_ratio)
notebook.glue("sam_top_ratio", top_ratio)

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
names = list(compare)
xpos = np.arange(2)
ax.bar(
    xpos - 0.2,
    [compare[k]["top"] for k in names],
    0.4,
    color=plotting.COLORS[0],
    label="top eigenvalue",
)
ax2 = ax.twinx()
ax2.bar(
    xpos + 0.2,
    [compare[k]["trace"] for k in names],
    0.4,
    yerr=[compare[k]["trace_se"] for k in names],
    color=plotting.COLORS[1],
    label="trace (right axis)",
)
ax.set_xticks(xpos, [f"{k}\n(loss {compare[k]['loss']:.3f})" for k in names])
ax.set(
    ylabel="top eigenvalue of the Hessian",
    title=f"At equal training loss, SAM (ρ={SAM_RHO}) sits in a flatter region",
)
ax2.set_ylabel("trace of the Hessian")
fig.legend(loc="upper right", bbox_to_anchor=(0.88, 0.85), fontsize=8)
plt.show()

# %% [markdown]
# At the same training loss SAM's solution has top eigenvalue {glue:text}`sam_top_ratio:.2f` times
# and trace {glue:text}`sam_trace_ratio:.2f` times those of gradient descent. The top eigenvalue
# falls much more than the trace, as {prf:ref}`thm-ch14-sam` suggests for *full-batch* SAM (we are not
# at a minimum, so the theorem does not apply literally; it describes the direction of the drift).
# {ref}`The 1-SAM exercise <ex-ch14-one-sam>` asks you to run 1-SAM and watch the trace instead.
#
# (sec-ch14-flatness)=
# ## Flatness is not the whole story
#
# If sharpness minimizers generalize, one might hope that *flatness itself* explains generalization.
# Wen, Li and Ma {cite}`wen2023sharpness` test this on two-layer ReLU networks trained with the
# squared loss on the parity $y = x_1 x_2$ of inputs $x \in \{-1,+1\}^n$, measuring flatness by
# $\operatorname{Tr}\nabla^2 L$, and find three regimes depending on the architecture (and the data):
# without biases, flatness provably implies generalization; with biases there are flattest
# interpolators that do not generalize, and sharpness minimization fails to generalize as well; and
# with a simplified normalization layer there are again non-generalizing flattest interpolators, yet
# sharpness-minimizing algorithms such as SAM *do* generalize. So these algorithms generalize for
# reasons beyond the sharpness they minimize. The second regime rests on a fact simple enough to
# prove in full: a network that merely *memorizes* its training set can be as flat as any
# interpolator. The version below is ours; the paper's constructions and constants differ in details.

# %% [markdown]
# :::{prf:proposition} A memorizing network is a flattest interpolator
# :label: prop-ch14-memorize
#
# Let $x_1, \dots, x_m \in \{-1,+1\}^n$ be distinct, $y_i \in \{-1,+1\}$, and consider two-layer ReLU
# networks with biases, $f_\theta(x) = \sum_{j=1}^d a_j\, \mathrm{ReLU}(w_j \cdot x + b_j)$, with
# $L(\theta) = \frac1m \sum_i (f_\theta(x_i) - y_i)^2$. At every interpolating $\theta$
# ($f_\theta(x_i) = y_i$ for all $i$, with no pre-activation exactly $0$ at a training point)
#
# $$ \operatorname{Tr} \nabla^2 L(\theta) \;\ge\; 4\sqrt{n+1} . $$
#
# The network with $d = m$ units $w_i = c\, x_i$, $b_i = -c(n-1)$, $a_i = y_i / c$ and $c = (n+1)^{1/4}$
# interpolates, attains the bound, and outputs $0$ on every point of the cube outside the training
# set; its squared error there is $1$ whatever the target.
# :::

# %% [markdown]
# :::{prf:proof}
# At an interpolating point the residuals vanish, so $\nabla^2 L = \frac2m \sum_i \nabla f(x_i)
# \nabla f(x_i)^\top$ (the term with the second derivative of $f$ is multiplied by a residual) and
# $\operatorname{Tr}\nabla^2 L = \frac2m \sum_i \lVert \nabla_\theta f(x_i) \rVert^2$. With
# $z_{ij} = w_j \cdot x_i + b_j$, the partial derivatives are $\partial f / \partial a_j =
# \mathrm{ReLU}(z_{ij})$, $\partial f/\partial w_j = a_j \mathbf 1[z_{ij} > 0]\, x_i$ and
# $\partial f/\partial b_j = a_j \mathbf 1[z_{ij} > 0]$, so, using $\lVert x_i \rVert^2 = n$ and
# $p^2 + q^2 \ge 2pq$,
#
# $$ \lVert \nabla f(x_i) \rVert^2 = \sum_j \Big(\mathrm{ReLU}(z_{ij})^2 + a_j^2 (n+1) \mathbf 1[z_{ij} > 0]\Big)
#    \ge 2\sqrt{n+1} \sum_j |a_j|\, \mathrm{ReLU}(z_{ij}) \ge 2\sqrt{n+1}\, |f(x_i)| = 2\sqrt{n+1}. $$
#
# Averaging, $\operatorname{Tr}\nabla^2 L \ge \frac2m \cdot m \cdot 2\sqrt{n+1}$. For the memorizing
# network, $z_{ij} = c(x_j \cdot x_i - n + 1)$ equals $c$ if $i = j$ and is at most $-c$ otherwise,
# because distinct points of the cube have $x_j \cdot x_i \le n - 2$; the same holds at any cube point
# $x \ne x_j$. So on the training set only unit $i$ is active at $x_i$, $f(x_i) = a_i c = y_i$, and off
# the training set no unit is active and $f = 0$. Both inequalities are equalities: the active unit has
# $\mathrm{ReLU}(z_{ii}) = c = \sqrt{n+1}/c = |a_i|\sqrt{n+1}$ (as $c^2 = \sqrt{n+1}$) and
# $|a_i| c = |f(x_i)|$.
# :::
#
# We build the memorizer in code, compute its trace exactly with the Hessian module, and compare it
# with the bound and with an interpolator found by gradient descent for the parity $y = x_1 x_2$.

# %%
N_MEM, M_MEM = 8, 24
g_mem = torch.Generator().manual_seed(cfg.seed)
cube = torch.tensor(
    [[1 - 2 * ((i >> b) & 1) for b in range(N_MEM)] for i in range(2**N_MEM)],
    dtype=torch.float64,
)
train_idx = torch.randperm(2**N_MEM, generator=g_mem)[:M_MEM]
x_mem = cube[train_idx]
y_mem = x_mem[:, 0] * x_mem[:, 1]  # the parity x_1 x_2


def relu_net(W, b, a):
    return lambda x: torch.relu(x @ W.T + b) @ a


def interp_loss(W, b, a):
    f = relu_net(W, b, a)
    return lambda: ((f(x_mem) - y_mem) ** 2).mean()


c_mem = (N_MEM + 1) ** 0.25
W_m = (c_mem * x_mem).requires_grad_(True)
b_m = torch.full(
    (M_MEM,), -c_mem * (N_MEM - 1), dtype=torch.float64, requires_grad=True
)
a_m = (y_mem / c_mem).requires_grad_(True)
trace_mem = analysis.exact_trace(interp_loss(W_m, b_m, a_m), [W_m, b_m, a_m])
with torch.no_grad():
    f_cube = relu_net(W_m, b_m, a_m)(cube)
    test_mask = torch.ones(2**N_MEM, dtype=torch.bool)
    test_mask[train_idx] = False
    mem_train_err = float((f_cube[train_idx] - y_mem).abs().max())
    mem_test_mse = float(
        ((f_cube[test_mask] - cube[test_mask, 0] * cube[test_mask, 1]) ** 2).mean()
    )

# an interpolator found by gradient descent, from a small random initialization, width 2m
gen = torch.Generator().manual_seed(cfg.seed + 1)
W_g = (
    torch.randn(2 * M_MEM, N_MEM, generator=gen, dtype=torch.float64) / N_MEM**0.5
).requires_grad_(True)
b_g = (0.1 * torch.randn(2 * M_MEM, generator=gen, dtype=torch.float64)).requires_grad_(
    True
)
a_g = (
    torch.randn(2 * M_MEM, generator=gen, dtype=torch.float64) / (2 * M_MEM) ** 0.5
).requires_grad_(True)
loss_g = interp_loss(W_g, b_g, a_g)
for _ in range(3000):
    grads = torch.autograd.grad(loss_g(), [W_g, b_g, a_g])
    with torch.no_grad():
        for p, g_ in zip([W_g, b_g, a_g], grads):
            p.sub_(0.05 * g_)
trace_gd_net = analysis.exact_trace(loss_g, [W_g, b_g, a_g])
bound_mem = 4 * math.sqrt(N_MEM + 1)
print(
    f"memorizer: max training error {mem_train_err:.1e}, trace {trace_mem:.4f}, bound 4 sqrt(n+1) = {bound_mem:.4f},"
    f" test MSE {mem_test_mse:.2f}"
)
print(
    f"GD interpolator: training loss {loss_g().item():.1e}, trace {trace_gd_net:.2f} (>= bound)"
)
notebook.glue("trace_mem", trace_mem)
notebook.glue("bound_mem", bound_mem)
notebook.glue("trace_gdnet", trace_gd_net)

# %% [markdown]
# The memorizer's trace is {glue:text}`trace_mem:.3f`, equal to the bound {glue:text}`bound_mem:.3f`,
# while the interpolator that gradient descent found has trace {glue:text}`trace_gdnet:.2f`: flatter
# than the memorizer is impossible, and yet the memorizer has learned nothing about $x_1 x_2$. Flatness
# alone cannot certify generalization in this architecture. The third regime of
# {cite}`wen2023sharpness`, where such flattest memorizers exist but SAM still finds a generalizing
# solution, shows that the dynamics select among the flattest minimizers; the paper establishes it
# for a simplified normalization layer, in theory and in experiments, and we do not reproduce it here.
#
# ## Checks

# %%
# Construction: GD tracks the constrained trajectory, the oscillation balances sharpening.
assert toy_dev_all <= 0.25, f"toy: GD strays {toy_dev_all:.3f} from projected GD"
assert toy_dev_late <= 0.01, f"toy: late distance {toy_dev_late:.2e} from projected GD"
assert abs(balance - 1) <= 0.1, (
    f"toy: mean x^2 / mean alpha = {balance:.3f}, predicted 1"
)
assert abs(toy_sharp_late - 1) <= 0.01, (
    f"toy: late sharpness {toy_sharp_late:.4f} x 2/eta"
)
reproduce.report(
    "damian2022selfstabilization",
    claim="gradient descent at the edge of stability follows the constrained trajectory, "
    "projected gradient descent on the set where the sharpness is at most 2/eta",
    paper_value="GD tracks the projected trajectory; sharpness held at 2/eta",
    value=f"late distance {toy_dev_late:.1e}, late sharpness {toy_sharp_late:.4f} x 2/eta",
    assertion="on the constructed valley, GD stays within 0.25 of the constrained trajectory, "
    "within 0.01 over the second half, with mean x^2 / mean alpha within 10% of 1 and late mean "
    "sharpness within 1% of 2/eta",
    passed=bool(
        toy_dev_all <= 0.25
        and toy_dev_late <= 0.01
        and abs(balance - 1) <= 0.1
        and abs(toy_sharp_late - 1) <= 0.01
    ),
    status="partly",
    section="sec-ch14-toy",
)
# Edge of stability on digits: below the threshold at the start, at it at the end, loss non-monotone.
eos_ok = all(
    e["ratio0"] <= 0.9
    and 0.9 <= e["ratio_med"] <= 1.1
    and e["up_frac"] >= 0.1
    and e["loss_drop"] <= 0.2
    for e in eos.values()
)
reproduce.report(
    "damian2022selfstabilization",
    claim="full-batch gradient descent self-stabilizes: the sharpness rises to 2/eta and stays "
    "there while the loss keeps decreasing, non-monotonically",
    paper_value="sharpness at 2/eta (edge of stability)",
    value=f"late median sharpness {min(ratios_med):.3f}-{max(ratios_med):.3f} x 2/eta",
    assertion="tanh MLP on digits, GD at three learning rates: initial sharpness at most 0.9 x "
    "2/eta, median sharpness over the last 30% within [0.9, 1.1] x 2/eta, the loss rising at 10% "
    "or more of the late steps and falling at least 5-fold overall, at every rate",
    passed=eos_ok,
    status="partly",
    section="sec-ch14-digits",
)
# SAM vs GD at equal training loss: smaller trace, much smaller top eigenvalue.
gap_se = math.hypot(compare["GD"]["trace_se"], compare["SAM"]["trace_se"])
reproduce.report(
    "wen2022sharpness",
    claim="full-batch SAM implicitly minimizes the top eigenvalue of the Hessian (and 1-SAM its "
    "trace), so it reaches flatter minimizers than gradient descent",
    paper_value=None,
    value=f"SAM/GD top eigenvalue {top_ratio:.2f}, trace {trace_ratio:.2f}",
    assertion="tanh MLP on digits, same initialisation, each run stopped at training loss "
    "0.1: SAM's top eigenvalue at most 0.6 of GD's, its trace at most 0.9 of GD's and below it "
    "by at least 3 standard errors",
    passed=bool(
        trace_ratio <= 0.9
        and top_ratio <= 0.6
        and compare["GD"]["trace"] - compare["SAM"]["trace"] >= 3 * gap_se
    ),
    status="partly",
    section="sec-ch14-sam-experiment",
)
# Flattest interpolators: the memorizer attains the bound and fails off the training set.
assert mem_train_err <= 1e-12 and abs(trace_mem - bound_mem) <= 1e-8, (
    trace_mem,
    bound_mem,
)
reproduce.report(
    "wen2023sharpness",
    claim="for two-layer ReLU networks with biases, flattest interpolators (minimal Hessian "
    "trace) need not generalize",
    paper_value="flattest minimizers that fail to generalize (the second of three regimes)",
    value=f"memorizer trace {trace_mem:.3f} = bound {bound_mem:.3f}, test MSE {mem_test_mse:.2f}",
    assertion="on the parity x1 x2 of 8 bits, 24 training points: the memorizing network "
    "interpolates with trace equal to the proposition's lower bound 4 sqrt(n+1) (the minimum), "
    "a GD interpolator's trace is not below it, and the memorizer's test MSE is at least 0.99",
    passed=bool(trace_gd_net >= bound_mem - 1e-6 and mem_test_mse >= 0.99),
    status="partly",
    section="sec-ch14-flatness",
)
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change the learning rate, the width and the number of training images, and watch where the
# sharpness settles (in a static build of the book this shows the default setting).


# %%
def explore_eos(lr=0.45, width=32, m=300, steps=800):
    """Full-batch GD on m digits; plot the sharpness against 2/lr and the loss."""
    X, Y = digits_data(m, cfg.seed)
    _, losses, st, sh = train_gd(
        lr, steps, net=make_net(width=width), desc="explore", X=X, Y=Y
    )
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
    a1.plot(st, sh, color=plotting.COLORS[0], label="sharpness")
    a1.axhline(2 / lr, color="gray", ls="--", label="$2/\\eta$")
    a1.set(xlabel="steps", ylabel="sharpness", title=f"η={lr}, width={width}, m={m}")
    a1.legend(fontsize=8)
    a2.plot(losses, color=plotting.COLORS[1])
    a2.set(xlabel="steps", ylabel="training loss", yscale="log", title="loss")
    plt.tight_layout()
    plt.show()


notebook.explore(
    explore_eos,
    lr=(0.45, (0.05, 1.0, 0.05)),
    width=(32, (8, 128, 8)),
    m=(300, (100, 1797, 100)),
    steps=(800, (200, 3000, 200)),
)

# %% [markdown]
# ## Exercises
#
# :::{exercise} A conserved quantity of the self-stabilization dynamics
# :label: ex-ch14-conserved
#
# Replace the map $x_{t+1} = -(1+\eta y_t)x_t$, $y_{t+1} = y_t + \eta(\alpha - \beta x_t^2/2)$ by its
# continuous-time version for $X = x^2$: $\dot{(\log X)} = 2\eta y$, $\dot y = \eta(\alpha - \beta X/2)$.
# Show that $H(X, y) = y^2 + \beta X / 2 - \alpha \log X$ is constant along solutions, that its minimum
# is at the fixed point $(X, y) = (2\alpha/\beta, 0)$, and conclude that the solutions are closed
# orbits around it: the four-stage cycle. What does this say about the time average of $X$ over one
# period? *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch14-conserved
# :class: dropdown
#
# $\frac{d}{dt} y^2 = 2 y \eta (\alpha - \beta X/2)$, $\frac{d}{dt}(\beta X/2) = \frac\beta2 X \cdot
# 2\eta y = \eta\beta X y$ and $\frac{d}{dt}(-\alpha \log X) = -2\alpha\eta y$. The sum is
# $2\eta y(\alpha - \beta X/2) + 2\eta y(\beta X/2 - \alpha) = 0$. $H$ is strictly convex in
# $(\log X, y)$ coordinates (as $\beta X/2 - \alpha\log X = \beta e^{s}/2 - \alpha s$ with $s = \log X$),
# with gradient zero exactly at $y = 0$, $X = 2\alpha/\beta$; its level sets near the minimum are
# closed curves, and a solution moves along one without stopping (the only fixed point is the
# minimum), so it is periodic. Over one period $y$ returns to its value, so
# $0 = \oint \dot y\, dt = \eta \oint (\alpha - \beta X/2)\, dt$: the time average of $X = x^2$ is
# exactly $2\alpha/\beta$, the balance checked numerically in the construction. The discrete map
# only nearly conserves $H$, which is why the cycles of the toy model can slowly grow or shrink.
# :::
#
# :::{exercise} SAM on a quadratic
# :label: ex-ch14-sam-quadratic
#
# For $L(\theta) = \frac12 \theta^\top A \theta$ with $A \succ 0$, write down one SAM step in closed
# form. Show that if $\theta_t = r\, u$ for an eigenvector $u$ with eigenvalue $\lambda$ and $r \neq 0$,
# then $\theta_{t+1} = (r(1 - \eta\lambda) - \eta\rho\lambda\, \mathrm{sign}(r))\, u$. Deduce that SAM
# does not converge to the minimum $0$ but, for $\eta\lambda < 1$, ends up oscillating between
# $\pm \rho\eta\lambda/(2 - \eta\lambda)\, u$ along the direction it started in. Then write the closed
# form as a function `sam_closed_form(A, theta, lr, rho)` and test it with
# `check_sam_closed_form` below. *Difficulty: ★★☆, about 20 min.*
# :::


# %%
def check_sam_closed_form(fn, trials=5, seed=0):
    """Compare fn(A, theta, lr, rho) with lmt_core's SAM step on random quadratics; print the verdict."""
    g_ = torch.Generator().manual_seed(seed)
    for k in range(trials):
        P = 3 + k
        B = torch.randn(P, P, generator=g_, dtype=torch.float64)
        A_ = B @ B.T / P + 0.1 * torch.eye(P, dtype=torch.float64)
        th = torch.randn(P, generator=g_, dtype=torch.float64)
        lr, rho = 0.1 * (k + 1), 0.05 * (k + 1)
        p = th.clone().requires_grad_(True)
        optim.sam_step(lambda: 0.5 * p @ A_ @ p, [p], lr, rho)
        got = fn(A_, th.clone(), lr, rho)
        if not torch.allclose(
            torch.as_tensor(got, dtype=torch.float64), p.detach(), atol=1e-10
        ):
            print(
                f"trial {k}: your step differs from SAM by {(torch.as_tensor(got) - p.detach()).norm():.2e};"
                " is the gradient taken at theta + rho * g / |g| and applied at theta?"
            )
            return False
    print(f"correct on {trials} random quadratics")
    return True


# %% [markdown]
# :::{solution-start} ex-ch14-sam-quadratic
# :class: dropdown
# :::
#
# With $g = A\theta$, the SAM step is $\theta^+ = \theta - \eta A(\theta + \rho\, A\theta/\lVert A\theta\rVert)$.
# For $\theta = r u$: $A\theta = r\lambda u$ and $A\theta/\lVert A\theta\rVert = \mathrm{sign}(r) u$, so
# $\theta^+ = (r - \eta\lambda r - \eta\rho\lambda\, \mathrm{sign}(r)) u$. Once $|r|$ is small the
# constant kick $-\eta\rho\lambda\,\mathrm{sign}(r)$ dominates and overshoots $0$: the 2-cycle
# $r \mapsto -r$ solves $-r = r(1-\eta\lambda) - \eta\rho\lambda$, i.e.
# $r = \eta\rho\lambda / (2 - \eta\lambda)$. SAM never settles at the minimum; this oscillation is the
# same mechanism that, in a non-quadratic loss, produces the drift of {prf:ref}`thm-ch14-sam`. The
# cycle attracts: two steps map $r > 0$ (small) to $(1-\eta\lambda)^2 r + \eta^2\rho\lambda^2$, an affine
# map with slope $(1 - \eta\lambda)^2 < 1$ whose fixed point is $\eta\rho\lambda/(2 - \eta\lambda)$.


# %%
def sam_closed_form(A, theta, lr, rho):
    """One SAM step on L = theta^T A theta / 2."""
    grad = A @ theta
    return theta - lr * A @ (theta + rho * grad / grad.norm())


assert check_sam_closed_form(sam_closed_form)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} One-SAM minimizes the trace
# :label: ex-ch14-one-sam
#
# Train the digits network of the SAM experiment with *stochastic* SAM of batch size one
# (`optim.stochastic_sam_step(batch_loss, params, lr, rho, m=M_DIGITS, batch_size=1, generator=...)`
# with `batch_loss(idx)` the loss on the examples `idx`) and with plain SGD of batch size one, from the
# same initialization and to the same full-batch training loss. Compare the trace and the top
# eigenvalue with the full-batch runs. Which of the two quantities does 1-SAM reduce more, relative to
# SGD, and how does that fit {prf:ref}`thm-ch14-sam`? *Difficulty: ★★★, about 40 min.*
# :::
#
# :::{solution} ex-ch14-one-sam
# :class: dropdown
#
# A loop such as
#
# ```python
# net = make_net(); params = list(net.parameters()); full = mse_closure(net)
# batch_loss = lambda idx: 0.5 * ((net(X_dig[idx]) - Y_dig[idx]) ** 2).sum(1).mean()
# gen = torch.Generator().manual_seed(0)
# for t in range(200_000):
#     optim.stochastic_sam_step(batch_loss, params, 0.02, 0.05, m=M_DIGITS, batch_size=1, generator=gen)
#     if t % 500 == 0 and full().item() <= LOSS_TARGET:
#         break
# ```
#
# (with `rho=0` for SGD) does it; it takes a few minutes on a CPU and the book's build does not run
# it. The theory predicts that 1-SAM's extra reduction relative to SGD is larger in the trace than in
# the top eigenvalue, the reverse of what the full-batch comparison showed, because the ascent
# direction $\nabla L_k$ points along $\nabla f_k$ rather than along the top eigenvector. At this small
# scale and far from a minimum the effect is noisy; compare several seeds before drawing conclusions.
# Note that SGD with a small batch is itself biased towards small trace, so the difference between
# the two stochastic runs is smaller than that between GD and full-batch SAM.
# :::
#
# :::{exercise} How many Hutchinson probes?
# :label: ex-ch14-hutchinson
#
# Show that for a symmetric $H$ and $z$ with independent uniform $\pm1$ entries,
# $\mathrm{Var}(z^\top H z) = 2\sum_{i \ne j} H_{ij}^2 = 2(\lVert H \rVert_F^2 - \sum_i H_{ii}^2)$.
# Deduce that Hutchinson's estimator is exact for diagonal $H$, and give the number of probes needed
# for a relative error $\varepsilon$ with probability about $0.95$ when $H$ has $r$ equal nonzero
# eigenvalues and a random eigenbasis. *Difficulty: ★★☆, about 20 min.*
# :::
#
# :::{solution} ex-ch14-hutchinson
# :class: dropdown
#
# $z^\top H z = \sum_i H_{ii} + \sum_{i \ne j} H_{ij} z_i z_j$ because $z_i^2 = 1$. The products
# $z_i z_j$ for $i < j$ have mean $0$, variance $1$ and are pairwise uncorrelated, so the variance is
# $\sum_{i<j} (2H_{ij})^2 = 2\sum_{i\neq j} H_{ij}^2$, which is $0$ for diagonal $H$. With $r$ equal
# eigenvalues $\lambda$ and a random basis, $\lVert H\rVert_F^2 = r\lambda^2$ and the diagonal carries
# a negligible share of it when $r \ll P$, so one probe has standard deviation about
# $\sqrt{2r}\,\lambda$ against a mean $r\lambda$: relative error $\sqrt{2/r}$. With $N$ probes the
# relative standard error is $\sqrt{2/(rN)}$, and $N \approx 8/(r\varepsilon^2)$ probes give
# $\pm\varepsilon$ with probability about $0.95$. Low-rank Hessians are the hard case; the
# Hessians of trained networks, with a few large eigenvalues, are close to it.
# :::
#
# ## Discussion and further reading
#
# - **Why does the sharpness rise at all?** Progressive sharpening ($\alpha > 0$) is an empirical
#   observation {cite}`cohen2021gradient`; the self-stabilization theory takes it as an assumption.
#   Which features of the squared loss and of the network make $-\nabla L \cdot \nabla S$ positive?
#   Replace the squared loss by the cross-entropy in `mse_closure` and watch what the sharpness does
#   late in training, when the margins grow.
# - **Edge of stability as regularization.** Self-stabilization says GD at a large learning rate
#   implicitly solves a constrained problem. Compare this with SAM, which adds a penalty: when do the
#   two produce the same minimizers, and which sharpness does each control?
# - **Which sharpness matters?** The top eigenvalue, the trace and the worst-case loss in a ball are
#   different quantities, and rescaling symmetries of ReLU networks can change each of them without
#   changing the function. What would a reparametrization-invariant notion of flatness look like?
# - **Beyond flatness.** {prf:ref}`prop-ch14-memorize` shows that in some architectures flatness
#   cannot separate memorization from learning. What else, besides the sharpness it reduces, could
#   explain why SAM generalizes in the third regime of {cite}`wen2023sharpness`?
#
# Further reading: {cite}`cohen2021gradient` for the phenomenon and its many experiments;
# {cite}`damian2022selfstabilization` for the full self-stabilization analysis, including the
# predictions for the loss; {cite}`wen2022sharpness` for the precise regimes of SAM;
# {cite}`wen2023sharpness` for the three regimes of flatness and generalization.
