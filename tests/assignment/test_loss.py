"""The assignment's loss tests: cross-entropy and accuracy of three predictions."""

import math
import unittest

import numpy as np
from models.softmax_regression import SoftmaxRegression

PROBS = np.array([[0.2, 0.5, 0.3], [0.5, 0.1, 0.4], [0.3, 0.3, 0.4]])
LABELS = np.array([1, 2, 0])


class TestLoss(unittest.TestCase):
    def setUp(self):
        self.model = SoftmaxRegression()

    def test_ce_loss(self):
        expected = -(math.log(0.5) + math.log(0.4) + math.log(0.3)) / 3  # 0.937803
        self.assertAlmostEqual(self.model.cross_entropy_loss(PROBS, LABELS), expected, places=5)

    def test_accuracy(self):
        # only the first row's arg-max (class 1) is right
        self.assertAlmostEqual(self.model.compute_accuracy(PROBS, LABELS), 0.3333, places=4)
