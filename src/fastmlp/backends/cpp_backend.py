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

from typing import TYPE_CHECKING, Any

from .. import _isa
from .._memory import call_aligned
from ..optim import AdamSettings
from ..threads import get_num_threads
from . import _epoch, _kernels
from ._sparse import SPARSE_DENSITY as SPARSE_DENSITY  # re-exported
from ._sparse import SparseRows as SparseRows
from ._sparse import sparse_rows as sparse_rows
from .tables import OPTIMIZERS

if TYPE_CHECKING:  # mypy checks every call below against the compiled module's stub, _cpp.pyi
    from .. import _cpp as _compiled
else:  # fastmlp._cpp, or the best fastmlp._cpp_vN of a portable build for this CPU ($FASTMLP_ISA forces one)
    _compiled = _isa.load()

__all__ = list(_kernels.KERNELS)
NATIVE_EPOCH = True  # train_epoch / evaluate: one compiled call per pass (see backends._epoch)


def _use_thread_budget() -> None:
    wanted = get_num_threads()  # the budget is fastmlp.threads', read when the work starts
    if _compiled.get_num_threads() != wanted:
        _compiled.set_num_threads(wanted)


def _compiled_call(name: str) -> Any:
    function = getattr(_compiled, name)

    def call(*args: Any, as_is: tuple[int, ...] = ()) -> Any:
        _use_thread_budget()
        return call_aligned(function, *args, as_is=as_is)

    return call


globals().update(_kernels.entry_points({name: _compiled_call(name) for name in _kernels.CALLS}, __name__))


def _compiled_pass(
    function: Any, net: _epoch.Layers, data: _epoch.Pass, *settings: Any, x_as_is: bool
) -> _epoch.PassResult:
    """One compiled pass over ``data`` with ``net`` bound as one ``_cpp.Network`` and the CSR as one
    ``_cpp.SparseRows``. Their arrays go through ``call_aligned`` like any argument (the model's own
    are aligned already; a misaligned one is copied in and back), so the bound description is made
    inside, from the arrays the compiled code will really use."""
    none = [None] * len(net.weights)
    codes = [row.code for row in net.activations]  # tables.ACTIVATIONS: the one definition
    sparse = None if data.rows is None else _compiled.SparseRows(*data.rows.arrays)
    order = () if data.order is None else (data.order,)
    buffers = [
        list(group or none)
        for group in (net.weight_velocities, net.bias_velocities, net.weight_seconds, net.bias_seconds)
    ]

    def run(x: Any, *arrays: Any) -> Any:
        *targets, weights, biases, w_vel, b_vel, w_sec, b_sec = arrays
        labels, values, sample_weight, *order_or_nothing = targets
        network = _compiled.Network(
            weights, biases, codes, w_vel, b_vel, w_sec, b_sec, net.loss.code, net.steps
        )
        return function(
            x, labels, values, sample_weight, *order_or_nothing, network, *settings, data.batch_size, sparse
        )

    _use_thread_budget()
    loss_sum, batches, correct, row_weighted = call_aligned(
        run, data.x, data.labels, data.values, data.sample_weight, *order,
        list(net.weights), list(net.biases), *buffers, as_is=(0,) if x_as_is else (),
    )  # fmt: skip
    return _epoch.PassResult(float(loss_sum), int(batches), int(correct), float(row_weighted))


def _train(net: _epoch.Layers, data: _epoch.Pass) -> _epoch.PassResult:
    step = net.step
    assert step is not None  # checked by backends._epoch
    rule = OPTIMIZERS[step.rule].code
    beta1, beta2, epsilon = (
        (step.beta1, step.beta2, step.epsilon) if isinstance(step, AdamSettings) else (0.9, 0.999, 1e-8)
    )
    settings = _compiled.StepSettings(
        rule, step.learning_rate, step.reg, step.momentum, beta1, beta2, epsilon, step.l2 == "sklearn"
    )
    # x as is: its rows are copied into an aligned batch, or (sparse) it is not read at all
    return _compiled_pass(_compiled.train_epoch, net, data, settings, x_as_is=True)


def _evaluate_pass(net: _epoch.Layers, data: _epoch.Pass) -> _epoch.PassResult:
    # the dense evaluation runs Eigen's GEMM on x's own rows, so x must be aligned there
    return _compiled_pass(_compiled.evaluate, net, data, x_as_is=data.rows is not None)


train_epoch, evaluate = _epoch.entry_points(_train, _evaluate_pass)
