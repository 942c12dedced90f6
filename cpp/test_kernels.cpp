// Standalone check of the C++ kernels against naive loops (the oracle), without Python.
// Build and run (as .ci/run does): cmake -S . -B build/ctest -DFASTMLP_BUILD_CPP_TESTS=ON
//   -DFASTMLP_BUILD_PYTHON_MODULE=OFF && cmake --build build/ctest && ctest --test-dir build/ctest
// (exit status 0 = all passed).
// Also the natural target for FASTMLP_SANITIZE=ON (no ASan runtime preloading needed).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "epoch.hpp"
#include "gemm.hpp"
#include "gemm_bf16.hpp"
#include "kernels.hpp"
#include "losses.hpp"
#include "runtime.hpp"
#include "sparse.hpp"

using fastmlp::index_t;

namespace {

int failures = 0;

void check(bool ok, const char* what, double err) {
    if (!ok) {
        std::printf("FAIL %s (error %g)\n", what, err);
        ++failures;
    }
}

template <typename T>
double max_diff(const std::vector<T>& a, const std::vector<double>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
    return worst;
}

template <typename T>
void run(double tol) {
    std::mt19937 gen(7);  // NOLINT(bugprone-random-generator-seed): the same inputs every run
    std::normal_distribution<double> normal;
    const index_t N = 7, D = 13, M = 5, C = 4;
    std::vector<T> x(N * D), w(D * M), b(M), dout(N * M);
    for (auto* v : {&x, &w, &b, &dout})
        for (auto& e : *v) e = T(normal(gen));

    // affine forward and backward against triple loops in double
    std::vector<T> out(N * M), dx(N * D), dw(D * M), db(M);
    fastmlp::affine_forward(x.data(), w.data(), b.data(), out.data(), N, D, M);
    fastmlp::affine_backward(dout.data(), x.data(), w.data(), dx.data(), dw.data(), db.data(), N, D, M);
    std::vector<double> out_ref(N * M), dx_ref(N * D, 0), dw_ref(D * M, 0), db_ref(M, 0);
    for (index_t n = 0; n < N; ++n)
        for (index_t m = 0; m < M; ++m) {
            double s = b[m];
            for (index_t d = 0; d < D; ++d) {
                s += double(x[n * D + d]) * w[d * M + m];
                dx_ref[n * D + d] += double(dout[n * M + m]) * w[d * M + m];
                dw_ref[d * M + m] += double(x[n * D + d]) * dout[n * M + m];
            }
            out_ref[n * M + m] = s;
            db_ref[m] += dout[n * M + m];
        }
    check(max_diff(out, out_ref) < tol, "affine_forward", max_diff(out, out_ref));
    check(max_diff(dx, dx_ref) < tol, "affine_backward dx", max_diff(dx, dx_ref));
    check(max_diff(dw, dw_ref) < tol, "affine_backward dw", max_diff(dw, dw_ref));

    // the parts the native epoch calls on blocks: dx rows, dW rows from a block of x's columns, db columns
    std::vector<T> dx_part(N * D), dw_part((D - 2) * M), db_part(M - 1);
    fastmlp::input_gradient(dout.data(), w.data(), dx_part.data(), N, D, M);
    fastmlp::weight_gradient(x.data() + 2, D, dout.data(), dw_part.data(), N, D - 2, M);
    fastmlp::bias_gradient(dout.data() + 1, M, db_part.data(), N, M - 1);
    check(max_diff(dx_part, dx_ref) < tol, "input_gradient", max_diff(dx_part, dx_ref));
    const std::vector<double> dw_block(dw_ref.begin() + 2 * M, dw_ref.end()),
        db_block(db_ref.begin() + 1, db_ref.end());
    check(max_diff(dw_part, dw_block) < tol, "weight_gradient of a column block", max_diff(dw_part, dw_block));
    check(max_diff(db_part, db_block) < tol, "bias_gradient of a column block", max_diff(db_part, db_block));
    check(max_diff(db, db_ref) < tol, "affine_backward db", max_diff(db, db_ref));

    // sigmoid: finite and in [0, 1] at the extremes, matches the formula in the middle
    std::vector<T> z = {T(-1e4), T(-50), T(-1), T(0), T(1), T(50), T(1e4), std::numeric_limits<T>::max()};
    std::vector<T> a(z.size());
    fastmlp::sigmoid_forward(z.data(), a.data(), index_t(z.size()));
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double expected = 1.0 / (1.0 + std::exp(-double(z[i])));
        check(std::isfinite(double(a[i])) && std::abs(a[i] - expected) < tol, "sigmoid_forward", a[i] - expected);
    }

