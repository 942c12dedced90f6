// Native epoch: the steps are the tested kernels of kernels.cpp (and sparse.cpp), called on row or
// column blocks of buffers allocated once, by one OpenMP team that lives for the whole call
// (runtime.hpp: the team and its waits, which batches run on the whole team, the floating-point
// mode, the partition).
#include "epoch.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "gemm_bf16.hpp"
#include "runtime.hpp"

namespace fastmlp {

namespace {

// The dense layers' three GEMMs, in float32 / float64 (kernels.hpp) or, for a model with bf16,
// with bfloat16 inputs (gemm_bf16.hpp; the bindings allow bf16 on float models only).
template <typename T>
void dense_forward(bool bf16, const T* x, const T* w, const T* b, T* out, index_t N, index_t D, index_t M) {
    if constexpr (std::is_same_v<T, float>) {
        if (bf16) return affine_forward_bf16(x, D, w, b, out, N, D, M);
    }
    affine_forward(x, w, b, out, N, D, M);
}

template <typename T>
void dense_input_gradient(bool bf16, const T* dout, const T* w, T* dx, index_t N, index_t D, index_t M) {
    if constexpr (std::is_same_v<T, float>) {
        if (bf16) return input_gradient_bf16(dout, w, dx, N, D, M);
    }
    input_gradient(dout, w, dx, N, D, M);
}

template <typename T>
void dense_weight_gradient(bool bf16, const T* x, index_t ldx, const T* dout, T* dw, index_t N, index_t D,
                           index_t M) {
    if constexpr (std::is_same_v<T, float>) {
        if (bf16) return weight_gradient_bf16(x, ldx, dout, dw, N, D, M);
    }
    weight_gradient(x, ldx, dout, dw, N, D, M);
}

// Split [0, D) into `parts` ranges holding about equal numbers of non-zeros (sparse dW work).
std::vector<index_t> balanced_columns(const std::int64_t* column_nnz, index_t D, int parts) {
    std::vector<index_t> bounds(static_cast<std::size_t>(parts) + 1, D);
    bounds[0] = 0;
    std::int64_t total = 0;
    for (index_t d = 0; d < D; ++d) total += column_nnz[d];
    std::int64_t seen = 0;
    int next = 1;
    for (index_t d = 0; d < D && next < parts; ++d) {
        seen += column_nnz[d];
        while (next < parts && seen * parts >= total * next) bounds[static_cast<std::size_t>(next++)] = d + 1;
    }
    return bounds;
}

// Scratch space for one batch, shared by the team (each thread writes only its own rows / blocks):
// z (pre-activation), a (activation output; for identity a is z), da / dz (their gradients),
// dw / db per layer, probs (the loss row's output), per-row losses, and the batch's gathered targets
// (labels yb or values yv) and sample weights wb.
// Buffers aligned to Eigen's packet size (Buffer, sparse.hpp): its vectorised exp peels unaligned
// leading elements into a scalar exp that rounds differently, which would make results depend on
// where malloc put a buffer.

template <typename T>
struct Workspace {
    Buffer<T> xb;
    std::vector<std::int64_t> yb;
    std::vector<T> yv, wb;
    std::vector<Buffer<T>> z, a, da, dz, dw, db;
    Buffer<T> probs;
    std::vector<double> row_loss;

    Workspace(const NativeModel<T>& net, index_t batch, index_t D, bool training, bool gather_x) {
        const std::size_t layers = net.layers.size();
        if (gather_x) xb.resize(static_cast<std::size_t>(batch * D));
        yb.resize(static_cast<std::size_t>(batch));
        if (training) {
            const auto K = static_cast<std::size_t>(net.layers.back().fan_out);
            if (!loss_row<T>(net.loss).labels) yv.resize(static_cast<std::size_t>(batch) * K);
            wb.resize(static_cast<std::size_t>(batch));
        }
        for (auto* v : {&z, &a, &da, &dz, &dw, &db}) v->resize(layers);
        for (std::size_t l = 0; l < layers; ++l) {
            const NativeLayer<T>& layer = net.layers[l];
            const auto size = static_cast<std::size_t>(batch * layer.fan_out);
            z[l].resize(size);
            if (layer.activation != identity_code) a[l].resize(size);
            if (training) {
                da[l].resize(size);
                if (layer.activation != identity_code) dz[l].resize(size);
                // the sparse layer 0 (no gathered x) never holds its whole dW (sparse_weight_gradient)
                if (l > 0 || gather_x) dw[l].resize(static_cast<std::size_t>(layer.fan_in * layer.fan_out));
                if (layer.b != nullptr) db[l].resize(static_cast<std::size_t>(layer.fan_out));
            }
        }
        probs.resize(static_cast<std::size_t>(batch * net.layers.back().fan_out));
        row_loss.resize(static_cast<std::size_t>(batch));
    }

