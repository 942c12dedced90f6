"""fastmlp.sklearn against scikit-learn itself: the same parameters and random_state give the same
coefs_, intercepts_, loss_curve_, n_iter_ and predictions, to float rounding.

scikit-learn's own estimator is the oracle (it is independent of fastmlp: its NumPy code). Each
configuration the engine trains runs on every backend; the configurations it does not train yet
are listed in UNSUPPORTED and must fail with an error naming the parameter.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

import scipy.sparse as sp
from conftest import BACKENDS
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnClassifier

from fastmlp.errors import FastmlpValueError
from fastmlp.sklearn import MLPClassifier, MLPRegressor

# float64 runs agree to about 1e-13 relative after a few epochs (the same arithmetic in another
# order: GEMM blocking, fused updates); float32 to its own rounding, amplified by training.
RTOL = {np.float64: 1e-9, np.float32: 2e-3}


def multiclass(n=300, d=12, classes=3, seed=0, dtype=np.float64):
    X, y = make_classification(
        n, d, n_informative=6, n_classes=classes, n_clusters_per_class=1, random_state=seed
    )
    return X.astype(dtype), y


def fit_both(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**params).fit(X, y)
        params.pop("backend", None)
        theirs = SklearnClassifier(**params).fit(X, y)
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
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=rtol)


SUPPORTED = {
    "sgd-momentum": dict(solver="sgd", nesterovs_momentum=False, learning_rate_init=0.05),
    "sgd-plain-invscaling": dict(
        solver="sgd", momentum=0.0, learning_rate="invscaling", learning_rate_init=0.5, power_t=0.25
    ),
    "sgd-adaptive": dict(
        solver="sgd", nesterovs_momentum=False, learning_rate="adaptive", tol=1e-2, n_iter_no_change=2
    ),
    "sgd-no-shuffle": dict(solver="sgd", nesterovs_momentum=False, shuffle=False),
    "sgd-early-stopping": dict(
        solver="sgd", nesterovs_momentum=False, early_stopping=True, n_iter_no_change=3, tol=1e-3
    ),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", ["relu", "logistic", "identity", "tanh"])
@pytest.mark.parametrize("alpha", [0.0, 1e-3])
@pytest.mark.parametrize("case", sorted(SUPPORTED))
def test_multiclass_equals_sklearn(backend, activation, alpha, case):
    X, y = multiclass()
    params = dict(
        hidden_layer_sizes=(16, 8), activation=activation, alpha=alpha, batch_size=64, max_iter=12,
        random_state=3, **SUPPORTED[case],
    )  # fmt: skip
    ours, theirs = fit_both(X, y, backend=backend, **params)
    assert_same_fit(ours, theirs, X, RTOL[np.float64])


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32_and_equals_sklearn(backend):
    X, y = multiclass(dtype=np.float32)
    ours, theirs = fit_both(
        X, y, solver="sgd", nesterovs_momentum=False, batch_size=50, max_iter=5, random_state=0,
        backend=backend,
    )  # fmt: skip
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X).dtype == np.float32
    assert_same_fit(ours, theirs, X, RTOL[np.float32])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_sparse_input_equals_sklearn_and_dense(backend, layout):
    X, y = multiclass()
    X[np.abs(X) < 1.0] = 0.0  # about 70% zeros
    Xs = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    params = dict(solver="sgd", nesterovs_momentum=False, batch_size=32, max_iter=6, random_state=2)
    ours, theirs = fit_both(Xs, y, backend=backend, **params)
    assert_same_fit(ours, theirs, Xs, RTOL[np.float64])
    dense = MLPClassifier(backend=backend, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xs), dense.predict_proba(X), rtol=0, atol=1e-12)


def test_partial_fit_and_warm_start_equal_sklearn():
    X, y = multiclass()
    params = dict(solver="sgd", nesterovs_momentum=False, batch_size=40, random_state=5)
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
    params = dict(solver="sgd", nesterovs_momentum=False, max_iter=3, random_state=0, verbose=True)
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


UNSUPPORTED = {
    "adam (the default solver)": (MLPClassifier, dict(), "solver='adam'"),
    "nesterov": (MLPClassifier, dict(solver="sgd"), "nesterovs_momentum=True"),
    "binary": (MLPClassifier, dict(solver="lbfgs", binary=True), "binary and multi-label"),
    "sample_weight": (MLPClassifier, dict(solver="lbfgs", weighted=True), "sample_weight"),
    "regression": (MLPRegressor, dict(solver="lbfgs"), "regression"),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_what_the_engine_lacks_fails_by_name(case):
    """Not in fastmlp's engine yet (issue 19's rows): a clear error naming the parameter, before
    any training."""
    estimator, params, expected = UNSUPPORTED[case]
    X, y = multiclass()
    weights = np.ones(len(y)) if params.pop("weighted", False) else None
    if params.pop("binary", False):
        y = y % 2
    model = estimator(**params)
    with pytest.raises(FastmlpValueError, match=expected):
        model.fit(X, y.astype(float) if estimator is MLPRegressor else y, sample_weight=weights)
    assert not hasattr(model, "coefs_")
