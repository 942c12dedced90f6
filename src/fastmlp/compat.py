"""Drop-in classes for code written against the course assignment's API.

Swap the assignment's imports for these and the same training loop runs on fastmlp's kernels:

    from fastmlp.compat import TwoLayerNet, SGD
    model, optimizer = TwoLayerNet(hidden_size=128), SGD(learning_rate=0.1, reg=1e-3)
    loss, accuracy = model.forward(x_batch, y_batch, mode="train")
    optimizer.update(model)

Method names, arguments and semantics follow the assignment (``weights`` and ``gradients`` dicts
keyed ``W1``, ``b1``, ...; ``forward`` returns ``(loss, accuracy)`` and fills ``gradients`` in
train mode; ``SGD.update`` regularises, then steps). Arrays are float32 unless the model is
created with ``dtype='float64'``; inputs of another float dtype are converted to the model's.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from . import models
from .backends import get_backend


class BaseNetwork:
    """The assignment's base class: shared helpers computed by fastmlp kernels."""

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, *, backend: str | ModuleType | None = None
    ) -> None:
        self.input_size = input_size
        self.num_classes = num_classes
        self.backend = backend if isinstance(backend, ModuleType) else get_backend(backend)
        self.weights: dict[str, np.ndarray] = {}
        self.gradients: dict[str, np.ndarray] = {}

    @staticmethod
    def _float(x: Any, name: str) -> np.ndarray:
        array = np.asarray(x)
        if array.dtype.kind not in "fiu":
            raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
        return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)

    def _rows(self, x: Any, name: str) -> tuple[np.ndarray, bool]:
        array = self._float(x, name)
        return (array, False) if array.ndim == 2 else (np.atleast_2d(array), True)

    def softmax(self, scores: Any) -> np.ndarray:
        """Row-wise softmax of scores (N, C)."""
        rows, squeezed = self._rows(scores, "scores")
        probs = self.backend.softmax_forward(rows)
        return probs[0] if squeezed else probs

    def cross_entropy_loss(self, x_pred: Any, y: Any) -> float:
        """Mean cross-entropy of probabilities x_pred (N, C) against labels y (N,)."""
        return self.backend.cross_entropy_forward(self._float(x_pred, "x_pred"), np.asarray(y))

    def compute_accuracy(self, x_pred: Any, y: Any) -> float:
        """Fraction of rows whose arg-max equals the label."""
        return self.backend.accuracy(self._float(x_pred, "x_pred"), np.asarray(y))

    def sigmoid(self, X: Any) -> np.ndarray:
        rows, squeezed = self._rows(X, "X")
        out = self.backend.sigmoid_forward(rows)
        return out[0] if squeezed else out

    def sigmoid_dev(self, x: Any) -> np.ndarray:
        """Derivative of the sigmoid at the input x: s(x) (1 - s(x))."""
        rows, squeezed = self._rows(x, "x")
        a = self.backend.sigmoid_forward(rows)
        out = self.backend.sigmoid_backward(np.ones_like(a), a)
        return out[0] if squeezed else out

    def ReLU(self, X: Any) -> np.ndarray:
        rows, squeezed = self._rows(X, "X")
        out = self.backend.relu_forward(rows)
        return out[0] if squeezed else out

    def ReLU_dev(self, X: Any) -> np.ndarray:
        """Derivative of ReLU at X: 1 where X > 0, else 0."""
        rows, squeezed = self._rows(X, "X")
        out = self.backend.relu_backward(np.ones_like(rows), rows)
        return out[0] if squeezed else out


class _CompatModel(BaseNetwork):
    """Wraps a fastmlp model so that ``weights`` is the model's own parameter dict."""

    def __init__(self, network: models.Network) -> None:
        super().__init__(network.input_size, network.num_classes, backend=network.backend)
        self.network = network
        self.weights = network.params  # the same arrays: updates through either name are shared

    def forward(self, X: Any, y: Any, mode: str = "train") -> tuple[float, float]:
        """Loss and accuracy on the batch; in ``mode='train'`` also fills ``self.gradients``."""
        if mode not in ("train", "valid", "test"):
            raise ValueError(f"mode must be 'train', 'valid' or 'test', got {mode!r}")
        x = np.asarray(X, dtype=self.network.dtype)
        loss, correct = self.network.forward(x, np.asarray(y))
        if mode == "train":
            self.gradients = self.network.backward()
        return loss, correct / len(x)


class SoftmaxRegression(_CompatModel):
    """The assignment's SoftmaxRegression: W1 (784, 10), no bias -> ReLU -> softmax."""

    def __init__(self, input_size: int = 784, num_classes: int = 10, **options: Any) -> None:
        super().__init__(models.SoftmaxRegression(input_size, num_classes, **options))


class TwoLayerNet(_CompatModel):
    """The assignment's TwoLayerNet: W1, b1 -> sigmoid -> W2, b2 -> softmax."""

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, hidden_size: int = 128, **options: Any
    ) -> None:
        super().__init__(models.TwoLayerNet(input_size, hidden_size, num_classes, **options))
        self.hidden_size = hidden_size


class SGD:
    """The assignment's optimiser: ``update(model)`` regularises the weight matrices, then steps."""

    def __init__(self, learning_rate: float = 1e-4, reg: float = 1e-3) -> None:
        self.learning_rate = learning_rate
        self.reg = reg

    def apply_regularization(self, model: _CompatModel) -> None:
        """gradients[W] += reg * weights[W] for every weight matrix (biases are not regularised)."""
        for name, weight in model.weights.items():
            if weight.ndim == 2 and name in model.gradients:
                model.gradients[name] = model.gradients[name] + weight.dtype.type(self.reg) * weight

    def update(self, model: _CompatModel) -> None:
        """Regularise, then ``p -= learning_rate * gradients[p]`` for every parameter (in place)."""
        self.apply_regularization(model)
        for name, param in model.weights.items():
            model.backend.sgd_update(param, model.gradients[name], self.learning_rate)