    T* output(const NativeModel<T>& net, std::size_t l) {
        return net.layers[l].activation == identity_code ? z[l].data() : a[l].data();
    }
    T* output_gradient(const NativeModel<T>& net, std::size_t l) {
        return net.layers[l].activation == identity_code ? da[l].data() : dz[l].data();
    }
};

// dz = da * activation'(z) over `size` elements of layer l's buffers from element `offset`, reading z or
// the output a as the activation's row says (identity: nothing to do, its gradient buffer is da).
template <typename T>
void activation_backward(int activation, Workspace<T>& ws, std::size_t l, index_t offset, index_t size) {
    const ActivationKernels<T>& row = activation_table<T>[activation];
    if (row.backward == nullptr) return;
    const T* cached = (row.backward_reads_output ? ws.a[l] : ws.z[l]).data() + offset;
    row.backward(ws.da[l].data() + offset, cached, ws.dz[l].data() + offset, size);
}

template <typename T>
void activate(int activation, const T* z, T* a, index_t size) {
    const ActivationKernels<T>& row = activation_table<T>[activation];
    if (row.forward != nullptr) row.forward(z, a, size);
}

// Forward pass of batch rows [r0, r1): layer 0 reads x_rows (dense rows r0.., stride D) or, with
// sparse, the CSR rows order_rows[r0..r1). Fills z / a of those rows and returns the scores (N, C).
template <typename T>
T* forward_rows(const NativeModel<T>& net, Workspace<T>& ws, const T* x_rows, const SparseRows<T>* sparse,
                const std::int64_t* order_rows, index_t r0, index_t r1) {
    const index_t rows = r1 - r0;
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
        const NativeLayer<T>& layer = net.layers[l];
        const index_t M = layer.fan_out;
        T* z = ws.z[l].data() + r0 * M;
        if (l == 0 && sparse != nullptr) {
            sparse_rows_times(*sparse, order_rows + r0, rows, layer.w, M, layer.b, z);
        } else {
            const T* in = l == 0 ? x_rows + r0 * layer.fan_in : ws.output(net, l - 1) + r0 * layer.fan_in;
            dense_forward(net.bf16, in, layer.w, layer.b, z, rows, layer.fan_in, M);
        }
        if (layer.activation != identity_code) activate(layer.activation, z, ws.a[l].data() + r0 * M, rows * M);
    }
    return ws.output(net, net.layers.size() - 1);
}

// The targets of rows [r0, ..) of y (labels, or values rows of K).
template <typename T>
Targets<T> target_rows(const Targets<T>& y, index_t r0, index_t K) {
    return {y.labels ? y.labels + r0 : nullptr, y.values ? y.values + r0 * K : nullptr};
}

// The loss row's outputs (ws.probs), weighted row losses (ws.row_loss) and correct count of rows
// [r0, r1) of the scores (N, K); y the batch's targets, w its sample weights or nullptr.
template <typename T>
std::int64_t loss_rows(const NativeModel<T>& net, Workspace<T>& ws, const T* scores, const Targets<T>& y,
                       const T* w, index_t r0, index_t r1, index_t K) {
    const LossKernels<T>& row = loss_row<T>(net.loss);
    for (index_t i = r0; i < r1; ++i) {
        // one row at a time, exactly as the batch kernel adds it up
        const double loss = row.row_loss(scores + i * K, y.labels ? y.labels[i] : 0,
                                         y.values ? y.values + i * K : nullptr, ws.probs.data() + i * K, K);
        ws.row_loss[static_cast<std::size_t>(i)] = w ? static_cast<double>(w[i]) * loss : loss;
    }
    return output_correct(net.loss, scores + r0 * K, ws.probs.data() + r0 * K, target_rows(y, r0, K), r1 - r0, K);
}

// The batch's loss from its (weighted) row losses: their sum over norm (rows or weight sum).
double batch_loss(const std::vector<double>& row_loss, index_t n, double norm) {
    double total = 0.0;
    for (index_t i = 0; i < n; ++i) total += row_loss[static_cast<std::size_t>(i)];
    return total / norm;
}

// A batch's norm: its row count, or the sum of its rows' sample weights (read in order, so every
// thread that asks gets the same bits). rows: the batch's rows of x (nullptr: rows 0..n).
template <typename T>
double batch_norm(const T* weights, const std::int64_t* rows, index_t n) {
    if (weights == nullptr) return static_cast<double>(n);
    double total = 0.0;
    for (index_t i = 0; i < n; ++i) total += static_cast<double>(weights[rows ? rows[i] : i]);
    return total;
}

// The sum of the squares of every weight matrix (scikit-learn's L2 penalty), in double, once per
// batch, in running sums that depend on nothing but the matrices' sizes. One sum is a single chain
// of dependent adds, which made this pass 30% of an sklearn-style epoch at 784-128-10 (0.13 s of
// 0.44 s, alpha 1e-4); eight (one vector register) still waited on the add's latency, 5-8% of the
// epoch; 32 are four independent chains of AVX-512 registers (eight of AVX2's). For float weights,
// squaring and summing in double made the pass bound by the conversions (4.5 us a batch at
// 784-128-10 on a Zen 5, 4 ms of a 72 ms epoch): there 64 float sums take 32 squares each, then
// join 64 double sums, and the pass reads W at L2's speed (2.4 us; benchmarks/penalty_sums.cpp).
// A float sum of 32 squares is off by a few float roundings at most: the float model's own
// precision, and scikit-learn's too (its float32 fits sum the squares in float32).
template <typename T>
double squared_weights(const NativeModel<T>& net) {
    constexpr index_t lanes = std::is_same_v<T, float> ? 64 : 32;
    constexpr index_t block = std::is_same_v<T, float> ? 32 * lanes : lanes;  // squares per T sum
    double wide[lanes] = {};
    double rest = 0.0;  // the squares past each matrix's last whole row of lanes
    for (const NativeLayer<T>& layer : net.layers) {
        const T* w = layer.w;
        const index_t size = layer.fan_in * layer.fan_out, whole = size / lanes * lanes;
        for (index_t i = 0; i < whole; i += block) {
            const index_t end = std::min(whole, i + block);
            T partial[lanes] = {};
            for (index_t j = i; j < end; j += lanes) {
                for (index_t k = 0; k < lanes; ++k) partial[k] += w[j + k] * w[j + k];
            }
            for (index_t k = 0; k < lanes; ++k) wide[k] += static_cast<double>(partial[k]);
        }
        for (index_t i = whole; i < size; ++i) rest += static_cast<double>(w[i]) * static_cast<double>(w[i]);
    }
    for (const double sum : wide) rest += sum;
    return rest;
}

// What one batch's step uses: the L2 strength (reg, or reg / norm) and Adam's step size at update t.
struct BatchStep {
    double reg;
    double step_size;
};

BatchStep batch_step(const StepSettings& step, double norm, std::int64_t t) {
    BatchStep batch{step.reg_per_batch ? step.reg / norm : step.reg, step.learning_rate};
    if (step.rule == rule_adam) {
        const auto tt = static_cast<double>(t);
        batch.step_size =
            step.learning_rate * std::sqrt(1.0 - std::pow(step.beta2, tt)) / (1.0 - std::pow(step.beta1, tt));
    }
    return batch;
}

// One update of `size` parameters from their gradient by the step rule, with its buffers.
template <typename T>
void apply_step(const StepSettings& step, const BatchStep& batch, T* param, const T* grad, T* velocity, T* second,
                index_t size, double reg) {
    if (step.rule == rule_nesterov) {
        nesterov_update(param, grad, velocity, size, step.learning_rate, reg, step.momentum);
    } else if (step.rule == rule_adam) {
        adam_update(param, grad, velocity, second, size, batch.step_size, reg, step.beta1, step.beta2,
                    step.epsilon);
    } else {
        sgd_update(param, grad, velocity, size, step.learning_rate, reg, step.momentum);
    }
}

// One training batch (rows order[0..n) of x), run by every thread of the team.
template <typename T>
struct Trainer {
    NativeModel<T>& net;
    Workspace<T>& ws;
    const T* x;
    const SparseRows<T>* sparse;
    index_t D;
    const T* weights;  // sample weights, one per row of x, or nullptr
    StepSettings step;
    std::vector<index_t> sparse_columns;  // thread t owns dW rows [sparse_columns[t], sparse_columns[t+1])
    std::vector<index_t> solo_columns;    // the same for a crew of one: [0, D)

