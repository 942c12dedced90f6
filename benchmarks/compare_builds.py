"""Compare builds of the compiled module: native epochs, each build in its own process, in turns.

    python benchmarks/compare_builds.py BUILD_A.so BUILD_B.so [...] [--rounds 4] [--epochs 6]
        [--input mnist|dense] [--hidden H[-H...]] [--batch B]

Each ``.so`` is a ``fastmlp._cpp`` or ``fastmlp._cpp_vN`` from any build directory (for example a
``cmake -S . -B DIR`` build of another commit, or of ``-DFASTMLP_NATIVE_ARCH=OFF``). Each round
runs every build once, in a fresh interpreter that loads it as fastmlp's compiled module; each
run trains a TwoLayerNet 784-128-10 on the MNIST training rows (batch 64, lr 0.1, reg 1e-3) for
one warm-up and ``--epochs`` timed epochs and prints the best wall time, the best CPU time of the
thread (which other tenants of a shared host disturb far less) and a hash of W1 afterwards (equal
hashes: the builds compute the same bits). At 1 thread the process is pinned to one CPU.
``--input dense`` trains on the rows standardised per column (no zeros, so every layer runs the dense
GEMMs; ``benchmarking.sweep.standardised``), ``--hidden`` sets other hidden sizes (an MLP with
sigmoid layers; e.g. 1024-1024), ``--batch`` the batch size and ``--precision bfloat16`` the GEMMs'
inputs (CPUs with AVX512_BF16).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

from builds import in_turns, use_build


def run_one(
    path: str, threads: int, epochs: int, dtype: str, data_kind: str, hidden: str, batch: int, precision: str
) -> str:
    use_build(path)
    import numpy as np

    import fastmlp
    from fastmlp.benchmarking.sweep import standardised
    from fastmlp.data import load_mnist
    from fastmlp.models import MLP, TwoLayerNet
    from fastmlp.optim import SGD
    from fastmlp.train import train_epoch

    data = load_mnist(dtype=dtype, quiet=True)
    fastmlp.set_num_threads(threads)
    if threads == 1:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if hidden == "128":
        model = TwoLayerNet(dtype=dtype, backend="cpp", precision=precision)
    else:
        sizes = [int(h) for h in hidden.split("-")]
        model = MLP(784, sizes, 10, "sigmoid", dtype=dtype, backend="cpp", precision=precision)
    optimizer = SGD(0.1, reg=1e-3)
    rng = np.random.default_rng(0)
    x, y = data.x_train, data.y_train
    if data_kind == "dense":
        x = standardised(x)
    train_epoch(model, optimizer, x, y, rng.permutation(len(x)), batch)
    wall = cpu = float("inf")
    for _ in range(epochs):
        order = rng.permutation(len(x))
        start, start_cpu = time.perf_counter(), time.thread_time()
        train_epoch(model, optimizer, x, y, order, batch)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.thread_time() - start_cpu)
    digest = hashlib.sha1(model.params["W1"].tobytes()).hexdigest()[:8]
    return f"{wall:.4f}/{cpu:.4f} {digest}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--input", default="mnist", choices=["mnist", "dense"])
    parser.add_argument("--hidden", default="128")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            run_one(
                args.builds[0],
                args.threads,
                args.epochs,
                args.dtype,
                args.input,
                args.hidden,
                args.batch,
                args.precision,
            )
        )
        return
    child_args = [f"--epochs={args.epochs}", f"--threads={args.threads}", f"--dtype={args.dtype}"]
    child_args += [f"--input={args.input}", f"--hidden={args.hidden}", f"--batch={args.batch}"]
    child_args += [f"--precision={args.precision}"]
    legend = "each cell: best wall s / best thread CPU s, W1 hash"
    in_turns(__file__, args.builds, args.rounds, child_args, legend)


if __name__ == "__main__":
    main()
