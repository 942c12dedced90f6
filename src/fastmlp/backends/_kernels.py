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

and ``entry_points`` wraps them in the public functions: the same signatures as the reference,
the argument checks of ``fastmlp._validate`` (so every backend says the same thing), outputs
allocated 64-byte aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import _validate
from .._memory import aligned_empty
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
        }
    )
)


def _same_shape(call: Callable[..., Any], out: Any, *named: tuple[str, Any]) -> np.ndarray:
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


def entry_points(calls: Mapping[str, Callable[..., Any]], module: str) -> dict[str, Callable[..., Any]]:
    """The public kernels of backend ``module`` around its raw ``calls`` (keyed as ``CALLS``)."""
    c = calls

    def accuracy(scores: Any, y: Any) -> float:
        scores, y = _validate.scores_and_labels("scores", scores, y)
        return int(c["correct_count"](scores, y)) / int(scores.shape[0])

    def affine_backward(
        dout: Any, x: Any, w: Any, need_dx: bool = True, has_bias: bool = True
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        dout, x, w, need_dx, has_bias = _validate.affine_backward(dout, x, w, need_dx, has_bias)
        dx = aligned_empty(x.shape, x.dtype) if need_dx else None
        dw = aligned_empty(w.shape, w.dtype)
        db = aligned_empty(w.shape[1], w.dtype) if has_bias else None
        c["affine_backward"](dout, x, w, dx, dw, db)
        return dx, dw, db

    def affine_forward(x: Any, w: Any, b: Any = None, *, out: Any = None) -> np.ndarray:
        x, w, b = _validate.affine_forward(x, w, b)
        result = _validate.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
        c["affine_forward"](x, w, b, result)
        return result

    def cross_entropy_forward(probs: Any, y: Any) -> float:
        probs, y = _validate.scores_and_labels("probs", probs, y)
        return float(c["cross_entropy_forward"](probs, y))

    def sgd_update(
        param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
    ) -> None:
        lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
        _validate.sgd_buffers(param, grad, momentum, velocity)
        c["sgd_update"](param, np.ascontiguousarray(grad), velocity, lr, reg, momentum)

    def softmax_backward(dprobs: Any, probs: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(c["softmax_backward"], out, ("dprobs", dprobs), ("probs", probs))

    def softmax_cross_entropy(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
        scores, y = _validate.scores_and_labels("scores", scores, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, scores.shape[0], scores.dtype)
        probs = aligned_empty(scores.shape, scores.dtype)
        if weights is None:
            return float(c["softmax_cross_entropy"](scores, y, probs)), probs
        code = LOSSES["softmax_cross_entropy"].code
        return float(c["output_loss"](code, scores, y, None, weights, probs)), probs

    def softmax_cross_entropy_backward(
        probs: Any, y: Any, sample_weight: Any = None, *, out: Any = None
    ) -> np.ndarray:
        probs, y = _validate.scores_and_labels("probs", probs, y)
        weights = _validate.sample_weight("sample_weight", sample_weight, probs.shape[0], probs.dtype)
        result = _validate.output("out", out, probs.shape, probs.dtype)
        if weights is None:
            c["softmax_cross_entropy_backward"](probs, y, result)
        else:
            c["loss_gradient"](probs, y, None, weights, result, _norm(weights, len(probs)))
        return result

    def nesterov_update(
        param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
    ) -> None:
        lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
        _validate.sgd_buffers(param, grad, 1.0, velocity)
        c["nesterov_update"](param, np.ascontiguousarray(grad), velocity, lr, reg, momentum)

    def adam_update(
        param: Any, grad: Any, m: Any, v: Any, step_size: float, reg: float, b1: float, b2: float, eps: float
    ) -> None:
        hyper = _validate.adam_update(param, grad, m, v, step_size, reg, b1, b2, eps)
        c["adam_update"](param, np.ascontiguousarray(grad), m, v, *hyper)

    def softmax_forward(scores: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(c["softmax_forward"], out, ("scores", scores))

    defined = locals() | _activation_entry_points(c) | _values_loss_entry_points(c)
    functions: dict[str, Callable[..., Any]] = {name: defined[name] for name in KERNELS}
    for name, function in functions.items():
        function.__doc__ = f"Same contract as numpy_backend.{name}; implementation notes: {module}."
        function.__module__ = module
        function.__qualname__ = name
    return functions


def _norm(weights: np.ndarray | None, n: int) -> float:
    """A batch's norm: its rows, or its weights' sum (in float64, as numpy_backend divides)."""
    return float(n) if weights is None else float(np.sum(weights, dtype=np.float64))


def _forward(call: Callable[..., Any]) -> Callable[..., np.ndarray]:
    def forward(z: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(call, out, ("z", z))

    return forward


def _backward_reading_z(call: Callable[..., Any]) -> Callable[..., np.ndarray]:
    def backward(dout: Any, z: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(call, out, ("dout", dout), ("z", z))

    return backward


def _backward_reading_a(call: Callable[..., Any]) -> Callable[..., np.ndarray]:
    def backward(dout: Any, a: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(call, out, ("dout", dout), ("a", a))

    return backward


_BACKWARD = {"z": _backward_reading_z, "a": _backward_reading_a}  # by a row's backward_reads


def _values_loss_entry_points(c: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Each loss row on (N, K) targets: ``<loss>(scores, y, sample_weight=None) -> (loss, outputs)``
    and ``<loss>_backward(outputs, y, sample_weight=None, *, out=None)``, through the generic calls."""
    functions: dict[str, Callable[..., Any]] = {}
    for row in LOSSES.values():
        if row.targets != "labels":
            functions[row.forward_kernel] = _values_loss(c["output_loss"], row.code, row.output == "identity")
            functions[row.backward_kernel] = _values_gradient(c["loss_gradient"])
    return functions


def _values_loss(
    call: Callable[..., Any], code: int, identity: bool
) -> Callable[..., tuple[float, np.ndarray]]:
    def loss(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
        scores, y, weights = _validate.values_loss("scores", scores, y, sample_weight)
        outputs = aligned_empty(scores.shape, scores.dtype)
        value = float(call(code, scores, None, y, weights, outputs))
        return value, scores if identity else outputs  # an identity output is the scores themselves

    return loss


def _values_gradient(call: Callable[..., Any]) -> Callable[..., np.ndarray]:
    def backward(outputs: Any, y: Any, sample_weight: Any = None, *, out: Any = None) -> np.ndarray:
        outputs, y, weights = _validate.values_loss("outputs", outputs, y, sample_weight)
        result = _validate.output("out", out, outputs.shape, outputs.dtype)
        call(outputs, None, y, weights, result, _norm(weights, len(outputs)))
        return result

    return backward


def _activation_entry_points(c: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Each activation row's public pair: ``<act>_forward(z, *, out=None)`` and
    ``<act>_backward(dout, z or a, *, out=None)`` (the argument its row's backward_reads names)."""
    functions: dict[str, Callable[..., Any]] = {}
    for row in ACTIVATIONS.values():
        if row.backward_reads is not None:
            functions[row.forward_kernel] = _forward(c[row.forward_kernel])
            functions[row.backward_kernel] = _BACKWARD[row.backward_reads](c[row.backward_kernel])
    return functions


def exercise(kernels: Mapping[str, Callable[..., Any]]) -> None:
    """Call every kernel on tiny float32 and float64 inputs (Numba compiles on first use)."""
    y = np.array([0, 1, 1], dtype=np.int64)
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2)
        w = np.ones((2, 2), dtype=dtype)
        b = np.zeros(2, dtype=dtype)
        kernels["affine_forward"](x, w, b)
        kernels["affine_forward"](x, w)
        kernels["affine_backward"](x, x, w)
        kernels["affine_backward"](x, x, w, need_dx=False, has_bias=False)
        for row in ACTIVATIONS.values():
            if row.has_kernels:
                kernels[row.backward_kernel](x, kernels[row.forward_kernel](x))
        kernels["softmax_backward"](x, kernels["softmax_forward"](x))
        probs = kernels["softmax_forward"](x)
        kernels["cross_entropy_forward"](probs, y)
        kernels["softmax_cross_entropy"](x, y)
        kernels["softmax_cross_entropy_backward"](probs, y)
        kernels["accuracy"](x, y)
        kernels["sgd_update"](w.copy(), w, 0.1, 0.01)
        kernels["sgd_update"](w.copy(), w, 0.1, 0.01, 0.9, np.zeros_like(w))
        kernels["nesterov_update"](w.copy(), w, 0.1, 0.01, 0.9, np.zeros_like(w))
        kernels["adam_update"](w.copy(), w, np.zeros_like(w), np.zeros_like(w), 0.1, 0.01, 0.9, 0.999, 1e-8)
        targets, weights = np.abs(x) > 0.5, np.ones(3, dtype)
        for name in ("binary_cross_entropy", "squared_error"):
            _, outputs = kernels[name](x, targets, weights)
            kernels[f"{name}_backward"](outputs, targets, weights)
        kernels["softmax_cross_entropy"](x, y, weights)
        kernels["softmax_cross_entropy_backward"](probs, y, weights)
