// The 16 x 16 register transpose of 32-bit words that gemm.cpp (float panels of B) and
// gemm_bf16.cpp (packed bfloat16 pairs) both pack with.
#pragma once

#include "kernels.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace fastmlp {

// dst row c (rows dld words apart) = column c of the 16 x 16 block of words whose row i is r[i]
// (r is clobbered): four rounds of unpacks and 128-bit lane shuffles, 64 shuffles for 256 words
// instead of 256 scalar moves. Its own target attribute, so gemm_bf16.cpp can call it from the
// x86-64-v2 / v3 modules of the portable build (where it runs only on an AVX-512 CPU).
__attribute__((target("avx512f"))) inline void store_transposed_16x16(__m512 (&r)[16], void* dst, index_t dld) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {  // per 128-bit lane: (r0[0] r1[0] r0[1] r1[1]), (r0[2] r1[2] r0[3] r1[3])
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    float* out = static_cast<float*>(dst);  // the words are stored as floats: only their bits move
    for (int i = 0; i < 4; ++i) {           // r[4i + j], lane L: column 4L + j of rows 4i .. 4i + 3
        // (no lambda here: it would not inherit the target attribute)
        const __m512d a0 = _mm512_castps_pd(t[4 * i]), a1 = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d a2 = _mm512_castps_pd(t[4 * i + 2]), a3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    for (int j = 0; j < 4; ++j) {  // gather the lanes: 0x88 takes lanes 0, 2 of each; 0xDD lanes 1, 3
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    }
    for (int j = 0; j < 4; ++j) {
        _mm512_storeu_ps(out + j * dld, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
        _mm512_storeu_ps(out + (8 + j) * dld, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD));
        _mm512_storeu_ps(out + (4 + j) * dld, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88));
        _mm512_storeu_ps(out + (12 + j) * dld, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD));
    }
}

}  // namespace fastmlp
#endif
