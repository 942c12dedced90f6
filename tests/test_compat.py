"""The drop-in classes run assignment-style code unchanged, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import blobs

from fastmlp import compat


def test_assignment_style_training_loop(backend):
    data = blobs(features=784, classes=10, n_train=640, dtype=np.float32)
    model = compat.TwoLayerNet(input_size=784, num_classes=10, hidden_size=32, backend=backend)
    optimizer = compat.SGD(learning_rate=1.0, reg=1e-4)
    assert sorted(model.weights) == ["W1", "W2", "b1", "b2"]
    # The loop as the assignment writes it: forward, update, accumulate loss and accuracy.
    for _ in range(10):
        losses, accuracies = [], []
        for start in range(0, len(data.x_train), 64):
            x_batch, y_batch = data.x_train[start : start + 64], data.y_train[start : start + 64]
            loss, accuracy = model.forward(x_batch, y_batch, mode="train")
            optimizer.update(model)
            losses.append(loss)
            accuracies.append(accuracy)
    val_loss, val_accuracy = model.forward(data.x_val, data.y_val, mode="valid")
    assert val_accuracy > 0.9 and np.mean(accuracies) > 0.8 and val_loss < losses[0]


@pytest.mark.parametrize("cls", [compat.SoftmaxRegression, compat.TwoLayerNet])
def test_gradients_match_finite_differences(backend, cls):
    model = cls(input_size=5, num_classes=3, dtype="float64", backend=backend, init="he")
    rng = np.random.default_rng(2)
    x, y = rng.random((6, 5)), rng.integers(0, 3, 6)
    model.forward(x, y, mode="train")
    for name, weight in model.weights.items():
        numeric = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            saved = weight[index]
            weight[index] = saved + 1e-6
            plus = model.forward(x, y, mode="test")[0]
            weight[index] = saved - 1e-6
            minus = model.forward(x, y, mode="test")[0]
            weight[index] = saved
            numeric[index] = (plus - minus) / 2e-6
        model.forward(x, y, mode="train")
        np.testing.assert_allclose(model.gradients[name], numeric, rtol=1e-5, atol=1e-9, err_msg=name)


def test_helpers_and_regularisation(backend):
    net = compat.BaseNetwork(backend=backend)
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(net.softmax(x), np.exp(x) / np.exp(x).sum(), rtol=1e-12)
    np.testing.assert_allclose(net.sigmoid_dev(x), np.exp(-x) / (1 + np.exp(-x)) ** 2, rtol=1e-12)
    np.testing.assert_array_equal(net.ReLU(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(net.ReLU_dev(x), [[0.0, 0.0, 1.0]])
    probs = np.array([[0.25, 0.75], [0.5, 0.5]])
    assert net.cross_entropy_loss(probs, np.array([1, 0])) == pytest.approx(-(np.log(0.75) + np.log(0.5)) / 2)
    assert net.compute_accuracy(probs, np.array([1, 1])) == 0.5
    model = compat.TwoLayerNet(input_size=4, num_classes=2, hidden_size=3, dtype="float64", backend=backend)
    model.gradients = {k: np.zeros_like(v) for k, v in model.weights.items()}
    before = {k: v.copy() for k, v in model.weights.items()}
    compat.SGD(learning_rate=0.1, reg=0.5).update(model)
    np.testing.assert_allclose(model.weights["W1"], before["W1"] * (1 - 0.05), rtol=1e-15)
    np.testing.assert_array_equal(model.weights["b1"], before["b1"])
