// Sparse layer-1 kernels. Compiled with FMA contraction on (CMakeLists.txt): the sums run in a
// different order from the dense GEMM anyway, so they match it to float tolerance, not bit for bit.
#include "sparse.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define FASTMLP_COMPRESS_AVX512 1
#endif

namespace fastmlp {
namespace {

// Vectors of Bytes bytes of T: 32 is one AVX register (two SSE registers on x86-64-v2), 64 one
// AVX-512 register.
template <typename T, int Bytes>
struct Vec {
    typedef T type __attribute__((vector_size(Bytes)));
    static constexpr index_t lanes = Bytes / sizeof(T);
};

// The widest vectors the build targets: 64 bytes on x86-64-v4 (AVX-512), else 32. With 64, a
// 128-wide float row is 8 registers, so one pass over a row's non-zeros computes all of it
// (with 32 bytes: two passes of 64 outputs, reading the indices and inputs twice). Each output
// element sums its terms in the same order whatever vector holds it, and the outputs left over
// after the wide blocks go through the 32-byte blocks and the scalar tail exactly as before, so
// the width changes the speed, not the bits. (-DFASTMLP_VECTOR_BYTES=32 forces the narrower
// one, for comparing the two.)
#if defined(FASTMLP_VECTOR_BYTES)
constexpr int wide_bytes = FASTMLP_VECTOR_BYTES;
#elif defined(__AVX512F__)
constexpr int wide_bytes = 64;
#else
constexpr int wide_bytes = 32;
#endif

// Sums side by side in axpy_rows: four with AVX-512's 32 vector registers, else two.
constexpr int group_rows = wide_bytes == 64 ? 4 : 2;

template <typename V>
inline V load(const void* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename V>
inline void store(void* p, V v) {
    std::memcpy(p, &v, sizeof v);
}

// One block of Blocks vectors of outputs, accumulated in registers over all `count` selected rows.
// Eight accumulators leave registers for the broadcast value and the loads (AVX2 has sixteen).
// Selected row k (base row idx[k]) is scaled by val[idx[k]] when Indexed (a dense row of x), else val[k].
template <typename T, int Bytes, int Blocks, bool Indexed, typename Index>
inline void block_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                       T* out) {
    using V = typename Vec<T, Bytes>::type;
    constexpr index_t L = Vec<T, Bytes>::lanes;
    V acc[Blocks];
    for (int j = 0; j < Blocks; ++j) acc[j] = init ? load<V>(init + j * L) : V{};
    for (index_t k = 0; k < count; ++k) {
        const auto i = static_cast<index_t>(idx[k]);
        const T* row = base + i * M;
        const T v = Indexed ? val[i] : val[k];
        for (int j = 0; j < Blocks; ++j) acc[j] += v * load<V>(row + j * L);
    }
    for (int j = 0; j < Blocks; ++j) store<V>(out + j * L, acc[j]);
}

// Outputs out[0:width] of rows of base with stride M (width <= M: the last columns of a block the
// side-by-side kernel leaves over start at base + m with width M - m).
template <typename T, bool Indexed, typename Index>
void axpy_blocks(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init, T* out,
                 index_t width) {
    constexpr index_t W = Vec<T, wide_bytes>::lanes, L = Vec<T, 32>::lanes;
    index_t m = 0;
    for (; m + 8 * W <= width; m += 8 * W) {
        block_axpy<T, wide_bytes, 8, Indexed>(base + m, M, idx, val, count, init ? init + m : nullptr, out + m);
    }
    for (; m + 8 * L <= width; m += 8 * L) {
        block_axpy<T, 32, 8, Indexed>(base + m, M, idx, val, count, init ? init + m : nullptr, out + m);
    }
    for (; m + L <= width; m += L) {
        block_axpy<T, 32, 1, Indexed>(base + m, M, idx, val, count, init ? init + m : nullptr, out + m);
    }
    for (; m < width; ++m) {  // the last width % L outputs
        T acc = init ? init[m] : T(0);
        for (index_t k = 0; k < count; ++k) {
            const auto i = static_cast<index_t>(idx[k]);
            acc += (Indexed ? val[i] : val[k]) * base[i * M + m];
        }
        out[m] = acc;
    }
}

template <typename T, bool Indexed, typename Index>
void axpy_blocks(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init, T* out) {
    axpy_blocks<T, Indexed>(base, M, idx, val, count, init, out, M);
}

// Several independent sums at once: Rows outputs out[r][m..) = init + sum_k val_r * base[idx[r][k]]
// over the same block of Blocks vectors. One sum alone is, per accumulator, a chain of dependent
// multiply-adds whose loads (rows of W from L2 in the forward pass) wait on an index load; the
// chains of Rows sums side by side keep the load and FMA units busy (the sparse forward of an MNIST
// batch ran 2.5x faster four rows at a time than one). Each output element still sums its own
// terms in its own order with the same fused multiply-add: the bits of one sum at a time.
template <typename T, int Bytes, int Blocks, int Rows, bool Indexed, typename Index>
inline void rows_block_axpy(const T* base, index_t M, const Index* const* idx, const T* const* val,
                            const index_t* count, const T* init, T* const* out, index_t m) {
    using V = typename Vec<T, Bytes>::type;
    constexpr index_t L = Vec<T, Bytes>::lanes;
    V acc[Rows][Blocks];
    for (int r = 0; r < Rows; ++r) {
        for (int j = 0; j < Blocks; ++j) acc[r][j] = init ? load<V>(init + m + j * L) : V{};
    }
    index_t common = count[0];
    for (int r = 1; r < Rows; ++r) common = std::min(common, count[r]);
    for (index_t k = 0; k < common; ++k) {
        for (int r = 0; r < Rows; ++r) {
            const auto i = static_cast<index_t>(idx[r][k]);
            const T* row = base + i * M + m;
            const T v = Indexed ? val[r][i] : val[r][k];
            for (int j = 0; j < Blocks; ++j) acc[r][j] += v * load<V>(row + j * L);
        }
    }
    for (int r = 0; r < Rows; ++r) {
        for (index_t k = common; k < count[r]; ++k) {
            const auto i = static_cast<index_t>(idx[r][k]);
            const T* row = base + i * M + m;
            const T v = Indexed ? val[r][i] : val[r][k];
            for (int j = 0; j < Blocks; ++j) acc[r][j] += v * load<V>(row + j * L);
        }
        for (int j = 0; j < Blocks; ++j) store<V>(out[r] + m + j * L, acc[r][j]);
    }
}

// group_rows sums side by side (rows_block_axpy) in blocks of four of the widest vectors: 4 x 4
// accumulators of AVX-512's 32 registers, 2 x 4 of AVX2's 16. Outputs past the last whole block
// go through axpy_blocks one sum at a time.
template <typename T, bool Indexed, typename Index>
void axpy_rows(const T* base, index_t M, const Index* const* idx, const T* const* val, const index_t* count,
               const T* init, T* const* out) {
    constexpr int blocks = 4;
    constexpr index_t W = Vec<T, wide_bytes>::lanes;
    index_t m = 0;
    for (; m + blocks * W <= M; m += blocks * W) {
        rows_block_axpy<T, wide_bytes, blocks, group_rows, Indexed>(base, M, idx, val, count, init, out, m);
    }
    if (m == M) return;
    for (int r = 0; r < group_rows; ++r) {
        axpy_blocks<T, Indexed>(base + m, M, idx[r], val[r], count[r], init ? init + m : nullptr, out[r] + m,
                                M - m);
    }
}

template <typename T, bool Indexed>
void rows_times(const SparseRows<T>& x, const std::int64_t* rows, index_t n, const T* w, index_t M, const T* init,
                T* out) {
    const column_index* idx[group_rows];
    const T* val[group_rows];
    index_t count[group_rows];
    T* dest[group_rows];
    // The rows summed side by side in order of their non-zero counts: the sums of a group run
    // together only for the shortest one's terms, and the rest of each one alone (slower).
    std::vector<index_t> by_count(static_cast<std::size_t>(n));
    std::iota(by_count.begin(), by_count.end(), index_t{0});
    const auto terms = [&](index_t i) { return x.indptr[rows[i] + 1] - x.indptr[rows[i]]; };
    std::sort(by_count.begin(), by_count.end(), [&](index_t a, index_t b) { return terms(a) < terms(b); });
    index_t i = 0;
    for (; i + group_rows <= n; i += group_rows) {
        for (int r = 0; r < group_rows; ++r) {
            const index_t j = by_count[static_cast<std::size_t>(i + r)];
            const std::int64_t row = rows[j], k = x.indptr[row];
            idx[r] = x.indices + k;
            val[r] = Indexed ? x.x + row * x.D : x.values + k;
            count[r] = terms(j);
            dest[r] = out + j * M;
        }
        axpy_rows<T, Indexed>(w, M, idx, val, count, init, dest);
    }
    for (; i < n; ++i) {
        const index_t j = by_count[static_cast<std::size_t>(i)];
        const std::int64_t row = rows[j], k = x.indptr[row];
        axpy_blocks<T, Indexed>(w, M, x.indices + k, Indexed ? x.x + row * x.D : x.values + k, terms(j), init,
                                out + j * M);
    }
}

}  // namespace

template <typename T>
void sparse_rows_times(const SparseRows<T>& x, const std::int64_t* rows, index_t n, const T* w, index_t M,
                       const T* init, T* out) {
    if (x.values != nullptr) {
        rows_times<T, false>(x, rows, n, w, M, init, out);
    } else {
        rows_times<T, true>(x, rows, n, w, M, init, out);
    }
}

template <typename T, typename Index>
void gather_rows_axpy(const T* base, index_t M, const Index* idx, const T* val, index_t count, const T* init,
                      T* out) {
    axpy_blocks<T, false>(base, M, idx, val, count, init, out);
}

template <typename T, typename Index>
void sparse_row_times(const T* values, const Index* idx, index_t count, const T* w, index_t M, const T* init,
                      T* out) {
    axpy_blocks<T, false>(w, M, idx, values, count, init, out);
}

template <typename T, typename Index>
void sparse_row_times_dense(const T* x_row, const Index* idx, index_t count, const T* w, index_t M, const T* init,
                            T* out) {
    axpy_blocks<T, true>(w, M, idx, x_row, count, init, out);
}

template <typename T>
void BatchColumns<T>::build(const SparseRows<T>& x, const std::int64_t* order, index_t n, index_t d0,
                            index_t d1) {
    first = d0;
    words = (n + 63) / 64;
    mask.assign(static_cast<std::size_t>((d1 - d0) * words), 0);
    row.resize(static_cast<std::size_t>(n));
    value.resize(static_cast<std::size_t>(n));
    cursor.resize(static_cast<std::size_t>(n));
    batch_order = order;
    if (d1 <= d0) return;  // this thread owns no column
    for (index_t i = 0; i < n; ++i) {
        // Columns are ascending within a row, so its entries in [d0, d1) are one binary-searched run.
        const std::int64_t r = order[i];
        const column_index* end = x.indices + x.indptr[r + 1];
        const column_index* p =
            std::lower_bound(x.indices + x.indptr[r], end, d0, [](column_index c, index_t d) { return c < d; });
        cursor[static_cast<std::size_t>(i)] = p - x.indices;  // its first value in [d0, d1)
        const std::uint64_t bit = std::uint64_t{1} << static_cast<unsigned>(i % 64);
        std::uint64_t* words_of_i = mask.data() + i / 64;
        for (; p != end && *p < d1; ++p) words_of_i[(*p - d0) * words] |= bit;
    }
}

template <typename T>
index_t BatchColumns<T>::column(const SparseRows<T>& x, index_t d) {
    const std::uint64_t* bits_of_d = mask.data() + (d - first) * words;
    index_t count = 0;
    for (index_t w = 0; w < words; ++w) {
        for (std::uint64_t bits = bits_of_d[w]; bits != 0; bits &= bits - 1) {
            const index_t i = w * 64 + __builtin_ctzll(bits);  // rows ascending: the sum's order
            row[static_cast<std::size_t>(count)] = static_cast<std::int32_t>(i);
            // each row's entries come up in column order, so its cursor walks its values in turn
            value[static_cast<std::size_t>(count)] =
                x.value(batch_order[i], cursor[static_cast<std::size_t>(i)]++);
            ++count;
        }
    }
    return count;
}

template <typename T>
index_t BatchColumns<T>::gradient_row(const SparseRows<T>& x, index_t d, const T* dz, index_t M, T* out) {
    using V = typename Vec<T, wide_bytes>::type;
    constexpr index_t L = Vec<T, wide_bytes>::lanes;
    if (M != 8 * L) {  // any other width: list the column, then the blocked sum
        const index_t count = column(x, d);
        axpy_blocks<T, false>(dz, M, row.data(), value.data(), count, static_cast<const T*>(nullptr), out);
        return count;
    }
    // One block of 8 vectors: the sum taken while the column's bits are walked, with no list in between.
    V acc[8] = {};
    const std::uint64_t* bits_of_d = mask.data() + (d - first) * words;
    index_t count = 0;
    for (index_t w = 0; w < words; ++w) {
        for (std::uint64_t bits = bits_of_d[w]; bits != 0; bits &= bits - 1) {
            const index_t i = w * 64 + __builtin_ctzll(bits);  // rows ascending: the sum's order
            const T v = x.value(batch_order[i], cursor[static_cast<std::size_t>(i)]++);
            const T* source = dz + i * M;
            for (int j = 0; j < 8; ++j) acc[j] += v * load<V>(source + j * L);
            ++count;
        }
    }
    for (int j = 0; j < 8; ++j) store<V>(out + j * L, acc[j]);
    return count;
}

template <typename T>
bool count_nonzeros(const T* x, index_t N, index_t D, std::int64_t* indptr, std::int64_t* column_nnz) {
    std::fill(column_nnz, column_nnz + D, std::int64_t{0});
    indptr[0] = 0;
    std::int64_t nonfinite = 0;
    for (index_t n = 0; n < N; ++n) {
        const T* row = x + n * D;
        std::int64_t count = 0;
        for (index_t d = 0; d < D; ++d) {
            const std::int64_t nonzero = row[d] != T(0) ? 1 : 0;  // branch-free: the loop vectorises
            count += nonzero;
            column_nnz[d] += nonzero;
            nonfinite += row[d] - row[d] == T(0) ? 0 : 1;  // inf - inf and NaN - NaN are NaN
        }
        indptr[n + 1] = indptr[n] + count;
    }
    return nonfinite == 0;
}

namespace {

// One row's non-zeros (x != 0, NaN included) from position k of indices / values (values may be
// null), at most `room` of them; returns how many were written.
// (row holds columns first, first + 1, ..., first + D - 1 of x's row.)
template <typename T>
std::int64_t compress_row_scalar(const T* row, index_t D, index_t first, column_index* indices, T* values,
                                 std::int64_t room) {
    std::int64_t k = 0;
    // 64 columns at a time: their non-zeros as the bits of one word (a branch-free loop the compiler
    // vectorises into compares), then one step per set bit. A branch per pixel, mispredicted on
    // MNIST's edges, and a branch-free write of every pixel at k were 4x and 3x slower.
    for (index_t d0 = 0; d0 < D && k < room; d0 += 64) {
        const index_t width = std::min<index_t>(64, D - d0);
        std::uint64_t bits = 0;
        for (index_t j = 0; j < width; ++j) {
            bits |= static_cast<std::uint64_t>(row[d0 + j] != T(0)) << static_cast<unsigned>(j);
        }
        for (; bits != 0 && k < room; bits &= bits - 1, ++k) {
            const index_t d = d0 + __builtin_ctzll(bits);
            indices[k] = static_cast<column_index>(first + d);
            if (values != nullptr) values[k] = row[d];
        }
    }
    return k;
}

#if defined(FASTMLP_COMPRESS_AVX512)
// What compress_row_avx512 does with one vector of T (16 floats or 8 doubles) and a mask of as
// many lanes; the column numbers go out packed to 16 bits.
template <typename T>
struct CompressLanes {
    static constexpr bool single = sizeof(T) == 4;
    using Vector = std::conditional_t<single, __m512, __m512d>;
    using Mask = std::conditional_t<single, __mmask16, __mmask8>;
    static constexpr index_t lanes = 64 / sizeof(T);

