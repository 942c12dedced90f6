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

from .._epoch import Layers, Pass
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


@njit(cache=True)
def train_epoch_kernel(
    weights: Any,
    biases: Any,
    has_bias: Any,
    acts: Any,
    w_velocity: Any,
    b_velocity: Any,
    use_velocity: bool,
    x: Any,
    y: Any,
    order: Any,
    B: int,
    lr: Any,
    reg: Any,
    momentum: Any,
    use_sparse: bool,
    csr: Any,
    has_values: bool,
) -> tuple[float, int, int]:
    """One epoch over x[order] in batches of B; returns (sum of batch losses, batches, correct).

    weights[l] (fan_in, fan_out), biases[l] (fan_out,) (ignored where not has_bias[l]), acts[l] codes,
    velocities like the parameters (ignored unless use_velocity), x (N, D), y (N,) int64,
    order (S,) int64 indices into x. lr, reg, momentum are scalars of the weights' dtype.
    With use_sparse, layer 0 runs over x's non-zeros, csr = (indptr, indices, values)
    (``backends._sparse.SparseRows``), and x is not read when has_values; layer 0's weights are
    then updated row by row as their gradient is formed.
    """
    L = len(weights)
    S = order.shape[0]
    D = x.shape[1]
    C = weights[L - 1].shape[1]
    dtype = x.dtype
    xb = np.empty((0 if use_sparse else B, D), dtype)
    yb = np.empty(B, np.int64)
    probs = np.empty((B, C), dtype)
    z, h = _batch_buffers(weights, B), _batch_buffers(weights, B)
    dh, dz = _batch_buffers(weights, B), _batch_buffers(weights, B)
    dw, db = _gradient_buffers(weights)
    # the sparse layer 0: the batch's non-zeros by column, and one dW row at a time
    capacity = B * _max_row_nnz(csr[0]) if use_sparse else 0
    col_start, col_fill = np.empty(D + 1, np.int64), np.empty(D, np.int64)
    col_rows, col_scales = np.empty(capacity, np.int64), np.empty(capacity, dtype)
    dw_row = np.empty(weights[0].shape[1], dtype)
    zero = dtype.type(0)
    loss_sum = 0.0
    batches = 0
    correct = 0
    for start in range(0, S, B):
        nb = min(B, S - start)
        batch_rows = order[start : start + nb]
        for i in range(nb):
            row = batch_rows[i]
            yb[i] = y[row]
            if not use_sparse:
                for d in range(D):
                    xb[i, d] = x[row, d]
        ybn = yb[:nb]
        scores = _forward(
            weights, biases, has_bias, acts, z, h, xb, nb, use_sparse, x, csr, has_values, batch_rows
        )
        loss_sum += _k.softmax_cross_entropy(scores, ybn, probs[:nb])
        correct += _k.correct_count(scores, ybn)
        batches += 1
        _k.softmax_cross_entropy_backward(probs[:nb], ybn, dh[L - 1][:nb])
        for layer in range(L - 1, -1, -1):
            upstream = dh[layer][:nb]
            grad_z = upstream
            if acts[layer] != _k.IDENTITY:
                grad_z = dz[layer][:nb]
                _k.activation_backward(acts[layer], upstream, z[layer][:nb], h[layer][:nb], grad_z)
            if layer == 0 and use_sparse:
                # Layer 0 has no dx and nothing reads W0 again this batch: update it right away.
                _sparse.batch_columns(
                    x,
                    csr[0],
                    csr[1],
                    csr[2],
                    has_values,
                    batch_rows,
                    col_start,
                    col_fill,
                    col_rows,
                    col_scales,
                )
                _sparse.weight_update(
                    col_start, col_rows, col_scales, grad_z, weights[0], dw_row,
                    lr, reg, momentum, w_velocity[0], use_velocity,
                )  # fmt: skip
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
                w_flat = weights[layer].reshape(-1)
                g_flat = dw[layer].reshape(-1)
                if use_velocity:
                    _k.sgd_update(w_flat, g_flat, lr, reg, momentum, w_velocity[layer].reshape(-1))
                else:
                    _k.sgd_update(w_flat, g_flat, lr, reg, momentum, None)
            if has_bias[layer]:
                if use_velocity:
                    _k.sgd_update(biases[layer], db[layer], lr, zero, momentum, b_velocity[layer])
                else:
                    _k.sgd_update(biases[layer], db[layer], lr, zero, momentum, None)
    return loss_sum, batches, correct


