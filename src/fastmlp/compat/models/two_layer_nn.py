"""The assignment's ``models/two_layer_nn.py``: ``TwoLayerNet``."""

from __future__ import annotations

from typing import Any

from ... import models
from ._network_model import _CompatModel


class TwoLayerNet(_CompatModel):
    """The assignment's TwoLayerNet: W1, b1 -> sigmoid -> W2, b2 -> softmax.

    ``dtype`` (float64 by default; ``"float32"`` is the fast option) and ``backend`` go to
    ``fastmlp.models.TwoLayerNet``.
    """

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, hidden_size: int = 128, **options: Any
    ) -> None:
        options.setdefault("dtype", "float64")
        self.hidden_size = hidden_size
        super().__init__(models.TwoLayerNet(input_size, hidden_size, num_classes, **options))
