// Adam's step on AVX-512, the square root and the division done four ways, timed alone (not part
// of the build; docs/performance.md, "The optimizers' epochs"):
//
//     g++ -O3 -march=native -o /tmp/adam_steps benchmarks/adam_step_variants.cpp && taskset -c 1 /tmp/adam_steps
//
// exact: vsqrt and vdiv (what cpp/kernels.cpp does); rcp: the reciprocal of sqrt(v) + eps by rcp14
// and Newton steps; rsqrt: sqrt(v) as v rsqrt14(v) with Newton steps (v = 0 masked); both; neither
// (a multiplication in their place: wrong, for the bound). Two Newton steps in double, one in
// float. Prints ns per value and the largest relative difference of the updated parameter from a
// scalar loop's (a sanity check: largest where the parameter lands near zero).
#include <immintrin.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace {

enum Variant { exact, rcp, rsqrt, both, neither };
const char* const names[] = {"exact", "rcp", "rsqrt", "both", "neither"};

// The few AVX-512 operations the step needs beyond GCC's vector arithmetic, for float and double.
__m512 sqrt_of(__m512 a) { return _mm512_sqrt_ps(a); }
__m512d sqrt_of(__m512d a) { return _mm512_sqrt_pd(a); }
__m512 rcp14(__m512 a) { return _mm512_rcp14_ps(a); }
__m512d rcp14(__m512d a) { return _mm512_rcp14_pd(a); }
__m512 rsqrt14(__m512 a) { return _mm512_rsqrt14_ps(a); }
__m512d rsqrt14(__m512d a) { return _mm512_rsqrt14_pd(a); }
__m512 times_where_nonzero(__m512 w, __m512 y) {
    return _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(w, _mm512_setzero_ps(), _CMP_NEQ_OQ), w, y);
}
__m512d times_where_nonzero(__m512d w, __m512d y) {
    return _mm512_maskz_mul_pd(_mm512_cmp_pd_mask(w, _mm512_setzero_pd(), _CMP_NEQ_OQ), w, y);
}

template <typename T>
struct VectorOf {
    using type = __m512d;
};
template <>
struct VectorOf<float> {
    using type = __m512;
};
template <typename T>
using Vector = typename VectorOf<T>::type;

template <typename T>
Vector<T> load(const T* p) {
    Vector<T> v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename T>
void store(T* p, Vector<T> v) {
    std::memcpy(p, &v, sizeof v);
}

// One Adam step over n values (n a multiple of the lanes); multiply-adds contract to FMAs.
template <Variant how, typename T>
void adam(T* p, const T* g, T* m, T* v, long n, T step, T b1, T b2, T eps, T reg) {
    using V = Vector<T>;
    constexpr long lanes = 64 / sizeof(T);
    constexpr int newton = sizeof(T) == 8 ? 2 : 1;
    for (long i = 0; i < n; i += lanes) {
        const V P = load(p + i);
        const V G = load(g + i) + reg * P;
        const V M = b1 * load(m + i) + (1 - b1) * G;
        const V W = b2 * load(v + i) + (1 - b2) * (G * G);
        store(m + i, M);
        store(v + i, W);
        V root = sqrt_of(W);
        if constexpr (how == rsqrt || how == both) {
            V y = rsqrt14(W);
            for (int k = 0; k < newton; ++k) y = y * (T(1.5) - T(0.5) * W * (y * y));
            root = times_where_nonzero(W, y);
        }
        const V d = root + eps;
        V update;
        if constexpr (how == rcp || how == both) {
            V r = rcp14(d);
            for (int k = 0; k < newton; ++k) r = r + r * (T(1) - d * r);
            update = (-step * M) * r;
        } else if constexpr (how == neither) {
            update = (-step * M) * W;
        } else {
            update = (-step * M) / d;
        }
        store(p + i, P + update);
    }
}

template <Variant how, typename T>
double run(long n, int reps, double* worst) {
    std::mt19937_64 rng(1);
    std::normal_distribution<T> normal;
    std::vector<T> p(n), g(n), m(n), v(n);
    for (long i = 0; i < n; ++i) {
        p[i] = normal(rng) * T(0.1), g[i] = normal(rng) * T(1e-3), m[i] = normal(rng) * T(1e-4);
        v[i] = std::abs(normal(rng)) * T(1e-7);
    }
    for (long i = 0; i < n; i += 97) v[i] = m[i] = g[i] = 0;
    const T lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, reg = 1e-4;
    std::vector<T> once = p, m1 = m, v1 = v;  // one step, against a scalar loop
    adam<how>(once.data(), g.data(), m1.data(), v1.data(), n, lr, b1, b2, eps, reg);
    *worst = 0;
    for (long i = 0; i < n; ++i) {
        const T gi = g[i] + reg * p[i], mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * (gi * gi);
        const T expected = p[i] + (-lr * mi) / (std::sqrt(vi) + eps);
        *worst = std::fmax(*worst, std::abs(double(once[i] - expected) / double(expected)));
    }
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) adam<how>(p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, reg);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    return took.count() / reps / n * 1e9;
}

}  // namespace

template <Variant how>
void report(long n) {
    double worst_d, worst_f;
    const double d = run<how, double>(n, 2000, &worst_d);
    const double f = run<how, float>(n, 3000, &worst_f);
    std::printf("n=%6ld %-8s double %.3f ns/value (err %.1e)   float %.3f ns/value (err %.1e)\n", n, names[how], d,
                worst_d, f, worst_f);
}

int main() {
    // Subnormals flushed, as the native epochs do (FlushSubnormals): float parameters that settle
    // near zero otherwise make the float steps several times slower.
    _mm_setcsr(_mm_getcsr() | 0x8040U);
    for (long n : {16384L, 100352L}) {
        report<exact>(n);
        report<rcp>(n);
        report<rsqrt>(n);
        report<both>(n);
        report<neither>(n);
    }
}
