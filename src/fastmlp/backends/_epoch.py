"""The native epoch boundary: one description of the model, checked once, read by every native epoch.

A native epoch runs a whole training epoch (or evaluation pass) of an MLP in one compiled call.
A backend that has one declares ``NATIVE_EPOCH = True`` and builds its ``train_epoch`` and
``evaluate`` with ``entry_points`` below, supplying only its compiled calls; the signatures and
this contract are written here once (numba_backend and cpp_backend: "same contract as
backends._epoch").

The contract
------------
``train_epoch(net, x, y, order, *, batch_size, sparse=None, x_sparse=None)``
    One epoch over ``x[order]`` in batches of ``batch_size`` (the last may be shorter).
    net: a ``Layers`` (from ``layers(...)`` or ``Network.describe(optimizer)``) with SGD settings.
    x (N, D) of net's dtype, y (N,) integer labels in [0, C), order (S,) row indices in [0, N).
    Per batch: forward, mean softmax cross-entropy of the last layer's output, count of rows whose
    arg-max score equals the label (before the update), backward, then per layer the step of
    ``numpy_backend.sgd_update`` (``reg`` on weight matrices only; momentum with net's velocities).
    Parameters and velocities are updated in place. Returns (sum of the batch mean losses,
    number of batches, correct count).
``evaluate(net, x, y, *, batch_size, sparse=None, x_sparse=None)``
    The forward pass over x in order, in batches; same return triple; nothing is modified.
``sparse``, ``x_sparse``
    Layer 1 runs over x's non-zeros when ``sparse`` is True, densely when False, and when None
    (default) whenever under ``SPARSE_DENSITY`` of x is non-zero; the CSR is ``x_sparse`` if given
    (from ``sparse_rows(x)``), else built on the first call for this x and cached. Both paths do
    the same arithmetic in a different order (equal to float rounding).
Threads: ``fastmlp.get_num_threads()`` at call time; results are deterministic for a given
thread count (``evaluate``'s do not depend on it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .. import _validate
from ..errors import FastmlpTypeError, FastmlpValueError
from ..optim import SGDSettings
from ._sparse import SparseRows, choose
from .tables import ActivationRow, activation


@dataclass(frozen=True, eq=False)
class Layers:
    """An MLP as the native epochs read it: built and checked once (by ``layers``), then trusted.

    Layer l: weights[l] (fan_in, fan_out), biases[l] (fan_out,) or None, activations[l] (a row of
    ``tables.ACTIVATIONS``) applied to its output. ``sgd``: the training step's settings (None:
    evaluation only); velocities, like the parameters (None for a bias-less layer), are present
    exactly when ``sgd.momentum > 0``.
    The arrays are the model's own, updated in place. ``native`` holds a backend's own form of the
    description (Numba's typed lists), made on its first use.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray | None, ...]
    activations: tuple[ActivationRow, ...]
    sgd: SGDSettings | None = None
    weight_velocities: tuple[np.ndarray, ...] | None = None
    bias_velocities: tuple[np.ndarray | None, ...] | None = None
    native: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype


def _per_layer(name: str, value: Any, count: int | None) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise FastmlpTypeError(f"{name} must be a list with one entry per layer, got {type(value).__name__}")
    if count is not None and len(value) != count:
        raise FastmlpValueError(f"{name} must have one entry per layer ({count}), got {len(value)}")
    return list(value)


def layers(
    weights: Sequence[Any],
    biases: Sequence[Any],
    activations: Sequence[str | ActivationRow | None],
    *,
    sgd: SGDSettings | None = None,
    weight_velocities: Sequence[Any] | None = None,
    bias_velocities: Sequence[Any] | None = None,
) -> Layers:
    """Check a layer stack and describe it: the one constructor of ``Layers``.

    weights[l] (fan_in, fan_out), chained; biases[l] (fan_out,) or None; activations[l] a name of
    ``tables.ACTIVATIONS`` (an alias, or None for identity). Every array is used in place, so it
    must be C-contiguous and writable, all of one dtype. Velocities are required when ``sgd.momentum > 0``.
    """
    weights = _per_layer("weights", weights, None)
    if not weights:
        raise FastmlpValueError("weights must hold at least one layer")
    biases = _per_layer("biases", biases, len(weights))
    activations = _per_layer("activations", activations, len(weights))
    if sgd is not None and not isinstance(sgd, SGDSettings):
        raise FastmlpTypeError(f"sgd must be fastmlp.optim.SGDSettings, got {type(sgd).__name__}")
    dtype = None
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
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
    rows = tuple(activation(a, f"activations[{layer}]") for layer, a in enumerate(activations))
    w_vel, b_vel = _velocities(weight_velocities, bias_velocities, weights, biases, sgd)
    return Layers(tuple(weights), tuple(biases), rows, sgd, w_vel, b_vel)


def _velocities(
    weight_velocities: Sequence[Any] | None,
    bias_velocities: Sequence[Any] | None,
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    sgd: SGDSettings | None,
) -> tuple[tuple[np.ndarray, ...] | None, tuple[np.ndarray | None, ...] | None]:
    """Velocity buffers per layer (None for a bias-less layer), required when momentum > 0."""
    if weight_velocities is None:
        if sgd is not None and sgd.momentum != 0.0:
            raise FastmlpValueError(
                f"weight_velocities must be given when momentum is non-zero (momentum={sgd.momentum})"
            )
        return None, None
    w_vel = _per_layer("weight_velocities", weight_velocities, len(weights))
    b_vel = [None] * len(weights) if bias_velocities is None else bias_velocities
    b_vel = _per_layer("bias_velocities", b_vel, len(weights))
    for layer, (w, b, vw, vb) in enumerate(zip(weights, biases, w_vel, b_vel, strict=True)):
        _validate.writable_buffer(f"weight_velocities[{layer}]", vw, w.shape, w.dtype)
        if b is not None:
            _validate.writable_buffer(f"bias_velocities[{layer}]", vb, b.shape, b.dtype)
        elif vb is not None:
            raise FastmlpValueError(f"bias_velocities[{layer}] must be None: layer {layer} has no bias")
    return tuple(w_vel), tuple(b_vel)


@dataclass(frozen=True)
class Pass:
    """The checked data of one native call: x (N, D), y (N,) int64, order (S,) int64 (None when
    evaluating: rows in order), the batch size and the CSR of x when layer 1 runs sparse."""

    x: np.ndarray
    y: np.ndarray
    order: np.ndarray | None
    batch_size: int
    rows: SparseRows | None


def _pass(
    net: Any, x: Any, y: Any, order: Any, batch_size: Any, sparse: Any, x_sparse: Any, training: bool
) -> Pass:
    if not isinstance(net, Layers):
        raise FastmlpTypeError(f"net must be a Layers description (backends._epoch.layers), got {net!r:.60}")
    if training and net.sgd is None:
        raise FastmlpValueError("net must carry SGD settings to train (layers(..., sgd=SGDSettings(...)))")
    x = _validate.float_array("x", x, 2)
    _validate.same_dtype("weights[0]", net.weights[0], x=x)
    if x.shape[1] != net.weights[0].shape[0]:
        raise FastmlpValueError(
            f"x must have {net.weights[0].shape[0]} columns to match weights[0], got {x.shape}"
        )
    y = _validate.labels("y", y, x.shape[0], net.weights[-1].shape[1])
    if order is not None:
        order = _order(order, x.shape[0])
    batch_size = _validate.positive_int("batch_size", batch_size)
    return Pass(x, y, order, batch_size, choose(x, sparse, x_sparse, values=training))


def _order(value: Any, n: int) -> np.ndarray:
    """The epoch's row order: a non-empty 1-D integer array of indices in [0, n), as int64."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iu" or value.ndim != 1:
        raise FastmlpTypeError("order must be a 1-D numpy.ndarray of integer row indices")
    if value.size == 0:
        raise FastmlpValueError("order must not be empty")
    if int(value.min()) < 0 or int(value.max()) >= n:
        raise FastmlpValueError(f"order must hold row indices in [0, {n})")
    return np.ascontiguousarray(value, dtype=np.int64)


class NativeCall(Protocol):
    """A backend's compiled pass: the checked description and data -> (loss sum, batches, correct)."""

    def __call__(self, net: Layers, data: Pass) -> tuple[float, int, int]: ...


def entry_points(
    train: NativeCall, evaluate: NativeCall
) -> tuple[Callable[..., tuple[float, int, int]], Callable[..., tuple[float, int, int]]]:
    """A backend's public ``train_epoch`` and ``evaluate``: the contract above, around its calls."""

    def train_epoch(
        net: Layers,
        x: Any,
        y: Any,
        order: Any,
        *,
        batch_size: int,
        sparse: bool | None = None,
        x_sparse: SparseRows | None = None,
    ) -> tuple[float, int, int]:
        data = _pass(net, x, y, order, batch_size, sparse, x_sparse, training=True)
        return train(net, data)

    def evaluate_pass(
        net: Layers, x: Any, y: Any, *, batch_size: int, sparse: bool | None = None, x_sparse: Any = None
    ) -> tuple[float, int, int]:
        return evaluate(net, _pass(net, x, y, None, batch_size, sparse, x_sparse, training=False))

    train_epoch.__doc__ = "One training epoch in one native call: see fastmlp.backends._epoch."
    evaluate_pass.__doc__ = "One evaluation pass in one native call: see fastmlp.backends._epoch."
    evaluate_pass.__name__ = evaluate_pass.__qualname__ = "evaluate"
    return train_epoch, evaluate_pass
