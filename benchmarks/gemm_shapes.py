"""The training epoch's GEMMs one by one at the sweep's shapes: fastmlp's cpp kernels (Eigen)
against NumPy's BLAS, pinned to one CPU, interleaved, minimum of the repeats (not a test).

    FASTMLP_CACHE=... python benchmarks/gemm_shapes.py [--repeats 20]

Per layer (fan_in D, fan_out M) at batch N: forward x (N, D) @ W (D, M), dW = x^T (D, N) @ dz (N, M),
dX = dz (N, M) @ W^T (M, D). Prints GFLOP/s of both and their ratio, and the single-core SGEMM peak
(NumPy, square 1024 / 2048) of the same run, so the epoch's GEMM share can be judged per GEMM.
Times are this process's CPU seconds (``time.process_time``: one thread, pinned), so the minutes
another program holds the CPU do not count; wall time on a loaded 2-core machine varied 4x.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastmlp
from fastmlp.backends import cpp_backend as cpp
from fastmlp.benchmarking.affinity import pinned
from fastmlp.benchmarking.sweep import sgemm_peak

# (label, N, D, M): the GEMMs of 784-1024-1024-10 b256 and 784-128-10 b64 (the wide and the narrow).
SHAPES = [
    ("1024-1024 b256 layer 1", 256, 784, 1024),
    ("1024-1024 b256 layer 2", 256, 1024, 1024),
    ("1024-1024 b256 layer 3", 256, 1024, 10),
    ("128 b64 layer 1", 64, 784, 128),
    ("128 b64 layer 2", 64, 128, 10),
]


def best(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    fastmlp.set_num_threads(1)
    rng = np.random.default_rng(0)
    peak = sgemm_peak(clock=time.process_time)
    print(f"single-core SGEMM peak (NumPy, before): {peak / 1e9:.1f} GFLOP/s")
    print("| GEMM | shape | cpp GFLOP/s | NumPy GFLOP/s | cpp / NumPy time |\n|---|---|---|---|---|")
    with pinned(1):
        for label, n, d, m in SHAPES:
            x = rng.standard_normal((n, d), dtype=np.float32)
            w = rng.standard_normal((d, m), dtype=np.float32)
            dz = rng.standard_normal((n, m), dtype=np.float32)
            out = np.empty((n, m), np.float32)
            flops = 2.0 * n * d * m
            cases = {
                "forward": (
                    lambda x=x, w=w, out=out: cpp.affine_forward(x, w, None, out=out),
                    lambda x=x, w=w, out=out: np.matmul(x, w, out=out),
                ),
                "dW (no dX)": (
                    lambda dz=dz, x=x, w=w: cpp.affine_backward(dz, x, w, need_dx=False, has_bias=False),
                    lambda dz=dz, x=x: x.T @ dz,
                ),
                "dW + dX": (
                    lambda dz=dz, x=x, w=w: cpp.affine_backward(dz, x, w, need_dx=True, has_bias=False),
                    lambda dz=dz, x=x, w=w: (x.T @ dz, dz @ w.T),
                ),
            }
            for case, (ours, theirs) in cases.items():
                work = flops * (2 if case == "dW + dX" else 1)
                a, b = [], []
                for _ in range(3):  # interleaved
                    a.append(best(ours, args.repeats))
                    b.append(best(theirs, args.repeats))
                t_ours, t_theirs = min(a), min(b)
                rates = f"{work / t_ours / 1e9:.1f} | {work / t_theirs / 1e9:.1f}"
                print(f"| {case} | {label} ({n}x{d}x{m}) | {rates} | {t_ours / t_theirs:.2f} |")
    print(f"single-core SGEMM peak (NumPy, after): {sgemm_peak(clock=time.process_time) / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
