// See gemm.hpp. Where the build has AVX-512 (x86-64-v4, -march=native on such a CPU) or AVX2 + FMA
// (x86-64-v3), the GEMMs are fastmlp's own: packed panels and a register-tiled micro-kernel
// (BLIS's loop nest). Elsewhere (x86-64-v2, non-x86) they are Eigen's GEMM, as before.
//
// Why our own: on these shapes (batch 32-256 x fan_in 784-1024 x fan_out 10-1024) Eigen 3.4 reached
// 55-70% of a tuned AVX-512 SGEMM (docs/performance.md, round 3).
//
// Operation order (what makes results independent of the thread count and of blocking): every
// element c(i, j) is one chain c = fma(a(i, k), b(k, j), c) for k = 0, 1, ..., K - 1 from c = 0, in
// one vector lane, whatever tile, panel or row block it falls in. The k blocks store the partial
// sums in c and reload them, which is exact. So the rows the native epoch gives each thread, the
// tails padded with zeros, and the AVX2 and AVX-512 kernels all give the same bits.
#include "gemm.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "runtime.hpp"
#include "transpose.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define FASTMLP_OWN_GEMM 1
#include <immintrin.h>
#endif

#ifdef FASTMLP_BLAS
extern "C" {
// scipy-openblas32's CBLAS (symbols prefixed scipy_); 101 = row-major, 111 / 112 = no / transpose.
void scipy_cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                       int lda, const float* b, int ldb, float beta, float* c, int ldc);
void scipy_openblas_set_num_threads(int n);
}
#endif

