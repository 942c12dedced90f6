"""The compiled Numba kernels behind ``numba_backend``, on already-validated arrays.

Every kernel writes into output arrays it is given and returns at most a scalar, so the same
functions serve the per-kernel Python API and the whole-epoch loop (``numba_backend._epoch_loops``).
Arithmetic stays in the array dtype: constants are made with ``x.dtype.type(...)`` because a bare
Python literal would promote float32 to float64. No ``fastmath`` (it would break isnan and change
rounding) and no ``parallel=True``: at the assignment's sizes (at most 1024 x 128 elements) a pass
is a few microseconds, less than waking a thread pool; the GEMMs get their threads from BLAS.
Dimensions: N batch rows, D inputs, M outputs, C classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from ..tables import ACTIVATIONS, LOSSES, OPTIMIZERS
from ._blas import gemm

# The activation rows' codes, as plain ints that compiled code takes as constants.
IDENTITY, RELU, SIGMOID, TANH = (ACTIVATIONS[name].code for name in ("identity", "relu", "sigmoid", "tanh"))
# The loss rows' codes (softmax cross-entropy is the row on labels, told apart by its labels).
SOFTMAX_CROSS_ENTROPY, BINARY_CROSS_ENTROPY, POISSON_DEVIANCE = (
    LOSSES[name].code for name in ("softmax_cross_entropy", "binary_cross_entropy", "poisson_deviance")
)
SGD, NESTEROV, ADAM = (OPTIMIZERS[name].code for name in ("sgd", "nesterov", "adam"))


@njit(cache=True)
def affine_forward(x: Any, w: Any, b: Any, out: Any) -> None:
    """out = x @ w + b.  x (N, D), w (D, M), b (M,) or None, out (N, M)."""
    gemm(False, False, x, w, out)
    if b is not None:
        N, M = out.shape
        for n in range(N):
            for m in range(M):
                out[n, m] += b[m]


@njit(cache=True)
def affine_backward(dout: Any, x: Any, w: Any, dx: Any, dw: Any, db: Any) -> None:
    """dx = dout w^T (if dx is not None), dw = x^T dout, db = sum_n dout (if db is not None).

    dout (N, M), x (N, D), w (D, M), dx (N, D), dw (D, M), db (M,).
    """
    if dx is not None:
        gemm(False, True, dout, w, dx)
    gemm(True, False, x, dout, dw)
    if db is not None:
        column_sums(dout, db)


@njit(cache=True)
def column_sums(a: Any, out: Any) -> None:
    """out = sum_n a[n, :], summed in row order.  a (N, M), out (M,)."""
    N, M = a.shape
    out[:] = 0
    for n in range(N):
        for m in range(M):
            out[m] += a[n, m]


@njit(cache=True)
def relu_forward(z: Any, out: Any) -> None:
    """out = max(z, 0).  z, out (N, M)."""
    N, M = z.shape
    zero = z.dtype.type(0)
    for n in range(N):
        for m in range(M):
            # np.maximum propagates NaN, and NaN > 0 is False: test for NaN explicitly
            v = z[n, m]
            out[n, m] = v if (v > zero or v != v) else zero


@njit(cache=True)
def relu_backward(dout: Any, z: Any, out: Any) -> None:
    """out = dout * (z > 0).  dout, z, out (N, M)."""
    N, M = z.shape
    zero, one = z.dtype.type(0), z.dtype.type(1)
    for n in range(N):
        for m in range(M):
            # a multiply, not a select, so 0 * inf gives NaN as in the reference
            out[n, m] = dout[n, m] * (one if z[n, m] > zero else zero)


# exp for float32 as Cephes' expf (the polynomial Eigen's vectorised exp uses, about 1 ulp): plain
# arithmetic that LLVM vectorises, where np.exp is a scalar libm call per element (in the float32
# epoch that call was 10% of the time, docs/performance.md round 2).
_LOG2E = np.float32(1.44269504088896341)
_LN2_HIGH, _LN2_LOW = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 = high + low
_EXP_POLY = tuple(
    np.float32(c)
    for c in (
        1.9875691500e-4,
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    )
)
_LOG_TINY_F32 = np.float32(np.log(np.finfo(np.float32).tiny))  # below it exp(x) is subnormal


@njit(cache=True, inline="always")
def _exp_nonpositive_f32(x: Any) -> Any:
    """exp(x) for a float32 x <= 0 (or NaN), within about 1 ulp of np.exp; 0 where the exact
    value is subnormal (x < log(tiny), as the C++ kernel), NaN for NaN.

    exp(x) = 2^k exp(r) with k = round(x / ln 2) and |r| <= ln 2 / 2; 2^k is built from its bits.
    """
    clamped = x if x >= _LOG_TINY_F32 else _LOG_TINY_F32  # keeps k in float32's normal range
    k = np.floor(clamped * _LOG2E + np.float32(0.5))
    r = clamped - k * _LN2_HIGH
    r = r - k * _LN2_LOW
    c0, c1, c2, c3, c4, c5 = _EXP_POLY
    poly = ((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5
    exp_r = poly * (r * r) + r + np.float32(1)
    two_k = np.int32((np.int32(k) + np.int32(127)) << np.int32(23)).view(np.float32)
    e = exp_r * two_k
    if x < _LOG_TINY_F32:
        e = np.float32(0)
    return x if x != x else e


def _float32_or_libm(float32_version: Any, libm: Any, doc: str) -> Any:
    """A function for compiled code only: ``float32_version`` on a float32 argument, NumPy's
    ``libm`` ufunc on any other (a Numba overload chosen by the argument's type, inlined)."""

    def by_type(v: Any) -> Any:
        raise NotImplementedError("only callable from compiled code")

    by_type.__doc__ = doc

    @overload(by_type, inline="always")
    def _implementation(v: Any) -> Any:
        if v == types.float32:

            def for_float32(v: Any) -> Any:
                return float32_version(v)

            return for_float32

        def for_float64(v: Any) -> Any:
            return libm(v)

        return for_float64

    return by_type


_exp_nonpositive = _float32_or_libm(
    _exp_nonpositive_f32, np.exp, "exp(x) for x <= 0: the float32 polynomial above, np.exp for float64."
)


@njit(cache=True, error_model="numpy")  # 1 + e >= 1: no zero-division check to keep LLVM from vectorising
def sigmoid_forward(z: Any, out: Any) -> None:
    """out = 1 / (1 + exp(-z)) via e = exp(-|z|), so no finite z overflows.  z, out (N, M).

    float32 takes the vectorised exp above (e = 0 where it would be subnormal, as in the C++
    kernel); float64 takes np.exp.
    """
    N, M = z.shape
    zero, one = z.dtype.type(0), z.dtype.type(1)
    for n in range(N):
        for m in range(M):
            v = z[n, m]
            e = _exp_nonpositive(-abs(v))
            out[n, m] = (one if v >= zero else e) / (one + e)


@njit(cache=True)
def sigmoid_backward(dout: Any, a: Any, out: Any) -> None:
    """out = dout * a * (1 - a).  dout, a, out (N, M)."""
    N, M = a.shape
    one = a.dtype.type(1)
    for n in range(N):
        for m in range(M):
            v = a[n, m]
            out[n, m] = dout[n, m] * (v * (one - v))


# tanh's odd Taylor coefficients after z: z^3, z^5, z^7 (float32's tanh below _TANH_SERIES_BELOW).
_TANH_SERIES = (np.float32(-1 / 3), np.float32(2 / 15), np.float32(-17 / 315))
_TANH_SERIES_BELOW = np.float32(0.0625)


@njit(cache=True, inline="always", error_model="numpy")
def _tanh_f32(v: Any) -> Any:
    """tanh(v) for a float32 v, within 3 ulp of the exact value, in operations LLVM vectorises:
    tanh|v| = (1 - e) / (1 + e) with e = exp(-2|v|) from the polynomial exp above, and below
    |v| = 1/16, where 1 - e would cancel, the series to v^7 (its next term is 1e-13 of tanh there)."""
    a = abs(v)
    e = _exp_nonpositive_f32(np.float32(-2) * a)
    by_exp = (np.float32(1) - e) / (np.float32(1) + e)
    s = a * a
    c3, c5, c7 = _TANH_SERIES
    by_series = a + a * s * (c3 + s * (c5 + s * c7))
    t = by_series if a < _TANH_SERIES_BELOW else by_exp
    return v if v != v else np.copysign(t, v)  # -0.0 stays -0.0, as np.tanh keeps it


_tanh = _float32_or_libm(_tanh_f32, np.tanh, "tanh(v): the float32 formula above, np.tanh for float64.")


@njit(cache=True, error_model="numpy")
def tanh_forward(z: Any, out: Any) -> None:
    """out = tanh(z).  z, out (N, M).

    float32 by ``_tanh_f32`` (the kernel benchmark at 64 x 128: 75 -> 6 us against np.tanh's
    scalar libm calls in a Numba loop); float64 by np.tanh: the same formula on float64's scalar
    exp was only 2.5x faster and loses about 4 digits near 1/16 (1 - e cancels), and np.expm1 in
    its place was as slow as np.tanh.
    """
    N, M = z.shape
    for n in range(N):
        for m in range(M):
            out[n, m] = _tanh(z[n, m])


@njit(cache=True)
def tanh_backward(dout: Any, a: Any, out: Any) -> None:
    """out = dout * (1 - a^2).  dout, a, out (N, M)."""
    one = a.dtype.type(1)
    for n in range(a.shape[0]):
        for m in range(a.shape[1]):
            out[n, m] = dout[n, m] * (one - a[n, m] * a[n, m])


@njit(cache=True)
def activation_forward(code: int, z: Any, out: Any) -> None:
    """out = act(z) for the activation row with this code.  z, out (N, M)."""
    if code == RELU:
        relu_forward(z, out)
    elif code == SIGMOID:
        sigmoid_forward(z, out)
    elif code == TANH:
        tanh_forward(z, out)
    else:
        out[:, :] = z


@njit(cache=True)
def activation_backward(code: int, dout: Any, z: Any, a: Any, out: Any) -> None:
    """out = dout * act'(z) for the row with this code (not identity), from z or a as the row reads.

    dout, z, a (its forward output), out (N, M).
    """
    if code == RELU:
        relu_backward(dout, z, out)
    elif code == SIGMOID:
        sigmoid_backward(dout, a, out)
    elif code == TANH:
        tanh_backward(dout, a, out)


@njit(cache=True)
def _softmax_row(scores: Any, out: Any, n: int) -> tuple[Any, Any]:
    """Row n of a stable softmax into out[n]; returns the row's maximum and its normaliser."""
    C = scores.shape[1]
    top = scores[n, 0]
    for c in range(1, C):
        top = max(top, scores[n, c])
    total = scores.dtype.type(0)
    for c in range(C):
        e = np.exp(scores[n, c] - top)
        out[n, c] = e
        total += e
    for c in range(C):
        out[n, c] /= total
    return top, total


@njit(cache=True)
def softmax_forward(scores: Any, out: Any) -> None:
    """Row-wise stable softmax.  scores, out (N, C)."""
    for n in range(scores.shape[0]):
        _softmax_row(scores, out, n)


@njit(cache=True)
def softmax_backward(dprobs: Any, probs: Any, out: Any) -> None:
    """out = s * (dp - sum_c dp_c s_c) per row.  dprobs, probs, out (N, C)."""
    N, C = probs.shape
    for n in range(N):
        inner = probs.dtype.type(0)
        for c in range(C):
            inner += dprobs[n, c] * probs[n, c]
        for c in range(C):
            out[n, c] = probs[n, c] * (dprobs[n, c] - inner)


@njit(cache=True)
def cross_entropy_forward(probs: Any, y: Any) -> float:
    """-mean_n log(max(probs[n, y_n], tiny)), summed in float64.  probs (N, C), y (N,) int64."""
    N = probs.shape[0]
    tiny = probs.dtype.type(np.finfo(probs.dtype).tiny)
    total = 0.0
    for n in range(N):
        total += np.log(max(probs[n, y[n]], tiny))
    loss: float = -total / N
    return loss


@njit(cache=True)
def softmax_cross_entropy(scores: Any, y: Any, probs: Any) -> float:
    """Fused softmax + mean cross-entropy (log-sum-exp); loss summed in float64.

    scores (N, C), y (N,) int64, probs (N, C) written.
    """
    N = scores.shape[0]
    total = 0.0
    for n in range(N):
        top, norm = _softmax_row(scores, probs, n)
        total += np.log(norm) - (scores[n, y[n]] - top)
    loss: float = total / N
    return loss


@njit(cache=True)
def softmax_cross_entropy_backward(probs: Any, y: Any, out: Any) -> None:
    """out = (probs - onehot(y)) / N.  probs, out (N, C), y (N,) int64."""
    N, C = probs.shape
    one = probs.dtype.type(1)
    count = probs.dtype.type(N)
    for n in range(N):
        for c in range(C):
            v = probs[n, c]
            if c == y[n]:
                v -= one
            out[n, c] = v / count


@njit(cache=True)
def correct_count(scores: Any, y: Any) -> int:
    """Rows whose first arg-max equals the label.  scores (N, C), y (N,) int64."""
    N, C = scores.shape
    correct = 0
    for n in range(N):
        best = 0
        for c in range(1, C):
            # strict '>' keeps the first maximum, as np.argmax; a NaN is taken as the maximum
            # like np.argmax does, and then every later comparison is False
            if scores[n, c] > scores[n, best] or (
                scores[n, c] != scores[n, c] and not scores[n, best] != scores[n, best]
            ):
                best = c
        if best == y[n]:
            correct += 1
    return correct


@njit(cache=True, inline="always")  # inlined where it runs per dW row (see apply_step)
def sgd_update(param: Any, grad: Any, lr: Any, reg: Any, momentum: Any, velocity: Any) -> None:
    """In place: g = grad + reg * param; plain SGD param -= lr * g if velocity is None, else
    velocity = momentum * velocity - lr * g; param += velocity.

    param, grad, velocity: 1-D views of the same length; lr, reg, momentum: scalars of their dtype.
    """
    zero = param.dtype.type(0)
    for i in range(param.shape[0]):
        g = grad[i] + reg * param[i] if reg != zero else grad[i]
        if velocity is None:
            param[i] -= lr * g
        else:
            v = velocity[i] * momentum
            v -= lr * g
            velocity[i] = v
            param[i] += v


@njit(cache=True, inline="always")  # inlined where it runs per dW row (see apply_step)
def nesterov_update(param: Any, grad: Any, lr: Any, reg: Any, momentum: Any, velocity: Any) -> None:
    """In place: g = grad + reg * param; v = momentum * v - lr * g; param += momentum * v - lr * g.

    param, grad, velocity: 1-D views of the same length; lr, reg, momentum: scalars of their dtype.
    """
    zero = param.dtype.type(0)
    for i in range(param.shape[0]):
        g = grad[i] + reg * param[i] if reg != zero else grad[i]
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        param[i] += momentum * v - lr * g


# sqrt(v) + epsilon > 0: no zero-division check, which kept LLVM from vectorising the loop (10x slower)
@njit(cache=True, error_model="numpy")
def adam_update(
    param: Any,
    grad: Any,
    m: Any,
    v: Any,
    step_size: Any,
    reg: Any,
    beta1: Any,
    beta2: Any,
    epsilon: Any,
    one_minus_b1: Any,
    one_minus_b2: Any,
) -> None:
    """In place: g = grad + reg * param; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    param -= step_size * m / (sqrt(v) + epsilon).

    param, grad, m, v: 1-D views of the same length; the rest scalars of their dtype, 1 - b1 and
    1 - b2 rounded from the exact differences (as NumPy rounds ``(1 - beta1) * g``).
    """
    zero = param.dtype.type(0)
    for i in range(param.shape[0]):
        g = grad[i] + reg * param[i] if reg != zero else grad[i]
        mi = beta1 * m[i] + one_minus_b1 * g
        vi = beta2 * v[i] + one_minus_b2 * (g * g)
        m[i] = mi
        v[i] = vi
        param[i] += (-step_size * mi) / (np.sqrt(vi) + epsilon)


@njit(cache=True)
def _labels_row_loss(scores: Any, labels: Any, out: Any, n: int) -> float:
    """Row n's softmax cross-entropy, exactly as softmax_cross_entropy adds it up; out[n] its softmax."""
    top, norm = _softmax_row(scores, out, n)
    loss: float = np.log(norm) - (scores[n, labels[n]] - top)
    return loss


@njit(cache=True)
def _values_row_loss(code: int, scores: Any, values: Any, out: Any, n: int) -> float:
    """Row n's loss for the loss row ``code`` on values (losses in float64); its outputs to out[n]."""
    K = scores.shape[1]
    total = 0.0
    if code == BINARY_CROSS_ENTROPY:
        sigmoid_forward(scores[n : n + 1], out[n : n + 1])
        eps = np.finfo(scores.dtype).eps
        for k in range(K):
            p = float(min(max(out[n, k], eps), scores.dtype.type(1) - eps))
            y = float(values[n, k])
            total -= y * np.log(p) + (1.0 - y) * np.log(1.0 - p)
        return total
    if code == POISSON_DEVIANCE:
        # scikit-learn's poisson_loss: p = exp(s), not clipped; xlogy(y, y / p) is 0 where y = 0
        # (unless y / p is nan, as scipy's xlogy). y / 0 is spelled out: Numba's float division
        # raises ZeroDivisionError where IEEE (NumPy, C++) gives inf or nan.
        for k in range(K):
            out[n, k] = np.exp(scores[n, k])
            p = float(out[n, k])
            y = float(values[n, k])
            ratio = y / p if p != 0.0 else (np.inf if y > 0.0 else np.nan)
            total += (0.0 if y == 0.0 and not np.isnan(ratio) else y * np.log(ratio)) - y + p
        return total
    for k in range(K):  # squared error
        out[n, k] = scores[n, k]
        d = float(scores[n, k]) - float(values[n, k])
        total += d * d
    squared: float = 0.5 * total / K
    return squared


@njit(cache=True)
def row_loss(code: int, scores: Any, labels: Any, values: Any, out: Any, n: int) -> float:
    """Row n's loss for the loss row ``code``, its outputs to out[n]: labels (N,) int64 for softmax
    cross-entropy, values (N, K) for the others (the unused one is an empty stand-in)."""
    if code == SOFTMAX_CROSS_ENTROPY:
        return _labels_row_loss(scores, labels, out, n)
    return _values_row_loss(code, scores, values, out, n)


@njit(cache=True)
def output_loss(
    code: int, scores: Any, labels: Any, values: Any, weights: Any, has_weights: bool, out: Any
) -> float:
    """sum_n w_n loss_n / sum_n w_n (w = 1 unless has_weights) for the loss row ``code``.

    scores, out (N, K); labels (N,) int64 or values (N, K) as row_loss takes them; weights (N,).
    """
    total, weight_sum = 0.0, 0.0
    for n in range(scores.shape[0]):
        loss = row_loss(code, scores, labels, values, out, n)
        if has_weights:
            w = float(weights[n])
            total += w * loss
            weight_sum += w
        else:
            total += loss
            weight_sum += 1.0
    result: float = total / weight_sum
    return result


@njit(cache=True)
def loss_gradient(
    code: int, out: Any, labels: Any, values: Any, weights: Any, has_weights: bool, dscores: Any, norm: float
) -> None:
    """dscores = (out - target) * w / norm, target onehot(labels) (softmax cross-entropy) or values.

    out, dscores (N, K); labels, values as row_loss takes them; weights (N,) read when has_weights.
    """
    N, K = out.shape
    one = out.dtype.type(1)
    scale = out.dtype.type(norm)
    on_labels = code == SOFTMAX_CROSS_ENTROPY
    for n in range(N):
        for k in range(K):
            d = out[n, k]
            if on_labels:
                if k == labels[n]:
                    d -= one
            else:
                d -= values[n, k]
            if has_weights:
                dscores[n, k] = (d * weights[n]) / scale
            else:
                dscores[n, k] = d / scale


@njit(cache=True)
def output_correct(code: int, scores: Any, out: Any, labels: Any, values: Any) -> int:
    """Rows whose prediction matches the target: first arg-max = label (softmax); every output
    > 0.5 exactly where the indicator is (binary cross-entropy); none for regression (squared
    error, Poisson deviance)."""
    if code == SOFTMAX_CROSS_ENTROPY:
        hits: int = correct_count(scores, labels)
        return hits
    if code != BINARY_CROSS_ENTROPY:
        return 0
    N, K = out.shape
    half = out.dtype.type(0.5)
    correct = 0
    for n in range(N):
        hit = True
        for k in range(K):
            if (out[n, k] > half) != (values[n, k] > half):
                hit = False
        if hit:
            correct += 1
    return correct


# inline="always" on the step rules that run once per dW row of the sparse layer 0 (784 rows of 128
# a batch on MNIST): a call made each row a view of each buffer, and each view's reference count
# two atomic operations; inlined, Numba drops them (momentum SGD's epoch 1.29-1.39x plain SGD's
# before, 1.07-1.12x after; docs/performance.md). Adam's stays a call: inlined into a caller
# without error_model="numpy", its division got a zero check that stopped LLVM vectorising it.
@njit(cache=True, inline="always")
def apply_step(param: Any, grad: Any, first: Any, second: Any, step: Any) -> None:
    """One update of the 1-D param from grad by a step rule of tables.OPTIMIZERS, with its buffers
    first (the velocity, or Adam's m) and second (Adam's v), like param. step = (rule, lr or Adam's
    step size, reg, momentum, use_first, (beta1, beta2, epsilon, 1 - beta1, 1 - beta2)), the numbers
    in param's dtype; without use_first plain SGD reads no buffer."""
    rule, size, reg, momentum, use_first, adam = step
    if rule == NESTEROV:
        nesterov_update(param, grad, size, reg, momentum, first)
    elif rule == ADAM:
        adam_update(param, grad, first, second, size, reg, adam[0], adam[1], adam[2], adam[3], adam[4])
    elif use_first:
        sgd_update(param, grad, size, reg, momentum, first)
    else:
        sgd_update(param, grad, size, reg, momentum, None)
