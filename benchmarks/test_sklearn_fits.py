"""fastmlp.sklearn's MLPClassifier against scikit-learn's, one fit of 1 epoch each on the first
12,000 MNIST training rows (784-128-10, batch 64, sgd momentum 0.9 or adam), dense and CSR, one
CPU; fastmlp on its default backend (cpp where built) and on numba.

``fastmlp bench --sklearn`` times the issue's full cases (48,000 rows, 3 epochs, a tabular set);
this keeps the same comparison in the pytest-benchmark tables. Each timed fit's weights are
checked against scikit-learn's fit of the same parameters, outside the timing.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

from fastmlp.benchmarking.affinity import pinned
from fastmlp.benchmarking.sklearn_fits import ADAM, COMMON, SGD
from fastmlp.data import load_mnist
from fastmlp.sklearn import MLPClassifier

ROWS = 12_000


@pytest.fixture(scope="module")
def mnist():
    data = load_mnist(dtype="float32", quiet=True)
    return data.x_train[:ROWS].copy(), data.y_train[:ROWS]


def _rounds(request) -> int:
    return request.config.getoption("benchmark_min_rounds")


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("estimator", ["scikit-learn", "fastmlp", "fastmlp-numba"])
def test_fit_one_epoch(benchmark, request, mnist, layout, solver, estimator):
    x, y = mnist
    X = sp.csr_matrix(x) if layout == "csr" else x
    params = {**COMMON, **(SGD if solver == "sgd" else ADAM), "max_iter": 1}
    make: Any = SklearnMLPClassifier
    if estimator == "fastmlp":
        make = MLPClassifier
    elif estimator == "fastmlp-numba":
        make = functools.partial(MLPClassifier, backend="numba")
    benchmark.group = f"fit, 1 epoch of {ROWS:,} MNIST rows, {layout} float32, {solver}, 1 CPU"
    benchmark.name = estimator
    with warnings.catch_warnings(), pinned(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        make(**params).fit(X[:256], y[:256])  # warm-up: compilation, first touch
        model = benchmark.pedantic(lambda: make(**params).fit(X, y), rounds=_rounds(request), iterations=1)
        reference = SklearnMLPClassifier(**params).fit(X, y)
    for mine, theirs in zip(model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-4 * np.abs(theirs).max())
