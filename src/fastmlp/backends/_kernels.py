"""The kernel interface of the compiled backends, written once.

``numpy_backend`` is the specification: every kernel's contract (math, shapes, what is
overwritten) is its docstring there. A compiled backend (numba, cpp) supplies only its raw calls,
one per kernel, on validated C-contiguous arrays with the outputs passed in:

    affine_forward(x, w, b, out)              affine_backward(dout, x, w, dx, dw, db)
    <act>_forward(z, out)                     <act>_backward(dout, z or a, out)   (tables.ACTIVATIONS)
    softmax_forward(scores, out)              softmax_backward(dprobs, probs, out)
    cross_entropy_forward(probs, y) -> loss   softmax_cross_entropy(scores, y, probs) -> loss
    softmax_cross_entropy_backward(probs, y, out)
    correct_count(scores, y) -> int           sgd_update(param, grad, velocity, lr, reg, momentum)

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
from .tables import ACTIVATIONS, activation_kernels

_FIXED_KERNELS = (
    "accuracy",
    "affine_backward",
    "affine_forward",
    "cross_entropy_forward",
    "sgd_update",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "softmax_forward",
)
# The kernel interface of every backend: the fixed kernels and each activation row's pair, sorted.
KERNELS = tuple(sorted((*_FIXED_KERNELS, *activation_kernels())))
# The raw calls a compiled backend supplies (the kernels, with correct_count behind accuracy).
CALLS = tuple(sorted({*KERNELS, "correct_count"} - {"accuracy"}))


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

    def softmax_cross_entropy(scores: Any, y: Any) -> tuple[float, np.ndarray]:
        scores, y = _validate.scores_and_labels("scores", scores, y)
        probs = aligned_empty(scores.shape, scores.dtype)
        return float(c["softmax_cross_entropy"](scores, y, probs)), probs

    def softmax_cross_entropy_backward(probs: Any, y: Any, *, out: Any = None) -> np.ndarray:
        probs, y = _validate.scores_and_labels("probs", probs, y)
        result = _validate.output("out", out, probs.shape, probs.dtype)
        c["softmax_cross_entropy_backward"](probs, y, result)
        return result

    def softmax_forward(scores: Any, *, out: Any = None) -> np.ndarray:
        return _same_shape(c["softmax_forward"], out, ("scores", scores))

    defined = locals() | _activation_entry_points(c)
    functions: dict[str, Callable[..., Any]] = {name: defined[name] for name in KERNELS}
    for name, function in functions.items():
        function.__doc__ = f"Same contract as numpy_backend.{name}; implementation notes: {module}."
        function.__module__ = module
        function.__qualname__ = name
    return functions


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
