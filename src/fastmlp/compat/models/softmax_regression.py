"""The assignment's ``models/softmax_regression.py``: ``SoftmaxRegression``."""

from __future__ import annotations

from typing import Any

from ... import models
from ._network_model import _CompatModel


class SoftmaxRegression(_CompatModel):
    """The assignment's SoftmaxRegression: W1 (784, 10), no bias -> ReLU -> softmax.

    ``dtype`` (float64 by default, as the assignment computes; ``"float32"`` is the fast
    option) and ``backend`` go to ``fastmlp.models.SoftmaxRegression``.
    """

    def __init__(self, input_size: int = 784, num_classes: int = 10, **options: Any) -> None:
        options.setdefault("dtype", "float64")
        super().__init__(models.SoftmaxRegression(input_size, num_classes, **options))
