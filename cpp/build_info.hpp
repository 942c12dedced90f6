// What the extension was compiled for: the x86-64 micro-architecture level and the vector features the
// compiler was allowed to use, read from the compiler's predefined macros in this translation unit (the
// bindings get the kernels' target flags through CMake's PUBLIC options), and the compiler and flags
// that CMake writes into the generated header fastmlp_build_flags.hpp.
//
// Why it matters: with -march=native the compiler emits other vector code on another CPU, so sums
// round differently in the last bits. fastmlp.build_info() reports this so that results can be
// called bit-identical only between runs of the same build on the same CPU features.
#pragma once

#include <string>
#include <vector>

namespace fastmlp {

// The psABI level (x86-64, -v2, -v3, -v4) whose every feature the compiler was told it may use.
inline const char* compiled_isa_level() {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512CD__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX2__) && defined(__FMA__)
    return "x86-64-v4";
#elif defined(__AVX2__) && defined(__FMA__) && defined(__BMI__) && defined(__BMI2__) && defined(__F16C__)
    return "x86-64-v3";
#elif defined(__SSE4_2__) && defined(__SSSE3__) && defined(__POPCNT__)
    return "x86-64-v2";
#elif defined(__x86_64__) || defined(_M_X64)
    return "x86-64";
#else
    return "not-x86-64";
#endif
}

// The vector features enabled at compile time, named as Linux's /proc/cpuinfo names them.
inline std::vector<std::string> compiled_isa_features() {
    std::vector<std::string> features;
#ifdef __SSE2__
    features.emplace_back("sse2");
#endif
#ifdef __SSSE3__
    features.emplace_back("ssse3");
#endif
#ifdef __SSE4_1__
    features.emplace_back("sse4_1");
#endif
#ifdef __SSE4_2__
    features.emplace_back("sse4_2");
#endif
#ifdef __AVX__
    features.emplace_back("avx");
#endif
#ifdef __AVX2__
    features.emplace_back("avx2");
#endif
#ifdef __FMA__
    features.emplace_back("fma");
#endif
#ifdef __F16C__
    features.emplace_back("f16c");
#endif
#ifdef __AVX512F__
    features.emplace_back("avx512f");
#endif
#ifdef __AVX512CD__
    features.emplace_back("avx512cd");
#endif
#ifdef __AVX512BW__
    features.emplace_back("avx512bw");
#endif
#ifdef __AVX512DQ__
    features.emplace_back("avx512dq");
#endif
#ifdef __AVX512VL__
    features.emplace_back("avx512vl");
#endif
#ifdef __AVX512IFMA__
    features.emplace_back("avx512ifma");
#endif
#ifdef __AVX512VBMI__
    features.emplace_back("avx512vbmi");
#endif
#ifdef __AVX512VNNI__
    features.emplace_back("avx512_vnni");
#endif
#ifdef __AVX512BF16__
    features.emplace_back("avx512_bf16");
#endif
    return features;
}

}  // namespace fastmlp
