// Native epoch: every step is one of the tested kernels in kernels.cpp, called on buffers allocated
// once, so the arithmetic is the kernel-by-kernel path's, minus the Python round trips.
#include "epoch.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <Eigen/Core>

namespace fastmlp {

Activation parse_activation(const std::string& name) {
    if (name == "none") return Activation::none;
    if (name == "relu") return Activation::relu;
    if (name == "sigmoid") return Activation::sigmoid;
    throw std::invalid_argument("activation must be 'none', 'relu' or 'sigmoid', got '" + name + "'");
}

namespace {

// Eigen's vectorised sums peel elements until an address is aligned, so a buffer's position in
// memory would change the summation order and the last bit of results; aligned buffers keep
// every epoch repeatable bit for bit (the Python side aligns the arrays it passes, too).
template <typename T>
using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;

// Per-call scratch space, sized for a full batch: z (pre-activation), a (activation output; unused
// for Activation::none, where a is z), da / dz (their gradients), one dw / db for the layer being updated.
template <typename T>
struct Workspace {
    Buffer<T> xb;
    std::vector<std::int64_t> yb;
    std::vector<Buffer<T>> z, a, da, dz;
    Buffer<T> probs, dw, db;

    Workspace(const Network<T>& net, index_t batch, index_t D, bool training) {
        const std::size_t layers = net.layers.size();
        xb.resize(static_cast<std::size_t>(batch * D));
        yb.resize(static_cast<std::size_t>(batch));
        z.resize(layers);
        a.resize(layers);
        da.resize(layers);
        dz.resize(layers);
        index_t largest_w = 0, widest = 0;
        for (std::size_t l = 0; l < layers; ++l) {
            const Layer<T>& layer = net.layers[l];
            const auto size = static_cast<std::size_t>(batch * layer.fan_out);
            z[l].resize(size);
            if (layer.activation != Activation::none) a[l].resize(size);
            if (training) {
                da[l].resize(size);
                if (layer.activation != Activation::none) dz[l].resize(size);
            }
            largest_w = std::max(largest_w, layer.fan_in * layer.fan_out);
            widest = std::max(widest, layer.fan_out);
        }
        probs.resize(static_cast<std::size_t>(batch * net.layers.back().fan_out));
        if (training) {
            dw.resize(static_cast<std::size_t>(largest_w));
            db.resize(static_cast<std::size_t>(widest));
        }
    }

    const T* output(const Network<T>& net, std::size_t l) const {
        return net.layers[l].activation == Activation::none ? z[l].data() : a[l].data();
    }
};

// Forward pass of n rows from `in` (n, D); returns the scores (n, C) (the last layer's output).
template <typename T>
const T* forward(const Network<T>& net, Workspace<T>& ws, const T* in, index_t n) {
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
        const Layer<T>& layer = net.layers[l];
        const T* layer_in = l == 0 ? in : ws.output(net, l - 1);
        affine_forward(layer_in, layer.w, layer.b, ws.z[l].data(), n, layer.fan_in, layer.fan_out);
        const index_t size = n * layer.fan_out;
        if (layer.activation == Activation::relu) relu_forward(ws.z[l].data(), ws.a[l].data(), size);
        if (layer.activation == Activation::sigmoid) sigmoid_forward(ws.z[l].data(), ws.a[l].data(), size);
    }
    return ws.output(net, net.layers.size() - 1);
}

// Backward pass and update for the batch whose forward pass is in ws (input rows `in`, labels ws.yb).
template <typename T>
void backward_and_update(Network<T>& net, Workspace<T>& ws, const T* in, index_t n, double lr, double reg,
                         double momentum) {
    const std::size_t last = net.layers.size() - 1;
    softmax_cross_entropy_backward(ws.probs.data(), ws.yb.data(), ws.da[last].data(), n,
                                   net.layers[last].fan_out);
    for (std::size_t l = last + 1; l-- > 0;) {
        Layer<T>& layer = net.layers[l];
        const index_t size = n * layer.fan_out;
        const T* dz = ws.da[l].data();
        if (layer.activation == Activation::relu) {
            relu_backward(ws.da[l].data(), ws.z[l].data(), ws.dz[l].data(), size);
            dz = ws.dz[l].data();
        } else if (layer.activation == Activation::sigmoid) {
            sigmoid_backward(ws.da[l].data(), ws.a[l].data(), ws.dz[l].data(), size);
            dz = ws.dz[l].data();
        }
        const T* layer_in = l == 0 ? in : ws.output(net, l - 1);
        // dx of layer l is computed from the old W before W is updated, as in the kernel path.
        affine_backward(dz, layer_in, layer.w, l == 0 ? nullptr : ws.da[l - 1].data(), ws.dw.data(),
                        layer.b == nullptr ? nullptr : ws.db.data(), n, layer.fan_in, layer.fan_out);
        sgd_update(layer.w, ws.dw.data(), layer.w_velocity, layer.fan_in * layer.fan_out, lr, reg, momentum);
        if (layer.b != nullptr) {
            sgd_update(layer.b, ws.db.data(), layer.b_velocity, layer.fan_out, lr, 0.0, momentum);
        }
    }
}

}  // namespace

