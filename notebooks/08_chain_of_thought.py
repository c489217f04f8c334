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
# tokens, so a single attention head that reads one input bit per step suffices, and a one-layer
# transformer learns the task from a few hundred examples where, without the chain, it stays at chance;
# its trained attention is sparse and points at the secret bits.
#
# **Paper.** Wen, Zhang, Lin and Zhang, *From sparse dependence to sparse attention: unveiling how
# chain-of-thought enhances transformer sample efficiency* {cite}`wen2024sparse`. Related analyses of
# parity with intermediate supervision are Kim and Suzuki {cite}`kim2024transformers` and {cite}`malach2023autoregressive`.
#
# **Prerequisites.** Chapter 1 (sparse parities, Fourier–Walsh analysis, the statistical-query
# lower bound). We use the book's [notation](../book/notation.md): $n$ input bits, sparsity $k$,
# width $d$, sequence length $T$, sample size $m$.
#
# **Time.** Quick mode (the default, also with a GPU) runs the notebook in about a minute on one CPU
# core; all figures below are from quick mode. Full mode (`SCALE = "full"` in the first code cell)
# takes about 2 minutes on one CPU core: longer inputs and chains, more training, larger
# training sets and one more seed; its headline figure is shown beside the quick one.
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
# input bits n and sparsity k (the length of the chain)
N = cfg.pick(quick=12, full=16)
K = cfg.pick(quick=4, full=5)
# model width d, Adam learning rate, sequences per step and per ensemble member (both modes)
D = 16
LR = 5e-3
BATCH = 32
# training steps (every run, with and without CoT)
STEPS = cfg.pick(quick=600, full=1500)
# training-set sizes m and seeds per size (one ensemble member each)
M_SIZES = cfg.pick(quick=[100, 300, 1000], full=[100, 300, 1000, 3000])
SEEDS = cfg.pick(quick=[0, 1, 2, 3, 4], full=[0, 1, 2, 3, 4, 5])
# the training-set size of the main comparison and the attention analysis; fresh test sequences
M_MAIN = 1000
M_TEST = cfg.pick(quick=1000, full=2000)

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
    """The hand-set one-layer, one-head transformer of the theorem for a CoT parity task."""
    n, T = task.n, task.length
    d, SIGN, ATT, OUT, FIRST = (
        T + 3,
        0,
        T + 1,
        T + 2,
        1 + (n - 1),
    )  # residual coordinates
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
    """Greedy generation of the k chain tokens (or the single answer without CoT) after the n input bits."""
    seq = prompts[:, : task.n]
    for _ in range(task.length - task.n):
        seq = torch.cat([seq, model(seq)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return seq


def answer_accuracy(model, task, tokens):
    """Fraction of sequences whose greedily generated answer equals the parity (free generation)."""
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
    rows = maps[0][
        :, 0, task.n - 1 : task.length - 1
    ]  # (B, k, T): attention of the k predictions
    on_secret = rows[:, torch.arange(k), list(task.support)].min().item()
    checks.append(chain_ok)
    print(
        f"n={n:2d}, k={k}, S={task.support}: {'all' if exhaustive else 'random'} {len(tokens)} inputs, "
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
    """Heatmap of an attention map A (T, T), rows = query positions, with the secret bits outlined."""
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
# ## Experiment: the same transformer, with and without the chain
#
# We train the same architecture — one layer, two heads, learned positions, a ReLU MLP, width
# $d = 16$ in both modes — with Adam on a *fixed* training set of $m$ sequences, with and without CoT,
# for the same number of steps. Test accuracy is measured on fresh inputs. With CoT we report the
# **free-generation answer accuracy**: the model generates $z_1, \dots, z_k$ greedily from the input bits
# alone and we score the last token. During training we track the cheaper **chain accuracy**, the
# fraction of test sequences on which all $k$ teacher-forced predictions are right; when they are, greedy
# generation reproduces the true chain, so chain accuracy is a lower bound on free-generation answer
# accuracy. Without CoT both reduce to the accuracy of the single predicted token.
#
# Each $(m, \text{seed})$ pair is one member of an ensemble trained as one batched model, every member
# with its own training set.

# %%
HEADS = 2
task_cot = tasks.ParityCoT.random(N, K, seed=cfg.seed)
task_plain = task_cot.with_cot(False)
RUNS = [(m, s) for m in M_SIZES for s in SEEDS]


def make_model(task, seed):
    """The architecture of the experiment (one layer, two heads, ReLU MLP, learned positions)."""
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


def train_runs(task, desc):
    """Train one member per (m, seed) in RUNS on its own fixed training set; return the ensemble and history."""
    net = ensemble.stack(
        [
            make_model(task, 1000 * cfg.seed + 10 * i + s)
            for i, (m, s) in enumerate(RUNS)
        ],
        per_member_inputs=True,
    )
    data = [
        task.sample(m, generator=cfg.generator(1000 * cfg.seed + 7 * s + m))
        for m, s in RUNS
    ]
    test_x, test_y = task.sample(M_TEST, generator=cfg.generator(10**6 + cfg.seed))
    E = len(RUNS)

    def batches(step, gen):
        idx = [
            torch.randint(0, len(x), (BATCH,), generator=gen, device=gen.device)
            for x, _ in data
        ]
        return (
            torch.stack([x[i] for (x, _), i in zip(data, idx)]),
            torch.stack([y[i] for (_, y), i in zip(data, idx)]),
        )

    def chain_accuracy(model):
        pred = model(test_x.expand(E, -1, -1)).argmax(-1)
        return {
            "chain_acc": ((pred == test_y) | (test_y == tasks.IGNORE_INDEX))
            .all(-1)
            .float()
            .mean(-1)
        }

    hist = train.fit(
        net,
        batches,
        steps=STEPS,
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        evaluate=chain_accuracy,
        eval_every=STEPS // 20,
        data_seed=cfg.seed,
        desc=desc,
    )
    return net, hist, test_x


net_cot, hist_cot, test_cot = train_runs(task_cot, "with CoT")
net_plain, hist_plain, test_plain = train_runs(task_plain, "without CoT")
acc_cot = np.array(
    [answer_accuracy(net_cot.member(e), task_cot, test_cot) for e in range(len(RUNS))]
)
acc_plain = np.array(
    [
        answer_accuracy(net_plain.member(e), task_plain, test_plain)
        for e in range(len(RUNS))
    ]
)
print(
    f"n = {N}, k = {K}, support {task_cot.support}; answer accuracy after {STEPS} steps (rows m, columns seeds):"
)
for i, m in enumerate(M_SIZES):
    sl = slice(i * len(SEEDS), (i + 1) * len(SEEDS))
    print(
        f"  m = {m:5d}: with CoT {np.round(acc_cot[sl], 3)}, without {np.round(acc_plain[sl], 3)}"
    )

# %% [markdown]
# First the training curves at $m =$ {glue:text}`m_main` training sequences: chain accuracy with CoT
# against accuracy without, one thin line per seed.

# %%
main = [e for e, (m, s) in enumerate(RUNS) if m == M_MAIN]
fig, ax = plt.subplots(figsize=(7, 3.8))
for hist, color, label in [
    (hist_cot, plotting.COLORS[0], "with CoT (chain accuracy)"),
    (hist_plain, plotting.COLORS[1], "without CoT (answer accuracy)"),
]:
    ax.plot(hist.step_array, hist["chain_acc"][:, main], color=color, lw=1)
    ax.plot([], [], color=color, label=label)
ax.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
ax.set(
    xlabel="steps",
    ylabel="test accuracy",
    ylim=(0, 1.02),
    title=f"Same model, same budget (n={N}, k={K}, m={M_MAIN}):\nthe chain is learned, the bare parity is not",
)
ax.legend(loc="center right")
plt.show()
acc_cot_main, acc_plain_main = (
    float(np.median(acc_cot[main])),
    float(np.max(acc_plain[main])),
)
notebook.glue("m_main", M_MAIN)
notebook.glue("acc_cot_main", acc_cot_main)
notebook.glue("acc_plain_main", acc_plain_main)

# %% [markdown]
# With the chain, the median free-generation answer accuracy over seeds is
# {glue:text}`acc_cot_main:.3f`; without it the best seed reaches {glue:text}`acc_plain_main:.3f`,
# chance level: nothing generalises. (Whether those runs memorise their training sets instead we do
# not show; the cell plots test accuracy only.) The sample-complexity comparison over training-set
# sizes:

# %%
A_cot = acc_cot.reshape(len(M_SIZES), len(SEEDS))
A_plain = acc_plain.reshape(len(M_SIZES), len(SEEDS))
# the smallest training set at which the median run with CoT is solved (None: at no size)
m_solved = next((m for m, a in zip(M_SIZES, A_cot) if np.median(a) >= 0.95), None)
fig, ax = plt.subplots(figsize=(7, 3.8))
for A, color, label in [
    (A_cot, plotting.COLORS[0], "with CoT"),
    (A_plain, plotting.COLORS[1], "without CoT"),
]:
    ax.plot(
        M_SIZES,
        np.median(A, 1),
        "o-",
        color=color,
        label=f"{label} (median over seeds)",
    )
    ax.scatter(np.repeat(M_SIZES, len(SEEDS)), A.ravel(), color=color, s=12, alpha=0.5)
ax.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
ax.set_xscale("log")
ax.set(
    xlabel="training-set size m (sequences)",
    ylabel="test answer accuracy (free generation)",
    ylim=(0, 1.02),
    title=f"Sample complexity (n={N}, k={K}, {STEPS} steps): with CoT the median\n"
    f"run is solved from m = {m_solved}; without CoT every run stays near chance",
)
ax.legend(loc="center right")
reproduce.save_headline(fig)
plt.show()
notebook.glue("m_smallest", M_SIZES[0])
notebook.glue("acc_cot_smallest", float(np.median(A_cot[0])))

# %% [markdown]
# The same experiment in full mode, as recorded by `make reproduce`:

# %%
reproduce.show_record("08_chain_of_thought")

# %% [markdown]
# Even at $m =$ {glue:text}`m_smallest` the median CoT run reaches {glue:text}`acc_cot_smallest:.2f`,
# while without CoT no size in the sweep leaves chance. The paper's figure goes further: it measures the
# smallest $m$ that reaches high accuracy as $k$ grows and finds it exponential in $k$ without CoT and
# close to linear with it {cite}`wen2024sparse`. At our scale we show only the two ends of that
# picture, at one $(n, k)$, and the sweep does not locate where the no-CoT curve would rise: every
# run has the same number of steps whatever $m$, so a failure at the largest $m$ may be a shortage
# of compute rather than of samples. (Information-theoretically about $\log_2 \binom nk$ samples
# identify the support, by exhaustive search over supports; the $n^{\Omega(k)}$ of
# {prf:ref}`thm-ch08-no-cot-hard` is a bound on queries and tolerance, i.e. on computation and
# sample size together for learners that use averages, not on the sample size of every learner.)
#
# (sec-ch08-sparse-attention)=
# ### The trained attention is sparse
#
# Where do the trained heads look? For each chain step we average the attention maps over test inputs
# and measure two things: the mass that the *best* of the two heads puts on the secret bit
# $s_{j+1}$, and the normalised entropy of that head's row, $H(A_{t,\cdot}) / \log(t+1)$, which is $1$ for
# uniform attention over the $t + 1$ visible positions and $0$ for a single key (the measure used in
# {cite}`wen2024sparse`). Without CoT we measure the same entropy for the row that predicts the answer.


# %%
def normalized_entropy(rows):
    """H(a) / log(#visible keys) for attention rows (..., T) of a causal map at their query positions."""
    visible = (rows > 0).sum(-1).clamp(min=2)
    return -(rows * rows.clamp_min(1e-12).log()).sum(-1) / visible.log()


@torch.no_grad()
def attention_stats(model, task, tokens):
    """Per chain step j: the best head's mean mass on s_(j+1), on the two tokens z_(j+1) depends on
    ({s_(j+1), current position}), and that head's mean normalised entropy."""
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


solved = [e for e in main if acc_cot[e] >= 0.95]  # the runs that learned the chain
# (none in a capped smoke run: then the best run stands in, so that the cells still run)
shown = solved or [max(main, key=lambda e: acc_cot[e])]
stats = [attention_stats(net_cot.member(e), task_cot, test_cot[:500]) for e in shown]
mass_main = np.array([s[0].mean() for s in stats])
dep_main = np.array([s[1].mean() for s in stats])
ent_cot = np.array([s[2].mean() for s in stats])
with torch.no_grad():
    ent_plain = np.array(
        [
            float(
                normalized_entropy(
                    net_plain.member(e)(test_plain[:500], return_attention=True)[1][0][
                        :, :, N - 1, :N
                    ]
                ).mean()
            )
            for e in main
        ]
    )
print(
    f"{len(solved)} of {len(main)} runs with CoT at m = {M_MAIN} reach answer accuracy 0.95; their attention:"
)
for i, e in enumerate(shown):
    print(
        f"seed {RUNS[e][1]}: mass on s_(j+1) per step {np.round(stats[i][0], 2)}, "
        f"on s_(j+1) and the current token {np.round(stats[i][1], 2)}, normalised entropy {ent_cot[i]:.2f}"
    )
print(
    f"without CoT, normalised entropy of the answer row (mean over heads), per seed: {np.round(ent_plain, 2)}"
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
    "Trained attention with CoT, averaged over test inputs: the chain rows light up the secret bits",
    fontsize=10,
)
plt.tight_layout()
plt.show()
notebook.glue("mass_main", float(np.median(mass_main)))
notebook.glue("n_solved", f"{len(solved)} of {len(main)}")
notebook.glue("uniform_mass", 1 / N)
notebook.glue("ent_cot", float(np.median(ent_cot)))
notebook.glue("ent_plain", float(np.median(ent_plain)))

# %% [markdown]
# We look at the runs with CoT that learned the chain ({glue:text}`n_solved` at
# $m =$ {glue:text}`m_main`; a run that does not is stuck on a plateau with some steps at chance).
# Averaged over the chain steps, the best head puts a median mass of {glue:text}`mass_main:.2f` on the
# secret bit — uniform attention would put about $1/(t+1) \le$ {glue:text}`uniform_mass:.2f` there — and
# its normalised entropy is {glue:text}`ent_cot:.2f`, against {glue:text}`ent_plain:.2f` for the answer
# row of the models trained without CoT (which memorise their training set through a few keys, so
# their attention is not uniform either). The boxes in the heatmaps mark the secret bits: the bright
# cells of the chain rows sit on them. The trained model is less tidy than the construction. The two
# heads share the work (one step read mostly by one head, the next by the other), and at some steps
# a good part of the mass sits on other tokens; counting the current token as a "right" position as
# well (it is the other half of each step, {prf:ref}`prop-ch08-sparse-dependence`) changes little,
# since the current token is already in the residual stream. The trained attention is not the near
# one-hot attention of the construction or of {prf:ref}`thm-ch08-one-step`. One reason we expect,
# without having measured it here: once the chain is learned the loss is near zero, and so is the
# pull on the attention; sharper attention may need other choices (weight decay, one head, larger
# models), which we have not run. The paper's Figure 1(b), the entropy dropping at the moment the
# accuracy jumps, is not reproduced in this chapter.
#
# ## Checks

# %%
# With the chain: near-perfect answers from free generation (median over seeds at m = M_MAIN);
# without it: chance level for every training-set size and seed.
reproduce.report(
    "wen2024sparse",
    claim="With a chain of thought a one-layer transformer learns a k-sparse parity from few "
    "samples; without it, the same model and budget stay at chance",
    paper_value="Figure 1: samples needed grow exponentially in k without CoT, mildly with CoT",
    value=f"CoT median {acc_cot_main:.3f}, no-CoT max {acc_plain.max():.3f}",
    assertion=f"n = {N}, k = {K}: median answer accuracy over {len(SEEDS)} seeds at m = {M_MAIN} "
    ">= 0.95 with CoT; every run without CoT (all m, all seeds) <= 0.65",
    passed=bool(acc_cot_main >= 0.95 and len(solved) >= 2 and acc_plain.max() <= 0.65),
    status="partly",
    section="sec-ch08-experiment",
)
# Sparse attention: at least half the best head's mass on the secret bit (uniform: at most 1/N),
# and a low normalised entropy (1 = uniform), medians over the runs that learned the chain.
assert 0.5 >= 6 / N
reproduce.report(
    "wen2024sparse",
    claim="A transformer trained with CoT on sparse parity learns sparse, interpretable attention "
    "that reads the secret bit needed at each step",
    paper_value="attention concentrates on the secret bits; entropy falls as accuracy rises",
    value=f"mass {np.median(mass_main):.2f}, entropy {np.median(ent_cot):.2f}",
    assertion="median over the solved runs: mass of the best head on the secret bit >= 0.5 and "
    "normalised attention entropy <= 0.4",
    passed=bool(np.median(mass_main) >= 0.5 and np.median(ent_cot) <= 0.4),
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
    """Train the experiment's architecture with and without CoT on m sequences; plot test accuracy."""
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
    """Compare fn(task)'s prediction at position n-1 with the parity on all 2^n inputs; explain errors."""
    task = tasks.ParityCoT(n, tuple(support), cot=False)
    model = fn(task)
    tokens, _ = task.all_sequences()
    with torch.no_grad():
        logits, maps = model(tokens, return_attention=True)
    pred = logits[:, n - 1].argmax(-1)
    wrong = pred != task.answers(tokens)
    mass = (
        maps[0][:, :, n - 1, list(support)].sum(-1).mean(0)
    )  # per head: mass on S at the answer row
    if not wrong.any():
        print(
            f"correct on all {len(tokens)} inputs; attention mass on S per head: {np.round(mass.numpy(), 3)}"
        )
        return True
    ones = tokens[:, list(support)].sum(1)
    print(
        f"wrong on {int(wrong.sum())} of {len(tokens)} inputs; errors when the number of 1-bits in S is "
        f"{sorted(set(ones[wrong].tolist()))}; attention mass on S per head: {np.round(mass.numpy(), 3)}"
    )
    if mass.max() < 0.9:
        print(
            "no head attends (almost) only to S: check the query and key weights and beta"
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
    """A one-layer, one-head transformer computing the parity answer without a chain of thought."""
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

# %% [markdown]
# So the transformer of the experiment could represent the answer without the chain (its MLP is
# wide enough for this network); what it cannot do is *find* the set $S$ from a few hundred examples.
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
