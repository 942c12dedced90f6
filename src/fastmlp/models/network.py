"""A feed-forward network as a stack of affine layers, computed only through backend kernels.

Each layer is ``z = a_in @ W + b`` followed by an optional activation; the loss row
(``backends.tables.LOSSES``: softmax cross-entropy by default, binary cross-entropy, squared error)
follows the last layer. The network owns its parameters and the caches of the last forward pass
(kernels are stateless); any backend with the reference's kernel interface computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from .. import _validate
from .._memory import aligned, aligned_zeros
from ..backends import get_backend
from ..backends._epoch import NativeModel, native_model
from ..backends.interface import Backend, activation_pair, loss_pair
from ..backends.precision import check_precision, round_to_bfloat16
from ..backends.tables import HIDDEN_ACTIVATIONS, activation
from ..backends.tables import loss as loss_row
from ..errors import FastmlpTypeError, FastmlpValueError

if TYPE_CHECKING:
    from ..optim import Optimizer

ACTIVATIONS = HIDDEN_ACTIVATIONS  # the names accepted after a hidden layer (tables.ACTIVATIONS, aliases)
INITS = ("assignment", "he", "xavier")


class NetworkOptions(TypedDict, total=False):
    """The keyword arguments every model passes on to ``Network`` (see there)."""

    dtype: Any
    backend: str | Backend | None
    init: str
    seed: int
    loss: str
    precision: str


@dataclass(frozen=True)
class Layer:
    """Layer i: weight ``W{i}`` (fan_in, fan_out), optional bias ``b{i}``, activation after."""

    fan_in: int
    fan_out: int
    has_bias: bool
    activation: str | None


def initial_weight(shape: tuple[int, int], init: str, seed: int) -> np.ndarray:
    """One weight matrix, float64, before casting to the network's dtype.

    ``assignment``: ``0.001 * randn`` from NumPy's legacy generator seeded with ``seed``
    (1024 in the assignment) right before each matrix, so every matrix starts from the same
    stream; ``he``: normal with std sqrt(2 / fan_in); ``xavier``: std sqrt(1 / fan_in).
    """
    if init == "assignment":
        return 0.001 * np.random.RandomState(seed).randn(*shape)
    scale = float(np.sqrt((2.0 if init == "he" else 1.0) / shape[0]))
    return scale * np.random.default_rng(seed).standard_normal(shape)


class Network:
    """Parameters ``W1, b1, W2, ...`` in ``self.params``; forward, backward, predict.

    Parameters
    ----------
    layers : the stack, first layer first.
    dtype : float32 or float64 for every parameter and computation.
    backend : backend name or object (``backends.interface.Backend``); None means the current default.
    init, seed : weight initialisation (see ``initial_weight``); biases start at zero.
    loss : a row of ``backends.tables.LOSSES`` after the last layer (or a scikit-learn alias):
        ``softmax_cross_entropy`` on labels (N,), ``binary_cross_entropy`` on an (N, K) indicator,
        ``squared_error`` on (N, K) values.
    precision : the GEMMs' inputs (``backends.precision``): ``float32`` (the dtype, default) or
        ``bfloat16`` (float32 models: GEMM inputs rounded to bfloat16, float32 sums and master
        weights). The cpp native epoch runs bfloat16 on CPUs with AVX512_BF16 (FastmlpValueError
        elsewhere, and on the numba backend); the kernel-by-kernel path emulates it.
    """

    def __init__(
        self,
        layers: list[Layer],
        *,
        dtype: Any = "float32",
        backend: str | Backend | None = None,
        init: str = "assignment",
        seed: int = 1024,
        loss: str = "softmax_cross_entropy",
        precision: str = "float32",
    ) -> None:
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as error:
            raise FastmlpTypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from error
        if self.dtype not in _validate.FLOAT_DTYPES:
            raise FastmlpValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        if init not in INITS:
            raise FastmlpValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise FastmlpTypeError(f"seed must be an int, got {type(seed).__name__}")
        self.backend: Backend = (
            get_backend(backend) if backend is None or isinstance(backend, str) else backend
        )
        self.precision = check_precision(precision, self.dtype)
        if self.backend.native_epoch is not None:
            self.backend.native_epoch.require_precision(self.precision)
        self.loss = loss_row(loss)
        self.layer_specs = layers
        self.init, self.seed = init, int(seed)
        self.params: dict[str, np.ndarray] = {}
        for i, layer in enumerate(layers, start=1):
            weight = initial_weight((layer.fan_in, layer.fan_out), init, self.seed)
            self.params[f"W{i}"] = aligned(weight.astype(self.dtype))
            if layer.has_bias:
                self.params[f"b{i}"] = aligned_zeros(layer.fan_out, self.dtype)
        self._cache: dict[str, Any] = {}
        self._descriptions: dict[int, tuple[Optimizer | None, NativeModel]] = {}

    # --- description -------------------------------------------------------------------

    @property
    def input_size(self) -> int:
        return self.layer_specs[0].fan_in

    @property
    def num_classes(self) -> int:
        return self.layer_specs[-1].fan_out

    def layers(self) -> list[tuple[np.ndarray, np.ndarray | None, str | None]]:
        """``[(W, b or None, activation after)]``, first layer first."""
        return [
            (self.params[f"W{i}"], self.params.get(f"b{i}"), layer.activation)
            for i, layer in enumerate(self.layer_specs, start=1)
        ]

    def describe(self, optimizer: Optimizer | None = None) -> NativeModel:
        """This model as the native epochs read it (``backends._epoch.NativeModel``): its own arrays,
        with ``optimizer``'s settings and velocities (None: for evaluation only).

        Built and checked once, then reused for as long as the same optimizer, settings and
        parameter arrays are in place (a training run), so no epoch rebuilds or re-checks it.
        """
        found = self._descriptions.get(id(optimizer))
        arrays = [array for layer in self.layers() for array in layer[:2]]
        if found is not None:
            net = found[1]
            current = [array for pair in zip(net.weights, net.biases, strict=True) for array in pair]
            same_settings = optimizer is None or net.step is optimizer.settings
            if same_settings and all(a is b for a, b in zip(arrays, current, strict=True)):
                return net
        weights, biases, activations = zip(*self.layers(), strict=True)
        buffers: dict[str, Any] = {}
        if optimizer is not None:
            names = [(f"W{i}", f"b{i}") for i in range(1, len(weights) + 1)]
            # the step's buffers by kind: velocity (or Adam's m) first, Adam's v second
            for kind, slot in zip(optimizer.settings.buffers, ("velocities", "seconds"), strict=False):
                buffers[f"weight_{slot}"] = [
                    optimizer.buffer(kind, w, W) for (w, _), W in zip(names, weights, strict=True)
                ]
                buffers[f"bias_{slot}"] = [
                    None if b is None else optimizer.buffer(kind, name, b)
                    for (_, name), b in zip(names, biases, strict=True)
                ]
            buffers["steps"] = optimizer.steps
        step = None if optimizer is None else optimizer.settings
        net = native_model(
            list(weights),
            list(biases),
            list(activations),
            loss=self.loss,
            step=step,
            precision=self.precision,
            **buffers,
        )
        self._descriptions[id(optimizer)] = (optimizer, net)  # holding optimizer keeps its id unique
        return net

    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild this architecture (saved beside the weights)."""
        raise NotImplementedError

    # --- computation -------------------------------------------------------------------

    def _check_batch(self, x: Any, y: Any | None) -> tuple[np.ndarray, np.ndarray | None]:
        x = _validate.float_array("x", x, 2)
        if x.dtype != self.dtype:
            raise FastmlpTypeError(f"x must have the model's dtype {self.dtype}, got {x.dtype}")
        if x.shape[1] != self.input_size:
            raise FastmlpValueError(
                f"x must have {self.input_size} columns (input_size), got shape {x.shape}"
            )
        if y is None:
            return x, None
        if self.loss.targets == "labels":
            return x, _validate.labels("y", y, x.shape[0], self.num_classes)
        shape = (x.shape[0], self.num_classes)
        return x, _validate.target_values("y", y, shape, self.dtype, self.loss.nonnegative_for)

    def scores(self, x: Any) -> np.ndarray:
        """The last layer's output (after its activation, if any), (N, C)."""
        x, _ = self._check_batch(x, None)
        return self._forward_layers(x, keep=False)

    def predict(self, x: Any) -> np.ndarray:
        """Predicted class per row, (N,) int64."""
        predicted: np.ndarray = np.argmax(self.scores(x), axis=1)
        return predicted

    def _gemm_input(self, a: np.ndarray) -> np.ndarray:
        """A GEMM's input as the precision has it: a itself, or rounded to bfloat16 (emulation)."""
        return round_to_bfloat16(a) if self.precision == "bfloat16" else a

    def _forward_layers(self, x: np.ndarray, keep: bool) -> np.ndarray:
        k = self.backend
        a = x
        inputs, outputs = [], []
        r = self._gemm_input
        for W, b, name in self.layers():
            row = activation(name)
            z = k.affine_forward(r(a), r(W), b)
            inputs.append(a)
            a = activation_pair(k, row)[0](z) if row.has_kernels else z
            # what the row's backward reads: z (relu) or the output a (sigmoid)
            outputs.append(z if row.backward_reads == "z" else a)
        if keep:
            self._cache = {"inputs": inputs, "outputs": outputs}
        return a

    def forward(self, x: Any, y: Any, sample_weight: Any = None) -> tuple[float, int]:
        """The loss row's loss (``sum_n w_n loss_n / sum_n w_n``) and the number of correct
        predictions on x (N, D) and its targets y (labels (N,) or values (N, K), as the loss row
        takes), with optional sample weights (N,).

        Keeps what ``backward`` needs; the loss excludes any regularisation term.
        """
        x, targets = self._check_batch(x, y)
        assert targets is not None
        weights = _validate.sample_weight("sample_weight", sample_weight, x.shape[0], self.dtype)
        scores = self._forward_layers(x, keep=True)
        loss, outputs = loss_pair(self.backend, self.loss)[0](scores, targets, weights)
        norm = float(x.shape[0]) if weights is None else float(np.sum(weights, dtype=np.float64))
        self._cache.update(probs=outputs, y=targets, sample_weight=weights, norm=norm)
        if self.loss.targets == "labels":
            correct = int(np.count_nonzero(np.argmax(scores, axis=1) == targets))
        elif self.loss.targets == "indicator":
            correct = int(np.count_nonzero(np.all((outputs > 0.5) == (targets > 0.5), axis=1)))
        else:
            correct = 0  # regression: no prediction is "correct"
        return loss, correct

    @property
    def batch_norm(self) -> float:
        """The last forward batch's rows, or its sample-weight sum (the sklearn L2 form's n)."""
        return float(self._cache["norm"])

    def backward(self) -> dict[str, np.ndarray]:
        """Gradients of the last forward's loss, keyed like ``params``."""
        if "probs" not in self._cache:
            raise RuntimeError("backward() needs a forward(x, y) first")
        k = self.backend
        grads: dict[str, np.ndarray] = {}
        d = loss_pair(k, self.loss)[1](self._cache["probs"], self._cache["y"], self._cache["sample_weight"])
        for i in range(len(self.layer_specs), 0, -1):
            W, b, name = self.layers()[i - 1]
            row = activation(name)
            if row.has_kernels:
                d = activation_pair(k, row)[1](d, self._cache["outputs"][i - 1])
            x = self._cache["inputs"][i - 1]
            if self.precision == "float32":
                dx, dW, db = k.affine_backward(d, x, W, need_dx=i > 1, has_bias=b is not None)
            else:  # the GEMMs on rounded inputs, db from d itself (the bias stays float32)
                r = self._gemm_input
                dx, dW, _ = k.affine_backward(r(d), r(x), r(W), need_dx=i > 1, has_bias=False)
                db = None if b is None else k.affine_backward(d, x, W, need_dx=False, has_bias=True)[2]
            grads[f"W{i}"] = dW
            if db is not None:
                grads[f"b{i}"] = db
            if dx is not None:
                d = dx
        return grads
