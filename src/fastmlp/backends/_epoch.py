"""The native epoch boundary: one description of the model, checked once, read by every native epoch.

A native epoch runs a whole training epoch (or evaluation pass) of an MLP in one compiled call.
A backend that has one declares it (``Backend.native_epoch``, a ``CompiledEpoch`` below), supplying
only its compiled calls; the signatures and
this contract are written here once (numba_backend and cpp_backend: "same contract as
backends._epoch").

The contract
------------
``train_epoch(net, x, y, order, *, batch_size, sample_weight=None, sparse=None, x_sparse=None,
threads=None)``
    One epoch over ``x[order]`` in batches of ``batch_size`` (the last may be shorter).
    net: a ``NativeModel`` (from ``native_model(...)`` or ``Network.describe(optimizer)``) with step settings.
    x (N, D) of net's dtype; y the targets of net's loss row (``tables.LOSSES``): (N,) integer
    labels in [0, K) or (N, K) values; sample_weight (N,) >= 0 or None; order (S,) row indices.
    Per batch (n rows, norm = n or the batch's weight sum): forward; the loss row's output and
    ``sum_n w_n loss_n / norm`` (plus ``0.5 reg sum W^2 / norm`` with ``l2="sklearn"``); the count
    of rows predicted correctly (before the update); backward from ``(output - target) * w / norm``;
    then per layer the step rule's update kernel (``tables.OPTIMIZERS``: ``reg`` on weight matrices
    only, ``reg / norm`` with ``l2="sklearn"``; Adam's t counted in ``net.steps``). Parameters and
    buffers are updated in place. Returns a ``PassResult``.
``evaluate(net, x, y, *, batch_size, sample_weight=None, sparse=None, x_sparse=None, threads=None)``
    The forward pass over x in order, in batches; a ``PassResult`` (no L2 term); nothing is modified.
``sparse``, ``x_sparse``
    Layer 1 runs over x's non-zeros when ``sparse`` is True, densely when False, and when None
    (default) whenever under ``SPARSE_DENSITY`` of x is non-zero; the CSR is ``x_sparse`` if given
    (from ``sparse_rows(x)``), else built on the first call for this x and cached. Both paths do
    the same arithmetic in a different order (equal to float rounding).
``threads``
    The compute threads of this call, an argument of the compiled epoch (None: the budget,
    ``fastmlp.get_num_threads()``, read once here). Results do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import numpy as np

from .. import _validate
from ..errors import FastmlpTypeError, FastmlpValueError
from ..optim import AdamSettings, Settings, SGDSettings
from ..threads import check_count, get_num_threads
from . import tables
from ._sparse import SparseRows, choose
from .interface import ArrayIn, OptionalArray
from .precision import check_precision
from .tables import ActivationRow, LossRow, activation

if TYPE_CHECKING:  # typing's own from Python 3.11; mypy targets 3.10
    from typing_extensions import Required, Unpack


@dataclass(frozen=True, eq=False)
class NativeModel:
    """An MLP as the native epochs read it: built and checked once (by ``native_model``), then trusted.

    Layer l: weights[l] (fan_in, fan_out), biases[l] (fan_out,) or None, activations[l] (a row of
    ``tables.ACTIVATIONS``) applied to its output; ``loss`` (a row of ``tables.LOSSES``) after the
    last layer. ``step``: the training step's settings (``optim.SGDSettings`` or ``AdamSettings``;
    None: evaluation only). Per layer the step's buffers, like the parameters (None for a bias-less
    layer): velocities (momentum, Nesterov; Adam's first moment m) and seconds (Adam's second
    moment v), present exactly when the step needs them; ``steps`` (1,) int64 the updates done
    (Adam's t). ``precision``: the GEMMs' inputs (``backends.precision.PRECISIONS``). The arrays are
    the model's and optimizer's own, updated in place. ``native`` holds
    a backend's own form of the description (Numba's typed lists), made on its first use.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray | None, ...]
    activations: tuple[ActivationRow, ...]
    loss: LossRow
    step: Settings | None = None
    weight_velocities: tuple[np.ndarray, ...] | None = None
    bias_velocities: tuple[np.ndarray | None, ...] | None = None
    weight_seconds: tuple[np.ndarray, ...] | None = None
    bias_seconds: tuple[np.ndarray | None, ...] | None = None
    steps: np.ndarray | None = None
    precision: str = "float32"
    native: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype


@dataclass(frozen=True)
class PassResult:
    """What one native pass measured: ``loss_sum`` the sum of the batch losses, ``batches``,
    ``correct`` rows predicted correctly, ``row_weighted_loss`` the sum of batch loss x batch rows
    (scikit-learn's accumulated_loss: divided by the rows it is the estimator's ``loss_``)."""

    loss_sum: float
    batches: int
    correct: int
    row_weighted_loss: float

    @property
    def mean_loss(self) -> float:
        """The mean of the batch losses (the assignment's training loss)."""
        return self.loss_sum / self.batches


