"""A scikit-learn fit with X's finiteness read from the epochs' count of its non-zeros, against the
same fit with scikit-learn's own check (its sum over X), fits interleaved in one process.

    python benchmarks/sklearn_input_check.py [--fits 10] [--solver sgd|adam]

``fastmlp.sklearn.MLPClassifier(hidden_layer_sizes=(128,), momentum=0.9, batch_size=64,
max_iter=3, n_threads=1)`` on a fresh copy of MNIST's dense float32 training rows per fit (each
fit counts X, as a user's first fit does), one pinned CPU. "scikit-learn's check" turns the
estimator's ``_finite_by_scan`` off, which is all the change switches. Prints the best and median
fit seconds of each, and of each pair of fits the median ratio.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from fastmlp.data import load_mnist
from fastmlp.sklearn import MLPClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=10)
    parser.add_argument("--solver", default="sgd", choices=["sgd", "adam"])
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    warnings.simplefilter("ignore")  # max_iter=3 does not converge, by design
    data = load_mnist(dtype="float32", quiet=True)
    params = dict(hidden_layer_sizes=(128,), solver=args.solver, momentum=0.9, batch_size=64, max_iter=3)
    MLPClassifier(**params, random_state=0).fit(data.x_train[:2000].copy(), data.y_train[:2000])  # warm-up
    by_scan = MLPClassifier._finite_by_scan
    seconds: dict[str, list[float]] = {"count": [], "scikit-learn": []}
    for _ in range(args.fits):
        for name in seconds:
            MLPClassifier._finite_by_scan = by_scan if name == "count" else (lambda *_: False)  # type: ignore[method-assign]
            x = data.x_train.copy()
            start = time.perf_counter()
            MLPClassifier(**params, n_threads=1, random_state=0).fit(x, data.y_train)
            seconds[name].append(time.perf_counter() - start)
    MLPClassifier._finite_by_scan = by_scan  # type: ignore[method-assign]
    for name, values in seconds.items():
        print(f"X checked by {name:13s} best {min(values):.4f} s, median {float(np.median(values)):.4f} s")
    ratios = np.array(seconds["count"]) / np.array(seconds["scikit-learn"])
    print(f"count / scikit-learn, median of the {args.fits} pairs: {float(np.median(ratios)):.3f}")


if __name__ == "__main__":
    main()
