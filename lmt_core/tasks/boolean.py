"""Boolean tasks on the hypercube {±1}^n: sparse parities and their variants.

Convention: a point of the hypercube is a float tensor of ±1 entries; the parity (character) of a
set S ⊆ [n] is χ_S(x) = ∏_{i∈S} x_i.

* :func:`random_signs`, :func:`parity`, :func:`hypercube` — points, characters, the whole cube.
* :class:`SparseParity` — the (n, k)-sparse parity, with label noise ρ (``noise``); with ρ > 0 it
  is an instance of learning parity with noise (LPN, Chapter 2, :func:`lpn_task`).
* :func:`local_parity`, :func:`random_local_parity`, :func:`window_start` — parities of k
  consecutive bits at an unknown position (Malach and Shalev-Shwartz 2020; Chapter 4).
* :class:`LeakyParity` (+ :class:`LeakySample`) — the sparse parity under a mixture distribution
  that leaks the relevant coordinates (Daniely and Malach 2020; Chapter 3).
* :func:`fixed_samples`, :func:`offline_batches` — one fixed training sample per ensemble member
  and mini-batches drawn from it, for offline (fixed-sample) parity learning (Chapter 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence, TypeVar

import torch

from lmt_core._checks import check_generator, check_int
from lmt_core.tasks.base import all_bits

__all__ = [
    "random_signs",
    "parity",
    "hypercube",
    "SparseParity",
    "local_parity",
    "random_local_parity",
    "window_start",
    "LeakySample",
    "LeakyParity",
    "lpn_task",
    "fixed_samples",
    "offline_batches",
]

P = TypeVar("P", bound="SparseParity")


def random_signs(m: int, n: int, *, generator: torch.Generator) -> torch.Tensor:
    """``m`` points drawn uniformly from {±1}^n.

    Returns:
        float32 tensor of shape ``(m, n)`` with entries ±1, on ``generator.device``.
    """
    check_int("m", m, minimum=1)
    check_int("n", n, minimum=1)
    check_generator(generator)
    bits = torch.randint(0, 2, (m, n), generator=generator, device=generator.device)
    return (1 - 2 * bits).to(torch.float32)


def parity(x: torch.Tensor, support: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """χ_S(x) = ∏_{i∈S} x_i for each row of ``x``.

    Args:
        x: ``(..., n)`` tensor with ±1 entries.
        support: the set S, as distinct indices in ``[0, n)``. The empty set gives all ones.

    Returns:
        ``(...)`` tensor of ±1 (same dtype and device as ``x``).
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise TypeError("x must be a tensor of shape (..., n)")
    idx = torch.as_tensor(
        list(support) if not isinstance(support, torch.Tensor) else support,
        dtype=torch.long,
        device=x.device,
    )
    # the range check reads values, which a tensor on the meta device does not have
    if idx.numel() and idx.device.type != "meta" and (idx.min() < 0 or idx.max() >= x.shape[-1]):
        raise ValueError(f"support indices must lie in [0, {x.shape[-1]}), got {idx.tolist()}")
    if idx.numel() == 0:
        return torch.ones(x.shape[:-1], dtype=x.dtype, device=x.device)
    return x.index_select(-1, idx).prod(dim=-1)


def hypercube(n: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """All 2^n points of {±1}^n, row r having x_i = (-1)^{bit i of r} (see :func:`all_bits`).

    With this ordering the Walsh–Hadamard transform of a vector of values indexes the Fourier
    coefficient of S by the bit mask of S (see :func:`lmt_core.analysis.walsh_coefficients`).

    Returns:
        float32 tensor of shape ``(2**n, n)`` on ``device`` (n ≤ 24).
    """
    return (1 - 2 * all_bits(n, device=device)).to(torch.float32)


def _k_subset(n: int, k: int) -> None:
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1)
    if k > n:
        raise ValueError(f"k must be at most n, got k={k} > n={n}")


