// A whole training epoch (and an evaluation pass) in one native call, for an MLP described by its layers.
//
// Same semantics as the kernel-by-kernel path of fastmlp's trainer, batch by batch:
//   forward   z_l = a_{l-1} W_l + b_l, a_l = activation_l(z_l)   (a_{-1} = the batch of x rows)
//   loss      softmax cross-entropy of a_{L-1} (the scores), mean over the batch
//   backward  from dscores = (softmax - onehot(y)) / n down to layer 0 (layer 0 needs no dx)
//   update    for each layer, once its gradients are known: dW += reg * W (weight matrices only),
//             then plain SGD or momentum SGD (fastmlp::sgd_update) on W and on b (SGDSettings).
// Accuracy counts rows whose first arg-max of the scores (a_{L-1}) equals the label.
// Buffers are allocated once per call; nothing here touches Python.
//
// Threads (fastmlp::get_num_threads(), one OpenMP team for the whole call): each batch's rows are
// split in fixed contiguous parts for the forward pass, loss and dx; each weight gradient and its
// update are split by rows of W (fan_in). Every number has one writer and a fixed summation order,
// so results are deterministic for a given thread count. A batch costs 1 + (layers - 1) + 1 barriers:
// cheap on idle cores, but on an oversubscribed machine each can wait a scheduler time slice, so
// use one thread per process when several compete for the cores. Flush-to-zero / denormals-are-zero are on
// for the call (and restored after) so subnormal weights or activations never slow an epoch down.
//
// With `sparse` (the CSR of x), layer 0's forward and weight gradient run over x's non-zeros only.
#pragma once

#include <cstdint>
#include <vector>

#include "activations.hpp"
#include "kernels.hpp"
#include "sparse.hpp"

namespace fastmlp {

// One training step's settings (fastmlp.optim.SGDSettings): learning rate, L2 strength on weight
// matrices, momentum (0: plain SGD).
struct SGDSettings {
    double learning_rate = 0.0;
    double reg = 0.0;
    double momentum = 0.0;
};

// One dense layer over caller-owned buffers: w (fan_in, fan_out), b (fan_out,) or nullptr, and the
// momentum buffers of the same shapes (nullptr: plain SGD for that parameter).
template <typename T>
struct Layer {
    index_t fan_in = 0;
    index_t fan_out = 0;
    T* w = nullptr;
    T* b = nullptr;
    int activation = identity_code;  // a row of activation_table (activations.hpp)
    T* w_velocity = nullptr;
    T* b_velocity = nullptr;
};

template <typename T>
struct Network {
    std::vector<Layer<T>> layers;  // layers[l].fan_in == layers[l-1].fan_out; the last fan_out is C
};

struct EpochResult {
    double loss_sum = 0.0;     // sum of the per-batch mean losses
    std::int64_t batches = 0;  // number of batches
    std::int64_t correct = 0;  // rows classified correctly (before that batch's update, when training)
};

// Train on the rows x[order[0..samples)] (x is (rows, D), y one label per row of x) in batches of
// batch_size (the last one may be smaller), updating the layers' parameters in place.
// sparse: nullptr (dense) or the non-zeros of the same x.
template <typename T>
EpochResult train_epoch(Network<T>& net, const T* x, const std::int64_t* y, const std::int64_t* order,
                        index_t samples, index_t D, index_t batch_size, const SGDSettings& sgd,
                        const SparseRows<T>* sparse = nullptr);

// Forward only over x (samples, D) in order, in batches of batch_size.
template <typename T>
EpochResult evaluate(const Network<T>& net, const T* x, const std::int64_t* y, index_t samples, index_t D,
                     index_t batch_size, const SparseRows<T>* sparse = nullptr);

}  // namespace fastmlp
