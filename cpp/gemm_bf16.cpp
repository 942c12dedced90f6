// See gemm_bf16.hpp. The loop nest of gemm.cpp (packed B panels, register tiles of C) over pairs of
// k: A and B are packed once per call into bfloat16 pairs along k (element 2p in the low half of a
// 32-bit word, 2p + 1 in the high half), and the micro-kernel broadcasts one pair of A's row and
// multiplies it into NV vectors of 16 columns of B with VDPBF16PS: twice the multiply-adds of a
// float FMA per instruction.
//
// Every function that uses AVX-512 carries the target attribute below, so this file compiles in
// the x86-64-v2 / v3 modules of the portable build; nothing here runs unless cpu_has_bf16().
#include "gemm_bf16.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FASTMLP_BF16_KERNELS 1
#include <immintrin.h>

#include "transpose.hpp"
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): an attribute, not expressible as a constant
#define FASTMLP_BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))
#endif

namespace fastmlp {

bool cpu_has_bf16() {
#ifdef FASTMLP_BF16_KERNELS
    __builtin_cpu_init();
    // The runtime's probe checks that the OS saves the AVX-512 registers (XCR0) for avx512f.
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

#ifdef FASTMLP_BF16_KERNELS
namespace {

using pair_t = std::uint32_t;  // two bfloat16 values of consecutive k

// The register tile: MR rows x NV vectors of 16 columns, 24 accumulators (as gemm.cpp's AVX-512
// float tile); KC pairs of k per block, so an A panel (MR x KC pairs) stays in L1 and the packed B
// panel (KC x NC pairs, <= 1 MiB) in L2.
template <int NV>
struct Tile {
    static constexpr int MR = 24 / NV;
    static constexpr int NR = 16 * NV;
    static constexpr index_t KC = 256;
    static constexpr index_t NC = (index_t{1048576} / (KC * 4) / NR) * NR;
};

// 16 columns of two rows of k (k0: row of k = 2p; k1: 2p + 1, or zeros) -> 16 pairs, column c's in
// word c. The two rows are converted in one instruction (k0 in bf16 elements 0-15, k1 in 16-31)
// and interleaved by one permutation.
FASTMLP_BF16 inline __m512i pairs_of_rows(__m512 k0, __m512 k1) {
    const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(k1, k0);  // NOLINT(google-readability-casting)
    // word c = (element c of k0, element c of k1): 16-bit element e takes element e / 2 + 16 (e % 2)
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23,
                                                7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(interleave, both);
}

// The mask of the first n of 16 lanes (n <= 0: none).
inline __mmask16 first(index_t n) {
    if (n <= 0) return 0;
    return static_cast<__mmask16>(n >= 16 ? 0xFFFFU : (1U << static_cast<unsigned>(n)) - 1U);
}

// 32 consecutive k of one row (n of them valid, the rest zero) -> 16 pairs in k order.
FASTMLP_BF16 inline __m512i pairs_along_row(const float* row, index_t n) {
    const __m512 lo = _mm512_maskz_loadu_ps(first(n), row);
    const __m512 hi = _mm512_maskz_loadu_ps(first(n - 16), row + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // NOLINT(google-readability-casting)
}

// dst row r = column r of the 16 x 16 block of words src (rows ld words apart; dst rows dld apart).
FASTMLP_BF16 inline void transpose_words(const __m512i* rows, pair_t* dst, index_t dld) {
    __m512 r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_castsi512_ps(rows[i]);
    store_transposed_16x16(r, dst, dld);
}

// Words (p, i) of a matrix of pairs, p < P pairs of k, i < cols, into micro-panels of W columns:
// panel q holds columns [q W, q W + W), word (p, c) at p W + c (the layout both the A panels, W =
// MR, and the B micro-panels, W = NR, take). Two ways in, by which of A's or B's strides is 1:
//   along_k: column i's k are contiguous (src + i * ld + k): converted per column, then transposed
//            16 x 16 words at a time in registers;
//   else:    the k of column i are rows ld apart (src + k * ld + i): two rows of k, 16 columns at a
//            time, make 16 words directly.
// K: the valid k (the pair past an odd K gets a zero); columns past `cols` are zero.
template <int W>
FASTMLP_BF16 void pack_pairs(const float* src, index_t ld, bool along_k, index_t K, index_t P, index_t cols,
                             pair_t* dst) {
    const index_t panels = (cols + W - 1) / W;
    const index_t p_end = std::min(P, (K + 1) / 2);
    for (index_t q = 0; q < panels; ++q) {
        pair_t* panel = dst + q * P * W;
        const index_t c0 = q * W, width = std::min<index_t>(W, cols - c0);
        if (width < W || p_end < P) std::fill(panel, panel + P * W, pair_t{0});
        if (!along_k) {
            for (index_t p = 0; p < p_end; ++p) {
                const float* k0 = src + 2 * p * ld + c0;
                const bool has_k1 = 2 * p + 1 < K;
                for (index_t c = 0; c < width; c += 16) {
                    const __mmask16 mask = first(width - c);
                    const __m512 row0 = _mm512_maskz_loadu_ps(mask, k0 + c);
                    const __m512 row1 = has_k1 ? _mm512_maskz_loadu_ps(mask, k0 + ld + c) : _mm512_setzero_ps();
                    _mm512_mask_storeu_epi32(panel + p * W + c, mask, pairs_of_rows(row0, row1));
                }
            }
            continue;
        }
        // 16 columns of 16 pairs (32 k) at a time, transposed into the panel
        for (index_t c = 0; c < width; c += 16) {
            const index_t block_cols = std::min<index_t>(16, width - c);
            for (index_t p = 0; p < p_end; p += 16) {
                __m512i rows[16];
                for (index_t i = 0; i < 16; ++i) {
                    rows[i] = i < block_cols ? pairs_along_row(src + (c0 + c + i) * ld + 2 * p, K - 2 * p)
                                             : _mm512_setzero_si512();
                }
                const index_t block_pairs = std::min<index_t>(16, p_end - p);
                if (block_pairs == 16 && c + 16 <= W) {
                    transpose_words(rows, panel + p * W + c, W);
                } else {  // a short block: through scratch
                    alignas(64) pair_t scratch[16 * 16];
                    transpose_words(rows, scratch, 16);
                    for (index_t pp = 0; pp < block_pairs; ++pp) {
                        std::copy(scratch + pp * 16, scratch + pp * 16 + std::min<index_t>(16, W - c),
                                  panel + (p + pp) * W + c);
                    }
                }
            }
        }
    }
}

// C tile (MR x NR, rows ldc apart) = (accumulate ? C : 0) + A panel * B micro-panel over kp pairs.
// A panel: word (p, r) at p MR + r; B micro-panel: word (p, c) at p NR + c.
template <int NV>
FASTMLP_BF16 inline void micro_kernel(index_t kp, const pair_t* __restrict a, const pair_t* __restrict b,
                                      float* __restrict c, index_t ldc, bool accumulate) {
    constexpr int MR = Tile<NV>::MR, NR = Tile<NV>::NR;
    __m512 acc[MR][NV];
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
            acc[r][v] = accumulate ? _mm512_loadu_ps(c + r * ldc + v * 16) : _mm512_setzero_ps();
    for (index_t p = 0; p < kp; ++p) {
        __m512bh row[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            row[v] = (__m512bh)_mm512_loadu_si512(b + p * NR + v * 16);  // NOLINT(google-readability-casting)
        }
        const pair_t* ap = a + p * MR;
#pragma GCC unroll 24
        for (int r = 0; r < MR; ++r) {
            const auto ar = (__m512bh)_mm512_set1_epi32(static_cast<int>(ap[r]));  // NOLINT
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], ar, row[v]);
        }
    }
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + v * 16, acc[r][v]);
}

// The packed A (all of it, once per call) and B panel, per thread, grown as needed and kept.
struct PairBuffers {
    std::vector<pair_t> a, b;
};

// C (N x M, rows ldc apart) = A B, A(i, k) = a[i ars + k acs], B(k, j) = b[k brs + j bcs]; one of
// each pair of strides is 1.
template <int NV>
FASTMLP_BF16 void blocked_gemm(const float* a, index_t ars, index_t acs, const float* b, index_t brs, index_t bcs,
                               float* c, index_t ldc, index_t N, index_t K, index_t M) {
    using B = Tile<NV>;
    constexpr int MR = B::MR, NR = B::NR;
    const index_t P = (K + 1) / 2;
    thread_local PairBuffers buffers;
    const index_t panels = (N + MR - 1) / MR;
    buffers.a.resize(static_cast<std::size_t>(panels * MR * P));
    buffers.b.resize(static_cast<std::size_t>(B::NC * B::KC));
    pair_t* packed_a = buffers.a.data();
    pair_t* packed_b = buffers.b.data();
    // A's columns are its rows i: along k when acs == 1 (x or dout rows), else rows of k (x^T)
    pack_pairs<MR>(a, acs == 1 ? ars : acs, acs == 1, K, P, N, packed_a);
    alignas(64) float tile[MR * NR];
    for (index_t jc = 0; jc < M; jc += B::NC) {
        const index_t nc = std::min(B::NC, M - jc);
        for (index_t pc = 0; pc < P; pc += B::KC) {
            const index_t kc = std::min(B::KC, P - pc);
            const bool accumulate = pc > 0;
            // B's columns are its j: along k when brs == 1 (dX's W^T), else rows of k (W, dout)
            const float* bp0 = b + 2 * pc * brs + jc * bcs;
            pack_pairs<NR>(bp0, brs == 1 ? bcs : brs, brs == 1, K - 2 * pc, kc, nc, packed_b);
            for (index_t ir = 0; ir < N; ir += MR) {
                const index_t rows = std::min<index_t>(MR, N - ir);
                const pair_t* ap = packed_a + ir * P + pc * MR;
                for (index_t jr = 0; jr < nc; jr += NR) {
                    const index_t cols = std::min<index_t>(NR, nc - jr);
                    const pair_t* bp = packed_b + jr * kc;
                    float* ct = c + ir * ldc + jc + jr;
                    if (rows == MR && cols == NR) {
                        micro_kernel<NV>(kc, ap, bp, ct, ldc, accumulate);
                        continue;
                    }
                    if (accumulate) {
                        for (index_t r = 0; r < rows; ++r)
                            std::copy(ct + r * ldc, ct + r * ldc + cols, tile + r * NR);
                    }
                    micro_kernel<NV>(kc, ap, bp, tile, NR, accumulate);
                    for (index_t r = 0; r < rows; ++r)
                        std::copy(tile + r * NR, tile + r * NR + cols, ct + r * ldc);
                }
            }
        }
    }
    if (K == 0) {
        for (index_t i = 0; i < N; ++i) std::fill(c + i * ldc, c + i * ldc + M, 0.0F);
    }
}

// The tile by C's width, as gemm.cpp: the fewest vectors of 16 columns that cover M (up to 3).
void gemm(const float* a, index_t ars, index_t acs, const float* b, index_t brs, index_t bcs, float* c,
          index_t ldc, index_t N, index_t K, index_t M) {
    static const bool supported = cpu_has_bf16();
    if (!supported) throw std::runtime_error("the bfloat16 GEMM needs a CPU with AVX512_BF16");
    if (M <= 16) return blocked_gemm<1>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
    if (M <= 32) return blocked_gemm<2>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
    blocked_gemm<3>(a, ars, acs, b, brs, bcs, c, ldc, N, K, M);
}

}  // namespace