@dataclass(frozen=True)
class SparseParity:
    """The (n, k)-sparse parity task: x uniform on {±1}^n, y = χ_S(x) with |S| = k.

    With ``noise`` ρ > 0 each label is flipped independently with probability ρ: the task is then
    an instance of learning parity with noise (see :func:`lpn_task`).

    Attributes:
        n: input dimension.
        support: the hidden set S (sorted indices), |S| = k ≥ 1.
        noise: the label-noise rate ρ ∈ [0, 1/2) (0 for the noiseless task).
    """

    n: int
    support: tuple[int, ...]
    noise: float = 0.0

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        s = tuple(int(i) for i in self.support)
        if len(set(s)) != len(s) or any(i < 0 or i >= self.n for i in s):
            raise ValueError(f"support must be distinct indices in [0, {self.n}), got {s}")
        if len(s) == 0:
            raise ValueError("support must contain at least one index (k >= 1)")
        if isinstance(self.noise, bool) or not 0.0 <= float(self.noise) < 0.5:
            raise ValueError(f"noise must lie in [0, 0.5), got {self.noise!r}")
        object.__setattr__(self, "support", tuple(sorted(s)))
        object.__setattr__(self, "noise", float(self.noise))

    @property
    def k(self) -> int:
        """The sparsity |S|."""
        return len(self.support)

    @classmethod
    def random(cls: type[P], n: int, k: int, *, seed: int = 0, **params: Any) -> P:
        """A task whose support is a uniformly random k-subset of [n], drawn with ``seed``.

        ``params`` are the remaining fields (``noise``; ``alpha`` for :class:`LeakyParity`).
        """
        _k_subset(n, k)
        g = torch.Generator().manual_seed(int(seed))
        support = torch.randperm(n, generator=g, device="cpu")[:k].tolist()
        return cls(n, tuple(support), **params)

    @classmethod
    def first(cls: type[P], n: int, k: int, **params: Any) -> P:
        """The task with S = {0, ..., k-1} (by symmetry no loss of generality; handy for plots)."""
        _k_subset(n, k)
        return cls(n, tuple(range(k)), **params)

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """Noiseless labels χ_S(x), shape ``x.shape[:-1]``."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have last dimension n={self.n}, got {tuple(x.shape)}")
        return parity(x, self.support)

    def _flip(self, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``y`` with each label flipped with probability ``noise`` (no draw when it is 0)."""
        if self.noise == 0:
            return y
        flip = torch.rand(y.shape, generator=generator, device=y.device) < self.noise
        return torch.where(flip, -y, y)

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` labelled examples on ``generator.device``.

        Call it once with a fixed generator for a fixed training sample, or at every step for
        online SGD (fresh samples).

        Returns:
            ``(x, y)`` with ``x`` of shape ``(m, n)`` and ``y`` of shape ``(m,)``, float ±1.
        """
        x = random_signs(m, self.n, generator=generator)
        return x, self._flip(self.label(x), generator)


# ---- local parities (Chapter 4) ------------------------------------------------------------


def local_parity(n: int, k: int, start: int, *, noise: float = 0.0) -> SparseParity:
    """The parity of the k bits ``start, ..., start + k - 1`` of x in {±1}^n (indices from 0)."""
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    check_int("start", start, minimum=0, maximum=n - k)
    return SparseParity(n, tuple(range(start, start + k)), noise)


def random_local_parity(n: int, k: int, *, seed: int = 0, noise: float = 0.0) -> SparseParity:
    """A local parity whose window starts at a position uniform in ``0..n-k`` (seeded)."""
    check_int("n", n, minimum=1)
    check_int("k", k, minimum=1, maximum=n)
    g = torch.Generator().manual_seed(int(seed))
    start = int(torch.randint(0, n - k + 1, (1,), generator=g, device="cpu"))
    return local_parity(n, k, start, noise=noise)


def window_start(task: SparseParity) -> int:
    """The first index of a local parity's window; raises if the support is not a window."""
    s = task.support
    if not s or list(s) != list(range(s[0], s[0] + len(s))):
        raise ValueError(f"support {s} is not a set of consecutive indices")
    return s[0]


# ---- the leaky mixture (Chapter 3) ---------------------------------------------------------


class LeakySample(NamedTuple):
    """A labelled sample from :class:`LeakyParity`.

    Attributes:
        x: inputs, ``(m, n)`` float ±1.
        y: labels χ_S(x) (flipped at rate ``noise``), ``(m,)`` float ±1.
        leaky: ``(m,)`` bool, True for the examples drawn from the leaky component.
    """

    x: torch.Tensor
    y: torch.Tensor
    leaky: torch.Tensor


@dataclass(frozen=True)
class LeakyParity(SparseParity):
    """The (n, k)-sparse parity under the leaky mixture D_{S,α} of the Daniely–Malach separation.

    With probability 1 − α, x is uniform on the cube (the *uniform component*); with probability
    α, the coordinates in S are all set to +1 and the others are uniform (the *leaky component*).
    The label is always the parity y = χ_S(x). On the leaky component y = +1 and E[y x_i] = 1 for
    i ∈ S, which is what a gradient step can read; the uniform component is the hard part.
    Validation, :meth:`random`, :meth:`first` and :meth:`label` are those of
    :class:`SparseParity` (``LeakyParity.random(n, k, alpha=0.5, seed=0)``).

    Attributes:
        n, support, noise: as in :class:`SparseParity`.
        alpha: weight α ∈ [0, 1) of the leaky component (α = 0 is the plain uniform task);
            keyword-only.
    """

    alpha: float = field(default=0.5, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.alpha, bool) or not 0.0 <= float(self.alpha) < 1.0:
            raise ValueError(f"alpha must lie in [0, 1), got {self.alpha!r}")
        object.__setattr__(self, "alpha", float(self.alpha))

    def sample_with_components(self, m: int, *, generator: torch.Generator) -> LeakySample:
        """Draw ``m`` examples and say which component each came from (see :class:`LeakySample`)."""
        x = random_signs(m, self.n, generator=generator)
        leaky = torch.rand(m, generator=generator, device=x.device) < self.alpha
        idx = torch.tensor(self.support, device=x.device)
        x[:, idx] = torch.where(leaky[:, None], torch.ones_like(x[:, idx]), x[:, idx])
        return LeakySample(x, self._flip(self.label(x), generator), leaky)

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` labelled examples ``(x, y)`` from D_{S,α} on ``generator.device``."""
        s = self.sample_with_components(m, generator=generator)
        return s.x, s.y

    def sample_uniform_part(
        self, m: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``m`` examples from the uniform component only (the plain sparse parity)."""
        return SparseParity.sample(self, m, generator=generator)

    def leak_bayes_accuracy_uniform(self) -> float:
        """Best accuracy on the uniform component of a predictor that sees x only through the
        leak indicator 1[x_S = (1, ..., 1)].

        Used in Chapter 3, § What the leak alone is worth on the uniform component.

        The best such predictor says +1 on the event (where χ_S = 1) and −1 off it, where
        χ_S = −1 on 2^{k-1} of the 2^k − 1 remaining patterns of x_S; its accuracy is
        2^{-k} + 2^{k-1} / 2^k = 1/2 + 2^{-k}.
        """
        return 0.5 + 2.0 ** (-self.k)