    static T* at(T* buffer, index_t offset) { return buffer ? buffer + offset : nullptr; }

    void update_rows(NativeLayer<T>& layer, std::size_t l, index_t f0, index_t f1, int t, int threads,
                     const BatchStep& batch) {
        const index_t M = layer.fan_out;
        apply_step(step, batch, layer.w + f0 * M, ws.dw[l].data() + f0 * M, at(layer.w_velocity, f0 * M),
                   at(layer.w_second, f0 * M), (f1 - f0) * M, batch.reg);
        if (layer.b != nullptr) {
            const auto [c0, c1] = part(M, threads, t);
            apply_step(step, batch, layer.b + c0, ws.db[l].data() + c0, at(layer.b_velocity, c0),
                       at(layer.b_second, c0), c1 - c0, 0.0);
        }
    }

    // dW rows [f0, f1) of layer 0 from x's non-zeros, each row applied as soon as it is known. One
    // row of scratch (dw_row, M) instead of the whole dW (D, M) keeps the write traffic in L1 and
    // leaves the cache to W, which the next forward pass gathers from.
    void sparse_weight_gradient(NativeLayer<T>& layer, BatchColumns<T>& columns, const std::int64_t* order,
                                index_t n, index_t f0, index_t f1, const BatchStep& batch) {
        const index_t M = layer.fan_out;
        columns.build(*sparse, order, n, f0, f1);
        T* dw = columns.dw_row(M);
        const T* dz = ws.output_gradient(net, 0);
        // Untouched rows have dW = 0: plain SGD leaves them exactly as they are, so skip them.
        const bool touch_all = batch.reg != 0.0 || layer.w_velocity != nullptr || step.rule != rule_sgd;
        for (index_t d = f0; d < f1; ++d) {
            if (columns.gradient_row(*sparse, d, dz, M, dw) == 0 && !touch_all) continue;
            apply_step(step, batch, layer.w + d * M, dw, at(layer.w_velocity, d * M), at(layer.w_second, d * M),
                       M, batch.reg);
        }
    }

