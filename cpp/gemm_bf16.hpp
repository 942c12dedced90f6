// The bfloat16 GEMMs of precision="bfloat16" (docs/engine.md): the GEMMs of gemm.hpp with every
// input rounded to bfloat16 and the products summed in float32, on AVX512_BF16 (VDPBF16PS).
//
// Rounding: each input element is rounded to the nearest bfloat16, ties to even, subnormal inputs
// as zero (VCVTNE2PS2BF16); a product of two bfloat16 values is exact in float32; VDPBF16PS adds
// the products of one pair of k to the float32 accumulator (subnormals as zero, flushed). Every
// c(i, j) is one chain over the pairs k = (0, 1), (2, 3), ... from 0, in one vector lane, whatever
// tile or row block it falls in, so the bits do not depend on the thread count (as gemm.hpp). An
// odd K is padded with a zero.
//
// Compiled in every build (function target attributes, so the x86-64-v2 / v3 modules build too);
// callable only where cpu_has_bf16() says the CPU runs them (run-time CPUID).
#pragma once

#include "kernels.hpp"

namespace fastmlp {

// Whether this CPU and OS run the bfloat16 GEMMs: AVX-512 F, BW, VL and AVX512_BF16 (CPUID).
bool cpu_has_bf16();

// c = a b.  a (N, K) with rows lda apart, b (K, M) -> c (N, M).
void gemm_nn_bf16(const float* a, index_t lda, const float* b, float* c, index_t N, index_t K, index_t M);

// c = a^T b.  a (K, N) with rows lda apart, b (K, M) -> c (N, M)  (dw = x^T dout).
void gemm_tn_bf16(const float* a, index_t lda, const float* b, float* c, index_t N, index_t K, index_t M);

// c = a b^T.  a (N, K), b (M, K) -> c (N, M)  (dx = dout w^T).
void gemm_nt_bf16(const float* a, const float* b, float* c, index_t N, index_t K, index_t M);

// The affine kernels of kernels.hpp with the GEMM above (same shapes and contracts).
void affine_forward_bf16(const float* x, index_t ldx, const float* w, const float* b, float* out, index_t N,
                         index_t D, index_t M);
void input_gradient_bf16(const float* dout, const float* w, float* dx, index_t N, index_t D, index_t M);
void weight_gradient_bf16(const float* x, index_t ldx, const float* dout, float* dw, index_t N, index_t D,
                          index_t M);

}  // namespace fastmlp
