"""Associative memories: store pairs x_i -> y_i in a matrix or an MLP, recall by argmax.

Inputs x ∈ [N] and outputs y ∈ [M] are represented by random embeddings e_x, u_y ∈ R^d, drawn
i.i.d. N(0, I_d / d) (so ‖e‖ ≈ 1 and different embeddings are nearly orthogonal, up to 1/√d).
A memory maps e_x to a vector h(x) ∈ R^d and recalls

    ŷ(x) = argmax_y  u_y^T h(x).

- :func:`outer_product_memory`: the *linear* memory h(x) = W e_x with the sum of outer products
  W = Σ_i u_{y_i} e_{x_i}^T (no training); :func:`outer_product_accuracy` measures its recall for
  N random one-to-one pairs, and :func:`gaussian_model_accuracy` predicts it from a Gaussian model
  of the scores (the argument of the chapter's proposition).
- :class:`LinearMemory` and :class:`MLPMemory`: *trainable* memories on fixed random embeddings,
  h(x) = W e_x (d² parameters) and h(x) = V σ(W e_x) (2·d·m parameters for m hidden units),
  returning the logits ``(B, M)`` for input indices ``(B,)``.
- :func:`capacity_from_curve`: the largest number of pairs at which the recall accuracy is still
  above a threshold, interpolated on a grid.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from lmt_core._checks import check_choice, check_int, check_positive

__all__ = ["gaussian_embeddings", "outer_product_memory", "memory_scores", "recall_accuracy",
           "outer_product_accuracy", "gaussian_model_accuracy", "capacity_from_curve",
           "LinearMemory", "MLPMemory"]


def gaussian_embeddings(n: int, d: int, generator: torch.Generator | None = None, *,
                        sphere: bool = False) -> torch.Tensor:
    """``n`` i.i.d. embeddings in R^d with law N(0, I_d/d), as rows of an ``(n, d)`` tensor;
    with ``sphere=True`` normalised to unit length (uniform on the sphere)."""
    check_int("n", n, minimum=1)
    check_int("d", d, minimum=1)
    dev = generator.device if generator is not None else torch.device("cpu")
    z = torch.randn(n, d, generator=generator, device=dev)
    return z / z.norm(dim=1, keepdim=True) if sphere else z / math.sqrt(d)


def outer_product_memory(inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """W = Σ_i u_i e_i^T for input embeddings ``inputs`` (N, d) and the embeddings of their
    targets ``outputs`` (N, d) (row i of ``outputs`` is u_{y_i}). Returns W of shape (d, d)."""
    if inputs.dim() != 2 or inputs.shape != outputs.shape:
        raise ValueError(f"inputs and outputs must both have shape (N, d), got {tuple(inputs.shape)} "
                         f"and {tuple(outputs.shape)}")
    return outputs.T @ inputs


def memory_scores(W: torch.Tensor, inputs: torch.Tensor, out_embed: torch.Tensor) -> torch.Tensor:
    """Scores u_y^T W e_x for every input (rows of ``inputs``, (N, d)) and every output
    (rows of ``out_embed``, (M, d)): a tensor (N, M)."""
    return (inputs @ W.T) @ out_embed.T


def recall_accuracy(W: torch.Tensor, inputs: torch.Tensor, out_embed: torch.Tensor,
                    targets: torch.Tensor) -> float:
    """Fraction of inputs whose argmax score is their target class (``targets`` (N,) in [M])."""
    pred = memory_scores(W, inputs, out_embed).argmax(1)
    return float((pred == targets.to(pred.device)).float().mean())


def outer_product_accuracy(n_pairs: int, d: int, *, trials: int = 1, queries: int | None = None,
                           sphere: bool = False, generator: torch.Generator | None = None) -> float:
    """Recall accuracy of the outer-product memory for ``n_pairs`` one-to-one pairs x_i -> y_i
    (N inputs, N outputs, all embeddings i.i.d. N(0, I_d/d), or uniform on the unit sphere with
    ``sphere=True``), averaged over ``trials`` draws of the embeddings.

    With ``queries`` set, only that many stored inputs (the first ones; the embeddings are
    exchangeable) are recalled, an unbiased estimate of the accuracy at cost O(queries·N·d)
    instead of O(N²·d).
    """
    check_int("n_pairs", n_pairs, minimum=1)
    check_int("trials", trials, minimum=1)
    q = n_pairs if queries is None else min(check_int("queries", queries, minimum=1), n_pairs)
    acc = 0.0
    for _ in range(trials):
        E = gaussian_embeddings(n_pairs, d, generator, sphere=sphere)
        U = gaussian_embeddings(n_pairs, d, generator, sphere=sphere)   # u_{y_i} = U[i]: y_i = i
        W = outer_product_memory(E, U)
        acc += recall_accuracy(W, E[:q], U, torch.arange(q))
    return acc / trials


def gaussian_model_accuracy(n_pairs: int, d: int, *, sphere: bool = False, points: int = 201) -> float:
    """Predicted recall accuracy of :func:`outer_product_accuracy` from a Gaussian model.

    The correct score is modelled as N(1, σ_c²) and the N − 1 wrong scores as independent
    N(0, σ_w²), with the variances of the terms in the chapter's decomposition:
    σ_w² = 2/d + (N−2)/d² and σ_c² = (N−1)/d², plus 4/d for Gaussian (not unit-norm) embeddings,
    whose squared norms fluctuate. The accuracy is then E_c[Φ(c/σ_w)^{N−1}], computed by
    Gauss–Hermite quadrature with ``points`` nodes.
    """
    check_int("n_pairs", n_pairs, minimum=1)
    check_int("d", d, minimum=1)
    N = n_pairs
    sc = math.sqrt((0 if sphere else 4 / d) + (N - 1) / d**2)
    sw = math.sqrt(2 / d + max(N - 2, 0) / d**2)
    z, w = np.polynomial.hermite_e.hermegauss(points)            # nodes/weights for N(0, 1)
    c = 1 + sc * z
    log_phi = torch.special.log_ndtr(torch.as_tensor(c / sw, dtype=torch.float64)).numpy()
    return float(np.sum(w * np.exp((N - 1) * log_phi)) / np.sqrt(2 * np.pi))


def capacity_from_curve(n_pairs: Sequence[float], accuracy: Sequence[float], threshold: float = 0.9
                        ) -> float:
    """The number of pairs at which ``accuracy`` (measured on the increasing grid ``n_pairs``) first
    falls below ``threshold``, interpolated linearly in log N between the two grid points around
    the crossing.

    Raises:
        ValueError: if the accuracy is already below the threshold at the first grid point or
            never falls below it (widen the grid).
    """
    x = np.log(np.asarray(n_pairs, dtype=float))
    a = np.asarray(accuracy, dtype=float)
    if x.shape != a.shape or x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("n_pairs must be an increasing grid of the same length as accuracy (>= 2)")
    below = np.nonzero(a < threshold)[0]
    if below.size == 0 or below[0] == 0:
        raise ValueError(f"accuracy must start above {threshold} and fall below it on the grid; "
                         f"got {a[0]:.3f} … {a.min():.3f}")
    i = below[0]
    t = (a[i - 1] - threshold) / (a[i - 1] - a[i])
    return float(np.exp(x[i - 1] + t * (x[i] - x[i - 1])))


class LinearMemory(nn.Module):
    """A trainable linear memory on fixed random embeddings: logits_y = u_y^T W e_x.

    Args:
        n_in, n_out: numbers of inputs N and outputs M.
        d: embedding dimension; W ∈ R^{d×d} is the only parameter (d² parameters).
        seed: seed of the embeddings (buffers, not trained); W starts at 0.

    Shapes: ``forward(x)`` maps input indices ``(B,)`` to logits ``(B, M)``.
    """

    def __init__(self, n_in: int, n_out: int, d: int, *, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        self.register_buffer("E", gaussian_embeddings(check_int("n_in", n_in, minimum=1), d, g))
        self.register_buffer("U", gaussian_embeddings(check_int("n_out", n_out, minimum=1), d, g))
        self.W = nn.Parameter(torch.zeros(d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.E[x] @ self.W.T) @ self.U.T


class MLPMemory(nn.Module):
    """A trainable MLP memory on fixed random embeddings: logits_y = u_y^T V σ(W e_x).

    Args:
        n_in, n_out: numbers of inputs N and outputs M.
        d: embedding dimension.
        width: hidden units m; W ∈ R^{m×d} and V ∈ R^{d×m} are the parameters (2·m·d of them).
        activation: ``"relu"`` or ``"gelu"``.
        seed: seed of the embeddings and of the N(0, 1/d) and N(0, 1/m) initialisation of W and V.

    Shapes: ``forward(x)`` maps input indices ``(B,)`` to logits ``(B, M)``.
    """

    def __init__(self, n_in: int, n_out: int, d: int, width: int, *, activation: str = "relu",
                 seed: int = 0) -> None:
        super().__init__()
        check_choice("activation", activation, ("relu", "gelu"))
        check_int("width", width, minimum=1)
        g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        self.register_buffer("E", gaussian_embeddings(check_int("n_in", n_in, minimum=1), d, g))
        self.register_buffer("U", gaussian_embeddings(check_int("n_out", n_out, minimum=1), d, g))
        self.W = nn.Parameter(torch.randn(width, d, generator=g) / math.sqrt(d))
        self.V = nn.Parameter(torch.randn(d, width, generator=g) / math.sqrt(width))
        self.act = nn.ReLU() if activation == "relu" else nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.act(self.E[x] @ self.W.T) @ self.V.T) @ self.U.T
