"""The assignment's loading tests: the loaders' lists, and batches of the asked size."""

import unittest

from utils import generate_batched_data, load_mnist_trainval


class TestLoading(unittest.TestCase):
    def test_load_mnist(self):
        train_data, train_label, val_data, val_label = load_mnist_trainval()
        self.assertEqual(len(train_data), len(train_label))
        self.assertEqual(len(val_data), len(val_label))
        self.assertEqual(len(train_data), 4 * len(val_data))
        for images in (train_data, val_data):
            for img in images:
                self.assertIsInstance(img, list)
                self.assertEqual(len(img), 784)
        for labels in (train_label, val_label):
            for t in labels:
                self.assertIsInstance(t, int)

    def test_generate_batch(self):
        train_data, train_label, _, _ = load_mnist_trainval()
        batched_train_data, batched_train_label = generate_batched_data(
            train_data, train_label, batch_size=128, shuffle=True, seed=1024
        )
        for i, batch in enumerate(batched_train_data[:-1]):
            self.assertEqual(len(batch), 128)
            self.assertEqual(len(batched_train_label[i]), 128)
