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


@pytest.mark.parametrize(
    ("case", "seconds", "accuracies", "verdict"),
    [
        (0, (1.0, 0.19), (0.95, 0.952), "met (>= 5x)"),  # 5.26x, accuracies 0.002 apart
        (0, (1.0, 0.21), (0.95, 0.95), "missed (>= 5x)"),  # 4.76x
        (0, (1.0, 0.10), (0.95, 0.94), "missed (>= 5x)"),  # 10x, but 0.01 less accurate
        (2, (1.0, 0.19), (0.95, 0.95), "missed (>= 10x)"),  # CSR sgd: 5.26x of 10x
        (4, (1.0, 0.50), (0.95, 0.95), "-"),  # tabular sgd: no target
    ],
)
def test_each_row_says_whether_it_meets_its_target(case, seconds, accuracies, verdict):
    timing = sklearn_fits.FitTiming(
        sklearn_fits.CASES[case], seconds[0], accuracies[0], seconds[1], accuracies[1]
    )
    assert timing.verdict == verdict
    table = sklearn_fits.markdown([timing], repeats=1, build="test")
    assert table.splitlines()[-1].endswith(f"| {verdict} |")


def test_a_case_the_engine_cannot_time_is_not_met():
    timing = sklearn_fits.FitTiming(sklearn_fits.CASES[1], 1.0, 0.95, None, None, "no engine")
    assert timing.verdict == "not timed (>= 5x)"
