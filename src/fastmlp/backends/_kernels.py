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

(``interface.RawCalls``, the signatures of ``fastmlp/_cpp.pyi``), and ``CompiledBackend`` wraps them
in the public kernels of a ``Backend``: the same signatures as the reference, the argument checks
of ``fastmlp._validate`` (so every backend says the same thing), outputs allocated 64-byte aligned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _validate
from .._memory import aligned_empty
from .interface import ArrayIn, Kernels, NativeEpoch, OptionalArray, Out, RawCalls, activation_pair, loss_pair
from .tables import ACTIVATIONS, LOSSES, OPTIMIZERS, activation_kernels

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


def _same_shape(call: Callable[..., None], out: Out, *named: tuple[str, ArrayIn]) -> np.ndarray:
    """An element-wise kernel: one 2-D input, or an upstream gradient and a cached forward value;
    the output has the last one's shape."""
    arrays: tuple[np.ndarray, ...]
    if len(named) == 1:
        arrays = (_validate.float_array(*named[0], 2),)
    else:
        (first_name, first), (second_name, second) = named
        arrays = _validate.elementwise(first_name, first, second_name, second)
    result = _validate.output("out", out, arrays[-1].shape, arrays[-1].dtype)
    call(*arrays, result)
    return result


def _norm(weights: np.ndarray | None, n: int) -> float:
    """A batch's norm: its rows, or its weights' sum (in float64, as numpy_backend divides)."""
    return float(n) if weights is None else float(np.sum(weights, dtype=np.float64))


