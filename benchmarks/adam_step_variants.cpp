// Adam's step on AVX-512, the square root and the division done four ways, timed alone (not part
// of the build; docs/performance.md, "The optimizers' epochs"):
//
//     g++ -O3 -march=native -o /tmp/adam_steps benchmarks/adam_step_variants.cpp && taskset -c 1 /tmp/adam_steps
//
// double: 0 exact (vsqrtpd, vdivpd: what cpp/kernels.cpp does), 1 the reciprocal by rcp14 and two
// Newton steps, 2 the square root by rsqrt14 and two Newton steps (v = 0 masked), 3 both, 5 neither
// (a multiplication in their place: wrong, for the bound). float: 0, 1 and 2 with one Newton step
// each (2 = both approximations there), 3 neither. Prints ns per value and, for double, the largest
// relative difference of the updated parameter from a scalar loop (a sanity check: it is largest
// where the parameter lands near zero, and the scalar loop's multiply-adds are contracted too).
#include <immintrin.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace f64 {
template <int V>
void adam(double* p, const double* g, double* m, double* v, long n, double step, double b1, double b2, double eps, double reg) {
    const __m512d s = _mm512_set1_pd(-step), B1 = _mm512_set1_pd(b1), B2 = _mm512_set1_pd(b2), E = _mm512_set1_pd(eps);
    const __m512d C1 = _mm512_set1_pd(1 - b1), C2 = _mm512_set1_pd(1 - b2), R = _mm512_set1_pd(reg);
    const __m512d half = _mm512_set1_pd(0.5), three_half = _mm512_set1_pd(1.5), one = _mm512_set1_pd(1.0);
    for (long i = 0; i < n; i += 8) {
        __m512d P = _mm512_loadu_pd(p + i);
        __m512d G = _mm512_add_pd(_mm512_loadu_pd(g + i), _mm512_mul_pd(R, P));
        __m512d M = _mm512_add_pd(_mm512_mul_pd(B1, _mm512_loadu_pd(m + i)), _mm512_mul_pd(C1, G));
        __m512d W = _mm512_add_pd(_mm512_mul_pd(B2, _mm512_loadu_pd(v + i)), _mm512_mul_pd(C2, _mm512_mul_pd(G, G)));
        _mm512_storeu_pd(m + i, M);
        _mm512_storeu_pd(v + i, W);
        __m512d upd;
        if (V == 0) {
            upd = _mm512_div_pd(_mm512_mul_pd(s, M), _mm512_add_pd(_mm512_sqrt_pd(W), E));
        } else if (V == 1) {  // exact sqrt, reciprocal by rcp14 + 2 NR, then multiply
            __m512d d = _mm512_add_pd(_mm512_sqrt_pd(W), E);
            __m512d r = _mm512_rcp14_pd(d);
            r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
            r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
            upd = _mm512_mul_pd(_mm512_mul_pd(s, M), r);
        } else if (V == 2) {  // rsqrt14 + 2 NR for sqrt, exact division
            __m512d y = _mm512_rsqrt14_pd(W);
            __m512d h = _mm512_mul_pd(half, W);
            y = _mm512_mul_pd(y, _mm512_fnmadd_pd(h, _mm512_mul_pd(y, y), three_half));
            y = _mm512_mul_pd(y, _mm512_fnmadd_pd(h, _mm512_mul_pd(y, y), three_half));
            __m512d sq = _mm512_maskz_mul_pd(_mm512_cmp_pd_mask(W, _mm512_setzero_pd(), _CMP_NEQ_OQ), W, y);
            upd = _mm512_div_pd(_mm512_mul_pd(s, M), _mm512_add_pd(sq, E));
        } else if (V == 3) {  // both approximate
            __m512d y = _mm512_rsqrt14_pd(W);
            __m512d h = _mm512_mul_pd(half, W);
            y = _mm512_mul_pd(y, _mm512_fnmadd_pd(h, _mm512_mul_pd(y, y), three_half));
            y = _mm512_mul_pd(y, _mm512_fnmadd_pd(h, _mm512_mul_pd(y, y), three_half));
            __m512d sq = _mm512_maskz_mul_pd(_mm512_cmp_pd_mask(W, _mm512_setzero_pd(), _CMP_NEQ_OQ), W, y);
            __m512d d = _mm512_add_pd(sq, E);
            __m512d r = _mm512_rcp14_pd(d);
            r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
            r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
            upd = _mm512_mul_pd(_mm512_mul_pd(s, M), r);
        } else if (V == 4) { // ymm halves: sqrt+div on 256-bit
            __m512d num = _mm512_mul_pd(s, M);
            __m512d den = _mm512_add_pd(_mm512_sqrt_pd(W), E);
            upd = _mm512_div_pd(num, den);
        } else { // no sqrt/div
            upd = _mm512_mul_pd(_mm512_mul_pd(s, M), W);
        }
        _mm512_storeu_pd(p + i, _mm512_add_pd(P, upd));
    }
}
template <int V>
double run(long n, int reps, double* err) {
    std::mt19937_64 rng(1); std::normal_distribution<double> nd;
    std::vector<double> p(n), g(n), m(n), v(n), p0, m0, v0;
    for (long i = 0; i < n; ++i) { p[i] = nd(rng) * 0.1; g[i] = nd(rng) * 1e-3; m[i] = nd(rng) * 1e-4; v[i] = std::abs(nd(rng)) * 1e-7; }
    for (long i = 0; i < n; i += 97) v[i] = 0.0, m[i] = 0, g[i] = 0;
    // accuracy vs exact scalar, one step
    { std::vector<double> pe = p, me = m, ve = v, pa = p, ma = m, va = v;
      adam<V>(pa.data(), g.data(), ma.data(), va.data(), n, 1e-3, 0.9, 0.999, 1e-8, 1e-4);
      double worst = 0;
      for (long i = 0; i < n; ++i) { double gg = g[i] + 1e-4 * pe[i]; double mi = 0.9 * me[i] + 0.1 * gg; double vi = 0.999 * ve[i] + (1 - 0.999) * (gg * gg);
        double u = (-1e-3 * mi) / (std::sqrt(vi) + 1e-8); double e = u == 0 ? std::abs(pa[i]-pe[i]-u) : std::abs((pa[i] - pe[i]) - u) / std::abs(u);
        double e2 = std::abs(pa[i] - (pe[i] + u)) / std::abs(pe[i] + u) ; if (e2 > worst) worst = e2; (void)e; }
      *err = worst; }
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) adam<V>(p.data(), g.data(), m.data(), v.data(), n, 1e-3, 0.9, 0.999, 1e-8, 1e-4);
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(t1 - t0).count() / reps / n * 1e9;
}
}  // namespace f64

