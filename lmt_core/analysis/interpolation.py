"""Interpolating learners for noisy labels (Chapter 17).

* :func:`nearest_neighbour` — the 1-nearest-neighbour rule, the simplest interpolating learner;
  with noisy labels it is a *conditional sampler* (its prediction at x is a noisy copy of the
  clean label).
* :func:`sampler_error` — the limit 2p(1-p) of the 1-NN error on noisy test labels.
* :func:`min_norm_interpolant` — the minimum-(weighted)-norm solution of an under-determined
  linear system, the limit of gradient descent from zero on least squares.
"""

from __future__ import annotations

import torch

from lmt_core._checks import check_int
from lmt_core.tasks.noisy_labels import _check_rate

__all__ = ["nearest_neighbour", "sampler_error", "min_norm_interpolant"]


def nearest_neighbour(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_query: torch.Tensor,
    *,
    chunk: int | None = None,
) -> torch.Tensor:
    """The 1-nearest-neighbour rule: for each query the label of its closest training point.

    Args:
        x_train: ``(m, n)`` training inputs; y_train: ``(m, ...)`` their labels (any dtype).
        x_query: ``(q, n)`` query points.
        chunk: queries processed at a time (memory ``chunk * m`` floats); default: about
            2^25 / m.

    Returns:
        ``y_train[nn(x)]`` for every query, shape ``(q, ...)`` (Euclidean distance; ties go to
        the lowest index).
    """
    if x_train.dim() != 2 or x_query.dim() != 2 or x_train.shape[1] != x_query.shape[1]:
        raise ValueError(
            "need x_train (m, n) and x_query (q, n), got "
            f"{tuple(x_train.shape)} and {tuple(x_query.shape)}"
        )
    if y_train.shape[0] != x_train.shape[0] or x_train.shape[0] == 0:
        raise ValueError("y_train must have one label per training point (and m >= 1)")
    if chunk is None:
        chunk = max(1, 2**25 // x_train.shape[0])
    else:
        chunk = check_int("chunk", chunk, minimum=1)
    sq = x_train.pow(2).sum(1)
    idx = []
    for s in range(0, x_query.shape[0], chunk):
        q = x_query[s : s + chunk]
        d2 = sq[None, :] - 2 * q @ x_train.T  # |q|^2 is constant per row: not needed for argmin
        idx.append(d2.argmin(1))
    idx = torch.cat(idx) if idx else torch.zeros(0, dtype=torch.long, device=x_train.device)
    return y_train[idx]


def sampler_error(p: float) -> float:
    """Disagreement of two independent p-noisy copies of one label: 2p(1-p), the 1-NN limit."""
    p = _check_rate(p)
    return 2 * p * (1 - p)


def min_norm_interpolant(
    X: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
    *,
    rcond: float = 1e-12,
) -> torch.Tensor:
    """The interpolant of ``X w = y`` of least weighted norm ``sum_j w_j^2 / weights_j``.

    With ``weights = None`` (all ones) this is the minimum-Euclidean-norm solution ``pinv(X) y``,
    the limit of gradient descent on ``|Xw - y|^2`` from ``w = 0``. With positive weights it is
    ``D X^T (X D X^T)^+ y`` with ``D = diag(weights)``: gradient descent from zero on the
    reparameterised model ``w = D^{1/2} v``. ``y`` may have several columns (one per output).
    Singular values below ``rcond`` times the largest are dropped (pseudo-inverse).

    Args:
        X: ``(m, N)``; y: ``(m,)`` or ``(m, c)``; weights: ``(N,)`` positive, or None.

    Returns:
        ``(N,)`` or ``(N, c)``, like ``y``.
    """
    if X.dim() != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(f"need X (m, N) and y (m, ...), got {tuple(X.shape)} and {tuple(y.shape)}")
    if weights is None:
        return torch.linalg.pinv(X, rtol=rcond) @ y
    if weights.shape != (X.shape[1],) or bool((weights <= 0).any()):
        raise ValueError("weights must be a positive vector of length N")
    s = weights.sqrt()
    return s.view(-1, *([1] * (y.dim() - 1))) * (torch.linalg.pinv(X * s, rtol=rcond) @ y)
