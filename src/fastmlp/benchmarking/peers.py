"""What fastmlp's training epoch is measured against: the same epoch written without fastmlp.

All peers train the assignment's TwoLayerNet (784-H-10, sigmoid hidden layer, softmax
cross-entropy, SGD with L2 on the weight matrices: dW += reg * W) over one shuffled epoch, so
their times are directly comparable with ``fastmlp.train``'s epoch. Every trainable peer starts
from the parameters it is given (``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,)) and
reports them back with ``params()``, so the bench can check that all contenders reach the same
accuracy after the same epochs from the same initialisation.

The framework peers are optional (``pip install "fastmlp[peers]"``): PyTorch eager,
``torch.compile`` of the train step, and JAX (the whole epoch as one ``jax.jit`` of a
``lax.scan`` over the batches, the row gather inside the jit).
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar, Protocol

import numpy as np

Params = dict[str, np.ndarray]
PARAM_NAMES = ("W1", "b1", "W2", "b2")
# The hidden activations the framework peers can run (the sweep's shapes use both).
PEER_ACTIVATIONS = ("sigmoid", "relu")


def layer_count(params: Params) -> int:
    """How many affine layers ``W1, b1, ..., WL, bL`` hold."""
    return sum(1 for name in params if name.startswith("W"))


class Trainer(Protocol):
    """One contender's model: ``epoch(order)`` trains over x[order]; ``params()`` copies them out."""

    def epoch(self, order: np.ndarray) -> object: ...

    def params(self) -> Params: ...


def installed(framework: str) -> bool:
    """Whether ``torch`` / ``jax`` can be imported (without importing it)."""
    return importlib.util.find_spec(framework) is not None


def initial_params(n_inputs: int, hidden: int, n_classes: int, dtype: Any) -> Params:
    """fastmlp's own TwoLayerNet initialisation (seed 1024), the common start of every contender."""
    from ..models import TwoLayerNet

    model = TwoLayerNet(n_inputs, hidden, n_classes, dtype=dtype, backend="numpy")
    return {name: model.params[name].copy() for name in PARAM_NAMES}


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of x (N, D) whose arg-max score equals y (N,)."""
    hidden = 1.0 / (1.0 + np.exp(-(x @ params["W1"] + params["b1"])))
    scores = hidden @ params["W2"] + params["b2"]
    return float(np.mean(np.argmax(scores, axis=1) == y))


class NumpyAssignment:
    """The epoch as the course assignment writes it: plain NumPy expressions, fresh temporaries."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, init: Params, batch_size: int, lr: float = 0.1, reg: float = 1e-3
    ) -> None:
        self.x, self.y, self.batch_size, self.lr, self.reg = x, y, batch_size, lr, reg
        self.p = {name: value.copy() for name, value in init.items()}

    def epoch(self, order: np.ndarray) -> float:
        """x (N, D) float, y (N,) int, order (S,) row indices. Returns the mean batch loss."""
        w1, b1, w2, b2 = (self.p[name] for name in PARAM_NAMES)
        lr, reg = self.lr, self.reg
        losses = []
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            xb, yb = self.x[index], self.y[index]
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

    def params(self) -> Params:
        return {name: value.copy() for name, value in self.p.items()}


def gemm_floor_epoch(x: np.ndarray, order: np.ndarray, batch_size: int, hidden: int = 128) -> None:
    """Only the epoch's five GEMMs per batch, through NumPy's BLAS into preallocated buffers.

    Per batch (N rows): x_b (N, D) @ W1 (D, H); a (N, H) @ W2 (H, C); dW2 = a^T ds;
    da = ds W2^T; dW1 = x_b^T dz. The gather of the batch rows is included because every real
    epoch pays it too. This is the dense floor: no elementwise work, no allocation.
    """
    rng = np.random.default_rng(0)
    n_inputs, n_classes = x.shape[1], 10
    w1 = (0.001 * rng.standard_normal((n_inputs, hidden))).astype(x.dtype)
    w2 = (0.001 * rng.standard_normal((hidden, n_classes))).astype(x.dtype)
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


