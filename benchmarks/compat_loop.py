"""Time the assignment's training loop on fastmlp.compat against the same loop in plain NumPy.

    FASTMLP_CACHE=/work/mnist-cache python benchmarks/compat_loop.py --repeats 5

One epoch over MNIST's 48,000 training rows, TwoLayerNet 784-128-10, batch 64, SGD lr 0.1
reg 1e-3, float64 everywhere, one thread, the batches made once by ``generate_batched_data``.
Contenders, each timed ``--repeats`` times interleaved with the others (minimum reported, since
the machine is shared):

- ``numpy``: the assignment's own arithmetic: a TwoLayerNet whose forward fills a gradients
  dict with NumPy expressions, SGD regularising then stepping, and the assignment's ``train``
  loop (forward, update, sum the loss and hits per batch);
- ``compat train``: ``fastmlp.compat.train(..., debug=False)`` (native passes);
- ``compat train debug``: the same with ``debug=True`` (prints every tenth batch; sent to
  /dev/null here);
- ``compat loop``: the loop written by hand over compat's ``forward`` and ``update``, batch by
  batch through the kernels.

Each repeat starts from a fresh model, so all contenders do the same work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable

import numpy as np

import fastmlp
from fastmlp import compat


class NumpyTwoLayerNet:
    """The assignment's TwoLayerNet in plain float64 NumPy."""

    def __init__(self, input_size: int = 784, num_classes: int = 10, hidden_size: int = 128) -> None:
        self.weights = {
            "W1": 0.001 * np.random.RandomState(1024).randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": 0.001 * np.random.RandomState(1024).randn(hidden_size, num_classes),
            "b2": np.zeros(num_classes),
        }
        self.gradients = {name: np.zeros_like(w) for name, w in self.weights.items()}

    def forward(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        w = self.weights
        z1 = X @ w["W1"] + w["b1"]
        a1 = 1 / (1 + np.exp(-z1))
        scores = a1 @ w["W2"] + w["b2"]
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.mean(np.log(probs[np.arange(n), y]))
        accuracy = np.sum(np.argmax(probs, axis=1) == y) / n
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        dz1 = dscores @ w["W2"].T * (a1 * (1 - a1))
        self.gradients.update(W1=X.T @ dz1, b1=dz1.sum(axis=0), W2=a1.T @ dscores, b2=dscores.sum(axis=0))
        return float(loss), float(accuracy)


class NumpySGD:
    def __init__(self, learning_rate: float, reg: float) -> None:
        self.learning_rate, self.reg = learning_rate, reg

    def update(self, model: NumpyTwoLayerNet) -> None:
        for name in ("W1", "W2"):
            model.gradients[name] += self.reg * model.weights[name]
        for name, weight in model.weights.items():
            weight -= self.learning_rate * model.gradients[name]


def assignment_train(
    batches: list[np.ndarray], labels: list[np.ndarray], model: object, optimizer: object
) -> tuple[float, float]:
    """The assignment's ``train`` loop without its printing."""
    loss_sum, hits, samples = 0.0, 0.0, 0
    for xb, yb in zip(batches, labels, strict=True):
        loss, accuracy = model.forward(xb, yb)  # type: ignore[attr-defined]
        optimizer.update(model)  # type: ignore[attr-defined]
        loss_sum += loss
        hits += accuracy * len(xb)
        samples += len(xb)
    return loss_sum / len(batches), hits / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", default=fastmlp.default_backend(), choices=fastmlp.available_backends())
    args = parser.parse_args()
    fastmlp.set_num_threads(1)
    train_data, train_label, _, _ = compat.load_mnist_trainval()
    batches, labels = compat.generate_batched_data(train_data, train_label, 64, shuffle=True, seed=0)

    def compat_model() -> compat.TwoLayerNet:
        return compat.TwoLayerNet(backend=args.backend)

    def compat_train(debug: bool) -> Callable[[], object]:
        def run() -> object:
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                return compat.train(0, batches, labels, compat_model(), compat.SGD(0.1, 1e-3), debug=debug)

        return run

    contenders: dict[str, Callable[[], object]] = {
        "numpy": lambda: assignment_train(batches, labels, NumpyTwoLayerNet(), NumpySGD(0.1, 1e-3)),
        "compat train": compat_train(False),
        "compat train debug": compat_train(True),
        "compat loop": lambda: assignment_train(
            list(batches), list(labels), compat_model(), compat.SGD(0.1, 1e-3)
        ),
    }
    for run in contenders.values():  # warm-up: Numba compilation, the sparse index of train_data
        run()
    best = dict.fromkeys(contenders, float("inf"))
    results = {}
    for _ in range(args.repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"{fastmlp.build.describe()}")
    print(
        f"backend {args.backend}, float64, 1 thread, batch 64, minimum of {args.repeats} interleaved repeats"
    )
    print("| loop | seconds / epoch | speed-up vs numpy | epoch loss, accuracy |\n|---|---|---|---|")
    for name, seconds in best.items():
        loss, accuracy = results[name]  # type: ignore[misc]
        print(f"| {name} | {seconds:.3f} | {best['numpy'] / seconds:.2f}x | {loss:.12f}, {accuracy:.6f} |")


if __name__ == "__main__":
    main()