@njit(cache=True)
def evaluate_kernel(
    weights: Any,
    biases: Any,
    has_bias: Any,
    acts: Any,
    x: Any,
    y: Any,
    B: int,
    use_sparse: bool,
    csr: Any,
    has_values: bool,
) -> tuple[float, int]:
    """Forward over x in order, batches of B; returns (sum of batch losses, correct count)."""
    N = x.shape[0]
    C = weights[len(weights) - 1].shape[1]
    probs = np.empty((B, C), x.dtype)
    z, h = _batch_buffers(weights, B), _batch_buffers(weights, B)
    every_row = np.arange(N)
    loss_sum = 0.0
    correct = 0
    for start in range(0, N, B):
        nb = min(B, N - start)
        yb = y[start : start + nb]
        scores = _forward(
            weights, biases, has_bias, acts, z, h, x[start : start + nb], nb, use_sparse, x, csr,
            has_values, every_row[start : start + nb],
        )  # fmt: skip
        loss_sum += _k.softmax_cross_entropy(scores, yb, probs[:nb])
        correct += _k.correct_count(scores, yb)
    return loss_sum, correct


# --- Python boundary: the checked description as Numba typed lists -------------------------


def _typed(net: Layers) -> tuple[Any, ...]:
    """(weights, biases, has_bias, activation codes, weight velocities, bias velocities,
    use_velocity) as the compiled loops take them, made once per description."""
    cached: tuple[Any, ...] | None = net.native.get("numba")
    if cached is not None:
        return cached
    w_list, b_list = List(), List()
    has_bias = np.array([b is not None for b in net.biases], dtype=np.bool_)
    acts = np.array([row.code for row in net.activations], dtype=np.int64)
    for w, b in zip(net.weights, net.biases, strict=True):
        w_list.append(w)
        b_list.append(np.zeros(w.shape[1], w.dtype) if b is None else b)  # a placeholder is never read
    use_velocity = net.weight_velocities is not None
    # without momentum the kernel never reads the velocity lists; pass the parameters as stand-ins
    wv_list, bv_list = w_list, b_list
    if net.weight_velocities is not None and net.bias_velocities is not None:
        wv_list, bv_list = List(), List()
        for vw, vb, b in zip(net.weight_velocities, net.bias_velocities, b_list, strict=True):
            wv_list.append(vw)
            bv_list.append(b if vb is None else vb)  # a bias-less layer's placeholder is never read
    typed = (w_list, b_list, has_bias, acts, wv_list, bv_list, use_velocity)
    net.native["numba"] = typed
    return typed


def _csr(data: Pass) -> tuple[bool, tuple[np.ndarray, np.ndarray, np.ndarray], bool]:
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


def train(net: Layers, data: Pass) -> tuple[float, int, int]:
    """The compiled training epoch on a checked description (``backends._epoch`` contract)."""
    assert net.sgd is not None and data.order is not None  # checked by backends._epoch
    w_list, b_list, has_bias, acts, wv_list, bv_list, use_velocity = _typed(net)
    use_sparse, csr, has_values = _csr(data)
    scalar = data.x.dtype.type  # hyper-parameters in the weights' dtype, as NumPy rounds them
    sgd = net.sgd
    loss_sum, batches, correct = train_epoch_kernel(
        w_list, b_list, has_bias, acts, wv_list, bv_list, use_velocity,
        data.x, data.y, data.order, data.batch_size,
        scalar(sgd.learning_rate), scalar(sgd.reg), scalar(sgd.momentum), use_sparse, csr, has_values,
    )  # fmt: skip
    return float(loss_sum), int(batches), int(correct)


def evaluate(net: Layers, data: Pass) -> tuple[float, int, int]:
    """The compiled evaluation pass on a checked description (``backends._epoch`` contract)."""
    w_list, b_list, has_bias, acts = _typed(net)[:4]
    use_sparse, csr, has_values = _csr(data)
    B = data.batch_size
    loss_sum, correct = evaluate_kernel(
        w_list, b_list, has_bias, acts, data.x, data.y, B, use_sparse, csr, has_values
    )
    return float(loss_sum), -(-data.x.shape[0] // B), int(correct)
