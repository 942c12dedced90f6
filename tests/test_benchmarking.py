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


def test_bench_report_tables_and_files(tmp_path):
    from fastmlp.benchmarking.report import bench_markdown, write_bench

    timings = [
        epochs.Timing("assignment-style NumPy", 1, 64, "float32", 4.0),
        epochs.Timing("fastmlp cpp", 1, 64, "float32", 1.0),
    ]
    text = bench_markdown(
        timings,
        {1: 2.0, 2: 1.5},
        {"fresh": 1.0, "reg=1": 1.25},
        backend="cpp",
        build="test build",
        repeats=6,
    )
    assert text.startswith("Build: test build\n\n| contender |")
    assert "| fastmlp cpp | 1 | 64 | float32 | 1.000 | 0.25x | 0.25x |" in text  # 1 s / 4 s
    assert "Thread scaling: cpp alone, batch 64, the thread counts alternating (6 repeats each" in text
    assert "| threads | seconds / epoch | vs 1 thread |" in text
    assert "| 2 | 1.500 | 0.75x |" in text  # 1.5 s / 2 s
    assert "| reg=1 | 1.250 |" in text and text.endswith("Slowest / fastest: 1.25x")
    markdown, chart = write_bench(tmp_path / "out", timings, text)
    assert markdown.read_text() == text + "\n"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_command_writes_the_report_of_what_it_measured(tmp_path, monkeypatch, capsys):
    # The timing itself is replaced (it is tested above); the command must pass the flags through
    # and write the report of the timings it got.
    from synthetic import blobs

    from fastmlp import cli, data

    monkeypatch.setattr(data, "load_mnist", lambda *args, **kwargs: blobs(features=784))
    timing = epochs.Timing("assignment-style NumPy", 1, 32, "float64", 2.0)
    seen = {}

    def time_epochs(x, y, **kwargs):
        seen.update(kwargs)
        return [timing]

    monkeypatch.setattr(epochs, "time_epochs", time_epochs)
    monkeypatch.setattr(epochs, "thread_scaling", lambda *args, repeats, **kwargs: {1: 2.0})
    monkeypatch.setattr(epochs, "epoch_time_by_state", lambda *args, **kwargs: {"fresh": 1.0})
    out = tmp_path / "out"
    arguments = ["bench", "--threads", "1", "--batch-sizes", "32", "--dtype", "float64", "--out", str(out)]
    assert cli.main([*arguments, "--repeats", "2"]) == 0
    assert seen["threads"] == [1] and seen["batch_sizes"] == [32] and seen["repeats"] == 2
    report = (out / "bench.md").read_text()
    assert "| assignment-style NumPy | 1 | 32 | float64 | 2.000 | 1.00x | 1.00x |" in report
    assert "(4 repeats each, minimum)" in report
    assert f"wrote {out / 'bench.md'} and {out / 'bench.png'}" in capsys.readouterr().out