    // softmax of +-1e4 rows: finite, rows sum to 1; cross-entropy of a 0 probability is finite
    std::vector<T> s = {T(1e4), T(-1e4), T(0), T(1), T(-1e4), T(-1e4), T(-1e4), T(-1e4)};
    std::vector<T> p(s.size());
    std::vector<std::int64_t> y = {1, 2};
    fastmlp::softmax_forward(s.data(), p.data(), 2, C);
    for (index_t n = 0; n < 2; ++n) {
        double sum = 0;
        for (index_t c = 0; c < C; ++c) sum += p[n * C + c];
        check(std::abs(sum - 1) < tol, "softmax rows sum to 1", sum - 1);
    }
    const double ce = fastmlp::cross_entropy_forward(p.data(), y.data(), 2, C);
    check(std::isfinite(ce), "cross_entropy finite at p = 0", ce);
    const double fused = fastmlp::softmax_cross_entropy(s.data(), y.data(), p.data(), 2, C);
    const double fused_ref = (2e4 + std::log(4.0)) / 2;  // row 0: logsumexp = 1e4, s_y = -1e4; row 1: log 4
    check(std::abs(fused - fused_ref) < 1e-3, "softmax_cross_entropy stable", fused - fused_ref);

    // momentum SGD: v = m v - lr (g + reg p); p += v
    std::vector<T> param = {T(1), T(-2)}, grad = {T(0.5), T(0.25)}, vel = {T(0.1), T(-0.1)};
    fastmlp::sgd_update(param.data(), grad.data(), vel.data(), 2, 0.1, 0.01, 0.9);
    const double v0 = 0.9 * 0.1 - 0.1 * (0.5 + 0.01 * 1), v1 = 0.9 * -0.1 - 0.1 * (0.25 + 0.01 * -2);
    check(std::abs(vel[0] - v0) < tol && std::abs(vel[1] - v1) < tol, "sgd velocity", vel[0] - v0);
    check(std::abs(param[0] - (1 + v0)) < tol && std::abs(param[1] - (-2 + v1)) < tol, "sgd param",
          param[0] - 1 - v0);

    // the last row of a batch of 2 alone (one thread's rows): the same numbers as in the whole batch
    std::vector<T> dscores(s.size()), dscores_row(C);
    fastmlp::softmax_cross_entropy_backward(p.data(), y.data(), dscores.data(), 2, C);
    fastmlp::softmax_cross_entropy_backward_rows(p.data() + C, y.data() + 1, dscores_row.data(), 1, C, 2);
    bool same_row = true;
    for (index_t c = 0; c < C; ++c) same_row = same_row && dscores_row[c] == dscores[C + c];
    check(same_row, "softmax_cross_entropy_backward_rows", 0);

    // a native epoch runs over a ragged last batch and counts every batch
    fastmlp::NativeModel<T> net;
    std::vector<T> w1(D * C, T(0.01)), b1(C, T(0));
    fastmlp::NativeLayer<T> layer;
    layer.fan_in = D, layer.fan_out = C, layer.w = w1.data(), layer.b = b1.data();
    layer.activation = fastmlp::activation_code("relu");
    net.layers.push_back(layer);
    std::vector<std::int64_t> labels(N), order(N);
    for (index_t n = 0; n < N; ++n) labels[n] = n % C, order[n] = N - 1 - n;
    fastmlp::StepSettings step;
    step.learning_rate = 0.1;
    const fastmlp::Targets<T> targets{labels.data(), nullptr};
    const auto result =
        fastmlp::train_epoch(net, x.data(), targets, static_cast<const T*>(nullptr), order.data(), N, D, 3, step);
    check(result.batches == 3 && std::isfinite(result.loss_sum), "train_epoch batches", double(result.batches));
}

