"""Argument validation: every check of a user-supplied value, in one place.

Each public entry point (a kernel, the native epoch, ``Network``, ``SGD``, ``train``) validates
the values it receives here, once, and what it passes inward is trusted. That keeps the error
messages identical across backends and means the native code only ever sees C-contiguous arrays
of the right dtype and shape. Errors are ``fastmlp.errors.FastmlpValueError`` /
``FastmlpTypeError`` (subclasses of ValueError / TypeError) naming the argument.

Policy (documented in the README):
- arrays must be ``numpy.ndarray`` of float32 or float64 (TypeError otherwise); all float
  arguments of one call share one dtype (TypeError), nothing is cast silently;
- non-contiguous *inputs* are copied to C order; ``out=`` buffers and in-place parameters are
  never copied, so they must be C-contiguous, writable and of the exact shape and dtype
  (ValueError / TypeError);
- labels are a 1-D array of any integer dtype with values in [0, C) (TypeError / ValueError);
- the batch must not be empty (ValueError).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._memory import aligned_empty
from .errors import FastmlpTypeError, FastmlpValueError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"


def float_array(name: str, value: Any, ndim: int) -> np.ndarray:
    """Return ``value`` as a C-contiguous float array of ``ndim`` dimensions, or raise."""
    if not isinstance(value, np.ndarray):
        raise FastmlpTypeError(
            f"{name} must be a numpy.ndarray of float32 or float64, got {_describe(value)}"
        )
    if value.dtype not in FLOAT_DTYPES:
        raise FastmlpTypeError(f"{name} must have dtype float32 or float64, got dtype {value.dtype}")
    if value.ndim != ndim:
        raise FastmlpValueError(f"{name} must be {ndim}-D, got {value.ndim}-D array of shape {value.shape}")
    if ndim >= 1 and value.shape[0] == 0:
        raise FastmlpValueError(f"{name} must not be empty, got shape {value.shape}")
    if ndim == 2 and value.shape[1] == 0:
        raise FastmlpValueError(f"{name} must have at least one column, got shape {value.shape}")
    return np.ascontiguousarray(value)


def same_dtype(reference_name: str, reference: np.ndarray, **others: np.ndarray | None) -> None:
    """Raise TypeError unless every array in ``others`` has the dtype of ``reference``."""
    for name, array in others.items():
        if array is not None and array.dtype != reference.dtype:
            raise FastmlpTypeError(
                f"{name} must have the dtype of {reference_name} ({reference.dtype}), "
                f"got {array.dtype}; fastmlp never casts silently"
            )


def same_shape(name: str, value: np.ndarray, expected: tuple[int, ...], what: str) -> None:
    if value.shape != expected:
        raise FastmlpValueError(f"{name} must have shape {expected} ({what}), got {value.shape}")


def labels(name: str, value: Any, n: int, num_classes: int) -> np.ndarray:
    """Return labels as a C-contiguous int64 array of length ``n`` in [0, num_classes)."""
    if not isinstance(value, np.ndarray):
        raise FastmlpTypeError(f"{name} must be a numpy.ndarray of integers, got {_describe(value)}")
    if value.dtype.kind not in "iu":
        raise FastmlpTypeError(f"{name} must have an integer dtype, got dtype {value.dtype}")
    if value.ndim != 1:
        raise FastmlpValueError(f"{name} must be 1-D, got {value.ndim}-D array of shape {value.shape}")
    if value.shape[0] != n:
        raise FastmlpValueError(f"{name} must have length {n} (one label per row), got {value.shape[0]}")
    lo, hi = int(value.min()), int(value.max())
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        raise FastmlpValueError(f"{name} must lie in [0, {num_classes}), got a label {bad}")
    return np.ascontiguousarray(value, dtype=np.int64)


def output(name: str, out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Return ``out`` if it is a usable output buffer, or a fresh empty array if it is None."""
    if out is None:
        return aligned_empty(shape, dtype)
    writable_buffer(name, out, shape, dtype)
    checked: np.ndarray = out
    return checked


