"""``fastmlp bench``'s timing loop: what it measures, not how fast (benchmarks/ does that)."""

from __future__ import annotations

import math

import numpy as np

from fastmlp.benchmarking import epochs


def test_every_setting_and_contender_is_timed_once(monkeypatch):
    monkeypatch.setattr(epochs, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(epochs, "torch_available", lambda: False)
    rng = np.random.default_rng(0)
    x = (rng.random((96, 784)) * (rng.random((96, 784)) < 0.2)).astype(np.float32)
    y = rng.integers(0, 10, 96)
    timings = epochs.time_epochs(
        x, y, backends=["numpy", "cpp"], threads=[1, 2], batch_sizes=[16, 32], repeats=2, log=lambda _: None
    )
    contenders = ["fastmlp numpy", "fastmlp cpp", "assignment-style NumPy", "dense GEMM floor"]
    expected = {(name, n, b) for name in contenders for n in (1, 2) for b in (16, 32)}
    assert sorted((t.contender, t.threads, t.batch_size) for t in timings) == sorted(expected)
    assert all(t.dtype == "float32" and math.isfinite(t.seconds) for t in timings)  # each was timed
    table = epochs.markdown_table(timings)
    assert table.count("\n") == 2 + len(expected) - 1


def test_thread_scaling_times_each_thread_count(monkeypatch):
    monkeypatch.setattr(epochs, "SETTLE_SECONDS", 0.0)
    rng = np.random.default_rng(1)
    x = rng.random((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    seconds = epochs.thread_scaling(x, y, "cpp", [1, 2], batch_size=16, repeats=2, log=lambda _: None)
    assert list(seconds) == [1, 2]
    assert all(math.isfinite(value) for value in seconds.values())  # each was timed