    // Run by every thread of the crew; returns this thread's correct count; thread 0 adds the batch
    // loss to *loss_sum and, times the batch's rows, to *row_weighted. `update` is the number of
    // this batch's update (Adam's t).
    std::int64_t batch(const Targets<T>& y, const std::int64_t* order, index_t n, std::int64_t update,
                       BatchColumns<T>& columns, double* loss_sum, double* row_weighted, const Crew& crew) {
        const int t = crew.t, threads = crew.size;
        const std::vector<index_t>& column_bounds = threads == 1 ? solo_columns : sparse_columns;
        const std::size_t last = net.layers.size() - 1;
        const index_t C = net.layers.back().fan_out;
        const auto [r0, r1] = gemm_rows_part(n, threads, t);
        // Gather this thread's shuffled rows into one contiguous block for the dense GEMMs.
        for (index_t i = r0; i < r1; ++i) {
            const std::int64_t row = order[i];
            if (sparse == nullptr) {
                std::memcpy(ws.xb.data() + i * D, x + row * D, static_cast<std::size_t>(D) * sizeof(T));
            }
            if (y.labels) ws.yb[static_cast<std::size_t>(i)] = y.labels[row];
            if (y.values) std::copy(y.values + row * C, y.values + (row + 1) * C, ws.yv.data() + i * C);
            if (weights) ws.wb[static_cast<std::size_t>(i)] = weights[row];
        }
        const double norm = batch_norm(weights, order, n);
        const BatchStep step_now = batch_step(step, norm, update);
        // scikit-learn's objective adds 0.5 reg sum W^2 / norm, from the weights before this batch's update
        const double penalty =
            t == 0 && step.reg_per_batch && step.reg != 0.0 ? 0.5 * step.reg * squared_weights(net) / norm : 0.0;
        const T* scores = forward_rows(net, ws, ws.xb.data(), sparse, order, r0, r1);
        const Targets<T> yb{y.labels ? ws.yb.data() : nullptr, y.values ? ws.yv.data() : nullptr};
        const T* wb = weights ? ws.wb.data() : nullptr;
        const std::int64_t correct = loss_rows(net, ws, scores, yb, wb, r0, r1, C);
        // dscores = (output - target) * w / norm for this thread's rows of the batch.
        loss_gradient(ws.probs.data() + r0 * C, target_rows(yb, r0, C), wb ? wb + r0 : nullptr,
                      ws.da[last].data() + r0 * C, r1 - r0, C, norm);
        activation_backward(net.layers[last].activation, ws, last, r0 * C, (r1 - r0) * C);
        // dx of this thread's rows, layer after layer, from the old W: a row's gradient needs only
        // that row's, so no other thread is waited for until every layer's dz is known.
        for (std::size_t l = last; l > 0; --l) {
            const NativeLayer<T>& layer = net.layers[l];
            const index_t M = layer.fan_out, F = layer.fan_in;
            dense_input_gradient(net.bf16, ws.output_gradient(net, l) + r0 * M, layer.w,
                                 ws.da[l - 1].data() + r0 * F, r1 - r0, F, M);
            activation_backward(net.layers[l - 1].activation, ws, l - 1, r0 * F, (r1 - r0) * F);
        }
        crew.sync();  // every row's loss and dz are known, and nobody reads the old W any more
        if (t == 0) {
            const double loss = batch_loss(ws.row_loss, n, norm) + penalty;
            *loss_sum += loss;
            *row_weighted += loss * static_cast<double>(n);
        }
        for (std::size_t l = last + 1; l-- > 0;) {
            NativeLayer<T>& layer = net.layers[l];
            const index_t M = layer.fan_out, F = layer.fan_in;
            const T* dz = ws.output_gradient(net, l);
            // db over all rows for this thread's columns; dW for this thread's rows of W.
            if (layer.b != nullptr) {
                const auto [c0, c1] = part(M, threads, t);
                bias_gradient(dz + c0, M, ws.db[l].data() + c0, n, c1 - c0);
            }
            if (l == 0 && sparse != nullptr) {
                // Update each row of W0 as soon as its gradient row is known.
                sparse_weight_gradient(layer, columns, order, n, column_bounds[static_cast<std::size_t>(t)],
                                       column_bounds[static_cast<std::size_t>(t) + 1], step_now);
                if (layer.b != nullptr) update_rows(layer, l, 0, 0, t, threads, step_now);
                continue;
            }
            const auto [f0, f1] = gemm_rows_part(F, threads, t);
            const T* in = l == 0 ? ws.xb.data() : ws.output(net, l - 1);
            dense_weight_gradient(net.bf16, in + f0, F, dz, ws.dw[l].data() + f0 * M, n, f1 - f0, M);
            update_rows(layer, l, f0, f1, t, threads, step_now);
        }
        return correct;
    }
};

}  // namespace

