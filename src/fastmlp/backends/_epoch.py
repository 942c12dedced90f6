"""Argument checks for the whole-epoch functions (``train_epoch``, ``evaluate``) that the numba
and cpp backends offer beyond the kernel interface; shared so both say the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validate
from ..errors import FastmlpTypeError, FastmlpValueError

ACTIVATIONS = ("none", "relu", "sigmoid")


def network(
    weights: Sequence[Any], biases: Sequence[Any], activations: Sequence[str]
) -> tuple[list[np.ndarray], list[np.ndarray | None], list[str]]:
    """A layer list: weights (fan_in, fan_out) chained, biases (fan_out,) or None, activations."""
    for name, value in (("weights", weights), ("biases", biases), ("activations", activations)):
        if not isinstance(value, (list, tuple)):
            raise FastmlpTypeError(
                f"{name} must be a list with one entry per layer, got {type(value).__name__}"
            )
    weights, biases, activations = list(weights), list(biases), list(activations)
    if not weights:
        raise FastmlpValueError("weights must hold at least one layer")
    if len(biases) != len(weights) or len(activations) != len(weights):
        raise FastmlpValueError(
            f"weights, biases and activations must have one entry per layer, got "
            f"{len(weights)}, {len(biases)} and {len(activations)}"
        )
    dtype = None
    for layer, (w, b, activation) in enumerate(zip(weights, biases, activations, strict=True)):
        if not isinstance(w, np.ndarray) or w.ndim != 2 or w.dtype not in _validate.FLOAT_DTYPES:
            raise FastmlpTypeError(f"weights[{layer}] must be a 2-D float32 or float64 numpy.ndarray")
        dtype = w.dtype if dtype is None else dtype
        _validate.writable_buffer(f"weights[{layer}]", w, w.shape, dtype)
        if w.size == 0:
            raise FastmlpValueError(f"weights[{layer}] must not be empty, got shape {w.shape}")
        if layer > 0 and w.shape[0] != weights[layer - 1].shape[1]:
            raise FastmlpValueError(
                f"weights[{layer}] must have {weights[layer - 1].shape[1]} rows to follow "
                f"weights[{layer - 1}] of shape {weights[layer - 1].shape}, got {w.shape}"
            )
        if b is not None:
            _validate.writable_buffer(f"biases[{layer}]", b, (w.shape[1],), dtype)
        if activation not in ACTIVATIONS:
            raise FastmlpValueError(
                f"activations[{layer}] must be one of {', '.join(ACTIVATIONS)}, got {activation!r}"
            )
    return weights, biases, activations


def inputs(x: Any, y: Any, weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """x (N, D) of the weights' dtype and width; y (N,) labels in [0, C)."""
    x = _validate.float_array("x", x, 2)
    _validate.same_dtype("weights[0]", weights[0], x=x)
    if x.shape[1] != weights[0].shape[0]:
        raise FastmlpValueError(
            f"x must have {weights[0].shape[0]} columns to match weights[0], got {x.shape}"
        )
    return x, _validate.labels("y", y, x.shape[0], weights[-1].shape[1])


def order(value: Any, n: int) -> np.ndarray:
    """The epoch's row order: a non-empty 1-D integer array of indices in [0, n), as int64."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iu" or value.ndim != 1:
        raise FastmlpTypeError("order must be a 1-D numpy.ndarray of integer row indices")
    if value.size == 0:
        raise FastmlpValueError("order must not be empty")
    if int(value.min()) < 0 or int(value.max()) >= n:
        raise FastmlpValueError(f"order must hold row indices in [0, {n})")
    return np.ascontiguousarray(value, dtype=np.int64)


def batch_size(value: Any) -> int:
    return _validate.positive_int("batch_size", value)


def velocities(
    weight_velocities: Sequence[Any] | None,
    bias_velocities: Sequence[Any] | None,
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    momentum: float,
) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
    """Velocity buffers per layer (None entries without momentum or where a layer has no bias)."""
    if weight_velocities is None:
        if momentum != 0.0:
            raise FastmlpValueError(
                f"weight_velocities must be given when momentum is non-zero (momentum={momentum})"
            )
        return [None] * len(weights), [None] * len(weights)
    w_vel = list(weight_velocities)
    b_vel = list(bias_velocities) if bias_velocities is not None else [None] * len(weights)
    if len(w_vel) != len(weights) or len(b_vel) != len(weights):
        raise FastmlpValueError("weight_velocities and bias_velocities must have one entry per layer")
    for layer, (w, b, vw, vb) in enumerate(zip(weights, biases, w_vel, b_vel, strict=True)):
        _validate.writable_buffer(f"weight_velocities[{layer}]", vw, w.shape, w.dtype)
        if b is not None:
            _validate.writable_buffer(f"bias_velocities[{layer}]", vb, b.shape, b.dtype)
        elif vb is not None:
            raise FastmlpValueError(f"bias_velocities[{layer}] must be None: layer {layer} has no bias")
    return w_vel, b_vel