template <typename T>
EpochResult train_epoch(Network<T>& net, const T* x, const std::int64_t* y, const std::int64_t* order,
                        index_t samples, index_t D, index_t batch_size, double lr, double reg, double momentum) {
    EpochResult result;
    if (net.layers.empty() || samples <= 0 || batch_size <= 0) return result;
    const index_t batch = std::min(batch_size, samples);
    Workspace<T> ws(net, batch, D, /*training=*/true);
    const index_t C = net.layers.back().fan_out;
    for (index_t start = 0; start < samples; start += batch) {
        const index_t n = std::min(batch, samples - start);
        // Gather the shuffled rows into one contiguous block so the GEMMs see a dense (n, D) matrix.
        for (index_t i = 0; i < n; ++i) {
            const std::int64_t row = order[start + i];
            std::memcpy(ws.xb.data() + i * D, x + row * D, static_cast<std::size_t>(D) * sizeof(T));
            ws.yb[static_cast<std::size_t>(i)] = y[row];
        }
        const T* scores = forward(net, ws, ws.xb.data(), n);
        result.correct += correct_count(scores, ws.yb.data(), n, C);
        result.loss_sum += softmax_cross_entropy(scores, ws.yb.data(), ws.probs.data(), n, C);
        result.batches += 1;
        backward_and_update(net, ws, ws.xb.data(), n, lr, reg, momentum);
    }
    return result;
}

template <typename T>
EpochResult evaluate(const Network<T>& net, const T* x, const std::int64_t* y, index_t samples, index_t D,
                     index_t batch_size) {
    EpochResult result;
    if (net.layers.empty() || samples <= 0 || batch_size <= 0) return result;
    const index_t batch = std::min(batch_size, samples);
    Workspace<T> ws(net, batch, D, /*training=*/false);
    const index_t C = net.layers.back().fan_out;
    for (index_t start = 0; start < samples; start += batch) {
        const index_t n = std::min(batch, samples - start);
        // Evaluation reads rows in order, so the batch is already a contiguous block of x.
        const T* scores = forward(net, ws, x + start * D, n);
        result.correct += correct_count(scores, y + start, n, C);
        result.loss_sum += softmax_cross_entropy(scores, y + start, ws.probs.data(), n, C);
        result.batches += 1;
    }
    return result;
}

template EpochResult train_epoch<float>(Network<float>&, const float*, const std::int64_t*, const std::int64_t*,
                                        index_t, index_t, index_t, double, double, double);
template EpochResult train_epoch<double>(Network<double>&, const double*, const std::int64_t*,
                                         const std::int64_t*, index_t, index_t, index_t, double, double, double);
template EpochResult evaluate<float>(const Network<float>&, const float*, const std::int64_t*, index_t, index_t,
                                     index_t);
template EpochResult evaluate<double>(const Network<double>&, const double*, const std::int64_t*, index_t,
                                      index_t, index_t);

}  // namespace fastmlp
