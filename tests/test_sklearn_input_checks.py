"""The estimators check X for NaN and infinity as scikit-learn does, and give its errors, while a
dense X trained on by a native epoch is checked in the epochs' own count of its non-zeros (one
read of X instead of scikit-learn's sum over X plus the count)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

import sklearn
from conftest import BACKENDS
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnClassifier
from sklearn.neural_network import MLPRegressor as SklearnRegressor

from fastmlp.backends import _sparse
from fastmlp.sklearn import MLPClassifier, MLPRegressor

PARAMS = dict(hidden_layer_sizes=(8,), max_iter=3, batch_size=16, random_state=0)


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(dtype=np.float64):
    X, y = make_classification(120, 6, n_informative=4, n_classes=3, random_state=2)
    X[X < 0] = 0  # sparse enough for the epochs' CSR: the count and the compression both run
    return X.astype(dtype), y


def _message(estimator, X, y):
    with pytest.raises(ValueError) as raised:
        estimator.fit(X, y)
    return str(raised.value)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_non_finite_x_fails_with_scikit_learns_error(backend, bad, solver, dtype):
    X, y = _data(dtype)
    X[57, 3] = bad
    ours = _message(MLPClassifier(solver=solver, backend=backend, **PARAMS), X, y)
    theirs = _message(SklearnClassifier(solver=solver, **PARAMS), X, y)
    assert ours == theirs
    assert ("NaN" if np.isnan(bad) else "infinity") in ours


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_y_fails_with_scikit_learns_error(backend, bad):
    X, y = _data()
    target = y.astype(np.float64)
    target[5] = bad
    ours = _message(MLPRegressor(solver="sgd", backend=backend, **PARAMS), X, target)
    theirs = _message(SklearnRegressor(solver="sgd", **PARAMS), X, target)
    assert ours == theirs
    assert "Input y contains" in ours


def test_a_dense_fit_counts_x_once_and_does_not_sum_it(monkeypatch):
    """The count that checks X is the one the epochs use: one count for a fit of three epochs, and
    scikit-learn's sum over X (its finiteness check) is not made."""
    X, y = _data(np.float32)
    counted, summed = [], []
    count = _sparse._count_nonzeros
    monkeypatch.setattr(_sparse, "_count_nonzeros", lambda x: counted.append(x.shape) or count(x))
    real_sum = np.sum

    def sum_of(a, *args, **kwargs):
        if getattr(a, "shape", None) == X.shape:
            summed.append(a.shape)
        return real_sum(a, *args, **kwargs)

    monkeypatch.setattr(sklearn.utils.validation.np, "sum", sum_of)
    ours = MLPClassifier(solver="sgd", backend="cpp", **PARAMS).fit(X, y)
    assert ours.n_iter_ == 3
    assert counted == [X.shape]
    assert summed == []


def test_assume_finite_is_honoured():
    """scikit-learn's assume_finite turns its input check off, and ours: the nan reaches the solver,
    whose weights scikit-learn's own check then finds not finite, in both."""
    X, y = _data()
    X[3, 1] = np.nan
    with sklearn.config_context(assume_finite=True):
        ours = _message(MLPClassifier(solver="sgd", backend="cpp", **PARAMS), X, y)
        theirs = _message(SklearnClassifier(solver="sgd", **PARAMS), X, y)
    assert ours == theirs
    assert "Solver produced non-finite parameter weights" in ours


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_fit_is_unchanged_by_the_check(backend):
    """Checking X in the count does not change what is trained: the same fit as scikit-learn's."""
    X, y = _data()
    ours = MLPClassifier(solver="sgd", backend=backend, **PARAMS).fit(X, y)
    theirs = SklearnClassifier(solver="sgd", **PARAMS).fit(X, y)
    for got, want in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
