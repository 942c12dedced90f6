"""The C++ backend: the compiled kernels of ``fastmlp._cpp`` (Eigen GEMM, GIL released).

The compiled module is the one ``fastmlp._isa`` selects: ``_cpp`` (built for this machine), or in
a portable build the best of ``_cpp_v2`` / ``_cpp_v3`` / ``_cpp_v4`` this CPU supports.

This module supplies only the compiled calls. The public kernels around them (same contract and
checks as ``numpy_backend``) come from ``backends._kernels``, and ``train_epoch`` / ``evaluate``
(a whole epoch or evaluation pass of an MLP in one native call, same contract as
``backends._epoch``) from ``backends._epoch``. Every array reaches the compiled code C-contiguous,
of the exact dtype and 64-byte aligned (``fastmlp._memory.call_aligned``), and the compiled code
runs on ``fastmlp.get_num_threads()`` threads, read at each call.

Implementation notes. ``affine_forward`` is one Eigen GEMM with the bias added in place,
``affine_backward`` two GEMMs and a column sum; the element-wise kernels are vectorised loops, the
sigmoid through exp(-|z|) so that nothing overflows; ``cross_entropy_forward`` and
``softmax_cross_entropy`` accumulate the mean in double, the latter in one pass per row;
``sgd_update`` is one fused pass with the arithmetic in the parameter's dtype. In the native epoch
layer 1 runs over the non-zero inputs only when x is sparse enough (``sparse_rows``; MNIST is 81%
zeros).
"""

from __future__ import annotations

from typing import Any

from .. import _isa
from .._memory import call_aligned
from ..threads import get_num_threads
from . import _epoch, _kernels
from ._sparse import SPARSE_DENSITY as SPARSE_DENSITY  # re-exported
from ._sparse import SparseRows as SparseRows
from ._sparse import sparse_rows as sparse_rows

# fastmlp._cpp, or the best fastmlp._cpp_vN of a portable build for this CPU ($FASTMLP_ISA forces one)
_compiled = _isa.load()

__all__ = list(_kernels.KERNELS)
NATIVE_EPOCH = True  # train_epoch / evaluate: one compiled call per pass (see backends._epoch)


def _compiled_call(name: str) -> Any:
    function = getattr(_compiled, name)

    def call(*args: Any, as_is: tuple[int, ...] = ()) -> Any:
        wanted = get_num_threads()  # the budget is fastmlp.threads', read when the work starts
        if _compiled.get_num_threads() != wanted:
            _compiled.set_num_threads(wanted)
        return call_aligned(function, *args, as_is=as_is)

    return call


globals().update(_kernels.entry_points({name: _compiled_call(name) for name in _kernels.CALLS}, __name__))
_train_epoch, _evaluate = _compiled_call("train_epoch"), _compiled_call("evaluate")


def _layer_lists(net: _epoch.Layers) -> tuple[list[Any], list[Any], list[str]]:
    """The description as the compiled module takes it today: lists and activation names."""
    return list(net.weights), list(net.biases), [a.label for a in net.activations]


def _csr(data: _epoch.Pass) -> tuple[Any, Any, Any]:
    """The three CSR arrays for the compiled epoch, or three Nones for the dense path."""
    return (None, None, None) if data.rows is None else data.rows.arrays


def _train(net: _epoch.Layers, data: _epoch.Pass) -> tuple[float, int, int]:
    assert net.sgd is not None  # checked by backends._epoch
    weights, biases, activations = _layer_lists(net)
    no_velocities = [None] * len(weights)
    w_vel = no_velocities if net.weight_velocities is None else list(net.weight_velocities)
    b_vel = no_velocities if net.bias_velocities is None else list(net.bias_velocities)
    sgd = net.sgd
    loss_sum, batches, correct = _train_epoch(
        data.x, data.y, data.order, weights, biases, activations, w_vel, b_vel, data.batch_size,
        sgd.learning_rate, sgd.reg, sgd.momentum, *_csr(data),
        as_is=(0,),  # x: its rows are copied into an aligned batch, or its non-zeros read one by one
    )  # fmt: skip
    return float(loss_sum), int(batches), int(correct)


def _evaluate_pass(net: _epoch.Layers, data: _epoch.Pass) -> tuple[float, int, int]:
    # the dense evaluation runs Eigen's GEMM on x's own rows, so x must be aligned there
    as_is = () if data.rows is None else (0,)
    loss_sum, batches, correct = _evaluate(
        data.x, data.y, *_layer_lists(net), data.batch_size, *_csr(data), as_is=as_is
    )
    return float(loss_sum), int(batches), int(correct)


train_epoch, evaluate = _epoch.entry_points(_train, _evaluate_pass)
