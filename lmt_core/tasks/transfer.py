"""A source task and a target task that share hidden features: a test bed for fine-tuning.

A fixed random *teacher* computes features φ(x) = ReLU(A x + c) of a Gaussian input
x ~ N(0, I_n), with A of shape (features, n) and c a bias. The *source* label is
argmax(V_s φ(x)) over ``source_classes`` classes, the *target* label argmax(V_t φ(x)) over
``target_classes`` classes, with independent random read-outs V_s and V_t. A network pretrained on
the (plentiful) source data learns a representation of φ; the target task, seen through few
samples, needs a new read-out of the same features.

``FeatureTransfer(...)`` is the source task; ``transfer.target`` (and ``transfer.source``) are
the two views of the same teacher, each a task with ``sample(m, generator=g)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch

from lmt_core._checks import check_choice, check_int
from lmt_core.tasks.base import device_of

__all__ = ["FeatureTransfer"]

_VIEWS = ("source", "target")


@dataclass(frozen=True)
class FeatureTransfer:
    """One view (source or target) of a pair of classification tasks with shared features.

    Attributes:
        n: input dimension.
        features: number of teacher features (rows of A).
        source_classes: classes of the source task.
        target_classes: classes of the target task.
        seed: seed of the teacher (A, c, V_s, V_t); the two views of one seed share it.
        task: which labels :meth:`sample` and :meth:`label` give, ``"source"`` or ``"target"``.
        A, c, V: the teacher on the CPU (computed): ``A`` ``(features, n)``, ``c``
            ``(features,)``, ``V[view]`` ``(classes, features)``.

    ``sample(m, generator=g)`` returns ``x`` ``(m, n)`` (float32) and labels ``(m,)`` (int64).
    """

    n: int = 32
    features: int = 16
    source_classes: int = 10
    target_classes: int = 4
    seed: int = 0
    task: str = "source"
    A: torch.Tensor = field(init=False, repr=False, compare=False)
    c: torch.Tensor = field(init=False, repr=False, compare=False)
    V: dict[str, torch.Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = check_int("n", self.n, minimum=1)
        f = check_int("features", self.features, minimum=1)
        check_int("source_classes", self.source_classes, minimum=2)
        check_int("target_classes", self.target_classes, minimum=2)
        check_int("seed", self.seed, minimum=0)
        check_choice("task", self.task, _VIEWS)
        g = torch.Generator(device="cpu").manual_seed(int(self.seed))
        set_ = object.__setattr__
        set_(self, "A", torch.randn(f, n, generator=g, device="cpu") / math.sqrt(n))
        set_(self, "c", 0.5 * torch.randn(f, generator=g, device="cpu"))
        set_(
            self,
            "V",
            {
                "source": torch.randn(self.source_classes, f, generator=g, device="cpu"),
                "target": torch.randn(self.target_classes, f, generator=g, device="cpu"),
            },
        )

    @property
    def source(self) -> "FeatureTransfer":
        """The source view of the same teacher."""
        return self if self.task == "source" else dataclasses.replace(self, task="source")

    @property
    def target(self) -> "FeatureTransfer":
        """The target view of the same teacher."""
        return self if self.task == "target" else dataclasses.replace(self, task="target")

    @property
    def classes(self) -> int:
        """Number of classes of this view."""
        return self.source_classes if self.task == "source" else self.target_classes

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher features ReLU(A x + c), shape ``(m, features)``, on ``x.device``."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x must have last dimension n={self.n}, got {tuple(x.shape)}")
        return torch.relu(x @ self.A.to(x.device).T + self.c.to(x.device))

    def label(self, x: torch.Tensor) -> torch.Tensor:
        """Labels argmax(V φ(x)) of this view, shape ``(m,)``, int64 on ``x.device``."""
        return (self.phi(x) @ self.V[self.task].to(x.device).T).argmax(-1)

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` fresh examples ``(x, y)`` of this view with x ~ N(0, I_n), on
        ``generator.device``."""
        check_int("m", m, minimum=1)
        x = torch.randn(m, self.n, generator=generator, device=device_of(generator))
        return x, self.label(x)