# ---- learning parity with noise, offline samples (Chapter 2) -------------------------------


def lpn_task(n: int, k: int, rho: float, *, seed: int = 0) -> SparseParity:
    """An LPN instance with a secret of Hamming weight ``k`` and noise rate ``rho`` in [0, 1/2).

    In ±1 notation an LPN sample is ``(x, y)`` with x uniform on {±1}^n and
    y = χ_S(x) · (−1)^e, e ~ Bernoulli(ρ), where S is the support of the secret (the F_2 inner
    product ⟨a, s⟩ becomes the character χ_S(x)). The support is a uniformly random k-subset,
    drawn with ``seed``; the task is ``SparseParity.random(n, k, seed=seed, noise=rho)``.
    """
    return SparseParity.random(n, k, seed=seed, noise=rho)


def fixed_samples(
    task: SparseParity,
    sizes: Sequence[int],
    *,
    seeds: Sequence[int],
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One fixed training sample per member, padded to a common length.

    Member ``e`` gets the first ``sizes[e]`` examples of a stream drawn with seed ``seeds[e]``
    (a generator on ``device``): members with the same seed and different sizes get *nested*
    samples (the smaller one is a prefix of the larger), so that a sweep over m changes only the
    number of examples.

    Returns:
        ``(X, Y, m)`` on ``device`` with ``X`` of shape ``(E, max(sizes), n)``, ``Y`` of shape
        ``(E, max(sizes))`` (entries past ``sizes[e]`` are padding and never drawn by
        :func:`offline_batches`) and ``m`` the sizes as a long tensor ``(E,)``.
    """
    if len(sizes) != len(seeds) or len(sizes) == 0:
        raise ValueError(
            "sizes and seeds must be non-empty and of equal length, "
            f"got {len(sizes)} and {len(seeds)}"
        )
    for m in sizes:
        check_int("sizes[e]", m, minimum=1)
    m_max = max(sizes)
    streams = {}
    for sd in set(seeds):
        g = torch.Generator(device=device).manual_seed(int(sd))
        streams[sd] = task.sample(m_max, generator=g)
    X = torch.stack([streams[sd][0] for sd in seeds])
    Y = torch.stack([streams[sd][1] for sd in seeds])
    return X, Y, torch.as_tensor(list(sizes), dtype=torch.long, device=X.device)


def offline_batches(
    X: torch.Tensor, Y: torch.Tensor, m: torch.Tensor, batch: int
) -> Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    """``batches(step, generator)`` for :func:`lmt_core.train.fit` drawing from fixed samples.

    Every step, member ``e`` gets ``batch`` examples drawn uniformly with replacement from its
    own first ``m[e]`` examples ``X[e, :m[e]]``. The batch has shapes ``(E, batch, n)`` and
    ``(E, batch)`` (per-member inputs), on the device of ``X``.
    """
    if X.dim() != 3 or Y.shape != X.shape[:2] or m.shape != X.shape[:1]:
        raise ValueError(
            f"expected X (E, M, n), Y (E, M), m (E,), got {tuple(X.shape)}, "
            f"{tuple(Y.shape)}, {tuple(m.shape)}"
        )
    if int(m.min()) < 1 or int(m.max()) > X.shape[1]:
        raise ValueError(f"sizes m must lie in [1, {X.shape[1]}], got {m.tolist()}")
    check_int("batch", batch, minimum=1)
    E = X.shape[0]
    rows = torch.arange(E, device=X.device).unsqueeze(1)
    m_f = m.to(torch.float32).unsqueeze(1)
    m_last = (m - 1).unsqueeze(1)

    def batches(step: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        check_generator(generator)
        u = torch.rand(E, batch, generator=generator, device=X.device)
        idx = torch.minimum((u * m_f).long(), m_last)  # u < 1, so this only guards rounding
        return X[rows, idx], Y[rows, idx]

    return batches
