"""Markov and causal-graph sources: random transition matrices, the sequences they generate, and
the exact predictive laws that a model trained on them is compared with.

**Dirichlet rows.** :func:`dirichlet_rows` is the one sampler of random transition matrices: every
row along the last axis is an independent ``Dirichlet(α·1)`` vector, drawn in torch on the
generator's device (Marsaglia–Tsang gamma draws, normalised in log space).

**Random sequences with causal structure** (Nichani, Damian, Lee 2024; Ren, Wang, Lee 2024). A
latent graph gives every position ``i ≥ 1`` of a sequence of length ``L`` one parent ``p(i) < i``
(position 0 is the root): ``parents[0] = -1``. For every sequence a fresh transition matrix ``π``
(``N × N``, row ``a`` is the law of a child whose parent holds token ``a``) is drawn with
independent ``Dirichlet(α·1)`` rows; the root is uniform and ``x_i ~ π(· | x_{p(i)})``. The
in-context Markov chain is the case ``p(i) = i − 1`` (:func:`markov_parents`).

- :func:`random_tree`, :func:`markov_parents` — latent graphs;
- :class:`CausalGraphTask` — the sequences (:meth:`CausalGraphTask.sequences`, with the matrices
  behind them) and the final-token task ``(x_{<L}, x_L)`` (:meth:`CausalGraphTask.sample`);
- :func:`bayes_predictive` — the Bayes-optimal in-context predictor: with a uniform root and
  independent Dirichlet rows, the posterior predictive of ``x_i`` given ``x_{<i}`` is the
  Dirichlet posterior mean ``(n_{a s} + α) / (n_a + N α)`` of the transition counts out of
  ``a = x_{p(i)}`` seen so far;
- :func:`unigram_predictive` — the in-context unigram baseline ``(c_s + α) / (i + N α)``;
- :func:`predictive_cross_entropy` — the mean log-loss (nats) of predictive distributions.

**Sparse contextual bigrams** (:class:`SparseContextualBigram`): tokens ``x_1 … x_T`` uniform over
``N`` symbols; the last token ``x_T`` picks a sparse distribution ``q_{x_T}`` over positions (at
most ``Q`` of them carry weight; :meth:`SparseContextualBigram.random` spreads it evenly over
``Q``); the next token is drawn by picking a position ``s ~ q_{x_T}`` and applying a fixed
transition matrix ``P`` to the token there: ``p(y | x) = Σ_s q_{x_T}(s) P(y | x_s)``.

**A synthetic language** (:class:`MarkovLanguage`): a random sparse first-order chain over a small
vocabulary, small enough that its stationary law, its entropy rate and a model's excess loss are
exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from lmt_core._checks import check_generator, check_int, check_positive
from lmt_core.tasks.base import device_of

__all__ = [
    "dirichlet_rows",
    "markov_parents",
    "random_tree",
    "CausalGraphTask",
    "bayes_predictive",
    "unigram_predictive",
    "predictive_cross_entropy",
    "SparseContextualBigram",
    "MarkovLanguage",
]


# ---- Dirichlet rows -------------------------------------------------------------------------


def _log_gamma_draws(n: int, alpha: float, generator: torch.Generator) -> torch.Tensor:
    """``log G`` for ``n`` i.i.d. ``G ~ Gamma(alpha, 1)``, float64 on the generator's device.

    Marsaglia–Tsang (2000): for shape ``a ≥ 1`` with ``d = a − 1/3``, ``c = 1/√(9d)``, a draw
    ``z ~ N(0, 1)`` with ``v = (1 + c z)³ > 0`` is accepted when
    ``log u < z²/2 + d − d v + d log v`` (``u`` uniform), and then ``d v ~ Gamma(a)``; over 95% of
    proposals are accepted, so the loop below runs a handful of times. For ``alpha < 1`` the
    boost ``Gamma(α) = Gamma(α + 1) · U^{1/α}`` is applied in log space, so that tiny draws
    (``α = 0.1`` gives many) do not underflow. ``Gamma(1)`` is ``Exp(1) = −log U``, drawn
    directly (one uniform per draw, no rejection).
    """
    dev = device_of(generator)
    if alpha == 1.0:
        u = torch.rand(n, generator=generator, device=dev, dtype=torch.float64)
        return torch.log(-torch.log(u.clamp_min(1e-300)))
    a = alpha + 1.0 if alpha < 1 else alpha
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, dtype=torch.float64, device=dev)
    pending = torch.arange(n, device=dev)
    while pending.numel():
        k = pending.numel()
        z = torch.randn(k, generator=generator, device=dev, dtype=torch.float64)
        u = torch.rand(k, generator=generator, device=dev, dtype=torch.float64)
        v = (1 + c * z) ** 3
        log_v = v.clamp_min(1e-300).log()
        ok = (v > 0) & (u.log() < 0.5 * z * z + d - d * v + d * log_v)
        out[pending[ok]] = math.log(d) + log_v[ok]
        pending = pending[~ok]
    if alpha < 1:
        u = torch.rand(n, generator=generator, device=dev, dtype=torch.float64)
        out = out + u.clamp_min(1e-300).log() / alpha
    return out


def dirichlet_rows(
    shape: Sequence[int],
    alpha: float = 1.0,
    *,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Independent ``Dirichlet(α·1)`` vectors along the last axis of a tensor of shape ``shape``.

    ``dirichlet_rows((m, N, N), α, generator=g)`` gives ``m`` random transition matrices. The
    gamma draws are normalised in log space (a softmax), so every row sums to one even for a
    small ``α``.

    Returns:
        ``dtype`` tensor of shape ``shape`` on ``generator.device``, rows on the simplex.
    """
    shape = tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive sizes, got {shape}")
    check_positive("alpha", alpha)
    check_generator(generator)
    log_g = _log_gamma_draws(math.prod(shape), float(alpha), generator).view(shape)
    return torch.softmax(log_g, -1).to(dtype)


