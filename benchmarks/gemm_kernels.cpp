// Same-run A/B of the layers' GEMMs without Python: fastmlp's GEMM (cpp/gemm.cpp, as built for this
// machine) against Eigen 3.4's (main's expressions), at the sweep's shapes, float32, one thread,
// interleaved rounds, best of each. Every timed call packs its B panel, as each batch does. Not a test.
//
//   EIGEN=$(python -c "import sys; print(sys.prefix)")/lib/python3.11/site-packages/cmeel.prefix/include/eigen3
//   g++ -O3 -march=native -ffp-contract=off -DEIGEN_NO_DEBUG -std=c++17 -Icpp -isystem $EIGEN \
//       -fopenmp benchmarks/gemm_kernels.cpp cpp/gemm.cpp cpp/kernels.cpp -o /tmp/gemm_kernels && taskset -c 0 /tmp/gemm_kernels
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "gemm.hpp"

using fastmlp::index_t;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

template <class F>
double best_seconds(F call, int repeats) {
    call();
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        call();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

}  // namespace

int main() {
    Eigen::setNbThreads(1);
    struct Shape {
        const char* label;
        index_t N, D, M;
    };
    const Shape shapes[] = {{"1024-1024 b256 layer 1", 256, 784, 1024}, {"1024-1024 b256 layer 2", 256, 1024, 1024},
                            {"1024-1024 b256 layer 3", 256, 1024, 10},  {"128 b64 layer 1", 64, 784, 128},
                            {"128 b64 layer 2", 64, 128, 10},           {"512 b64 layer 1", 64, 784, 512}};
    std::mt19937 gen(1);  // NOLINT(bugprone-random-generator-seed)
    std::normal_distribution<float> normal;
    std::printf("| GEMM | shape (N x D x M) | fastmlp GFLOP/s | Eigen GFLOP/s | fastmlp / Eigen time |\n|---|---|---|---|---|\n");
    for (const Shape& s : shapes) {
        std::vector<float> x(s.N * s.D), w(s.D * s.M), dz(s.N * s.M), out(s.N * s.M), dw(s.D * s.M), dx(s.N * s.D);
        for (auto* v : {&x, &w, &dz})
            for (auto& e : *v) e = normal(gen);
        const double flops = 2.0 * double(s.N * s.D * s.M);
        const int repeats = flops > 1e8 ? 10 : 100;
        Eigen::Map<Matrix> X(x.data(), s.N, s.D), W(w.data(), s.D, s.M), DZ(dz.data(), s.N, s.M);
        Eigen::Map<Matrix> Out(out.data(), s.N, s.M), DW(dw.data(), s.D, s.M), DX(dx.data(), s.N, s.D);
        const char* names[3] = {"forward", "dW", "dX"};
        for (int op = 0; op < 3; ++op) {
            const auto ours = [&] {
                if (op == 0) fastmlp::gemm_nn(x.data(), s.D, w.data(), out.data(), s.N, s.D, s.M);
                if (op == 1) fastmlp::gemm_tn(x.data(), s.D, dz.data(), dw.data(), s.D, s.N, s.M);
                if (op == 2) fastmlp::gemm_nt(dz.data(), w.data(), dx.data(), s.N, s.M, s.D);
            };
            const auto eigen = [&] {
                if (op == 0) Out.noalias() = X * W;
                if (op == 1) DW.noalias() = X.transpose() * DZ;
                if (op == 2) DX.noalias() = DZ * W.transpose();
            };
            double a = 1e30, b = 1e30;
            for (int round = 0; round < 3; ++round) {  // interleaved
                a = std::min(a, best_seconds(ours, repeats));
                b = std::min(b, best_seconds(eigen, repeats));
            }
            std::printf("| %s | %s (%ldx%ldx%ld) | %.1f | %.1f | %.2f |\n", names[op], s.label, long(s.N), long(s.D),
                        long(s.M), flops / a / 1e9, flops / b / 1e9, a / b);
        }
    }
}
