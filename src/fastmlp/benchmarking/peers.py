"""What fastmlp's training epoch is measured against: the same epoch written without fastmlp.

All peers train the assignment's TwoLayerNet (784-H-10, sigmoid hidden layer, softmax
cross-entropy, SGD with L2 on the weight matrices) over one shuffled epoch, so their times are
directly comparable with ``fastmlp.train``'s epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _init(rng: np.random.Generator, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    return (0.001 * rng.standard_normal(shape)).astype(dtype)


def numpy_assignment_epoch(
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    hidden: int = 128,
    lr: float = 0.1,
    reg: float = 1e-3,
) -> float:
    """One epoch as the course assignment writes it: plain NumPy expressions, fresh temporaries.

    x (N, D) float, y (N,) int, order (N,) permutation. Returns the mean batch loss.
    """
    rng = np.random.default_rng(0)
    n_classes = 10
    w1 = _init(rng, (x.shape[1], hidden), x.dtype)
    b1 = np.zeros(hidden, x.dtype)
    w2 = _init(rng, (hidden, n_classes), x.dtype)
    b2 = np.zeros(n_classes, x.dtype)
    losses = []
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        xb, yb = x[index], y[index]
        n = len(index)
        z1 = xb @ w1 + b1
        a1 = 1 / (1 + np.exp(-z1))
        scores = a1 @ w2 + b2
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        losses.append(-np.mean(np.log(probs[np.arange(n), yb])))
        dscores = probs.copy()
        dscores[np.arange(n), yb] -= 1
        dscores /= n
        dw2 = a1.T @ dscores + reg * w2
        db2 = dscores.sum(axis=0)
        da1 = dscores @ w2.T
        dz1 = da1 * a1 * (1 - a1)
        dw1 = xb.T @ dz1 + reg * w1
        db1 = dz1.sum(axis=0)
        w1 -= lr * dw1
        b1 -= lr * db1
        w2 -= lr * dw2
        b2 -= lr * db2
    return float(np.mean(losses))


def gemm_floor_epoch(x: np.ndarray, order: np.ndarray, batch_size: int, hidden: int = 128) -> None:
    """Only the epoch's five GEMMs per batch, through NumPy's BLAS into preallocated buffers.

    Per batch (N rows): x_b (N, D) @ W1 (D, H); a (N, H) @ W2 (H, C); dW2 = a^T ds;
    da = ds W2^T; dW1 = x_b^T dz. The gather of the batch rows is included because every real
    epoch pays it too. This is the dense floor: no elementwise work, no allocation.
    """
    rng = np.random.default_rng(0)
    n_inputs, n_classes = x.shape[1], 10
    w1 = _init(rng, (n_inputs, hidden), x.dtype)
    w2 = _init(rng, (hidden, n_classes), x.dtype)
    dw1 = np.empty_like(w1)
    dw2 = np.empty_like(w2)
    for start in range(0, len(order), batch_size):
        xb = x[order[start : start + batch_size]]
        n = xb.shape[0]
        a = np.empty((n, hidden), x.dtype)
        np.matmul(xb, w1, out=a)
        scores = a @ w2
        np.matmul(a.T, scores, out=dw2)
        da = scores @ w2.T
        np.matmul(xb.T, da, out=dw1)


def torch_epoch_factory(
    x: np.ndarray, y: np.ndarray, hidden: int = 128, lr: float = 0.1, reg: float = 1e-3
) -> Any:
    """Build a PyTorch CPU eager epoch with the same model and optimiser; needs ``torch``.

    Returns ``epoch(order, batch_size) -> mean loss``. L2 is applied to the weight matrices
    only (two parameter groups), as in the assignment.
    """
    import torch

    dtype = torch.float32 if x.dtype == np.float32 else torch.float64
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.Sigmoid(), torch.nn.Linear(hidden, 10)
    ).to(dtype)
    weights = [model[0].weight, model[2].weight]
    biases = [model[0].bias, model[2].bias]
    optimizer = torch.optim.SGD(
        [{"params": weights, "weight_decay": reg}, {"params": biases, "weight_decay": 0.0}], lr=lr
    )
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(order: np.ndarray, batch_size: int) -> float:
        total, batches = 0.0, 0
        index = torch.from_numpy(order.astype(np.int64))
        for start in range(0, len(order), batch_size):
            rows = index[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            batches += 1
        return total / batches

    return epoch
