"""ONNX export of the fastmlp.sklearn estimators: onnxruntime's labels and probabilities equal
predict and predict_proba (the onnx extra; skipped only when it is not installed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")
pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

import onnxruntime
import skl2onnx
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from fastmlp import sklearn as fastmlp_sklearn
from fastmlp.sklearn import MLPClassifier, MLPRegressor


def run(model, X, **options):
    onx = skl2onnx.to_onnx(model, X[:1], options=options or None)
    session = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}  # onnxruntime's own exp, tanh and GEMM


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [2, 4])
def test_onnxruntime_equals_predict_and_predict_proba(activation, dtype, classes):
    assert fastmlp_sklearn.ONNX_REGISTERED
    X, y = make_classification(300, 10, n_informative=6, n_classes=classes, random_state=0)
    X = X.astype(dtype)
    labels = np.array(["a", "b", "c", "d"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(
            hidden_layer_sizes=(12, 6), activation=activation, max_iter=10, random_state=0,
        ).fit(X, labels)  # fmt: skip
    predicted, probabilities = run(model, X, zipmap=False)
    np.testing.assert_array_equal(predicted, model.predict(X))
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnxruntime_equals_the_regressors_predict(dtype):
    # one target: skl2onnx's MLP regressor converter reshapes its output to (N, 1), for
    # scikit-learn's own estimator as well, so a multi-output regressor's ONNX graph is flattened
    X, y = make_regression(300, 10, random_state=0)
    X, y = X.astype(dtype), y / np.abs(y).max()
    model = MLPRegressor(hidden_layer_sizes=(12,), activation="tanh", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    (predicted,) = run(model, X)
    np.testing.assert_allclose(predicted.ravel(), model.predict(X), rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnxruntime_equals_a_poisson_regressors_predict(dtype):
    # skl2onnx's converter has no exp output (scikit-learn's own poisson regressor fails with
    # KeyError: 'exp'); fastmlp's converter adds ONNX's Exp after the identity-output graph
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 10)).astype(dtype)
    y = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(np.float64)
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(12,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.out_activation_ == "exp"
    (predicted,) = run(model, X)
    expected = model.predict(X)
    np.testing.assert_allclose(predicted.ravel(), expected, rtol=TOLERANCE[dtype], atol=0)
    assert model.out_activation_ == "exp"  # the converter left the estimator as it was
