"""The assignment's activation tests: sigmoid, its derivative, ReLU, its derivative, softmax."""

import unittest

import numpy as np
from models.softmax_regression import SoftmaxRegression

X = np.array(
    [
        [-1.48839468, -0.31530738],
        [-0.28271176, -1.00780433],
        [0.66435418, 1.2537461],
        [-1.64829182, 0.90223236],
    ]
)


def expected_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class TestActivation(unittest.TestCase):
    def setUp(self):
        self.model = SoftmaxRegression()

    def assertSumAbsZero(self, actual, expected):
        self.assertAlmostEqual(np.sum(np.abs(actual - expected)), 0, places=7)

    def test_sigmoid(self):
        self.assertSumAbsZero(self.model.sigmoid(X), expected_sigmoid(X))

    def test_sigmoid_dev(self):
        s = expected_sigmoid(X)
        self.assertSumAbsZero(self.model.sigmoid_dev(X), s * (1 - s))

    def test_relu(self):
        self.assertSumAbsZero(self.model.ReLU(X), np.where(X > 0, X, 0.0))

    def test_relu_dev(self):
        self.assertSumAbsZero(self.model.ReLU_dev(X), (X > 0).astype(float))

    def test_softmax(self):
        e = np.exp(X)
        self.assertSumAbsZero(self.model.softmax(X), e / e.sum(axis=1, keepdims=True))
