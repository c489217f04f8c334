"""A source task and a target task that share hidden features: a test bed for fine-tuning.

A fixed random *teacher* computes features φ(x) = ReLU(A x + c) of a Gaussian input
x ~ N(0, I_n), with A of shape (features, n) and c a bias. The *source* label is
argmax(V_s φ(x)) over ``source_classes`` classes, the *target* label argmax(V_t φ(x)) over
``target_classes`` classes, with independent random read-outs V_s and V_t. A network pretrained on
the (plentiful) source data learns a representation of φ; the target task, seen through few
samples, needs a new read-out of the same features.
"""

from __future__ import annotations

import math

import torch

from lmt_core._checks import check_choice, check_int

__all__ = ["FeatureTransfer"]


class FeatureTransfer:
    """A source/target pair of classification tasks with shared teacher features.

    Args:
        n: input dimension.
        features: number of teacher features (rows of A).
        source_classes: classes of the source task.
        target_classes: classes of the target task.
        seed: seed of the teacher (A, c, V_s, V_t).

    ``sample(m, task, generator=)`` returns ``x`` of shape ``(m, n)`` and integer labels ``(m,)``.
    """

    def __init__(self, n: int = 32, features: int = 16, source_classes: int = 10,
                 target_classes: int = 4, *, seed: int = 0) -> None:
        self.n = check_int("n", n, minimum=1)
        self.features = check_int("features", features, minimum=1)
        self.source_classes = check_int("source_classes", source_classes, minimum=2)
        self.target_classes = check_int("target_classes", target_classes, minimum=2)
        check_int("seed", seed, minimum=0)
        g = torch.Generator().manual_seed(int(seed))
        self.A = torch.randn(features, n, generator=g) / math.sqrt(n)
        self.c = 0.5 * torch.randn(features, generator=g)
        self.V = {"source": torch.randn(source_classes, features, generator=g),
                  "target": torch.randn(target_classes, features, generator=g)}

    def classes(self, task: str) -> int:
        """Number of classes of ``task`` (``"source"`` or ``"target"``)."""
        check_choice("task", task, ("source", "target"))
        return self.source_classes if task == "source" else self.target_classes

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher features ReLU(A x + c), shape ``(m, features)``."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have last dimension n={self.n}, got {tuple(x.shape)}")
        return torch.relu(x @ self.A.T + self.c)

    def label(self, x: torch.Tensor, task: str) -> torch.Tensor:
        """Labels argmax(V_task φ(x)), shape ``(m,)``, dtype long."""
        check_choice("task", task, ("source", "target"))
        return (self.phi(x) @ self.V[task].T).argmax(-1)

    def sample(self, m: int, task: str, *, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` fresh examples ``(x, y)`` of ``task`` with x ~ N(0, I_n)."""
        check_int("m", m, minimum=1)
        check_choice("task", task, ("source", "target"))
        x = torch.randn(m, self.n, generator=generator)
        return x, self.label(x, task)