template <typename T>
EpochResult train_epoch(NativeModel<T>& net, const T* x, const Targets<T>& y, const T* weights,
                        const std::int64_t* order, index_t samples, index_t D, index_t batch_size,
                        const StepSettings& step, const SparseRows<T>* sparse, int threads_wanted) {
    EpochResult result;
    if (net.layers.empty() || samples <= 0 || batch_size <= 0) return result;
    const index_t batch = std::min(batch_size, samples);
    const int threads = static_cast<int>(std::min<index_t>(team_size(threads_wanted), batch));
    Workspace<T> ws(net, batch, D, /*training=*/true, /*gather_x=*/sparse == nullptr);
    Trainer<T> trainer{net, ws, x, sparse, D, weights, step, {}, {0, D}};
    const std::int64_t updates_before = net.steps ? *net.steps : 0;
    if (sparse != nullptr) trainer.sparse_columns = balanced_columns(sparse->column_nnz, D, threads);
    std::vector<std::int64_t> correct(static_cast<std::size_t>(threads), 0);
    double loss_sum = 0.0, row_weighted = 0.0;
    Team team(threads);
    // What a batch costs depends on these (TeamSchedule's memory between calls).
    std::uint64_t work = (static_cast<std::uint64_t>(batch) << 8U) ^ static_cast<std::uint64_t>(threads) ^
                         (sizeof(T) << 4U) ^ (sparse != nullptr ? 1U << 7U : 0U) ^
                         (net.bf16 ? std::uint64_t{1} << 40U : 0U);
    for (const NativeLayer<T>& layer : net.layers)
        work = work * 1000003U + static_cast<std::uint64_t>(layer.fan_in * 131 + layer.fan_out);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        FlushSubnormals flush;
        BatchColumns<T> columns;
        std::int64_t mine = 0;
        // Batch k + 1 starts once batch k has updated every parameter (run_batches).
        run_batches(team, (samples + batch - 1) / batch, work, [&](std::int64_t k, const Crew& crew) {
            const index_t start = k * batch, n = std::min(batch, samples - start);
            mine += trainer.batch(y, order + start, n, updates_before + k + 1, columns, &loss_sum, &row_weighted,
                                  crew);
        });
        correct[static_cast<std::size_t>(thread_id())] = mine;
    }
    result.loss_sum = loss_sum;
    result.row_weighted_loss = row_weighted;
    result.batches = (samples + batch - 1) / batch;
    if (net.steps) *net.steps += result.batches;
    for (std::int64_t c : correct) result.correct += c;
    return result;
}

