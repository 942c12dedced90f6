"""The Numba backend: the kernel interface of ``numpy_backend`` as compiled loops.

Each public function validates its arguments with ``fastmlp._validate`` (so errors match the reference
word for word), allocates or checks the output, and hands plain C-contiguous arrays to a compiled
kernel in ``_numba_kernels``. The GEMMs call NumPy's own OpenBLAS from compiled code
(``_numba_blas``), so they run at BLAS speed under the one thread budget of ``fastmlp.threads``.

Kernels compile on first use per dtype and are cached on disk; call ``warmup()`` before timing.
The whole-epoch loop for issue 5 lives in ``_numba_epoch`` and is re-exported here as
``train_epoch`` and ``evaluate`` (beyond ``__all__``, which matches the reference exactly).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from .. import _validate, threads
from . import _numba_kernels as _k
from ._numba_blas import HAVE_BLAS as HAVE_BLAS  # re-exported: True when the GEMMs use BLAS
from ._numba_epoch import evaluate as evaluate
from ._numba_epoch import train_epoch as train_epoch

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


def affine_forward(x: Any, w: Any, b: Any = None, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.affine_forward.

    One BLAS GEMM into ``out`` (NumPy's OpenBLAS, called from compiled code), then the bias
    added in place by a loop over rows.
    """
    x, w, b = _validate.affine_forward(x, w, b)
    result = _validate.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
    _k.affine_forward(x, w, b, result)
    return result


