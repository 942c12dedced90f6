// A whole training epoch (and an evaluation pass) in one native call, for an MLP described by its layers.
//
// Same semantics as the kernel-by-kernel path of fastmlp's trainer, batch by batch:
//   forward   z_l = a_{l-1} W_l + b_l, a_l = activation_l(z_l)   (a_{-1} = the batch of x rows)
//   loss      the network's loss row (losses.hpp) on a_{L-1} (the scores): sum_n w_n loss_n / norm,
//             norm = the batch's rows, or its weight sum with sample weights w; with the per-batch L2
//             form (StepSettings::reg_per_batch) plus 0.5 reg sum W^2 / norm, scikit-learn's objective
//   backward  from dscores = (output - target) * w / norm down to layer 0 (layer 0 needs no dx)
//   update    for each layer, once its gradients are known: dW += reg * W (weight matrices only; reg / norm
//             with reg_per_batch), then the step rule (sgd_update, nesterov_update or adam_update) on W and b.
// Accuracy counts rows whose prediction matches the target (losses.hpp: output_correct).
// Buffers are allocated once per call; nothing here touches Python.
//
// Threads (the `threads` argument, one OpenMP team for the whole call): each batch's rows are
// split in fixed contiguous parts for the forward pass, loss and dx; each weight gradient and its
// update are split by rows of W (fan_in). Every number has one writer and a fixed summation order
// that does not depend on the split, so results do not depend on the thread count. A batch costs
// two syncs at any depth (every layer's dx first, row by row; then every dW and update); a waiting
// thread spins briefly, then sleeps (runtime.hpp), and the leader runs a batch alone whenever that
// is measured faster (a busy process beside the team, a layer too small to split: runtime.hpp's
// TeamSchedule). Flush-to-zero / denormals-are-zero are on for the call (and restored after) so
// subnormal weights or activations never slow an epoch down.
//
// With `sparse` (the CSR of x), layer 0's forward and weight gradient run over x's non-zeros only
// (in float32 with NativeModel::bf16 too).
#pragma once

#include <cstdint>
#include <vector>

#include "activations.hpp"
#include "kernels.hpp"
#include "losses.hpp"
#include "sparse.hpp"

namespace fastmlp {

// The step rules, by the codes of fastmlp.backends.tables.OPTIMIZERS (exported as _cpp.rule_codes).
constexpr int rule_sgd = 0;       // sgd_update: plain (no velocity) or momentum SGD
constexpr int rule_nesterov = 1;  // nesterov_update
constexpr int rule_adam = 2;  // adam_update, step size lr sqrt(1 - beta2^t) / (1 - beta1^t), t counted per batch
constexpr int rule_count = 3;

// One training step's settings (fastmlp.optim's SGDSettings / AdamSettings): the rule and its
// hyper-parameters; reg is the L2 strength on weight matrices, divided by each batch's norm (rows or
// weight sum) when reg_per_batch (scikit-learn's (sum g + alpha W) / n) and used as is otherwise
// (the assignment's g + reg W).
struct StepSettings {
    int rule = rule_sgd;
    double learning_rate = 0.0;
    double reg = 0.0;
    double momentum = 0.0;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    bool reg_per_batch = false;
};

// One dense layer over caller-owned buffers: w (fan_in, fan_out), b (fan_out,) or nullptr, and the
// optimizer's buffers of the same shapes: velocity (momentum; Adam's first moment m; nullptr: plain
// SGD) and second (Adam's second moment v; nullptr otherwise).
template <typename T>
struct NativeLayer {
    index_t fan_in = 0;
    index_t fan_out = 0;
    T* w = nullptr;
    T* b = nullptr;
    int activation = identity_code;  // a row of activation_table (activations.hpp)
    T* w_velocity = nullptr;
    T* b_velocity = nullptr;
    T* w_second = nullptr;
    T* b_second = nullptr;
};

template <typename T>
struct NativeModel {
    std::vector<NativeLayer<T>> layers;  // layers[l].fan_in == layers[l-1].fan_out; the last fan_out is K
    int loss = 0;                        // a row of the loss table (losses.hpp: loss_row)
    std::int64_t* steps = nullptr;       // updates done so far (Adam's t), advanced by train_epoch; or nullptr
    // precision="bfloat16" (float only, where cpu_has_bf16()): the dense GEMMs of forward, dX and dW
    // take bfloat16 inputs (gemm_bf16.hpp); the sparse layer 0, the bias, activations, loss and
    // the update stay float32, and so do the parameters.
    bool bf16 = false;
};

struct EpochResult {
    double loss_sum = 0.0;           // sum of the per-batch losses
    std::int64_t batches = 0;        // number of batches
    std::int64_t correct = 0;        // rows predicted correctly (before that batch's update, when training)
    double row_weighted_loss = 0.0;  // sum of batch loss * batch rows (scikit-learn's accumulated_loss)
};

// Train on the rows x[order[0..samples)] (x is (rows, D), y one target per row of x: labels (rows,) or
// values (rows, K)) in batches of batch_size (the last one may be smaller), updating the layers'
// parameters in place. weights: one sample weight per row of x, or nullptr (all 1).
// sparse: nullptr (dense) or the non-zeros of the same x.
template <typename T>
EpochResult train_epoch(NativeModel<T>& net, const T* x, const Targets<T>& y, const T* weights,
                        const std::int64_t* order, index_t samples, index_t D, index_t batch_size,
                        const StepSettings& step, const SparseRows<T>* sparse = nullptr, int threads = 1);

// Forward only over x (samples, D) in order, in batches of batch_size (loss without any L2 term).
template <typename T>
EpochResult evaluate(const NativeModel<T>& net, const T* x, const Targets<T>& y, const T* weights,
                     index_t samples, index_t D, index_t batch_size, const SparseRows<T>* sparse = nullptr,
                     int threads = 1);

}  // namespace fastmlp
