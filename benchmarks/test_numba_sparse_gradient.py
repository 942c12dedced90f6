"""Numba's sparse weight gradient of layer 0 for one batch (``numba_backend._sparse_loops``):
the batch's bits per column (``batch_bits``), then dW = x_batch^T dz row by row with plain SGD
(``weight_update``), against NumPy's dense ``x_batch.T @ dz`` and the same step.

MNIST-like strokes (``test_sparse_scan._strokes``: about 150 non-zeros of 784 a row), batch 64,
128 outputs. Each kernel's step is checked against NumPy's from one untimed call (which also
compiles it); the timed rounds then step the same weights on.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_sparse_scan import _strokes

from fastmlp.backends import _sparse
from fastmlp.backends.numba_backend import _kernel_loops, _sparse_loops

BATCH, OUTPUTS, LR = 64, 128, 0.1


@pytest.mark.parametrize("kernel", ["numba bits", "numpy dense"])
def test_sparse_weight_step(benchmark, dtype, kernel):
    x = _strokes(dtype)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(x))[:BATCH]
    dz = rng.standard_normal((BATCH, OUTPUTS)).astype(dtype)
    w0 = rng.standard_normal((x.shape[1], OUTPUTS)).astype(dtype)
    expected = w0 - dtype.type(LR) * (x[order].T @ dz)
    benchmark.group = f"sparse weight step {dtype}, batch {BATCH}"
    if kernel == "numpy dense":

        def step(w):
            w -= dtype.type(LR) * (x[order].T @ dz)

    else:
        rows = _sparse.sparse_rows(x)
        mask = np.empty((x.shape[1], 1), np.uint64)
        cursor = np.empty(BATCH, np.int64)
        dw_row = np.empty(OUTPUTS, dtype)
        settings = (
            _kernel_loops.SGD,
            dtype.type(LR),
            dtype.type(0),
            dtype.type(0),
            False,
            np.zeros(5, dtype),
        )

        def step(w):
            source = _sparse_loops.batch_bits(
                x, rows.indptr, rows.indices, rows.values, True, order, mask, cursor, rows.values
            )
            _sparse_loops.weight_update(mask, cursor, source, dz, w, dw_row, w, w, settings)

    checked = w0.copy()
    step(checked)  # compiles (Numba) outside the timing
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(checked, expected, rtol=tolerance, atol=tolerance)
    benchmark(step, w0.copy())  # every round the same work, on weights that move on
