"""The assignment's ``models`` module: ``BaseNetwork``, ``SoftmaxRegression``, ``TwoLayerNet``.

The maths runs in fastmlp's kernels (the model's ``backend``), in float64 unless the model is
built with ``dtype="float32"``. This is the one layer of fastmlp whose contract is to convert:
whatever user code puts into ``weights`` or ``gradients`` (another float dtype, a list, a
transposed view) is converted to the model's dtype and layout when it is used; the kernels
underneath stay strict.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .. import models
from .._memory import aligned
from ..backends import get_backend


class BaseNetwork:
    """The assignment's base class: the shared helpers, computed by fastmlp kernels.

    Every helper takes arrays (or nested lists) of numbers; a 1-D input is treated as one row.
    """

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, *, backend: str | ModuleType | None = None
    ) -> None:
        self.input_size = input_size
        self.num_classes = num_classes
        self.backend = backend if isinstance(backend, ModuleType) else get_backend(backend)
        self.weights: dict[str, np.ndarray] = {}
        self.gradients: dict[str, np.ndarray] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> BaseNetwork:
        """``copy.deepcopy(model)`` (how assignment code keeps its best model): arrays are copied,
        the backend module is shared."""
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
            raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
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

    def cross_entropy_loss(self, x_pred: Any, y: Any) -> float:
        """Mean cross-entropy of probabilities x_pred (N, C) against labels y (N,)."""
        loss: float = self.backend.cross_entropy_forward(self._float(x_pred, "x_pred"), np.asarray(y))
        return loss

    def compute_accuracy(self, x_pred: Any, y: Any) -> float:
        """Fraction of rows whose arg-max equals the label."""
        accuracy: float = self.backend.accuracy(self._float(x_pred, "x_pred"), np.asarray(y))
        return accuracy

    def sigmoid(self, X: Any) -> np.ndarray:
        return self._by_rows(X, "X", self.backend.sigmoid_forward)

    def sigmoid_dev(self, x: Any) -> np.ndarray:
        """Derivative of the sigmoid at the input x: s(x) (1 - s(x))."""
        return self._by_rows(x, "x", self._sigmoid_derivative)

    def _sigmoid_derivative(self, rows: np.ndarray) -> np.ndarray:
        a = self.backend.sigmoid_forward(rows)
        out: np.ndarray = self.backend.sigmoid_backward(np.ones_like(a), a)
        return out

    def ReLU(self, X: Any) -> np.ndarray:
        return self._by_rows(X, "X", self.backend.relu_forward)

    def ReLU_dev(self, X: Any) -> np.ndarray:
        """Derivative of ReLU at X: 1 where X > 0, else 0."""
        return self._by_rows(X, "X", lambda rows: self.backend.relu_backward(np.ones_like(rows), rows))


class _CompatModel(BaseNetwork):
    """A fastmlp ``Network`` behind the assignment's interface.

    ``weights`` is the network's own parameter dict (updates through either name are shared);
    ``gradients`` holds zeros of every parameter's shape from construction, then the gradients of
    the last ``forward`` in train mode.
    """

    def __init__(self, network: models.Network) -> None:
        super().__init__(network.input_size, network.num_classes, backend=network.backend)
        self.network = network
        self.gradients = {name: np.zeros_like(p) for name, p in network.params.items()}

    @property
    def dtype(self) -> np.dtype:
        dtype: np.dtype = self.network.dtype
        return dtype

    @property
    def weights(self) -> dict[str, np.ndarray]:
        return self.network.params

    @weights.setter
    def weights(self, value: dict[str, np.ndarray]) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"weights must be a dict of arrays, got {type(value).__name__}")
        # BaseNetwork.__init__ assigns an empty dict before the network exists: nothing to replace yet.
        if hasattr(self, "network"):
            self.network.params = value  # converted when used (parameters())

    def _realign(self) -> None:
        super()._realign()
        self.network.params = {name: aligned(p) for name, p in self.network.params.items()}

    def _convert(self, value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
        """``value`` as the model's dtype and shape, C-contiguous and writable: the array itself
        when it already is one (so in-place updates reach it), else a converted copy."""
        if (
            isinstance(value, np.ndarray)
            and value.dtype == self.dtype
            and value.shape == shape
            and value.flags.c_contiguous
            and value.flags.writeable
        ):
            return value
        try:
            array = np.array(value, dtype=self.dtype, order="C")
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from error
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
        return aligned(array)

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters the kernels will use, after converting what user code assigned."""
        params = self.network.params
        for spec_name, shape in self._shapes().items():
            if spec_name not in params:
                raise ValueError(f"weights must hold {spec_name!r} (keys {sorted(self._shapes())})")
            params[spec_name] = self._convert(params[spec_name], shape, f"weights[{spec_name!r}]")
        return params

    def gradient(self, name: str) -> np.ndarray:
        """``gradients[name]`` as the kernels will use it, after converting what user code assigned."""
        shape = self._shapes()[name]
        if name not in self.gradients:
            raise ValueError(f"gradients must hold {name!r} (keys {sorted(self._shapes())})")
        self.gradients[name] = self._convert(self.gradients[name], shape, f"gradients[{name!r}]")
        return self.gradients[name]

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i, layer in enumerate(self.network.layer_specs, start=1):
            shapes[f"W{i}"] = (layer.fan_in, layer.fan_out)
            if layer.has_bias:
                shapes[f"b{i}"] = (layer.fan_out,)
        return shapes

    def forward(self, X: Any, y: Any, mode: str = "train") -> tuple[float, float]:
        """Loss and accuracy on the batch X (N, D), y (N,); in ``mode='train'`` also fills
        ``self.gradients`` (the gradients of the mean loss, before regularisation)."""
        if mode not in ("train", "valid", "test"):
            raise ValueError(f"mode must be 'train', 'valid' or 'test', got {mode!r}")
        self.parameters()
        x = np.asarray(X, dtype=self.dtype)
        loss, correct = self.network.forward(x, np.asarray(y))
        if mode == "train":
            self.gradients.update(self.network.backward())
        return loss, correct / len(x)


class SoftmaxRegression(_CompatModel):
    """The assignment's SoftmaxRegression: W1 (784, 10), no bias -> ReLU -> softmax.

    ``dtype`` (float64 by default, as the assignment computes; ``"float32"`` is the fast
    option) and ``backend`` go to ``fastmlp.models.SoftmaxRegression``.
    """

    def __init__(self, input_size: int = 784, num_classes: int = 10, **options: Any) -> None:
        options.setdefault("dtype", "float64")
        super().__init__(models.SoftmaxRegression(input_size, num_classes, **options))


class TwoLayerNet(_CompatModel):
    """The assignment's TwoLayerNet: W1, b1 -> sigmoid -> W2, b2 -> softmax.

    ``dtype`` (float64 by default; ``"float32"`` is the fast option) and ``backend`` go to
    ``fastmlp.models.TwoLayerNet``.
    """

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, hidden_size: int = 128, **options: Any
    ) -> None:
        options.setdefault("dtype", "float64")
        super().__init__(models.TwoLayerNet(input_size, hidden_size, num_classes, **options))
        self.hidden_size = hidden_size
