"""precision="bfloat16" against float32 after the same epochs (issue 21): accuracy, not time.

    python benchmarks/bfloat16_accuracy.py [--epochs 10] [--data-dir DIR]

MLP 784-1024-1024-10 (relu, He init, seed 1024) on the cpp backend, SGD with momentum 0.9 and
reg 1e-4, batch 256, the same shuffles for both precisions; on MNIST (lr 0.05) and on the dense
set, MNIST standardised per column by the training rows' mean and std (constant columns 1.0; lr
0.01). Prints the last epoch's training loss and accuracy and the validation and test accuracy.
Needs a CPU with AVX512_BF16 (fastmlp raises FastmlpValueError naming precision elsewhere).
"""

from __future__ import annotations

import argparse

import numpy as np

import fastmlp
from fastmlp.data import load_mnist
from fastmlp.models import MLP
from fastmlp.optim import SGD
from fastmlp.train import epoch_pass, evaluation_pass


def standardised_by(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """train and others standardised by train's column means and deviations."""
    mean, std = train.astype(np.float64).mean(axis=0), train.astype(np.float64).std(axis=0)
    constant = std == 0

    def scale(a: np.ndarray) -> np.ndarray:
        return np.where(constant, 1.0, (a - mean) / np.where(constant, 1.0, std)).astype(np.float32)

    return [scale(train), *(scale(a) for a in others)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    fastmlp.set_num_threads(1)
    d = load_mnist(args.data_dir)
    inputs = {
        "mnist": ((d.x_train, d.x_val, d.x_test), 0.05),
        "dense": (tuple(standardised_by(d.x_train, d.x_val, d.x_test)), 0.01),
    }
    for kind, ((train, val, test), lr) in inputs.items():
        for precision in ("float32", "bfloat16"):
            model = MLP(784, [1024, 1024], 10, "relu", backend="cpp", precision=precision, seed=1024)
            optimizer = SGD(lr, reg=1e-4, momentum=0.9)
            rng = np.random.default_rng(0)
            for _ in range(args.epochs):
                result = epoch_pass(model, optimizer, train, d.y_train, rng.permutation(len(train)), 256)
            val_acc = evaluation_pass(model, val, d.y_val, 1000).correct / len(val)
            test_acc = evaluation_pass(model, test, d.y_test, 1000).correct / len(test)
            print(
                f"{kind} {precision}: train loss {result.mean_loss:.4f} train acc "
                f"{result.correct / len(train):.4f} val {val_acc:.4f} test {test_acc:.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
