"""A small learnable dataset shaped like MNIST's split, for training tests."""

from __future__ import annotations

import numpy as np

from fastmlp.data import MnistSplit


def blobs(n_train=600, n_val=200, n_test=200, features=20, classes=4, dtype=np.float64, seed=0) -> MnistSplit:
    """Gaussian clusters in [0, 1]-ish space; a linear model separates them well."""
    rng = np.random.default_rng(seed)
    centres = rng.random((classes, features))
    parts = []
    for n in (n_train, n_val, n_test):
        y = rng.integers(0, classes, n)
        x = centres[y] + 0.15 * rng.standard_normal((n, features))
        parts += [x.astype(dtype), y]
    return MnistSplit(*parts)