    static Vector load(const T* p) {
        if constexpr (single)
            return _mm512_loadu_ps(p);
        else
            return _mm512_loadu_pd(p);
    }
    static Vector load(Mask k, const T* p) {
        if constexpr (single)
            return _mm512_maskz_loadu_ps(k, p);
        else
            return _mm512_maskz_loadu_pd(k, p);
    }
    static Mask nonzero(Mask k, Vector v) {
        if constexpr (single)
            return _mm512_mask_cmp_ps_mask(k, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        else
            return _mm512_mask_cmp_pd_mask(k, v, _mm512_setzero_pd(), _CMP_NEQ_UQ);
    }
    // the first popcount(found) of p = the lanes of v that found selects, in order
    static void store(T* p, Mask first, Mask found, Vector v) {
        if constexpr (single)
            _mm512_mask_storeu_ps(p, first, _mm512_maskz_compress_ps(found, v));
        else
            _mm512_mask_storeu_pd(p, first, _mm512_maskz_compress_pd(found, v));
    }
    // the same for the column numbers d0, d0 + 1, ... of the lanes
    static void store_columns(column_index* p, Mask first, Mask found, index_t d0) {
        const auto d = static_cast<int>(d0);
        if constexpr (single) {
            const __m512i column = _mm512_add_epi32(
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(d));
            _mm256_mask_storeu_epi16(p, first, _mm512_cvtepi32_epi16(_mm512_maskz_compress_epi32(found, column)));
        } else {
            const __m256i column =
                _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(d));
            _mm_mask_storeu_epi16(p, first, _mm256_cvtepi32_epi16(_mm256_maskz_compress_epi32(found, column)));
        }
    }
};

// The same row with AVX-512's compress: per vector of columns, the mask of non-zeros (NEQ_UQ: NaN
// counts, as x != 0 does), the values and the column numbers it selects packed to the front of a
// register, and a masked store of exactly that many of each (a store never writes past k + count,
// so `room` bounds the writes as above). The arrays written are the same; on MNIST's 48,000
// training rows (150 non-zeros a row, whose one step each dominated the walk) 8.1 ms instead of
// 21 in float32, 15.6 instead of 45 in float64 (Zen 5).
template <typename T>
std::int64_t compress_row_avx512(const T* row, index_t D, column_index* indices, T* values, std::int64_t room) {
    using Lanes = CompressLanes<T>;
    using Mask = typename Lanes::Mask;
    constexpr index_t L = Lanes::lanes;
    std::int64_t k = 0;
    for (index_t d0 = 0; d0 < D; d0 += L) {
        // an unmasked load where the vector lies in the row: a masked one waits for the masked
        // stores before it (3x slower on Zen 5)
        const bool whole = D - d0 >= L;
        const auto in_row = static_cast<Mask>(whole ? ~0U : (1U << static_cast<unsigned>(D - d0)) - 1U);
        const typename Lanes::Vector v = whole ? Lanes::load(row + d0) : Lanes::load(in_row, row + d0);
        const Mask found = Lanes::nonzero(in_row, v);
        const auto count = static_cast<std::int64_t>(__builtin_popcount(found));
        if (k + count > room) {
            return k + compress_row_scalar(row + d0, D - d0, d0, indices + k, values ? values + k : nullptr,
                                           room - k);
        }
        const auto first = static_cast<Mask>((1U << static_cast<unsigned>(count)) - 1U);
        Lanes::store_columns(indices + k, first, found, d0);
        if (values != nullptr) Lanes::store(values + k, first, found, v);
        k += count;
    }
    return k;
}
#endif

template <typename T>
std::int64_t compress_row(const T* row, index_t D, column_index* indices, T* values, std::int64_t room) {
#if defined(FASTMLP_COMPRESS_AVX512)
    return compress_row_avx512(row, D, indices, values, room);
#else
    return compress_row_scalar(row, D, 0, indices, values, room);
#endif
}

}  // namespace

template <typename T>
void compress_rows(const T* x, index_t N, index_t D, const std::int64_t* indptr, column_index* indices,
                   T* values) {
    for (index_t n = 0; n < N; ++n) {
        const std::int64_t k = indptr[n];
        // indptr from count_nonzeros: exactly the row's non-zeros
        compress_row(x + n * D, D, indices + k, values != nullptr ? values + k : nullptr, indptr[n + 1] - k);
    }
}

bool count_columns(const column_index* indices, index_t nnz, index_t D, std::int64_t* column_nnz) {
    constexpr index_t ways = 4;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(D * ways), 0);
    bool inside = true;
    index_t k = 0;
    for (; k + ways <= nnz; k += ways) {
        for (index_t j = 0; j < ways; ++j) {
            const index_t c = indices[k + j];
            inside = inside && c < D;
            counts[static_cast<std::size_t>((c < D ? c : 0) * ways + j)] += 1;
        }
    }
    for (; k < nnz; ++k) {
        const index_t c = indices[k];
        inside = inside && c < D;
        counts[static_cast<std::size_t>((c < D ? c : 0) * ways)] += 1;
    }
    for (index_t d = 0; d < D; ++d) {
        std::int64_t total = 0;
        for (index_t j = 0; j < ways; ++j) total += counts[static_cast<std::size_t>(d * ways + j)];
        column_nnz[d] = total;
    }
    return inside;
}