namespace f32 {
template <int V>
void adam(float* p, const float* g, float* m, float* v, long n, float step, float b1, float b2, float eps, float reg) {
    const __m512 s = _mm512_set1_ps(-step), B1 = _mm512_set1_ps(b1), B2 = _mm512_set1_ps(b2), E = _mm512_set1_ps(eps);
    const __m512 C1 = _mm512_set1_ps(1 - b1), C2 = _mm512_set1_ps(1 - b2), R = _mm512_set1_ps(reg);
    const __m512 half = _mm512_set1_ps(0.5f), three_half = _mm512_set1_ps(1.5f), one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __m512 P = _mm512_loadu_ps(p + i);
        __m512 G = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(R, P));
        __m512 M = _mm512_add_ps(_mm512_mul_ps(B1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(C1, G));
        __m512 W = _mm512_add_ps(_mm512_mul_ps(B2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(C2, _mm512_mul_ps(G, G)));
        _mm512_storeu_ps(m + i, M);
        _mm512_storeu_ps(v + i, W);
        __m512 upd;
        if (V == 0) {
            upd = _mm512_div_ps(_mm512_mul_ps(s, M), _mm512_add_ps(_mm512_sqrt_ps(W), E));
        } else if (V == 1) {
            __m512 d = _mm512_add_ps(_mm512_sqrt_ps(W), E);
            __m512 r = _mm512_rcp14_ps(d);
            r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
            upd = _mm512_mul_ps(_mm512_mul_ps(s, M), r);
        } else if (V == 2) {
            __m512 y = _mm512_rsqrt14_ps(W);
            __m512 h = _mm512_mul_ps(half, W);
            y = _mm512_mul_ps(y, _mm512_fnmadd_ps(h, _mm512_mul_ps(y, y), three_half));
            __m512 sq = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(W, _mm512_setzero_ps(), _CMP_NEQ_OQ), W, y);
            __m512 d = _mm512_add_ps(sq, E);
            __m512 r = _mm512_rcp14_ps(d);
            r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
            upd = _mm512_mul_ps(_mm512_mul_ps(s, M), r);
        } else {
            upd = _mm512_mul_ps(_mm512_mul_ps(s, M), W);
        }
        _mm512_storeu_ps(p + i, _mm512_add_ps(P, upd));
    }
}
template <int V>
double run(long n, int reps) {
    std::mt19937_64 rng(1); std::normal_distribution<float> nd;
    std::vector<float> p(n), g(n), m(n), v(n);
    for (long i = 0; i < n; ++i) { p[i] = nd(rng) * 0.1; g[i] = nd(rng) * 1e-3; m[i] = nd(rng) * 1e-4; v[i] = std::abs(nd(rng)) * 1e-7; }
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) adam<V>(p.data(), g.data(), m.data(), v.data(), n, 1e-3, 0.9, 0.999, 1e-8, 1e-4);
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(t1 - t0).count() / reps / n * 1e9;
}
}  // namespace f32

int main() {
    for (long n : {16384L, 100352L}) {
        double e;
        double t0 = f64::run<0>(n, 2000, &e);
        std::printf("double n=%ld exact     %.3f ns/value err %.2e\n", n, t0, e);
        double t1 = f64::run<1>(n, 2000, &e);
        std::printf("double n=%ld rcp       %.3f ns/value err %.2e\n", n, t1, e);
        double t2 = f64::run<2>(n, 2000, &e);
        std::printf("double n=%ld rsqrt     %.3f ns/value err %.2e\n", n, t2, e);
        double t3 = f64::run<3>(n, 2000, &e);
        std::printf("double n=%ld both      %.3f ns/value err %.2e\n", n, t3, e);
        double t5 = f64::run<5>(n, 2000, &e);
        std::printf("double n=%ld neither   %.3f ns/value\n", n, t5);
    }
    for (long n : {16384L, 100352L}) {
        std::printf("float n=%ld exact %.3f rcp %.3f both %.3f neither %.3f ns/value\n", n, f32::run<0>(n, 3000),
                    f32::run<1>(n, 3000), f32::run<2>(n, 3000), f32::run<3>(n, 3000));
    }
}
