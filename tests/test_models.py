"""Models: the assignment's initialisation, gradients against finite differences on every
backend, prediction, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp.models import MLP, SoftmaxRegression, TwoLayerNet, load_model, save_model

EPS = 1e-6


def test_assignment_initialisation():
    model = TwoLayerNet(784, 128, 10, dtype="float64", backend="numpy")
    # Independently, the way the assignment writes it: reseed the global generator per matrix.
    np.random.seed(1024)  # noqa: NPY002 - the assignment uses the legacy global generator
    w1 = 0.001 * np.random.randn(784, 128)  # noqa: NPY002
    np.random.seed(1024)  # noqa: NPY002 - the assignment uses the legacy global generator
    w2 = 0.001 * np.random.randn(128, 10)  # noqa: NPY002
    np.testing.assert_array_equal(model.params["W1"], w1)
    np.testing.assert_array_equal(model.params["W2"], w2)
    np.testing.assert_array_equal(model.params["b1"], np.zeros(128))
    assert sorted(model.params) == ["W1", "W2", "b1", "b2"]
    assert sorted(SoftmaxRegression(dtype="float64", backend="numpy").params) == ["W1"]


def _models(backend):
    return [
        SoftmaxRegression(6, 3, dtype="float64", backend=backend, init="he", seed=3),
        TwoLayerNet(6, 5, 3, dtype="float64", backend=backend, init="he", seed=3),
        MLP(6, [5, 4], 3, activation="relu", dtype="float64", backend=backend, seed=3),
        MLP(6, [4], 3, activation="sigmoid", dtype="float64", backend=backend, seed=3),
    ]


@pytest.mark.parametrize(
    "which", range(4), ids=["softmax-regression", "two-layer", "mlp-relu", "mlp-sigmoid"]
)
def test_gradients_match_finite_differences(backend, which):
    model = _models(backend)[which]
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    model.forward(x, y)
    grads = model.backward()
    assert sorted(grads) == sorted(model.params)
    for name, param in model.params.items():
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + EPS
            plus = model.forward(x, y)[0]
            param[index] = saved - EPS
            minus = model.forward(x, y)[0]
            param[index] = saved
            numeric[index] = (plus - minus) / (2 * EPS)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_forward_counts_correct_predictions(backend):
    model = SoftmaxRegression(2, 2, dtype="float64", backend=backend)
    model.params["W1"][...] = [[1.0, 0.0], [0.0, 1.0]]
    x = np.array([[2.0, 0.0], [0.0, 3.0], [5.0, 1.0]])
    loss, correct = model.forward(x, np.array([0, 1, 1]))
    assert correct == 2
    np.testing.assert_array_equal(model.predict(x), [0, 1, 0])
    # Row losses by hand: scores pass through ReLU unchanged (all >= 0).
    rows = [np.log(np.exp(2) + 1) - 2, np.log(1 + np.exp(3)) - 3, np.log(np.exp(5) + np.exp(1)) - 1]
    assert loss == pytest.approx(np.mean(rows), rel=1e-12)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="hidden_size must be >= 1"):
        TwoLayerNet(hidden_size=0)
    with pytest.raises(TypeError, match="hidden_size must be an int"):
        TwoLayerNet(hidden_size=True)
    with pytest.raises(ValueError, match="activation must be one of identity, none, relu, sigmoid, logistic"):
        MLP(activation="softplus")
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        TwoLayerNet(dtype="float16")
    model = TwoLayerNet(6, 5, 3, backend="numpy")
    with pytest.raises(TypeError, match="x must have the model's dtype float32"):
        model.forward(np.ones((2, 6)), np.array([0, 1]))
    with pytest.raises(ValueError, match="x must have 6 columns"):
        model.forward(np.ones((2, 5), np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y must lie in \[0, 3\)"):
        model.forward(np.ones((2, 6), np.float32), np.array([0, 3]))


def test_save_and_load_round_trip(tmp_path, backend):
    model = MLP(6, [5, 4], 3, dtype="float32", backend=backend, seed=9)
    model.params["b2"][...] = 0.25
    path = save_model(model, tmp_path / "model.npz")
    loaded = load_model(path, backend=backend)
    assert type(loaded) is MLP and loaded.config() == model.config() and loaded.dtype == model.dtype
    for name in model.params:
        np.testing.assert_array_equal(loaded.params[name], model.params[name])
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.scores(x), model.scores(x))


def test_load_refuses_another_architecture(tmp_path):
    path = save_model(TwoLayerNet(6, 5, 3, backend="numpy"), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="hidden_size is 5, expected 7"):
        load_model(path, expect=TwoLayerNet(6, 7, 3, backend="numpy").config())
    np.savez(tmp_path / "other.npz", W1=np.ones(3))
    with pytest.raises(ValueError, match="not a fastmlp model file"):
        load_model(tmp_path / "other.npz")