# ---- causal graphs ------------------------------------------------------------------------


def _check_parents(parents: Sequence[int] | torch.Tensor) -> tuple[int, ...]:
    """``parents`` as a tuple of ints, checked: ``parents[0] = -1``, ``0 <= parents[i] < i``."""
    if isinstance(parents, torch.Tensor):
        if parents.dim() != 1:
            raise ValueError(f"parents must have shape (L,), got {tuple(parents.shape)}")
        parents = parents.tolist()
    p = tuple(int(i) for i in parents)
    if len(p) < 2:
        raise ValueError(f"parents must have length L >= 2, got {len(p)}")
    if p[0] != -1:
        raise ValueError("parents[0] must be -1 (position 0 is the root)")
    if not all(0 <= p[i] < i for i in range(1, len(p))):
        raise ValueError("every parents[i] (i >= 1) must satisfy 0 <= parents[i] < i")
    return p


def markov_parents(L: int) -> torch.Tensor:
    """Parents of the in-context Markov chain of length ``L``: ``p(i) = i − 1``.

    Returns:
        int64 tensor of shape ``(L,)`` on the CPU (a graph is structure, not data).
    """
    check_int("L", L, minimum=2)
    return torch.arange(-1, L - 1, device="cpu")


def random_tree(
    L: int, *, generator: torch.Generator, window: int | None = None, last_is_chain: bool = True
) -> torch.Tensor:
    """A random tree on positions ``0 … L−1``: ``p(i)`` uniform on the ``window`` positions
    before ``i`` (all of them when ``window`` is None).

    With ``last_is_chain`` the last position's parent is ``L − 2``, so that the token to predict
    at the end of a sequence always follows the last context token (the query of a two-layer
    model).

    Returns:
        int64 tensor ``parents`` of shape ``(L,)`` on the CPU, ``parents[0] = -1``.
    """
    check_int("L", L, minimum=2)
    dev = device_of(generator)
    if window is not None:
        check_int("window", window, minimum=1)
    parents = [-1]
    for i in range(1, L):
        lo = 0 if window is None else max(0, i - window)
        parents.append(int(torch.randint(lo, i, (1,), generator=generator, device=dev)))
    if last_is_chain:
        parents[-1] = L - 2
    return torch.tensor(parents, dtype=torch.long, device="cpu")