// The Poisson deviance row (looked up by name, as the bindings export it) against its formula in
// double, y = 0 included; exp is unclipped as scikit-learn's, so a score of 1000 gives p = inf and an
// infinite loss (y = 0) or nan (y > 0, inf - inf), computed without a crash, with gradient p - y.
template <typename T>
void check_poisson_deviance(double tol) {
    int code = -1;
    for (int c = 0; c < fastmlp::loss_count; ++c)
        if (fastmlp::loss_row<T>(c).name == "poisson_deviance") code = c;
    check(code >= 0, "the loss table has poisson_deviance", code);
    if (code < 0) return;
    const index_t N = 2, K = 2;
    const std::vector<T> scores = {T(0.5), T(-1), T(2), T(0)}, counts = {T(0), T(3), T(1), T(2)};
    const std::vector<T> weights = {T(1), T(3)};
    std::vector<T> out(N * K), dscores(N * K);
    const fastmlp::Targets<T> y{nullptr, counts.data()};
    const double loss = fastmlp::output_loss(code, scores.data(), y, weights.data(), out.data(), N, K);
    double expected = 0;
    for (index_t n = 0; n < N; ++n) {
        double row = 0;
        for (index_t k = 0; k < K; ++k) {
            const double p = std::exp(double(scores[n * K + k])), v = counts[n * K + k];
            row += (v == 0 ? 0.0 : v * std::log(v / p)) - v + p;
        }
        expected += double(weights[n]) * row / 4.0;
    }
    check(std::abs(loss - expected) < tol * std::abs(expected), "poisson_deviance loss", loss - expected);
    fastmlp::loss_gradient(out.data(), y, static_cast<const T*>(nullptr), dscores.data(), N, K, double(N));
    double worst = 0;
    for (index_t i = 0; i < N * K; ++i)
        worst = std::max(worst, std::abs(double(dscores[i]) - (std::exp(double(scores[i])) - counts[i]) / N));
    check(worst < tol * 8, "poisson_deviance gradient (p - y) / N", worst);
    const std::vector<T> huge = {T(1000)}, zero = {T(0)}, three = {T(3)};
    std::vector<T> p(1);
    const double at_zero = fastmlp::output_loss(code, huge.data(), fastmlp::Targets<T>{nullptr, zero.data()},
                                                static_cast<const T*>(nullptr), p.data(), 1, 1);
    check(std::isinf(double(p[0])) && std::isinf(at_zero), "poisson_deviance overflow, y = 0: inf", at_zero);
    const double at_three = fastmlp::output_loss(code, huge.data(), fastmlp::Targets<T>{nullptr, three.data()},
                                                 static_cast<const T*>(nullptr), p.data(), 1, 1);
    check(std::isnan(at_three), "poisson_deviance overflow, y > 0: nan", at_three);
}

// The share of `batches` batches that TeamSchedule(measured) runs on the whole team, when a batch
// takes team_seconds(k) on the team and solo_seconds(k) on the leader alone, counted from batch `from`.
template <typename TeamTime, typename SoloTime>
double team_share(int batches, int from, TeamTime team_seconds, SoloTime solo_seconds) {
    fastmlp::TeamSchedule schedule(fastmlp::TeamSchedule::Policy::measured);
    int on_team = 0;
    for (int k = 0; k < batches; ++k) {
        const bool team = schedule.team_next();
        if (team && k >= from) ++on_team;
        schedule.record(team ? team_seconds(k) : solo_seconds(k));
    }
    return double(on_team) / (batches - from);
}

