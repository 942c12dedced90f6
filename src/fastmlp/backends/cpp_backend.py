"""The C++ backend: the compiled kernels of ``fastmlp._cpp`` (Eigen GEMM, GIL released).

The compiled module is the one ``fastmlp._isa`` selects: ``_cpp`` (built for this machine), or in
a portable build the best of ``_cpp_v2`` / ``_cpp_v3`` / ``_cpp_v4`` this CPU supports. For the
checker it is ``fastmlp._cpp`` itself (imported under TYPE_CHECKING), so every call below is
checked against ``_cpp.pyi``; ``tests/test_cpp_stub.py`` holds the stub to the binding.

``BACKEND`` is this backend (an ``interface.Backend``): the public kernels of
``backends._kernels.CompiledBackend`` around the compiled calls, and ``train_epoch`` / ``evaluate``
(a whole epoch or evaluation pass of an MLP in one native call, same contract as
``backends._epoch``). Every array reaches the compiled code C-contiguous, of the exact dtype and
64-byte aligned: a kernel's binding copies a misaligned float array into an aligned buffer (and
back, if it writes it); the native epoch's model goes through ``fastmlp._memory.call_aligned``.
The native epoch runs on the ``threads`` it is given (``PassData.threads``: an argument of the
compiled call); a single kernel runs on its caller's thread, as NumPy's BLAS does under fastmlp
(``fastmlp.threads``).

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
from . import _epoch
from ._kernels import CompiledBackend
from ._sparse import SPARSE_DENSITY as SPARSE_DENSITY  # re-exported
from ._sparse import SparseRows as SparseRows
from ._sparse import sparse_rows as sparse_rows
from .interface import Backend, RawCalls
from .tables import OPTIMIZERS

if TYPE_CHECKING:  # mypy checks every call below against the compiled module's stub, _cpp.pyi
    from .. import _cpp as _compiled
else:  # fastmlp._cpp, or the best fastmlp._cpp_vN of a portable build for this CPU ($FASTMLP_ISA forces one)
    _compiled = _isa.load()

# A single kernel's GEMM runs on the caller's thread (Eigen's own pool stays at one): threads are
# the native epoch's argument, and a batch-sized GEMM gains less than a thread pool's syncs cost.
_compiled.set_num_threads(1)


def _compiled_pass(
    net: _epoch.NativeModel, data: _epoch.PassData, step: _compiled.StepSettings | None
) -> _epoch.PassResult:
    """One compiled pass over ``data`` with ``net`` bound as one ``_cpp.NativeModel`` and the CSR as
    one ``_cpp.SparseRows``. Their arrays go through ``call_aligned`` like any argument (the model's
    own are aligned already; a misaligned one is copied in and back), so the bound description is
    made inside, from the arrays the compiled code will really use."""
    none = [None] * len(net.weights)
    codes = [row.code for row in net.activations]  # tables.ACTIVATIONS: the one definition
    sparse = None if data.rows is None else _compiled.SparseRows(*data.rows.arrays)
    buffers = [
        list(group or none)
        for group in (net.weight_velocities, net.bias_velocities, net.weight_seconds, net.bias_seconds)
    ]

    def run(x: Any, *arrays: Any) -> tuple[float, int, int, float]:
        *targets, weights, biases, w_vel, b_vel, w_sec, b_sec = arrays
        labels, values, sample_weight, *order = targets
        model = _compiled.NativeModel(
            weights, biases, codes, w_vel, b_vel, w_sec, b_sec, net.loss.code, net.steps, bf16
        )
        if step is None:
            return _compiled.evaluate(
                x, labels, values, sample_weight, model, data.batch_size, sparse, data.threads
            )
        return _compiled.train_epoch(
            x, labels, values, sample_weight, order[0], model, step, data.batch_size, sparse, data.threads
        )

    bf16 = net.precision == "bfloat16"
    order = () if data.order is None else (data.order,)
    # x as is when training (its rows are copied into an aligned batch) or sparse (not read at
    # all); the dense evaluation runs Eigen's GEMM on x's own rows, so x must be aligned there
    x_as_is = step is not None or data.rows is not None
    loss_sum, batches, correct, row_weighted = call_aligned(
        run, data.x, data.labels, data.values, data.sample_weight, *order,
        list(net.weights), list(net.biases), *buffers, as_is=(0,) if x_as_is else (),
    )  # fmt: skip
    return _epoch.PassResult(float(loss_sum), int(batches), int(correct), float(row_weighted))


def _train(net: _epoch.NativeModel, data: _epoch.PassData) -> _epoch.PassResult:
    step = net.step
    assert step is not None  # checked by backends._epoch
    rule = OPTIMIZERS[step.rule].code
    beta1, beta2, epsilon = (
        (step.beta1, step.beta2, step.epsilon) if isinstance(step, AdamSettings) else (0.9, 0.999, 1e-8)
    )
    settings = _compiled.StepSettings(
        rule, step.learning_rate, step.reg, step.momentum, beta1, beta2, epsilon, step.l2 == "sklearn"
    )
    return _compiled_pass(net, data, settings)


def _evaluate(net: _epoch.NativeModel, data: _epoch.PassData) -> _epoch.PassResult:
    return _compiled_pass(net, data, None)


def bfloat16_unavailable() -> str | None:
    """None where the compiled bfloat16 GEMM runs on this CPU (AVX512_BF16, by CPUID), else why not."""
    if _compiled.cpu_has_bf16():
        return None
    return "this CPU lacks AVX512_BF16 (see lscpu's avx512_bf16); use precision='float32'"


# The compiled kernels as the raw calls (the stub's signatures, checked against the interface here).
# Each aligns its own float arrays (an aligned buffer for a misaligned one: cpp/bindings.cpp).
_RAW: RawCalls = _compiled
BACKEND: Backend = CompiledBackend(
    "cpp", _RAW, _epoch.CompiledEpoch(_train, _evaluate, backend="cpp", bfloat16=bfloat16_unavailable)
)
