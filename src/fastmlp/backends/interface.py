"""The typed backend interface: what every backend object is (``Backend``), the callable type of
each kernel shape (``ElementwiseForward``, ``LossKernel``, ``MomentumUpdate``, ...: one signature
per shape, shared by its kernels), what a native epoch is (``NativeEpoch``: the one class
``_epoch.CompiledEpoch``) and what a compiled backend's raw calls are (``RawCalls``, declared
once here; the compiled module's stub ``fastmlp/_cpp.pyi`` takes its kernels from it).

The registry (``backends.get_backend``) returns a ``Backend``; mypy checks every backend against it
(numpy_backend.BACKEND, numba_backend.BACKEND, cpp_backend.BACKEND are annotated with it) and every
call site against it, so no kernel call is typed ``Any``. The contracts (math, shapes, what is
overwritten) are numpy_backend's docstrings; the native epoch's is ``backends._epoch``'s.

Capabilities are declared: ``native_epoch`` is the backend's whole-epoch calls or None (numpy
runs the trainer kernel by kernel); ``warmup()`` compiles whatever compiles lazily (Numba).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ._epoch import CompiledEpoch
    from .tables import ActivationRow, LossRow

    # The native epoch is one class (its contract, checks and signatures) around a backend's two
    # compiled calls, so it is its own interface: no protocol restates its signatures.
    NativeEpoch = CompiledEpoch

FloatArray = npt.NDArray[np.floating]  # float32 or float64, C-contiguous (the raw calls)
Labels = npt.NDArray[np.int64]
ArrayIn = npt.ArrayLike  # what a public kernel accepts (checked by fastmlp._validate)
OptionalArray = npt.ArrayLike | None
Out = npt.NDArray[np.floating] | None  # an optional output buffer


class ElementwiseForward(Protocol):
    """An element-wise forward kernel: ``(z) -> a`` of z's shape (N, M), written into ``out`` if
    given (each activation row's ``<name>_forward``; softmax_forward on the scores)."""

    def __call__(self, z: ArrayIn, /, *, out: Out = None) -> np.ndarray: ...


class ElementwiseBackward(Protocol):
    """An element-wise backward kernel: ``(dout, saved) -> dz``, each (N, M), where ``saved`` is the
    forward value the derivative is written in (``tables.ActivationRow.backward_reads``: z or a;
    probs for softmax_backward), written into ``out`` if given."""

    def __call__(self, dout: ArrayIn, saved: ArrayIn, /, *, out: Out = None) -> np.ndarray: ...


class LossKernel(Protocol):
    """A loss row's forward (``tables.LOSSES``): scores (N, K), y the row's targets, sample_weight
    (N,) or None -> (the weighted mean loss, the output layer's values (N, K))."""

    def __call__(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]: ...


class LossBackwardKernel(Protocol):
    """A loss row's backward: the output layer's values (N, K) (probs or outputs), y, sample_weight
    -> dscores (N, K), written into ``out`` if given."""

    def __call__(
        self, outputs: ArrayIn, /, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...


class MomentumUpdate(Protocol):
    """A momentum-family step in place (``tables.OPTIMIZERS``: sgd_update, nesterov_update share
    it): param, grad and velocity of one shape and dtype; velocity required when momentum > 0."""

    def __call__(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        lr: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        velocity: OptionalArray = None,
    ) -> None: ...


class AdamUpdate(Protocol):
    """Adam's step in place (``tables.OPTIMIZERS``): param, grad, m and v of one shape and dtype."""

    def __call__(
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


class Kernels(Protocol):
    """The public kernels, the same signatures in every backend (``_kernels.KERNELS``). The kernels
    of one shape share one callable type above, so each signature is written once."""

    def accuracy(self, scores: ArrayIn, y: ArrayIn) -> float: ...
    def affine_backward(
        self, dout: ArrayIn, x: ArrayIn, w: ArrayIn, need_dx: bool = True, has_bias: bool = True
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]: ...
    def affine_forward(
        self, x: ArrayIn, w: ArrayIn, b: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray: ...
    def cross_entropy_forward(self, probs: ArrayIn, y: ArrayIn) -> float: ...

    relu_forward: ElementwiseForward
    relu_backward: ElementwiseBackward
    sigmoid_forward: ElementwiseForward
    sigmoid_backward: ElementwiseBackward
    tanh_forward: ElementwiseForward
    tanh_backward: ElementwiseBackward
    softmax_forward: ElementwiseForward
    softmax_backward: ElementwiseBackward
    softmax_cross_entropy: LossKernel
    softmax_cross_entropy_backward: LossBackwardKernel
    binary_cross_entropy: LossKernel
    binary_cross_entropy_backward: LossBackwardKernel
    squared_error: LossKernel
    squared_error_backward: LossBackwardKernel
    poisson_deviance: LossKernel
    poisson_deviance_backward: LossBackwardKernel
    sgd_update: MomentumUpdate
    nesterov_update: MomentumUpdate
    adam_update: AdamUpdate


class Backend(Kernels, Protocol):
    """A backend: its name, the kernels, and its declared capabilities."""

    @property
    def name(self) -> str: ...
    @property
    def native_epoch(self) -> NativeEpoch | None: ...
    def warmup(self) -> None:
        """Compile every kernel and the native epoch for float32 and float64 (outside any timing)."""


def activation_pair(k: Kernels, row: ActivationRow) -> tuple[ElementwiseForward, ElementwiseBackward]:
    """An activation row's kernel pair in backend ``k`` (a row without kernels has none: KeyError)."""
    pairs: dict[str, tuple[ElementwiseForward, ElementwiseBackward]] = {
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
    with the outputs passed in. Declared here once: the compiled module's stub (``fastmlp/_cpp.pyi``)
    takes its kernels' signatures from this protocol, ``tests/test_cpp_stub.py`` holds them to the
    binding, and Numba's loops are held to them (numba_backend)."""

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
