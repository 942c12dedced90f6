"""The numba sparse layer 0's weight gradient (``numba_backend._sparse_loops``): the batch's
non-zeros as one bit per batch row of each column (``batch_bits``), and dW's rows summed from those
bits (``column_gradient``, ``weight_update``).

column_gradient is held to the bit to ``gather_rows_axpy`` (the kernel the forward pass uses) over
each 64-row block's rows of the column, listed here by NumPy, and both to x^T dz in float64. Bits
are compared only between two kernels compiled on this machine, never against stored values.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp.backends import _sparse
from fastmlp.backends.numba_backend import _kernel_loops, _sparse_loops


def _batch(rows: int, columns: int, batch: int, dtype: type, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x (rows, columns) with about a fifth of its values non-zero, some columns all zero and one
    column non-zero in every row; a batch of row numbers (with a repeated row)."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random((rows, columns)) < 0.2, rng.standard_normal((rows, columns)), 0.0).astype(dtype)
    x[:, 1] = 0.0
    x[:, -1] = rng.random(rows).astype(dtype) + 0.5
    order = rng.permutation(rows)[:batch]
    order[-1] = order[0]  # a row twice: each batch position is its own row of the bits
    return x, order


def _bits(x: np.ndarray, order: np.ndarray, has_values: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    structure = _sparse.sparse_rows(x)
    values = structure.values if has_values else np.zeros(0, x.dtype)
    words = (len(order) + 63) // 64
    mask = np.empty((x.shape[1], words), np.uint64)
    cursor = np.empty(len(order), np.int64)
    copied = np.empty(0 if has_values else int(np.count_nonzero(x[order])), x.dtype)
    source = _sparse_loops.batch_bits(
        x, structure.indptr, structure.indices, values, has_values, order, mask, cursor, copied
    )
    return mask, cursor, source


@pytest.mark.parametrize("has_values", [True, False])
@pytest.mark.parametrize("batch", [1, 5, 64, 65, 130])
def test_batch_bits_mark_each_rows_non_zeros_and_point_at_its_values(batch, has_values):
    x, order = _batch(200, 70, batch, np.float32, seed=batch)
    mask, cursor, source = _bits(x, order, has_values)
    for i, row in enumerate(order):
        marked = (mask[:, i // 64] >> np.uint64(i % 64)) & np.uint64(1)
        np.testing.assert_array_equal(marked.astype(bool), x[row] != 0)
        found = x[row][x[row] != 0]  # the row's values in increasing column
        np.testing.assert_array_equal(source[cursor[i] : cursor[i] + len(found)], found)
    if batch % 64:  # no bit beyond the batch's last row
        assert not (mask[:, -1] >> np.uint64(batch % 64)).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("outputs", [1, 10, 128])
@pytest.mark.parametrize("batch", [1, 3, 63, 64, 65, 130, 200])
def test_column_gradient_is_gather_rows_axpy_over_each_blocks_rows_to_the_bit(batch, outputs, dtype):
    x, order = _batch(300, 40, batch, dtype, seed=batch + outputs)
    dz = np.random.default_rng(outputs).standard_normal((batch, outputs)).astype(dtype)
    mask, cursor, source = _bits(x, order, has_values=True)
    xb = x[order]
    for d in range(x.shape[1]):
        dw_row = np.full(outputs, np.nan, dtype)
        count = _sparse_loops.column_gradient(mask, d, cursor, source, dz, dw_row)
        rows = np.nonzero(xb[:, d])[0]
        assert count == len(rows)
        expected = np.zeros(outputs, dtype)
        for block in range(0, batch, 64):  # gather_rows_axpy's groups of four restart per block
            in_block = rows[(rows >= block) & (rows < block + 64)]
            _sparse_loops.gather_rows_axpy(dz, in_block, xb[in_block, d], 0, len(in_block), expected)
        np.testing.assert_array_equal(dw_row, expected, err_msg=f"column {d}")
        exact = xb[:, d].astype(np.float64) @ dz.astype(np.float64)
        np.testing.assert_allclose(
            dw_row, exact, rtol=0, atol=64 * np.finfo(dtype).eps * (1 + np.abs(exact).max())
        )
    # every row's cursor has passed all of its values, and no further
    np.testing.assert_array_equal(cursor - _bits(x, order, True)[1], np.count_nonzero(xb, axis=1))


@pytest.mark.parametrize("batch", [7, 64, 100])
def test_weight_update_without_values_is_the_update_with_them(batch):
    x, order = _batch(150, 50, batch, np.float32, seed=3)
    dz = np.random.default_rng(4).standard_normal((batch, 16)).astype(np.float32)
    w0 = np.random.default_rng(5).standard_normal((50, 16)).astype(np.float32)
    step = (
        _kernel_loops.SGD,
        np.float32(0.1),
        np.float32(1e-3),
        np.float32(0.0),
        False,
        np.zeros(5, np.float32),
    )
    results = []
    for has_values in (True, False):
        w = w0.copy()
        mask, cursor, source = _bits(x, order, has_values)
        _sparse_loops.weight_update(mask, cursor, source, dz, w, np.empty(16, np.float32), w, w, step)
        results.append(w)
    np.testing.assert_array_equal(results[0], results[1])
    expected = w0 - np.float32(0.1) * (x[order].T @ dz + np.float32(1e-3) * w0)
    np.testing.assert_allclose(results[0], expected, rtol=1e-5, atol=1e-5)


def test_plain_sgd_leaves_the_rows_of_columns_without_a_non_zero_as_they_are():
    x, order = _batch(120, 30, 64, np.float32, seed=6)
    dz = np.random.default_rng(7).standard_normal((64, 8)).astype(np.float32)
    w0 = np.random.default_rng(8).standard_normal((30, 8)).astype(np.float32)
    w = w0.copy()
    step = (
        _kernel_loops.SGD,
        np.float32(0.1),
        np.float32(0.0),
        np.float32(0.0),
        False,
        np.zeros(5, np.float32),
    )
    mask, cursor, source = _bits(x, order, True)
    _sparse_loops.weight_update(mask, cursor, source, dz, w, np.empty(8, np.float32), w, w, step)
    untouched = ~(x[order] != 0).any(axis=0)
    assert untouched[1] and not untouched.all()
    np.testing.assert_array_equal(w[untouched], w0[untouched])
    np.testing.assert_allclose(
        w[~untouched], (w0 - np.float32(0.1) * (x[order].T @ dz))[~untouched], atol=1e-5
    )


@pytest.mark.parametrize("rows", [2, 8, 50])  # 8 does not divide the 50 rows of w: a short last block
@pytest.mark.parametrize(
    "rule", ["sgd", "sgd-reg", "momentum", "nesterov", "adam"], ids=lambda rule: f"rule-{rule}"
)
def test_weight_update_steps_blocks_of_rows_to_the_bits_of_one_row_at_a_time(rule, rows):
    # weight_update forms as many dW rows as its scratch holds, then steps them in one call: each
    # number gets the same operations as when every row is stepped alone (a one-row scratch)
    x, order = _batch(150, 50, 64, np.float32, seed=9)
    rng = np.random.default_rng(10)
    dz = rng.standard_normal((64, 16)).astype(np.float32)
    w0 = rng.standard_normal((50, 16)).astype(np.float32)
    first0, second0 = (
        rng.standard_normal((50, 16)).astype(np.float32),
        rng.random((50, 16)).astype(np.float32),
    )
    code = {"nesterov": _kernel_loops.NESTEROV, "adam": _kernel_loops.ADAM}.get(rule, _kernel_loops.SGD)
    reg = np.float32(0.0 if rule == "sgd" else 1e-3)
    momentum = np.float32(0.9 if rule in ("momentum", "nesterov") else 0.0)
    adam = np.array([0.9, 0.999, 1e-8, 0.1, 0.001], np.float32)
    step = (code, np.float32(0.05), reg, momentum, rule in ("momentum", "nesterov", "adam"), adam)
    results = []
    for scratch_rows in (1, rows):
        w, first, second = w0.copy(), first0.copy(), second0.copy()
        mask, cursor, source = _bits(x, order, True)
        scratch = np.empty(scratch_rows * 16, np.float32)
        _sparse_loops.weight_update(mask, cursor, source, dz, w, scratch, first, second, step)
        results.append((w, first, second))
    for one, blocked in zip(results[0], results[1], strict=True):
        assert one.tobytes() == blocked.tobytes()
    assert not np.array_equal(results[1][0], w0)  # the step moved w
