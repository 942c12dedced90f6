"""The NumPy reference backend: the specification every other backend is tested against.

Dimensions: N batch rows, D inputs, M outputs (H for a hidden layer), C classes.
Weights are (fan_in, fan_out), so a layer computes ``out = x @ w + b``.
Every kernel returns new arrays, or overwrites the ``out=`` buffer it is given; none
accumulates into existing values. Inputs are never modified, except by ``sgd_update``,
whose job is to update ``param`` (and ``velocity``) in place.
Argument checking is shared by all backends (``fastmlp._validate``); the compiled backends wrap
their calls in the same interface through ``backends._kernels``. ``BACKEND`` (the last lines) is
this module's functions as an ``interface.Backend``, with no native epoch: the trainer drives the
kernels one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validate
from . import _kernels
from .interface import (
    AdamUpdate,
    Backend,
    ElementwiseBackward,
    ElementwiseForward,
    LossBackwardKernel,
    LossKernel,
    MomentumUpdate,
)

if TYPE_CHECKING:
    from .interface import NativeEpoch

__all__ = list(_kernels.KERNELS)  # the kernel interface, the same in every backend (then BACKEND)


def affine_forward(x: Any, w: Any, b: Any = None, *, out: Any = None) -> np.ndarray:
    """Affine layer forward: ``out = x @ w + b``.

    x (N, D), w (D, M), b (M,) or None  ->  out (N, M), written into ``out`` if given.
    """
    x, w, b = _validate.affine_forward(x, w, b)
    result = _validate.output("out", out, (x.shape[0], w.shape[1]), x.dtype)
    np.matmul(x, w, out=result)
    if b is not None:
        result += b
    return result


def affine_backward(
    dout: Any, x: Any, w: Any, need_dx: bool = True, has_bias: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Affine layer backward: ``dx = dout w^T, dw = x^T dout, db = sum_n dout``.

    dout (N, M), x (N, D), w (D, M)  ->  (dx (N, D) or None, dw (D, M), db (M,) or None).
    ``need_dx=False`` skips dx (the first layer needs none); ``has_bias=False`` skips db.
    """
    dout, x, w, need_dx, has_bias = _validate.affine_backward(dout, x, w, need_dx, has_bias)
    dx = dout @ w.T if need_dx else None
    dw = x.T @ dout
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


def relu_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """ReLU forward: ``a = max(z, 0)``.  z (N, M) -> a (N, M)."""
    z = _validate.float_array("z", z, 2)
    result = _validate.output("out", out, z.shape, z.dtype)
    np.maximum(z, 0, out=result)
    return result


def relu_backward(dout: Any, z: Any, *, out: Any = None) -> np.ndarray:
    """ReLU backward: ``dz = dout * (z > 0)``.  dout (N, M), z (N, M) -> dz (N, M)."""
    dout, z = _validate.elementwise("dout", dout, "z", z)
    result = _validate.output("out", out, z.shape, z.dtype)
    np.multiply(dout, z > 0, out=result)
    return result


