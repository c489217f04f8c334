"""In-context learning of causal structure (Nichani, Damian, Lee 2024; Ren, Wang, Lee 2024).

**Random sequences with causal structure.** A latent graph gives every position ``i ≥ 1`` of a
sequence of length ``L`` one parent ``p(i) < i`` (position 0 is the root): ``parents`` is a
``LongTensor`` of shape ``(L,)`` with ``parents[0] = -1``. For every sequence a fresh transition
matrix ``π`` (``N × N``, row ``a`` is the law of a child whose parent holds token ``a``) is drawn
with independent ``Dirichlet(α·1)`` rows; the root is uniform and ``x_i ~ π(· | x_{p(i)})``.
The in-context Markov chain is the case ``p(i) = i − 1`` (:func:`markov_parents`).

- :func:`random_tree`, :func:`markov_parents` — latent graphs;
- :func:`dirichlet_transitions`, :func:`sample` — the sequences (and the matrices behind them);
- :func:`bayes_predictive` — the Bayes-optimal in-context predictor: with a uniform root and
  independent Dirichlet rows, the posterior predictive of ``x_i`` given ``x_{<i}`` is the
  Dirichlet posterior mean ``(n_{a s} + α) / (n_a + N α)`` of the transition counts out of
  ``a = x_{p(i)}`` seen so far;
- :func:`unigram_predictive` — the in-context unigram baseline ``(c_s + α) / (i + N α)``;
- :func:`cross_entropy` — the mean log-loss (nats) of predictive distributions on tokens.

**Sparse contextual bigrams** (:class:`SparseContextualBigram`): tokens ``x_1 … x_T`` uniform over
``N`` symbols; the last token ``x_T`` picks a sparse distribution ``q_{x_T}`` over positions (at
most ``Q`` of them carry weight; :meth:`SparseContextualBigram.random` spreads it evenly over ``Q``); the next token is drawn by picking a position ``s ~ q_{x_T}`` and applying
a fixed transition matrix ``P`` to the token there: ``p(y | x) = Σ_s q_{x_T}(s) P(y | x_s)``.
"""

from __future__ import annotations

import numpy as np
import torch

from lmt_core._checks import check_int, check_positive

__all__ = ["markov_parents", "random_tree", "dirichlet_transitions", "sample", "bayes_predictive",
           "unigram_predictive", "cross_entropy", "SparseContextualBigram"]


def _check_parents(parents: torch.Tensor) -> torch.Tensor:
    parents = torch.as_tensor(parents, dtype=torch.long)
    if parents.dim() != 1 or parents.numel() < 2:
        raise ValueError(f"parents must have shape (L,) with L >= 2, got {tuple(parents.shape)}")
    if int(parents[0]) != -1:
        raise ValueError("parents[0] must be -1 (position 0 is the root)")
    idx = torch.arange(1, parents.numel())
    if not bool(((parents[1:] >= 0) & (parents[1:] < idx)).all()):
        raise ValueError("every parents[i] (i >= 1) must satisfy 0 <= parents[i] < i")
    return parents


def markov_parents(L: int) -> torch.Tensor:
    """Parents of the in-context Markov chain of length ``L``: ``p(i) = i − 1``; shape ``(L,)``."""
    check_int("L", L, minimum=2)
    return torch.arange(-1, L - 1)


def random_tree(L: int, *, generator: torch.Generator | None = None, window: int | None = None,
                last_is_chain: bool = True) -> torch.Tensor:
    """A random tree on positions ``0 … L−1``: ``p(i)`` uniform on the ``window`` positions before
    ``i`` (all of them when ``window`` is None).

    With ``last_is_chain`` the last position's parent is ``L − 2``, so that the token to predict at
    the end of a sequence always follows the last context token (the query of a two-layer model).
    """
    check_int("L", L, minimum=2)
    if window is not None:
        check_int("window", window, minimum=1)
    parents = [-1]
    for i in range(1, L):
        lo = 0 if window is None else max(0, i - window)
        dev = generator.device if generator is not None else torch.device("cpu")
        parents.append(int(torch.randint(lo, i, (1,), generator=generator, device=dev)))
    if last_is_chain:
        parents[-1] = L - 2
    return torch.tensor(parents)