class FrameworkTrainer:
    """What both framework peers share: the constructor (x (N, D), y (N,), ``init``, the batch size,
    the SGD step's ``lr`` and ``reg``, the hidden ``activation``), which builds the framework's
    model and step in ``_build``; each peer then has ``epoch(order)`` and ``params()``."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        init: Params,
        batch_size: int,
        lr: float = 0.1,
        reg: float = 1e-3,
        activation: str = "sigmoid",
    ) -> None:
        self.batch_size = batch_size
        self._build(x, y, init, lr, reg, activation)

    def _build(
        self, x: np.ndarray, y: np.ndarray, init: Params, lr: float, reg: float, activation: str
    ) -> None:
        raise NotImplementedError


class TorchTrainer(FrameworkTrainer):
    """PyTorch CPU: nn.Sequential, CrossEntropyLoss, loss.backward(), optim.SGD; needs ``torch``.

    L2 is applied to the weight matrices only (two parameter groups), as in the assignment; torch
    keeps a Linear's weight as (out, in), so every W is transposed. As many layers as ``init``
    holds (``W1, b1, ..., WL, bL``), ``activation`` after each but the last.
    """

    # whether the whole train step (gather, forward, backward, optimizer step) goes through
    # torch.compile (CompiledTorchTrainer) or runs eagerly
    compiled: ClassVar[bool] = False

    def _build(
        self, x: np.ndarray, y: np.ndarray, init: Params, lr: float, reg: float, activation: str
    ) -> None:
        import torch

        self.xt = torch.from_numpy(x)
        self.yt = torch.from_numpy(y.astype(np.int64))
        dtype = torch.float32 if x.dtype == np.float32 else torch.float64
        n_layers = layer_count(init)
        modules: list[Any] = []
        for i in range(1, n_layers + 1):
            fan_in, fan_out = init[f"W{i}"].shape
            modules.append(torch.nn.Linear(fan_in, fan_out))
            if i < n_layers:
                modules.append(torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU())
        model: Any = torch.nn.Sequential(*modules).to(dtype)
        self.linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for i, linear in enumerate(self.linears, start=1):
                linear.weight.copy_(torch.from_numpy(init[f"W{i}"].T.copy()))
                linear.bias.copy_(torch.from_numpy(init[f"b{i}"]))
        self.model = model
        optimizer = torch.optim.SGD(
            [
                {"params": [linear.weight for linear in self.linears], "weight_decay": reg},
                {"params": [linear.bias for linear in self.linears], "weight_decay": 0.0},
            ],
            lr=lr,
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        xt, yt = self.xt, self.yt

        def step(rows: Any) -> Any:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()
            return loss.detach()

        self.step = torch.compile(step) if self.compiled else step

    def epoch(self, order: np.ndarray) -> float:
        import torch

        total, batches = 0.0, 0
        index = torch.from_numpy(order.astype(np.int64))
        for start in range(0, len(order), self.batch_size):
            total += float(self.step(index[start : start + self.batch_size]))
            batches += 1
        return total / batches

    def params(self) -> Params:
        found = {}
        for i, linear in enumerate(self.linears, start=1):
            found[f"W{i}"] = linear.weight.T.detach().numpy().copy()
            found[f"b{i}"] = linear.bias.detach().numpy().copy()
        return found


class CompiledTorchTrainer(TorchTrainer):
    """TorchTrainer with the whole train step through ``torch.compile``."""

    compiled = True


class JaxTrainer(FrameworkTrainer):
    """JAX: the whole epoch as one ``jax.jit`` of a ``lax.scan`` over the batches; needs ``jax``.

    The batch rows are gathered inside the jit (x and y are arguments, not constants folded into
    the program). The gradient comes from ``jax.value_and_grad`` of the mean cross-entropy; the
    update is W -= lr * (dW + reg * W) for the weight matrices, b -= lr * db for the biases.
    A trailing partial batch, if any, runs through the same step in a second scan. As many layers
    as ``init`` holds, ``activation`` after each but the last.
    """

    def _build(
        self, x: np.ndarray, y: np.ndarray, init: Params, lr: float, reg: float, activation: str
    ) -> None:
        import jax

        if x.dtype == np.float64:
            # Typed as Any: jax.config.update is untyped, and mypy must pass with or without jax.
            config: Any = jax.config
            config.update("jax_enable_x64", True)  # else JAX silently computes in float32
        import jax.numpy as jnp
        from jax import lax

        self.x = jnp.asarray(x)
        self.y = jnp.asarray(y.astype(np.int32))
        self.p = {name: jnp.asarray(value) for name, value in init.items()}

        n_layers = layer_count(init)
        hidden_activation = jax.nn.sigmoid if activation == "sigmoid" else jax.nn.relu

        def loss(p: Any, xb: Any, yb: Any) -> Any:
            scores = xb
            for i in range(1, n_layers + 1):
                scores = scores @ p[f"W{i}"] + p[f"b{i}"]
                if i < n_layers:
                    scores = hidden_activation(scores)
            log_probs = jax.nn.log_softmax(scores, axis=1)
            return -jnp.mean(jnp.take_along_axis(log_probs, yb[:, None], axis=1))

        def step(carry: Any, rows: Any) -> Any:
            p, xs, ys = carry
            value, grads = jax.value_and_grad(loss)(p, xs[rows], ys[rows])
            updated = {
                name: p[name] - lr * (grads[name] + reg * p[name] if name.startswith("W") else grads[name])
                for name in p
            }
            return (updated, xs, ys), value

        def epoch(p: Any, xs: Any, ys: Any, batches: Any) -> Any:
            (p, _, _), losses = lax.scan(step, (p, xs, ys), batches)
            return p, losses

        self._epoch = jax.jit(epoch, donate_argnums=0)

    def epoch(self, order: np.ndarray) -> float:
        import jax.numpy as jnp

        full = len(order) // self.batch_size * self.batch_size
        losses = []
        if full:
            batches = jnp.asarray(order[:full].astype(np.int32).reshape(-1, self.batch_size))
            self.p, part = self._epoch(self.p, self.x, self.y, batches)
            losses.append(np.asarray(part))
        if full < len(order):
            rest = jnp.asarray(order[full:].astype(np.int32).reshape(1, -1))
            self.p, part = self._epoch(self.p, self.x, self.y, rest)
            losses.append(np.asarray(part))
        return float(np.concatenate(losses).mean())  # np.asarray above waited for the result

    def params(self) -> Params:
        return {name: np.array(value) for name, value in self.p.items()}