namespace fastmlp {
namespace {

#ifdef FASTMLP_OWN_GEMM

// ---- The vector operations the micro-kernel needs, per ISA; overloaded on float / double. ----
template <typename T>
struct VecOf;
#ifdef __AVX512F__
template <>
struct VecOf<float> {
    using type = __m512;
};
template <>
struct VecOf<double> {
    using type = __m512d;
};
constexpr int kVectorBytes = 64;
// 24 of the 32 registers accumulate (8 rows x 3 vectors, 12 x 2 or 24 x 1), the rest hold B's row;
// the broadcasts of A come from memory.
constexpr int kAccumulators = 24, kMaxVectors = 3;
inline __m512 zero_vec(float /*tag*/) { return _mm512_setzero_ps(); }
inline __m512d zero_vec(double /*tag*/) { return _mm512_setzero_pd(); }
inline __m512 load_vec(const float* p) { return _mm512_loadu_ps(p); }
inline __m512d load_vec(const double* p) { return _mm512_loadu_pd(p); }
inline void store_vec(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
inline void store_vec(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
inline __m512 broadcast_vec(const float* p) { return _mm512_set1_ps(*p); }
inline __m512d broadcast_vec(const double* p) { return _mm512_set1_pd(*p); }
inline __m512 fma_vec(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fma_vec(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
#else
template <>
struct VecOf<float> {
    using type = __m256;
};
template <>
struct VecOf<double> {
    using type = __m256d;
};
constexpr int kVectorBytes = 32;
// 12 of the 16 registers accumulate (6 rows x 2 vectors or 12 x 1), 2 hold B's row, 1 the broadcast.
constexpr int kAccumulators = 12, kMaxVectors = 2;
inline __m256 zero_vec(float /*tag*/) { return _mm256_setzero_ps(); }
inline __m256d zero_vec(double /*tag*/) { return _mm256_setzero_pd(); }
inline __m256 load_vec(const float* p) { return _mm256_loadu_ps(p); }
inline __m256d load_vec(const double* p) { return _mm256_loadu_pd(p); }
inline void store_vec(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store_vec(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
inline __m256 broadcast_vec(const float* p) { return _mm256_broadcast_ss(p); }
inline __m256d broadcast_vec(const double* p) { return _mm256_broadcast_sd(p); }
inline __m256 fma_vec(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fma_vec(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
#endif
template <typename T>
using Vec = typename VecOf<T>::type;

// The register tile (MR rows x NV vectors of C) and the k block, per element type. NV is chosen by
// C's width (a 10-wide output layer gets 1 vector and 3x the rows). KC * sizeof(T) = 1 KiB: an A
// panel (MR x KC) stays in L1 while the packed B panel (KC x NC, <= 1 MiB) streams from L2.
template <typename T, int NV>
struct Tile {
    static constexpr int lanes = kVectorBytes / static_cast<int>(sizeof(T));
    static constexpr int MR = kAccumulators / NV;
    static constexpr int NR = NV * lanes;
    static constexpr index_t KC = 1024 / static_cast<index_t>(sizeof(T));
    static constexpr index_t NC = (index_t{1048576} / (KC * static_cast<index_t>(sizeof(T))) / NR) * NR;
};

// C tile (MR x NR, rows ldc apart) = (accumulate ? C : 0) + A panel * B micro-panel, over kc steps.
// A(r, k) = a[r ars + k acs] (the caller's rows or a packed tail panel); B: NR values per k, packed.
template <typename T, int NV>
inline void micro_kernel(index_t kc, const T* __restrict a, index_t ars, index_t acs, const T* __restrict b,
                         T* __restrict c, index_t ldc, bool accumulate) {
    constexpr int MR = Tile<T, NV>::MR, NR = Tile<T, NV>::NR, L = Tile<T, NV>::lanes;
    Vec<T> acc[MR][NV];
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? load_vec(c + r * ldc + v * L) : zero_vec(T());
    for (index_t k = 0; k < kc; ++k) {
        Vec<T> row[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) row[v] = load_vec(b + k * NR + v * L);
        const T* ak = a + k * acs;
#pragma GCC unroll 24
        for (int r = 0; r < MR; ++r) {
            const Vec<T> ar = broadcast_vec(ak + r * ars);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = fma_vec(ar, row[v], acc[r][v]);
        }
    }
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) store_vec(c + r * ldc + v * L, acc[r][v]);
}

// An A panel (rows <= MR of A(i, k) = a[i rs + k cs], kc columns) into a zero-padded copy, element
// (r, k) at k MR + r: for the last, short panel (so the kernel never reads past A) and for panels
// whose k steps are rows of a wider matrix apart (dW's x^T: the kc rows would share one L1 set).
template <typename T, int MR>
void pack_a(const T* a, index_t rs, index_t cs, index_t rows, index_t kc, T* dst) {
    if (rows < MR) std::fill(dst, dst + kc * MR, T(0));
    if (rs == 1) {
        for (index_t k = 0; k < kc; ++k) std::copy(a + k * cs, a + k * cs + rows, dst + k * MR);
    } else {
        for (index_t r = 0; r < rows; ++r)
            for (index_t k = 0; k < kc; ++k) dst[k * MR + r] = a[r * rs + k * cs];
    }
}

// The side of the square blocks transpose_square transposes in registers (0: none for T here).
template <typename T>
constexpr int kSquare = 0;
#ifdef __AVX512F__
template <>
constexpr int kSquare<float> = 16;

// dst row r = column r of the 16 x 16 block src (rows ld apart; dst rows dld apart).
inline void transpose_square(const float* src, index_t ld, float* dst, index_t dld) {
    __m512 r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld);
    store_transposed_16x16(r, dst, dld);
}
#endif
template <typename T>
inline void transpose_square(const T* /*src*/, index_t /*ld*/, T* /*dst*/, index_t /*dld*/) {}

// A panel (kc x nc) of B(k, j) = b[k * rs + j * cs] into NR-column micro-panels: micro-panel q holds
// columns [q NR, q NR + NR), element (k, c) at k NR + c; columns past nc are zero.
template <typename T, int NR>
void pack_b(const T* b, index_t rs, index_t cs, index_t kc, index_t nc, T* dst) {
    for (index_t j0 = 0; j0 < nc; j0 += NR, dst += kc * NR) {
        const index_t cols = std::min<index_t>(NR, nc - j0);
        if (cols < NR) std::fill(dst, dst + kc * NR, T(0));
        if (cs == 1) {  // B's rows are contiguous (the forward's W, dW's dout)
            for (index_t k = 0; k < kc; ++k) std::copy(b + k * rs + j0, b + k * rs + j0 + cols, dst + k * NR);
        } else {  // B's columns are contiguous (dX's W^T): transpose NR rows of W into the micro-panel,
            // in square blocks in registers where there is a transpose for T, the rest element by
            // element, 32 k at a time so the micro-panel's lines being written stay in L1
            index_t k_done = 0;
            if constexpr (kSquare<T> > 0) {
                if (cols == NR && rs == 1) {
                    constexpr int S = kSquare<T>;
                    for (; k_done + S <= kc; k_done += S)
                        for (int v = 0; v < NR; v += S)
                            transpose_square(b + (j0 + v) * cs + k_done, cs, dst + k_done * NR + v, NR);
                }
            }
            for (index_t k0 = k_done; k0 < kc; k0 += 32) {
                const index_t k1 = std::min<index_t>(kc, k0 + 32);
                for (index_t c = 0; c < cols; ++c) {
                    const T* src = b + (j0 + c) * cs;
                    for (index_t k = k0; k < k1; ++k) dst[k * NR + c] = src[k * rs];
                }
            }
        }
    }
}

// The packed B panel and A panel, one pair per thread, grown as needed and kept (the GEMMs run every
// batch).
template <typename T>
class PackBuffers {
  public:
    PackBuffers() = default;
    PackBuffers(const PackBuffers&) = delete;
    PackBuffers& operator=(const PackBuffers&) = delete;
    PackBuffers(PackBuffers&&) = delete;
    PackBuffers& operator=(PackBuffers&&) = delete;
    ~PackBuffers() {
        std::free(a_);  // NOLINT(cppcoreguidelines-no-malloc): aligned_alloc's memory
        std::free(b_);  // NOLINT(cppcoreguidelines-no-malloc)
    }
    T* a(std::size_t size) { return grow(a_, a_size_, size); }
    T* b(std::size_t size) { return grow(b_, b_size_, size); }

  private:
    static T* grow(T*& p, std::size_t& have, std::size_t size) {
        if (size > have) {
            std::free(p);  // NOLINT(cppcoreguidelines-no-malloc)
            const std::size_t bytes = (size * sizeof(T) + 63) / 64 * 64;
            p = static_cast<T*>(std::aligned_alloc(64, bytes));  // NOLINT(cppcoreguidelines-no-malloc)
            if (p == nullptr) throw std::bad_alloc();
            have = size;
        }
        return p;
    }
    T* a_ = nullptr;
    T* b_ = nullptr;
    std::size_t a_size_ = 0, b_size_ = 0;
};

// C (N x M, rows ldc apart) = A B with A(i, k) = a[i ars + k acs], B(k, j) = b[k brs + j bcs], on
// the calling thread, with the tile of NV vectors.
template <typename T, int NV>
void blocked_gemm(const T* a, index_t ars, index_t acs, const T* b, index_t brs, index_t bcs, T* c, index_t ldc,
                  index_t N, index_t K, index_t M) {
    using B = Tile<T, NV>;
    constexpr int MR = B::MR, NR = B::NR;
    thread_local PackBuffers<T> buffers;
    T* a_panel = buffers.a(static_cast<std::size_t>(MR * B::KC));
    T* packed_b = buffers.b(static_cast<std::size_t>(B::NC * B::KC));
    alignas(64) T tile[MR * NR];
    for (index_t jc = 0; jc < M; jc += B::NC) {
        const index_t nc = std::min(B::NC, M - jc);
        for (index_t pc = 0; pc < K; pc += B::KC) {
            const index_t kc = std::min(B::KC, K - pc);
            const bool accumulate = pc > 0;
            pack_b<T, NR>(b + pc * brs + jc * bcs, brs, bcs, kc, nc, packed_b);
            for (index_t ir = 0; ir < N; ir += MR) {
                const index_t rows = std::min<index_t>(MR, N - ir);
                // Full panels of contiguous rows are read where they are (MR rows of x or dout, each
                // kc long); others are copied once and reused across the nc / NR tiles.
                const T* ap = a + ir * ars + pc * acs;
                index_t rs = ars, cs = acs;
                if (rows < MR || acs != 1) {
                    pack_a<T, MR>(ap, ars, acs, rows, kc, a_panel);
                    ap = a_panel, rs = 1, cs = MR;
                }
                for (index_t jr = 0; jr < nc; jr += NR) {
                    const index_t cols = std::min<index_t>(NR, nc - jr);
                    const T* bp = packed_b + jr * kc;
                    T* ct = c + ir * ldc + jc + jr;
                    if (rows == MR && cols == NR) {
                        micro_kernel<T, NV>(kc, ap, rs, cs, bp, ct, ldc, accumulate);
                        continue;
                    }
                    // A tail tile: the same kernel on a full tile in scratch, the valid part copied.
                    if (accumulate) {
                        for (index_t r = 0; r < rows; ++r)
                            std::copy(ct + r * ldc, ct + r * ldc + cols, tile + r * NR);
                    }
                    micro_kernel<T, NV>(kc, ap, rs, cs, bp, tile, NR, accumulate);
                    for (index_t r = 0; r < rows; ++r)
                        std::copy(tile + r * NR, tile + r * NR + cols, ct + r * ldc);
                }
            }
        }
    }
    if (K == 0) {
        for (index_t i = 0; i < N; ++i) std::fill(c + i * ldc, c + i * ldc + M, T(0));
    }
}

// The tile by C's width: the fewest vectors that cover M (up to kMaxVectors), so narrow layers do not
// compute columns of zeros. Every tile gives the same bits (one FMA chain per element).
template <typename T>
void blocked_gemm(const T* a, index_t ars, index_t acs, const T* b, index_t brs, index_t bcs, T* c, index_t ldc,
                  index_t N, index_t K, index_t M) {
    constexpr index_t lanes = Tile<T, 1>::lanes;
    if (M <= lanes) return blocked_gemm<T, 1>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
    if (kMaxVectors == 2 || M <= 2 * lanes) return blocked_gemm<T, 2>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
    blocked_gemm<T, kMaxVectors>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
}

// blocked_gemm over the rows of C, split between fastmlp's threads when called outside a parallel
// region (a kernel called from Python); inside the native epoch's team, on the calling thread only.
template <typename T>
void gemm(const T* a, index_t ars, index_t acs, const T* b, index_t brs, index_t bcs, T* c, index_t ldc,
          index_t N, index_t K, index_t M) {
#ifdef _OPENMP
    const double work = 2.0 * double(N) * double(K) * double(M);
    const int threads = omp_in_parallel() || work < 4e6
                            ? 1
                            : static_cast<int>(std::min<index_t>(team_size(get_num_threads()), N));
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            const auto [r0, r1] = gemm_rows_part(N, threads, omp_get_thread_num());
            if (r1 > r0) blocked_gemm(a + r0 * ars, ars, acs, b, brs, bcs, c + r0 * ldc, ldc, r1 - r0, K, M);
        }
        return;
    }
#endif
    blocked_gemm(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
}

#else  // no AVX2 / AVX-512: Eigen's GEMM (the expressions kernels.cpp had inline: same bits as before)

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using StridedMap = Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<> >;

#endif

#ifdef FASTMLP_BLAS
constexpr int kRowMajor = 101, kNo = 111, kTrans = 112;
// fastmlp's own threads (the native epoch's team) call the GEMMs; the library must not add its own.
const bool blas_single_threaded = [] {
    scipy_openblas_set_num_threads(1);
    return true;
}();
#endif

}  // namespace

template <typename T>
void gemm_nn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kNo, kNo, int(N), int(M), int(K), 1.0f, a, int(lda), b, int(M), 0.0f, c,
                          int(M));
        return;
    }
#endif
#ifdef FASTMLP_OWN_GEMM
    gemm(a, lda, 1, b, M, 1, c, M, N, K, M);
#else
    StridedMap<T> A(a, N, K, Eigen::OuterStride<>(lda));
    Eigen::Map<const Matrix<T> > B(b, K, M);
    Eigen::Map<Matrix<T> >(c, N, M).noalias() = A * B;
#endif
}

template <typename T>
void gemm_tn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kTrans, kNo, int(N), int(M), int(K), 1.0f, a, int(lda), b, int(M), 0.0f, c,
                          int(M));
        return;
    }
#endif
#ifdef FASTMLP_OWN_GEMM
    gemm(a, 1, lda, b, M, 1, c, M, N, K, M);
#else
    StridedMap<T> A(a, K, N, Eigen::OuterStride<>(lda));
    Eigen::Map<const Matrix<T> > B(b, K, M);
    Eigen::Map<Matrix<T> >(c, N, M).noalias() = A.transpose() * B;
#endif
}

