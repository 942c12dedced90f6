"""MLPClassifier and MLPRegressor: scikit-learn's estimators, computed by fastmlp's engine.

Each subclasses scikit-learn's own estimator, so the constructor, the parameter constraints, the
input checks (``validate_data``, the LabelBinarizer), the Glorot initialisation from
``random_state``, ``partial_fit``/``warm_start`` bookkeeping, early stopping's score and the L-BFGS
driver (scipy's L-BFGS-B) are scikit-learn's, unchanged. What they override is the computation:

- ``_backprop`` (the full-batch loss and gradient L-BFGS minimises) and ``_forward_pass_fast``
  (every prediction and validation score) run through ``_engine.Model``;
- ``_fit_stochastic``, the epoch loop, is written here against the engine: it consumes the random
  stream in scikit-learn's order (``train_test_split`` for early stopping, then one ``shuffle`` of
  the row indices per epoch), hands each epoch to ``_engine.sgd_epoch`` and the end-of-epoch and
  plateau steps to the engine's optimizer (scikit-learn's schedules).

Two parameters are added at the end: ``backend`` (a fastmlp backend name, None for the default)
and ``n_threads`` (the compute threads during fit and predict, None for fastmlp's budget).
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn import config_context, get_config
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as _SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as _SklearnMLPRegressor
from sklearn.utils import check_array, shuffle
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .. import threads
from ..backends import KNOWN_BACKENDS
from ..errors import FastmlpValueError
from . import _engine

_ADDED_CONSTRAINTS: dict[str, list[Any]] = {
    "backend": [StrOptions(set(KNOWN_BACKENDS)), None],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
}


def _engine_init(sklearn_class: type) -> Callable[..., None]:
    """An ``__init__`` with ``sklearn_class``'s parameters (its own signature: the same names,
    defaults and order), then ``backend`` and ``n_threads`` (keyword-only, None by default).

    scikit-learn's ``get_params``, ``clone`` and ``repr`` read the parameters from the signature of
    ``__init__`` through ``inspect.signature``, which honours ``__signature__``; deriving it from
    scikit-learn's own estimator declares the 23 parameters once, there, and keeps them the same
    as that estimator's in whichever scikit-learn is installed."""
    sklearn_init = sklearn_class.__init__  # type: ignore[misc]
    signature = inspect.signature(sklearn_init)
    keyword = inspect.Parameter.KEYWORD_ONLY
    added = [inspect.Parameter(name, keyword, default=None) for name in _ADDED_CONSTRAINTS]

    def __init__(
        self: Any, *args: Any, backend: str | None = None, n_threads: int | None = None, **kwargs: Any
    ) -> None:
        sklearn_init(self, *args, **kwargs)
        self.backend = backend
        self.n_threads = n_threads

    __init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added]
    )
    return __init__


def _thread_budget(n_threads: int | None) -> contextlib.AbstractContextManager[None]:
    """fastmlp's thread budget at ``n_threads`` (capped at the cores available) for the duration,
    then restored by ``threads.thread_budget``; None leaves the budget as it is."""
    if n_threads is None:
        return contextlib.nullcontext()
    return threads.thread_budget(min(n_threads, threads.max_threads()))