void check_team_schedule() {
    using fastmlp::TeamSchedule;
    TeamSchedule alternate(TeamSchedule::Policy::alternate), whole(TeamSchedule::Policy::whole_team);
    bool alternates = true, stays = true;
    for (int k = 0; k < 10; ++k) {
        alternates = alternates && alternate.team_next() == (k % 2 == 0);
        stays = stays && whole.team_next();
        alternate.record(1.0);
        whole.record(k % 2 == 0 ? 1.0 : 9.0);
    }
    check(alternates, "TeamSchedule alternate switches after every batch", 0);
    check(stays, "TeamSchedule whole_team never leaves the team", 0);
    // The faster way gets nearly every batch, whichever it is (batches of 100 us, as MNIST's).
    const auto fast = [](int) { return 1e-4; };
    const auto slow = [](int) { return 1.6e-4; };
    const double team_faster = team_share(4000, 0, fast, slow), solo_faster = team_share(4000, 0, slow, fast);
    check(team_faster > 0.95, "TeamSchedule keeps a faster team", team_faster);
    check(solo_faster < 0.03, "TeamSchedule leaves a slower team", solo_faster);
    // ... and it follows a change: the team gets 4x slower than the leader alone at batch 2000 (a
    // busy process starts), then 2x faster again at batch 6000; it is back within max_backoff.
    const auto busy_between = [](int k) { return k >= 2000 && k < 6000 ? 4e-4 : 0.5e-4; };
    const double busy = team_share(6000, 2200, busy_between, fast);
    const double quiet_again = team_share(12000, 9000, busy_between, fast);
    check(busy < 0.03, "TeamSchedule drops the team once it got slower", busy);
    check(quiet_again > 0.95, "TeamSchedule comes back to the team", quiet_again);
}

// The three GEMMs at edge shapes (1, odd, not multiples of any tile, two k blocks, two column
// blocks) against a double triple loop, within the bound of a K-term sum, |err| <= K eps |a| |b|.
// A is read with a row stride lda wider than its rows (a block of columns, as the native epoch's dW
// reads x); C has a canary after it. With fastmlp's own GEMM, rows [16, N) computed alone must be
// bit for bit those of the whole call (the thread split of the native epoch).
template <typename T>
void check_gemms() {
    struct Shape {
        index_t N, K, M;
    };
    const Shape shapes[] = {{1, 1, 1}, {7, 13, 5}, {17, 257, 33}, {25, 129, 1030}, {40, 300, 10}, {64, 784, 128}};
    std::mt19937 gen(11);  // NOLINT(bugprone-random-generator-seed): the same inputs every run
    std::normal_distribution<double> normal;
    const T canary = T(12345);
    const bool own = std::string(fastmlp::gemm_kind()).rfind("fastmlp", 0) == 0;  // not Eigen's, not OpenBLAS's
    for (const Shape& s : shapes) {
        const index_t N = s.N, K = s.K, M = s.M, pad = 3;
        // nn: a (N, K) rows K + pad apart; tn: a (K, N) rows N + pad apart; nt: a (N, K), b (M, K).
        std::vector<T> a_nn(N * (K + pad)), a_tn(K * (N + pad)), b(K * M), b_nt(M * K);
        for (auto* v : {&a_nn, &a_tn, &b, &b_nt})
            for (auto& e : *v) e = T(normal(gen));
        std::vector<T> c_nn(N * M + 1, T(-7)), c_tn(N * M + 1, T(-7)), c_nt(N * M + 1, T(-7));
        c_nn[N * M] = c_tn[N * M] = c_nt[N * M] = canary;
        fastmlp::gemm_nn(a_nn.data(), K + pad, b.data(), c_nn.data(), N, K, M);
        fastmlp::gemm_tn(a_tn.data(), N + pad, b.data(), c_tn.data(), N, K, M);
        fastmlp::gemm_nt(a_nn.data(), b_nt.data(), c_nt.data(), N, K, M);  // a_nn read as (N, K) rows K apart
        double worst[3] = {0, 0, 0};
        const double eps = std::numeric_limits<T>::epsilon();
        for (index_t n = 0; n < N; ++n)
            for (index_t m = 0; m < M; ++m) {
                double ref[3] = {0, 0, 0}, mag[3] = {0, 0, 0};
                for (index_t k = 0; k < K; ++k) {
                    const double p[3] = {double(a_nn[n * (K + pad) + k]) * b[k * M + m],
                                         double(a_tn[k * (N + pad) + n]) * b[k * M + m],
                                         double(a_nn[n * K + k]) * b_nt[m * K + k]};
                    for (int i = 0; i < 3; ++i) ref[i] += p[i], mag[i] += std::abs(p[i]);
                }
                const T got[3] = {c_nn[n * M + m], c_tn[n * M + m], c_nt[n * M + m]};
                for (int i = 0; i < 3; ++i)
                    worst[i] = std::max(worst[i],
                                        std::abs(double(got[i]) - ref[i]) / (double(K) * eps * mag[i] + 1e-300));
            }
        check(worst[0] <= 1.0, "gemm_nn (strided a) within K eps |a||b|", worst[0]);
        check(worst[1] <= 1.0, "gemm_tn (strided a) within K eps |a||b|", worst[1]);
        check(worst[2] <= 1.0, "gemm_nt within K eps |a||b|", worst[2]);
        check(c_nn[N * M] == canary && c_tn[N * M] == canary && c_nt[N * M] == canary, "gemm writes only C", 0);
        if (own && N > 16) {
            const index_t rows = N - 16;
            std::vector<T> part(rows * M);
            fastmlp::gemm_nn(a_nn.data() + 16 * (K + pad), K + pad, b.data(), part.data(), rows, K, M);
            check(std::equal(part.begin(), part.end(), c_nn.begin() + 16 * M), "gemm_nn rows alone, same bits",
                  0);
            fastmlp::gemm_tn(a_tn.data() + 16, N + pad, b.data(), part.data(), rows, K, M);
            check(std::equal(part.begin(), part.end(), c_tn.begin() + 16 * M), "gemm_tn rows alone, same bits",
                  0);
            fastmlp::gemm_nt(a_nn.data() + 16 * K, b_nt.data(), part.data(), rows, K, M);
            check(std::equal(part.begin(), part.end(), c_nt.begin() + 16 * M), "gemm_nt rows alone, same bits",
                  0);
        }
    }
}

}  // namespace