template <typename T>
EpochResult evaluate(const NativeModel<T>& net, const T* x, const Targets<T>& y, const T* weights,
                     index_t samples, index_t D, index_t batch_size, const SparseRows<T>* sparse,
                     int threads_wanted) {
    EpochResult result;
    if (net.layers.empty() || samples <= 0 || batch_size <= 0) return result;
    const index_t batch = std::min(batch_size, samples);
    const index_t batches = (samples + batch - 1) / batch;
    const int threads = static_cast<int>(std::min<index_t>(team_size(threads_wanted), batches));
    // Whole batches, each taken by whichever thread is free next (no barriers, and a thread that
    // another process holds up delays only its own batch); batch losses summed in order
    // afterwards, so the result does not depend on the thread count.
    std::vector<double> losses(static_cast<std::size_t>(batches));
    std::vector<std::int64_t> correct(static_cast<std::size_t>(batches));
    std::vector<std::int64_t> identity;
    if (sparse != nullptr) {
        identity.resize(static_cast<std::size_t>(samples));
        for (index_t i = 0; i < samples; ++i) identity[static_cast<std::size_t>(i)] = i;
    }
    const index_t C = net.layers.back().fan_out;
    std::atomic<index_t> next_batch{0};
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        FlushSubnormals flush;
        Workspace<T> ws(net, batch, D, /*training=*/false, /*gather_x=*/false);
        for (index_t k = next_batch++; k < batches; k = next_batch++) {
            const index_t start = k * batch, n = std::min(batch, samples - start);
            // Rows in order: the dense batch is already a contiguous block of x.
            const T* scores =
                forward_rows(net, ws, x + start * D, sparse, sparse ? identity.data() + start : nullptr, 0, n);
            const T* w = weights ? weights + start : nullptr;
            correct[static_cast<std::size_t>(k)] =
                loss_rows(net, ws, scores, target_rows(y, start, C), w, 0, n, C);
            losses[static_cast<std::size_t>(k)] = batch_loss(ws.row_loss, n, batch_norm(w, nullptr, n));
        }
    }
    for (index_t k = 0; k < batches; ++k) {
        const index_t n = std::min(batch, samples - k * batch);
        result.loss_sum += losses[static_cast<std::size_t>(k)];
        result.row_weighted_loss += losses[static_cast<std::size_t>(k)] * static_cast<double>(n);
        result.correct += correct[static_cast<std::size_t>(k)];
    }
    result.batches = batches;
    return result;
}

#define FASTMLP_INSTANTIATE(T)                                                                               \
    template EpochResult train_epoch<T>(NativeModel<T>&, const T*, const Targets<T>&, const T*,              \
                                        const std::int64_t*, index_t, index_t, index_t, const StepSettings&, \
                                        const SparseRows<T>*, int);                                          \
    template EpochResult evaluate<T>(const NativeModel<T>&, const T*, const Targets<T>&, const T*, index_t,  \
                                     index_t, index_t, const SparseRows<T>*, int);
// NOLINTBEGIN(bugprone-macro-parentheses): T is a type here, which cannot be parenthesised
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
// NOLINTEND(bugprone-macro-parentheses)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
