// The fastmlp._cpp module definition: thin wrappers from NumPy arrays to the plain C++ kernels.
//
// fastmlp.backends.cpp_backend validates every argument and allocates every output first, so these
// wrappers only accept C-contiguous arrays of the exact dtype (noconvert: a mismatch raises TypeError
// instead of writing into a silent copy). Each wrapper takes raw pointers while it holds the GIL, then
// releases the GIL in an inner scope around the computation; the arrays are owned by the caller's
// frame, so no array destructor runs without the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "epoch.hpp"
#include "isa.hpp"
#include "kernels.hpp"

// CMakeLists.txt names the module per build: _cpp (native or generic), _cpp_v2, _cpp_v3, _cpp_v4.
#ifndef FASTMLP_MODULE
#define FASTMLP_MODULE _cpp
#endif
#ifndef FASTMLP_ISA
#define FASTMLP_ISA "generic"
#endif
#ifndef FASTMLP_ARCH_FLAGS
#define FASTMLP_ARCH_FLAGS ""
#endif

namespace py = pybind11;
using fastmlp::index_t;

namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style>;
using Labels = py::array_t<std::int64_t, py::array::c_style>;

template <typename T>
const T* data_or_null(const std::optional<Array<T>>& a) {
    return a ? a->data() : nullptr;
}
template <typename T>
T* mutable_data_or_null(std::optional<Array<T>>& a) {
    return a ? a->mutable_data() : nullptr;
}

template <typename T>
fastmlp::Network<T> network(const std::vector<Array<T>>& weights, std::vector<std::optional<Array<T>>>& biases,
                            const std::vector<std::string>& activations,
                            std::vector<std::optional<Array<T>>>& weight_velocities,
                            std::vector<std::optional<Array<T>>>& bias_velocities) {
    fastmlp::Network<T> net;
    for (std::size_t l = 0; l < weights.size(); ++l) {
        fastmlp::Layer<T> layer;
        layer.fan_in = weights[l].shape(0);
        layer.fan_out = weights[l].shape(1);
        // The weights are updated in place: mutable_data() raises if numpy marks them read-only.
        layer.w = const_cast<Array<T>&>(weights[l]).mutable_data();
        layer.b = mutable_data_or_null(biases[l]);
        layer.activation = fastmlp::parse_activation(activations[l]);
        layer.w_velocity = l < weight_velocities.size() ? mutable_data_or_null(weight_velocities[l]) : nullptr;
        layer.b_velocity = l < bias_velocities.size() ? mutable_data_or_null(bias_velocities[l]) : nullptr;
        net.layers.push_back(layer);
    }
    return net;
}

// Where x's non-zeros are (fastmlp.backends._sparse.SparseRows), or nothing: indptr (rows + 1,),
// indices (nnz,) uint16, column_nnz (D,). SparseRows validates them against x's shape when built,
// and cpp_backend checks that the one passed describes an x of this shape.
using Indices = py::array_t<fastmlp::column_index, py::array::c_style>;

template <typename T>
std::optional<fastmlp::SparseRows<T>> sparse_rows(const Array<T>& x, const std::optional<Labels>& indptr,
                                                  const std::optional<Indices>& indices,
                                                  const std::optional<Labels>& column_nnz) {
    if (!indptr || !indices || !column_nnz) return std::nullopt;
    return fastmlp::SparseRows<T>{x.data(), static_cast<index_t>(x.shape(1)), indptr->data(), indices->data(),
                                  column_nnz->data()};
}
#define FASTMLP_SPARSE_PARAMS                                                                  \
    const std::optional<Labels>&sparse_indptr, const std::optional<Indices>&sparse_indices, \
        const std::optional<Labels>&sparse_column_nnz
#define FASTMLP_SPARSE_ARGS                                                                             \
    py::arg("sparse_indptr").noconvert().none(true), py::arg("sparse_indices").noconvert().none(true), \
        py::arg("sparse_column_nnz").noconvert().none(true)

