// fastmlp kernels as plain C++ (no Python headers): same contracts as fastmlp.backends.numpy_backend.
//
// Dimensions: N batch rows, D inputs, M outputs, C classes. Every matrix is row-major and
// contiguous, exactly as NumPy's C order lays it out, so the callers pass NumPy buffers straight in.
// Callers validate arguments first (fastmlp._validate, through fastmlp.backends._kernels); these
// functions trust shapes, never allocate Python objects and never need the GIL. T is float or double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastmlp {

using index_t = std::ptrdiff_t;

// out = x w + b.  x (N, D), w (D, M), b (M,) or nullptr  ->  out (N, M).
template <typename T>
void affine_forward(const T* x, const T* w, const T* b, T* out, index_t N, index_t D, index_t M);

// dx = dout w^T, dw = x^T dout, db = sum_n dout.  dout (N, M), x (N, D), w (D, M)
//   ->  dx (N, D) or nullptr (skipped), dw (D, M), db (M,) or nullptr (skipped).
template <typename T>
void affine_backward(const T* dout, const T* x, const T* w, T* dx, T* dw, T* db, index_t N, index_t D, index_t M);

// The parts of affine_backward, also called on the native epoch's row and column blocks:
// dx = dout w^T.  dout (N, M), w (D, M) -> dx (N, D).
template <typename T>
void input_gradient(const T* dout, const T* w, T* dx, index_t N, index_t D, index_t M);

// dw = x^T dout.  x (N, D) with rows ldx elements apart (a block of columns of a wider matrix),
// dout (N, M) -> dw (D, M).
template <typename T>
void weight_gradient(const T* x, index_t ldx, const T* dout, T* dw, index_t N, index_t D, index_t M);

// db = sum_n dout, summed row after row (numpy's order for sum(axis=0)).  dout (N, M) with rows ldd
// elements apart (a block of columns) -> db (M,). affine_backward keeps Eigen's column sum, which
// adds rows in pairs first (same values to rounding, other bits), so its results stay as they were.
template <typename T>
void bias_gradient(const T* dout, index_t ldd, T* db, index_t N, index_t M);

// a = max(z, 0).  z, a: `size` elements.
template <typename T>
void relu_forward(const T* z, T* a, index_t size);

// dz = dout * (z > 0).
template <typename T>
void relu_backward(const T* dout, const T* z, T* dz, index_t size);

// a = 1 / (1 + exp(-z)), through e = exp(-|z|) so no finite z overflows.
template <typename T>
void sigmoid_forward(const T* z, T* a, index_t size);

// dz = dout * a * (1 - a), from the forward output a.
template <typename T>
void sigmoid_backward(const T* dout, const T* a, T* dz, index_t size);

// a = tanh(z).
template <typename T>
void tanh_forward(const T* z, T* a, index_t size);

// dz = dout * (1 - a^2), from the forward output a.
template <typename T>
void tanh_backward(const T* dout, const T* a, T* dz, index_t size);

// Row-wise softmax with the row maximum subtracted.  scores (N, C) -> probs (N, C).
template <typename T>
void softmax_forward(const T* scores, T* probs, index_t N, index_t C);

// ds = s * (dp - sum_c dp_c s_c).  dprobs (N, C), probs (N, C) -> dscores (N, C).
template <typename T>
void softmax_backward(const T* dprobs, const T* probs, T* dscores, index_t N, index_t C);

// Mean over n of -log(max(probs[n, y_n], numeric_limits<T>::min())), summed in double.
template <typename T>
double cross_entropy_forward(const T* probs, const std::int64_t* y, index_t N, index_t C);

// Fused softmax + mean cross-entropy through log-sum-exp; writes probs (N, C), returns the loss.
template <typename T>
double softmax_cross_entropy(const T* scores, const std::int64_t* y, T* probs, index_t N, index_t C);

// dscores = (probs - onehot(y)) / N.  probs (N, C), y (N,) -> dscores (N, C).
template <typename T>
void softmax_cross_entropy_backward(const T* probs, const std::int64_t* y, T* dscores, index_t N, index_t C);

// The same for N rows of a batch of `batch` rows: dscores = (probs - onehot(y)) / batch (the native
// epoch's threads each take some rows of one batch).
template <typename T>
void softmax_cross_entropy_backward_rows(const T* probs, const std::int64_t* y, T* dscores, index_t N, index_t C,
                                         index_t batch);

// Number of rows whose first arg-max equals the label.  scores (N, C), y (N,).
template <typename T>
std::int64_t correct_count(const T* scores, const std::int64_t* y, index_t N, index_t C);

// One SGD step in place on `size` elements: g = grad + reg * param; then either
// param -= lr * g (velocity == nullptr) or velocity = momentum * velocity - lr * g; param += velocity.
// The arithmetic is done in T in the numpy reference's order, so float32 results match it.
template <typename T>
void sgd_update(T* param, const T* grad, T* velocity, index_t size, double lr, double reg, double momentum);

// One Nesterov momentum step in place (scikit-learn's SGDOptimizer with nesterov=True):
// g = grad + reg * param; velocity = momentum * velocity - lr * g; param += momentum * velocity - lr * g.
template <typename T>
void nesterov_update(T* param, const T* grad, T* velocity, index_t size, double lr, double reg, double momentum);

// One Adam step in place (Kingma and Ba's efficient form, as scikit-learn's AdamOptimizer):
// g = grad + reg * param; m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
// param -= step_size * m / (sqrt(v) + epsilon), step_size = lr sqrt(1 - beta2^t) / (1 - beta1^t) from the caller.
template <typename T>
void adam_update(T* param, const T* grad, T* m, T* v, index_t size, double step_size, double reg, double beta1,
                 double beta2, double epsilon);

// Threads used by Eigen's GEMM (only effective when built with OpenMP).
void set_num_threads(int n);
int get_num_threads();

}  // namespace fastmlp
