// Sparse layer-1 kernels. Compiled with FMA contraction on (CMakeLists.txt): the sums run in a
// different order from the dense GEMM anyway, so they match it to float tolerance, not bit for bit.
#include "sparse.hpp"

#include <algorithm>
#include <cstring>

namespace fastmlp {
namespace {

// 32-byte vectors (one AVX register; two SSE registers on a portable build) of T.
template <typename T>
struct Vec {
    typedef T type __attribute__((vector_size(32)));
    static constexpr index_t lanes = 32 / sizeof(T);
};

template <typename T>
inline typename Vec<T>::type load(const T* p) {
    typename Vec<T>::type v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename T>
inline void store(T* p, typename Vec<T>::type v) {
    std::memcpy(p, &v, sizeof v);
}

// One block of Blocks vectors of outputs, accumulated in registers over all `count` selected rows.
// Eight accumulators leave registers for the broadcast value and the loads on AVX2's sixteen.
// The scale of selected row k is val[idx[k]] when Indexed (a dense row of x), else val[k].
template <typename T, int Blocks, bool Indexed, typename Index>
inline void block_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                       T* out) {
    using V = typename Vec<T>::type;
    constexpr index_t L = Vec<T>::lanes;
    V acc[Blocks];
    for (int j = 0; j < Blocks; ++j) acc[j] = init ? load(init + j * L) : V{};
    for (index_t k = 0; k < count; ++k) {
        const auto i = static_cast<index_t>(idx[k]);
        const T* row = base + i * M;
        const T v = Indexed ? val[i] : val[k];
        for (int j = 0; j < Blocks; ++j) acc[j] += v * load(row + j * L);
    }
    for (int j = 0; j < Blocks; ++j) store(out + j * L, acc[j]);
}

template <typename T, bool Indexed, typename Index>
void axpy_blocks(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init, T* out) {
    constexpr index_t L = Vec<T>::lanes;
    index_t m = 0;
    for (; m + 8 * L <= M; m += 8 * L) {
        block_axpy<T, 8, Indexed>(base + m, M, idx, val, count, init ? init + m : nullptr, out + m);
    }
    for (; m + L <= M; m += L) {
        block_axpy<T, 1, Indexed>(base + m, M, idx, val, count, init ? init + m : nullptr, out + m);
    }
    for (; m < M; ++m) {  // the last M % L outputs
        T acc = init ? init[m] : T(0);
        for (index_t k = 0; k < count; ++k) {
            const auto i = static_cast<index_t>(idx[k]);
            acc += (Indexed ? val[i] : val[k]) * base[i * M + m];
        }
        out[m] = acc;
    }
}

}  // namespace

template <typename T, typename Index>
void gather_rows_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                      T* out) {
    axpy_blocks<T, false>(base, M, idx, val, count, init, out);
}

template <typename T, typename Index>
void sparse_row_times(const T* x_row, const Index* idx, index_t count, const T* w, index_t M, const T* init,
                      T* out) {
    axpy_blocks<T, true>(w, M, idx, x_row, count, init, out);
}

template <typename T>
void BatchColumns<T>::build(const SparseRows<T>& x, const std::int64_t* order, index_t n, index_t d0,
                            index_t d1) {
    const index_t width = d1 - d0;
    start.assign(static_cast<std::size_t>(width + 1), 0);
    // Columns are ascending within a row, so each row's entries in [d0, d1) are one binary-searched run.
    auto run = [&](index_t i, const std::int32_t*& first, const std::int32_t*& last) {
        const std::int64_t r = order[i];
        const std::int32_t* begin = x.indices + x.indptr[r];
        const std::int32_t* end = x.indices + x.indptr[r + 1];
        first = std::lower_bound(begin, end, static_cast<std::int32_t>(d0));
        last = std::lower_bound(first, end, static_cast<std::int32_t>(d1));
    };
    for (index_t i = 0; i < n; ++i) {
        const std::int32_t *first, *last;
        run(i, first, last);
        for (const std::int32_t* p = first; p != last; ++p) ++start[static_cast<std::size_t>(*p - d0 + 1)];
    }
    for (index_t d = 0; d < width; ++d) start[static_cast<std::size_t>(d + 1)] += start[static_cast<std::size_t>(d)];
    const auto total = static_cast<std::size_t>(start[static_cast<std::size_t>(width)]);
    if (row.size() < total) {
        row.resize(total);
        value.resize(total);
    }
    std::vector<std::int64_t>& fill = start;  // advanced while filling, then shifted back below
    for (index_t i = 0; i < n; ++i) {
        const std::int32_t *first, *last;
        run(i, first, last);
        const T* x_row = x.row(order[i]);
        for (const std::int32_t* p = first; p != last; ++p) {
            const auto slot = static_cast<std::size_t>(fill[static_cast<std::size_t>(*p - d0)]++);
            row[slot] = static_cast<std::int32_t>(i);
            value[slot] = x_row[*p];
        }
    }
    // fill[d] now holds the end of column d, i.e. the start of column d + 1.
    for (index_t d = width; d > 0; --d) start[static_cast<std::size_t>(d)] = start[static_cast<std::size_t>(d - 1)];
    start[0] = 0;
}

template void gather_rows_axpy<float, std::int32_t>(const float*, index_t, const std::int32_t*, const float*,
                                                    index_t, const float*, float*);
template void gather_rows_axpy<double, std::int32_t>(const double*, index_t, const std::int32_t*,
                                                     const double*, index_t, const double*, double*);
template void sparse_row_times<float, std::int32_t>(const float*, const std::int32_t*, index_t, const float*,
                                                    index_t, const float*, float*);
template void sparse_row_times<double, std::int32_t>(const double*, const std::int32_t*, index_t, const double*,
                                                     index_t, const double*, double*);
template struct BatchColumns<float>;
template struct BatchColumns<double>;

}  // namespace fastmlp
