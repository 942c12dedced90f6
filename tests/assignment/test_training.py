"""The assignment's training tests: regularisation, one SGD step, and one epoch of each model
reaching 30% accuracy."""

import unittest

import numpy as np
from models.softmax_regression import SoftmaxRegression
from models.two_layer_nn import TwoLayerNet
from optimizer.sgd import SGD
from utils import evaluate, generate_batched_data, load_mnist_test, load_mnist_trainval, train


class TestTraining(unittest.TestCase):
    def test_regularization(self):
        optimizer = SGD(learning_rate=1e-4, reg=100)
        model = SoftmaxRegression()
        optimizer.apply_regularization(model)  # on zero gradients: the penalty alone
        expected = model.weights["W1"] * optimizer.reg
        self.assertAlmostEqual(np.mean(np.abs(model.gradients["W1"] - expected)), 0, places=7)

    def test_sgd(self):
        optimizer = SGD(learning_rate=1e-4, reg=1e-3)
        model = SoftmaxRegression()
        np.random.seed(467)  # noqa: NPY002  # the assignment's way
        model.gradients["W1"] = np.random.randn(784, 10)  # noqa: NPY002
        optimizer.update(model)
        expected_weights = np.load("tests/sgd/sgd_updated_weights.npy")
        self.assertAlmostEqual(np.sum(np.abs(expected_weights - model.weights["W1"])), 0)

    def train_one_epoch(self, model, batch_size):
        optimizer = SGD(learning_rate=0.1, reg=1e-3)
        train_data, train_label, _, _ = load_mnist_trainval()
        test_data, test_label = load_mnist_test()
        batches, labels = generate_batched_data(
            train_data, train_label, batch_size=batch_size, shuffle=True, seed=1024
        )
        _, train_acc = train(1, batches, labels, model, optimizer, debug=False)
        test_batches, test_labels = generate_batched_data(test_data, test_label, batch_size=batch_size)
        _, test_acc = evaluate(test_batches, test_labels, model, debug=False)
        self.assertGreater(train_acc, 0.3)
        self.assertGreater(test_acc, 0.3)

    def test_one_layer_train(self):
        self.train_one_epoch(SoftmaxRegression(), batch_size=128)

    def test_two_layer_train(self):
        self.train_one_epoch(TwoLayerNet(hidden_size=128), batch_size=32)