// count_nonzeros / compress_rows against a plain reading of a small x (3, 4): an all-zero row,
// -0.0 (a zero) and NaN (a non-zero, as x != 0 says), columns ascending, the values where they sat.
template <typename T>
void check_sparse_scan() {
    const T nan = std::numeric_limits<T>::quiet_NaN();
    const std::vector<T> x = {0, 2, 0, 3, /**/ 0, 0, -0.0, 0, /**/ nan, 0, 5, 6};
    std::vector<std::int64_t> indptr(4, -1), column_nnz(4, -1);
    check(!fastmlp::count_nonzeros(x.data(), 3, 4, indptr.data(), column_nnz.data()), "count_nonzeros: NaN", 0);
    check(indptr == std::vector<std::int64_t>{0, 2, 2, 5}, "count_nonzeros indptr", double(indptr[3]));
    check(column_nnz == std::vector<std::int64_t>{1, 1, 1, 2}, "count_nonzeros column_nnz", 0);
    // finite: true for finite values (zeros, -0.0, the largest), false for one infinity anywhere
    std::vector<T> finite = {0, -0.0, std::numeric_limits<T>::max(), -1, /**/ 0, 0, 0, 0, /**/ 1, 2, 3, 4};
    check(fastmlp::count_nonzeros(finite.data(), 3, 4, indptr.data(), column_nnz.data()),
          "count_nonzeros: finite", 0);
    finite[10] = -std::numeric_limits<T>::infinity();
    check(!fastmlp::count_nonzeros(finite.data(), 3, 4, indptr.data(), column_nnz.data()), "count_nonzeros: inf",
          0);
    fastmlp::count_nonzeros(x.data(), 3, 4, indptr.data(), column_nnz.data());
    std::vector<fastmlp::column_index> indices(5);
    std::vector<T> values(5);
    fastmlp::compress_rows(x.data(), 3, 4, indptr.data(), indices.data(), values.data());
    check(indices == std::vector<fastmlp::column_index>{1, 3, 0, 2, 3}, "compress_rows indices", 0);
    check(values[0] == 2 && values[1] == 3 && std::isnan(values[2]) && values[3] == 5 && values[4] == 6,
          "compress_rows values", 0);
    // wider rows (whole vectors and a partial one, 0, 1 or many non-zeros a row) against a plain loop;
    // nothing written past the non-zeros, with or without values
    const fastmlp::index_t N = 6, D = 75;
    std::vector<T> wide(static_cast<std::size_t>(N * D), T(0));
    std::uint32_t state = 7;
    for (fastmlp::index_t i = 2; i < N * D; ++i) {
        state = state * 1664525U + 1013904223U;
        const std::uint32_t pick = (state >> 8U) % 8U;
        if (i >= D && i < 2 * D) continue;  // row 1 empty
        wide[static_cast<std::size_t>(i)] = pick == 0   ? T(-0.0)
                                            : pick == 1 ? nan
                                            : pick < 5  ? T(0)
                                                        : T(pick) / T(3);
    }
    wide[static_cast<std::size_t>(D - 1)] = T(4);  // row 0: one non-zero, in the last column
    std::vector<std::int64_t> wide_ptr(N + 1), wide_nnz(D);
    fastmlp::count_nonzeros(wide.data(), N, D, wide_ptr.data(), wide_nnz.data());
    std::vector<fastmlp::column_index> expect_indices;
    std::vector<T> expect_values;
    for (fastmlp::index_t i = 0; i < N; ++i) {
        for (fastmlp::index_t d = 0; d < D; ++d) {
            const T v = wide[static_cast<std::size_t>(i * D + d)];
            if (v != T(0)) {
                expect_indices.push_back(static_cast<fastmlp::column_index>(d));
                expect_values.push_back(v);
            }
        }
    }
    const std::size_t nnz = expect_indices.size();
    const auto canary = static_cast<fastmlp::column_index>(54321);
    std::vector<fastmlp::column_index> got_indices(nnz + 1, canary), bare_indices(nnz + 1, canary);
    std::vector<T> got_values(nnz + 1, T(-9));
    fastmlp::compress_rows(wide.data(), N, D, wide_ptr.data(), got_indices.data(), got_values.data());
    fastmlp::compress_rows(wide.data(), N, D, wide_ptr.data(), bare_indices.data(), static_cast<T*>(nullptr));
    bool same = static_cast<std::size_t>(wide_ptr[N]) == nnz && got_indices.back() == canary &&
                bare_indices.back() == canary && got_values.back() == T(-9);
    for (std::size_t k = 0; same && k < nnz; ++k) {
        same = got_indices[k] == expect_indices[k] && bare_indices[k] == expect_indices[k] &&
               (got_values[k] == expect_values[k] || (std::isnan(got_values[k]) && std::isnan(expect_values[k])));
    }
    check(same, "compress_rows of wide rows: a plain loop's columns and values, nothing past them", double(nnz));
}