template <typename T>
void bind(py::module_& m) {
    m.def(
        "affine_forward",
        [](const Array<T>& x, const Array<T>& w, const std::optional<Array<T>>& b, Array<T>& out) {
            const T *xp = x.data(), *wp = w.data(), *bp = data_or_null(b);
            T* op = out.mutable_data();
            const index_t N = x.shape(0), D = x.shape(1), M = w.shape(1);
            py::gil_scoped_release release;
            fastmlp::affine_forward(xp, wp, bp, op, N, D, M);
        },
        py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("b").noconvert().none(true),
        py::arg("out").noconvert());
    m.def(
        "affine_backward",
        [](const Array<T>& dout, const Array<T>& x, const Array<T>& w, std::optional<Array<T>>& dx, Array<T>& dw,
           std::optional<Array<T>>& db) {
            const T *doutp = dout.data(), *xp = x.data(), *wp = w.data();
            T *dxp = mutable_data_or_null(dx), *dwp = dw.mutable_data(), *dbp = mutable_data_or_null(db);
            const index_t N = x.shape(0), D = x.shape(1), M = w.shape(1);
            py::gil_scoped_release release;
            fastmlp::affine_backward(doutp, xp, wp, dxp, dwp, dbp, N, D, M);
        },
        py::arg("dout").noconvert(), py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("dx").noconvert().none(true), py::arg("dw").noconvert(), py::arg("db").noconvert().none(true));

    // Elementwise kernels: (input(s), out) over `size` elements.
    using Unary = void (*)(const T*, T*, index_t);
    using Binary = void (*)(const T*, const T*, T*, index_t);
    auto unary = [&m](const char* name, Unary kernel) {
        m.def(
            name,
            [kernel](const Array<T>& z, Array<T>& out) {
                const T* zp = z.data();
                T* op = out.mutable_data();
                const index_t size = z.size();
                py::gil_scoped_release release;
                kernel(zp, op, size);
            },
            py::arg("z").noconvert(), py::arg("out").noconvert());
    };
    auto binary = [&m](const char* name, const char* second, Binary kernel) {
        m.def(
            name,
            [kernel](const Array<T>& dout, const Array<T>& cached, Array<T>& out) {
                const T *dp = dout.data(), *cp = cached.data();
                T* op = out.mutable_data();
                const index_t size = dout.size();
                py::gil_scoped_release release;
                kernel(dp, cp, op, size);
            },
            py::arg("dout").noconvert(), py::arg(second).noconvert(), py::arg("out").noconvert());
    };
    unary("relu_forward", &fastmlp::relu_forward<T>);
    unary("sigmoid_forward", &fastmlp::sigmoid_forward<T>);
    binary("relu_backward", "z", &fastmlp::relu_backward<T>);
    binary("sigmoid_backward", "a", &fastmlp::sigmoid_backward<T>);

    m.def(
        "softmax_forward",
        [](const Array<T>& scores, Array<T>& out) {
            const T* sp = scores.data();
            T* op = out.mutable_data();
            const index_t N = scores.shape(0), C = scores.shape(1);
            py::gil_scoped_release release;
            fastmlp::softmax_forward(sp, op, N, C);
        },
        py::arg("scores").noconvert(), py::arg("out").noconvert());
    m.def(
        "softmax_backward",
        [](const Array<T>& dprobs, const Array<T>& probs, Array<T>& out) {
            const T *dp = dprobs.data(), *pp = probs.data();
            T* op = out.mutable_data();
            const index_t N = probs.shape(0), C = probs.shape(1);
            py::gil_scoped_release release;
            fastmlp::softmax_backward(dp, pp, op, N, C);
        },
        py::arg("dprobs").noconvert(), py::arg("probs").noconvert(), py::arg("out").noconvert());
    m.def(
        "cross_entropy_forward",
        [](const Array<T>& probs, const Labels& y) {
            const T* pp = probs.data();
            const std::int64_t* yp = y.data();
            const index_t N = probs.shape(0), C = probs.shape(1);
            py::gil_scoped_release release;
            return fastmlp::cross_entropy_forward(pp, yp, N, C);
        },
        py::arg("probs").noconvert(), py::arg("y").noconvert());
    m.def(
        "softmax_cross_entropy",
        [](const Array<T>& scores, const Labels& y, Array<T>& probs) {
            const T* sp = scores.data();
            const std::int64_t* yp = y.data();
            T* pp = probs.mutable_data();
            const index_t N = scores.shape(0), C = scores.shape(1);
            py::gil_scoped_release release;
            return fastmlp::softmax_cross_entropy(sp, yp, pp, N, C);
        },
        py::arg("scores").noconvert(), py::arg("y").noconvert(), py::arg("probs").noconvert());
    m.def(
        "softmax_cross_entropy_backward",
        [](const Array<T>& probs, const Labels& y, Array<T>& out) {
            const T* pp = probs.data();
            const std::int64_t* yp = y.data();
            T* op = out.mutable_data();
            const index_t N = probs.shape(0), C = probs.shape(1);
            py::gil_scoped_release release;
            fastmlp::softmax_cross_entropy_backward(pp, yp, op, N, C);
        },
        py::arg("probs").noconvert(), py::arg("y").noconvert(), py::arg("out").noconvert());
    m.def(
        "correct_count",
        [](const Array<T>& scores, const Labels& y) {
            const T* sp = scores.data();
            const std::int64_t* yp = y.data();
            const index_t N = scores.shape(0), C = scores.shape(1);
            py::gil_scoped_release release;
            return fastmlp::correct_count(sp, yp, N, C);
        },
        py::arg("scores").noconvert(), py::arg("y").noconvert());
    m.def(
        "sgd_update",
        [](Array<T>& param, const Array<T>& grad, std::optional<Array<T>>& velocity, double lr, double reg,
           double momentum) {
            T* pp = param.mutable_data();
            const T* gp = grad.data();
            T* vp = mutable_data_or_null(velocity);
            const index_t size = param.size();
            py::gil_scoped_release release;
            fastmlp::sgd_update(pp, gp, vp, size, lr, reg, momentum);
        },
        py::arg("param").noconvert(), py::arg("grad").noconvert(), py::arg("velocity").noconvert().none(true),
        py::arg("lr"), py::arg("reg"), py::arg("momentum"));

    m.def(
        "train_epoch",
        [](const Array<T>& x, const Labels& y, const Labels& order, const std::vector<Array<T>>& weights,
           std::vector<std::optional<Array<T>>> biases, const std::vector<std::string>& activations,
           std::vector<std::optional<Array<T>>> weight_velocities,
           std::vector<std::optional<Array<T>>> bias_velocities, index_t batch_size, double lr, double reg,
           double momentum, FASTMLP_SPARSE_PARAMS) {
            fastmlp::Network<T> net = network(weights, biases, activations, weight_velocities, bias_velocities);
            const auto rows = sparse_rows<T>(x, sparse_indptr, sparse_indices, sparse_column_nnz);
            const T* xp = x.data();
            const std::int64_t *yp = y.data(), *op = order.data();
            const index_t samples = order.size(), D = x.shape(1);
            fastmlp::EpochResult result;
            {
                py::gil_scoped_release release;
                result = fastmlp::train_epoch(net, xp, yp, op, samples, D, batch_size, lr, reg, momentum,
                                              rows ? &*rows : nullptr);
            }
            return py::make_tuple(result.loss_sum, result.batches, result.correct);
        },
        py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("order").noconvert(),
        py::arg("weights").noconvert(), py::arg("biases").noconvert(), py::arg("activations"),
        py::arg("weight_velocities").noconvert(), py::arg("bias_velocities").noconvert(), py::arg("batch_size"),
        py::arg("lr"), py::arg("reg"), py::arg("momentum"), FASTMLP_SPARSE_ARGS);
    m.def(
        "evaluate",
        [](const Array<T>& x, const Labels& y, const std::vector<Array<T>>& weights,
           std::vector<std::optional<Array<T>>> biases, const std::vector<std::string>& activations,
           index_t batch_size, FASTMLP_SPARSE_PARAMS) {
            std::vector<std::optional<Array<T>>> none;
            fastmlp::Network<T> net = network(weights, biases, activations, none, none);
            const auto rows = sparse_rows<T>(x, sparse_indptr, sparse_indices, sparse_column_nnz);
            const T* xp = x.data();
            const std::int64_t* yp = y.data();
            const index_t samples = x.shape(0), D = x.shape(1);
            fastmlp::EpochResult result;
            {
                py::gil_scoped_release release;
                result = fastmlp::evaluate(net, xp, yp, samples, D, batch_size, rows ? &*rows : nullptr);
            }
            return py::make_tuple(result.loss_sum, result.batches, result.correct);
        },
        py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("weights").noconvert(),
        py::arg("biases").noconvert(), py::arg("activations"), py::arg("batch_size"), FASTMLP_SPARSE_ARGS);
}

}  // namespace

PYBIND11_MODULE(FASTMLP_MODULE, m) {
    m.doc() = "fastmlp's compiled kernels (private; use fastmlp.backends.cpp_backend).";
    bind<float>(m);
    bind<double>(m);
    m.def("set_num_threads", &fastmlp::set_num_threads, py::arg("n"));
    m.def("get_num_threads", &fastmlp::get_num_threads);
    m.attr("isa") = FASTMLP_ISA;                // the level this module was compiled for
    m.attr("arch_flags") = FASTMLP_ARCH_FLAGS;  // and the compiler flags that chose it
    m.def("cpu_supports", &fastmlp::cpu_supports, py::arg("level"),
          "Whether this CPU runs code built for the x86-64 level (x86-64-v2, -v3, -v4).");
#ifdef FASTMLP_OPENMP
    m.attr("openmp") = true;
#else
    m.attr("openmp") = false;
#endif
}
