"""The assignment's network tests: the loss and gradients of both models on one batch, at
initialisation, against saved expectations."""

import unittest

import numpy as np
from models.softmax_regression import SoftmaxRegression
from models.two_layer_nn import TwoLayerNet


class TestNetwork(unittest.TestCase):
    def setUp(self):
        self.test_batch = np.load("tests/softmax_grad_check/test_batch.npy")
        self.test_label = np.load("tests/softmax_grad_check/test_label.npy")

    def test_one_layer_softmax_relu(self):
        model = SoftmaxRegression()
        expected_loss = float(np.load("tests/softmax_grad_check/expected_loss.npy"))
        expected_grad = np.load("tests/softmax_grad_check/softmax_relu_grad.npy")
        loss, _ = model.forward(self.test_batch, self.test_label, mode="train")
        self.assertAlmostEqual(expected_loss, loss, places=5)
        self.assertAlmostEqual(np.sum(np.abs(expected_grad - model.gradients["W1"])), 0)

    def test_two_layer_net(self):
        model = TwoLayerNet(hidden_size=128)
        expected_loss = float(np.load("tests/twolayer_grad_check/expected_loss.npy"))
        loss, _ = model.forward(self.test_batch, self.test_label, mode="train")
        self.assertAlmostEqual(expected_loss, loss, places=5)
        for name, file in (("W1", "w1"), ("b1", "b1"), ("W2", "w2"), ("b2", "b2")):
            expected = np.load(f"tests/twolayer_grad_check/{file}.npy")
            self.assertAlmostEqual(np.sum(np.abs(expected - model.gradients[name])), 0)