def _per_layer(name: str, value: Any, count: int | None) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise FastmlpTypeError(f"{name} must be a list with one entry per layer, got {type(value).__name__}")
    if count is not None and len(value) != count:
        raise FastmlpValueError(f"{name} must have one entry per layer ({count}), got {len(value)}")
    return list(value)


def native_model(
    weights: Sequence[Any],
    biases: Sequence[Any],
    activations: Sequence[str | ActivationRow | None],
    *,
    loss: str | LossRow = "softmax_cross_entropy",
    step: Settings | None = None,
    weight_velocities: Sequence[Any] | None = None,
    bias_velocities: Sequence[Any] | None = None,
    weight_seconds: Sequence[Any] | None = None,
    bias_seconds: Sequence[Any] | None = None,
    steps: np.ndarray | None = None,
    precision: str = "float32",
) -> NativeModel:
    """Check a layer stack and describe it: the one constructor of ``NativeModel``.

    weights[l] (fan_in, fan_out), chained; biases[l] (fan_out,) or None; activations[l] a name of
    ``tables.ACTIVATIONS`` (an alias, or None for identity); loss a name of ``tables.LOSSES``. Every
    array is used in place, so it must be C-contiguous and writable, all of one dtype. The step's
    buffers (``step.buffers``) are required: velocities for momentum or Nesterov, velocities (m)
    and seconds (v) and ``steps`` for Adam. ``precision``: a name of ``backends.precision.PRECISIONS``
    (bfloat16 on float32 weights only).
    """
    weights = _per_layer("weights", weights, None)
    if not weights:
        raise FastmlpValueError("weights must hold at least one layer")
    biases = _per_layer("biases", biases, len(weights))
    activations = _per_layer("activations", activations, len(weights))
    if step is not None and not isinstance(step, (SGDSettings, AdamSettings)):
        raise FastmlpTypeError(
            f"step must be fastmlp.optim.SGDSettings or AdamSettings, got {type(step).__name__}"
        )
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
    assert dtype is not None  # weights is not empty
    precision = check_precision(precision, dtype)
    rows = tuple(activation(a, f"activations[{layer}]") for layer, a in enumerate(activations))
    needed = () if step is None else step.buffers
    w_vel, b_vel = _buffers("velocities", weight_velocities, bias_velocities, weights, biases, bool(needed))
    w_sec, b_sec = _buffers("seconds", weight_seconds, bias_seconds, weights, biases, "v" in needed)
    if "v" in needed:
        if not isinstance(steps, np.ndarray) or steps.shape != (1,) or steps.dtype != np.int64:
            raise FastmlpValueError("steps must be a (1,) int64 array (Adam's update count) for Adam")
        _validate.writable_buffer("steps", steps, (1,), np.dtype(np.int64))
    return NativeModel(
        tuple(weights),
        tuple(biases),
        rows,
        tables.loss(loss),
        step,
        w_vel,
        b_vel,
        w_sec,
        b_sec,
        steps,
        precision,
    )


def _buffers(
    kind: str,
    weight_buffers: Sequence[Any] | None,
    bias_buffers: Sequence[Any] | None,
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    required: bool,
) -> tuple[tuple[np.ndarray, ...] | None, tuple[np.ndarray | None, ...] | None]:
    """A step's buffers per layer (None for a bias-less layer), required when the step needs them."""
    if weight_buffers is None:
        if required:
            raise FastmlpValueError(f"weight_{kind} must be given for this step (its buffers)")
        return None, None
    w_buf = _per_layer(f"weight_{kind}", weight_buffers, len(weights))
    b_buf = [None] * len(weights) if bias_buffers is None else bias_buffers
    b_buf = _per_layer(f"bias_{kind}", b_buf, len(weights))
    for layer, (w, b, bw, bb) in enumerate(zip(weights, biases, w_buf, b_buf, strict=True)):
        _validate.writable_buffer(f"weight_{kind}[{layer}]", bw, w.shape, w.dtype)
        if b is not None:
            _validate.writable_buffer(f"bias_{kind}[{layer}]", bb, b.shape, b.dtype)
        elif bb is not None:
            raise FastmlpValueError(f"bias_{kind}[{layer}] must be None: layer {layer} has no bias")
    return tuple(w_buf), tuple(b_buf)


@dataclass(frozen=True)
class PassData:
    """The checked data of one native call: x (N, D), the targets (labels (N,) int64 or values
    (N, K) of x's dtype, as net's loss row takes), sample_weight (N,) or None, order (S,) int64
    (None when evaluating: rows in order), the batch size, the CSR of x when layer 1 runs sparse and
    the call's thread count."""

    x: np.ndarray
    labels: np.ndarray | None
    values: np.ndarray | None
    sample_weight: np.ndarray | None
    order: np.ndarray | None
    batch_size: int
    rows: SparseRows | None
    threads: int