// sparse_rows_times (several rows side by side) against sparse_row_times / sparse_row_times_dense one
// row at a time: the same bits for every width M (whole blocks, a partial block, narrower than one),
// rows in any order (repeated, an empty one), with and without init, values copied or read from x;
// nothing written past the n rows.
template <typename T>
void check_sparse_rows_times() {
    const fastmlp::index_t N = 9, D = 37;
    std::vector<T> x(static_cast<std::size_t>(N * D), T(0));
    std::uint32_t state = 12345;
    const auto next = [&state] { return state = state * 1664525U + 1013904223U; };
    for (fastmlp::index_t i = 1; i < N; ++i) {  // row 0 stays empty
        for (fastmlp::index_t d = 0; d < D; ++d) {
            if (next() % 3 == 0) x[static_cast<std::size_t>(i * D + d)] = T(int(next() % 2001) - 1000) / T(997);
        }
    }
    std::vector<std::int64_t> indptr(N + 1), column_nnz(D);
    fastmlp::count_nonzeros(x.data(), N, D, indptr.data(), column_nnz.data());
    std::vector<fastmlp::column_index> indices(static_cast<std::size_t>(indptr[N]));
    std::vector<T> values(static_cast<std::size_t>(indptr[N]));
    fastmlp::compress_rows(x.data(), N, D, indptr.data(), indices.data(), values.data());
    const std::vector<std::int64_t> rows = {3, 0, 8, 8, 1, 5, 2, 7, 4, 6, 3};
    const auto n = static_cast<fastmlp::index_t>(rows.size());
    bool same = true, inside = true;
    for (const fastmlp::index_t M : {1, 7, 64, 100, 128, 200}) {
        std::vector<T> w(static_cast<std::size_t>(D * M)), b(static_cast<std::size_t>(M));
        for (T& v : w) v = T(int(next() % 2001) - 1000) / T(1009);
        for (T& v : b) v = T(int(next() % 2001) - 1000) / T(1013);
        for (const bool copied : {true, false}) {
            const fastmlp::SparseRows<T> sparse{
                x.data(), D, indptr.data(), indices.data(), copied ? values.data() : nullptr, column_nnz.data()};
            for (const T* init : {static_cast<const T*>(nullptr), static_cast<const T*>(b.data())}) {
                const T canary = T(-7.25);
                std::vector<T> out(static_cast<std::size_t>(n * M + 1), canary),
                    ref(static_cast<std::size_t>(n * M));
                fastmlp::sparse_rows_times(sparse, rows.data(), n, w.data(), M, init, out.data());
                for (fastmlp::index_t i = 0; i < n; ++i) {
                    const std::int64_t r = rows[static_cast<std::size_t>(i)],
                                       k = indptr[static_cast<std::size_t>(r)];
                    const fastmlp::index_t count = indptr[static_cast<std::size_t>(r) + 1] - k;
                    T* dest = ref.data() + i * M;
                    if (copied) {
                        fastmlp::sparse_row_times(values.data() + k, indices.data() + k, count, w.data(), M, init,
                                                  dest);
                    } else {
                        fastmlp::sparse_row_times_dense(x.data() + r * D, indices.data() + k, count, w.data(), M,
                                                        init, dest);
                    }
                }
                same = same && std::equal(ref.begin(), ref.end(), out.begin());
                inside = inside && out.back() == canary;
            }
        }
    }
    check(same, "sparse_rows_times: the bits of sparse_row_times row by row", 0);
    check(inside, "sparse_rows_times writes only its n rows", 0);
}

