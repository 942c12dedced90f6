"""The dense x's scan for its non-zeros (``backends._sparse.sparse_rows``: count_nonzeros, then
compress_rows), compiled against the NumPy scan it replaced, on MNIST-like rows.

8,000 rows of 784 columns with about MNIST's share of non-zeros (19%), in runs along the row as
a digit's strokes are (a run's length and start random), so that neither a branch per pixel nor a
word of bits is favoured by a pattern MNIST does not have. Each timed result is checked against
the NumPy scan's arrays, computed outside the timing.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp.backends import _sparse

ROWS, COLUMNS = 8_000, 784


def _strokes(dtype: np.dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = np.zeros((ROWS, COLUMNS), dtype)
    for _ in range(30):  # 30 runs of 1-9 pixels a row: about 150 non-zeros, MNIST's mean
        starts = rng.integers(0, COLUMNS - 9, ROWS)
        lengths = rng.integers(1, 10, ROWS)
        for offset in range(9):
            rows = np.nonzero(offset < lengths)[0]
            x[rows, starts[rows] + offset] = rng.random(len(rows)).astype(dtype) + 0.01
    return x


@pytest.mark.parametrize("scan", ["compiled", "numpy"])
def test_sparse_scan(benchmark, monkeypatch, dtype, scan):
    x = _strokes(dtype)
    with monkeypatch.context() as numpy_only:
        numpy_only.setattr(_sparse, "_compiled_scan", lambda: None)
        reference = _sparse.sparse_rows(x)
    if scan == "numpy":
        monkeypatch.setattr(_sparse, "_compiled_scan", lambda: None)
    elif _sparse._compiled_scan() is None:
        pytest.fail("the compiled extension is not built: the compiled scan cannot be timed")
    benchmark.group = f"sparse scan {dtype}"
    rows = benchmark(_sparse.sparse_rows, x)
    np.testing.assert_array_equal(rows.indptr, reference.indptr)
    np.testing.assert_array_equal(rows.indices, reference.indices)
    np.testing.assert_array_equal(rows.values, reference.values)