def sigmoid_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Logistic sigmoid: ``a = 1 / (1 + exp(-z))``.  z (N, M) -> a (N, M).

    Evaluated through ``e = exp(-|z|)`` so that no finite z overflows:
    ``a = 1 / (1 + e)`` for z >= 0 and ``a = e / (1 + e)`` for z < 0.
    """
    z = _validate.float_array("z", z, 2)
    result = _validate.output("out", out, z.shape, z.dtype)
    e = np.exp(-np.abs(z))
    np.divide(np.where(z >= 0, 1, e), 1 + e, out=result)
    return result


def sigmoid_backward(dout: Any, a: Any, *, out: Any = None) -> np.ndarray:
    """Sigmoid backward from the forward output: ``dz = dout * a * (1 - a)``.

    dout (N, M), a = sigmoid(z) (N, M) -> dz (N, M).
    """
    dout, a = _validate.elementwise("dout", dout, "a", a)
    result = _validate.output("out", out, a.shape, a.dtype)
    np.multiply(dout, a * (1 - a), out=result)
    return result


def tanh_forward(z: Any, *, out: Any = None) -> np.ndarray:
    """Hyperbolic tangent: ``a = tanh(z)``.  z (N, M) -> a (N, M)."""
    z = _validate.float_array("z", z, 2)
    result = _validate.output("out", out, z.shape, z.dtype)
    np.tanh(z, out=result)
    return result


def tanh_backward(dout: Any, a: Any, *, out: Any = None) -> np.ndarray:
    """Tanh backward from the forward output: ``dz = dout * (1 - a^2)``.

    dout (N, M), a = tanh(z) (N, M) -> dz (N, M).
    """
    dout, a = _validate.elementwise("dout", dout, "a", a)
    result = _validate.output("out", out, a.shape, a.dtype)
    np.multiply(dout, 1 - a * a, out=result)
    return result


def softmax_forward(scores: Any, *, out: Any = None) -> np.ndarray:
    """Row-wise softmax: ``probs_nc = exp(s_nc - max_c s_nc) / sum_c exp(s_nc - max_c s_nc)``.

    scores (N, C) -> probs (N, C). Subtracting the row maximum keeps every exponent <= 0,
    so any finite scores (rows of +-1e4, say) give finite probabilities.
    """
    scores = _validate.float_array("scores", scores, 2)
    result = _validate.output("out", out, scores.shape, scores.dtype)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.divide(e, e.sum(axis=1, keepdims=True), out=result)
    return result


def softmax_backward(dprobs: Any, probs: Any, *, out: Any = None) -> np.ndarray:
    """Softmax vector-Jacobian product: ``ds = s * (dp - sum_c dp_c s_c)``.

    This is ``dp @ J`` with ``J = diag(s) - s s^T`` for each row, without forming J.
    dprobs (N, C), probs (N, C) -> dscores (N, C).
    """
    dprobs, probs = _validate.elementwise("dprobs", dprobs, "probs", probs)
    result = _validate.output("out", out, probs.shape, probs.dtype)
    inner = np.sum(dprobs * probs, axis=1, keepdims=True)
    np.multiply(probs, dprobs - inner, out=result)
    return result


def cross_entropy_forward(probs: Any, y: Any) -> float:
    """Mean cross-entropy of probabilities: ``loss = -mean_n log(probs[n, y_n])``.

    probs (N, C), y (N,) integer labels in [0, C) -> Python float.
    A probability that underflowed to 0 is clamped to the dtype's smallest normal number,
    so the loss stays finite (about 87 per row in float32, 708 in float64).
    """
    probs, y = _validate.scores_and_labels("probs", probs, y)
    picked = probs[np.arange(probs.shape[0]), y]
    tiny = np.finfo(probs.dtype).tiny
    return float(-np.mean(np.log(np.maximum(picked, tiny))))


def _weighted_mean(row_losses: np.ndarray, weights: np.ndarray | None) -> float:
    """``sum_n w_n l_n / sum_n w_n`` in float64 (the plain mean without weights)."""
    rows = row_losses.astype(np.float64)
    if weights is None:
        return float(np.mean(rows))
    w = weights.astype(np.float64)
    return float(np.dot(w, rows) / np.sum(w))


def _scaled_by_weights(result: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``result * w_n / sum w`` row by row, in place (``/ N`` without weights)."""
    if weights is None:
        result /= result.shape[0]
    else:
        result *= weights[:, None]
        result /= result.dtype.type(np.sum(weights, dtype=np.float64))
    return result


