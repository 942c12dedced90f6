// The GEMMs of the affine layers, in one place so their implementation can be chosen (and A/B'd)
// without touching the kernels that call them. Row-major, contiguous rows `ld*` elements apart.
//
// Default: fastmlp's packed, register-tiled GEMM where the build has AVX-512 or AVX2 + FMA, Eigen's
// GEMM elsewhere (gemm.cpp says why and in which order each element is summed). With FASTMLP_BLAS (CMake
// -DFASTMLP_BLAS=scipy_openblas32, an experiment, off by default): float GEMMs go to that library's
// single-threaded sgemm (see docs/performance.md for what it did).
#pragma once

#include "kernels.hpp"

namespace fastmlp {

// c = a b.  a (N, K), b (K, M) -> c (N, M); rows of a are lda elements apart.
template <typename T>
void gemm_nn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M);

// c = a^T b.  a (K, N) with rows lda apart, b (K, M) -> c (N, M)  (dw = x^T dout).
template <typename T>
void gemm_tn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M);

// c = a b^T.  a (N, K), b (M, K) -> c (N, M)  (dx = dout w^T).
template <typename T>
void gemm_nt(const T* a, const T* b, T* c, index_t N, index_t K, index_t M);

// Which GEMM this build runs, for fastmlp.build_info(): "fastmlp-avx512", "fastmlp-avx2", "eigen",
// or "openblas" (float, FASTMLP_BLAS) + the double one.
const char* gemm_kind();

}  // namespace fastmlp