def affine_backward(
    dout: Any, x: Any, w: Any, need_dx: bool = True, has_bias: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Same contract as numpy_backend.affine_backward.

    Two BLAS GEMMs with transpose flags (no transposed copies), db by a loop over rows.
    """
    dout, x, w, need_dx, has_bias = _validate.affine_backward(dout, x, w, need_dx, has_bias)
    dx = np.empty(x.shape, dtype=x.dtype) if need_dx else None
    dw = np.empty(w.shape, dtype=w.dtype)
    db = np.empty(w.shape[1], dtype=w.dtype) if has_bias else None
    _k.affine_backward(dout, x, w, dx, dw, db)
    return dx, dw, db


def relu_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.relu_forward.  One pass; NaN propagates like np.maximum."""
    z = _validate.float_array("z", z, 2)
    result = _validate.output("out", out, z.shape, z.dtype)
    _k.relu_forward(z, result)
    return result


def relu_backward(dout: Any, z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.relu_backward.  A multiply by 0/1, so 0 * inf is NaN as there."""
    dout, z = _validate.elementwise("dout", dout, "z", z)
    result = _validate.output("out", out, z.shape, z.dtype)
    _k.relu_backward(dout, z, result)
    return result


def sigmoid_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.sigmoid_forward.  One pass, same exp(-|z|) formulation."""
    z = _validate.float_array("z", z, 2)
    result = _validate.output("out", out, z.shape, z.dtype)
    _k.sigmoid_forward(z, result)
    return result


def sigmoid_backward(dout: Any, a: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.sigmoid_backward.  One pass, no temporaries."""
    dout, a = _validate.elementwise("dout", dout, "a", a)
    result = _validate.output("out", out, a.shape, a.dtype)
    _k.sigmoid_backward(dout, a, result)
    return result


def softmax_forward(scores: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_forward.  Row max, exp and sum in the input dtype."""
    scores = _validate.float_array("scores", scores, 2)
    result = _validate.output("out", out, scores.shape, scores.dtype)
    _k.softmax_forward(scores, result)
    return result


def softmax_backward(dprobs: Any, probs: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_backward.  Two passes over each row, J never formed."""
    dprobs, probs = _validate.elementwise("dprobs", dprobs, "probs", probs)
    result = _validate.output("out", out, probs.shape, probs.dtype)
    _k.softmax_backward(dprobs, probs, result)
    return result


def cross_entropy_forward(probs: Any, y: Any) -> float:
    """Same contract as numpy_backend.cross_entropy_forward.  Logs in the input dtype, sum in float64."""
    probs, y = _validate.scores_and_labels("probs", probs, y)
    return float(_k.cross_entropy_forward(probs, y))


def softmax_cross_entropy(scores: Any, y: Any) -> tuple[float, np.ndarray]:
    """Same contract as numpy_backend.softmax_cross_entropy.

    One pass per row: max, exp, normaliser, probabilities and the row's loss; the loss is summed
    in float64 whatever the input dtype.
    """
    scores, y = _validate.scores_and_labels("scores", scores, y)
    probs = np.empty_like(scores)
    loss = _k.softmax_cross_entropy(scores, y, probs)
    return float(loss), probs


def softmax_cross_entropy_backward(probs: Any, y: Any, *, out: Any = None) -> np.ndarray:
    """Same contract as numpy_backend.softmax_cross_entropy_backward.  One pass, divides by N."""
    probs, y = _validate.scores_and_labels("probs", probs, y)
    result = _validate.output("out", out, probs.shape, probs.dtype)
    _k.softmax_cross_entropy_backward(probs, y, result)
    return result


def accuracy(scores: Any, y: Any) -> float:
    """Same contract as numpy_backend.accuracy.  First maximum on ties, as np.argmax."""
    scores, y = _validate.scores_and_labels("scores", scores, y)
    return _k.correct_count(scores, y) / scores.shape[0]


def sgd_update(
    param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
) -> None:
    """Same contract as numpy_backend.sgd_update.

    One fused pass over the flattened arrays (regularisation, momentum and the step together).
    The hyper-parameters are rounded to the parameter dtype first, as NumPy does when it
    multiplies a float32 array by a Python float.
    """
    lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
    _validate.sgd_buffers(param, grad, momentum, velocity)
    scalar = param.dtype.type
    flat_velocity = None if velocity is None else velocity.reshape(-1)
    _k.sgd_update(
        param.reshape(-1),
        np.ascontiguousarray(grad).reshape(-1),
        scalar(lr),
        scalar(reg),
        scalar(momentum),
        flat_velocity,
    )


def _set_num_threads(n: int) -> None:
    """Thread hook called by fastmlp.threads.set_num_threads: Numba's pool and BLAS's, to n."""
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    # the GEMMs run in NumPy's BLAS; pin it here too so importing this backend alone
    # already leaves one pool of the budgeted size
    threadpool_limits(limits=n, user_api="blas")


def warmup() -> None:
    """Compile (or load from the cache) every kernel for float32 and float64, outside any timing."""
    y = np.array([0, 1, 1], dtype=np.int64)
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2)
        w = np.ones((2, 2), dtype=dtype)
        b = np.zeros(2, dtype=dtype)
        affine_forward(x, w, b)
        affine_forward(x, w)
        affine_backward(x, x, w)
        affine_backward(x, x, w, need_dx=False, has_bias=False)
        relu_forward(x)
        relu_backward(x, x)
        sigmoid_forward(x)
        sigmoid_backward(x, x)
        probs = softmax_forward(x)
        softmax_backward(x, probs)
        cross_entropy_forward(probs, y)
        softmax_cross_entropy(x, y)
        softmax_cross_entropy_backward(probs, y)
        accuracy(x, y)
        sgd_update(w.copy(), w, 0.1, 0.01)
        sgd_update(w.copy(), w, 0.1, 0.01, 0.9, np.zeros_like(w))


def warmup_epoch() -> None:
    """Compile (or load from the cache) ``train_epoch`` and ``evaluate`` for float32 and float64."""
    y = np.array([0, 1, 1], dtype=np.int64)
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2)
        weights = [np.ones((2, 2), dtype), np.ones((2, 2), dtype)]
        biases = [np.zeros(2, dtype), None]
        train_epoch(x, y, np.arange(3), weights, biases, ["sigmoid", "relu"], batch_size=2, lr=0.1, reg=0.01)
        evaluate(x, y, weights, biases, ["sigmoid", "relu"], batch_size=2)


_set_num_threads(threads.get_num_threads())
