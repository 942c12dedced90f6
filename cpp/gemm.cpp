// See gemm.hpp. The Eigen expressions are those kernels.cpp had inline, so the default build's
// results are bit for bit what they were.
#include "gemm.hpp"

#include <Eigen/Core>
#include <type_traits>

#ifdef FASTMLP_BLAS
extern "C" {
// scipy-openblas32's CBLAS (symbols prefixed scipy_); 101 = row-major, 111 / 112 = no / transpose.
void scipy_cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                       int lda, const float* b, int ldb, float beta, float* c, int ldc);
void scipy_openblas_set_num_threads(int n);
}
#endif

namespace fastmlp {
namespace {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using StridedMap = Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<>>;

#ifdef FASTMLP_BLAS
constexpr int kRowMajor = 101, kNo = 111, kTrans = 112;
// fastmlp's own threads (the native epoch's team) call the GEMMs; the library must not add its own.
const bool blas_single_threaded = [] {
    scipy_openblas_set_num_threads(1);
    return true;
}();
#endif

}  // namespace

template <typename T>
void gemm_nn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kNo, kNo, int(N), int(M), int(K), 1.0f, a, int(lda), b, int(M), 0.0f, c,
                          int(M));
        return;
    }
#endif
    StridedMap<T> A(a, N, K, Eigen::OuterStride<>(lda));
    Eigen::Map<const Matrix<T>> B(b, K, M);
    Eigen::Map<Matrix<T>>(c, N, M).noalias() = A * B;
}

template <typename T>
void gemm_tn(const T* a, index_t lda, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kTrans, kNo, int(N), int(M), int(K), 1.0f, a, int(lda), b, int(M), 0.0f, c,
                          int(M));
        return;
    }
#endif
    StridedMap<T> A(a, K, N, Eigen::OuterStride<>(lda));
    Eigen::Map<const Matrix<T>> B(b, K, M);
    Eigen::Map<Matrix<T>>(c, N, M).noalias() = A.transpose() * B;
}

template <typename T>
void gemm_nt(const T* a, const T* b, T* c, index_t N, index_t K, index_t M) {
#ifdef FASTMLP_BLAS
    if constexpr (std::is_same_v<T, float>) {
        scipy_cblas_sgemm(kRowMajor, kNo, kTrans, int(N), int(M), int(K), 1.0f, a, int(K), b, int(K), 0.0f, c,
                          int(M));
        return;
    }
#endif
    Eigen::Map<const Matrix<T>> A(a, N, K);
    Eigen::Map<const Matrix<T>> B(b, M, K);
    Eigen::Map<Matrix<T>>(c, N, M).noalias() = A * B.transpose();
}

template void gemm_nn<float>(const float*, index_t, const float*, float*, index_t, index_t, index_t);
template void gemm_nn<double>(const double*, index_t, const double*, double*, index_t, index_t, index_t);
template void gemm_tn<float>(const float*, index_t, const float*, float*, index_t, index_t, index_t);
template void gemm_tn<double>(const double*, index_t, const double*, double*, index_t, index_t, index_t);
template void gemm_nt<float>(const float*, const float*, float*, index_t, index_t, index_t);
template void gemm_nt<double>(const double*, const double*, double*, index_t, index_t, index_t);

}  // namespace fastmlp
