"""Layer 1 over the non-zero inputs only, as compiled Numba loops (see ``_sparse``).

x comes as the CSR of its non-zeros (indptr, indices, values; ``_sparse.SparseRows``). With
has_values these loops read the values from ``values``, where a row's values lie next to each
other (a few cache lines) instead of spread over x's dense row; without (the evaluation passes,
whose structure keeps no copy) they read the same numbers from x. The forward pass adds, for each
non-zero x[n, d], x[n, d] * W[d, :] into z[n, :] (``gather_rows_axpy`` over W's rows); the
weight gradient adds, for each batch row n with a non-zero in column d, x[n, d] * dz[n, :] into
dW[d, :] (``column_gradient``: gather_rows_axpy's sums over dz's rows, the rows read from one bit
per batch row of column d). Both are sums of scaled rows gathered from a matrix, vectorised along
the rows. The sums run in a different order from a dense GEMM, so they match it to float rounding.

``fastmath={"contract"}`` lets LLVM fuse each multiply-add into one FMA (one rounding instead of
two); nothing else about IEEE arithmetic is relaxed.

Dimensions: B batch rows, D inputs, M outputs of layer 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros as _intrinsic_trailing_zeros

from . import _kernel_loops as _k
from ._prefetch import prefetch

_CONTRACT = {"contract"}
# LLVM's cttz (the lowest set bit's position), which numba exposes only there; typed Any because
# its Python signature is the compile-time one (typing context and argument), not the call's
trailing_zeros: Any = _intrinsic_trailing_zeros
# The forward pass hints the next row's values and column numbers to the cache, one hint per
# 64-byte line: 8 values (a float64 line; a float32 line gets two) and 32 column numbers.
_VALUES_PER_HINT = 8
_INDICES_PER_HINT = 32
# Reading x instead: one hint per 4 non-zeros of x's row (a 64-byte line holds 16 float32 pixels
# and MNIST's non-zeros come in runs; every one was no faster, every eighth slower).
_X_HINT_STRIDE = 4


@njit(cache=True, fastmath=_CONTRACT)
def gather_rows_axpy(base: Any, rows: Any, scales: Any, k0: int, k1: int, out: Any) -> None:
    """out += sum over k in [k0, k1) of scales[k] * base[rows[k], :].  base (R, M), out (M,).

    Four gathered rows per pass over out: out is read and written once per four rows instead of
    once per row (it lives in memory, not in registers as in the C++ kernel).
    """
    M = out.shape[0]
    k = k0
    while k + 4 <= k1:
        r0, r1, r2, r3 = base[rows[k]], base[rows[k + 1]], base[rows[k + 2]], base[rows[k + 3]]
        s0, s1, s2, s3 = scales[k], scales[k + 1], scales[k + 2], scales[k + 3]
        for m in range(M):
            out[m] += (s0 * r0[m] + s1 * r1[m]) + (s2 * r2[m] + s3 * r3[m])
        k += 4
    while k < k1:
        r0, s0 = base[rows[k]], scales[k]
        for m in range(M):
            out[m] += s0 * r0[m]
        k += 1


@njit(cache=True, fastmath=_CONTRACT)
def row_times_dense(x_row: Any, cols: Any, k0: int, k1: int, w: Any, out: Any) -> None:
    """gather_rows_axpy(w, cols, values, ...) with the values read from x's dense row:
    values[k] is x_row[cols[k]].
    x_row (D,); the same products and sums in the same order, so the same bits."""
    M = out.shape[0]
    k = k0
    while k + 4 <= k1:
        d0, d1, d2, d3 = cols[k], cols[k + 1], cols[k + 2], cols[k + 3]
        r0, r1, r2, r3 = w[d0], w[d1], w[d2], w[d3]
        s0, s1, s2, s3 = x_row[d0], x_row[d1], x_row[d2], x_row[d3]
        for m in range(M):
            out[m] += (s0 * r0[m] + s1 * r1[m]) + (s2 * r2[m] + s3 * r3[m])
        k += 4
    while k < k1:
        d0 = cols[k]
        r0, s0 = w[d0], x_row[d0]
        for m in range(M):
            out[m] += s0 * r0[m]
        k += 1


@njit(cache=True)
def forward(
    x: Any, indptr: Any, indices: Any, values: Any, has_values: bool, batch_rows: Any, w: Any, b: Any, z: Any
) -> None:
    """z[i, :] = b + x[batch_rows[i], :] @ w for i < len(batch_rows), over x's non-zeros.

    x (N, D) with its CSR indptr / indices / values (values read only when has_values, x only
    when not); batch_rows (n,) rows of x; w (D, M); b (M,) or None; z (>= n, M).

    While row i is computed, the values and column numbers of row i + 1 are prefetched
    (``_prefetch``): the rows are visited in a random order, so their loads miss the cache.
    """
    n = batch_rows.shape[0]
    for i in range(n):
        row = batch_rows[i]
        if i + 1 < n:
            following = batch_rows[i + 1]
            k0, k1 = indptr[following], indptr[following + 1]
            if has_values:
                for k in range(k0, k1, _VALUES_PER_HINT):
                    prefetch(values, k)
                for k in range(k0, k1, _INDICES_PER_HINT):
                    prefetch(indices, k)
            else:
                x_following = x[following]
                for k in range(k0, k1, _X_HINT_STRIDE):
                    prefetch(x_following, indices[k])
        if b is None:
            z[i, :] = 0
        else:
            z[i, :] = b
        if has_values:
            # one row of x @ w over the row's non-zeros: w's rows scaled by the values
            gather_rows_axpy(w, indices, values, indptr[row], indptr[row + 1], z[i])
        else:
            row_times_dense(x[row], indices, indptr[row], indptr[row + 1], w, z[i])


@njit(cache=True)
def batch_bits(
    x: Any,
    indptr: Any,
    indices: Any,
    values: Any,
    has_values: bool,
    batch_rows: Any,
    mask: Any,
    cursor: Any,
    copied: Any,
) -> Any:
    """Mark the batch's non-zeros by column, one bit per batch row, and return where their values
    are read from (for ``column_gradient``).

    Afterwards bit i % 64 of mask[d, i // 64] is set where batch row i has a non-zero in column d,
    and the value of row i's next non-zero (in increasing column) is source[cursor[i]]: source is
    values itself when has_values (cursor[i] = indptr[batch_rows[i]]), else ``copied``, which gets
    the row's values read from x, row after row.
    mask (D, ceil(n / 64)) uint64, cursor (n,) int64, copied (>= the batch's non-zero count,).
    """
    mask[:] = 0
    filled = 0
    for i in range(batch_rows.shape[0]):
        row = batch_rows[i]
        word = i >> 6
        bit = np.uint64(1) << np.uint64(i & 63)
        k0, k1 = indptr[row], indptr[row + 1]
        for k in range(k0, k1):
            mask[indices[k], word] |= bit
        if has_values:
            cursor[i] = k0
        else:
            cursor[i] = filled
            for k in range(k0, k1):
                copied[filled] = x[row, indices[k]]
                filled += 1
    return values if has_values else copied


@njit(cache=True, fastmath=_CONTRACT)
def column_gradient(mask: Any, d: int, cursor: Any, source: Any, dz: Any, dw_row: Any) -> int:
    """dw_row = sum over the batch rows i marked in column d of source[cursor[i]] * dz[i, :], each
    such cursor[i] advanced by one; returns the number of rows.  mask, cursor and source from
    ``batch_bits``; dz (n, M); dw_row (M,).

    Block by block of 64 batch rows (one word of bits), in increasing i, the rows of a block four
    a pass with gather_rows_axpy's expression and its last one to three one at a time: the same
    sums, to the bit, as gather_rows_axpy over each block's rows in turn (for n <= 64: over the
    column's rows, as a list sorted by column would give them). The bits are walked in place;
    the branches for one to three rows left are written out, each with its own rows, because a
    general walker (a helper returning the next row) cost this loop a quarter more, and one shared
    tail (rows 1 and 2 standing in for each other until found) doubled the numba epoch.
    """
    M = dw_row.shape[0]
    dw_row[:] = 0
    count = 0
    one = np.uint64(1)
    for word in range(mask.shape[1]):
        bits = mask[d, word]
        base = word * 64
        while bits != 0:
            i0 = base + trailing_zeros(bits)
            bits &= bits - one
            r0, s0 = dz[i0], source[cursor[i0]]
            cursor[i0] += 1
            if bits == 0:
                for m in range(M):
                    dw_row[m] += s0 * r0[m]
                count += 1
                break
            i1 = base + trailing_zeros(bits)
            bits &= bits - one
            r1, s1 = dz[i1], source[cursor[i1]]
            cursor[i1] += 1
            if bits == 0:
                for m in range(M):
                    dw_row[m] += s0 * r0[m]
                for m in range(M):
                    dw_row[m] += s1 * r1[m]
                count += 2
                break
            i2 = base + trailing_zeros(bits)
            bits &= bits - one
            r2, s2 = dz[i2], source[cursor[i2]]
            cursor[i2] += 1
            if bits == 0:
                for m in range(M):
                    dw_row[m] += s0 * r0[m]
                for m in range(M):
                    dw_row[m] += s1 * r1[m]
                for m in range(M):
                    dw_row[m] += s2 * r2[m]
                count += 3
                break
            i3 = base + trailing_zeros(bits)
            bits &= bits - one
            r3, s3 = dz[i3], source[cursor[i3]]
            cursor[i3] += 1
            for m in range(M):
                dw_row[m] += (s0 * r0[m] + s1 * r1[m]) + (s2 * r2[m] + s3 * r3[m])
            count += 4
    return count


@njit(cache=True)
def weight_update(
    mask: Any, cursor: Any, source: Any, dz: Any, w: Any, dw_rows: Any, first: Any, second: Any, step: Any
) -> None:
    """For every row d of w (D, M): dW[d] = x[:, d]^T dz from the batch's bits, then the step rule.

    A few rows at a time, so that dW is used while it is still in cache: dw_rows (>= M,) is the
    only buffer, and as many whole rows of dW as it holds (R) are formed, then stepped in one call
    over those R rows of w (contiguous, like their buffers). One call a row left the step's fixed
    cost (its loop's set-up and alias checks, for 128 numbers) to every row: the momentum update
    took about twice as long. Stepping R rows does each number's same operations, so the same bits.
    mask / cursor / source from ``batch_bits``; dz (n, M); first, second (like w) and step as
    ``_kernel_loops.apply_step`` takes them. A row with no non-zero in the batch has dW[d] = 0:
    plain SGD leaves it as it is (and skips it, a row at a time). The step rule stays outside
    ``column_gradient``'s contracted code: there LLVM would fuse the step's multiply-adds too, and
    its bits would leave the reference's.
    """
    rule, step_size, reg, momentum, use_first, _ = step
    D, M = w.shape
    if rule == _k.SGD and not use_first and reg == 0:  # plain SGD: rows without a gradient stay
        dw_row = dw_rows[:M]
        for d in range(D):
            if column_gradient(mask, d, cursor, source, dz, dw_row) != 0:
                _k.sgd_update(w[d], dw_row, step_size, reg, momentum, None)
        return
    rows = max(1, dw_rows.shape[0] // M)
    for d0 in range(0, D, rows):
        d1 = min(D, d0 + rows)
        for d in range(d0, d1):
            column_gradient(mask, d, cursor, source, dz, dw_rows[(d - d0) * M : (d - d0 + 1) * M])
        grad = dw_rows[: (d1 - d0) * M]
        _k.apply_step(w[d0:d1].reshape(-1), grad, first[d0:d1].reshape(-1), second[d0:d1].reshape(-1), step)
