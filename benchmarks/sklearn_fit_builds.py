"""Compare builds of the compiled module on one scikit-learn fit, each build in its own process, in turns.

    python benchmarks/sklearn_fit_builds.py BUILD_A.so BUILD_B.so [...] [--rounds 3] [--fits 5]

Each ``.so`` is a ``fastmlp._cpp`` from any build directory (as for compare_builds.py). Each round
runs every build once, pinned to one CPU, in a fresh interpreter that loads it as fastmlp's
compiled module; the run fits ``fastmlp.sklearn.MLPClassifier(hidden_layer_sizes=(128,),
solver="sgd", momentum=0.9, batch_size=64, max_iter=3)`` ``--fits`` times on a fresh copy of
MNIST's dense training rows (so each fit scans X for its non-zeros, as a user's first fit does)
and prints the best and median fit seconds and the sum of the first layer's coefficients (equal:
the builds fitted the same model).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from builds import in_turns, use_build


def run_one(path: str, fits: int) -> str:
    use_build(path)
    import numpy as np

    from fastmlp.data import load_mnist
    from fastmlp.sklearn import MLPClassifier

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    warnings.simplefilter("ignore")  # max_iter=3 does not converge, by design
    data = load_mnist(dtype="float32", quiet=True)
    params = dict(hidden_layer_sizes=(128,), solver="sgd", momentum=0.9, batch_size=64, max_iter=3)
    MLPClassifier(**params, random_state=0).fit(data.x_train[:2000].copy(), data.y_train[:2000])  # warm-up
    seconds = []
    for _ in range(fits):
        x = np.ascontiguousarray(data.x_train).copy()
        start = time.perf_counter()
        fitted = MLPClassifier(**params, random_state=0).fit(x, data.y_train)
        seconds.append(time.perf_counter() - start)
    return f"{min(seconds):.4f}/{float(np.median(seconds)):.4f} {float(fitted.coefs_[0].sum()):.6f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fits", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(run_one(args.builds[0], args.fits))
        return
    legend = "each cell: best / median fit s, sum of coefs_[0]"
    in_turns(__file__, args.builds, args.rounds, [f"--fits={args.fits}"], legend)


if __name__ == "__main__":
    main()
