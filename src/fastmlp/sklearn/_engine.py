"""The estimators' one door into fastmlp's engine: scikit-learn's layers in, fastmlp's rows run.

The estimators (``_estimators``) own everything scikit-learn defines: parameters, input checks,
the random stream, the epoch loop, early stopping. They reach the computation only through this
module, which maps scikit-learn's names onto the engine's table rows (``backends.tables``) and runs:

- ``Model``: the fitted layers, ``coefs_[l]`` (fan_in, fan_out) and ``intercepts_[l]`` (fan_out,),
  as one engine ``Network`` whose parameter arrays *are* the estimator's, with the loss row of
  scikit-learn's output layer (``OUTPUT_LOSSES``);
- ``Model.output(X)``: the forward pass and the output activation, (N, K), X dense or sparse;
- ``Model.loss_and_gradients(X, targets, sample_weight, alpha)``: scikit-learn's full-batch
  objective and its gradient (for L-BFGS);
- ``optimizer(...)``: the engine's SGD (plain, momentum, Nesterov; scikit-learn's schedules) or
  Adam, with scikit-learn's L2 form;
- ``sgd_epoch(...)``: one epoch in scikit-learn's batch order, in one native call (cpp, numba)
  for a dense X and for a CSR X (over its own compressed rows); batch by batch on numpy.

``unsupported`` names any parameter the engine has no row for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._memory import aligned
from ..backends import get_backend
from ..backends._epoch import PassResult
from ..backends._sparse import MAX_COLUMNS, SparseRows, column_counts, scanned_finite
from ..backends.tables import activation as activation_row
from ..errors import FastmlpValueError
from ..models.network import Layer, Network
from ..optim import SGD, Adam, Optimizer
from ..train import epoch_pass

# scikit-learn's output activation (``out_activation_``) -> the engine's output-and-loss row.
OUTPUT_LOSSES = {
    "softmax": "softmax_cross_entropy",  # multiclass
    "logistic": "binary_cross_entropy",  # binary (one output) and multi-label
    "identity": "squared_error",  # regression
    "exp": "poisson_deviance",  # regression, loss="poisson"
}
SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
# Rows of a sparse X densified at a time (a batch, or a chunk of the full batch for L-BFGS and
# prediction's later layers are dense anyway): X itself is never densified.
DENSE_CHUNK_ROWS = 4096


def hidden_row_exists(name: str) -> bool:
    """Whether the engine's activation table has scikit-learn's activation ``name``."""
    try:
        activation_row(name)
    except FastmlpValueError:
        return False
    return True


def unsupported(*, activation: str, out_activation: str | None) -> str | None:
    """Why the engine cannot train this configuration (a message naming the parameter), or None."""
    if not hidden_row_exists(activation):
        have = [name for name in SKLEARN_ACTIVATIONS if hidden_row_exists(name)]
        return f"activation={activation!r} is not in fastmlp's engine (it has {have})"
    if out_activation is not None and out_activation not in OUTPUT_LOSSES:
        have = sorted(OUTPUT_LOSSES)
        return f"the {out_activation!r} output layer is not in fastmlp's engine (it has {have})"
    return None


def check_supported(**configuration: Any) -> None:
    """Raise FastmlpValueError when ``unsupported(**configuration)`` finds a reason."""
    reason = unsupported(**configuration)
    if reason is not None:
        raise FastmlpValueError(reason)


def optimizer(estimator: Any) -> Optimizer:
    """The engine's optimizer for scikit-learn's ``solver`` and its parameters, with scikit-learn's
    L2 form (gradients (sum + alpha W) / n, the loss + alpha/2 ||W||^2 / n per batch)."""
    e = estimator
    if e.solver == "adam":
        return Adam(e.learning_rate_init, e.alpha, e.beta_1, e.beta_2, e.epsilon, l2="sklearn")
    return SGD(
        e.learning_rate_init,
        e.alpha,
        e.momentum,
        # scikit-learn's Nesterov step with momentum 0 is the plain step
        nesterov=bool(e.nesterovs_momentum and e.momentum > 0),
        l2="sklearn",
        schedule=e.learning_rate,
        power_t=e.power_t,
    )


def adaptive_schedule(opt: Optimizer) -> bool:
    """Whether ``opt`` divides its step size at a plateau instead of stopping (SGD, "adaptive")."""
    return isinstance(opt, SGD) and opt.schedule == "adaptive"


class Model:
    """The estimator's layers as one engine ``Network``; after construction ``coefs`` and
    ``intercepts`` are the network's (64-byte aligned) arrays, updated in place by training.

    coefs[l] (fan_in, fan_out), intercepts[l] (fan_out,), all of one float dtype; ``activation``
    is scikit-learn's hidden activation name, ``out_activation`` its output (``OUTPUT_LOSSES``);
    ``backend`` a backend name or None (the default).
    """

    def __init__(
        self,
        coefs: Sequence[np.ndarray],
        intercepts: Sequence[np.ndarray],
        activation: str,
        out_activation: str,
        backend: Any,
    ) -> None:
        last, hidden = len(coefs) - 1, activation_row(activation).name
        layers = [
            Layer(int(w.shape[0]), int(w.shape[1]), True, None if i == last else hidden)
            for i, w in enumerate(coefs)
        ]
        self.out_activation = out_activation
        self.network = Network(
            layers,
            dtype=coefs[0].dtype,
            backend=get_backend(backend),
            loss=OUTPUT_LOSSES[out_activation],
        )
        self.set_parameters(coefs, intercepts)

    @property
    def coefs(self) -> list[np.ndarray]:
        return [self.network.params[f"W{i}"] for i in range(1, len(self.network.layer_specs) + 1)]

    @property
    def intercepts(self) -> list[np.ndarray]:
        return [self.network.params[f"b{i}"] for i in range(1, len(self.network.layer_specs) + 1)]

    @property
    def dtype(self) -> np.dtype:
        dtype: np.dtype = self.network.dtype
        return dtype

    def set_parameters(self, coefs: Sequence[np.ndarray], intercepts: Sequence[np.ndarray]) -> None:
        """Copy values in (L-BFGS hands a new packed vector at each evaluation)."""
        for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True), start=1):
            for name, value in ((f"W{i}", w), (f"b{i}", b)):
                held = self.network.params.get(name)
                if held is value:
                    continue
                if held is not None and held.shape == value.shape:
                    np.copyto(held, value)
                else:
                    self.network.params[name] = aligned(np.asarray(value, dtype=self.dtype))

    def targets(self, y: np.ndarray) -> np.ndarray:
        """scikit-learn's internal y (one-hot or indicator (N, K), or values) as the loss row takes
        it: the class index for softmax, else (N, K) of the model's dtype."""
        if self.network.loss.targets == "labels":
            return np.ascontiguousarray(np.argmax(y, axis=1), dtype=np.int64)
        values = y.reshape(y.shape[0], -1)
        return np.ascontiguousarray(values, dtype=self.dtype)

    def weights(self, sample_weight: Any) -> np.ndarray | None:
        return None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=self.dtype)

    # --- forward -----------------------------------------------------------------------

    def scores(self, X: Any) -> np.ndarray:
        """The last layer's affine output (N, K) for dense or sparse X, through the kernels; a
        sparse X's layer 1 is scipy's sparse product (X is never densified)."""
        k = self.network.backend
        a = X
        for i, (w, b, name) in enumerate(self.network.layers()):
            if i == 0 and sp.issparse(a):
                a = aligned(np.asarray(a @ w, dtype=w.dtype))
                a += b
            else:
                a = k.affine_forward(np.ascontiguousarray(a), w, b)
            row = activation_row(name)
            if row.has_kernels:
                a = getattr(k, row.forward_kernel)(a)
        result: np.ndarray = a
        return result

    def output(self, X: Any) -> np.ndarray:
        """The network's prediction (N, K) after scikit-learn's output activation."""
        scores = self.scores(X)
        k = self.network.backend
        if self.out_activation == "softmax":
            probabilities: np.ndarray = k.softmax_forward(scores)
            return probabilities
        if self.out_activation == "logistic":
            logistic: np.ndarray = k.sigmoid_forward(scores)
            return logistic
        if self.out_activation == "exp":
            # scikit-learn's inplace_exp, unclipped (the loss row's forward computes it the same
            # way, but with a loss against targets prediction has not got)
            np.exp(scores, out=scores)
        return scores  # identity, or exp'd in place

    # --- loss and gradients -------------------------------------------------------------

    def _chunk(
        self, X: Any, targets: np.ndarray, weights: np.ndarray | None
    ) -> tuple[float, dict[str, Any], float]:
        """(loss, gradients, norm) of one chunk: its (weighted) mean loss, gradients normalised by
        its norm (rows, or weight sum), a sparse chunk densified."""
        dense = X.toarray() if sp.issparse(X) else X
        loss, _ = self.network.forward(np.ascontiguousarray(dense), targets, weights)
        return loss, self.network.backward(), self.network.batch_norm

    def data_loss_gradients(
        self, X: Any, targets: np.ndarray, weights: np.ndarray | None
    ) -> tuple[float, dict[str, np.ndarray], float]:
        """The loss row's loss over X, its gradients (keyed ``W1, b1, ...``, without L2) and the
        norm n (rows or weight sum); a sparse X goes in chunks of DENSE_CHUNK_ROWS rows, combined
        by their norms."""
        n = X.shape[0]
        if not sp.issparse(X) or n <= DENSE_CHUNK_ROWS:
            return self._chunk(X, targets, weights)
        loss_sum, norm_sum, sums = 0.0, 0.0, None
        for start in range(0, n, DENSE_CHUNK_ROWS):
            rows = slice(start, min(n, start + DENSE_CHUNK_ROWS))
            loss, grads, norm = self._chunk(
                X[rows], targets[rows], None if weights is None else weights[rows]
            )
            loss_sum += loss * norm
            norm_sum += norm
            if sums is None:
                sums = {name: g * norm for name, g in grads.items()}
            else:
                for name, g in grads.items():
                    sums[name] += g * norm
        assert sums is not None
        return loss_sum / norm_sum, {name: aligned(s / norm_sum) for name, s in sums.items()}, norm_sum

    def loss_and_gradients(
        self, X: Any, targets: np.ndarray, weights: np.ndarray | None, alpha: float
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """scikit-learn's full-batch objective and gradients, per layer (``_backprop``):
        loss = data loss + alpha/2 sum ||W||^2 / n; dW = (sum_n dW_n + alpha W) / n, db = sum / n,
        n the rows or the weight sum."""
        loss, grads, norm = self.data_loss_gradients(X, targets, weights)
        layers = range(1, len(self.network.layer_specs) + 1)
        coefs = [self.network.params[f"W{i}"] for i in layers]
        squares = sum(float(np.dot(w.ravel(), w.ravel())) for w in coefs)
        coef_grads = [grads[f"W{i}"] + (alpha / norm) * w for i, w in zip(layers, coefs, strict=True)]
        intercept_grads = [grads[f"b{i}"] for i in layers]
        return loss + 0.5 * alpha * squares / norm, coef_grads, intercept_grads


# Rows per call of the numpy backend's kernel-by-kernel epoch on a sparse X: a multiple of every
# batch size up to it, so that batches never straddle two calls; each call densifies only these rows.
SPARSE_CHUNK_BATCHES = 64


def sgd_epoch(
    model: Model,
    opt: Optimizer,
    X: Any,
    targets: np.ndarray,
    weights: np.ndarray | None,
    order: np.ndarray,
    *,
    batch_size: int,
) -> float:
    """One epoch over ``X[order]`` (X from ``epoch_input``) in batches of ``batch_size`` (the last
    may be shorter), each a loss (with the L2 term, before the step) and the optimizer's step;
    returns scikit-learn's accumulated loss, the sum of batch loss x batch rows (``loss_`` once
    divided by the rows).

    Dense X: one native call on cpp and numba, whose layer 1 the engine chooses by X's density
    (its compiled scan of X for the non-zeros is made once per X and cached). Sparse X (CSR), cpp
    and numba: one native call over the whole epoch, layer 1 over X's compressed rows made once
    per fit from its own CSR arrays (``CompressedX``); X is never densified (the dense x the
    native epoch's signature takes is a placeholder it never reads). The numpy
    backend runs the same arithmetic kernel by kernel, on a sparse X in chunks of
    SPARSE_CHUNK_BATCHES batches densified one at a time."""
    network = model.network
    native = network.backend.native_epoch
    if isinstance(X, CompressedX):  # epoch_input made it for a backend with a native epoch
        assert native is not None
        return native.train_epoch(
            network.describe(opt),
            X.placeholder,
            targets,
            order,
            batch_size=batch_size,
            sample_weight=weights,
            sparse=True,
            x_sparse=X.rows,
        ).row_weighted_loss
    if not sp.issparse(X):
        return epoch_pass(
            network, opt, X, targets, order, batch_size, sample_weight=weights
        ).row_weighted_loss
    accumulated = 0.0
    step = batch_size * SPARSE_CHUNK_BATCHES
    for start in range(0, order.shape[0], step):
        rows_of_chunk = order[start : start + step]
        chunk = X[rows_of_chunk]
        dense = np.ascontiguousarray(chunk.toarray())
        chunk_weights = None if weights is None else np.ascontiguousarray(weights[rows_of_chunk])
        within = np.arange(rows_of_chunk.shape[0], dtype=np.int64)
        result: PassResult
        if native is not None:  # wider than MAX_COLUMNS: the dense layer 1 on each chunk
            result = native.train_epoch(
                network.describe(opt),
                dense,
                targets[rows_of_chunk],
                within,
                batch_size=batch_size,
                sample_weight=chunk_weights,
                sparse=False,
            )
        else:
            result = epoch_pass(
                network, opt, dense, targets[rows_of_chunk], within, batch_size, sample_weight=chunk_weights
            )
        accumulated += result.row_weighted_loss
    return accumulated


@dataclass(frozen=True)
class CompressedX:
    """A CSR X (N, D), D <= MAX_COLUMNS, as a native backend's epoch trains on it, made once per fit
    by ``epoch_input`` and reused by its epochs.

    rows: X's ``SparseRows`` with its values (``compressed_rows``), which the native training epoch
    reads in place of x. placeholder: the (N, D) x of the native epoch's signature, zeros that the
    training epoch never reads when the rows carry their values (cpp_backend's Workspace gathers no
    dense batch then; numba's sparse epoch likewise), allocated by np.zeros, whose pages the system
    maps on first touch: the memory is never touched, so it costs no copy and no resident memory.
    X must not change in place during the fit (as with the dense X's cached scan)."""

    placeholder: np.ndarray
    rows: SparseRows


def scans_dense_input(backend: str | None) -> bool:
    """Whether training on a dense X with ``backend`` counts X's non-zeros first (a native epoch's
    choice between the sparse and the dense layer 1), so that the count can check X as well."""
    return get_backend(backend).native_epoch is not None


def assert_finite(X: Any, estimator_name: str) -> None:
    """scikit-learn's check that X holds no NaN or infinity (its error, its message), a dense X's
    answer read from the native epochs' count of its non-zeros (``scanned_finite``, cached for
    the epochs on this X) instead of scikit-learn's sum over X: a fit then reads X once less."""
    from sklearn.utils import assert_all_finite

    if sp.issparse(X) or scanned_finite(X) is not True:  # not counted, or not finite: scikit-learn says
        assert_all_finite(X, estimator_name=estimator_name, input_name="X")


def epoch_input(model: Model, X: Any) -> Any:
    """What ``sgd_epoch`` trains on for X, made once per fit: a CSR X on a backend with a native
    epoch (and at most MAX_COLUMNS columns) as its ``CompressedX``, any other X as it is."""
    if sp.issparse(X) and model.network.backend.native_epoch is not None and X.shape[1] <= MAX_COLUMNS:
        return CompressedX(np.zeros(X.shape, dtype=model.dtype), compressed_rows(X))
    return X


def compressed_rows(X: Any) -> SparseRows:
    """The engine's ``SparseRows`` of a scipy CSR matrix (N, D), from its own arrays: indptr as
    int64, column numbers as uint16, the values themselves (only read), non-zeros per column.
    None of them is copied to a 64-byte boundary: the compiled epochs read them one number at a
    time (a sum's terms come in the CSR's order wherever the arrays start), and the copies were
    6 ms of a 0.25 s MNIST fit."""
    csr = sp.csr_matrix(X)  # a row selection of X: a fresh matrix, canonical if X is
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()  # also sorts each row's columns, as SparseRows expects
    indices = csr.indices.astype(np.uint16)
    return SparseRows(
        (int(csr.shape[0]), int(csr.shape[1])),
        csr.indptr.astype(np.int64),
        indices,
        np.ascontiguousarray(csr.data),
        column_counts(indices, int(csr.shape[1])),
        csr.nnz / max(1, csr.shape[0] * csr.shape[1]),
    )
