"""The kernel interface of the compiled backends, written once.

``numpy_backend`` is the specification: every kernel's contract (math, shapes, what is
overwritten) is its docstring there. A compiled backend (numba, cpp) supplies only its raw calls,
one per kernel, on validated C-contiguous arrays with the outputs passed in:

    affine_forward(x, w, b, out)              affine_backward(dout, x, w, dx, dw, db)
    <act>_forward(z, out)                     <act>_backward(dout, z or a, out)   (tables.ACTIVATIONS)
    softmax_forward(scores, out)              softmax_backward(dprobs, probs, out)
    cross_entropy_forward(probs, y) -> loss   softmax_cross_entropy(scores, y, probs) -> loss
    softmax_cross_entropy_backward(probs, y, out)
    output_loss(code, scores, labels, values, weights, out) -> loss   (any row of tables.LOSSES)
    loss_gradient(out, labels, values, weights, dscores, norm)        ((out - target) * w / norm)
    correct_count(scores, y) -> int           sgd_update(param, grad, velocity, lr, reg, momentum)
    nesterov_update(param, grad, velocity, lr, reg, momentum)
    adam_update(param, grad, m, v, step_size, reg, b1, b2, eps)

(``interface.RawCalls``, declared there once; ``fastmlp/_cpp.pyi`` takes its kernels from it), and
``CompiledBackend`` wraps them in the public kernels of a ``Backend``: the interface's callable
types (one per kernel shape), the argument checks of ``fastmlp._validate`` (so every backend says
the same thing), outputs allocated 64-byte aligned. An update kernel is its check (whose
signature it is) composed with its raw call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np

from .. import _validate
from .._memory import aligned_empty
from .interface import (
    ArrayIn,
    Backend,
    FloatArray,
    Kernels,
    OptionalArray,
    Out,
    RawCalls,
    activation_pair,
    loss_pair,
)
from .tables import ACTIVATIONS, LOSSES, OPTIMIZERS, LossRow, activation_kernels

if TYPE_CHECKING:
    from .interface import NativeEpoch

P = ParamSpec("P")
Checked = TypeVar("Checked")

_FIXED_KERNELS = (
    "accuracy",
    "affine_backward",
    "affine_forward",
    "cross_entropy_forward",
    "softmax_backward",
    "softmax_forward",
)
_LOSS_KERNELS = tuple(
    kernel for row in LOSSES.values() for kernel in (row.forward_kernel, row.backward_kernel)
)
# The kernel interface of every backend, sorted: the fixed kernels, each activation row's pair,
# each loss row's pair and each optimizer row's update.
KERNELS = tuple(
    sorted(
        (*_FIXED_KERNELS, *activation_kernels(), *_LOSS_KERNELS, *(row.kernel for row in OPTIMIZERS.values()))
    )
)
# The raw calls a compiled backend supplies: the kernels, with correct_count behind accuracy and the
# generic output_loss / loss_gradient behind the loss rows other than today's softmax path.
CALLS = tuple(
    sorted(
        {*KERNELS, "correct_count", "output_loss", "loss_gradient", "softmax_cross_entropy"}
        - {
            "accuracy",
            "binary_cross_entropy",
            "binary_cross_entropy_backward",
            "squared_error",
            "squared_error_backward",
            "poisson_deviance",
            "poisson_deviance_backward",
        }
    )
)


def _norm(weights: np.ndarray | None, n: int) -> float:
    """A batch's norm: its rows, or its weights' sum (in float64, as numpy_backend divides)."""
    return float(n) if weights is None else float(np.sum(weights, dtype=np.float64))


class _Elementwise:
    """An element-wise kernel around a raw ``(*inputs, out)`` call: one 2-D input, or an upstream
    gradient and a saved forward value; the output has the last input's shape. The subclasses
    below only name the inputs, as the reference does (the names appear in errors)."""

    def __init__(self, name: str, call: Callable[..., None], *arguments: str) -> None:
        self._call, self._arguments = call, arguments
        self.__doc__ = f"Same contract as numpy_backend.{name}."

    def _run(self, out: Out, *inputs: ArrayIn) -> np.ndarray:
        arrays: tuple[np.ndarray, ...]
        if len(inputs) == 1:
            arrays = (_validate.float_array(self._arguments[0], inputs[0], 2),)
        else:
            arrays = _validate.elementwise(self._arguments[0], inputs[0], self._arguments[1], inputs[1])
        result = _validate.output("out", out, arrays[-1].shape, arrays[-1].dtype)
        self._call(*arrays, result)
        return result


class _Forward(_Elementwise):
    """An activation row's forward (``interface.ElementwiseForward``)."""

    def __call__(self, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return self._run(out, z)


class _SoftmaxForward(_Elementwise):
    def __call__(self, scores: ArrayIn, *, out: Out = None) -> np.ndarray:
        return self._run(out, scores)


class _BackwardReadingZ(_Elementwise):
    """The backward of a row whose derivative is written in its input (``backward_reads == "z"``)."""

    def __call__(self, dout: ArrayIn, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return self._run(out, dout, z)


class _BackwardReadingA(_Elementwise):
    """The backward of a row whose derivative is written in its output (``backward_reads == "a"``)."""

    def __call__(self, dout: ArrayIn, a: ArrayIn, *, out: Out = None) -> np.ndarray:
        return self._run(out, dout, a)


class _SoftmaxBackward(_Elementwise):
    def __call__(self, dprobs: ArrayIn, probs: ArrayIn, *, out: Out = None) -> np.ndarray:
        return self._run(out, dprobs, probs)


def _checked(check: Callable[P, Checked], call: Callable[[Checked], None]) -> Callable[P, None]:
    """An update kernel as its two halves: ``check`` (fastmlp._validate's, which has the kernel's
    signature) and the raw ``call`` on what it returns."""

    @functools.wraps(check)  # its signature: the reference's (tests/test_cpp_build.py)
    def kernel(*args: P.args, **kwargs: P.kwargs) -> None:
        call(check(*args, **kwargs))

    kernel.__doc__ = f"Same contract as numpy_backend.{check.__name__}."
    return kernel


class _LabelsLoss:
    """``interface.LossKernel`` for the softmax row on (N,) labels: today's fused call unweighted,
    the generic ``output_loss`` with sample weights."""

    def __init__(self, raw: RawCalls) -> None:
        self._raw = raw
        self.__doc__ = "Same contract as numpy_backend.softmax_cross_entropy."

    def __call__(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        scores, y = _validate.scores_and_labels("scores", scores, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, scores.shape[0], scores.dtype)
        probs = aligned_empty(scores.shape, scores.dtype)
        if weights is None:
            return float(self._raw.softmax_cross_entropy(scores, y, probs)), probs
        code = LOSSES["softmax_cross_entropy"].code
        return float(self._raw.output_loss(code, scores, y, None, weights, probs)), probs


class _LabelsGradient:
    """``interface.LossBackwardKernel`` for the softmax row on (N,) labels."""

    def __init__(self, raw: RawCalls) -> None:
        self._raw = raw
        self.__doc__ = "Same contract as numpy_backend.softmax_cross_entropy_backward."

    def __call__(
        self, probs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        probs, labels = _validate.scores_and_labels("probs", probs, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, probs.shape[0], probs.dtype)
        result = _validate.output("out", out, probs.shape, probs.dtype)
        if weights is None:
            self._raw.softmax_cross_entropy_backward(probs, labels, result)
        else:
            self._raw.loss_gradient(probs, labels, None, weights, result, _norm(weights, len(probs)))
        return result


class _ValuesLoss:
    """``interface.LossKernel`` for a loss row on (N, K) targets, through the generic output_loss."""

    def __init__(self, raw: RawCalls, row: LossRow) -> None:
        self._raw, self._row = raw, row
        self.__doc__ = f"Same contract as numpy_backend.{row.forward_kernel}."

    def __call__(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        nonnegative_for = self._row.nonnegative_for  # Poisson: y >= 0
        scores, values, weights = _validate.values_loss("scores", scores, y, sample_weight, nonnegative_for)
        outputs = aligned_empty(scores.shape, scores.dtype)
        value = float(self._raw.output_loss(self._row.code, scores, None, values, weights, outputs))
        return (
            value,
            scores if self._row.output == "identity" else outputs,
        )  # an identity output is the scores


class _ValuesGradient:
    """``interface.LossBackwardKernel`` for every loss row on (N, K) targets: ``(outputs - y) * w / norm``."""

    def __init__(self, raw: RawCalls, row: LossRow) -> None:
        self._raw, self._row = raw, row
        self.__doc__ = f"Same contract as numpy_backend.{row.backward_kernel}."

    def __call__(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        outputs, values, weights = _validate.values_loss(
            "outputs",
            outputs,
            y,
            sample_weight,
            self._row.nonnegative_for,  # Poisson: y >= 0
        )
        result = _validate.output("out", out, outputs.shape, outputs.dtype)
        self._raw.loss_gradient(outputs, None, values, weights, result, _norm(weights, len(outputs)))
        return result


class CompiledBackend(Backend):
    """A compiled backend (numba, cpp) as a ``Backend``: the public kernels around its ``raw`` calls
    (the same signatures as the reference, the checks of ``fastmlp._validate``, outputs allocated
    64-byte aligned) and its native epoch. Every kernel: same contract as numpy_backend's. The
    kernels of one shape are one class each above, made here per table row (the signatures are
    the interface's, written once there)."""

    def __init__(self, name: str, raw: RawCalls, native_epoch: NativeEpoch | None) -> None:
        self._name, self._raw, self._native_epoch = name, raw, native_epoch
        self.relu_forward = _Forward("relu_forward", raw.relu_forward, "z")
        self.relu_backward = _BackwardReadingZ("relu_backward", raw.relu_backward, "dout", "z")
        self.sigmoid_forward = _Forward("sigmoid_forward", raw.sigmoid_forward, "z")
        self.sigmoid_backward = _BackwardReadingA("sigmoid_backward", raw.sigmoid_backward, "dout", "a")
        self.tanh_forward = _Forward("tanh_forward", raw.tanh_forward, "z")
        self.tanh_backward = _BackwardReadingA("tanh_backward", raw.tanh_backward, "dout", "a")
        self.softmax_forward = _SoftmaxForward("softmax_forward", raw.softmax_forward, "scores")
        self.softmax_backward = _SoftmaxBackward("softmax_backward", raw.softmax_backward, "dprobs", "probs")
        self.softmax_cross_entropy = _LabelsLoss(raw)
        self.softmax_cross_entropy_backward = _LabelsGradient(raw)
        self.binary_cross_entropy = _ValuesLoss(raw, LOSSES["binary_cross_entropy"])
        self.binary_cross_entropy_backward = _ValuesGradient(raw, LOSSES["binary_cross_entropy"])
        self.squared_error = _ValuesLoss(raw, LOSSES["squared_error"])
        self.squared_error_backward = _ValuesGradient(raw, LOSSES["squared_error"])
        self.poisson_deviance = _ValuesLoss(raw, LOSSES["poisson_deviance"])
        self.poisson_deviance_backward = _ValuesGradient(raw, LOSSES["poisson_deviance"])
        self.sgd_update = _checked(_validate.sgd_update, lambda arguments: raw.sgd_update(*arguments))
        self.nesterov_update = _checked(
            _validate.nesterov_update, lambda arguments: _nesterov(raw, *arguments)
        )
        self.adam_update = _checked(
            _validate.adam_update, lambda checked: raw.adam_update(*checked[0], *checked[1])
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def native_epoch(self) -> NativeEpoch | None:
        return self._native_epoch

    def warmup(self) -> None:
        """Nothing compiles lazily here (numba_backend's subclass compiles its loops)."""

    def __repr__(self) -> str:
        return f"<fastmlp backend {self._name!r}>"

    def accuracy(self, scores: ArrayIn, y: ArrayIn) -> float:
        """Same contract as numpy_backend.accuracy."""
        scores, y = _validate.scores_and_labels("scores", scores, y)
        return int(self._raw.correct_count(scores, y)) / int(scores.shape[0])

    def affine_backward(
        self, dout: ArrayIn, x: ArrayIn, w: ArrayIn, need_dx: bool = True, has_bias: bool = True
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        """Same contract as numpy_backend.affine_backward."""
        dout, x, w, need_dx, has_bias = _validate.affine_backward(dout, x, w, need_dx, has_bias)
        dx = aligned_empty(x.shape, x.dtype) if need_dx else None
        dw = aligned_empty(w.shape, w.dtype)
        db = aligned_empty(w.shape[1], w.dtype) if has_bias else None
        self._raw.affine_backward(dout, x, w, dx, dw, db)
        return dx, dw, db

    def affine_forward(
        self, x: ArrayIn, w: ArrayIn, b: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        """Same contract as numpy_backend.affine_forward."""
        x, w, b = _validate.affine_forward(x, w, b)
        result = _validate.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
        self._raw.affine_forward(x, w, b, result)
        return result

    def cross_entropy_forward(self, probs: ArrayIn, y: ArrayIn) -> float:
        """Same contract as numpy_backend.cross_entropy_forward."""
        probs, y = _validate.scores_and_labels("probs", probs, y)
        return float(self._raw.cross_entropy_forward(probs, y))


def _nesterov(
    raw: RawCalls,
    param: FloatArray,
    grad: FloatArray,
    velocity: FloatArray | None,
    lr: float,
    reg: float,
    m: float,
) -> None:
    assert velocity is not None  # _validate.nesterov_update requires it
    raw.nesterov_update(param, grad, velocity, lr, reg, m)


def exercise(k: Kernels) -> None:
    """Call every kernel on tiny float32 and float64 inputs (Numba compiles on first use)."""
    y = np.array([0, 1, 1], dtype=np.int64)
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2)
        w = np.ones((2, 2), dtype=dtype)
        b = np.zeros(2, dtype=dtype)
        k.affine_forward(x, w, b)
        k.affine_forward(x, w)
        k.affine_backward(x, x, w)
        k.affine_backward(x, x, w, need_dx=False, has_bias=False)
        for row in ACTIVATIONS.values():
            if row.has_kernels:
                forward, backward = activation_pair(k, row)
                backward(x, forward(x))
        k.softmax_backward(x, k.softmax_forward(x))
        probs = k.softmax_forward(x)
        k.cross_entropy_forward(probs, y)
        k.softmax_cross_entropy(x, y)
        k.softmax_cross_entropy_backward(probs, y)
        k.accuracy(x, y)
        k.sgd_update(w.copy(), w, 0.1, 0.01)
        k.sgd_update(w.copy(), w, 0.1, 0.01, 0.9, np.zeros_like(w))
        k.nesterov_update(w.copy(), w, 0.1, 0.01, 0.9, np.zeros_like(w))
        k.adam_update(w.copy(), w, np.zeros_like(w), np.zeros_like(w), 0.1, 0.01, 0.9, 0.999, 1e-8)
        targets, weights = (np.abs(x) > 0.5).astype(dtype), np.ones(3, dtype)
        for loss_row in LOSSES.values():
            loss, gradient = loss_pair(k, loss_row)
            _, outputs = loss(x, y if loss_row.targets == "labels" else targets, weights)
            gradient(outputs, y if loss_row.targets == "labels" else targets, weights)
