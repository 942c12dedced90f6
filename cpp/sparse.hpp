// Layer 1 over the non-zero inputs only: MNIST pixels are 81% zeros, so z = x W and dW = x^T dz
// touch 5x fewer numbers when x is walked as compressed rows (CSR) instead of as a dense matrix.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "kernels.hpp"

namespace fastmlp {

// Storage aligned to Eigen's packet size (see Workspace in epoch.cpp).
template <typename T>
using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;

// A column of x in the sparse index: 2 bytes per non-zero instead of 4 (MNIST: 14 MB instead of
// 29 MB for the training rows). The Python side uses the sparse path only for D <= 65,536.
using column_index = std::uint16_t;

// Where the non-zeros of x (rows, D) are, in compressed-row form, built once per dataset by the
// caller: row r has its non-zeros at columns indices[k] for k in [indptr[r], indptr[r+1]), ascending,
// with the values values[k]. The training epoch reads these compact values instead of x's dense
// rows: it was bound by streaming x (a row's 150 non-zeros sit in about 40 of its 49 cache lines).
// values may be null (the evaluation passes, to save their memory): the values are then read from
// x itself, the same numbers in the same order, so the same bits.
template <typename T>
struct SparseRows {
    const T* x = nullptr;  // (rows, D), row-major
    index_t D = 0;
    const std::int64_t* indptr = nullptr;      // (rows + 1,)
    const column_index* indices = nullptr;     // (nnz,)
    const T* values = nullptr;                 // (nnz,) or null: read x
    const std::int64_t* column_nnz = nullptr;  // (D,) non-zeros per column, to balance threads

    // the value of entry k, which lies in row r
    T value(std::int64_t r, std::int64_t k) const {
        return values != nullptr ? values[k] : x[r * D + indices[k]];
    }
};

// Building SparseRows from a dense x (N, D), row-major, in two passes (fastmlp.backends._sparse
// .sparse_rows). count_nonzeros: indptr (N + 1,) the running count of non-zeros from indptr[0] = 0,
// column_nnz (D,) the non-zeros of each column. compress_rows: with that indptr, the columns
// indices (indptr[N],) of the non-zeros row by row, ascending, and their values (indptr[N],) unless
// values is null. A non-zero is x != 0, as NumPy counts it (NaN counts, -0.0 does not). Compiled, the
// scan of MNIST's training rows is about a tenth of the NumPy one it replaced (a mask, counts and
// np.nonzero per chunk): for a short fit it was a large share of the time. count_nonzeros also
// returns whether every value of x is finite (no NaN, no infinity): the estimators' input check
// reads it from this pass instead of reading all of x once more (fastmlp.sklearn).
template <typename T>
bool count_nonzeros(const T* x, index_t N, index_t D, std::int64_t* indptr, std::int64_t* column_nnz);

// column_nnz (D,) = how many of indices (nnz,) are each column; false (column_nnz then undefined,
// nothing written past it) if one is >= D. Four interleaved counts, so that a run of one column
// does not wait on its own increments: 3x faster than numpy.bincount on MNIST's 7.2M entries.
bool count_columns(const column_index* indices, index_t nnz, index_t D, std::int64_t* column_nnz);

template <typename T>
void compress_rows(const T* x, index_t N, index_t D, const std::int64_t* indptr, column_index* indices,
                   T* values);

// out[0:M] = (init ? init[0:M] : 0) + sum_k val[k] * base[idx[k] * M + 0:M].
// The outputs stay in vector registers while the selected rows of base stream past. This is the
// sparse weight gradient (base = dz (N, M), idx = the batch rows with a non-zero in one input
// column, val = those inputs).
template <typename T, typename Index>
void gather_rows_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                      T* out);

// out[0:M] = (init ? init[0:M] : 0) + sum_k values[k] * w[idx[k] * M + 0:M]: one row of the
// sparse forward x W, over the row's non-zeros only (count of them: columns idx, values values).
// w (D, M).
template <typename T, typename Index>
void sparse_row_times(const T* values, const Index* idx, index_t count, const T* w, index_t M, const T* init,
                      T* out);

// The same sum with the values read from x's dense row: sum_k x_row[idx[k]] * w[idx[k] * M + 0:M].
template <typename T, typename Index>
void sparse_row_times_dense(const T* x_row, const Index* idx, index_t count, const T* w, index_t M, const T* init,
                            T* out);

// Rows 0..n-1 of the sparse product: out[i * M + 0:M] = (init ? init : 0) + x[rows[i]] W over that
// row's non-zeros (its values, or x's dense row when x.values is null), each row the same sum as
// sparse_row_times / sparse_row_times_dense (the same bits), several rows side by side (faster:
// their loads of W overlap).
template <typename T>
void sparse_rows_times(const SparseRows<T>& x, const std::int64_t* rows, index_t n, const T* w, index_t M,
                       const T* init, T* out);

// The columns [d0, d1) of the batch rows x[order[0..n)], transposed (one concern of the sparse dW).
// build() sets one bit per non-zero: bit i of column d's words says batch row i has a non-zero in
// column d (an OR into a few KB per batch, in place of a counting sort that scatters every entry).
// column(d) then lists that column's batch rows, ascending, and their inputs. Scratch vectors
// are reused across batches.
template <typename T>
struct BatchColumns {
    index_t first = 0;                          // d0
    index_t words = 0;                          // 64-bit words per column: ceil(n / 64)
    std::vector<std::uint64_t> mask;            // ((d1 - d0) * words,)
    std::vector<std::int32_t> row;              // column(d)'s batch rows
    std::vector<T> value;                       // and x at those rows, column d
    std::vector<std::int64_t> cursor;           // per batch row: the position in x.indices of its next entry
    const std::int64_t* batch_order = nullptr;  // the batch's rows of x, from build()
    Buffer<T> dw;  // one row of the weight gradient, filled and applied column by column

    T* dw_row(index_t M) {
        if (dw.size() < static_cast<std::size_t>(M)) dw.resize(static_cast<std::size_t>(M));
        return dw.data();
    }

    void build(const SparseRows<T>& x, const std::int64_t* order, index_t n, index_t d0, index_t d1);

    // Fills row[0..count) and value[0..count) for column d; returns count. Called once for every
    // d = d0, d0 + 1, ..., d1 - 1 in turn after build(): each batch row's cursor then steps through
    // its values in order.
    index_t column(const SparseRows<T>& x, index_t d);

    // out[0:M] = sum over column d's batch rows i (ascending) of x * dz[i * M + 0:M], the sum
    // gather_rows_axpy makes of column(x, d)'s lists (the same bits; zeros for an empty column),
    // without the lists when M is one block of the widest vectors. Returns the column's rows.
    // Called for d = d0, d0 + 1, ... in turn, as column().
    index_t gradient_row(const SparseRows<T>& x, index_t d, const T* dz, index_t M, T* out);
};

}  // namespace fastmlp
