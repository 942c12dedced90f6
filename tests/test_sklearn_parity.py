"""fastmlp.sklearn against scikit-learn itself: the same parameters and random_state give the same
coefs_, intercepts_, loss_curve_, n_iter_ and predictions, to float rounding.

scikit-learn's own estimator is the oracle (it is independent of fastmlp: its NumPy code). Each
configuration runs on every backend. The one behaviour not copied: a negative y with
loss="poisson", on which scikit-learn trains to a nan loss, is rejected naming y.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

import scipy.sparse as sp
from conftest import BACKENDS
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnClassifier
from sklearn.neural_network import MLPRegressor as SklearnRegressor

from fastmlp.errors import FastmlpValueError
from fastmlp.sklearn import MLPClassifier, MLPRegressor, _engine

# float64 runs agree to about 1e-13 relative after a few epochs (the same arithmetic in another
# order: GEMM blocking, fused updates); float32 to its own rounding, amplified by training.
RTOL = {np.float64: 1e-9, np.float32: 2e-3}


def task_data(task, n=300, d=12, seed=0, dtype=np.float64):
    """(X, y) for a task: binary, multiclass (3 classes), multilabel (3-column indicator),
    regression (2 real targets), poisson (2 columns of counts, drawn at rates exp(linear in X))."""
    if task == "poisson":
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        beta = rng.standard_normal((d, 2)) / np.sqrt(d)
        return X.astype(dtype), rng.poisson(np.exp(0.5 * X @ beta + 0.3)).astype(np.float64)
    if task == "regression":
        X, y = make_regression(n, d, n_informative=6, n_targets=2, noise=0.1, random_state=seed)
        return X.astype(dtype), y / np.abs(y).max()
    if task == "multilabel":
        X, Y = make_multilabel_classification(n, d, n_classes=3, random_state=seed)
        return (X / X.max()).astype(dtype), Y  # word counts, scaled so that no fit diverges
    X, y = make_classification(
        n,
        d,
        n_informative=6,
        n_classes=2 if task == "binary" else 3,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X.astype(dtype), y


def multiclass(n=300, d=12, classes=3, seed=0, dtype=np.float64):
    return task_data("multiclass", n, d, seed, dtype)


def fit_both(X, y, sample_weight=None, **params):
    regression = np.asarray(y).dtype.kind == "f"
    ours_class, theirs_class = (
        (MLPRegressor, SklearnRegressor) if regression else (MLPClassifier, SklearnClassifier)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = ours_class(**params).fit(X, y, sample_weight=sample_weight)
        params.pop("backend", None)
        theirs = theirs_class(**params).fit(X, y, sample_weight=sample_weight)
    return ours, theirs


def assert_same_fit(ours, theirs, X, rtol):
    assert ours.n_iter_ == theirs.n_iter_
    for name in ("coefs_", "intercepts_"):
        for mine, reference in zip(getattr(ours, name), getattr(theirs, name), strict=True):
            assert mine.dtype == reference.dtype and mine.shape == reference.shape
            scale = np.abs(reference).max()
            np.testing.assert_allclose(mine, reference, rtol=0, atol=rtol * scale, err_msg=name)
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    if hasattr(theirs, "predict_proba"):
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=rtol)
    else:
        scale = np.abs(theirs.predict(X)).max()
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=rtol * scale)


SOLVERS = {
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.05),  # scikit-learn's default momentum
    "sgd-classical": dict(solver="sgd", nesterovs_momentum=False, learning_rate_init=0.05),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "lbfgs": dict(solver="lbfgs"),
}
TASKS = ("binary", "multiclass", "multilabel", "regression", "poisson")


def task_params(task, solver):
    """The parameters of a solver (SOLVERS) on a task: loss="poisson" for the poisson task, whose
    exp output makes SGD's 0.05 step overshoot out of exp's range (scikit-learn's fit overflows
    with the identity activation), so its SGD step is 0.01."""
    params = dict(SOLVERS[solver])
    if task == "poisson":
        params["loss"] = "poisson"
        if params["solver"] == "sgd":
            params["learning_rate_init"] = 0.01
    return params


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", ["relu", "logistic", "identity", "tanh"])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_every_solver_activation_and_task_equals_sklearn(backend, task, activation, solver):
    X, y = task_data(task)
    params = dict(
        hidden_layer_sizes=(16, 8), activation=activation, batch_size=64, max_iter=8, random_state=3,
        **task_params(task, solver),
    )  # fmt: skip
    ours, theirs = fit_both(X, y, backend=backend, **params)
    assert ours.out_activation_ == theirs.out_activation_ and ours.n_outputs_ == theirs.n_outputs_
    assert_same_fit(ours, theirs, X, RTOL[np.float64])


SCHEDULES = {
    "sgd-plain-invscaling": dict(
        solver="sgd", momentum=0.0, learning_rate="invscaling", learning_rate_init=0.5, power_t=0.25
    ),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
    "sgd-no-shuffle": dict(solver="sgd", shuffle=False),
    "sgd-early-stopping": dict(solver="sgd", early_stopping=True, n_iter_no_change=3, tol=1e-3),
    "adam-early-stopping": dict(solver="adam", early_stopping=True, n_iter_no_change=2, tol=1e-2),
    "adam-tol-stop": dict(solver="adam", learning_rate_init=0.05, tol=1e-1, n_iter_no_change=2),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("alpha", [0.0, 1e-2])
@pytest.mark.parametrize("case", sorted(SCHEDULES))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_schedules_and_stopping_equal_sklearn(backend, alpha, case, task):
    X, y = task_data(task)
    params = dict(
        hidden_layer_sizes=(16,), alpha=alpha, batch_size=50, max_iter=25, random_state=4, **SCHEDULES[case]
    )
    ours, theirs = fit_both(X, y, backend=backend, **params)
    assert_same_fit(ours, theirs, X, RTOL[np.float64])
    if case == "adam-tol-stop":  # the case is there to stop on tol before max_iter
        assert theirs.n_iter_ < params["max_iter"]
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-9)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-9)
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-9)


# early stopping applies to the stochastic solvers only
WEIGHTED = [(name, False) for name in sorted(SOLVERS)] + [
    (name, True) for name in sorted(SOLVERS) if name != "lbfgs"
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("solver", "early_stopping"), WEIGHTED)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "poisson"])
def test_sample_weight_equals_sklearn(backend, solver, task, early_stopping):
    X, y = task_data(task)
    weights = np.random.default_rng(1).uniform(0.0, 3.0, len(X))
    params = dict(
        hidden_layer_sizes=(16,), batch_size=64, max_iter=8, random_state=5, early_stopping=early_stopping,
        **task_params(task, solver),
    )  # fmt: skip
    ours, theirs = fit_both(X, y, sample_weight=weights, backend=backend, **params)
    assert_same_fit(ours, theirs, X, RTOL[np.float64])


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32_and_equals_sklearn(backend):
    X, y = multiclass(dtype=np.float32)
    ours, theirs = fit_both(
        X, y, solver="sgd", batch_size=50, max_iter=5, random_state=0,
        backend=backend,
    )  # fmt: skip
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X).dtype == np.float32
    assert_same_fit(ours, theirs, X, RTOL[np.float32])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["csr", "csc"])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("chunk_batches", [64, 4])
def test_sparse_input_equals_sklearn_and_dense(backend, layout, solver, chunk_batches, monkeypatch):
    """4 batches of 32 a native call: 300 rows in calls of 128, 128 and 44 rows (a short batch)."""
    monkeypatch.setattr(_engine, "SPARSE_CHUNK_BATCHES", chunk_batches)
    X, y = multiclass()
    X[np.abs(X) < 1.0] = 0.0  # about 70% zeros
    Xs = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    params = dict(batch_size=32, max_iter=6, random_state=2, **SOLVERS[solver])
    ours, theirs = fit_both(Xs, y, backend=backend, **params)
    assert_same_fit(ours, theirs, Xs, RTOL[np.float64])
    dense = MLPClassifier(backend=backend, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xs), dense.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_csr_changed_in_place_between_fits_is_read_again(backend):
    """A CSR X's compressed rows are made for one fit: a second fit after X.data changed in place
    equals scikit-learn's on the changed X (each fit makes its own, ``_engine.epoch_input``)."""
    X, y = multiclass()
    X[np.abs(X) < 1.0] = 0.0
    Xs = sp.csr_matrix(X)
    params = dict(batch_size=32, max_iter=3, random_state=2, **SOLVERS["sgd-nesterov"])
    ours = MLPClassifier(backend=backend, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(Xs, y)
        Xs.data *= 2.0
        ours.fit(Xs, y)
    theirs = SklearnClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(Xs, y)
    assert_same_fit(ours, theirs, Xs, RTOL[np.float64])


@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
def test_partial_fit_and_warm_start_equal_sklearn(solver):
    X, y = multiclass()
    params = dict(batch_size=40, random_state=5, **SOLVERS[solver])
    ours, theirs = MLPClassifier(**params), SklearnClassifier(**params)
    for _ in range(3):
        ours.partial_fit(X, y, classes=np.unique(y))
        theirs.partial_fit(X, y, classes=np.unique(y))
    assert_same_fit(ours, theirs, X, RTOL[np.float64])
    params.update(warm_start=True, max_iter=3)
    ours, theirs = fit_both(X, y, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
        theirs.fit(X, y)
    assert_same_fit(ours, theirs, X, RTOL[np.float64])


def test_string_labels_and_verbose_lines(capsys):
    X, y = multiclass()
    labels = np.array(["cat", "dog", "emu"])[y]
    params = dict(
        solver="sgd", learning_rate="adaptive", tol=0.5, n_iter_no_change=1, max_iter=6, random_state=0,
        verbose=True,
    )  # fmt: skip
    ours, theirs = MLPClassifier(**params), SklearnClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, labels)
        mine = capsys.readouterr().out
        theirs.fit(X, labels)
        reference = capsys.readouterr().out
    np.testing.assert_array_equal(ours.classes_, ["cat", "dog", "emu"])
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    # the same lines, with the same printed losses (8 decimals)
    assert mine.splitlines() == reference.splitlines() and "Iteration 3, loss = " in mine
    assert "Setting learning rate to" in mine  # the adaptive schedule's plateau line


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
def test_poisson_float32_and_one_target_equal_sklearn(backend, solver):
    X, y = task_data("poisson", dtype=np.float32)
    params = dict(hidden_layer_sizes=(16,), batch_size=50, max_iter=5, random_state=0)
    ours, theirs = fit_both(X, y[:, 0], backend=backend, **params, **task_params("poisson", solver))
    assert ours.out_activation_ == theirs.out_activation_ == "exp" and ours.n_outputs_ == 1
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict(X).dtype == np.float32 and ours.predict(X).shape == (len(X),)
    assert np.all(ours.predict(X) > 0)  # exp's range: a rate
    assert_same_fit(ours, theirs, X, RTOL[np.float32])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_poisson_rejects_a_negative_y_by_name(backend, solver):
    """scikit-learn 1.9's MLPRegressor trains on it to a nan loss (the log of a negative ratio);
    its PoissonRegressor and HistGradientBoostingRegressor raise, and so does this estimator, before
    any training."""
    X, y = task_data("poisson")
    y[7, 1] = -1.0
    params = dict(max_iter=3, random_state=0, **task_params("poisson", solver))
    model = MLPRegressor(backend=backend, **params)
    with pytest.raises(FastmlpValueError, match=r"^y must be >= 0 for loss='poisson'.*minimum of -1\.0"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")
    if solver != "lbfgs":  # scikit-learn's partial_fit is the stochastic solvers'
        with pytest.raises(FastmlpValueError, match=r"^y must be >= 0 for loss='poisson'"):
            model.partial_fit(X, y)
    with warnings.catch_warnings():  # what scikit-learn does instead (if it starts raising, say so)
        warnings.simplefilter("ignore")
        theirs = SklearnRegressor(**params).fit(X, y)
    assert np.isnan(theirs.loss_)
    # a zero y is in the loss's domain (xlogy(0, .) = 0): all-zero targets train
    ours, theirs = fit_both(X, np.zeros(len(X)), backend=backend, **params)
    assert_same_fit(ours, theirs, X, RTOL[np.float64])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("task", ["binary", "regression", "poisson"])
def test_sparse_input_with_sample_weight_equals_sklearn(backend, task, monkeypatch):
    monkeypatch.setattr(_engine, "SPARSE_CHUNK_BATCHES", 3)  # several native calls per epoch
    X, y = task_data(task)
    X[np.abs(X) < 1.0] = 0.0
    weights = np.random.default_rng(2).uniform(0.0, 3.0, len(X))
    params = dict(hidden_layer_sizes=(16,), batch_size=20, max_iter=5, random_state=6, early_stopping=True)
    if task == "poisson":
        params["loss"] = "poisson"
    ours, theirs = fit_both(sp.csr_matrix(X), y, sample_weight=weights, backend=backend, **params)
    assert_same_fit(ours, theirs, sp.csr_matrix(X), RTOL[np.float64])
