// Which x86-64 level the running CPU (and OS) supports, asked of the compiler runtime's CPUID
// probe. fastmlp._isa calls this through the baseline module before it imports a wider one.
#pragma once

#include <string>

namespace fastmlp {

// "x86-64-v2" (SSE4.2, POPCNT), "x86-64-v3" (AVX2, FMA, BMI2, ...), "x86-64-v4" (AVX-512 F, BW,
// CD, DQ, VL), "native" / "generic" (always true: the module was built for this machine or for
// the compiler's default); false for anything else, and on non-x86 CPUs.
inline bool cpu_supports(const std::string& level) {
    if (level == "native" || level == "generic") return true;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const bool v2 =
        __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("ssse3");
    const bool v3 = v2 && __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
                    __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
                    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c");
    // The runtime's probe also checks that the OS saves the AVX / AVX-512 registers (XCR0).
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
    if (level == "x86-64-v2") return v2;
    if (level == "x86-64-v3") return v3;
    if (level == "x86-64-v4") return v4;
#endif
    return false;
}

}  // namespace fastmlp
