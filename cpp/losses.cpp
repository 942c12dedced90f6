// The loss rows of losses.hpp: one row at a time, losses in double.
#include "losses.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace fastmlp {
namespace {

template <typename T>
double softmax_cross_entropy_row(const T* scores, std::int64_t label, const T* /*values*/, T* out, index_t K) {
    return softmax_cross_entropy(scores, &label, out, 1, K);  // the batch kernel on one row: same bits
}

template <typename T>
bool softmax_cross_entropy_correct(const T* scores, const T* /*out*/, std::int64_t label, const T* /*values*/,
                                   index_t K) {
    return correct_count(scores, &label, 1, K) == 1;
}

template <typename T>
double binary_cross_entropy_row(const T* scores, std::int64_t /*label*/, const T* values, T* out, index_t K) {
    sigmoid_forward(scores, out, K);
    // scikit-learn's binary_log_loss: p clipped to [eps, 1 - eps] of the dtype, summed over outputs.
    const T eps = std::numeric_limits<T>::epsilon();
    double total = 0.0;
    for (index_t k = 0; k < K; ++k) {
        const double p = std::clamp(out[k], eps, T(1) - eps), y = values[k];
        total -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
    }
    return total;
}

template <typename T>
bool binary_cross_entropy_correct(const T* /*scores*/, const T* out, std::int64_t /*label*/, const T* values,
                                  index_t K) {
    for (index_t k = 0; k < K; ++k) {
        if ((out[k] > T(0.5)) != (values[k] > T(0.5))) return false;
    }
    return true;
}

template <typename T>
double squared_error_row(const T* scores, std::int64_t /*label*/, const T* values, T* out, index_t K) {
    // scikit-learn's squared_loss: half the mean over outputs of the squared difference.
    double total = 0.0;
    for (index_t k = 0; k < K; ++k) {
        out[k] = scores[k];
        const double d = static_cast<double>(scores[k]) - static_cast<double>(values[k]);
        total += d * d;
    }
    return 0.5 * total / static_cast<double>(K);
}

template <typename T>
bool squared_error_correct(const T* /*scores*/, const T* /*out*/, std::int64_t /*label*/, const T* /*values*/,
                           index_t /*K*/) {
    return false;
}

template <typename T>
double poisson_deviance_row(const T* scores, std::int64_t /*label*/, const T* values, T* out, index_t K) {
    // scikit-learn's poisson_loss: half the Poisson deviance of p = exp(s), summed over outputs.
    // exp is not clipped (as scikit-learn's): p = inf above log(max T), and the loss inf or nan.
    double total = 0.0;
    for (index_t k = 0; k < K; ++k) {
        out[k] = std::exp(scores[k]);
        const double p = out[k], y = values[k], ratio = y / p;
        const double xlogy = (y == 0.0 && !std::isnan(ratio)) ? 0.0 : y * std::log(ratio);  // scipy's xlogy
        total += xlogy - y + p;
    }
    return total;
}

template <typename T>
bool poisson_deviance_correct(const T* /*scores*/, const T* /*out*/, std::int64_t /*label*/, const T* /*values*/,
                              index_t /*K*/) {
    return false;
}

template <typename T>
constexpr LossKernels<T> loss_table[] = {
    {"softmax_cross_entropy", true, &softmax_cross_entropy_row<T>, &softmax_cross_entropy_correct<T>},
    {"binary_cross_entropy", false, &binary_cross_entropy_row<T>, &binary_cross_entropy_correct<T>},
    {"squared_error", false, &squared_error_row<T>, &squared_error_correct<T>},
    {"poisson_deviance", false, &poisson_deviance_row<T>, &poisson_deviance_correct<T>},
};
static_assert(std::size(loss_table<float>) == loss_count, "losses.hpp's loss_count counts this table");
}  // namespace

template <typename T>
const LossKernels<T>& loss_row(int loss) {
    return loss_table<T>[loss];
}

template <typename T>
double output_loss(int loss, const T* scores, const Targets<T>& y, const T* weights, T* out, index_t N,
                   index_t K) {
    const LossKernels<T>& row = loss_row<T>(loss);
    double total = 0.0, weight_sum = 0.0;
    for (index_t n = 0; n < N; ++n) {
        const double l = row.row_loss(scores + n * K, y.labels ? y.labels[n] : 0,
                                      y.values ? y.values + n * K : nullptr, out + n * K, K);
        const double w = weights ? static_cast<double>(weights[n]) : 1.0;
        total += weights ? w * l : l;
        weight_sum += w;
    }
    return total / weight_sum;
}

template <typename T>
void loss_gradient(const T* out, const Targets<T>& y, const T* weights, T* dscores, index_t N, index_t K,
                   double norm) {
    if (y.labels != nullptr && weights == nullptr) {
        softmax_cross_entropy_backward_rows(out, y.labels, dscores, N, K, static_cast<index_t>(norm));
        return;
    }
    const T scale = static_cast<T>(norm);
    for (index_t n = 0; n < N; ++n) {
        for (index_t k = 0; k < K; ++k) {
            T d = out[n * K + k];
            if (y.labels != nullptr) {
                if (k == y.labels[n]) d -= T(1);
            } else {
                d -= y.values[n * K + k];
            }
            dscores[n * K + k] = weights ? (d * weights[n]) / scale : d / scale;
        }
    }
}

template <typename T>
std::int64_t output_correct(int loss, const T* scores, const T* out, const Targets<T>& y, index_t N, index_t K) {
    const LossKernels<T>& row = loss_row<T>(loss);
    std::int64_t correct = 0;
    for (index_t n = 0; n < N; ++n) {
        correct += row.row_correct(scores + n * K, out + n * K, y.labels ? y.labels[n] : 0,
                                   y.values ? y.values + n * K : nullptr, K);
    }
    return correct;
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type here, which cannot be parenthesised
#define FASTMLP_INSTANTIATE(T)                                                                           \
    template const LossKernels<T>& loss_row<T>(int);                                                     \
    template double output_loss<T>(int, const T*, const Targets<T>&, const T*, T*, index_t, index_t);    \
    template void loss_gradient<T>(const T*, const Targets<T>&, const T*, T*, index_t, index_t, double); \
    template std::int64_t output_correct<T>(int, const T*, const T*, const Targets<T>&, index_t, index_t);
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace fastmlp
