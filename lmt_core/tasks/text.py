"""A synthetic language: a random sparse Markov chain over a small vocabulary.

Each token has ``out_degree`` possible successors with Dirichlet(1)-random probabilities, mixed with 2% of the uniform
distribution so that the chain is irreducible and aperiodic. The chain is
small enough that everything about it is exact: its stationary distribution, its entropy rate (the
lowest cross-entropy any next-token predictor can reach), and the excess loss of a model measured as
a KL divergence to the true next-token distribution.
"""

from __future__ import annotations

import torch

from lmt_core._checks import check_generator, check_int

__all__ = ["MarkovLanguage"]


class MarkovLanguage:
    """A first-order Markov chain with a sparse random transition matrix.

    Args:
        vocab_size: number of tokens V.
        out_degree: number of possible successors of each token (1 ≤ out_degree ≤ V).
        seed: seed of the random chain.

    Attributes:
        transition: ``(V, V)`` row-stochastic matrix ``P[i, j] = Pr(next = j | current = i)``.
        stationary: ``(V,)`` stationary distribution π (π P = π).
    """

    def __init__(self, vocab_size: int, out_degree: int, *, seed: int = 0) -> None:
        check_int("vocab_size", vocab_size, minimum=2)
        check_int("out_degree", out_degree, minimum=1, maximum=vocab_size)
        check_int("seed", seed, minimum=0)
        g = torch.Generator().manual_seed(seed)
        V = vocab_size
        P = torch.zeros(V, V, dtype=torch.float64)
        for i in range(V):
            succ = torch.randperm(V, generator=g)[:out_degree]
            w = -torch.log(torch.rand(out_degree, generator=g, dtype=torch.float64))  # Exp(1): a Dirichlet(1) row
            P[i, succ] = w / w.sum()
        # mix in a tiny uniform part so that the chain is irreducible and aperiodic
        P = 0.98 * P + 0.02 / V
        self.vocab_size, self.out_degree = V, out_degree
        self.transition = P
        evals, evecs = torch.linalg.eig(P.T)
        k = int(torch.argmin((evals - 1).abs()))
        pi = evecs[:, k].real
        self.stationary = (pi / pi.sum()).clamp_min(0)

    def entropy_rate(self) -> float:
        """H = Σ_i π_i H(P[i, :]) in nats: the cross-entropy of the Bayes-optimal predictor."""
        P = self.transition
        row_h = -(P * torch.log(P)).sum(1)
        return float((self.stationary * row_h).sum())

    def sample(self, batch: int, length: int, generator: torch.Generator, device: str | torch.device = "cpu"
               ) -> torch.Tensor:
        """``(batch, length)`` integer tokens: the first drawn from π, the rest from the chain."""
        check_int("batch", batch, minimum=1)
        check_int("length", length, minimum=1)
        check_generator(generator)
        cum = torch.cumsum(self.transition, 1).float().to(generator.device)
        cum[:, -1] = 1.0
        u = torch.rand(batch, length, generator=generator, device=generator.device)
        x = torch.empty(batch, length, dtype=torch.long, device=generator.device)
        pi_cum = torch.cumsum(self.stationary, 0).float().to(generator.device)
        pi_cum[-1] = 1.0
        x[:, 0] = torch.searchsorted(pi_cum, u[:, :1].contiguous()).squeeze(1).clamp_max(self.vocab_size - 1)
        for t in range(1, length):
            rows = cum[x[:, t - 1]]
            x[:, t] = torch.searchsorted(rows, u[:, t:t + 1].contiguous()).squeeze(1).clamp_max(self.vocab_size - 1)
        return x.to(device)

    def excess_loss(self, logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Mean KL(P[x_t, :] ‖ softmax(logits[:, t])) over all positions: the expected cross-entropy
        of the model minus that of the true chain, given the same contexts (exactly ≥ 0)."""
        if logits.shape[:-1] != tokens.shape or logits.shape[-1] != self.vocab_size:
            raise ValueError(f"logits {tuple(logits.shape)} do not match tokens {tuple(tokens.shape)} "
                             f"and vocabulary {self.vocab_size}")
        P = self.transition.to(logits.device, torch.float32)[tokens]          # (B, T, V)
        logq = torch.log_softmax(logits.float(), -1)
        return (P * (torch.log(P) - logq)).sum(-1).mean()
