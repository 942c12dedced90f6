"""Memory stays flat over many thousands of kernel calls, and kernels called from several Python
threads at once (the C++ ones release the GIL) return the right answers."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

CALLS_PER_KERNEL = 3000


def _resident_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _every_kernel(k, rng, dtype):
    n, d, m, c = 16, 32, 8, 10
    x, w, b = rng.random((n, d), dtype), rng.random((d, m), dtype), rng.random(m, dtype)
    dout, z = rng.random((n, m), dtype), rng.standard_normal((n, m)).astype(dtype)
    scores = rng.standard_normal((n, c)).astype(dtype)
    y = rng.integers(0, c, n)
    out = np.empty((n, m), dtype)
    probs = k.softmax_forward(scores)
    param, velocity = w.copy(), np.zeros_like(w)

    def once():
        k.affine_forward(x, w, b, out=out)
        k.affine_backward(dout, x, w)
        k.relu_forward(z)
        k.relu_backward(dout, z)
        k.sigmoid_backward(dout, k.sigmoid_forward(z))
        k.softmax_backward(scores, k.softmax_forward(scores))
        k.cross_entropy_forward(probs, y)
        k.softmax_cross_entropy(scores, y)
        k.softmax_cross_entropy_backward(probs, y)
        k.accuracy(scores, y)
        k.sgd_update(param, w, 1e-6, reg=1e-3, momentum=0.9, velocity=velocity)
        with pytest.raises(ValueError, match="w must have shape"):  # the error path must not leak either
            k.affine_forward(x, w.T)

    return once


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc (Linux)")
def test_memory_stays_flat(backend):
    once = _every_kernel(backend, np.random.default_rng(0), np.float32)
    for _ in range(300):  # warm-up: compilation, allocator pools
        once()
    gc.collect()
    before = _resident_bytes()
    for _ in range(CALLS_PER_KERNEL):
        once()
    gc.collect()
    growth = _resident_bytes() - before
    # 3000 x 13 calls allocating ~2 KB each would leak ~80 MB; allow 4 MB of allocator noise.
    assert growth < 4 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MB"


def test_concurrent_calls_from_threads(backend, reference):
    rng = np.random.default_rng(1)
    jobs = [(rng.random((64, 784), np.float32), rng.random((784, 128), np.float32) * 0.01) for _ in range(8)]
    expected = [reference.softmax_forward(reference.affine_forward(x, w)[:, :10].copy()) for x, w in jobs]

    def work(i):
        x, w = jobs[i]
        results = [backend.softmax_forward(backend.affine_forward(x, w)[:, :10].copy()) for _ in range(25)]
        return i, results

    with ThreadPoolExecutor(max_workers=4) as pool:
        for i, results in pool.map(work, range(len(jobs))):
            for result in results:
                np.testing.assert_allclose(result, expected[i], rtol=1e-4, atol=1e-6)
