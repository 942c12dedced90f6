"""The estimators' one door into fastmlp's engine: scikit-learn's layers in, fastmlp's kernels run.

The estimators (``_estimators``) own everything scikit-learn defines: parameters, input checks,
the random stream, the epoch loop, early stopping. They reach the computation only through this
module, which maps scikit-learn's names onto the engine's rows and runs:

- ``Model``: the fitted layers, ``coefs_[l]`` (fan_in, fan_out) and ``intercepts_[l]`` (fan_out,),
  as one ``fastmlp.models.network.Network`` whose parameter arrays *are* the estimator's;
- ``Model.output(X)``: the forward pass with the output activation, (N, K), X dense or sparse;
- ``Model.loss_and_gradients(X, labels, alpha)``: scikit-learn's full-batch objective and its
  gradient (for L-BFGS): mean loss + alpha/2 * sum ||W||^2 / N, gradients (sum + alpha * W) / N;
- ``Model.sgd_epoch(...)``: one epoch of minibatch SGD in scikit-learn's batch order, with its
  loss, either in one native call (``train_epoch`` of the cpp / numba backends) or batch by batch
  through the backend's kernels.

What the engine can train is read from its tables (hidden activations) and ``OUTPUTS`` below, and
``unsupported`` names any parameter outside it. The rows scikit-learn has and the engine did not
have when this was written: the logistic (binary, multi-label) and identity
(regression) outputs with their losses, Nesterov momentum, Adam, per-row sample weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._memory import aligned
from ..backends import get_backend
from ..backends._epoch import layers
from ..backends.tables import ActivationRow
from ..backends.tables import activation as activation_row
from ..errors import FastmlpValueError
from ..models.network import Layer, Network
from ..optim import SGD

# scikit-learn's hidden activations are looked up in the engine's table (``backends.tables``,
# which accepts scikit-learn's names: "logistic" is its sigmoid row).
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
# scikit-learn's output activation (``out_activation_``) -> the engine's output-and-loss row.
OUTPUTS = {"softmax": "softmax_cross_entropy"}
# Rows of a sparse X densified at a time on the kernel-by-kernel path (a batch, or a chunk of the
# full batch for L-BFGS): X itself is never densified.
DENSE_CHUNK_ROWS = 4096


def unsupported(
    *,
    activation: str,
    out_activation: str | None,
    solver: str,
    momentum: float,
    nesterovs_momentum: bool,
    sample_weight: Any,
) -> str | None:
    """Why the engine cannot train this configuration (a message naming the parameter), or None."""
    if hidden_row(activation) is None:
        have = [name for name in SKLEARN_ACTIVATIONS if hidden_row(name) is not None]
        return f"activation={activation!r} is not in fastmlp's engine yet (it has {have})"
    if solver == "adam":
        return "solver='adam' is not in fastmlp's engine yet (it has 'sgd' and 'lbfgs')"
    if solver == "sgd" and nesterovs_momentum and momentum > 0:
        return (
            "nesterovs_momentum=True is not in fastmlp's engine yet: pass nesterovs_momentum=False "
            "(classical momentum) or momentum=0"
        )
    if sample_weight is not None:
        return "sample_weight is not in fastmlp's engine yet"
    if out_activation is not None and out_activation not in OUTPUTS:
        task = {"logistic": "binary and multi-label targets", "identity": "regression"}
        what = task.get(out_activation, f"the {out_activation!r} output")
        return (
            f"{what} need the {out_activation!r} output layer, not in fastmlp's engine yet "
            f"(it has {sorted(OUTPUTS)}: multiclass targets)"
        )
    return None


def hidden_row(name: str) -> ActivationRow | None:
    """The engine's row for scikit-learn's activation ``name``, None when it has none."""
    try:
        return activation_row(name)
    except FastmlpValueError:
        return None


def check_supported(**configuration: Any) -> None:
    """Raise FastmlpValueError when ``unsupported(**configuration)`` finds a reason."""
    reason = unsupported(**configuration)
    if reason is not None:
        raise FastmlpValueError(reason)


@dataclass
class EpochResult:
    """One epoch: ``loss_sum`` = sum over batches of (batch loss * batch rows), as scikit-learn
    accumulates it (divide by the rows for ``loss_``)."""

    loss_sum: float


class Model:
    """The estimator's layers as one engine ``Network``; after construction ``coefs`` and
    ``intercepts`` are the network's (64-byte aligned) arrays, updated in place by training.

    coefs[l] (fan_in, fan_out), intercepts[l] (fan_out,), all of one float dtype; ``activation``
    is scikit-learn's hidden activation name; ``backend`` a backend name or None (the default).
    """

    def __init__(
        self, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray], activation: str, backend: Any
    ) -> None:
        last, hidden = len(coefs) - 1, activation_row(activation).name
        layers = [
            Layer(int(w.shape[0]), int(w.shape[1]), True, None if i == last else hidden)
            for i, w in enumerate(coefs)
        ]
        self.network = Network(layers, dtype=coefs[0].dtype, backend=get_backend(backend))
        self.set_parameters(coefs, intercepts)

    @property
    def coefs(self) -> list[np.ndarray]:
        return [self.network.params[f"W{i}"] for i in range(1, len(self.network.layer_specs) + 1)]

    @property
    def intercepts(self) -> list[np.ndarray]:
        return [self.network.params[f"b{i}"] for i in range(1, len(self.network.layer_specs) + 1)]

    def set_parameters(self, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray]) -> None:
        """Copy values in (L-BFGS hands a new packed vector at each evaluation)."""
        for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True), start=1):
            for name, value in ((f"W{i}", w), (f"b{i}", b)):
                held = self.network.params.get(name)
                if held is not None and held is not value and held.shape == value.shape:
                    np.copyto(held, value)
                elif held is not value:
                    self.network.params[name] = aligned(np.asarray(value, dtype=self.network.dtype))

    # --- forward -----------------------------------------------------------------------

    def scores(self, X: Any) -> np.ndarray:
        """The last layer's affine output (N, K) for dense or sparse X, through the kernels; a
        sparse X's layer 1 is scipy's sparse product (X is never densified)."""
        k = self.network.backend
        a = X
        for i, (w, b, activation) in enumerate(self.network.layers()):
            if i == 0 and sp.issparse(a):
                a = aligned(np.asarray(a @ w, dtype=w.dtype))
                a += b
            else:
                a = k.affine_forward(np.ascontiguousarray(a), w, b)
            row = activation_row(activation)
            if row.has_kernels:
                a = getattr(k, row.forward_kernel)(a)
        result: np.ndarray = a
        return result

    def output(self, X: Any, out_activation: str) -> np.ndarray:
        """The network's prediction (N, K) after scikit-learn's output activation."""
        scores = self.scores(X)
        k = self.network.backend
        if out_activation == "softmax":
            probabilities: np.ndarray = k.softmax_forward(scores)
            return probabilities
        if out_activation == "logistic":
            logistic: np.ndarray = k.sigmoid_forward(scores)
            return logistic
        return scores  # identity

    # --- loss and gradients -------------------------------------------------------------

    def _chunk_loss_gradients(self, X: Any, labels: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean cross-entropy and its mean gradients over one chunk, densified if sparse."""
        dense = X.toarray() if sp.issparse(X) else X
        loss, _ = self.network.forward(np.ascontiguousarray(dense), labels)
        return loss, self.network.backward()

    def data_loss_gradients(self, X: Any, labels: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean loss over X's rows and the mean gradients (keyed ``W1, b1, ...``), without L2;
        a sparse X goes in chunks of DENSE_CHUNK_ROWS rows, combined by their row counts."""
        n = X.shape[0]
        if not sp.issparse(X) or n <= DENSE_CHUNK_ROWS:
            return self._chunk_loss_gradients(X, labels)
        loss_sum, sums = 0.0, None
        for start in range(0, n, DENSE_CHUNK_ROWS):
            rows = slice(start, min(n, start + DENSE_CHUNK_ROWS))
            loss, grads = self._chunk_loss_gradients(X[rows], labels[rows])
            count = rows.stop - rows.start
            loss_sum += loss * count
            if sums is None:
                sums = {name: g * count for name, g in grads.items()}
            else:
                for name, g in grads.items():
                    sums[name] += g * count
        assert sums is not None
        return loss_sum / n, {name: aligned(s / n) for name, s in sums.items()}

    def penalty(self, alpha: float, n: float) -> float:
        """scikit-learn's L2 term of the loss, alpha/2 * sum over weight matrices of ||W||^2 / n."""
        squares = sum(float(np.dot(w.ravel(), w.ravel())) for w in self.coefs)
        return 0.5 * alpha * squares / n

    def loss_and_gradients(
        self, X: Any, labels: np.ndarray, alpha: float
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """scikit-learn's full-batch objective on (X, labels) and its gradients, per layer:
        loss = mean CE + alpha/2 sum ||W||^2 / N; dW = (sum_n dW_n + alpha W) / N, db = mean."""
        n = X.shape[0]
        loss, grads = self.data_loss_gradients(X, labels)
        layers = range(1, len(self.network.layer_specs) + 1)
        coef_grads = [grads[f"W{i}"] + (alpha / n) * self.network.params[f"W{i}"] for i in layers]
        intercept_grads = [grads[f"b{i}"] for i in layers]
        return loss + self.penalty(alpha, n), coef_grads, intercept_grads

    # --- training ---------------------------------------------------------------------

    def native_epoch_applies(self, X: Any, alpha: float) -> bool:
        """Whether the backend's native epoch computes scikit-learn's epoch exactly: dense X, and
        no L2 term (the native epoch returns the data loss only, not alpha/2 ||W||^2 per batch)."""
        return bool(self.network.backend.NATIVE_EPOCH) and not sp.issparse(X) and alpha == 0


class SGDState:
    """Classical-momentum SGD's velocities across epochs and ``partial_fit`` calls (one per
    parameter, zeros at first, as scikit-learn's SGDOptimizer)."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.velocities: dict[str, np.ndarray] = {}

    def optimizer(self, learning_rate: float, reg: float) -> SGD:
        """The engine's SGD for one step size and L2 (alpha / batch rows), sharing the velocities."""
        sgd = SGD(learning_rate, reg=reg, momentum=self.momentum)
        sgd.velocities = self.velocities
        return sgd


def sgd_epoch(
    model: Model,
    state: SGDState,
    X: Any,
    labels: np.ndarray,
    order: np.ndarray,
    *,
    batch_size: int,
    learning_rate: float,
    alpha: float,
) -> EpochResult:
    """One epoch over ``X[order]`` in batches of ``batch_size`` (the last may be shorter), each:
    loss (mean CE + alpha/2 ||W||^2 / n before the step), then the engine's SGD step with
    gradients (sum + alpha W) / n, n the batch's rows: reg = alpha / n on weight matrices."""
    n = order.shape[0]
    full = (n // batch_size) * batch_size
    if model.native_epoch_applies(X, alpha):
        return _native_epoch(model, state, X, labels, order, full, batch_size, learning_rate)
    loss_sum = 0.0
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        count = rows.shape[0]
        loss = model.penalty(alpha, count)
        data_loss, grads = model.data_loss_gradients(X[rows], labels[rows])
        state.optimizer(learning_rate, alpha / count).step(model.network, grads)
        loss_sum += (data_loss + loss) * count
    return EpochResult(loss_sum)


def _native_epoch(
    model: Model,
    state: SGDState,
    X: np.ndarray,
    labels: np.ndarray,
    order: np.ndarray,
    full: int,
    batch_size: int,
    learning_rate: float,
) -> EpochResult:
    """The full batches in one native call, the shorter last batch in a second (its mean is over
    fewer rows); the native epoch returns the sum of its batch means."""
    backend = model.network.backend
    weights, biases, activations = zip(*model.network.layers(), strict=True)
    loss_sum = 0.0
    parts = [(order[:full], batch_size), (order[full:], order.shape[0] - full)]
    x = np.ascontiguousarray(X)
    for rows, size in parts:
        if rows.shape[0] == 0:
            continue
        sgd = state.optimizer(learning_rate, 0.0)
        velocities: dict[str, Any] = {}
        if sgd.momentum:
            names = range(1, len(weights) + 1)
            velocities["weight_velocities"] = [
                sgd.velocity(f"W{i}", w) for i, w in zip(names, weights, strict=True)
            ]
            velocities["bias_velocities"] = [
                sgd.velocity(f"b{i}", b) for i, b in zip(names, biases, strict=True)
            ]
        net = layers(list(weights), list(biases), list(activations), sgd=sgd.settings, **velocities)
        mean_sum, _, _ = backend.train_epoch(net, x, labels, rows, batch_size=size)
        loss_sum += mean_sum * size
    return EpochResult(loss_sum)