void gemm_nn_bf16(const float* a, index_t lda, const float* b, float* c, index_t N, index_t K, index_t M) {
    gemm(a, lda, 1, b, M, 1, c, M, N, K, M);
}

void gemm_tn_bf16(const float* a, index_t lda, const float* b, float* c, index_t N, index_t K, index_t M) {
    gemm(a, 1, lda, b, M, 1, c, M, N, K, M);
}

void gemm_nt_bf16(const float* a, const float* b, float* c, index_t N, index_t K, index_t M) {
    gemm(a, K, 1, b, 1, K, c, M, N, K, M);
}

#else  // not x86-64: no bfloat16 GEMM (cpu_has_bf16() is false, callers check it first)

namespace {
[[noreturn]] void no_bf16() {
    throw std::runtime_error("the bfloat16 GEMM needs an x86-64 CPU with AVX512_BF16");
}
}  // namespace
void gemm_nn_bf16(const float*, index_t, const float*, float*, index_t, index_t, index_t) { no_bf16(); }
void gemm_tn_bf16(const float*, index_t, const float*, float*, index_t, index_t, index_t) { no_bf16(); }
void gemm_nt_bf16(const float*, const float*, float*, index_t, index_t, index_t) { no_bf16(); }

#endif

void affine_forward_bf16(const float* x, index_t ldx, const float* w, const float* b, float* out, index_t N,
                         index_t D, index_t M) {
    gemm_nn_bf16(x, ldx, w, out, N, D, M);
    if (b == nullptr) return;
    for (index_t n = 0; n < N; ++n) {
        float* row = out + n * M;
        for (index_t m = 0; m < M; ++m) row[m] += b[m];
    }
}

void input_gradient_bf16(const float* dout, const float* w, float* dx, index_t N, index_t D, index_t M) {
    gemm_nt_bf16(dout, w, dx, N, M, D);
}

void weight_gradient_bf16(const float* x, index_t ldx, const float* dout, float* dw, index_t N, index_t D,
                          index_t M) {
    gemm_tn_bf16(x, ldx, dout, dw, D, N, M);
}

}  // namespace fastmlp