@dataclass(frozen=True)
class CausalGraphTask:
    """Sequences on a latent causal graph with fresh ``Dirichlet(α·1)`` transitions per sequence.

    The task of a model is the final token: ``sample`` returns the context ``x_{<L}`` and the
    token ``x_L`` to predict (as :class:`SparseContextualBigram` does), a classification of the
    context into ``N`` tokens.

    Attributes:
        parents: the graph, ``parents[0] = -1`` and ``0 <= parents[i] < i`` (a tensor or a
            sequence of ints; stored as a tuple). ``L = len(parents)``.
        N: vocabulary size.
        alpha: Dirichlet concentration of the rows of ``π``.
    """

    parents: tuple[int, ...]
    N: int
    alpha: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "parents", _check_parents(self.parents))
        check_int("N", self.N, minimum=2)
        check_positive("alpha", self.alpha)

    @property
    def L(self) -> int:
        """Sequence length (context length ``L − 1`` plus the final token)."""
        return len(self.parents)

    def sequences(
        self, m: int, *, generator: torch.Generator, pi: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` whole sequences and the transition matrices behind them.

        Args:
            m: number of sequences.
            generator: draws the matrices, the root and the transitions.
            pi: optional transition matrices ``(N, N)`` or ``(m, N, N)`` (rows sum to one) to
                use instead of fresh Dirichlet draws.

        Returns:
            ``(tokens, pi)``: tokens ``(m, L)`` (int64) and the matrices ``(m, N, N)``
            (float32), both on ``generator.device``.
        """
        check_int("m", m, minimum=1)
        dev = device_of(generator)
        N = self.N
        if pi is None:
            pi = dirichlet_rows((m, N, N), self.alpha, generator=generator)
        else:
            pi = torch.as_tensor(pi, dtype=torch.float32, device=dev)
            if pi.dim() == 2:
                pi = pi.expand(m, N, N)
            if pi.shape != (m, N, N):
                raise ValueError(
                    f"pi must have shape (N, N) or (m, N, N) = ({m}, {N}, {N}), "
                    f"got {tuple(pi.shape)}"
                )
        L = self.L
        tokens = torch.empty(m, L, dtype=torch.long, device=dev)
        tokens[:, 0] = torch.randint(0, N, (m,), generator=generator, device=dev)
        cum = pi.cumsum(-1)  # (m, N, N)
        u = torch.rand(m, L, generator=generator, device=dev)
        rows = torch.arange(m, device=dev)
        for i in range(1, L):
            c = cum[rows, tokens[:, self.parents[i]]]  # (m, N): child's CDF
            tokens[:, i] = (u[:, i : i + 1] > c).sum(-1).clamp(max=N - 1)
        return tokens, pi

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` contexts ``x_{<L}`` ``(m, L − 1)`` and final tokens ``x_L`` ``(m,)`` (int64),
        on ``generator.device``."""
        tokens, _ = self.sequences(m, generator=generator)
        return tokens[:, :-1], tokens[:, -1]


def bayes_predictive(
    tokens: torch.Tensor, parents: Sequence[int] | torch.Tensor, N: int, alpha: float = 1.0
) -> torch.Tensor:
    """Posterior predictive ``P(x_i = s | x_{<i})`` for every position, shape ``(m, L, N)``.

    Under the prior of :class:`CausalGraphTask` (uniform root, independent ``Dirichlet(α·1)``
    rows) the posterior of row ``a`` of ``π`` given ``x_{<i}`` is ``Dirichlet(α + n_{a·})``,
    where ``n_{a s}`` counts the positions ``j < i`` (``j ≥ 1``) with ``x_{p(j)} = a`` and
    ``x_j = s``; so the predictive is ``(n_{a s} + α) / (n_a + N α)`` with ``a = x_{p(i)}``.
    Position 0 gets the uniform law.

    Args:
        tokens: ``(m, L)`` integer tokens in ``[0, N)``.
        parents: the graph, length ``L``.

    Returns:
        float32 tensor ``(m, L, N)`` on ``tokens.device``.
    """
    par_idx = torch.tensor(_check_parents(parents)[1:], dtype=torch.long, device=tokens.device)
    check_int("N", N, minimum=2)
    check_positive("alpha", alpha)
    m, L = tokens.shape
    if L != par_idx.numel() + 1:
        raise ValueError(f"tokens have length {L} but parents has length {par_idx.numel() + 1}")
    par = tokens[:, par_idx]  # (m, L−1): x_{p(j)}, j ≥ 1
    pair = torch.nn.functional.one_hot(par * N + tokens[:, 1:], N * N).float()  # (m, L−1, N²)
    before = torch.cat([torch.zeros_like(pair[:, :1]), pair.cumsum(1)[:, :-1]], 1)  # over j < i
    counts = before.view(m, L - 1, N, N)
    idx = par.view(m, L - 1, 1, 1).expand(m, L - 1, 1, N)
    rows = counts.gather(2, idx).squeeze(2)  # (m, L−1, N)
    pred = (rows + alpha) / (rows.sum(-1, keepdim=True) + N * alpha)
    first = torch.full((m, 1, N), 1.0 / N, device=tokens.device)
    return torch.cat([first, pred], 1)


def unigram_predictive(tokens: torch.Tensor, N: int, alpha: float = 1.0) -> torch.Tensor:
    """The in-context unigram baseline ``(c_s + α) / (i + N α)``, ``c_s`` the count of ``s`` in
    ``x_{<i}``: float32 tensor ``(m, L, N)`` for tokens ``(m, L)``, on ``tokens.device``."""
    check_int("N", N, minimum=2)
    check_positive("alpha", alpha)
    oh = torch.nn.functional.one_hot(tokens, N).float()
    before = torch.cat([torch.zeros_like(oh[:, :1]), oh.cumsum(1)[:, :-1]], 1)
    return (before + alpha) / (before.sum(-1, keepdim=True) + N * alpha)


def predictive_cross_entropy(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of ``−log probs[..., targets]`` (nats): ``probs`` ``(..., N)``, ``targets`` ``(...)``.

    Returns:
        a scalar tensor.
    """
    if probs.shape[:-1] != targets.shape:
        raise ValueError(
            f"probs {tuple(probs.shape)} and targets {tuple(targets.shape)} do not match"
        )
    p = probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return -p.clamp_min(1e-30).log().mean()


# ---- sparse contextual bigrams -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SparseContextualBigram:
    """A sparse contextual bigram (SCB) task over ``N`` symbols and ``T`` context positions.

    Attributes:
        q: ``(N, T)`` — row ``v`` is the distribution over positions selected by a last token
            ``v``; ``Q`` entries are positive.
        P: ``(N, N)`` — the transition matrix, row ``a`` the law of the next token given ``a``.
    """

    q: torch.Tensor
    P: torch.Tensor

    def __post_init__(self) -> None:
        # keep q where it is (as_tensor without a device would move it to the default device)
        q = self.q if isinstance(self.q, torch.Tensor) else torch.as_tensor(self.q, device="cpu")
        q = q.to(torch.float32)
        P = torch.as_tensor(self.P, dtype=torch.float32, device=q.device)
        if q.dim() != 2 or P.dim() != 2 or P.shape[0] != P.shape[1] or q.shape[0] != P.shape[0]:
            raise ValueError(
                f"need q of shape (N, T) and P of shape (N, N), got {tuple(q.shape)}, "
                f"{tuple(P.shape)}"
            )
        if not (
            torch.allclose(q.sum(1), torch.ones_like(q[:, 0]), atol=1e-5)
            and torch.allclose(P.sum(1), torch.ones_like(P[:, 0]), atol=1e-5)
        ):
            raise ValueError("the rows of q and of P must be probability distributions")
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "P", P)

    @property
    def N(self) -> int:
        """Number of symbols."""
        return self.q.shape[0]

    @property
    def T(self) -> int:
        """Number of context positions."""
        return self.q.shape[1]

    @classmethod
    def random(
        cls, N: int, T: int, Q: int, *, alpha: float = 1.0, seed: int = 0
    ) -> "SparseContextualBigram":
        """Random ``q`` (uniform on ``Q`` random positions for each token) and ``P``
        (``Dirichlet(α)`` rows), drawn on the CPU with ``seed``."""
        check_int("N", N, minimum=2)
        check_int("T", T, minimum=1)
        check_int("Q", Q, minimum=1, maximum=T)
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        q = torch.zeros(N, T, device="cpu")
        for v in range(N):
            q[v, torch.randperm(T, generator=g, device="cpu")[:Q]] = 1.0 / Q
        P = dirichlet_rows((N, N), alpha, generator=g)
        return cls(q, P)

    def conditional(self, x: torch.Tensor) -> torch.Tensor:
        """``p(y | x) = Σ_s q_{x_T}(s) P(· | x_s)``: ``(m, N)`` for contexts ``x`` ``(m, T)``,
        on ``x.device``."""
        if x.dim() != 2 or x.shape[1] != self.T:
            raise ValueError(f"x must have shape (m, {self.T}), got {tuple(x.shape)}")
        q, P = self.q.to(x.device), self.P.to(x.device)
        one_hot = torch.nn.functional.one_hot(x, self.N).float()
        mix = torch.einsum("ms,msn->mn", q[x[:, -1]], one_hot)
        return mix @ P

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Contexts ``x`` ``(m, T)`` (uniform tokens) and next tokens ``y`` ``(m,)``, int64 on
        ``generator.device``."""
        check_int("m", m, minimum=1)
        dev = device_of(generator)
        x = torch.randint(0, self.N, (m, self.T), generator=generator, device=dev)
        y = torch.multinomial(self.conditional(x), 1, generator=generator).squeeze(1)
        return x, y


# ---- a synthetic Markov language -------------------------------------------------------------


@dataclass(frozen=True)
class MarkovLanguage:
    """A first-order Markov chain with a sparse random transition matrix, as a next-token task.

    Each token has ``out_degree`` possible successors with ``Dirichlet(1)`` probabilities, mixed
    with 2% of the uniform law so that the chain is irreducible and aperiodic.

    Attributes:
        vocab_size: number of tokens V.
        out_degree: number of likely successors of each token (1 ≤ out_degree ≤ V).
        length: sequence length T of :meth:`sample`.
        seed: seed of the random chain.
        transition: ``(V, V)`` float64 row-stochastic matrix ``P[i, j] = Pr(next = j | i)``
            (on the CPU; computed).
        stationary: ``(V,)`` stationary law π (π P = π) (computed).
    """

    vocab_size: int
    out_degree: int
    length: int = 32
    seed: int = 0
    transition: torch.Tensor = field(init=False, repr=False, compare=False)
    stationary: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        V = check_int("vocab_size", self.vocab_size, minimum=2)
        k = check_int("out_degree", self.out_degree, minimum=1, maximum=V)
        check_int("length", self.length, minimum=1)
        check_int("seed", self.seed, minimum=0)
        g = torch.Generator(device="cpu").manual_seed(self.seed)
        P = torch.zeros(V, V, dtype=torch.float64, device="cpu")
        for i in range(V):  # row by row: the successors, then their probabilities
            succ = torch.randperm(V, generator=g, device="cpu")[:k]
            P[i, succ] = dirichlet_rows((k,), 1.0, generator=g, dtype=torch.float64)
        # mix in a tiny uniform part so that the chain is irreducible and aperiodic
        P = 0.98 * P + 0.02 / V
        evals, evecs = torch.linalg.eig(P.T)
        pi = evecs[:, int(torch.argmin((evals - 1).abs()))].real
        object.__setattr__(self, "transition", P)
        object.__setattr__(self, "stationary", (pi / pi.sum()).clamp_min(0))

    def entropy_rate(self) -> float:
        """H = Σ_i π_i H(P[i, :]) in nats: the cross-entropy of the Bayes-optimal predictor."""
        P = self.transition
        row_h = -(P * torch.log(P)).sum(1)
        return float((self.stationary * row_h).sum())

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` sequences of ``length + 1`` tokens (the first from π, the rest from the chain),
        split into inputs and next-token targets.

        Returns:
            ``(tokens, targets)``, int64 ``(m, length)`` each on ``generator.device``:
            ``targets[:, t] = tokens[:, t + 1]`` of the drawn sequence (every position scored).
        """
        check_int("m", m, minimum=1)
        dev = device_of(generator)
        V = self.vocab_size
        cum = torch.cumsum(self.transition, 1).float().to(dev)
        cum[:, -1] = 1.0  # no rounding gap at the top
        pi_cum = torch.cumsum(self.stationary, 0).float().to(dev)
        pi_cum[-1] = 1.0
        u = torch.rand(m, self.length + 1, generator=generator, device=dev)
        x = torch.empty(m, self.length + 1, dtype=torch.long, device=dev)
        x[:, 0] = torch.searchsorted(pi_cum, u[:, :1].contiguous()).squeeze(1).clamp_max(V - 1)
        for t in range(1, self.length + 1):
            rows = cum[x[:, t - 1]]
            nxt = torch.searchsorted(rows, u[:, t : t + 1].contiguous()).squeeze(1)
            x[:, t] = nxt.clamp_max(V - 1)
        return x[:, :-1], x[:, 1:]

    def excess_loss(self, logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Mean KL(P[x_t, :] ‖ softmax(logits[:, t])) over all positions: the expected
        cross-entropy of the model minus that of the true chain, given the same contexts
        (exactly ≥ 0).

        Args:
            logits: ``(B, T, V)`` next-token logits of a model that read ``tokens``.
            tokens: ``(B, T)`` the inputs.

        Returns:
            a scalar tensor on ``logits.device``.
        """
        if logits.shape[:-1] != tokens.shape or logits.shape[-1] != self.vocab_size:
            raise ValueError(
                f"logits {tuple(logits.shape)} do not match tokens {tuple(tokens.shape)} "
                f"and vocabulary {self.vocab_size}"
            )
        P = self.transition.to(logits.device, torch.float32)[tokens]  # (B, T, V)
        logq = torch.log_softmax(logits.float(), -1)
        return (P * (torch.log(P) - logq)).sum(-1).mean()
