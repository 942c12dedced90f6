"""fastmlp bench --sklearn's machinery on small data (the timing itself is the benchmark's)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

import scipy.sparse as sp
from sklearn.datasets import make_classification

from fastmlp.benchmarking import sklearn_fits


def small_data():
    X, y = make_classification(600, 20, n_informative=8, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    X[X < 0] = 0.0
    binary = y % 2
    return {
        "mnist": (X[:500], y[:500], X[500:], y[500:]),
        "mnist-csr": (sp.csr_matrix(X[:500]), y[:500], sp.csr_matrix(X[500:]), y[500:]),
        "tabular": (X[:500], binary[:500], X[500:], binary[500:]),
    }


def test_every_case_is_timed_or_says_why_and_the_accuracies_agree():
    results = sklearn_fits.time_fits(small_data(), repeats=1)
    assert [r.case for r in results] == list(sklearn_fits.CASES)
    assert all(r.fastmlp_seconds is not None for r in results)  # the engine trains every case
    for r in results:
        # no assertion on the seconds themselves (wall clock on a shared machine): that a ratio
        # exists for every case, and the accuracies, are the machinery's behaviour
        assert 0 <= r.sklearn_accuracy <= 1
        assert r.ratio is not None
        # the same fit to float32 rounding: the same validation accuracy within 1 row in 100
        assert abs(r.fastmlp_accuracy - r.sklearn_accuracy) <= 0.01
    table = sklearn_fits.markdown(results, repeats=1, build="test")
    assert table.count("\n| ") == len(results) + 1  # header and one row per case
    assert "MNIST dense, adam | " in table and "Not timed" not in table
