"""The assignment's ``models/_base_network.py``: ``_baseNetwork``, the helpers every model shares.

Its helpers run on fastmlp's kernels. A student's own model may subclass it, as the assignment's
models do: ``weights`` and ``gradients`` are then plain dicts the subclass fills, and compat's
``SGD`` updates them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._memory import aligned
from ...backends import get_backend
from ...backends.interface import Backend
from ...errors import FastmlpTypeError


class _baseNetwork:  # the assignment's name
    """The assignment's base class: the shared helpers, computed by fastmlp kernels.

    Every helper takes arrays (or nested lists) of numbers; a 1-D input is treated as one row.
    Scalars come back as ``numpy.float64``, as the assignment's NumPy code returns them.
    """

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, *, backend: str | Backend | None = None
    ) -> None:
        self.input_size = input_size
        self.num_classes = num_classes
        self.backend: Backend = (
            get_backend(backend) if backend is None or isinstance(backend, str) else backend
        )
        self.weights: dict[str, Any] = {}
        self.gradients: dict[str, Any] = {}

    def _weight_init(self) -> None:
        """The assignment's hook, filled in by each model (nothing to initialise here)."""

    def forward(self, X: Any, y: Any, mode: str = "train") -> Any:  # the assignment's name
        """The assignment's hook, filled in by each model: (loss, accuracy) of a batch."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(X, y, mode)")

    def __deepcopy__(self, memo: dict[int, Any]) -> _baseNetwork:
        """``copy.deepcopy(model)`` (how assignment code keeps its best model): arrays are copied,
        the backend object is shared."""
        memo[id(self.backend)] = self.backend
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        clone._realign()
        return clone

    def _realign(self) -> None:
        """Copies of arrays lose the 64-byte alignment that keeps results repeatable bit for bit."""
        self.gradients = {
            name: aligned(g) if isinstance(g, np.ndarray) else g for name, g in self.gradients.items()
        }

    @staticmethod
    def _float(x: Any, name: str) -> np.ndarray:
        array = np.asarray(x)
        if array.dtype.kind not in "fiu":
            raise FastmlpTypeError(f"{name} must hold numbers, got dtype {array.dtype}")
        return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)

    def _by_rows(self, x: Any, name: str, kernel: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``kernel`` on x as rows (N, ...); a 1-D x is one row, and the result is 1-D again."""
        array = self._float(x, name)
        rows = array if array.ndim == 2 else np.atleast_2d(array)
        out: np.ndarray = kernel(rows)
        return out if array.ndim == 2 else out[0]

    def softmax(self, scores: Any) -> np.ndarray:
        """Row-wise softmax of scores (N, C)."""
        return self._by_rows(scores, "scores", self.backend.softmax_forward)

    def cross_entropy_loss(self, x_pred: Any, y: Any) -> np.float64:
        """Mean cross-entropy of probabilities x_pred (N, C) against labels y (N,)."""
        loss: float = self.backend.cross_entropy_forward(self._float(x_pred, "x_pred"), np.asarray(y))
        result: np.float64 = np.float64(loss)
        return result

    def compute_accuracy(self, x_pred: Any, y: Any) -> np.float64:
        """Fraction of rows whose arg-max equals the label."""
        accuracy: float = self.backend.accuracy(self._float(x_pred, "x_pred"), np.asarray(y))
        result: np.float64 = np.float64(accuracy)
        return result

    def sigmoid(self, X: Any) -> np.ndarray:  # the assignment's name
        return self._by_rows(X, "X", self.backend.sigmoid_forward)

    def sigmoid_dev(self, x: Any) -> np.ndarray:
        """Derivative of the sigmoid at the input x: s(x) (1 - s(x))."""
        return self._by_rows(x, "x", self._sigmoid_derivative)

    def _sigmoid_derivative(self, rows: np.ndarray) -> np.ndarray:
        a = self.backend.sigmoid_forward(rows)
        out: np.ndarray = self.backend.sigmoid_backward(np.ones_like(a), a)
        return out

    def ReLU(self, X: Any) -> np.ndarray:  # the assignment's names
        return self._by_rows(X, "X", self.backend.relu_forward)

    def ReLU_dev(self, X: Any) -> np.ndarray:  # the assignment's names
        """Derivative of ReLU at X: 1 where X > 0, else 0, in X's float dtype."""
        return self._by_rows(X, "X", lambda rows: self.backend.relu_backward(np.ones_like(rows), rows))


BaseNetwork = _baseNetwork  # fastmlp's earlier name for it