template <typename T>
void gemm_nt(const T* a, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kNo, kTrans, int(N), int(M), int(K), 1.0f, a, int(K), b, int(K), 0.0f, c,
                          int(M));
        return;
    }
#endif
#ifdef FASTMLP_OWN_GEMM
    gemm(a, K, 1, b, 1, K, c, M, N, K, M);
#else
    Eigen::Map<const Matrix<T> > A(a, N, K);
    Eigen::Map<const Matrix<T> > B(b, M, K);
    Eigen::Map<Matrix<T> >(c, N, M).noalias() = A * B.transpose();
#endif
}

const char* gemm_kind() {
#if defined(FASTMLP_BLAS) && defined(__AVX512F__)
    return "openblas (float), fastmlp-avx512 (double)";
#elif defined(FASTMLP_BLAS) && defined(FASTMLP_OWN_GEMM)
    return "openblas (float), fastmlp-avx2 (double)";
#elif defined(FASTMLP_BLAS)
    return "openblas (float), eigen (double)";
#elif defined(__AVX512F__)
    return "fastmlp-avx512";
#elif defined(FASTMLP_OWN_GEMM)
    return "fastmlp-avx2";
#else
    return "eigen";
#endif
}

template void gemm_nn<float>(const float*, index_t, const float*, float*, index_t, index_t, index_t);
template void gemm_nn<double>(const double*, index_t, const double*, double*, index_t, index_t, index_t);
template void gemm_tn<float>(const float*, index_t, const float*, float*, index_t, index_t, index_t);
template void gemm_tn<double>(const double*, index_t, const double*, double*, index_t, index_t, index_t);
template void gemm_nt<float>(const float*, const float*, float*, index_t, index_t, index_t);
template void gemm_nt<double>(const double*, const double*, double*, index_t, index_t, index_t);

}  // namespace fastmlp