// BatchColumns::gradient_row against column() and gather_rows_axpy: the same bits for every width
// (one block of the widest vectors takes the path without lists), over a batch of more than 64
// rows (two words of bits a column; repeated rows, an empty one) and a range of columns.
template <typename T>
void check_gradient_rows() {
    const fastmlp::index_t N = 9, D = 40, d0 = 3, d1 = 31;
    std::vector<T> x(static_cast<std::size_t>(N * D), T(0));
    std::uint32_t state = 99;
    const auto next = [&state] { return state = state * 1664525U + 1013904223U; };
    for (fastmlp::index_t i = 1; i < N * D; ++i) {
        if (i >= 2 * D && i < 3 * D) continue;  // row 2 empty
        if (next() % 3 == 0) x[static_cast<std::size_t>(i)] = T(int(next() % 2001) - 1000) / T(991);
    }
    std::vector<std::int64_t> indptr(N + 1), column_nnz(D);
    fastmlp::count_nonzeros(x.data(), N, D, indptr.data(), column_nnz.data());
    std::vector<fastmlp::column_index> indices(static_cast<std::size_t>(indptr[N]));
    std::vector<T> values(static_cast<std::size_t>(indptr[N]));
    fastmlp::compress_rows(x.data(), N, D, indptr.data(), indices.data(), values.data());
    const fastmlp::SparseRows<T> sparse{x.data(),         D, indptr.data(), indices.data(), values.data(),
                                        column_nnz.data()};
    std::vector<std::int64_t> order(70);
    for (std::int64_t& r : order) r = static_cast<std::int64_t>(next() % N);
    const auto n = static_cast<fastmlp::index_t>(order.size());
    bool same = true;
    for (const fastmlp::index_t M : {16, 32, 64, 100, 128}) {
        std::vector<T> dz(static_cast<std::size_t>(n * M));
        for (T& v : dz) v = T(int(next() % 2001) - 1000) / T(1019);
        fastmlp::BatchColumns<T> fused, listed;
        fused.build(sparse, order.data(), n, d0, d1);
        listed.build(sparse, order.data(), n, d0, d1);
        std::vector<T> got(static_cast<std::size_t>(M)), want(static_cast<std::size_t>(M));
        for (fastmlp::index_t d = d0; d < d1; ++d) {
            const fastmlp::index_t count = fused.gradient_row(sparse, d, dz.data(), M, got.data());
            const fastmlp::index_t listed_count = listed.column(sparse, d);
            fastmlp::gather_rows_axpy(dz.data(), M, listed.row.data(), listed.value.data(), listed_count,
                                      static_cast<const T*>(nullptr), want.data());
            same = same && count == listed_count && got == want;
        }
    }
    check(same, "BatchColumns::gradient_row: the bits of column() and gather_rows_axpy", 0);
}