def _gamma(shape: tuple[int, ...], alpha: float, generator: torch.Generator | None) -> torch.Tensor:
    dev = generator.device if generator is not None else torch.device("cpu")
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=dev))
    return torch.from_numpy(np.random.default_rng(seed).gamma(alpha, size=shape)).float()


def dirichlet_transitions(m: int, N: int, alpha: float = 1.0, *,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """``m`` transition matrices ``(m, N, N)`` with independent ``Dirichlet(α·1)`` rows."""
    check_int("m", m, minimum=1)
    check_int("N", N, minimum=2)
    check_positive("alpha", alpha)
    g = _gamma((m, N, N), float(alpha), generator).clamp_min(1e-30)
    pi = g / g.sum(-1, keepdim=True)
    dev = generator.device if generator is not None else torch.device("cpu")
    return pi.to(dev)


def sample(parents: torch.Tensor, m: int, N: int, alpha: float = 1.0, *,
           generator: torch.Generator | None = None, pi: torch.Tensor | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``m`` sequences on the graph ``parents``.

    Args:
        parents: ``(L,)``, ``parents[0] = -1`` and ``0 <= parents[i] < i``.
        m: number of sequences; N: vocabulary size; alpha: Dirichlet concentration.
        pi: optional transition matrices ``(N, N)`` or ``(m, N, N)`` (rows sum to one) to use
            instead of fresh Dirichlet draws.

    Returns:
        ``(tokens, pi)``: tokens ``(m, L)`` (int64) and the transition matrices ``(m, N, N)``.
    """
    parents = _check_parents(parents)
    check_int("m", m, minimum=1)
    check_int("N", N, minimum=2)
    dev = generator.device if generator is not None else torch.device("cpu")
    if pi is None:
        pi = dirichlet_transitions(m, N, alpha, generator=generator)
    else:
        pi = torch.as_tensor(pi, dtype=torch.float32, device=dev)
        if pi.dim() == 2:
            pi = pi.expand(m, N, N)
        if pi.shape != (m, N, N):
            raise ValueError(f"pi must have shape (N, N) or (m, N, N) = ({m}, {N}, {N}), got {tuple(pi.shape)}")
    L = parents.numel()
    tokens = torch.empty(m, L, dtype=torch.long, device=dev)
    tokens[:, 0] = torch.randint(0, N, (m,), generator=generator, device=dev)
    cum = pi.cumsum(-1)                                                   # (m, N, N)
    u = torch.rand(m, L, generator=generator, device=dev)
    rows = torch.arange(m, device=dev)
    for i in range(1, L):
        c = cum[rows, tokens[:, int(parents[i])]]                         # (m, N): CDF of the child
        tokens[:, i] = (u[:, i : i + 1] > c).sum(-1).clamp(max=N - 1)
    return tokens, pi


def bayes_predictive(tokens: torch.Tensor, parents: torch.Tensor, N: int, alpha: float = 1.0) -> torch.Tensor:
    """Posterior predictive ``P(x_i = s | x_{<i})`` for every position, shape ``(m, L, N)``.

    Under the prior of :func:`sample` (uniform root, independent ``Dirichlet(α·1)`` rows) the
    posterior of row ``a`` of ``π`` given ``x_{<i}`` is ``Dirichlet(α + n_{a·})``, where ``n_{a s}``
    counts the positions ``j < i`` (``j ≥ 1``) with ``x_{p(j)} = a`` and ``x_j = s``; so the
    predictive is ``(n_{a s} + α) / (n_a + N α)`` with ``a = x_{p(i)}``. Position 0 gets the uniform
    law.
    """
    parents = _check_parents(parents)
    check_int("N", N, minimum=2)
    check_positive("alpha", alpha)
    m, L = tokens.shape
    if L != parents.numel():
        raise ValueError(f"tokens have length {L} but parents has length {parents.numel()}")
    par = tokens[:, parents[1:].to(tokens.device)]                      # (m, L−1): x_{p(j)}, j ≥ 1
    pair = torch.nn.functional.one_hot(par * N + tokens[:, 1:], N * N).float()   # (m, L−1, N²)
    before = torch.cat([torch.zeros_like(pair[:, :1]), pair.cumsum(1)[:, :-1]], 1)  # counts over j < i
    counts = before.view(m, L - 1, N, N)
    rows = counts.gather(2, par.view(m, L - 1, 1, 1).expand(m, L - 1, 1, N)).squeeze(2)  # (m, L−1, N)
    pred = (rows + alpha) / (rows.sum(-1, keepdim=True) + N * alpha)
    first = torch.full((m, 1, N), 1.0 / N, device=tokens.device)
    return torch.cat([first, pred], 1)


def unigram_predictive(tokens: torch.Tensor, N: int, alpha: float = 1.0) -> torch.Tensor:
    """The in-context unigram baseline ``(c_s + α) / (i + N α)``, ``c_s`` = count of ``s`` in ``x_{<i}``;
    shape ``(m, L, N)``."""
    check_int("N", N, minimum=2)
    check_positive("alpha", alpha)
    oh = torch.nn.functional.one_hot(tokens, N).float()
    before = torch.cat([torch.zeros_like(oh[:, :1]), oh.cumsum(1)[:, :-1]], 1)
    return (before + alpha) / (before.sum(-1, keepdim=True) + N * alpha)


def cross_entropy(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of ``−log probs[..., targets]`` (nats); ``probs`` ``(..., N)``, ``targets`` ``(...)``."""
    p = probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return -p.clamp_min(1e-30).log().mean()


class SparseContextualBigram:
    """A sparse contextual bigram (SCB) task over ``N`` symbols and ``T`` context positions.

    Attributes:
        q: ``(N, T)`` — row ``v`` is the distribution over positions selected by a last token ``v``;
            ``Q`` entries are positive.
        P: ``(N, N)`` — the transition matrix, row ``a`` the law of the next token given ``a``.
    """

    def __init__(self, q: torch.Tensor, P: torch.Tensor) -> None:
        q, P = torch.as_tensor(q, dtype=torch.float32), torch.as_tensor(P, dtype=torch.float32)
        if q.dim() != 2 or P.dim() != 2 or P.shape[0] != P.shape[1] or q.shape[0] != P.shape[0]:
            raise ValueError(f"need q of shape (N, T) and P of shape (N, N), got {tuple(q.shape)}, {tuple(P.shape)}")
        if not (torch.allclose(q.sum(1), torch.ones(q.shape[0]), atol=1e-5)
                and torch.allclose(P.sum(1), torch.ones(P.shape[0]), atol=1e-5)):
            raise ValueError("the rows of q and of P must be probability distributions")
        self.q, self.P = q, P
        self.N, self.T = q.shape

    @classmethod
    def random(cls, N: int, T: int, Q: int, *, alpha: float = 1.0, seed: int = 0) -> "SparseContextualBigram":
        """Random ``q`` (uniform on ``Q`` random positions for each token) and ``P`` (Dirichlet(α) rows)."""
        check_int("N", N, minimum=2)
        check_int("T", T, minimum=1)
        check_int("Q", Q, minimum=1, maximum=T)
        g = torch.Generator().manual_seed(int(seed))
        q = torch.zeros(N, T)
        for v in range(N):
            q[v, torch.randperm(T, generator=g)[:Q]] = 1.0 / Q
        P = dirichlet_transitions(1, N, alpha, generator=g)[0]
        return cls(q, P)

    def conditional(self, x: torch.Tensor) -> torch.Tensor:
        """``p(y | x) = Σ_s q_{x_T}(s) P(· | x_s)``, shape ``(m, N)`` for contexts ``x`` ``(m, T)``."""
        if x.dim() != 2 or x.shape[1] != self.T:
            raise ValueError(f"x must have shape (m, {self.T}), got {tuple(x.shape)}")
        q, P = self.q.to(x.device), self.P.to(x.device)
        mix = torch.einsum("ms,msn->mn", q[x[:, -1]], torch.nn.functional.one_hot(x, self.N).float())
        return mix @ P

    def sample(self, m: int, *, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Contexts ``x`` ``(m, T)`` (uniform tokens) and next tokens ``y`` ``(m,)``."""
        check_int("m", m, minimum=1)
        dev = generator.device if generator is not None else torch.device("cpu")
        x = torch.randint(0, self.N, (m, self.T), generator=generator, device=dev)
        y = torch.multinomial(self.conditional(x), 1, generator=generator).squeeze(1)
        return x, y