def writable_buffer(name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Raise unless ``value`` can be overwritten in place as an array of ``shape`` and ``dtype``."""
    if not isinstance(value, np.ndarray):
        raise FastmlpTypeError(f"{name} must be a numpy.ndarray, got {_describe(value)}")
    if value.dtype != dtype:
        raise FastmlpTypeError(f"{name} must have dtype {dtype}, got {value.dtype}")
    if value.shape != shape:
        raise FastmlpValueError(f"{name} must have shape {shape}, got {value.shape}")
    if not value.flags.c_contiguous:
        raise FastmlpValueError(f"{name} must be C-contiguous because it is written in place")
    if not value.flags.writeable:
        raise FastmlpValueError(f"{name} must be writable because it is written in place")


def real_number(name: str, value: Any, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite float, raising TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FastmlpTypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number):
        raise FastmlpValueError(f"{name} must be finite, got {number}")
    if minimum is not None and number < minimum:
        raise FastmlpValueError(f"{name} must be >= {minimum}, got {number}")
    return number


def int_at_least(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bool is not an int here), raising TypeError/ValueError
    naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise FastmlpTypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise FastmlpValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """A count or size: an int >= 1."""
    return int_at_least(name, value, 1)


def seed(name: str, value: Any) -> int:
    """A random seed: an int >= 0."""
    return int_at_least(name, value, 0)


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise FastmlpTypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


# --- per-kernel argument checks: one function per kernel signature shape -------------------


def _weights_match_inputs(x: np.ndarray, w: np.ndarray) -> None:
    if w.shape[0] != x.shape[1]:
        raise FastmlpValueError(
            f"w must have shape ({x.shape[1]}, M) to match x of shape {x.shape}, got {w.shape}"
        )


def affine_forward(x: Any, w: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x = float_array("x", x, 2)
    w = float_array("w", w, 2)
    same_dtype("x", x, w=w)
    _weights_match_inputs(x, w)
    if b is not None:
        b = float_array("b", b, 1)
        same_dtype("x", x, b=b)
        same_shape("b", b, (w.shape[1],), "one bias per output column of w")
    return x, w, b


def affine_backward(
    dout: Any, x: Any, w: Any, need_dx: Any, has_bias: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool]:
    dout = float_array("dout", dout, 2)
    x = float_array("x", x, 2)
    w = float_array("w", w, 2)
    same_dtype("dout", dout, x=x, w=w)
    _weights_match_inputs(x, w)
    same_shape("dout", dout, (x.shape[0], w.shape[1]), "(N, M) from x (N, D) and w (D, M)")
    return dout, x, w, flag("need_dx", need_dx), flag("has_bias", has_bias)


def elementwise(first_name: str, first: Any, second_name: str, second: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two same-shape 2-D float arrays (upstream gradient and cached forward value)."""
    a = float_array(first_name, first, 2)
    b = float_array(second_name, second, 2)
    same_dtype(first_name, a, **{second_name: b})
    same_shape(second_name, b, a.shape, f"the shape of {first_name}")
    return a, b


def scores_and_labels(name: str, scores: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    s = float_array(name, scores, 2)
    return s, labels("y", y, s.shape[0], s.shape[1])


def sgd_hyperparameters(lr: Any, reg: Any, momentum: Any) -> tuple[float, float, float]:
    lr = real_number("lr", lr)
    if lr <= 0:
        raise FastmlpValueError(f"lr must be > 0, got {lr}")
    reg = real_number("reg", reg, minimum=0.0)
    momentum = real_number("momentum", momentum, minimum=0.0)
    if momentum >= 1.0:
        raise FastmlpValueError(f"momentum must be < 1, got {momentum}")
    return lr, reg, momentum


def sgd_buffers(
    param: Any, grad: Any, momentum: float, velocity: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """param and velocity are updated in place, so they are never copied: check them as buffers
    (returned as they are)."""
    if not isinstance(param, np.ndarray) or param.dtype not in FLOAT_DTYPES:
        raise FastmlpTypeError(f"param must be a numpy.ndarray of float32 or float64, got {_describe(param)}")
    if param.size == 0:
        raise FastmlpValueError(f"param must not be empty, got shape {param.shape}")
    writable_buffer("param", param, param.shape, param.dtype)
    if not isinstance(grad, np.ndarray):
        raise FastmlpTypeError(f"grad must be a numpy.ndarray, got {_describe(grad)}")
    same_dtype("param", param, grad=grad)
    same_shape("grad", grad, param.shape, "the shape of param")
    if velocity is None:
        if momentum != 0.0:
            raise FastmlpValueError(f"velocity must be given when momentum is non-zero (momentum={momentum})")
        return param, None
    writable_buffer("velocity", velocity, param.shape, param.dtype)
    checked: np.ndarray = velocity  # writable_buffer checked it is one
    return param, checked


def target_values(
    name: str, value: Any, shape: tuple[int, int], dtype: np.dtype, nonnegative_for: str | None = None
) -> np.ndarray:
    """Targets (N, K) of a loss on values (indicator or real): a C-contiguous finite array of the
    scores' dtype and shape; >= 0 when ``nonnegative_for`` names a loss defined only there."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiub":
        raise FastmlpTypeError(
            f"{name} must be a numpy.ndarray of real targets (N, K), got {_describe(value)}"
        )
    if value.shape != shape:
        raise FastmlpValueError(f"{name} must have shape {shape}, got {value.shape}")
    result = np.ascontiguousarray(value, dtype=dtype)
    if not np.all(np.isfinite(result)):
        raise FastmlpValueError(f"{name} must be finite")
    if nonnegative_for is not None and np.any(result < 0):
        raise FastmlpValueError(
            f"{name} must be >= 0 for the {nonnegative_for} loss, got a minimum of {float(result.min())}"
        )
    return result


def values_loss(
    first: str, outputs: Any, y: Any, weights: Any, nonnegative_for: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The arguments of a loss on (N, K) targets: outputs (scores or probabilities) (N, K), y of
    their shape (>= 0 when ``nonnegative_for`` names the loss), sample weights (N,) or None."""
    outputs = float_array(first, outputs, 2)
    y = target_values("y", y, outputs.shape, outputs.dtype, nonnegative_for)
    return outputs, y, sample_weight("sample_weight", weights, outputs.shape[0], outputs.dtype)


def sample_weight(name: str, value: Any, n: int, dtype: np.dtype) -> np.ndarray | None:
    """Per-row weights (N,) >= 0 as a C-contiguous array of ``dtype``; None stays None."""
    if value is None:
        return None
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu" or value.ndim != 1:
        raise FastmlpTypeError(f"{name} must be a 1-D numpy.ndarray of real weights, got {_describe(value)}")
    if value.shape[0] != n:
        raise FastmlpValueError(f"{name} must have one weight per row ({n}), got {value.shape[0]}")
    result = np.ascontiguousarray(value, dtype=dtype)
    if not np.all(np.isfinite(result)) or np.any(result < 0):
        raise FastmlpValueError(f"{name} must hold finite weights >= 0")
    return result


MomentumArguments = tuple[np.ndarray, np.ndarray, "np.ndarray | None", float, float, float]


def sgd_update(
    param: Any, grad: Any, lr: Any, reg: Any = 0.0, momentum: Any = 0.0, velocity: Any = None
) -> MomentumArguments:
    """The arguments of every backend's sgd_update, checked: (param, grad C-contiguous, velocity or
    None, lr, reg, momentum)."""
    return _momentum_update(param, grad, velocity, lr, reg, momentum, velocity_required=False)


def nesterov_update(
    param: Any, grad: Any, lr: Any, reg: Any = 0.0, momentum: Any = 0.0, velocity: Any = None
) -> MomentumArguments:
    """nesterov_update's, as sgd_update's with velocity required (checked as if momentum were
    non-zero)."""
    return _momentum_update(param, grad, velocity, lr, reg, momentum, velocity_required=True)


def _momentum_update(
    param: Any, grad: Any, velocity: Any, lr: Any, reg: Any, momentum: Any, velocity_required: bool
) -> MomentumArguments:
    lr, reg, momentum = sgd_hyperparameters(lr, reg, momentum)
    param, checked = sgd_buffers(param, grad, 1.0 if velocity_required else momentum, velocity)
    return param, np.ascontiguousarray(grad), checked, lr, reg, momentum


def adam_update(
    param: Any, grad: Any, m: Any, v: Any, step_size: Any, reg: Any, b1: Any, b2: Any, eps: Any
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[float, float, float, float, float]]:
    """The arguments of every backend's adam_update: the arrays (param, grad C-contiguous, m, v),
    then (step_size, reg, b1, b2, eps)."""
    checked, first = sgd_buffers(param, grad, 1.0, m)
    _, second = sgd_buffers(param, grad, 1.0, v)
    assert first is not None and second is not None  # required by the 1.0 above
    arrays = (checked, np.ascontiguousarray(grad), first, second)
    return arrays, adam_hyperparameters(step_size, reg, b1, b2, eps)


def adam_hyperparameters(
    step_size: Any, reg: Any, beta1: Any, beta2: Any, epsilon: Any
) -> tuple[float, float, float, float, float]:
    step_size, reg, _ = sgd_hyperparameters(step_size, reg, 0.0)
    betas = []
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        beta = real_number(name, beta, minimum=0.0)
        if beta >= 1.0:
            raise FastmlpValueError(f"{name} must be < 1, got {beta}")
        betas.append(beta)
    epsilon = real_number("epsilon", epsilon)
    if epsilon <= 0:
        raise FastmlpValueError(f"epsilon must be > 0, got {epsilon}")
    return step_size, reg, betas[0], betas[1], epsilon


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise FastmlpTypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)