// The nearest bfloat16 (ties to even; subnormals as zero, as VCVTNE2PS2BF16), as a float.
float round_bf16(float v) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x7F800000U) == 0) bits &= 0x80000000U;
    bits = (bits + 0x7FFFU + ((bits >> 16U) & 1U)) & 0xFFFF0000U;  // finite inputs only here
    float out = 0;
    std::memcpy(&out, &bits, sizeof out);
    return out;
}

// The three bfloat16 GEMMs against rounded inputs multiplied in double, on shapes with odd K, tail
// tiles and every tile width; all three layouts must give the same bits (one chain per element).
// A CPU without AVX512_BF16 must refuse them instead.
void check_bf16_gemms() {
    std::mt19937 gen(11);  // NOLINT(bugprone-random-generator-seed): the same inputs every run
    std::normal_distribution<float> normal;
    const index_t shapes[][3] = {{37, 33, 10}, {5, 1, 17}, {64, 600, 70}, {13, 40, 33}};
    for (const auto& shape : shapes) {
        const index_t N = shape[0], K = shape[1], M = shape[2];
        std::vector<float> a(N * K), b(K * M), at(K * N), bt(M * K), c(N * M), c_tn(N * M), c_nt(N * M);
        for (auto& e : a) e = normal(gen);
        for (auto& e : b) e = normal(gen);
        for (index_t i = 0; i < N; ++i)
            for (index_t k = 0; k < K; ++k) at[k * N + i] = a[i * K + k];
        for (index_t k = 0; k < K; ++k)
            for (index_t j = 0; j < M; ++j) bt[j * K + k] = b[k * M + j];
        if (!fastmlp::cpu_has_bf16()) {
            bool refused = false;
            try {
                fastmlp::gemm_nn_bf16(a.data(), K, b.data(), c.data(), N, K, M);
            } catch (const std::exception&) {
                refused = true;
            }
            check(refused, "bf16 gemm refused without AVX512_BF16", 0);
            return;
        }
        fastmlp::gemm_nn_bf16(a.data(), K, b.data(), c.data(), N, K, M);
        fastmlp::gemm_tn_bf16(at.data(), N, b.data(), c_tn.data(), N, K, M);
        fastmlp::gemm_nt_bf16(a.data(), bt.data(), c_nt.data(), N, K, M);
        std::vector<double> ref(N * M, 0.0);
        for (index_t i = 0; i < N; ++i)
            for (index_t j = 0; j < M; ++j)
                for (index_t k = 0; k < K; ++k)
                    ref[i * M + j] += double(round_bf16(a[i * K + k])) * double(round_bf16(b[k * M + j]));
        const double err = max_diff(c, ref);
        check(err < 1e-4 * std::sqrt(double(K)), "bf16 gemm_nn vs rounded inputs", err);
        check(std::memcmp(c.data(), c_tn.data(), c.size() * sizeof(float)) == 0, "bf16 gemm_tn bits", 0);
        check(std::memcmp(c.data(), c_nt.data(), c.size() * sizeof(float)) == 0, "bf16 gemm_nt bits", 0);
    }
}

int main() {
    run<float>(1e-4);
    run<double>(1e-10);
    check_poisson_deviance<float>(1e-6);
    check_poisson_deviance<double>(1e-13);
    check_gemms<float>();
    check_gemms<double>();
    check_team_schedule();
    check_sparse_scan<float>();
    check_sparse_scan<double>();
    check_sparse_rows_times<float>();
    check_sparse_rows_times<double>();
    check_gradient_rows<float>();
    check_gradient_rows<double>();
    check_bf16_gemms();
    std::printf(failures == 0 ? "all C++ kernel checks passed\n" : "%d C++ kernel checks failed\n", failures);
    return failures == 0 ? 0 : 1;
}
