"""The C++ backend: the compiled kernels of ``fastmlp._cpp`` (Eigen GEMM, GIL released).

The module is the one ``fastmlp._isa`` selects: ``_cpp`` (built for this machine), or in a
portable build the best of ``_cpp_v2`` / ``_cpp_v3`` / ``_cpp_v4`` this CPU supports.

Every kernel has the same contract as the function of the same name in ``numpy_backend``.
Arguments are validated by ``fastmlp.backends._checks`` first (same messages as every backend),
outputs are allocated here, and the compiled code only ever receives C-contiguous arrays of the
exact dtype. Beyond the kernel interface this module offers ``train_epoch`` and ``evaluate``:
a whole epoch (or evaluation pass) of an MLP in one native call, threaded by
``fastmlp.set_num_threads``, and ``sparse_rows``: the non-zeros of x, with which layer 1 runs over
the non-zero inputs only (chosen automatically for data such as MNIST, 81% zeros).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _isa
from .._memory import aligned, aligned_empty, is_aligned
from ..threads import get_num_threads
from . import _checks, _epoch_checks
from ._sparse import SPARSE_DENSITY as SPARSE_DENSITY  # re-exported
from ._sparse import SparseRows as SparseRows
from ._sparse import choose as choose_sparse_rows
from ._sparse import sparse_rows as sparse_rows

# fastmlp._cpp, or the best fastmlp._cpp_vN of a portable build for this CPU ($FASTMLP_ISA forces one)
_compiled = _isa.load()

__all__ = [
    "accuracy",
    "affine_backward",
    "affine_forward",
    "cross_entropy_forward",
    "relu_backward",
    "relu_forward",
    "sgd_update",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "softmax_forward",
]


class _AlignedCalls:
    """``fastmlp._cpp`` with every array argument 64-byte aligned (see ``fastmlp._memory``).

    Arrays fastmlp allocates are aligned already; a misaligned one from a caller is copied in,
    and, if writable (an output or a parameter updated in place), copied back afterwards.
    An argument wrapped in ``_AsIs`` is passed as it is.
    """

    def __getattr__(self, name: str) -> Any:
        function = getattr(_compiled, name)

        def call(*args: Any) -> Any:
            if all(_is_ready(arg) for arg in args):  # the usual case: nothing to copy
                return function(*[arg.array if isinstance(arg, _AsIs) else arg for arg in args])
            copies: list[tuple[np.ndarray, np.ndarray]] = []

            def fix(value: Any) -> Any:
                if isinstance(value, _AsIs):
                    return value.array
                if isinstance(value, np.ndarray) and not is_aligned(value):
                    copy = aligned(value)
                    copies.append((value, copy))
                    return copy
                if isinstance(value, list):
                    return [fix(item) for item in value]
                return value

            result = function(*[fix(arg) for arg in args])
            for original, copy in copies:
                if original.flags.writeable:
                    np.copyto(original, copy)
            return result

        setattr(self, name, call)  # later look-ups find the wrapper without __getattr__
        return call


@dataclass(frozen=True)
class _AsIs:
    """An array the compiled code reads with no alignment-sensitive arithmetic, so it needs no copy.

    The data x of the native epoch: dense training copies its rows into an aligned batch buffer,
    and the sparse path (training and evaluation) reads its non-zeros one scalar at a time.
    Copying a 150 MB x on every call would cost more than the epoch itself.
    """

    array: np.ndarray


def _is_ready(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return is_aligned(value)
    if isinstance(value, list):
        return all(_is_ready(item) for item in value)
    return True


_cpp = _AlignedCalls()


def affine_forward(x: Any, w: Any, b: Any = None, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.affine_forward; Eigen GEMM, bias added in place."""
    x, w, b = _checks.affine_forward(x, w, b)
    result = _checks.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
    _cpp.affine_forward(x, w, b, result)
    return result


