"""cpp at 1 and 2 threads, alternately, optionally right after a burst of 2-thread BLAS work.

    python benchmarks/thread_interference.py                     # cpp alone
    python benchmarks/thread_interference.py --noise             # 50 2-thread 300x300 matmuls first
    python benchmarks/thread_interference.py --noise --settle 0.3

Shows why ``fastmlp bench`` pauses before each timed epoch: OpenBLAS's worker threads keep
spinning for a while after a call, and a 2-thread epoch timed on top of them shares its two cores
with a third busy thread. Prints the minimum of each thread count and the 2-thread / 1-thread ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fastmlp.benchmarking.epochs import _set_threads, fastmlp_epoch_factory
from fastmlp.data import load_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", action="store_true", help="2-thread matmuls before each timed epoch")
    parser.add_argument("--settle", type=float, default=0.0, help="seconds of sleep after the noise")
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    data = load_mnist()
    x, y = data.x_train, data.y_train
    order = np.random.default_rng(0).permutation(len(x))
    epochs = {n: fastmlp_epoch_factory("cpp", x, y, 64) for n in (1, 2)}
    noise = np.random.default_rng(0).random((300, 300)).astype(np.float32)
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(args.repeats):
        for n_threads, epoch in epochs.items():
            if args.noise:
                _set_threads(2)
                for _ in range(50):
                    noise @ noise
            time.sleep(args.settle)
            _set_threads(n_threads)
            epoch(order[:256])
            start = time.perf_counter()
            epoch(order)
            best[n_threads] = min(best[n_threads], time.perf_counter() - start)
    _set_threads(1)
    print(f"cpp 1 thread {best[1]:.3f} s, 2 threads {best[2]:.3f} s: {best[2] / best[1]:.2f}x")


if __name__ == "__main__":
    main()
