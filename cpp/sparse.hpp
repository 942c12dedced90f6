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

// The non-zeros of x (rows, D) in compressed-row form, built once per dataset by the caller:
// row r holds values[k] at column indices[k] for k in [indptr[r], indptr[r+1]), columns ascending.
template <typename T>
struct SparseRows {
    const std::int64_t* indptr = nullptr;  // (rows + 1,)
    const std::int32_t* indices = nullptr; // (nnz,)
    const T* values = nullptr;             // (nnz,)
    const std::int64_t* column_nnz = nullptr;  // (D,) non-zeros per column, to balance threads
};

// out[0:M] = (init ? init[0:M] : 0) + sum_k val[k] * base[idx[k] * M + 0:M].
// The outputs stay in vector registers while the selected rows of base stream past: this is both
// the sparse forward (base = W (D, M), idx = a row's non-zero columns) and the sparse weight
// gradient (base = dz (N, M), idx = the batch rows with a non-zero in one input column).
template <typename T, typename Index>
void gather_rows_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                      T* out);

// The columns [d0, d1) of the batch rows x[order[0..n)], transposed (one concern of the sparse dW):
// for column d, entries [start[d - d0], start[d - d0 + 1]) of (row, value) name the batch rows with a
// non-zero in column d. Scratch vectors are reused across batches.
template <typename T>
struct BatchColumns {
    std::vector<std::int64_t> start;
    std::vector<std::int32_t> row;
    std::vector<T> value;
    Buffer<T> dw;  // one row of the weight gradient, filled and applied column by column

    T* dw_row(index_t M) {
        if (dw.size() < static_cast<std::size_t>(M)) dw.resize(static_cast<std::size_t>(M));
        return dw.data();
    }

    void build(const SparseRows<T>& x, const std::int64_t* order, index_t n, index_t d0, index_t d1);
};

}  // namespace fastmlp
