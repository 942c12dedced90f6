"""A whole training epoch (and an evaluation pass) in one compiled Numba call.

The model is a stack of L dense layers: layer l computes ``z_l = h_{l-1} @ W_l + b_l`` and
``h_l = act_l(z_l)`` with act_l a row of ``tables.ACTIVATIONS``; ``h_L`` are the scores fed to the
softmax-cross-entropy (the assignment's SoftmaxRegression is one layer without bias and with a ReLU,
its TwoLayerNet is [sigmoid, none]). Per batch the compiled loop does exactly what the
kernel-by-kernel path does with the same kernels: forward, mean softmax-CE, accuracy count on the
scores, backward, then for every layer ``W -= lr * (dW + reg * W)`` (or the momentum form) and the
bias step without regularisation. Every buffer is allocated once per call, none per batch; the last
batch, if shorter, uses the leading rows of the same buffers (still C-contiguous for BLAS).

Dimensions: N samples, B batch size, D inputs, C classes; layer l maps fan_in to fan_out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numba.typed import List

from ...optim import AdamSettings
from .._epoch import NativeModel, PassData, PassResult
from ..tables import OPTIMIZERS
from . import _kernel_loops as _k
from . import _sparse_loops as _sparse


@njit(cache=True)
def _forward(
    weights: Any,
    biases: Any,
    has_bias: Any,
    acts: Any,
    z: Any,
    h: Any,
    xb: Any,
    nb: int,
    use_sparse: bool,
    x: Any,
    csr: Any,
    has_values: bool,
    batch_rows: Any,
) -> Any:
    """Fill z[l][:nb], h[l][:nb] for every layer and return the scores. Layer 0 reads the dense
    rows xb[:nb], or, with use_sparse, the non-zeros of x's rows batch_rows (nb,) through
    csr = (indptr, indices, values), the values read from csr[2] when has_values, else from x."""
    inp = xb[:nb]
    for layer in range(len(weights)):
        zl = z[layer][:nb]
        bias = biases[layer] if has_bias[layer] else None
        if layer == 0 and use_sparse:
            _sparse.forward(x, csr[0], csr[1], csr[2], has_values, batch_rows, weights[0], bias, zl)
        else:
            _k.affine_forward(inp, weights[layer], bias, zl)
        hl = h[layer][:nb]
        _k.activation_forward(acts[layer], zl, hl)
        inp = hl
    return inp


@njit(cache=True)
def _batch_buffers(weights: Any, B: int) -> Any:
    """One (B, fan_out) buffer per layer."""
    dtype = weights[0].dtype
    # the first element is appended outside the loop so Numba can type the list from it
    buffers = List([np.empty((B, weights[0].shape[1]), dtype)])
    for layer in range(1, len(weights)):
        buffers.append(np.empty((B, weights[layer].shape[1]), dtype))
    return buffers


@njit(cache=True)
def _gradient_buffers(weights: Any) -> Any:
    """dW like each weight matrix, db with one entry per output column."""
    dtype = weights[0].dtype
    dw = List([np.empty_like(weights[0])])
    db = List([np.empty(weights[0].shape[1], dtype)])
    for layer in range(1, len(weights)):
        dw.append(np.empty_like(weights[layer]))
        db.append(np.empty(weights[layer].shape[1], dtype))
    return dw, db


@njit(cache=True)
def _max_row_nnz(indptr: Any) -> int:
    most = 0
    for r in range(indptr.shape[0] - 1):
        most = max(most, indptr[r + 1] - indptr[r])
    return most


# Running sums of the squares in _squared_weights: one sum is a chain of dependent adds (58 us a
# batch at 784-128-10 on a Zen 5, about 44 ms of an sklearn-style epoch); with 64 side by side LLVM
# vectorises the loop (7-9 us; 32 took 33 us, 128 about 6-8 us).
_SQUARE_LANES = 64
# Rows of layer 0's dW the sparse weight update forms before it steps them in one call
# (``_sparse_loops.weight_update``). Timed alone, the Nesterov step over a 784 x 128 W, 750 times:
# 21 ms a call a row, 14.6 ms 8 rows a call, 12 ms 16 rows or all 784; the numba sklearn sgd fit
# (Nesterov, 3 epochs of MNIST) 0.39-0.43 s before, 0.35-0.40 s after, in alternating pairs.
_STEP_ROWS = 8


@njit(cache=True)
def _squared_weights(weights: Any) -> float:
    """sum of the squares of every weight matrix, in float64 (scikit-learn's L2 penalty).

    Element i of each matrix goes to running sum i % _SQUARE_LANES, the elements after the matrix's
    last whole run of sums to one more; all of them are added in a fixed order at the end.
    """
    partial = np.zeros(_SQUARE_LANES)
    total = 0.0
    for layer in range(len(weights)):
        w = weights[layer].reshape(-1)
        whole = w.shape[0] - w.shape[0] % _SQUARE_LANES
        for i in range(0, whole, _SQUARE_LANES):
            for k in range(_SQUARE_LANES):
                v = float(w[i + k])
                partial[k] += v * v
        for i in range(whole, w.shape[0]):
            total += float(w[i]) * float(w[i])
    for k in range(_SQUARE_LANES):
        total += partial[k]
    return total


@njit(cache=True)
def _batch_loss(
    code: int, scores: Any, labels: Any, values: Any, weights: Any, has_weights: bool, probs: Any, norm: float
) -> float:
    """sum_n w_n loss_n / norm over the batch's rows (each row as the batch kernel adds it up)."""
    total = 0.0
    for i in range(scores.shape[0]):
        loss = _k.row_loss(code, scores, labels, values, probs, i)
        total += float(weights[i]) * loss if has_weights else loss
    result: float = total / norm
    return result


@njit(cache=True)
def train_epoch_kernel(
    weights: Any,
    biases: Any,
    has_bias: Any,
    acts: Any,
    loss_code: int,
    firsts: Any,
    b_firsts: Any,
    seconds: Any,
    b_seconds: Any,
    use_first: bool,
    x: Any,
    labels: Any,
    values: Any,
    sample_weight: Any,
    has_weights: bool,
    order: Any,
    B: int,
    rule: int,
    lr: float,
    reg: float,
    momentum: Any,
    adam: Any,
    reg_per_batch: bool,
    updates_before: int,
    use_sparse: bool,
    csr: Any,
    has_values: bool,
) -> tuple[float, int, int, float]:
    """One epoch over x[order] in batches of B; returns (sum of batch losses, batches, correct,
    sum of batch loss x batch rows).

    weights[l] (fan_in, fan_out), biases[l] (fan_out,) (ignored where not has_bias[l]), acts[l]
    codes; loss_code a row of tables.LOSSES with its targets labels (N,) int64 or values (N, K)
    (the other an empty stand-in); sample_weight (N,) read when has_weights; x (N, D), order (S,)
    int64 indices into x. The step: rule (tables.OPTIMIZERS), lr and reg in float64 (reg / norm per
    batch when reg_per_batch; Adam's step size from lr and the update count), momentum and adam =
    (beta1, beta2, epsilon, 1 - beta1, 1 - beta2) in the weights' dtype; firsts / seconds (and
    b_ for biases) the step's buffers like the parameters (read only when use_first / by Adam).
    With use_sparse, layer 0 runs over x's non-zeros, csr = (indptr, indices, values)
    (``backends._sparse.SparseRows``), and x is not read when has_values; layer 0's weights are
    then updated row by row as their gradient is formed.
    """
    L = len(weights)
    S = order.shape[0]
    D = x.shape[1]
    C = weights[L - 1].shape[1]
    dtype = x.dtype
    scalar = dtype.type
    on_labels = loss_code == _k.SOFTMAX_CROSS_ENTROPY
    xb = np.empty((0 if use_sparse else B, D), dtype)
    yb = np.empty(B if on_labels else 0, np.int64)
    yv = np.empty((0 if on_labels else B, C), dtype)
    wb = np.empty(B if has_weights else 0, dtype)
    probs = np.empty((B, C), dtype)
    z, h = _batch_buffers(weights, B), _batch_buffers(weights, B)
    dh, dz = _batch_buffers(weights, B), _batch_buffers(weights, B)
    dw, db = _gradient_buffers(weights)
    # the sparse layer 0: the batch's non-zeros as a bit per row of each column, and a few dW rows
    # at a time; their values copied per batch only where the structure keeps none
    copy_capacity = B * _max_row_nnz(csr[0]) if use_sparse and not has_values else 0
    col_mask = np.empty((D if use_sparse else 0, (B + 63) // 64), np.uint64)
    row_cursor = np.empty(B, np.int64)
    batch_values = np.empty(copy_capacity, dtype)
    dw_rows = np.empty(_STEP_ROWS * weights[0].shape[1], dtype)  # dW rows formed, then stepped together
    zero = scalar(0)
    loss_sum = 0.0
    row_weighted = 0.0
    batches = 0
    correct = 0
    for start in range(0, S, B):
        nb = min(B, S - start)
        batch_rows = order[start : start + nb]
        norm = 0.0
        for i in range(nb):
            row = batch_rows[i]
            if on_labels:
                yb[i] = labels[row]
            else:
                for c in range(C):
                    yv[i, c] = values[row, c]
            if has_weights:
                wb[i] = sample_weight[row]
                norm += float(sample_weight[row])
            if not use_sparse:
                for d in range(D):
                    xb[i, d] = x[row, d]
        if not has_weights:
            norm = float(nb)
        ybn, yvn, wbn = (
            yb[: nb if on_labels else 0],
            yv[: 0 if on_labels else nb],
            wb[: nb if has_weights else 0],
        )
        step = lr
        if rule == _k.ADAM:
            t = float(updates_before + batches + 1)
            step = lr * np.sqrt(1.0 - float(adam[1]) ** t) / (1.0 - float(adam[0]) ** t)
        batch_reg = scalar(reg / norm if reg_per_batch else reg)
        penalty = 0.5 * reg * _squared_weights(weights) / norm if reg_per_batch and reg != 0.0 else 0.0
        scores = _forward(
            weights, biases, has_bias, acts, z, h, xb, nb, use_sparse, x, csr, has_values, batch_rows
        )
        batch_loss = _batch_loss(loss_code, scores, ybn, yvn, wbn, has_weights, probs[:nb], norm) + penalty
        loss_sum += batch_loss
        row_weighted += batch_loss * nb
        correct += _k.output_correct(loss_code, scores, probs[:nb], ybn, yvn)
        batches += 1
        _k.loss_gradient(loss_code, probs[:nb], ybn, yvn, wbn, has_weights, dh[L - 1][:nb], norm)
        weight_step = (rule, scalar(step), batch_reg, momentum, use_first, adam)
        bias_step = (rule, scalar(step), zero, momentum, use_first, adam)  # biases: no L2
        for layer in range(L - 1, -1, -1):
            upstream = dh[layer][:nb]
            grad_z = upstream
            if acts[layer] != _k.IDENTITY:
                grad_z = dz[layer][:nb]
                _k.activation_backward(acts[layer], upstream, z[layer][:nb], h[layer][:nb], grad_z)
            if layer == 0 and use_sparse:
                # Layer 0 has no dx and nothing reads W0 again this batch: update it right away.
                source = _sparse.batch_bits(
                    x, csr[0], csr[1], csr[2], has_values, batch_rows, col_mask, row_cursor, batch_values
                )
                _sparse.weight_update(
                    col_mask,
                    row_cursor,
                    source,
                    grad_z,
                    weights[0],
                    dw_rows,
                    firsts[0],
                    seconds[0],
                    weight_step,
                )
                if has_bias[0]:
                    _k.column_sums(grad_z, db[0])
                continue
            inp = xb[:nb] if layer == 0 else h[layer - 1][:nb]
            _k.affine_backward(
                grad_z,
                inp,
                weights[layer],
                dh[layer - 1][:nb] if layer > 0 else None,
                dw[layer],
                db[layer] if has_bias[layer] else None,
            )
        for layer in range(L):
            if not (layer == 0 and use_sparse):
                w_flat, g_flat = weights[layer].reshape(-1), dw[layer].reshape(-1)
                first, second = firsts[layer].reshape(-1), seconds[layer].reshape(-1)
                _k.apply_step(w_flat, g_flat, first, second, weight_step)
            if has_bias[layer]:
                _k.apply_step(biases[layer], db[layer], b_firsts[layer], b_seconds[layer], bias_step)
    return loss_sum, batches, correct, row_weighted


@njit(cache=True)
def evaluate_kernel(
    weights: Any,
    biases: Any,
    has_bias: Any,
    acts: Any,
    loss_code: int,
    x: Any,
    labels: Any,
    values: Any,
    sample_weight: Any,
    has_weights: bool,
    B: int,
    use_sparse: bool,
    csr: Any,
    has_values: bool,
) -> tuple[float, int, float]:
    """Forward over x in order, batches of B; returns (sum of batch losses, correct count, sum of
    batch loss x batch rows). Targets and weights as train_epoch_kernel takes them."""
    N = x.shape[0]
    C = weights[len(weights) - 1].shape[1]
    on_labels = loss_code == _k.SOFTMAX_CROSS_ENTROPY
    probs = np.empty((B, C), x.dtype)
    z, h = _batch_buffers(weights, B), _batch_buffers(weights, B)
    every_row = np.arange(N)
    loss_sum = 0.0
    row_weighted = 0.0
    correct = 0
    for start in range(0, N, B):
        nb = min(B, N - start)
        ybn = labels[start : start + nb] if on_labels else labels[:0]
        yvn = values[:0] if on_labels else values[start : start + nb]
        wbn = sample_weight[start : start + nb] if has_weights else sample_weight[:0]
        norm = float(nb)
        if has_weights:
            norm = 0.0
            for i in range(nb):
                norm += float(wbn[i])
        scores = _forward(
            weights, biases, has_bias, acts, z, h, x[start : start + nb], nb, use_sparse, x, csr,
            has_values, every_row[start : start + nb],
        )  # fmt: skip
        batch_loss = _batch_loss(loss_code, scores, ybn, yvn, wbn, has_weights, probs[:nb], norm)
        loss_sum += batch_loss
        row_weighted += batch_loss * nb
        correct += _k.output_correct(loss_code, scores, probs[:nb], ybn, yvn)
    return loss_sum, correct, row_weighted


# --- Python boundary: the checked description as Numba typed lists -------------------------


def _typed(net: NativeModel) -> tuple[Any, ...]:
    """(weights, biases, has_bias, activation codes, firsts, bias firsts, seconds, bias seconds,
    use_first) as the compiled loops take them, made once per description."""
    cached: tuple[Any, ...] | None = net.native.get("numba")
    if cached is not None:
        return cached
    w_list, b_list = List(), List()
    has_bias = np.array([b is not None for b in net.biases], dtype=np.bool_)
    acts = np.array([row.code for row in net.activations], dtype=np.int64)
    for w, b in zip(net.weights, net.biases, strict=True):
        w_list.append(w)
        b_list.append(np.zeros(w.shape[1], w.dtype) if b is None else b)  # a placeholder is never read
    use_first = net.weight_velocities is not None

    def buffers(weight_buffers: Any, bias_buffers: Any) -> tuple[Any, Any]:
        # without the buffer the kernel never reads it; the parameters stand in
        if weight_buffers is None or bias_buffers is None:
            return w_list, b_list
        w_buf, b_buf = List(), List()
        for bw, bb, b in zip(weight_buffers, bias_buffers, b_list, strict=True):
            w_buf.append(bw)
            b_buf.append(b if bb is None else bb)  # a bias-less layer's placeholder is never read
        return w_buf, b_buf

    firsts, b_firsts = buffers(net.weight_velocities, net.bias_velocities)
    seconds, b_seconds = buffers(net.weight_seconds, net.bias_seconds)
    typed = (w_list, b_list, has_bias, acts, firsts, b_firsts, seconds, b_seconds, use_first)
    net.native["numba"] = typed
    return typed


def _csr(data: PassData) -> tuple[bool, tuple[np.ndarray, np.ndarray, np.ndarray], bool]:
    """(use_sparse, (indptr, indices, values), has_values); empty stand-ins, never read, for the
    dense path and for values the structure does not keep."""
    no_values = np.zeros(0, data.x.dtype)
    if data.rows is None:
        return False, (np.zeros(1, np.int64), np.zeros(0, np.uint16), no_values), False
    values = data.rows.values
    return (
        True,
        (data.rows.indptr, data.rows.indices, no_values if values is None else values),
        values is not None,
    )


def _targets(data: PassData) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(labels, values, sample_weight, has_weights), empty stand-ins for what the pass has not."""
    dtype = data.x.dtype
    labels = np.zeros(0, np.int64) if data.labels is None else data.labels
    values = np.zeros((0, 0), dtype) if data.values is None else data.values
    weights = np.zeros(0, dtype) if data.sample_weight is None else data.sample_weight
    return labels, values, weights, data.sample_weight is not None


def train(net: NativeModel, data: PassData) -> PassResult:
    """The compiled training epoch on a checked description (``backends._epoch`` contract)."""
    step = net.step
    assert step is not None and data.order is not None  # checked by backends._epoch
    *arrays, use_first = _typed(net)
    use_sparse, csr, has_values = _csr(data)
    s = data.x.dtype.type  # hyper-parameters in the weights' dtype, as NumPy rounds them
    beta1, beta2, epsilon = (
        (step.beta1, step.beta2, step.epsilon) if isinstance(step, AdamSettings) else (0.9, 0.999, 1e-8)
    )
    adam = np.array([beta1, beta2, epsilon, 1 - beta1, 1 - beta2], dtype=data.x.dtype)
    before = 0 if net.steps is None else int(net.steps[0])
    w_list, b_list, has_bias, acts, firsts, b_firsts, seconds, b_seconds = arrays
    loss_sum, batches, correct, row_weighted = train_epoch_kernel(
        w_list, b_list, has_bias, acts, net.loss.code, firsts, b_firsts, seconds, b_seconds, use_first,
        data.x, *_targets(data), data.order, data.batch_size,
        OPTIMIZERS[step.rule].code, step.learning_rate, step.reg, s(step.momentum), adam,
        step.l2 == "sklearn", before, use_sparse, csr, has_values,
    )  # fmt: skip
    if net.steps is not None:
        net.steps[0] += batches
    return PassResult(float(loss_sum), int(batches), int(correct), float(row_weighted))


def evaluate(net: NativeModel, data: PassData) -> PassResult:
    """The compiled evaluation pass on a checked description (``backends._epoch`` contract)."""
    w_list, b_list, has_bias, acts = _typed(net)[:4]
    use_sparse, csr, has_values = _csr(data)
    B = data.batch_size
    loss_sum, correct, row_weighted = evaluate_kernel(
        w_list, b_list, has_bias, acts, net.loss.code, data.x, *_targets(data), B, use_sparse, csr, has_values
    )
    return PassResult(float(loss_sum), -(-data.x.shape[0] // B), int(correct), float(row_weighted))