def affine_backward(
    dout: Any, x: Any, w: Any, need_dx: bool = True, has_bias: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Same contract as numpy_backend.affine_backward; two Eigen GEMMs and a column sum."""
    dout, x, w, need_dx, has_bias = _checks.affine_backward(dout, x, w, need_dx, has_bias)
    dx = aligned_empty(x.shape, x.dtype) if need_dx else None
    dw = aligned_empty(w.shape, w.dtype)
    db = aligned_empty(w.shape[1], w.dtype) if has_bias else None
    _cpp.affine_backward(dout, x, w, dx, dw, db)
    return dx, dw, db


def relu_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.relu_forward."""
    z = _checks.float_array("z", z, 2)
    result = _checks.output("out", out, z.shape, z.dtype)
    _cpp.relu_forward(z, result)
    return result


def relu_backward(dout: Any, z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.relu_backward."""
    dout, z = _checks.elementwise("dout", dout, "z", z)
    result = _checks.output("out", out, z.shape, z.dtype)
    _cpp.relu_backward(dout, z, result)
    return result


def sigmoid_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.sigmoid_forward; vectorised exp(-|z|), no overflow."""
    z = _checks.float_array("z", z, 2)
    result = _checks.output("out", out, z.shape, z.dtype)
    _cpp.sigmoid_forward(z, result)
    return result


def sigmoid_backward(dout: Any, a: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.sigmoid_backward."""
    dout, a = _checks.elementwise("dout", dout, "a", a)
    result = _checks.output("out", out, a.shape, a.dtype)
    _cpp.sigmoid_backward(dout, a, result)
    return result


def softmax_forward(scores: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_forward."""
    scores = _checks.float_array("scores", scores, 2)
    result = _checks.output("out", out, scores.shape, scores.dtype)
    _cpp.softmax_forward(scores, result)
    return result


def softmax_backward(dprobs: Any, probs: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_backward."""
    dprobs, probs = _checks.elementwise("dprobs", dprobs, "probs", probs)
    result = _checks.output("out", out, probs.shape, probs.dtype)
    _cpp.softmax_backward(dprobs, probs, result)
    return result


def cross_entropy_forward(probs: Any, y: Any) -> float:
    """Same contract as numpy_backend.cross_entropy_forward; the mean is accumulated in double."""
    probs, y = _checks.scores_and_labels("probs", probs, y)
    return float(_cpp.cross_entropy_forward(probs, y))


def softmax_cross_entropy(scores: Any, y: Any) -> tuple[float, np.ndarray]:
    """Same contract as numpy_backend.softmax_cross_entropy; one pass per row."""
    scores, y = _checks.scores_and_labels("scores", scores, y)
    probs = aligned_empty(scores.shape, scores.dtype)
    loss = _cpp.softmax_cross_entropy(scores, y, probs)
    return float(loss), probs


def softmax_cross_entropy_backward(probs: Any, y: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_cross_entropy_backward."""
    probs, y = _checks.scores_and_labels("probs", probs, y)
    result = _checks.output("out", out, probs.shape, probs.dtype)
    _cpp.softmax_cross_entropy_backward(probs, y, result)
    return result


def accuracy(scores: Any, y: Any) -> float:
    """Same contract as numpy_backend.accuracy."""
    scores, y = _checks.scores_and_labels("scores", scores, y)
    return _cpp.correct_count(scores, y) / scores.shape[0]


def sgd_update(
    param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
) -> None:
    """Same contract as numpy_backend.sgd_update; one fused pass, arithmetic in param's dtype."""
    lr, reg, momentum = _checks.sgd_hyperparameters(lr, reg, momentum)
    _checks.sgd_buffers(param, grad, momentum, velocity)
    grad = np.ascontiguousarray(grad)
    _cpp.sgd_update(param, grad, velocity, lr, reg, momentum)


# --- whole passes in one native call (beyond the kernel interface) ----------------------------


def _csr_arguments(
    x: np.ndarray, sparse: bool | None, x_sparse: SparseRows | None
) -> tuple[np.ndarray | None, ...]:
    """The three CSR arrays for the compiled epoch (or three Nones for the dense path)."""
    rows = choose_sparse_rows(x, sparse, x_sparse)
    return (None, None, None) if rows is None else rows.arrays


def _sync_threads() -> None:
    """Apply fastmlp's thread budget, also when this module was imported outside the registry."""
    wanted = get_num_threads()
    if _cpp.get_num_threads() != wanted:
        _cpp.set_num_threads(wanted)


def train_epoch(
    x: Any,
    y: Any,
    order: Any,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray | None],
    activations: Sequence[str],
    *,
    batch_size: int,
    lr: float,
    reg: float = 0.0,
    momentum: float = 0.0,
    weight_velocities: Sequence[np.ndarray] | None = None,
    bias_velocities: Sequence[np.ndarray | None] | None = None,
    sparse: bool | None = None,
    x_sparse: SparseRows | None = None,
) -> tuple[float, int, int]:
    """One training epoch of an MLP in one native call; parameters are updated in place.

    x (N, D), y (N,) labels in [0, C), order (S,) row indices into x (the shuffled order; S may be < N).
    Layer l: weights[l] (fan_in, fan_out), biases[l] (fan_out,) or None, activations[l] in
    "none" / "relu" / "sigmoid", applied to the layer's output; the last layer's output are the
    scores (N, C) fed to softmax cross-entropy. Batches are order[k*batch_size : (k+1)*batch_size].
    Per batch: forward, loss (mean), backward, then per layer dW += reg*W (weights only) and an
    SGD step (momentum with the velocity buffers, updated in place; None: plain SGD, momentum 0).
    Returns (sum of batch losses, number of batches, rows whose arg-max score equals the label,
    counted before that batch's update).

    Layer 1 runs over x's non-zeros when ``sparse`` is True, densely when False, and when None
    (default) whenever under SPARSE_DENSITY of x is non-zero; the CSR is ``x_sparse`` if given
    (from ``sparse_rows(x)``), else built on the first call for this x and cached. Both paths do
    the same arithmetic in a different order (equal to float rounding). Threads:
    ``fastmlp.set_num_threads``; results are deterministic for a given thread count.
    """
    weights, biases, activations = _epoch_checks.network(weights, biases, activations)
    x, y = _epoch_checks.inputs(x, y, weights)
    order = _epoch_checks.order(order, x.shape[0])
    batch_size = _epoch_checks.batch_size(batch_size)
    lr, reg, momentum = _checks.sgd_hyperparameters(lr, reg, momentum)
    w_vel, b_vel = _epoch_checks.velocities(weight_velocities, bias_velocities, weights, biases, momentum)
    csr = _csr_arguments(x, sparse, x_sparse)
    _sync_threads()
    loss_sum, batches, correct = _cpp.train_epoch(
        _AsIs(x), y, order, weights, biases, activations, w_vel, b_vel, batch_size, lr, reg, momentum, *csr
    )
    return float(loss_sum), int(batches), int(correct)


def evaluate(
    x: Any,
    y: Any,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray | None],
    activations: Sequence[str],
    *,
    batch_size: int,
    sparse: bool | None = None,
    x_sparse: SparseRows | None = None,
) -> tuple[float, int, int]:
    """Forward pass over x in order, in batches: same layer description as train_epoch.

    Returns (sum of batch mean losses, number of batches, rows whose arg-max score equals the label).
    ``sparse`` and ``x_sparse`` as in train_epoch. Threads take whole batches, so the result does not
    depend on the thread count.
    """
    weights, biases, activations = _epoch_checks.network(weights, biases, activations)
    x, y = _epoch_checks.inputs(x, y, weights)
    csr = _csr_arguments(x, sparse, x_sparse)
    _sync_threads()
    dense_x_is_read = csr[0] is None  # the dense evaluation runs Eigen's GEMM on x's own rows
    loss_sum, batches, correct = _cpp.evaluate(
        x if dense_x_is_read else _AsIs(x),
        y,
        weights,
        biases,
        activations,
        _epoch_checks.batch_size(batch_size),
        *csr,
    )
    return float(loss_sum), int(batches), int(correct)


def _set_num_threads(n: int) -> None:
    """fastmlp.threads hook: the native epoch's team and Eigen's GEMM (effective in an OpenMP build)."""
    _compiled.set_num_threads(n)


_set_num_threads(get_num_threads())