def softmax_cross_entropy(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
    """Fused softmax and mean cross-entropy, stable through log-sum-exp.

    ``loss = mean_n (logsumexp_c s_nc - s_n,y_n)`` (``sum_n w_n loss_n / sum_n w_n`` with
    sample weights w), ``probs = softmax(scores)``.
    scores (N, C), y (N,), sample_weight (N,) or None -> (loss as Python float, probs (N, C)).
    """
    scores, y = _validate.scores_and_labels("scores", scores, y)
    weights = _validate.sample_weight("sample_weight", sample_weight, scores.shape[0], scores.dtype)
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    sums = e.sum(axis=1, keepdims=True)
    log_norm = np.log(sums)
    row_losses = log_norm[:, 0] - shifted[np.arange(scores.shape[0]), y]
    loss = float(np.mean(row_losses)) if weights is None else _weighted_mean(row_losses, weights)
    return loss, e / sums


def softmax_cross_entropy_backward(
    probs: Any, y: Any, sample_weight: Any = None, *, out: Any = None
) -> np.ndarray:
    """Gradient of the mean cross-entropy w.r.t. the scores: ``ds = (probs - onehot(y)) / N``
    (``(probs - onehot(y)) * w_n / sum w`` with sample weights).

    probs (N, C), y (N,), sample_weight (N,) or None -> dscores (N, C).
    """
    probs, y = _validate.scores_and_labels("probs", probs, y)
    weights = _validate.sample_weight("sample_weight", sample_weight, probs.shape[0], probs.dtype)
    n = probs.shape[0]
    result = _validate.output("out", out, probs.shape, probs.dtype)
    np.copyto(result, probs)
    result[np.arange(n), y] -= 1
    return _scaled_by_weights(result, weights)


def binary_cross_entropy(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
    """Logistic outputs and their binary cross-entropy, summed over the K outputs (scikit-learn's
    binary_log_loss): ``p = sigmoid(s)``, ``loss_n = -sum_k y log p + (1 - y) log(1 - p)`` with p
    clipped to [eps, 1 - eps] of the dtype; ``loss = sum_n w_n loss_n / sum_n w_n`` (w = 1 without
    weights). scores (N, K), y (N, K) indicator (0 or 1; any real in [0, 1] is accepted),
    sample_weight (N,) or None -> (loss as Python float, probs (N, K)).
    """
    scores, y, weights = _validate.values_loss("scores", scores, y, sample_weight)
    probs = sigmoid_forward(scores)
    eps = np.finfo(scores.dtype).eps
    p = np.clip(probs, eps, 1 - eps).astype(np.float64)
    y64 = y.astype(np.float64)
    row_losses = -(y64 * np.log(p) + (1 - y64) * np.log(1 - p)).sum(axis=1)
    return _weighted_mean(row_losses, weights), probs


def binary_cross_entropy_backward(
    outputs: Any, y: Any, sample_weight: Any = None, *, out: Any = None
) -> np.ndarray:
    """Gradient of binary_cross_entropy w.r.t. the scores: ``ds = (p - y) * w_n / sum w``
    (``/ N`` without weights).  outputs p (N, K) (the probabilities), y (N, K), sample_weight (N,)
    or None -> dscores (N, K).
    """
    return _values_gradient(outputs, y, sample_weight, out)


def _values_gradient(
    outputs: Any, y: Any, sample_weight: Any, out: Any, nonnegative_for: str | None = None
) -> np.ndarray:
    """``(outputs - y) * w_n / sum w``: the gradient of every loss row on (N, K) targets."""
    outputs, y, weights = _validate.values_loss("outputs", outputs, y, sample_weight, nonnegative_for)
    result = _validate.output("out", out, outputs.shape, outputs.dtype)
    np.subtract(outputs, y, out=result)
    return _scaled_by_weights(result, weights)


def squared_error(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
    """Half the mean squared error of identity outputs (scikit-learn's squared_loss):
    ``loss_n = 0.5 mean_k (s_nk - y_nk)^2``, ``loss = sum_n w_n loss_n / sum_n w_n``.

    scores (N, K), y (N, K) real, sample_weight (N,) or None -> (loss, outputs = scores (N, K)).
    The gradient (squared_error_backward) is scikit-learn's ``(s - y) / N``: that of K * loss.
    """
    scores, y, weights = _validate.values_loss("scores", scores, y, sample_weight)
    difference = scores.astype(np.float64) - y.astype(np.float64)
    return _weighted_mean(0.5 * np.mean(difference * difference, axis=1), weights), scores


def squared_error_backward(outputs: Any, y: Any, sample_weight: Any = None, *, out: Any = None) -> np.ndarray:
    """``ds = (s - y) * w_n / sum w`` (``/ N`` without weights), scikit-learn's delta.

    outputs s (N, K) (the scores: the identity output), y (N, K), sample_weight (N,) or None
    -> dscores (N, K).
    """
    return _values_gradient(outputs, y, sample_weight, out)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """scipy.special.xlogy without scipy: ``x log y``, 0 where x = 0 unless y is nan.  x, y (N, K)."""
    logs = np.log(y, out=np.zeros_like(y), where=(x != 0) | np.isnan(y))
    products: np.ndarray = x * logs
    return products


def poisson_deviance(scores: Any, y: Any, sample_weight: Any = None) -> tuple[float, np.ndarray]:
    """Exponential outputs and half their Poisson deviance, summed over the K outputs (scikit-learn's
    poisson_loss): ``p = exp(s)``, ``loss_n = sum_k xlogy(y, y / p) - y + p``,
    ``loss = sum_n w_n loss_n / sum_n w_n``.

    scores (N, K), y (N, K) real >= 0, sample_weight (N,) or None -> (loss as Python float, p (N, K)).
    exp is not clipped, as in scikit-learn: a score above log(max float) (88.7 in float32, 709.8 in
    float64) gives p = inf and an infinite or nan loss (NumPy warns), as scikit-learn's does.
    """
    scores, y, weights = _validate.values_loss("scores", scores, y, sample_weight, "poisson_deviance")
    outputs = np.exp(scores)
    p, y64 = outputs.astype(np.float64), y.astype(np.float64)
    return _weighted_mean((_xlogy(y64, y64 / p) - y64 + p).sum(axis=1), weights), outputs


def poisson_deviance_backward(
    outputs: Any, y: Any, sample_weight: Any = None, *, out: Any = None
) -> np.ndarray:
    """Gradient of poisson_deviance w.r.t. the scores (exp is the canonical link):
    ``ds = (p - y) * w_n / sum w`` (``/ N`` without weights).  outputs p = exp(s) (N, K), y (N, K)
    >= 0, sample_weight (N,) or None -> dscores (N, K).
    """
    return _values_gradient(outputs, y, sample_weight, out, "poisson_deviance")


def accuracy(scores: Any, y: Any) -> float:
    """Fraction of rows whose arg-max score equals the label (first maximum on ties).

    scores (N, C), y (N,) -> Python float in [0, 1].
    """
    scores, y = _validate.scores_and_labels("scores", scores, y)
    return float(np.mean(np.argmax(scores, axis=1) == y))


def sgd_update(
    param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
) -> None:
    """One SGD step, in place: ``g = grad + reg * param``.

    Without ``velocity``: ``param -= lr * g`` (``momentum`` must then be 0). With ``velocity``
    (required when ``momentum > 0``): ``velocity = momentum * velocity - lr * g;
    param += velocity``, both updated in place.
    param, grad, velocity: any shape, all the same shape and dtype. Returns None.
    """
    lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
    _validate.sgd_buffers(param, grad, momentum, velocity)
    step = grad + reg * param if reg != 0.0 else grad
    if velocity is None:
        param -= lr * step
        return
    velocity *= momentum
    velocity -= lr * step
    param += velocity


def nesterov_update(
    param: Any, grad: Any, lr: float, reg: float = 0.0, momentum: float = 0.0, velocity: Any = None
) -> None:
    """One Nesterov momentum step, in place (scikit-learn's SGDOptimizer, nesterov=True):
    ``g = grad + reg * param; velocity = momentum * velocity - lr * g;
    param += momentum * velocity - lr * g``. velocity is required.
    param, grad, velocity: any shape, all the same shape and dtype. Returns None.
    """
    lr, reg, momentum = _validate.sgd_hyperparameters(lr, reg, momentum)
    _validate.sgd_buffers(param, grad, 1.0, velocity)
    step = grad + reg * param if reg != 0.0 else grad
    velocity *= momentum
    velocity -= lr * step
    param += momentum * velocity - lr * step


def adam_update(
    param: Any, grad: Any, m: Any, v: Any, step_size: float, reg: float, b1: float, b2: float, eps: float
) -> None:
    """One Adam step, in place (Kingma and Ba's efficient form, as scikit-learn's AdamOptimizer):
    ``g = grad + reg * param; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    param -= step_size * m / (sqrt(v) + eps)``, the caller's ``step_size = lr * sqrt(1 - b2^t) /
    (1 - b1^t)`` at update t = 1, 2, ... (``optim.AdamSettings.step_size``).
    param, grad, m, v: any shape, all the same shape and dtype. Returns None.
    """
    _, (step_size, reg, b1, b2, eps) = _validate.adam_update(param, grad, m, v, step_size, reg, b1, b2, eps)
    g = grad + reg * param if reg != 0.0 else grad
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    param += (-step_size * m) / (np.sqrt(v) + eps)


class _Reference:
    """The reference as a ``Backend``: this module's functions; no native epoch, nothing to warm up."""

    name = "numpy"
    native_epoch: NativeEpoch | None = None

    def warmup(self) -> None:
        """Nothing compiles here."""

    def __repr__(self) -> str:
        return "<fastmlp backend 'numpy'>"

    accuracy = staticmethod(accuracy)
    adam_update: AdamUpdate = staticmethod(adam_update)
    affine_backward = staticmethod(affine_backward)
    affine_forward = staticmethod(affine_forward)
    binary_cross_entropy: LossKernel = staticmethod(binary_cross_entropy)
    binary_cross_entropy_backward: LossBackwardKernel = staticmethod(binary_cross_entropy_backward)
    cross_entropy_forward = staticmethod(cross_entropy_forward)
    nesterov_update: MomentumUpdate = staticmethod(nesterov_update)
    poisson_deviance: LossKernel = staticmethod(poisson_deviance)
    poisson_deviance_backward: LossBackwardKernel = staticmethod(poisson_deviance_backward)
    relu_backward: ElementwiseBackward = staticmethod(relu_backward)
    relu_forward: ElementwiseForward = staticmethod(relu_forward)
    sgd_update: MomentumUpdate = staticmethod(sgd_update)
    sigmoid_backward: ElementwiseBackward = staticmethod(sigmoid_backward)
    sigmoid_forward: ElementwiseForward = staticmethod(sigmoid_forward)
    softmax_backward: ElementwiseBackward = staticmethod(softmax_backward)
    softmax_cross_entropy: LossKernel = staticmethod(softmax_cross_entropy)
    softmax_cross_entropy_backward: LossBackwardKernel = staticmethod(softmax_cross_entropy_backward)
    softmax_forward: ElementwiseForward = staticmethod(softmax_forward)
    squared_error: LossKernel = staticmethod(squared_error)
    squared_error_backward: LossBackwardKernel = staticmethod(squared_error_backward)
    tanh_backward: ElementwiseBackward = staticmethod(tanh_backward)
    tanh_forward: ElementwiseForward = staticmethod(tanh_forward)


BACKEND: Backend = _Reference()
