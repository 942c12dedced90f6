// The native epoch's runtime: its OpenMP team, the floating-point mode and the fixed partition of
// work between threads. Header-only; without OpenMP every helper describes a team of one.
#pragma once

#include <algorithm>
#include <utility>

#include "kernels.hpp"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define FASTMLP_HAS_MXCSR 1
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastmlp {

// Flush-to-zero and denormals-are-zero for this thread while in scope. A weight decaying towards
// zero (reg = 1) otherwise makes every multiply take a microcode assist on subnormal operands.
class FlushSubnormals {
  public:
#ifdef FASTMLP_HAS_MXCSR
    FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)
    ~FlushSubnormals() { _mm_setcsr(saved_); }
#else
    FlushSubnormals() = default;
#endif
    FlushSubnormals(const FlushSubnormals&) = delete;
    FlushSubnormals& operator=(const FlushSubnormals&) = delete;
    FlushSubnormals(FlushSubnormals&&) = delete;
    FlushSubnormals& operator=(FlushSubnormals&&) = delete;

  private:
#ifdef FASTMLP_HAS_MXCSR
    unsigned int saved_;
#endif
};

// The team a native call starts: fastmlp::get_num_threads() (the one thread budget), at least 1.
inline int team_size() {
#ifdef _OPENMP
    return std::max(1, get_num_threads());
#else
    return 1;
#endif
}

// Inside the team: this thread's number and the team's size.
inline int thread_id() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
inline int thread_count() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

inline void barrier() {
#ifdef _OPENMP
#pragma omp barrier
#endif
}

// Part p of `parts` near-equal contiguous ranges of [0, n): the fixed partition that makes results
// depend on the thread count only.
inline std::pair<index_t, index_t> part(index_t n, int parts, int p) {
    const index_t base = n / parts, extra = n % parts;
    const index_t begin = p * base + std::min<index_t>(p, extra);
    return {begin, begin + base + (p < extra ? 1 : 0)};
}

}  // namespace fastmlp
