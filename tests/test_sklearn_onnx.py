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
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from fastmlp import sklearn as fastmlp_sklearn
from fastmlp.sklearn import MLPClassifier


def run(model, X, **options):
    onx = skl2onnx.to_onnx(model, X[:1], options=options or None)
    session = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("activation", ["relu", "logistic"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnxruntime_equals_predict_and_predict_proba(activation, dtype):
    assert fastmlp_sklearn.ONNX_REGISTERED
    X, y = make_classification(300, 10, n_informative=6, n_classes=4, random_state=0)
    X = X.astype(dtype)
    labels = np.array(["a", "b", "c", "d"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(
            hidden_layer_sizes=(12, 6), activation=activation, solver="sgd", nesterovs_momentum=False,
            max_iter=10, random_state=0,
        ).fit(X, labels)  # fmt: skip
    predicted, probabilities = run(model, X, zipmap=False)
    np.testing.assert_array_equal(predicted, model.predict(X))
    tolerance = 1e-6 if dtype == np.float32 else 1e-12  # onnxruntime's float32 exp and GEMM
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=tolerance)
