// The sum of the squares of 784-128-10's weights (scikit-learn's L2 penalty, computed once per
// batch by cpp/epoch.cpp's squared_weights), summed three ways and timed alone (not part of the
// build; docs/sklearn.md, "The L2 penalty's sum of squares"):
//
//     g++ -O3 -march=native -ffp-contract=off -std=c++17 -o /tmp/penalty_sums benchmarks/penalty_sums.cpp
//     taskset -c 1 /tmp/penalty_sums
//
// double32: every float converted to double and squared into 32 double sums (the code before);
// float64x32: 64 float sums of 32 squares each, joined into 64 double sums (the code now, float: a
// copy of squared_weights' loop, so that it is timed alone beside the other two);
// float64: 64 float sums over the whole matrix (no joining; for the bound). Prints microseconds per
// call and each sum's relative difference from a long-double sum (-ffp-contract=off, as epoch.cpp
// is compiled: no fused multiply-adds).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace {

using index_t = long;
using Matrices = std::vector<std::vector<float>>;

double double32(const Matrices& matrices) {
    constexpr index_t lanes = 32;
    double partial[lanes] = {}, rest = 0.0;
    for (const auto& w : matrices) {
        const auto size = static_cast<index_t>(w.size());
        index_t i = 0;
        for (; i + lanes <= size; i += lanes) {
            for (index_t k = 0; k < lanes; ++k) {
                const auto v = static_cast<double>(w[i + k]);
                partial[k] += v * v;
            }
        }
        for (; i < size; ++i) rest += static_cast<double>(w[i]) * static_cast<double>(w[i]);
    }
    for (const double p : partial) rest += p;
    return rest;
}

template <index_t lanes, index_t per_sum>
double float_sums(const Matrices& matrices) {
    constexpr index_t block = per_sum * lanes;
    double wide[lanes] = {}, rest = 0.0;
    for (const auto& matrix : matrices) {
        const float* w = matrix.data();
        const auto size = static_cast<index_t>(matrix.size());
        const index_t whole = size / lanes * lanes;
        for (index_t i = 0; i < whole; i += block) {
            const index_t end = std::min(whole, i + block);
            float partial[lanes] = {};
            for (index_t j = i; j < end; j += lanes) {
                for (index_t k = 0; k < lanes; ++k) partial[k] += w[j + k] * w[j + k];
            }
            for (index_t k = 0; k < lanes; ++k) wide[k] += static_cast<double>(partial[k]);
        }
        for (index_t i = whole; i < size; ++i) rest += static_cast<double>(w[i]) * static_cast<double>(w[i]);
    }
    for (const double sum : wide) rest += sum;
    return rest;
}

template <typename F>
void time_it(const char* name, F sum, const Matrices& matrices, long double exact) {
    constexpr int calls = 20000;
    double checksum = 0.0;
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
        const auto start = std::chrono::steady_clock::now();
        for (int r = 0; r < calls; ++r) {
            asm volatile("" ::: "memory");  // the weights may have changed: no hoisting the sum
            checksum += sum(matrices);
        }
        const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
        best = std::min(best, took.count() / calls);
    }
    const double value = sum(matrices);
    std::printf("%-12s %6.2f us per call, relative difference %+.2e (checksum %g)\n", name, best,
                static_cast<double>((value - exact) / exact), checksum);
}

}  // namespace

int main() {
    std::mt19937 generator(0);
    // Glorot-uniform-sized weights of 784-128-10, the scale of an MNIST fit's
    std::uniform_real_distribution<float> uniform(-0.08f, 0.08f);
    Matrices matrices = {std::vector<float>(784 * 128), std::vector<float>(128 * 10)};
    long double exact = 0.0L;
    for (auto& w : matrices) {
        for (float& v : w) {
            v = uniform(generator);
            exact += static_cast<long double>(v) * v;
        }
    }
    time_it("double32", double32, matrices, exact);
    time_it("float64x32", float_sums<64, 32>, matrices, exact);
    time_it("float64", float_sums<64, 1L << 40>, matrices, exact);
}