class _EngineMixin:
    """The overrides shared by both estimators (placed before scikit-learn's class in the MRO)."""

    # set by scikit-learn's estimator (these annotations are for the type checker)
    coefs_: list[np.ndarray]
    intercepts_: list[np.ndarray]
    backend: str | None
    n_threads: int | None

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()  # type: ignore[misc]
        state.pop("_fastmlp_models", None)  # holds a backend module; rebuilt on demand
        return state

    def _output_activation(self) -> str:
        raise NotImplementedError

    def _fastmlp_model(self, dtype: np.dtype) -> _engine.Model:
        """The engine's model over ``coefs_``/``intercepts_`` in ``dtype``, cached per dtype; the
        current values are copied in when they are not its arrays already."""
        models: dict[str, _engine.Model] = self.__dict__.setdefault("_fastmlp_models", {})
        key = f"{np.dtype(dtype).name}:{self.backend}"
        coefs = [np.asarray(c, dtype=dtype) for c in self.coefs_]
        intercepts = [np.asarray(b, dtype=dtype) for b in self.intercepts_]
        model = models.get(key)
        shapes = [c.shape for c in coefs]
        if model is None or [c.shape for c in model.coefs] != shapes:
            model = models[key] = _engine.Model(
                coefs,
                intercepts,
                self.activation,  # type: ignore[attr-defined]
                self.out_activation_,  # type: ignore[attr-defined]
                self.backend,
            )
        else:
            model.set_parameters(coefs, intercepts)
        return model

    def _check_engine(self, out_activation: str | None) -> None:
        _engine.check_supported(activation=self.activation, out_activation=out_activation)  # type: ignore[attr-defined]

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, incremental: bool = False) -> Any:
        self._check_engine(None)  # the task's output is checked in _validate_input
        with _thread_budget(self.n_threads):
            return super()._fit(X, y, sample_weight=sample_weight, incremental=incremental)  # type: ignore[misc]

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Any]:
        if not self._finite_by_scan(X, y):
            X, y = super()._validate_input(X, y, incremental, reset)  # type: ignore[misc]
        else:
            # scikit-learn's checks, X's finiteness taken from the epochs' count of X's non-zeros:
            # its sum over X was 8 ms of a 0.26 s MNIST fit. assume_finite skips its check of y as
            # well, so y is checked first, by the function scikit-learn checks y with.
            check_array(
                y,
                accept_sparse="csr",
                ensure_2d=False,
                dtype=None,
                ensure_min_samples=0,  # too few samples: X's error, from scikit-learn's own check below
                input_name="y",
                estimator=self,
            )
            with config_context(assume_finite=True):
                X, y = super()._validate_input(X, y, incremental, reset)  # type: ignore[misc]
            _engine.assert_finite(X, type(self).__name__)
        self._check_engine(self._output_activation())
        return X, y

    def _finite_by_scan(self, X: Any, y: Any) -> bool:
        """Whether this fit's epochs will count the non-zeros of X as validated (a dense X trained
        on as a whole by a native epoch), so that the count can check X for NaN and infinity."""
        return (
            not get_config()["assume_finite"]  # the user's choice: no check at all
            and y is not None
            and not sp.issparse(X)
            and self.solver != "lbfgs"  # type: ignore[attr-defined]
            and not self.early_stopping  # type: ignore[attr-defined]  # (the epochs train on a split)
            and _engine.scans_dense_input(self.backend)
        )

    def _forward_pass_fast(self, X: Any, check_input: bool = True) -> np.ndarray:
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        # the computation's dtype is the one scikit-learn's would have: X's and the weights' own
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype, np.float32)
        if X.dtype != dtype:
            X = X.astype(dtype)
        with _thread_budget(self.n_threads):
            return self._fastmlp_model(dtype).output(X)

    def _backprop(
        self, X: Any, y: Any, sample_weight: Any, *buffers: Any
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """scikit-learn's full-batch loss and gradients (what L-BFGS minimises), by the engine.
        ``buffers``: scikit-learn's activations, deltas and gradient lists, passed positionally by
        its L-BFGS driver and unused here (the engine has its own)."""
        model = self._fastmlp_model(X.dtype)
        weights = model.weights(sample_weight)
        return model.loss_and_gradients(X, model.targets(y), weights, self.alpha)  # type: ignore[attr-defined]

    def _fit_stochastic(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        activations: Any,
        deltas: Any,
        coef_grads: Any,
        intercept_grads: Any,
        layer_units: Any,
        incremental: bool,
    ) -> None:
        est: Any = self  # scikit-learn's attributes, untyped
        model = self._fastmlp_model(X.dtype)
        est.coefs_, est.intercepts_ = model.coefs, model.intercepts  # trained in place from here on
        if not incremental or not hasattr(est, "_optimizer"):
            est._optimizer = _engine.optimizer(est)
        if est.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = est.early_stopping
        X_val = y_val = weights_val = None
        if early_stopping:
            # scikit-learn stratifies single-output classification only
            stratify = y if is_classifier(est) and est.n_outputs_ == 1 else None
            arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
            split = train_test_split(
                *arrays, random_state=est._random_state, test_size=est.validation_fraction, stratify=stratify
            )
            X, X_val, y, y_val = split[:4]
            if sample_weight is not None:
                sample_weight, weights_val = split[4:]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            if is_classifier(est):
                y_val = est._label_binarizer.inverse_transform(y_val)
        # the engine reads C-contiguous rows of its dtype (sparse: CSR rows, one batch at a time)
        X = X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X)
        n_samples = X.shape[0]
        order = np.arange(n_samples, dtype=np.int64)
        if est.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if est.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                    stacklevel=3,
                )
            batch_size = int(np.clip(est.batch_size, 1, n_samples))
        targets, weights = model.targets(y), model.weights(sample_weight)
        train_x = _engine.epoch_input(model, X)  # a CSR X's compressed rows, for this fit's epochs
        opt = est._optimizer
        try:
            est.n_iter_ = 0
            for _ in range(est.max_iter):
                if est.shuffle:
                    order = shuffle(order, random_state=est._random_state)
                accumulated = _engine.sgd_epoch(
                    model, opt, train_x, targets, weights, order, batch_size=batch_size
                )
                est.n_iter_ += 1
                est.loss_ = accumulated / n_samples
                est.t_ += n_samples
                est.loss_curve_.append(est.loss_)
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
                est._update_no_improvement_count(early_stopping, X_val, y_val, weights_val)
                opt.epoch_ended(est.t_)
                if est._no_improvement_count > est.n_iter_no_change:
                    what = "Validation score" if early_stopping else "Training loss"
                    message = (
                        f"{what} did not improve more than tol={est.tol:f} "
                        f"for {est.n_iter_no_change} consecutive epochs."
                    )
                    if _plateau(opt, message, est.verbose):
                        break
                    est._no_improvement_count = 0
                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                        "optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if early_stopping:
            est.coefs_, est.intercepts_ = est._best_coefs, est._best_intercepts


