"""The typed backend interface: what every backend object is (``Backend``), what a native epoch is
(``NativeEpoch``) and what a compiled backend's raw calls are (``RawCalls``, the signatures of
``fastmlp/_cpp.pyi``).

The registry (``backends.get_backend``) returns a ``Backend``; mypy checks every backend against it
(numpy_backend.BACKEND, numba_backend.BACKEND, cpp_backend.BACKEND are annotated with it) and every
call site against it, so no kernel call is typed ``Any``. The contracts (math, shapes, what is
overwritten) are numpy_backend's docstrings; the native epoch's is ``backends._epoch``'s.

Capabilities are declared: ``native_epoch`` is the backend's whole-epoch calls or None (numpy
runs the trainer kernel by kernel); ``warmup()`` compiles whatever compiles lazily (Numba).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ._epoch import NativeModel, PassResult
    from ._sparse import SparseRows
    from .tables import ActivationRow, LossRow

FloatArray = npt.NDArray[np.floating]  # float32 or float64, C-contiguous (the raw calls)
Labels = npt.NDArray[np.int64]
ArrayIn = npt.ArrayLike  # what a public kernel accepts (checked by fastmlp._validate)
OptionalArray = npt.ArrayLike | None
Out = npt.NDArray[np.floating] | None  # an optional output buffer


class Kernels(Protocol):
    """The public kernels, the same signatures in every backend (``_kernels.KERNELS``)."""

    def accuracy(self, scores: ArrayIn, y: ArrayIn) -> float: ...
    def adam_update(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        m: ArrayIn,
        v: ArrayIn,
        step_size: float,
        reg: float,
        b1: float,
        b2: float,
        eps: float,
    ) -> None: ...
    def affine_backward(
        self, dout: ArrayIn, x: ArrayIn, w: ArrayIn, need_dx: bool = True, has_bias: bool = True
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]: ...
    def affine_forward(
        self, x: ArrayIn, w: ArrayIn, b: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def binary_cross_entropy(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]: ...
    def binary_cross_entropy_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def cross_entropy_forward(self, probs: ArrayIn, y: ArrayIn) -> float: ...
    def nesterov_update(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        lr: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        velocity: OptionalArray = None,
    ) -> None: ...
    def poisson_deviance(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]: ...
    def poisson_deviance_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def relu_backward(self, dout: ArrayIn, z: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def relu_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def sgd_update(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        lr: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        velocity: OptionalArray = None,
    ) -> None: ...
    def sigmoid_backward(self, dout: ArrayIn, a: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def sigmoid_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def softmax_backward(self, dprobs: ArrayIn, probs: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def softmax_cross_entropy(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]: ...
    def softmax_cross_entropy_backward(
        self, probs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def softmax_forward(self, scores: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def squared_error(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]: ...
    def squared_error_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def tanh_backward(self, dout: ArrayIn, a: ArrayIn, *, out: Out = None) -> np.ndarray: ...
    def tanh_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray: ...


class NativeEpoch(Protocol):
    """A whole training epoch or evaluation pass in one compiled call (contract: ``backends._epoch``).
    ``threads``: the compute threads of this call (None: ``fastmlp.get_num_threads()``)."""

    def train_epoch(
        self,
        net: NativeModel,
        x: ArrayIn,
        y: ArrayIn,
        order: ArrayIn,
        *,
        batch_size: int,
        sample_weight: OptionalArray = None,
        sparse: bool | None = None,
        x_sparse: SparseRows | None = None,
        threads: int | None = None,
    ) -> PassResult: ...
    def evaluate(
        self,
        net: NativeModel,
        x: ArrayIn,
        y: ArrayIn,
        *,
        batch_size: int,
        sample_weight: OptionalArray = None,
        sparse: bool | None = None,
        x_sparse: SparseRows | None = None,
        threads: int | None = None,
    ) -> PassResult: ...


class Backend(Kernels, Protocol):
    """A backend: its name, the kernels, and its declared capabilities."""

    @property
    def name(self) -> str: ...
    @property
    def native_epoch(self) -> NativeEpoch | None: ...
    def warmup(self) -> None:
        """Compile every kernel and the native epoch for float32 and float64 (outside any timing)."""


ForwardKernel = Callable[[np.ndarray], np.ndarray]  # z -> a
BackwardKernel = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (dout, z or a) -> dz
LossKernel = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple[float, np.ndarray]]
LossBackwardKernel = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def activation_pair(k: Kernels, row: ActivationRow) -> tuple[ForwardKernel, BackwardKernel]:
    """An activation row's kernel pair in backend ``k`` (a row without kernels has none: KeyError)."""
    pairs: dict[str, tuple[ForwardKernel, BackwardKernel]] = {
        "relu": (k.relu_forward, k.relu_backward),
        "sigmoid": (k.sigmoid_forward, k.sigmoid_backward),
        "tanh": (k.tanh_forward, k.tanh_backward),
    }
    return pairs[row.name]