class CompiledBackend:
    """A compiled backend (numba, cpp) as a ``Backend``: the public kernels around its ``raw`` calls
    (the same signatures as the reference, the checks of ``fastmlp._validate``, outputs allocated
    64-byte aligned) and its native epoch. Every kernel: same contract as numpy_backend's."""

    def __init__(self, name: str, raw: RawCalls, native_epoch: NativeEpoch | None) -> None:
        self._name, self._raw, self._native_epoch = name, raw, native_epoch

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
        scores, y = _validate.scores_and_labels("scores", scores, y)
        return int(self._raw.correct_count(scores, y)) / int(scores.shape[0])

    def affine_backward(
        self, dout: ArrayIn, x: ArrayIn, w: ArrayIn, need_dx: bool = True, has_bias: bool = True
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        dout, x, w, need_dx, has_bias = _validate.affine_backward(dout, x, w, need_dx, has_bias)
        dx = aligned_empty(x.shape, x.dtype) if need_dx else None
        dw = aligned_empty(w.shape, w.dtype)
        db = aligned_empty(w.shape[1], w.dtype) if has_bias else None
        self._raw.affine_backward(dout, x, w, dx, dw, db)
        return dx, dw, db

    def affine_forward(
        self, x: ArrayIn, w: ArrayIn, b: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        x, w, b = _validate.affine_forward(x, w, b)
        result = _validate.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
        self._raw.affine_forward(x, w, b, result)
        return result

    def cross_entropy_forward(self, probs: ArrayIn, y: ArrayIn) -> float:
        probs, y = _validate.scores_and_labels("probs", probs, y)
        return float(self._raw.cross_entropy_forward(probs, y))

    def sgd_update(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        lr: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        velocity: OptionalArray = None,
    ) -> None:
        lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
        param, velocity = _validate.sgd_buffers(param, grad, momentum, velocity)
        self._raw.sgd_update(param, np.ascontiguousarray(grad), velocity, lr, reg, momentum)

    def nesterov_update(
        self,
        param: ArrayIn,
        grad: ArrayIn,
        lr: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        velocity: OptionalArray = None,
    ) -> None:
        lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
        param, checked = _validate.sgd_buffers(param, grad, 1.0, velocity)
        assert checked is not None  # required by the 1.0 above
        self._raw.nesterov_update(param, np.ascontiguousarray(grad), checked, lr, reg, momentum)

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
    ) -> None:
        arrays, hyper = _validate.adam_update(param, grad, m, v, step_size, reg, b1, b2, eps)
        self._raw.adam_update(*arrays, *hyper)

    def softmax_forward(self, scores: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.softmax_forward, out, ("scores", scores))

    def softmax_backward(self, dprobs: ArrayIn, probs: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.softmax_backward, out, ("dprobs", dprobs), ("probs", probs))

    def relu_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.relu_forward, out, ("z", z))

    def relu_backward(self, dout: ArrayIn, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.relu_backward, out, ("dout", dout), ("z", z))

    def sigmoid_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.sigmoid_forward, out, ("z", z))

    def sigmoid_backward(self, dout: ArrayIn, a: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.sigmoid_backward, out, ("dout", dout), ("a", a))

    def tanh_forward(self, z: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.tanh_forward, out, ("z", z))

    def tanh_backward(self, dout: ArrayIn, a: ArrayIn, *, out: Out = None) -> np.ndarray:
        return _same_shape(self._raw.tanh_backward, out, ("dout", dout), ("a", a))

    def softmax_cross_entropy(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        scores, y = _validate.scores_and_labels("scores", scores, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, scores.shape[0], scores.dtype)
        probs = aligned_empty(scores.shape, scores.dtype)
        if weights is None:
            return float(self._raw.softmax_cross_entropy(scores, y, probs)), probs
        code = LOSSES["softmax_cross_entropy"].code
        return float(self._raw.output_loss(code, scores, y, None, weights, probs)), probs

    def softmax_cross_entropy_backward(
        self, probs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        probs, y = _validate.scores_and_labels("probs", probs, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, probs.shape[0], probs.dtype)
        result = _validate.output("out", out, probs.shape, probs.dtype)
        if weights is None:
            self._raw.softmax_cross_entropy_backward(probs, y, result)
        else:
            self._raw.loss_gradient(probs, y, None, weights, result, _norm(weights, len(probs)))
        return result

    def binary_cross_entropy(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        return self._values_loss("binary_cross_entropy", scores, y, sample_weight)

    def binary_cross_entropy_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        return self._values_gradient(outputs, y, sample_weight, out)

    def squared_error(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        return self._values_loss("squared_error", scores, y, sample_weight)

    def squared_error_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        return self._values_gradient(outputs, y, sample_weight, out)

    def poisson_deviance(
        self, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None
    ) -> tuple[float, np.ndarray]:
        return self._values_loss("poisson_deviance", scores, y, sample_weight)

    def poisson_deviance_backward(
        self, outputs: ArrayIn, y: ArrayIn, sample_weight: OptionalArray = None, *, out: Out = None
    ) -> np.ndarray:
        return self._values_gradient(outputs, y, sample_weight, out, "poisson_deviance")

    def _values_loss(
        self, name: str, scores: ArrayIn, y: ArrayIn, sample_weight: OptionalArray
    ) -> tuple[float, np.ndarray]:
        """A loss row on (N, K) targets through the generic output_loss call."""
        row = LOSSES[name]
        nonnegative_for = name if row.nonnegative_targets else None
        scores, values, weights = _validate.values_loss("scores", scores, y, sample_weight, nonnegative_for)
        outputs = aligned_empty(scores.shape, scores.dtype)
        value = float(self._raw.output_loss(row.code, scores, None, values, weights, outputs))
        return value, scores if row.output == "identity" else outputs  # an identity output is the scores

    def _values_gradient(
        self,
        outputs: ArrayIn,
        y: ArrayIn,
        sample_weight: OptionalArray,
        out: Out,
        nonnegative_for: str | None = None,
    ) -> np.ndarray:
        """``(outputs - y) * w / norm``: every loss row on (N, K) targets."""
        outputs, values, weights = _validate.values_loss(
            "outputs", outputs, y, sample_weight, nonnegative_for
        )
        result = _validate.output("out", out, outputs.shape, outputs.dtype)
        self._raw.loss_gradient(outputs, None, values, weights, result, _norm(weights, len(outputs)))
        return result


for _name in KERNELS:
    getattr(CompiledBackend, _name).__doc__ = f"Same contract as numpy_backend.{_name}."


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
