// The output layers and their losses as one table (its rows in losses.cpp, reached by loss_row),
// indexed by the code fastmlp.backends.tables.LOSSES gives each row (the bindings export the names
// and codes as _cpp.loss_codes; a test holds them equal). Each row turns the last layer's scores
// into its output (softmax, logistic, identity, exp) and gives one row's loss against its target;
// every pair is a canonical link, so the gradient w.r.t. the scores is (output - target) * weight
// / norm for all of them (loss_gradient below).
#pragma once

#include <cstdint>
#include <string_view>

#include "kernels.hpp"

namespace fastmlp {

// One batch's targets: labels (N,) int64 (softmax cross-entropy) or values (N, K) of T (the others).
template <typename T>
struct Targets {
    const std::int64_t* labels = nullptr;
    const T* values = nullptr;
};

// One row: out (K,) = output(scores (K,)); returns the row's loss against its target (label or
// values (K,)). correct: whether the row's prediction matches its target.
template <typename T>
struct LossKernels {
    std::string_view name;
    bool labels;  // targets are integer labels (else values (N, K))
    double (*row_loss)(const T* scores, std::int64_t label, const T* values, T* out, index_t K);
    bool (*row_correct)(const T* scores, const T* out, std::int64_t label, const T* values, index_t K);
};

// The rows, in code order (losses.cpp holds the table): row ``loss``, 0 <= loss < loss_count.
template <typename T>
const LossKernels<T>& loss_row(int loss);
constexpr int loss_count = 4;  // softmax_cross_entropy, binary_cross_entropy, squared_error, poisson_deviance

// sum_n w_n loss_n / sum_n w_n (w = 1 when weights is nullptr), summed in double; out (N, K) the
// outputs. scores (N, K), targets (N,) labels or (N, K) values, weights (N,) or nullptr.
template <typename T>
double output_loss(int loss, const T* scores, const Targets<T>& y, const T* weights, T* out, index_t N,
                   index_t K);

// dscores = (out - target) * w / norm, target onehot(label) or the values row. out (N, K) -> dscores (N, K).
// norm: the batch's row count or weight sum (a thread's N rows may be part of a larger batch).
template <typename T>
void loss_gradient(const T* out, const Targets<T>& y, const T* weights, T* dscores, index_t N, index_t K,
                   double norm);

// Rows whose prediction matches the target (first arg-max = label; every output > 0.5 exactly where
// the indicator is 1; never for regression: squared error, Poisson deviance).
template <typename T>
std::int64_t output_correct(int loss, const T* scores, const T* out, const Targets<T>& y, index_t N, index_t K);

}  // namespace fastmlp
