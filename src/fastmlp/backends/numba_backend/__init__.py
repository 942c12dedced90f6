"""The Numba backend: the kernel interface of ``numpy_backend`` as compiled loops.

This package holds the compiled code only: the kernels (``_kernel_loops``), the GEMM through NumPy's
own OpenBLAS (``_blas``), the sparse layer 1 (``_sparse_loops``, with a cache prefetch from
``_prefetch``) and the whole-epoch loops
(``_epoch_loops``).
The public functions around them, with their checks, come from the shared pieces
(``backends._kernels``, ``backends._epoch``), so every backend says and checks the same thing.
The GEMMs run in NumPy's BLAS under the one thread budget of ``fastmlp.threads``; no kernel
starts threads of its own (``parallel=True`` does not pay at these sizes).

Implementation notes. The affine kernels are BLAS GEMMs with transpose flags (no transposed
copies) writing into their output, the bias and db by loops over rows. Every other kernel is one
or two passes in the input dtype, with the reference's formulations (exp(-|z|) for the sigmoid, the
row maximum for softmax, first maximum on ties for accuracy), so NaN and inf propagate as in NumPy;
losses are summed in float64. ``sgd_update`` is one fused pass with the hyper-parameters rounded to
the parameter's dtype, as NumPy rounds a Python float multiplying a float32 array.

Kernels compile on first use per dtype and are cached on disk; call ``BACKEND.warmup()`` before
timing. ``BACKEND`` is this backend (an ``interface.Backend``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _epoch, _kernels
from .. import tables as _tables
from .._kernels import CompiledBackend
from ..interface import Backend, RawCalls
from . import _disk_cache

_disk_cache.refresh()  # before the loops below are imported, compiled or loaded from disk

from . import _epoch_loops  # noqa: E402
from . import _kernel_loops as _k  # noqa: E402
from ._blas import HAVE_BLAS as HAVE_BLAS  # noqa: E402 - re-exported: True when the GEMMs use BLAS


def _sgd_update(param: Any, grad: Any, velocity: Any, lr: float, reg: float, momentum: float) -> None:
    """One fused pass over the flattened arrays; the hyper-parameters rounded to param's dtype
    first, as NumPy does when it multiplies a float32 array by a Python float."""
    scalar = param.dtype.type
    flat_velocity = None if velocity is None else velocity.reshape(-1)
    _k.sgd_update(
        param.reshape(-1), grad.reshape(-1), scalar(lr), scalar(reg), scalar(momentum), flat_velocity
    )


def _nesterov_update(param: Any, grad: Any, velocity: Any, lr: float, reg: float, momentum: float) -> None:
    scalar = param.dtype.type
    _k.nesterov_update(
        param.reshape(-1), grad.reshape(-1), scalar(lr), scalar(reg), scalar(momentum), velocity.reshape(-1)
    )


def _adam_update(
    param: Any,
    grad: Any,
    m: Any,
    v: Any,
    step_size: float,
    reg: float,
    beta1: float,
    beta2: float,
    epsilon: float,
) -> None:
    """The hyper-parameters (and 1 - beta) rounded to param's dtype, as NumPy rounds them."""
    s = param.dtype.type
    hyper = (s(step_size), s(reg), s(beta1), s(beta2), s(epsilon), s(1 - beta1), s(1 - beta2))
    _k.adam_update(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), *hyper)


def _stand_ins(code: int, labels: Any, values: Any, weights: Any, dtype: Any) -> tuple[Any, Any, Any, bool]:
    """The compiled loss calls take every array (None has no type to compile for): empty stand-ins,
    never read, for the target form the loss row does not use and for absent weights."""
    labels = np.zeros(0, np.int64) if labels is None else labels
    values = np.zeros((0, 0), dtype) if values is None else values
    has_weights = weights is not None
    return labels, values, weights if has_weights else np.zeros(0, dtype), has_weights


def _output_loss(code: int, scores: Any, labels: Any, values: Any, weights: Any, out: Any) -> float:
    return float(_k.output_loss(code, scores, *_stand_ins(code, labels, values, weights, scores.dtype), out))


def _loss_gradient(out: Any, labels: Any, values: Any, weights: Any, dscores: Any, norm: float) -> None:
    code = _tables.LOSSES["softmax_cross_entropy" if labels is not None else "squared_error"].code
    _k.loss_gradient(code, out, *_stand_ins(code, labels, values, weights, out.dtype), dscores, norm)


class _NumbaCalls:
    """The compiled loops as ``interface.RawCalls`` (Numba's dispatchers are untyped: this class
    is where their signatures are declared, by the protocol it is checked against)."""

    adam_update = staticmethod(_adam_update)
    affine_backward = staticmethod(_k.affine_backward)
    affine_forward = staticmethod(_k.affine_forward)
    correct_count = staticmethod(_k.correct_count)
    cross_entropy_forward = staticmethod(_k.cross_entropy_forward)
    loss_gradient = staticmethod(_loss_gradient)
    nesterov_update = staticmethod(_nesterov_update)
    output_loss = staticmethod(_output_loss)
    relu_backward = staticmethod(_k.relu_backward)
    relu_forward = staticmethod(_k.relu_forward)
    sgd_update = staticmethod(_sgd_update)
    sigmoid_backward = staticmethod(_k.sigmoid_backward)
    sigmoid_forward = staticmethod(_k.sigmoid_forward)
    softmax_backward = staticmethod(_k.softmax_backward)
    softmax_cross_entropy = staticmethod(_k.softmax_cross_entropy)
    softmax_cross_entropy_backward = staticmethod(_k.softmax_cross_entropy_backward)
    softmax_forward = staticmethod(_k.softmax_forward)
    tanh_backward = staticmethod(_k.tanh_backward)
    tanh_forward = staticmethod(_k.tanh_forward)


class NumbaBackend(CompiledBackend):
    """The Numba backend: its kernels compile on first use per dtype (``warmup`` does it first)."""

    def warmup(self) -> None:
        """Compile (or load from the cache) every kernel and the native epoch for float32 and
        float64, outside any timing."""
        _kernels.exercise(self)
        _warmup_epoch(self)


def _warmup_epoch(backend: Backend) -> None:
    from ...optim import SGDSettings

    epoch = backend.native_epoch
    assert epoch is not None
    y = np.array([0, 1, 1], dtype=np.int64)
    for dtype in (np.float32, np.float64):
        x = np.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2)
        weights = [np.ones((2, 2), dtype), np.ones((2, 2), dtype)]
        net = _epoch.native_model(
            weights, [np.zeros(2, dtype), None], ["sigmoid", "relu"], step=SGDSettings(0.1, 0.01)
        )
        epoch.train_epoch(net, x, y, np.arange(3), batch_size=2)
        epoch.evaluate(net, x, y, batch_size=2)


_RAW: RawCalls = _NumbaCalls()
# The epoch's loops are serial and its GEMMs run in NumPy's BLAS at one thread (fastmlp.threads):
# it runs on one thread whatever ``threads`` it is given.
BACKEND: Backend = NumbaBackend(
    "numba", _RAW, _epoch.CompiledEpoch(_epoch_loops.train, _epoch_loops.evaluate, backend="numba")
)