def loss_pair(k: Kernels, row: LossRow) -> tuple[LossKernel, LossBackwardKernel]:
    """A loss row's kernel pair in backend ``k``: ``(scores, y, w) -> (loss, outputs)`` and
    ``(outputs, y, w) -> dscores``."""
    pairs: dict[str, tuple[LossKernel, LossBackwardKernel]] = {
        "softmax_cross_entropy": (k.softmax_cross_entropy, k.softmax_cross_entropy_backward),
        "binary_cross_entropy": (k.binary_cross_entropy, k.binary_cross_entropy_backward),
        "squared_error": (k.squared_error, k.squared_error_backward),
        "poisson_deviance": (k.poisson_deviance, k.poisson_deviance_backward),
    }
    return pairs[row.name]


class RawCalls(Protocol):
    """The raw calls a compiled backend supplies (``_kernels.CALLS``) on validated C-contiguous arrays
    with the outputs passed in: exactly ``fastmlp/_cpp.pyi``'s kernel signatures, so the compiled
    module's stub is checked against this interface (cpp_backend) and Numba's loops are held to it."""

    def affine_forward(self, x: FloatArray, w: FloatArray, b: FloatArray | None, out: FloatArray) -> None: ...
    def affine_backward(
        self,
        dout: FloatArray,
        x: FloatArray,
        w: FloatArray,
        dx: FloatArray | None,
        dw: FloatArray,
        db: FloatArray | None,
    ) -> None: ...
    def relu_forward(self, z: FloatArray, out: FloatArray) -> None: ...
    def relu_backward(self, dout: FloatArray, z: FloatArray, out: FloatArray) -> None: ...
    def sigmoid_forward(self, z: FloatArray, out: FloatArray) -> None: ...
    def sigmoid_backward(self, dout: FloatArray, a: FloatArray, out: FloatArray) -> None: ...
    def tanh_forward(self, z: FloatArray, out: FloatArray) -> None: ...
    def tanh_backward(self, dout: FloatArray, a: FloatArray, out: FloatArray) -> None: ...
    def softmax_forward(self, scores: FloatArray, out: FloatArray) -> None: ...
    def softmax_backward(self, dprobs: FloatArray, probs: FloatArray, out: FloatArray) -> None: ...
    def cross_entropy_forward(self, probs: FloatArray, y: Labels) -> float: ...
    def softmax_cross_entropy(self, scores: FloatArray, y: Labels, probs: FloatArray) -> float: ...
    def softmax_cross_entropy_backward(self, probs: FloatArray, y: Labels, out: FloatArray) -> None: ...
    def correct_count(self, scores: FloatArray, y: Labels) -> int: ...
    def sgd_update(
        self,
        param: FloatArray,
        grad: FloatArray,
        velocity: FloatArray | None,
        lr: float,
        reg: float,
        momentum: float,
    ) -> None: ...
    def nesterov_update(
        self,
        param: FloatArray,
        grad: FloatArray,
        velocity: FloatArray,
        lr: float,
        reg: float,
        momentum: float,
    ) -> None: ...
    def adam_update(
        self,
        param: FloatArray,
        grad: FloatArray,
        m: FloatArray,
        v: FloatArray,
        step_size: float,
        reg: float,
        beta1: float,
        beta2: float,
        epsilon: float,
    ) -> None: ...
    def output_loss(
        self,
        loss: int,
        scores: FloatArray,
        labels: Labels | None,
        values: FloatArray | None,
        weights: FloatArray | None,
        out: FloatArray,
    ) -> float: ...
    def loss_gradient(
        self,
        out: FloatArray,
        labels: Labels | None,
        values: FloatArray | None,
        weights: FloatArray | None,
        dscores: FloatArray,
        norm: float,
    ) -> None: ...
