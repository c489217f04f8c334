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
# # Chain of thought and sparse attention
#
# A $k$-sparse parity of $n$ bits is hard for gradient methods when only the answer is supervised
# (Chapter 1), yet it becomes easy when the training sequences also spell out the *running parities*
# of the secret bits, a chain of thought. The chain makes every token depend on only two earlier
# tokens, so a single attention head that reads one input bit per step suffices. We measure, as the
# paper's Figure 1 does, how many training samples a one-layer transformer needs as $k$ grows, with
# and without the chain, and follow its attention entropy during training: with the chain the
# samples needed stay small and the trained attention is sparse and points at the secret bits.
#
# **Paper.** Wen, Zhang, Lin and Zhang, *From sparse dependence to sparse attention: unveiling how
# chain-of-thought enhances transformer sample efficiency* {cite}`wen2024sparse`. Related analyses of
# parity with intermediate supervision are Kim and Suzuki {cite}`kim2024transformers` and {cite}`malach2023autoregressive`.
#
# **Prerequisites.** Chapter 1 (sparse parities, Fourier–Walsh analysis, the statistical-query
# lower bound). We use the book's [notation](../book/notation.md): $n$ input bits, sparsity $k$,
# width $d$, sequence length $T$, sample size $m$.
#
# **Time.** Quick mode (the default, also with a GPU) runs the notebook in under a minute on one
# CPU core; all figures below are from quick mode. Full mode (`SCALE = "full"` in the first code
# cell) takes under 10 minutes on one CPU core: more input bits, degrees $k$ up to $5$, longer
# training, a larger grid of training-set sizes and more seeds; its headline figure is shown
# beside the quick one.
#
# **Open in Colab:**
# [colab/08_chain_of_thought.ipynb](https://colab.research.google.com/github/lmt-book/lmt/blob/main/colab/08_chain_of_thought.ipynb)
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

