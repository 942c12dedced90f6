"""The native epoch's cost per step rule: Adam and Nesterov against plain and momentum SGD, on the
same model, data and row order, epochs interleaved round by round in one process.

    python benchmarks/optimizer_epochs.py [--backend cpp|numba] [--dtype float32|float64]
        [--threads N] [--rounds R] [--rows N] [--data-dir DIR --allow-any-size] [--module BUILD.so]

TwoLayerNet 784-128-10 (sigmoid), batch 64, on the first ``--rows`` MNIST training rows (repeated
if the data has fewer). With one thread the clock is this process's CPU time, which a shared
machine disturbs less than wall time; with more it is wall time. Prints each rule's median epoch
and the median over rounds of its ratio to the SGD epochs of the same round. ``--module`` loads
another build's ``fastmlp._cpp`` (any build directory's, as compare_builds.py does) in place of
the installed one, to compare builds run in turn.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from builds import use_build

import fastmlp
from fastmlp.data import load_mnist
from fastmlp.models import TwoLayerNet
from fastmlp.optim import SGD, Adam
from fastmlp.train import epoch_pass

RULES = {
    "sgd": lambda: SGD(0.1, 1e-3),
    "momentum": lambda: SGD(0.1, 1e-3, 0.9),
    "nesterov": lambda: SGD(0.1, 1e-3, 0.9, nesterov=True),
    "adam": lambda: Adam(0.001, 1e-3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="cpp", choices=["cpp", "numba"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--data-dir")
    parser.add_argument("--allow-any-size", action="store_true")
    parser.add_argument("--module", help="a build's fastmlp._cpp .so to use instead of the installed one")
    args = parser.parse_args()
    if args.module:
        use_build(args.module)
    fastmlp.set_num_threads(args.threads)
    data = load_mnist(args.data_dir, dtype=args.dtype, quiet=True, allow_any_size=args.allow_any_size)
    repeats = -(-args.rows // len(data.x_train))
    x = np.ascontiguousarray(np.concatenate([data.x_train] * repeats)[: args.rows])
    y = np.concatenate([data.y_train] * repeats)[: args.rows]
    if args.backend == "numba":
        fastmlp.get_backend("numba").warmup()
    runs = {
        name: (TwoLayerNet(784, 128, 10, dtype=args.dtype, backend=args.backend), make())
        for name, make in RULES.items()
    }
    order = np.random.default_rng(0).permutation(len(x))
    for model, optimizer in runs.values():
        epoch_pass(model, optimizer, x, y, order[:640], 64)  # compile and first touch, untimed
    clock = time.process_time if args.threads == 1 else time.perf_counter
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (model, optimizer) in runs.items():
            start = clock()
            epoch_pass(model, optimizer, x, y, order, 64)
            seconds[name].append(clock() - start)
    times = {name: np.array(values) for name, values in seconds.items()}
    print(
        f"{args.backend} {args.dtype}, {args.threads} thread(s), {len(x)} rows, batch 64, "
        f"{args.rounds} rounds, {clock.__name__}"
    )
    for name, values in times.items():
        ratio = float(np.median(values / times["sgd"]))
        print(f"  {name:9s} {np.median(values) * 1e3:8.1f} ms/epoch   x{ratio:.3f} of sgd")


if __name__ == "__main__":
    main()