def _plateau(opt: Any, message: str, verbose: bool) -> bool:
    """The optimizer's answer to a plateau (True: stop), with scikit-learn's verbose lines."""
    adaptive = _engine.adaptive_schedule(opt)
    too_small = opt.learning_rate <= 1e-6
    stop: bool = opt.plateau()
    if verbose:
        if not adaptive:
            print(message + " Stopping.")
        elif too_small:
            print(message + " Learning rate too small. Stopping.")
        else:
            print(message + f" Setting learning rate to {opt.learning_rate:f}")
    return stop


class MLPClassifier(_EngineMixin, _SklearnMLPClassifier):
    """scikit-learn's ``MLPClassifier``, trained and evaluated by fastmlp's engine.

    Every parameter, attribute and method is scikit-learn's (see its documentation); the results
    for the same parameters and ``random_state`` equal scikit-learn's to float rounding.

    Parameters
    ----------
    backend : {"numpy", "numba", "cpp"} or None, default=None
        fastmlp's backend; None: fastmlp's default (the fastest available).
    n_threads : int or None, default=None
        Compute threads during fit and predict (capped at the cores available); None: fastmlp's
        current budget (``fastmlp.set_num_threads``, 1 at import).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_SklearnMLPClassifier._parameter_constraints,
        **_ADDED_CONSTRAINTS,
    }

    __init__ = _engine_init(_SklearnMLPClassifier)

    def _output_activation(self) -> str:
        # scikit-learn's rule (_initialize): softmax for multiclass, logistic for binary and
        # multi-label; known here, before the weights exist, from the fitted LabelBinarizer
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"


class MLPRegressor(_EngineMixin, _SklearnMLPRegressor):
    """scikit-learn's ``MLPRegressor``, trained and evaluated by fastmlp's engine.

    Parameters: scikit-learn's, then ``backend`` and ``n_threads`` as in ``MLPClassifier``.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_SklearnMLPRegressor._parameter_constraints,
        **_ADDED_CONSTRAINTS,
    }

    __init__ = _engine_init(_SklearnMLPRegressor)

    def _output_activation(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Any]:
        X, y = super()._validate_input(X, y, incremental, reset)
        if self.loss == "poisson" and np.any(y < 0):
            # scikit-learn 1.9's MLPRegressor trains on a negative y to a nan loss (log of a negative
            # ratio); its other Poisson estimators (PoissonRegressor, HistGradientBoostingRegressor)
            # reject it, and so does this one, naming y
            raise FastmlpValueError(
                f"y must be >= 0 for loss='poisson' (the Poisson deviance of a negative target is "
                f"undefined), got a minimum of {float(np.min(y))}"
            )
        return X, y