from lmt_core import (
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
# Every quick/full size of the chapter.
# input bits n; the parity degrees k of the sweep (the largest is the chapter's main task)
N = cfg.pick(quick=10, full=12)
KS = cfg.pick(quick=[2, 4], full=[2, 3, 4, 5])
K = KS[-1]
# model width d, heads, Adam learning rate, sequences per step and per member (both modes)
D = 32
HEADS = 2
LR = 3e-3
BATCH = 32
# training steps (every run, with and without CoT) and evaluations per run
STEPS = cfg.pick(quick=600, full=2000)
EVALS = 40
# training-set sizes m (a grid of factors 4) and seeds per size (one ensemble member each)
M_SIZES = cfg.pick(quick=[16, 64, 256], full=[16, 64, 256, 1024])
SEEDS = cfg.pick(quick=[0, 1, 2], full=[0, 1, 2, 3, 4])
# held-out test inputs (never in a training set); the attention analysis uses m = M_MAIN
M_TEST = cfg.pick(quick=256, full=512)
M_MAIN = M_SIZES[-1]
# "solved": median test accuracy over seeds at least THRESHOLD
THRESHOLD = 0.9

# %% [markdown]
# ## The setting
#
# We write the bits as tokens $b \in \{0, 1\}$, standing for the signs $x = (-1)^b$ of the book's
# convention, so that XOR of tokens is the product of signs. A *support* $S = (s_1, \dots, s_k)$ of
# distinct indices in $[n]$ is fixed and unknown; the order in which it is listed is the order in
# which the chain visits it (we use increasing order).

# %% [markdown]
# :::{prf:definition} Parity with and without a chain of thought
# :label: def-ch08-cot-parity
#
# Let $b \in \{0,1\}^n$ be uniform. The *running parities* are $z_0 = 0$ and
# $z_j = z_{j-1} \oplus b_{s_j}$ for $j = 1, \dots, k$, so that $z_k = b_{s_1} \oplus \dots \oplus b_{s_k}$,
# whose sign $(-1)^{z_k}$ is $\chi_S(x)$ ({prf:ref}`def-ch01-sparse-parity`).
#
# - *Without chain of thought*, a training sequence is $(b_1, \dots, b_n, z_k)$ of length $T = n + 1$,
#   and the model is trained to predict the last token from the first $n$.
# - *With chain of thought (CoT)*, a training sequence is $(b_1, \dots, b_n, z_1, \dots, z_k)$ of length
#   $T = n + k$, and the model is trained to predict each of $z_1, \dots, z_k$ from the tokens before it
#   (next-token prediction with *teacher forcing*: the true earlier tokens are in the context).
#
# A model *solves* the CoT task on an input if, generating greedily from $(b_1, \dots, b_n)$, it writes
# $z_1, \dots, z_k$; its *answer* is the last generated token.
# :::
#
# `tasks.ParityCoT` produces these sequences as `(tokens, targets)`, both of
# shape $(B, T)$: `targets[:, t]` is the token to be predicted from position $t$, i.e.
# `tokens[:, t + 1]` where that token is generated, and $-100$ (ignored by the loss) where it is an
# input bit. Positions count from $0$ in code: the prediction of $z_{j+1}$ is made at position
# $n - 1 + j$, which holds $z_j$ (or the last input bit when $j = 0$).

# %%
demo = tasks.ParityCoT(8, (1, 4, 6))
tok, tgt = demo.sample(2, generator=cfg.generator(1))
print(
    "support S =",
    demo.support,
    "| T with CoT =",
    demo.length,
    "| T without =",
    demo.with_cot(False).length,
)
for r in range(2):
    print("tokens :", tok[r].tolist(), "\ntargets:", tgt[r].tolist())
print("without CoT:", demo.with_cot(False).sequences(tok[:, :8])[0].tolist())

# %% [markdown]
# ## What the chain changes: sparse dependence


# %% [markdown]
# :::{prf:proposition} Sparse sequential dependence
# :label: prop-ch08-sparse-dependence
#
# (a) *With CoT*, every generated token depends on at most two earlier tokens (the first on one):
# $z_1 = b_{s_1}$ and $z_{j+1} = z_j \oplus b_{s_{j+1}}$ for $1 \le j < k$, where $z_j$ is the token
# at the predicting position itself.
#
# (b) *Without CoT*, the answer is uncorrelated with everything that misses one secret bit: for every
# $i \in S$ and every function $g$ of the other $n - 1$ bits,
# $\mathbb E\big[(-1)^{z_k}\, g(x_{-i})\big] = 0$. In Fourier terms the answer has all its weight on the
# single degree-$k$ coefficient $\hat f(S)$.
#
# (c) The same holds *one step at a time* with CoT: $(-1)^{z_{j+1}}$ is uncorrelated with every
# function of the input bits alone that misses $b_{s_{j+1}}$, and with every function of $z_j$ alone;
# but $\mathbb E\big[(-1)^{z_{j+1} + z_j} x_u\big] = \mathbf 1[u = s_{j+1}]$.
# :::


# %% [markdown]
# :::{prf:proof}
# (a) is the definition. For (b), $(-1)^{z_k} = \chi_S(x) = x_i\, \chi_{S \setminus \{i\}}(x)$ and $x_i$ is
# independent of $x_{-i}$ with mean $0$, so
# $\mathbb E[\chi_S\, g(x_{-i})] = \mathbb E[x_i]\, \mathbb E[\chi_{S \setminus \{i\}} g(x_{-i})] = 0$. The Fourier
# statement is {prf:ref}`lem-ch01-parseval` applied to $\chi_S$. For (c), $(-1)^{z_{j+1}} = (-1)^{z_j}\, x_{s_{j+1}}$
# with $x_{s_{j+1}}$ independent of $z_j$ and of the bits other than $s_{j+1}$; the same argument
# gives the two zero correlations. Finally $(-1)^{z_{j+1} + z_j} = x_{s_{j+1}}$, whose correlation with
# $x_u$ is $1$ for $u = s_{j+1}$ and $\mathbb E[x_{s_{j+1}}]\mathbb E[x_u] = 0$ otherwise.
# :::
#
# Part (c) is the whole story in one line. Without the chain, a learner must find a set of $k$
# coordinates whose *joint* product carries the signal, and the statistical-query bound of
# Chapter 1 says that averages cannot do this cheaply. With the chain, each step hides a single
# coordinate, and the right degree-2 average — the current token times one input bit — points at it.
# The catch, visible in (c), is that neither factor alone correlates with the target: a network that
# looks at input bits without multiplying them by the current token has no first-order signal
# towards the right bit ({ref}`Exercise <ex-ch08-degree2>` makes this precise). A transformer has
# the two ingredients: attention to select $x_u$ and, after it, an MLP that multiplies.
#
# ### Sample complexity: hard without the chain, easy with it


# %% [markdown]
# :::{prf:theorem} Without the chain: the SQ lower bound (standard form, after Chapter 1)
# :label: thm-ch08-no-cot-hard
#
# The task without CoT is the $(n,k)$-sparse parity problem of {prf:ref}`def-ch01-sparse-parity`, with
# the last token as the label. Hence ({prf:ref}`thm-ch01-sq-lower-bound`,
# {prf:ref}`cor-ch01-sq`) every deterministic statistical-query learner that reaches error below $1/4$
# for every support asks $q \ge (\binom nk - 1)\tau^2$ queries of tolerance $\tau$: for $k \le \sqrt n$,
# $n^{\Omega(k)}$ queries or tolerance $n^{-\Omega(k)}$, which costs $n^{\Omega(k)}$ samples per query.
# :::
#
# Nothing needs proving beyond Chapter 1: the transformer, the tokens and the order of the bits are
# a re-encoding of the same input–label pairs. The bound applies to mini-batch gradient methods
# insofar as they only use the data through averages of bounded functions (each gradient coordinate
# is one), the caveats of Chapter 1 included. Wen et al. {cite}`wen2024sparse` prove a lower bound of
# this kind directly for gradient-based training of their one-layer transformer without CoT, with a
# sample size exponential in $k$. We could check only the paper's abstract ("without CoT, the
# required sample size is exponential"), not the class of algorithms or the form of the exponent in
# its theorem, so we state the SQ form, which covers every learner that uses the data through
# bounded averages.
#
# With the chain, averages suffice, and few of them:


# %% [markdown]
# :::{prf:proposition} With the chain: a few samples identify the support
# :label: prop-ch08-cot-easy
#
# Given $m$ CoT sequences with independent uniform inputs, consider the learner that, for each step
# $j = 0, \dots, k-1$, outputs the input index $u$ for which $z_{j+1} \oplus z_j \oplus b_u = 0$ holds
# on all $m$ sequences (with $z_0 = 0$). It recovers $S$, in order, with probability at least
# $1 - k(n-1)\,2^{-m}$. So $m \ge \log_2(k n / \delta)$ samples suffice for success probability
# $1 - \delta$. In SQ terms it asks $kn$ correlation queries $\mathbb E[(-1)^{z_{j+1} + z_j} x_u]$ at any tolerance
# $\tau < 1/2$, against the $n^{\Omega(k)}$ of {prf:ref}`thm-ch08-no-cot-hard`.
# :::


# %% [markdown]
# :::{prf:proof}
# For $u = s_{j+1}$ the relation holds on every sequence because $z_{j+1} = z_j \oplus b_{s_{j+1}}$. For
# $u \ne s_{j+1}$, $z_{j+1} \oplus z_j \oplus b_u = b_{s_{j+1}} \oplus b_u$ is a uniform bit, independent across
# sequences, so the relation holds on all $m$ of them with probability $2^{-m}$. A union bound over the
# $k$ steps and $n - 1$ wrong indices per step bounds the failure probability by $k(n-1)2^{-m}$. For the
# SQ statement, the query's true value is $1$ at $u = s_{j+1}$ and $0$ otherwise
# ({prf:ref}`prop-ch08-sparse-dependence`), so answers within $\tau < 1/2$ separate them.
# :::
#
# This learner is not a transformer, but it shows where the gain comes from: the chain turns one
# search over $\binom nk$ sets into $k$ searches over $n$ positions. For transformers trained by
# gradient descent the paper proves the counterpart.


# %% [markdown]
# :::{prf:theorem} With the chain, a one-layer transformer learns with polynomially many samples (Wen et al., informal)
# :label: thm-ch08-cot-gd
#
# In the setting of {cite}`wen2024sparse` — a simplified one-layer transformer (one attention layer
# whose output is concatenated with its input, DenseNet-style, followed by a feed-forward read-out),
# trained by gradient descent on the CoT sequences of {prf:ref}`def-ch08-cot-parity` from a suitable
# initialisation — $\mathrm{poly}(n)$ samples suffice to predict every chain token, and hence the answer,
# with high accuracy; moreover the attention of the prediction of $z_{j+1}$ concentrates on position
# $s_{j+1}$, so the learned attention is sparse and names the support. Without the chain the paper
# proves that the sample size must be exponential (in $k$) for its gradient-based learner.
#
# *Status of this statement.* We could read only the paper's abstract and summaries, not its theorem
# section: the architecture, the loss, the number of gradient steps, the degree of the polynomial and
# the sense in which the attention concentrates are our reading, not a quotation. What we can prove
# in full is the idealised version below, which fixes the read-out to the product the chain step
# needs; it is ours, and it is simpler than the paper's setting, where the read-out is trained too.
# :::

# %% [markdown]
# :::{prf:theorem} Labelled variant (ours): one gradient step on the attention learns the chain
# :label: thm-ch08-one-step
#
# Idealise the prediction of $z_{j+1}$ from position $t = n - 1 + j$ ($j = 0, \dots, k-1$) as
# follows. Position $t$ sees the keys $u \in V_t = \{0, \dots, t\}$ (in code positions), each with
# value $v_u \in \{\pm 1\}$, the sign of its token; its attention has one free score per key,
# $A_{t,u} = \mathrm{softmax}(\theta_t)_u$ (scores depend on positions only, as in
# {prf:ref}`thm-ch08-construction`); and the read-out multiplies the attended value by the sign
# $a_t = (-1)^{z_j}$ of the current chain token ($a_t = 1$ at the first step):
# $\hat y_t = a_t \sum_{u \in V_t} A_{t,u} v_u$. Train with the hinge loss
# $\max(0, 1 - y_t \hat y_t)$, $y_t = (-1)^{z_{j+1}}$, averaged over $m$ independent CoT sequences
# and summed over the $k$ chain positions, by **one** full-batch gradient step from $\theta = 0$
# (uniform attention) with step size $\eta = 2T \log(T / \varepsilon)$, $0 < \varepsilon < \tfrac12$.
# If
#
# $$
# m \;\ge\; 8 \log (k T / \delta),
# $$
#
# then with probability at least $1 - \delta$ over the sample: at every chain position the
# attention on the secret position $s_{j+1}$ is at least $1 - \varepsilon$, every teacher-forced
# prediction $\operatorname{sign} \hat y_t$ is right on **every** input, and greedy generation
# writes the whole chain, hence the parity, on every input.
# :::

# %% [markdown]
# :::{prf:proof}
# Fix a chain position $t$ and write $s = s_{j+1}$, $N = |V_t| = t + 1 \le T - 1$. Since
# $|\hat y_t| \le \sum_u A_{t,u} = 1$, the hinge is always in its linear part, and the empirical
# loss of this position is
#
# $$
# \hat L_t(\theta_t) = 1 - \sum_{u \in V_t} A_{t,u}\, \hat c_u, \qquad
# \hat c_u = \frac1m \sum_{i=1}^m y_t^{(i)} a_t^{(i)} v_u^{(i)} .
# $$
#
# *The correlations.* $y_t a_t = (-1)^{z_{j+1} + z_j} = x_s$ ({prf:ref}`prop-ch08-sparse-dependence`),
# so $\hat c_s = 1$ exactly. For $u \ne s$, $x_s v_u$ is a character $\chi_U(x)$ with $U \ne \emptyset$:
# $U = \{s, u\}$ for an input key $u$, and $U = \{s_1, \dots, s_i\} \cup \{s\}$ for a chain key holding
# $z_i$, $i \le j$. A non-trivial character of uniform bits is a uniform sign, so $\hat c_u$ is the
# mean of $m$ independent uniform signs and, by Hoeffding's inequality,
# $\Pr[\hat c_u \ge \tfrac12] \le e^{-m/8}$. A union bound over the $k$ positions and at most $T$
# wrong keys each gives: with probability at least $1 - kTe^{-m/8} \ge 1 - \delta$, $\hat c_u < \tfrac12$
# for every wrong key at every position.
#
# *The step.* The parameters $\theta_t$ enter only $\hat L_t$, and
# $\partial \hat L_t / \partial \theta_{t,u} = -A_{t,u}\big(\hat c_u - \sum_v A_{t,v} \hat c_v\big)$,
# which at $\theta = 0$ is $-(\hat c_u - \bar c)/N$ with $\bar c$ the mean of the $\hat c_v$. After one
# step $\theta_{t,u} = \eta (\hat c_u - \bar c)/N$, so on the event above
# $\theta_{t,s} - \theta_{t,u} = \eta (1 - \hat c_u)/N > \eta / (2T)$ for every $u \ne s$, and
#
# $$
# A_{t,s} \;\ge\; \frac{1}{1 + (N - 1) e^{-\eta/(2T)}} \;\ge\; 1 - T e^{-\eta/(2T)} = 1 - \varepsilon .
# $$
#
# *Every input.* For any input, $y_t \hat y_t = \sum_u A_{t,u}\, x_s v_u \ge A_{t,s} - (1 - A_{t,s})
# = 2A_{t,s} - 1 > 0$, so the sign of $\hat y_t$ is the next token on every input with the true
# prefix. By {ref}`Exercise <ex-ch08-generation>` (no teacher-forced error at any step), greedy
# generation then writes the true chain on every input.
# :::
#
# The theorem isolates what the chain buys: every step has a *degree-2* signal,
# $\hat c_{s} = 1$ against $|\hat c_u| \lesssim \sqrt{\log (kT/\delta)/m}$, so a logarithmic number
# of samples separates the right key, and one step of gradient descent turns the separation into a
# near one-hot attention. What it assumes away is the hard part of the paper's proof: the read-out
# must itself *learn* to multiply the attended bit by the current token, and before it does the
# attention gets no signal ({ref}`Exercise <ex-ch08-degree2>`); the paper's polynomial bound pays for
# the coupled training of the two. Without the chain the same idealised model cannot even represent
# the answer (its output is a weighted average of single signs, and the answer is a degree-$k$
# character), and {prf:ref}`thm-ch08-no-cot-hard` bounds every learner that uses the data through
# averages.


# %% [markdown]
# ## Parity with a chain is easy to represent
#
# Expressivity is not what separates the two tasks: a one-layer transformer computes the chain
# exactly, with an attention that is as sparse as it can be. (So can one without the chain, see
# {ref}`ex-ch08-no-cot-construction`.)


# %% [markdown]
# :::{prf:theorem} A one-head construction
# :label: thm-ch08-construction
#
# Let $T = n + k$ and $\beta > \log(8(T-1))$. There is a one-layer transformer without LayerNorm, with
# learned absolute positions, one attention head of width $T$, an MLP of width $3$ (ReLU) and residual width
# $d = T + 3$, whose greedy prediction from position $n - 1 + j$ is $z_{j+1}$ for every $j = 0, \dots, k-1$
# and every input, and whose attention from that position puts weight at least
# $1 - (T-1)e^{-\beta}$ on position $s_{j+1}$. Residual coordinates: $0$ holds the sign of the current
# token, $1, \dots, T$ a one-hot code of the position, $T + 1$ the attended bit and $T + 2$ the MLP's output.
# :::


# %% [markdown]
# :::{prf:proof}
# *Attention.* Keys are the position codes, $k_u = e_u$. The query at position $t = n - 1 + j$ is
# $\beta\sqrt T\, e_{s_{j+1}}$ (zero at other positions), so after the $1/\sqrt{T}$ scaling the score of key $u$
# is $\beta\,\mathbf 1[u = s_{j+1}]$. With $t + 1 \le T - 1$ visible keys, the weight on $s_{j+1}$ is
# $A = 1/(1 + t e^{-\beta}) \ge 1 - (T-1)e^{-\beta}$. The value reads the sign coordinate and the output map
# writes it to coordinate $T + 1$, which then holds $\tilde b = \sum_u A_u x_u$ with
# $|\tilde b - x_{s_{j+1}}| \le 2(1 - A) \le 2(T-1)e^{-\beta} < 1/4$.
#
# *MLP.* Let $a$ be the current sign (coordinate $0$), $b$ the attended sign and $f \in \{0, 1\}$ the
# position-code coordinate of position $n - 1$ (so $f = 1$ exactly at the first step). The units
# $u_1 = \mathrm{ReLU}(a + b - 3f)$, $u_2 = \mathrm{ReLU}(-a - b - 3f)$, $u_3 = \mathrm{ReLU}(b + 2f - 2)$ and the output
# $o = u_1 + u_2 + 2u_3 - 1$ give, for $a, b \in \{\pm 1\}$: if $f = 0$, $o = |a + b| - 1 = ab$; if $f = 1$,
# $o = 2\,\mathrm{ReLU}(b) - 1 = b$. So $o = (-1)^{z_{j+1}}$ at every step when $b = x_{s_{j+1}}$ exactly.
# Each unit is 1-Lipschitz in $b$, so replacing $b$ by $\tilde b$ moves $o$ by at most
# $4|\tilde b - b| < 1$: the sign of $o$ is still right.
#
# *Read-out.* Logits $(o, -o)$ for the tokens $(0, 1)$ predict token $0$ (sign $+1$) exactly when $o > 0$.
# :::
#
# Here is the construction, written into the parameters of `lmt_core`'s `Transformer`.


# %%
def cot_transformer(task, beta=12.0):
    """The hand-set one-layer, one-head transformer of the theorem (CoT parity)."""
    n, T = task.n, task.length
    # residual width and coordinates
    d, SIGN, ATT, OUT, FIRST = T + 3, 0, T + 1, T + 2, 1 + (n - 1)
    net = models.Transformer(
        2,
        d_model=d,
        n_layers=1,
        n_heads=1,
        d_head=T,
        d_mlp=3,
        max_len=T,
        layer_norm=False,
        activation="relu",
    )
    attn, mlp = net.blocks[0].attn, net.blocks[0].mlp
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.embed.weight[:, SIGN] = torch.tensor([1.0, -1.0])  # token b -> sign (-1)^b
        net.pos.weight[:, 1 : T + 1] = torch.eye(T)  # one-hot positions
        attn.k.weight[:, 1 : T + 1] = torch.eye(T)  # key of position u: e_u
        for j, s in enumerate(task.support):  # query at n-1+j looks for s_{j+1}
            attn.q.weight[s, 1 + n - 1 + j] = beta * math.sqrt(T)
        attn.v.weight[0, SIGN] = 1.0  # value: the sign ...
        attn.o.weight[ATT, 0] = 1.0  # ... written to coordinate ATT
        mlp.fc.weight[:, [SIGN, ATT, FIRST]] = torch.tensor(
            [[1.0, 1.0, -3.0], [-1.0, -1.0, -3.0], [0.0, 1.0, 2.0]]
        )
        mlp.fc.bias.copy_(torch.tensor([0.0, 0.0, -2.0]))
        mlp.proj.weight[OUT] = torch.tensor([1.0, 1.0, 2.0])
        mlp.proj.bias[OUT] = -1.0
        net.unembed.weight[:, OUT] = torch.tensor([1.0, -1.0])  # logits (o, -o)
    return net


@torch.no_grad()
def generate(model, task, prompts):
    """Greedily generate the k chain tokens (or the answer, no CoT) after the input."""
    seq = prompts[:, : task.n]
    for _ in range(task.length - task.n):
        seq = torch.cat([seq, model(seq)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return seq


def answer_accuracy(model, task, tokens):
    """Fraction of sequences whose greedily generated answer equals the parity."""
    return (
        (generate(model, task, tokens)[:, -1] == task.answers(tokens))
        .float()
        .mean()
        .item()
    )


checks = []
for n, k, exhaustive in [(6, 2, True), (10, 3, True), (12, 4, True), (24, 6, False)]:
    task = tasks.ParityCoT.random(n, k, seed=n)
    tokens = (
        task.all_sequences()[0]
        if exhaustive
        else task.sample(4096, generator=cfg.generator(n))[0]
    )
    net = cot_transformer(task)
    full = generate(net, task, tokens)
    chain_ok = torch.equal(full, tokens)  # every chain token right, not only the answer
    with torch.no_grad():
        _, maps = net(tokens, return_attention=True)
    # (B, k, T): attention of the k predictions
    rows = maps[0][:, 0, task.n - 1 : task.length - 1]
    on_secret = rows[:, torch.arange(k), list(task.support)].min().item()
    checks.append(chain_ok)
    print(
        f"n={n:2d}, k={k}, S={task.support}: "
        f"{'all' if exhaustive else 'random'} {len(tokens)} inputs, "
        f"chain exactly right: {chain_ok}, min attention on s_(j+1): {on_secret:.6f}"
    )
notebook.glue("construction_min_attn", on_secret)

# %% [markdown]
# The hand-set network generates the whole chain correctly on every input of the exhaustive checks
# and on all random inputs of the largest one, and its attention on the secret bit is at least
# {glue:text}`construction_min_attn:.4f` at every step, as the theorem predicts for $\beta = 12$. Its
# attention map (below, for one input) is the picture to keep in mind for the trained models: one bright
# cell per generated token, in the column of the secret bit.


# %%
def plot_attention(ax, A, task, title):
    """Heatmap of an attention map A (T, T), rows = queries, secret bits boxed."""
    T = task.length
    ax.imshow(A, cmap="Blues", vmin=0, vmax=1)
    labels = [f"b{i + 1}" for i in range(task.n)] + [
        f"z{j + 1}" for j in range(T - task.n)
    ]
    if not task.cot:
        labels[-1] = "y"
    ax.set_xticks(range(T), labels, fontsize=7, rotation=90)
    ax.set_yticks(range(T), labels, fontsize=7)
    for j in range(task.k if task.cot else 0):
        ax.add_patch(
            plt.Rectangle(
                (task.support[j] - 0.5, task.n - 1 + j - 0.5),
                1,
                1,
                fill=False,
                ec=plotting.COLORS[1],
                lw=2,
            )
        )
    ax.set(
        xlabel="key position (attended to)",
        ylabel="query position (predicting the next token)",
        title=title,
    )


task_small = tasks.ParityCoT.random(10, 3, seed=10)
with torch.no_grad():
    _, maps = cot_transformer(task_small)(
        task_small.sample(1, generator=cfg.generator(3))[0], return_attention=True
    )
fig, ax = plt.subplots(figsize=(4.8, 4.6))
plot_attention(
    ax,
    maps[0][0, 0].detach().numpy(),
    task_small,
    "Hand-set head: one key per chain step\n(boxes: secret bits)",
)
plt.show()

# %% [markdown]
# (sec-ch08-experiment)=
# ## Experiment: samples needed against $k$, with and without the chain
#
# The paper's Figure 1(a) plots, against the degree $k$, the number of training samples a
# transformer needs to learn the parity, with and without the chain. We measure the same thing
# for one architecture — one layer, {glue:text}`heads` heads, learned positions, a ReLU MLP,
# width $d =$ {glue:text}`width` — on $n =$ {glue:text}`n_bits` input bits. For each $k$, each
# training-set size $m$ in a grid of factors $4$ and each seed, one model is trained with Adam on
# its own *fixed* training set of $m$ sequences for the same {glue:text}`steps` steps, and scored
# on {glue:text}`m_test` held-out inputs that are in no training set. The score is the **chain
# accuracy**, the fraction of test sequences on which every teacher-forced prediction is right;
# without CoT it is the accuracy of the answer, and with CoT it is a lower bound on the
# free-generation answer accuracy ({ref}`Exercise <ex-ch08-generation>`). The *samples needed* at
# $k$ is the smallest $m$ of the grid at which the median over seeds reaches
# {glue:text}`threshold`.
#
# Data and compute must not be confounded: a failure at large $m$ could be a shortage of steps.
# Two checks address this below. Every run gets the same large number of steps whatever its $m$,
# and we recompute the samples needed from the evaluations at *half* the budget: where the two
# agree, doubling the compute did not change the answer. We also report, for every run, the
# training loss at the end: a run that fits its training set (loss near $0$) and still fails on
# the test inputs has memorised; its gradient is then near zero, so more steps move it little.
# The comparison, fixed before the runs: at the largest $k$ the median run with CoT reaches the
# threshold at some $m$ of the grid, with at most a quarter of the samples needed without CoT
# (never reaching it within the grid counts as infinitely many).
#
# Each $(m, \text{seed})$ pair of one $(k, \text{CoT})$ setting is a member of an ensemble trained
# as one batched model (`ensemble.stack`, `train.fit`), every member with its own training set.
# The same ensemble records, every {glue:text}`eval_every` steps, the normalised attention entropy
# used in {ref}`sec-ch08-sparse-attention` below.


# %%
def make_model(task, seed):
    """The experiment's model: one layer, HEADS heads, ReLU MLP, learned positions."""
    return models.Transformer(
        2,
        d_model=D,
        n_layers=1,
        n_heads=HEADS,
        mlp=True,
        activation="relu",
        positional="learned",
        max_len=task.length,
        seed=seed,
    )


def normalized_entropy(rows):
    """H(a) / log(#visible keys) for causal attention rows (..., T) at their queries."""
    visible = (rows > 0).sum(-1).clamp(min=2)
    return -(rows * rows.clamp_min(1e-12).log()).sum(-1) / visible.log()


def split_inputs(task):
    """All 2^n sequences, split once (the same way for every k and both arms) into
    held-out test sequences and a training pool."""
    x, y = task.all_sequences()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(cfg.seed + 1))
    return (x[perm[:M_TEST]], y[perm[:M_TEST]]), (x[perm[M_TEST:]], y[perm[M_TEST:]])


# %% [markdown]
# The function below trains one $(k, \text{CoT})$ setting: all sizes and seeds at once. During
# training it evaluates the chain accuracy on the test inputs and the attention entropy of the
# predicting rows (the chain rows with CoT, the answer row without), taking for each member the
# head with the lower entropy.


# %%
def sweep(task, desc):
    """Train one member per (m, seed) on its own fixed training set."""
    (test_x, test_y), (pool_x, pool_y) = split_inputs(task)
    runs = [(m, s) for m in M_SIZES for s in SEEDS]
    E = len(runs)
    data = []
    for m, s in runs:
        pick = torch.randperm(
            len(pool_x), generator=torch.Generator().manual_seed(97 * s + m)
        )
        data.append((pool_x[pick[:m]], pool_y[pick[:m]]))
    net = ensemble.stack(
        [make_model(task, 1000 * task.k + 10 * i + task.cot) for i in range(E)]
    )
    rows = list(range(task.n - 1, task.length - 1))  # the predicting positions

    def batches(step, gen):
        idx = [torch.randint(0, len(x), (BATCH,), generator=gen) for x, _ in data]
        return (
            torch.stack([x[i] for (x, _), i in zip(data, idx)]),
            torch.stack([y[i] for (_, y), i in zip(data, idx)]),
        )

    def evaluate(model):
        # logits (E, B, T, 2), maps [(E, B, H, T, T)]
        logits, maps = model(test_x, return_attention=True)
        right = (logits.argmax(-1) == test_y) | (test_y == tasks.IGNORE_INDEX)
        # (E, B, H, rows)
        ent = torch.stack(
            [normalized_entropy(maps[0][..., t, : t + 1]) for t in rows], -1
        )
        return {
            "acc": right.all(-1).float().mean(-1),
            "entropy": ent.mean((1, 3)).min(-1).values,
        }

    hist = train.fit(
        net,
        batches,
        steps=STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        evaluate=evaluate,
        eval_every=STEPS // EVALS,
        data_seed=cfg.seed,
        desc=desc,
    )
    # the training loss at the end, on each member's whole training set (tiled)
    xs = torch.stack([x.repeat(M_SIZES[-1] // len(x), 1) for x, _ in data])
    ys = torch.stack([y.repeat(M_SIZES[-1] // len(y), 1) for _, y in data])
    with torch.no_grad():
        ce = torch.nn.functional.cross_entropy(
            net(xs).flatten(0, 2), ys.flatten(), reduction="none"
        ).view(E, -1)
    scored = (ys.view(E, -1) != tasks.IGNORE_INDEX).float()
    train_loss = ((ce * scored).sum(-1) / scored.sum(-1)).numpy()
    return dict(net=net, hist=hist, test_x=test_x, runs=runs, train_loss=train_loss)


results = {}
for k in KS:
    base = tasks.ParityCoT.random(N, k, seed=cfg.seed)
    for cot in (True, False):
        arm = "with" if cot else "without"
        results[k, cot] = sweep(base.with_cot(cot), f"k={k}, {arm} CoT")
        results[k, cot]["task"] = base.with_cot(cot)
notebook.glue("n_bits", N)
notebook.glue("width", D)
notebook.glue("heads", HEADS)
notebook.glue("steps", STEPS)
notebook.glue("m_test", M_TEST)
notebook.glue("threshold", THRESHOLD)
notebook.glue("eval_every", STEPS // EVALS)

# %% [markdown]
# The table of results: the median test accuracy over seeds for every $k$, $m$ and arm, the
# samples needed at the end of training and at half the budget, and the training loss.


# %%
def accuracy_grid(res, row=-1):
    """Test chain accuracy (len(M_SIZES), len(SEEDS)) at evaluation `row`."""
    return np.asarray(res["hist"]["acc"])[row].reshape(len(M_SIZES), len(SEEDS))


def samples_needed(acc):
    """Smallest m whose median accuracy over seeds is >= THRESHOLD (inf: none)."""
    med = np.median(acc, 1)
    return next((m for m, a in zip(M_SIZES, med) if a >= THRESHOLD), math.inf)


steps_done = results[K, True]["hist"].step_array
half = min(int(np.searchsorted(steps_done, STEPS // 2)), len(steps_done) - 1)
need = {key: samples_needed(accuracy_grid(res)) for key, res in results.items()}
need_half = {
    key: samples_needed(accuracy_grid(res, half)) for key, res in results.items()
}
for (k, cot), res in results.items():
    acc, loss = accuracy_grid(res), res["train_loss"].reshape(len(M_SIZES), len(SEEDS))
    print(
        f"k={k} {'with   ' if cot else 'without'} CoT: median acc per m "
        f"{np.round(np.median(acc, 1), 2)}, needed {need[k, cot]} (at half the steps "
        f"{need_half[k, cot]}); median train loss per m "
        f"{np.round(np.median(loss, 1), 3)}"
    )
stable = [key for key in need if need[key] == need_half[key]]
fitted = {
    cot: np.mean(np.concatenate([results[k, cot]["train_loss"] for k in KS]) < 0.05)
    for cot in (True, False)
}

# %%
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
ceiling = 4 * M_SIZES[-1]  # where "not reached within the grid" is drawn
for cot, color, marker in [
    (True, plotting.COLORS[0], "o"),
    (False, plotting.COLORS[1], "s"),
]:
    y = [need[k, cot] if need[k, cot] < math.inf else ceiling for k in KS]
    ax.plot(
        KS, y, marker + "-", color=color, label=("with" if cot else "without") + " CoT"
    )
    for k, yy in zip(KS, y):
        if yy == ceiling:
            ax.annotate(
                "not reached",
                (k, yy),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
                color=color,
            )
    for i, k in enumerate(KS):
        ax2.plot(
            M_SIZES,
            np.median(accuracy_grid(results[k, cot]), 1),
            marker + ("-" if cot else "--"),
            color=color,
            alpha=0.35 + 0.65 * (i + 1) / len(KS),
            label=f"k={k}, {'with' if cot else 'without'} CoT",
        )
ax.axhline(M_SIZES[-1], color="gray", ls=":", lw=1, label="largest m of the grid")
ax.set_yscale("log")
ax.set_xticks(KS)
ax.set(
    xlabel="parity degree k",
    ylabel=f"samples needed (median acc >= {THRESHOLD})",
    title=f"Samples needed against k (n={N}, {STEPS} steps):\n"
    "the chain keeps them small; without it they run off the grid",
)
ax.legend(loc="upper left", fontsize=8)
ax2.axhline(THRESHOLD, color="gray", ls=":", lw=1)
ax2.set_xscale("log")
ax2.set_xticks(M_SIZES, [str(m) for m in M_SIZES])
ax2.minorticks_off()
ax2.set(
    xlabel="training-set size m (sequences)",
    ylabel="test chain accuracy (median over seeds)",
    ylim=(0, 1.02),
    title="Accuracy against m (solid: with CoT, dashed: without)",
)
ax2.legend(fontsize=7, loc="lower right")
plt.tight_layout()
reproduce.save_headline(fig)
plt.show()
fmt = lambda v: "not reached" if v == math.inf else f"m = {v}"
notebook.glue("need_cot_K", fmt(need[K, True]))
notebook.glue("need_plain_K", fmt(need[K, False]))
notebook.glue("k_max", K)
notebook.glue("ks", ", ".join(map(str, KS)))
notebook.glue("need_cot_all", ", ".join(fmt(need[k, True]) for k in KS))
notebook.glue("need_plain_all", ", ".join(fmt(need[k, False]) for k in KS))
notebook.glue("m_max", M_SIZES[-1])
notebook.glue("n_stable", f"{len(stable)} of {len(need)}")
unstable = [
    f"k = {k} {'with' if c else 'without'} CoT" for k, c in need if (k, c) not in stable
]
notebook.glue("unstable", ", ".join(unstable) if unstable else "none")
notebook.glue("fitted_cot", float(fitted[True]))
notebook.glue("fitted_plain", float(fitted[False]))

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("08_chain_of_thought")

# %% [markdown]
# For $k =$ {glue:text}`ks` in turn, the samples needed with CoT are {glue:text}`need_cot_all`,
# and without CoT {glue:text}`need_plain_all` (the grid stops at $m =$ {glue:text}`m_max`). At
# the largest degree, $k =$ {glue:text}`k_max`, the median run with CoT is solved from
# {glue:text}`need_cot_K`, and without CoT: {glue:text}`need_plain_K`. The samples needed at
# half the budget equal those
# at the end for {glue:text}`n_stable` $(k, \text{arm})$ settings (those that differ, where more
# steps still changed the answer: {glue:text}`unstable`), and a fraction
# {glue:text}`fitted_plain:.2f` of the runs without CoT end with training loss below $0.05$
# ({glue:text}`fitted_cot:.2f` with CoT); the table above gives the median training loss per $m$.
# Many runs without CoT do not even fit their training set: at the largest $k$ and $m$ their
# median training loss in the table is close to $\log 2 \approx 0.69$, the loss of a coin flip,
# and the entropy of their answer row, measured below, is low: their attention has fallen onto a
# few keys that do not determine the answer.
#
# Three caveats bound what this shows. The grid is coarse (factors of $4$) and stops at
# $m =$ {glue:text}`m_max`, so "not reached" is a lower bound, not a measurement; with so few
# points we fit no growth rate, and the paper's shape — exponential in $k$ without CoT, polynomial
# with it — is not tested, only the gap between the two curves. The budget check is one doubling
# of the steps, not a proof that more steps would not help: a run stuck at the loss of chance may
# still escape later, as in Chapter 1's plateau-and-jump experiment. Nor need an arm's accuracy
# rise with $m$ at a fixed step budget: with more examples each is seen fewer times, so a curve in
# the right panel can dip at the largest $m$ (the full-mode record's no-CoT curve at $k = 2$ is
# one); "samples needed" takes the smallest $m$ that reaches the threshold and so is not moved by
# such a dip. And information-theoretically about
# $\log_2 \binom nk$ samples identify the support by exhaustive search; the $n^{\Omega(k)}$ of
# {prf:ref}`thm-ch08-no-cot-hard` bounds queries and tolerance, i.e. computation and samples together
# for learners that use averages, not the sample size of every learner.
#
# ### Entropy against accuracy during training
#
# The paper's Figure 1(b) follows the normalised attention entropy during training and finds it
# dropping when the accuracy jumps. For every run with CoT that ends solved (final chain accuracy at
# least {glue:text}`threshold`) we locate, on the evaluation grid, the step at which the accuracy
# rises most between two evaluations and the step at which the entropy falls most, and compare them.
# Fixed in advance: the two must lie within two evaluation intervals of each other in the median run,
# and closer, on average, than the accuracy jump of one run and the entropy drop of *another* run
# (otherwise a common timing, e.g. everything happening early, would pass the first test by itself).


# %%
def jump_steps(res, e):
    """Steps of the largest accuracy rise and the largest entropy fall of member e."""
    steps = np.asarray(res["hist"].step_array)
    acc = np.asarray(res["hist"]["acc"])[:, e]
    ent = np.asarray(res["hist"]["entropy"])[:, e]
    if len(steps) < 2:  # a capped smoke run
        return steps[-1], steps[-1]
    return steps[1:][np.argmax(np.diff(acc))], steps[1:][np.argmax(-np.diff(ent))]


window = 2 * (STEPS // EVALS)
jumps = {}
for cot in (True, False):
    jumps[cot] = [
        (k, e, *jump_steps(results[k, cot], e))
        for k in KS
        for e in range(len(results[k, cot]["runs"]))
        if accuracy_grid(results[k, cot]).ravel()[e] >= THRESHOLD
    ]
t_acc = np.array([j[2] for j in jumps[True]], dtype=float)
t_ent = np.array([j[3] for j in jumps[True]], dtype=float)
gap = np.abs(t_acc - t_ent)
cross = np.abs(t_acc[:, None] - t_ent[None, :])
gap_other = (
    cross[~np.eye(len(t_acc), dtype=bool)].mean() if len(t_acc) > 1 else math.nan
)
print(
    f"with CoT, {len(gap)} solved runs: accuracy jump at steps "
    f"{t_acc.astype(int).tolist()}\n"
    f"  entropy drop at steps {t_ent.astype(int).tolist()}\n"
    f"  |gap| median {np.median(gap) if len(gap) else math.nan:.0f}, mean "
    f"{gap.mean() if len(gap) else math.nan:.1f} steps; mean gap to other runs' drops "
    f"{gap_other:.1f}; window {window} steps"
)
plain_gaps = [int(abs(a - b)) for _, _, a, b in jumps[False]]
print(f"without CoT, {len(plain_gaps)} solved runs: |gap| {plain_gaps}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, cot in zip(axes, (True, False)):
    # the solved runs at the largest k reached (up to three)
    shown_runs = jumps[cot][-3:]
    for i, (k, e, ta, te) in enumerate(shown_runs):
        h = results[k, cot]["hist"]
        color = plotting.COLORS[i % len(plotting.COLORS)]
        m, s = results[k, cot]["runs"][e]
        ax.plot(
            h.step_array,
            np.asarray(h["acc"])[:, e],
            color=color,
            lw=1.5,
            label=f"k={k}, m={m}, seed {s}: accuracy",
        )
        ax.plot(
            h.step_array,
            np.asarray(h["entropy"])[:, e],
            color=color,
            lw=1.5,
            ls="--",
            label="  normalised entropy",
        )
        ax.axvline(ta, color=color, lw=0.8, ls=":")
    ax.set(
        xlabel="training step",
        ylabel="test chain accuracy (solid), entropy (dashed)",
        ylim=(0, 1.02),
        title=f"{'With' if cot else 'Without'} CoT: solved runs"
        + ("" if shown_runs else " (none)")
        + "\n(dotted: the accuracy jump)",
    )
    if shown_runs:
        ax.legend(fontsize=7, loc="center right")
plt.tight_layout()
plt.show()
notebook.glue("n_jumps", len(gap))
notebook.glue("gap_median", float(np.median(gap)) if len(gap) else math.nan)
notebook.glue("gap_mean", float(gap.mean()) if len(gap) else math.nan)
notebook.glue("gap_other", float(gap_other))
notebook.glue("window", window)
notebook.glue("n_plain_jumps", len(plain_gaps))

# %% [markdown]
# Over the {glue:text}`n_jumps` solved runs with CoT, the entropy's steepest fall and the accuracy's
# steepest rise are a median {glue:text}`gap_median:.0f` steps apart (mean
# {glue:text}`gap_mean:.0f`), against a mean of {glue:text}`gap_other:.0f` steps between one run's
# jump and another run's fall; the window fixed in advance is {glue:text}`window` steps. The test
# is coarse: evaluations are {glue:text}`eval_every` steps apart and most runs with CoT jump early,
# so a small gap alone would prove little; the comparison with other runs carries the evidence,
# and the two means above say how much of it there is. Without
# CoT, {glue:text}`n_plain_jumps` runs end solved (only at small $k$, if at all), too few to test
# the paper's statement that the coincidence holds there too. The runs that fail show that a
# falling entropy alone is not learning: at $k =$ {glue:text}`k_max` and $m =$ {glue:text}`m_main`
# the answer row ends with a median normalised entropy of {glue:text}`ent_plain:.2f` (next
# section), below the $\log k / \log n$ of attention spread evenly over the $k$ secret bits, at
# chance accuracy.
#
# (sec-ch08-sparse-attention)=
# ### The trained attention is sparse
#
# Where do the trained heads look? We take the models with CoT at the largest $k$ and
# $m =$ {glue:text}`m_main`. For each chain step we average the attention maps over test inputs
# and measure two things: the mass that the *best* of the heads puts on the secret bit
# $s_{j+1}$, and the normalised entropy of that head's row, $H(A_{t,\cdot}) / \log(t+1)$, which is $1$ for
# uniform attention over the $t + 1$ visible positions and $0$ for a single key (the measure used in
# {cite}`wen2024sparse`). Without CoT we measure the same entropy for the row that predicts the
# answer. Here the models are scored by **free generation**: they write $z_1, \dots, z_k$
# greedily from the input bits alone and we score the last token.


# %%
@torch.no_grad()
def attention_stats(model, task, tokens):
    """Per chain step j: the best head's mean mass on s_(j+1), on the two tokens z_(j+1)
    depends on ({s_(j+1), current position}), and that head's normalised entropy."""
    _, maps = model(tokens, return_attention=True)
    A = maps[0]  # (B, H, T, T)
    mass, dep, ent = [], [], []
    for j in range(task.k):
        t = task.n - 1 + j
        m_h = A[:, :, t, task.support[j]].mean(0)  # (H,)
        h = int(m_h.argmax())
        mass.append(float(m_h[h]))
        dep.append(float(A[:, h, t, sorted({task.support[j], t})].sum(-1).mean()))
        ent.append(float(normalized_entropy(A[:, h, t, : t + 1]).mean()))
    return np.array(mass), np.array(dep), np.array(ent), A.mean(0)


res_cot, res_plain = results[K, True], results[K, False]
task_cot, net_cot, test_cot = res_cot["task"], res_cot["net"], res_cot["test_x"]
RUNS = res_cot["runs"]
main = [e for e, (m, s) in enumerate(RUNS) if m == M_MAIN]
acc_cot = {e: answer_accuracy(net_cot.member(e), task_cot, test_cot) for e in main}
acc_plain = {
    e: answer_accuracy(
        res_plain["net"].member(e), res_plain["task"], res_plain["test_x"]
    )
    for e in main
}
solved = [e for e in main if acc_cot[e] >= 0.95]  # the runs that learned the chain
# (none in a capped smoke run: then the best run stands in, so that the cells still run)
shown = solved or [max(main, key=lambda e: acc_cot[e])]
stats = [attention_stats(net_cot.member(e), task_cot, test_cot) for e in shown]
mass_main = np.array([s[0].mean() for s in stats])
dep_main = np.array([s[1].mean() for s in stats])
ent_cot = np.array([s[2].mean() for s in stats])
with torch.no_grad():
    ent_plain = np.array(
        [
            float(
                normalized_entropy(
                    res_plain["net"].member(e)(
                        res_plain["test_x"], return_attention=True
                    )[1][0][:, :, N - 1, :N]
                ).mean()
            )
            for e in main
        ]
    )
print(
    f"free-generation answer accuracy at k = {K}, m = {M_MAIN}: with CoT "
    f"{np.round(list(acc_cot.values()), 3)}, "
    f"without {np.round(list(acc_plain.values()), 3)}"
)
print(
    f"{len(solved)} of {len(main)} runs with CoT reach answer accuracy 0.95; "
    "their attention:"
)
for i, e in enumerate(shown):
    print(
        f"seed {RUNS[e][1]}: mass on s_(j+1) per step {np.round(stats[i][0], 2)}, "
        f"on s_(j+1) and the current token {np.round(stats[i][1], 2)}, "
        f"normalised entropy {ent_cot[i]:.2f}"
    )
print(
    "without CoT, normalised entropy of the answer row, per seed: "
    f"{np.round(ent_plain, 2)}"
)
best = int(np.argmax(mass_main))
fig, axes = plt.subplots(1, HEADS, figsize=(9.5, 4.6))
for h, ax in enumerate(axes):
    plot_attention(
        ax,
        stats[best][3][h].detach().numpy(),
        task_cot,
        f"trained head {h} (seed {RUNS[shown[best]][1]})",
    )
fig.suptitle(
    "Trained attention with CoT, averaged over test inputs: "
    "the chain rows light up the secret bits",
    fontsize=10,
)
plt.tight_layout()
plt.show()
acc_cot_main = float(np.median(list(acc_cot.values())))
notebook.glue("m_main", M_MAIN)
notebook.glue("acc_cot_main", acc_cot_main)
notebook.glue("acc_plain_main", float(np.max(list(acc_plain.values()))))
notebook.glue("mass_main", float(np.median(mass_main)))
notebook.glue("n_solved", f"{len(solved)} of {len(main)}")
notebook.glue("uniform_mass", 1 / N)
notebook.glue("ent_cot", float(np.median(ent_cot)))
notebook.glue("ent_plain", float(np.median(ent_plain)))

# %% [markdown]
# With CoT at $k =$ {glue:text}`k_max` and $m =$ {glue:text}`m_main`, the median free-generation
# answer accuracy over seeds is {glue:text}`acc_cot_main:.3f`; without CoT the best seed reaches
# {glue:text}`acc_plain_main:.3f`. We look at the runs with CoT that learned the chain
# ({glue:text}`n_solved`; a run that does not is stuck on a plateau with some steps at chance).
# Averaged over the chain steps, the best head puts a median mass of {glue:text}`mass_main:.2f` on
# the secret bit — uniform attention would put about $1/(t+1) \le$ {glue:text}`uniform_mass:.2f`
# there — and its normalised entropy is {glue:text}`ent_cot:.2f`, against
# {glue:text}`ent_plain:.2f` for the answer row of the models trained without CoT (their attention
# is not uniform either: it has fallen onto a few keys that do not determine the answer). The
# boxes in the heatmaps mark the secret bits: the bright cells of the chain rows sit on them. The
# trained model is less tidy than the construction: the heads can share the work, and at some
# steps part of the mass sits on other tokens (the per-step numbers are printed above). Counting
# the current token as a "right" position as well (it is the other half of each step,
# {prf:ref}`prop-ch08-sparse-dependence`) changes little, since the current token is already in
# the residual stream. The trained attention is not the near one-hot attention of the
# construction or of {prf:ref}`thm-ch08-one-step`. One reason we expect, without having measured
# it here: once the chain is learned the loss is near zero, and so is the pull on the attention;
# sharper attention may need other choices (weight decay, one head, larger models), which we have
# not run.
#
# ## Checks

# %%
# Figure 1(a), comparison fixed in advance: at the largest k, CoT is solved within the grid with
# at most 1/4 of the samples that no-CoT needs (no-CoT never solved in the grid counts as inf).
reproduce.report(
    "wen2024sparse",
    claim="With a chain of thought a one-layer transformer needs few samples to learn "
    "a k-sparse parity as k grows; without it the samples needed grow beyond the grid",
    paper_value="Figure 1(a): samples needed grow exponentially in k without CoT, "
    "polynomially with CoT",
    value=f"k = {K}: CoT {need[K, True]}, no-CoT {need[K, False]} "
    f"(all k: CoT {[need[k, True] for k in KS]}, "
    f"no-CoT {[need[k, False] for k in KS]})",
    assertion=f"n = {N}, k = {K}, m in {M_SIZES}, {len(SEEDS)} seeds, {STEPS} steps: "
    f"the median CoT run reaches test chain accuracy {THRESHOLD} at some m, and "
    "4 x that m <= the no-CoT samples needed (inf if never reached)",
    passed=bool(need[K, True] < math.inf and 4 * need[K, True] <= need[K, False]),
    status="partly",
    section="sec-ch08-experiment",
)
# Figure 1(b), window fixed in advance: the entropy's steepest fall within two evaluation
# intervals of the accuracy's steepest rise in the median solved CoT run, and closer on average
# than to other runs' falls; at least three solved runs.
reproduce.report(
    "wen2024sparse",
    claim="During training with CoT the attention entropy drops when the accuracy "
    "jumps",
    paper_value="Figure 1(b): normalised attention entropy falls as accuracy jumps",
    value=f"median gap {np.median(gap) if len(gap) else math.nan:.0f} steps over "
    f"{len(gap)} runs (mean {gap.mean() if len(gap) else math.nan:.1f}; "
    f"other runs {gap_other:.1f})",
    assertion="median |step of steepest entropy fall - step of steepest accuracy rise| "
    f"<= {window} steps (2 evaluations) over >= 3 solved CoT runs, and the mean gap < "
    "the mean gap to other runs' entropy falls",
    passed=bool(len(gap) >= 3 and np.median(gap) <= window and gap.mean() < gap_other),
    status="partly",
    section="sec-ch08-experiment",
)
# Sparse attention: at least half the best head's mass on the secret bit (uniform: at most
# 1/N), and a low normalised entropy (1 = uniform), medians over the runs that learned the chain.
reproduce.report(
    "wen2024sparse",
    claim="A transformer trained with CoT on sparse parity learns sparse, "
    "interpretable attention that reads the secret bit needed at each step",
    paper_value="attention concentrates on the secret bits",
    value=f"mass {np.median(mass_main):.2f}, entropy {np.median(ent_cot):.2f}",
    assertion="median over the solved runs: mass of the best head on the secret bit "
    ">= 0.5 and normalised attention entropy <= 0.4",
    passed=bool(
        len(solved) >= 2 and np.median(mass_main) >= 0.5 and np.median(ent_cot) <= 0.4
    ),
    status="partly",
    section="sec-ch08-sparse-attention",
)
# The construction is exact.
assert all(checks) and on_secret >= 1 - 1e-3
print("all checks passed")

# %% [markdown]
# ## Explore
#
# In a live notebook the figure is drawn with the default setting as soon as the cell runs;
# move the sliders and press **Re-run with these settings** to redraw it.
#
# Change $n$, $k$, the training-set size and the number of steps. The sliders retrain one model with
# and one without CoT (in a static build of the book, this shows the default setting).


# %%
def explore_cot(n=12, k=4, m=300, steps=300):
    """Train the experiment's architecture with and without CoT on m sequences; plot."""
    k = min(k, n)
    task = tasks.ParityCoT.random(n, k, seed=cfg.seed)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for cot, color in [(True, plotting.COLORS[0]), (False, plotting.COLORS[1])]:
        t = task.with_cot(cot)
        x, y = t.sample(m, generator=cfg.generator(1))
        tx, ty = t.sample(500, generator=cfg.generator(2))
        net = make_model(t, 0)

        def batches(step, g, x=x, y=y):
            i = torch.randint(0, m, (BATCH,), generator=g, device=g.device)
            return x[i], y[i]

        h = train.fit(
            net,
            batches,
            steps=steps,
            loss="cross_entropy",
            optimizer="adam",
            lr=LR,
            eval_every=max(steps // 10, 1),
            evaluate=lambda mod: {
                "acc": ((mod(tx).argmax(-1) == ty) | (ty == tasks.IGNORE_INDEX))
                .all(-1)
                .float()
                .mean()
            },
            desc=f"cot={cot}",
        )
        ax.plot(
            h.step_array,
            h["acc"],
            color=color,
            label=("with" if cot else "without") + " CoT",
        )
    ax.set(
        xlabel="steps",
        ylabel="test accuracy (all predicted tokens right)",
        ylim=(0, 1.02),
        title=f"n={n}, k={k}, m={m}: does the chain still help?",
    )
    ax.legend()
    plt.show()


notebook.explore(
    explore_cot,
    n=(12, (4, 24, 1)),
    k=(4, (1, 8, 1)),
    m=(300, (50, 5000, 50)),
    steps=(300, (100, 3000, 100)),
)


# %% [markdown]
# ## Exercises
#
# :::{exercise} Teacher forcing versus free generation
# :label: ex-ch08-generation
#
# Let $\varepsilon_j$ be the probability (over a uniform input) that a model's teacher-forced prediction
# of $z_{j+1}$ is wrong, $j = 0, \dots, k-1$. Show that greedy generation writes the whole true chain
# with probability at least $1 - \sum_j \varepsilon_j$, and that its answer is right at least that often.
# Why is chain accuracy (all $k$ teacher-forced predictions right) a lower bound on free-generation
# answer accuracy, and can the answer be right although the chain is wrong?
# *Difficulty: ★☆☆, about 10 min.*
# :::
#
# :::{solution} ex-ch08-generation
# :class: dropdown
#
# Greedy generation and teacher forcing see the same context as long as every generated token so far
# is right: by induction on $j$, if the teacher-forced predictions of $z_1, \dots, z_{j}$ are right,
# generation writes $z_1, \dots, z_j$ and its next context equals the teacher-forced one. So the event
# "all $k$ teacher-forced predictions right" (chain accuracy) implies "generation writes the true
# chain", hence the right answer, and by a union bound it has probability at least
# $1 - \sum_j \varepsilon_j$. The converse fails: a wrong $z_j$ followed by a second error can flip the
# answer back (two wrong XORs cancel), so free-generation answer accuracy can exceed chain accuracy —
# it is the quantity we report, and chain accuracy, which costs one forward pass, the one we track.
# :::
#
# :::{exercise} Without a chain, the representation is still easy
# :label: ex-ch08-no-cot-construction
#
# Write `answer_transformer(task)` that returns a one-layer `Transformer` (no LayerNorm) whose prediction
# from position $n - 1$ is the answer $z_k$ of the task *without* CoT (`task.cot` is `False`), for every
# input. Hint: one head can attend uniformly to the $k$ secret bits, so that the attended value is
# $\tfrac1k \sum_{i \in S} x_i$; then reuse the ReLU network of {prf:ref}`prop-ch01-parity-network` as the
# MLP. Test it with `check_answer_transformer(answer_transformer, n, support)` (defined below), which
# compares its predictions with the parity on all $2^n$ inputs and says what is wrong.
# *Difficulty: ★★☆, about 25 min.*
# :::


# %%
def check_answer_transformer(fn, n, support):
    """Compare fn(task)'s prediction at position n-1 with the parity on all inputs."""
    task = tasks.ParityCoT(n, tuple(support), cot=False)
    model = fn(task)
    tokens, _ = task.all_sequences()
    with torch.no_grad():
        logits, maps = model(tokens, return_attention=True)
    pred = logits[:, n - 1].argmax(-1)
    wrong = pred != task.answers(tokens)
    # per head: mass on S at the answer row
    mass = maps[0][:, :, n - 1, list(support)].sum(-1).mean(0)
    if not wrong.any():
        print(
            f"correct on all {len(tokens)} inputs; attention mass on S per head: "
            f"{np.round(mass.numpy(), 3)}"
        )
        return True
    ones = tokens[:, list(support)].sum(1)
    print(
        f"wrong on {int(wrong.sum())} of {len(tokens)} inputs; errors when the number "
        f"of 1-bits in S is {sorted(set(ones[wrong].tolist()))}; attention mass on S "
        f"per head: {np.round(mass.numpy(), 3)}"
    )
    if mass.max() < 0.9:
        print(
            "no head attends (almost) only to S: check the query and key weights "
            "and beta"
        )
    return False


# %% [markdown]
# :::{solution-start} ex-ch08-no-cot-construction
# :class: dropdown
# :::
#
# Keep the residual layout of {prf:ref}`thm-ch08-construction`. The query of position $n - 1$ is
# $\beta\sqrt T \sum_{i \in S} e_i$, so each secret bit gets score $\beta$ and the others $0$, and the head
# returns $\tilde a \approx \tfrac1k \sum_{i \in S} x_i$. The MLP has $k$ units
# $\mathrm{ReLU}(k \tilde a - s_j)$ with $s_j = -k + 2j$, and the output weights and bias of
# {prf:ref}`prop-ch01-parity-network`.


# %%
def answer_transformer(task, beta=20.0):
    """A one-layer, one-head transformer computing the parity answer without a chain."""
    n, k, T = task.n, task.k, task.length
    d, SIGN, ATT, OUT = T + 3, 0, T + 1, T + 2
    net = models.Transformer(
        2,
        d_model=d,
        n_layers=1,
        n_heads=1,
        d_head=T,
        d_mlp=k,
        max_len=T,
        layer_norm=False,
        activation="relu",
    )
    attn, mlp = net.blocks[0].attn, net.blocks[0].mlp
    j = torch.arange(k, dtype=torch.float32)
    v = (-1.0) ** (k - j)  # parity at s_j = -k + 2j
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.embed.weight[:, SIGN] = torch.tensor([1.0, -1.0])
        net.pos.weight[:, 1 : T + 1] = torch.eye(T)
        attn.k.weight[:, 1 : T + 1] = torch.eye(T)
        attn.q.weight[list(task.support), 1 + n - 1] = beta * math.sqrt(T)
        attn.v.weight[0, SIGN] = 1.0
        attn.o.weight[ATT, 0] = 1.0
        mlp.fc.weight[:, ATT] = k  # unit j reads s(x) = k * attended value
        mlp.fc.bias.copy_(k - 2 * j)  # ... minus s_j
        mlp.proj.weight[OUT] = torch.cat([-v[:1], -2 * v[1:]])
        mlp.proj.bias[OUT] = v[0]
        net.unembed.weight[:, OUT] = torch.tensor([1.0, -1.0])
    return net


assert check_answer_transformer(answer_transformer, 12, (0, 5, 8, 9))
assert check_answer_transformer(answer_transformer, 10, (2, 3, 5, 7, 9))
# known wrong: beta = 0 attends uniformly to all n bits instead of the k secret ones
assert not check_answer_transformer(
    lambda t: answer_transformer(t, beta=0.0), 12, (0, 5, 8, 9)
)

# %% [markdown]
# So a one-layer transformer of about the experiment's size (without its LayerNorm) can represent
# the answer without the chain; what the trained models fail to do is *find* the set $S$ from the
# training sets of the experiment's grid.
# Note the attention here spreads over $k$ keys, while with the chain it is one key per step.
#
# :::{solution-end}
# :::
#
# :::{exercise} Why the chain step needs a multiplication
# :label: ex-ch08-degree2
#
# Fix a chain step $j \ge 1$ and consider predictors of the sign $(-1)^{z_{j+1}}$ of the form
# $\phi = g(z_j) + c_0 + \sum_{u=1}^n c_u x_u$, with $g$ an arbitrary function of the current token and
# real numbers $c_u$: a function of the current token *plus* an affine function of the input signs.
# Show that $\mathbb E\big[(-1)^{z_{j+1}} \phi\big] = 0$. Deduce that an attention-only transformer without
# LayerNorm, whose attention pattern depends on positions only and whose read-out is linear, is
# uncorrelated with the target of step $j$, whatever positions it attends to. What does this imply
# for training such a model with the cross-entropy, and what does it *not* imply about its
# accuracy? What does the MLP in the experiment contribute? *Difficulty: ★★☆, about 15 min.*
# :::
#
# :::{solution} ex-ch08-degree2
# :class: dropdown
#
# Write $(-1)^{z_{j+1}} = (-1)^{z_j} x_{s_{j+1}}$. First,
# $\mathbb E[(-1)^{z_j} x_{s_{j+1}} g(z_j)] = \mathbb E[(-1)^{z_j} g(z_j)]\,\mathbb E[x_{s_{j+1}}] = 0$, because
# $z_j$ involves only $s_1, \dots, s_j$, so $x_{s_{j+1}}$ is independent of it and has mean $0$. Second,
# $(-1)^{z_j} x_{s_{j+1}} = \chi_{\{s_1, \dots, s_{j+1}\}}(x)$ is a character of degree $j + 1 \ge 2$, and the
# affine part has Fourier weight only on degrees $0$ and $1$, so by orthogonality
# ({prf:ref}`lem-ch01-parseval`) their correlation is $0$.
#
# In the model described, the token embeddings enter linearly: for a fixed, position-only attention
# pattern the output at the chain position is the current token's embedding (a function of $z_j$) plus
# a fixed weighted average of the other tokens' embeddings, read out linearly. Input tokens contribute
# an affine function of their signs, and earlier chain tokens $z_i$, $i < j$, contribute characters of
# degree $i < j + 1$ other than $\{s_1, \dots, s_{j+1}\}$, also orthogonal to the target. So the
# correlation is $0$ whatever the attention does.
#
# *What follows, and what does not.* For a fixed attention pattern the logit is
# $\phi = w^\top f$, linear in the read-out weights $w$, with features $f$ (a constant, the current
# sign, the attended averages) each uncorrelated with the target $y = (-1)^{z_{j+1}}$. The population
# cross-entropy $\mathbb E[\log(1 + e^{-y \phi})]$ is convex in $w$ with gradient
# $-\tfrac12 \mathbb E[y f] = 0$ at $w = 0$, so $w = 0$ (probability $\tfrac12$ everywhere) is a
# global minimiser, for every attention pattern; the same holds for the square loss, which is
# $1 + \mathbb E[\phi^2] \ge 1$. So training such a model has nothing to move towards, and at
# $w = 0$ the attention receives no gradient either: there is no first-order signal. Zero
# correlation does **not** mean that every such predictor is at chance in *accuracy*: with
# attention on $s_{j+1}$, the logit $\phi = (-1)^{z_j} + x_{s_{j+1}} - 1$ (an AND-like rule) has
# $\mathbb E[y \phi] = 0$ but the right sign on $3/4$ of the inputs; it is simply not a minimiser
# of either loss, and no threshold of the two signs is right on all four cases (XOR is not a
# threshold function, Chapter 7). The MLP supplies the missing product of the current token with
# the attended bit — the unit $|a + b| - 1 = ab$ of {prf:ref}`thm-ch08-construction` — and the
# attention only has to *select* the right bit. This is also why learning the chain can have a
# plateau: the attention gets a signal only once the MLP multiplies.
# :::
#
# ## Discussion and further reading
#
# - **Where does the sample complexity go?** {prf:ref}`prop-ch08-cot-easy` and the idealised
#   {prf:ref}`thm-ch08-one-step` need $O(\log(kT))$ sequences, the transformers of the experiment
#   the training-set sizes of the sweep, and the paper's theorem $\mathrm{poly}(n)$. Which of the differences are artefacts of the proofs, and which are the price of
#   training all positions and heads jointly by gradient descent?
# - **Teacher forcing.** Our models are trained with the true chain in the context. What changes if
#   the chain is only given as a target and the model must condition on its own (possibly wrong)
#   tokens during training? Kim and Suzuki {cite}`kim2024transformers` analyse this case for parity.
# - **Which chains help?** The running parity is one chain among many: writing out the secret bits
#   themselves, $b_{s_1}, \dots, b_{s_k}$, and then the answer makes every step depend on one token only,
#   except the last, which depends on $k$. Predict how well that chain works, then try it with
#   `ParityCoT`-style sequences of your own. What property of a chain makes it "sparse" in the sense of
#   {prf:ref}`prop-ch08-sparse-dependence`?
# - **Linear next-token predictors.** Malach {cite}`malach2023autoregressive` shows that even linear
#   autoregressive models become universal learners when trained on such chains (Chapter 7). How do
#   the length of the chain and the model's simplicity trade off?
# - **Sparse attention in practice.** The paper relates the drop of attention entropy to the jump in
#   accuracy and finds sparser attention in language models fine-tuned on chain-of-thought data. Is
#   sparse attention a cause of the gain or a symptom of a sparse task?
#
# Further reading: {cite}`wen2024sparse` for the full theory and the experiments on larger models;
# {cite}`kim2024transformers` for one-layer transformers learning parity with and without teacher
# forcing; {cite}`malach2023autoregressive` for chains of thought and autoregressive learnability;
# Chapter 1 and {cite}`barak2022hidden` for parity learning without intermediate supervision.
