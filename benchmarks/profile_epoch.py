"""Run native training epochs back to back, for a sampling profiler to attribute (not a benchmark).

    perf record -e cpu-clock -o epoch.perf -- python benchmarks/profile_epoch.py --backend cpp
    perf report -i epoch.perf --no-children --sort symbol

The MNIST training rows (fetched or cached by fastmlp), TwoLayerNet 784-128-10, batch 64, float32,
SGD lr 0.1 reg 1e-3. One short warm-up epoch first (Numba compilation, the sparse structure),
then ``--epochs`` full ones; the seconds per epoch are printed so the profile can be scaled to time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastmlp
from fastmlp.data import load_mnist
from fastmlp.models import TwoLayerNet
from fastmlp.optim import SGD
from fastmlp.train import train_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cpp", choices=["numba", "cpp"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    data = load_mnist()
    fastmlp.set_num_threads(args.threads)
    model = TwoLayerNet(hidden_size=128, dtype="float32", backend=args.backend)
    optimizer = SGD(learning_rate=0.1, reg=1e-3)
    rng = np.random.default_rng(0)
    x, y = data.x_train, data.y_train
    train_epoch(model, optimizer, x, y, rng.permutation(len(x))[:640], 64)
    start = time.perf_counter()
    for _ in range(args.epochs):
        train_epoch(model, optimizer, x, y, rng.permutation(len(x)), 64)
    seconds = (time.perf_counter() - start) / args.epochs
    print(f"{args.backend}, {args.threads} thread(s): {seconds:.3f} s per epoch over {args.epochs} epochs")


if __name__ == "__main__":
    main()