class PassOptions(TypedDict, total=False):
    """The keyword arguments of both native passes (``train_epoch`` and ``evaluate``), written once:
    ``batch_size`` (required) and the options of the contract above (absent: their defaults, None)."""

    batch_size: Required[int]
    sample_weight: OptionalArray
    sparse: bool | None
    x_sparse: SparseRows | None
    threads: int | None


def _pass(
    net: object, x: ArrayIn, y: ArrayIn, order: ArrayIn | None, training: bool, options: PassOptions
) -> PassData:
    """The checked pass: training over ``order``, or evaluating x's rows in order."""
    unknown = sorted(set(options) - PassOptions.__required_keys__ - PassOptions.__optional_keys__)
    if unknown:  # what Python says of an unexpected keyword, since **options takes any at run time
        raise FastmlpTypeError(f"got an unexpected keyword argument {unknown[0]!r}")
    if "batch_size" not in options:
        raise FastmlpTypeError("missing required keyword argument 'batch_size'")
    if not isinstance(net, NativeModel):
        raise FastmlpTypeError(f"net must be a NativeModel (backends._epoch.native_model), got {net!r:.60}")
    if training and net.step is None:
        raise FastmlpValueError(
            "net must carry step settings to train (native_model(..., step=SGDSettings(...)))"
        )
    x = _validate.float_array("x", x, 2)
    _validate.same_dtype("weights[0]", net.weights[0], x=x)
    if x.shape[1] != net.weights[0].shape[0]:
        raise FastmlpValueError(
            f"x must have {net.weights[0].shape[0]} columns to match weights[0], got {x.shape}"
        )
    outputs = net.weights[-1].shape[1]
    labels = values = None
    if net.loss.targets == "labels":
        labels = _validate.labels("y", y, x.shape[0], outputs)
    else:
        shape = (x.shape[0], outputs)
        values = _validate.target_values("y", y, shape, x.dtype, net.loss.nonnegative_for)  # Poisson: y >= 0
    weights = _validate.sample_weight("sample_weight", options.get("sample_weight"), x.shape[0], x.dtype)
    rows_order = _order(order, x.shape[0]) if training else None
    batch_size = _validate.positive_int("batch_size", options["batch_size"])
    sparse = options.get("sparse")
    if net.precision == "bfloat16" and sparse is None:
        sparse = False  # bfloat16 runs layer 1 dense unless asked (the sparse layer 1 stays float32)
    rows = choose(x, sparse, options.get("x_sparse"), values=training)
    threads = options.get("threads")
    threads = get_num_threads() if threads is None else check_count(threads, "threads")
    return PassData(x, labels, values, weights, rows_order, batch_size, rows, threads)


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
    """A backend's compiled pass: the checked description and data -> PassResult."""

    def __call__(self, net: NativeModel, data: PassData) -> PassResult: ...


class CompiledEpoch:
    """A backend's native epoch (``interface.NativeEpoch``, the one kind there is): the contract
    above, its checks and signatures, around the backend's two compiled calls.

    ``bfloat16``: None when the compiled calls have no bfloat16 GEMM, else a probe that returns
    None where this CPU runs it and the reason where not (``require_precision`` raises with it).
    """

    def __init__(
        self,
        train: NativeCall,
        evaluate: NativeCall,
        *,
        backend: str,
        bfloat16: Callable[[], str | None] | None = None,
    ) -> None:
        self._train, self._evaluate = train, evaluate
        self._backend, self._bfloat16 = backend, bfloat16

    def require_precision(self, precision: str, name: str = "precision") -> None:
        """Raise FastmlpValueError (naming ``name`` and the backend) unless this native epoch runs
        ``precision`` on this CPU."""
        if precision != "bfloat16":
            return
        if self._bfloat16 is None:
            raise FastmlpValueError(
                f"{name}='bfloat16' is not implemented by the {self._backend} backend's native epoch "
                "(use backend='cpp' on a CPU with AVX512_BF16, or backend='numpy' to emulate it)"
            )
        why = self._bfloat16()
        if why is not None:
            raise FastmlpValueError(f"{name}='bfloat16' on the {self._backend} backend: {why}")

    def train_epoch(
        self, net: NativeModel, x: ArrayIn, y: ArrayIn, order: ArrayIn, **options: Unpack[PassOptions]
    ) -> PassResult:
        """One training epoch in one native call: see fastmlp.backends._epoch."""
        data = _pass(net, x, y, order, True, options)
        self.require_precision(net.precision, "net.precision")
        return self._train(net, data)

    def evaluate(
        self, net: NativeModel, x: ArrayIn, y: ArrayIn, **options: Unpack[PassOptions]
    ) -> PassResult:
        """One evaluation pass in one native call: see fastmlp.backends._epoch."""
        data = _pass(net, x, y, None, False, options)
        self.require_precision(net.precision, "net.precision")
        return self._evaluate(net, data)