template bool count_nonzeros<float>(const float*, index_t, index_t, std::int64_t*, std::int64_t*);
template bool count_nonzeros<double>(const double*, index_t, index_t, std::int64_t*, std::int64_t*);
template void compress_rows<float>(const float*, index_t, index_t, const std::int64_t*, column_index*, float*);
template void compress_rows<double>(const double*, index_t, index_t, const std::int64_t*, column_index*, double*);
template void gather_rows_axpy<float, std::int32_t>(const float*, index_t, const std::int32_t*, const float*,
                                                    index_t, const float*, float*);
template void gather_rows_axpy<double, std::int32_t>(const double*, index_t, const std::int32_t*, const double*,
                                                     index_t, const double*, double*);
template void sparse_row_times<float, column_index>(const float*, const column_index*, index_t, const float*,
                                                    index_t, const float*, float*);
template void sparse_row_times<double, column_index>(const double*, const column_index*, index_t, const double*,
                                                     index_t, const double*, double*);
template void sparse_row_times_dense<float, column_index>(const float*, const column_index*, index_t,
                                                          const float*, index_t, const float*, float*);
template void sparse_row_times_dense<double, column_index>(const double*, const column_index*, index_t,
                                                           const double*, index_t, const double*, double*);
template void sparse_rows_times<float>(const SparseRows<float>&, const std::int64_t*, index_t, const float*,
                                       index_t, const float*, float*);
template void sparse_rows_times<double>(const SparseRows<double>&, const std::int64_t*, index_t, const double*,
                                        index_t, const double*, double*);
template struct BatchColumns<float>;
template struct BatchColumns<double>;

}  // namespace fastmlp
