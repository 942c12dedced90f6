"""``fastmlp bench``'s timing loop: what it measures, not how fast (benchmarks/ does that)."""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np
import pytest
from child_interpreter import run_check

from fastmlp.benchmarking import affinity, epochs, peers


def test_every_setting_and_contender_is_timed_once(monkeypatch):
    monkeypatch.setattr(epochs, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(epochs, "framework_available", lambda framework: False)
    rng = np.random.default_rng(0)
    x = (rng.random((96, 784)) * (rng.random((96, 784)) < 0.2)).astype(np.float32)
    y = rng.integers(0, 10, 96)
    timings = epochs.time_epochs(
        x, y, backends=["numpy", "cpp"], threads=[1, 2], batch_sizes=[16, 32], repeats=2, log=lambda _: None
    )
    contenders = ["fastmlp numpy", "fastmlp cpp", "assignment-style NumPy", "dense GEMM floor"]
    expected = {(name, n, b) for name in contenders for n in (1, 2) for b in (16, 32)}
    missing = {(name, n, b) for name in epochs.FRAMEWORK_PEERS for n in (1, 2) for b in (16, 32)}
    assert sorted((t.contender, t.threads, t.batch_size) for t in timings) == sorted(expected | missing)
    timed = [t for t in timings if (t.contender, t.threads, t.batch_size) in expected]
    assert all(t.dtype == "float32" and math.isfinite(t.seconds) for t in timed)  # each was timed
    assert all(math.isnan(t.seconds) for t in timings if (t.contender, t.threads, t.batch_size) in missing)
    table = epochs.markdown_table(timings)
    assert table.count("\n") == 2 + len(expected | missing) - 1
    assert table.count("not installed") == len(missing)


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
        {"fastmlp cpp": 0.9, "PyTorch eager": None},
        backend="cpp",
        build="test build",
        repeats=6,
    )
    assert text.startswith("Build: test build\n\n| contender |")
    assert "| fastmlp cpp | 1 | 64 | float32 | 1.000 | 0.25x | 0.25x |" in text  # 1 s / 4 s
    assert "Thread scaling: cpp alone, batch 64, the thread counts alternating (6 repeats each" in text
    assert "| threads | seconds / epoch | vs 1 thread |" in text
    assert "| fastmlp cpp | 0.9000 |" in text and "| PyTorch eager | not installed" in text
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
    monkeypatch.setattr(epochs, "default_against_one", lambda *args, **kwargs: [DEFAULT_ROW])
    monkeypatch.setattr(epochs, "thread_scaling", lambda *args, repeats, **kwargs: {1: 2.0})
    monkeypatch.setattr(epochs, "epoch_time_by_state", lambda *args, **kwargs: {"fresh": 1.0})
    monkeypatch.setattr(epochs, "same_accuracy", lambda *args, **kwargs: {"fastmlp numpy": 0.5})
    out = tmp_path / "out"
    arguments = ["bench", "--threads", "1", "--batch-sizes", "32", "--dtype", "float64", "--out", str(out)]
    assert cli.main([*arguments, "--repeats", "2"]) == 0
    assert seen["threads"] == [1] and seen["batch_sizes"] == [32] and seen["repeats"] == 2
    report = (out / "bench.md").read_text()
    assert "| assignment-style NumPy | 1 | 32 | float64 | 2.000 | 1.00x | 1.00x |" in report
    assert "(4 repeats each, minimum)" in report
    assert "| cpp | 2 | 0.050 | 0.100 | 0.52x | <= 1.05x: met |" in report  # the default threads' table
    assert f"wrote {out / 'bench.md'} and {out / 'bench.png'}" in capsys.readouterr().out


DEFAULT_ROW = epochs.DefaultAgainstOne("cpp", 2, 0.05, 0.1, 0.52)


def test_default_against_one_times_both_settings_of_each_backend_in_pairs():
    rng = np.random.default_rng(3)
    x = (rng.random((96, 784)) * (rng.random((96, 784)) < 0.2)).astype(np.float32)
    y = rng.integers(0, 10, 96)
    rows = epochs.default_against_one(
        x, y, backends=["numpy", "cpp"], threads=2, pairs=3, batch_size=16, log=lambda _: None
    )
    assert [(row.backend, row.threads) for row in rows] == [("numpy", 2), ("cpp", 2)]
    for row in rows:  # each was timed
        assert all(math.isfinite(v) for v in (row.default_seconds, row.one_seconds, row.ratio))


def test_default_against_one_table_states_conditions_and_targets():
    rows = [DEFAULT_ROW, epochs.DefaultAgainstOne("numpy", 2, 0.33, 0.3, 1.08)]
    quiet = epochs.default_against_one_table(rows, tenants=0, pairs=12, load="0.10, 0.20, 0.30")
    assert "nothing else started; load average 0.10, 0.20, 0.30 before the bench" in quiet
    assert "median of 12 pairs" in quiet
    assert "| cpp | 2 | 0.050 | 0.100 | 0.52x | <= 1.05x: met |" in quiet
    assert "| numpy | 2 | 0.330 | 0.300 | 1.08x | <= 1.05x: NOT met |" in quiet
    busy = epochs.default_against_one_table(rows, tenants=1, pairs=12, load="1, 1, 1")
    assert "1 CPU-bound process(es) started beside it" in busy
    assert "| numpy | 2 | 0.330 | 0.300 | 1.08x | <= 1.10x: met |" in busy
    assert "| 1.08x | - |" in epochs.default_against_one_table(rows, tenants=3, pairs=12, load="1, 1, 1")


def test_bench_default_threads_only_runs_beside_its_tenants_and_stops_them(tmp_path, monkeypatch, capsys):
    from synthetic import blobs

    from fastmlp import cli, data
    from fastmlp.benchmarking import tenants

    monkeypatch.setattr(data, "load_mnist", lambda *args, **kwargs: blobs(features=784))
    started = []
    real_busy_processes = tenants.busy_processes

    def recorded(n):
        with real_busy_processes(n) as processes:
            started.extend(processes)
            yield processes

    monkeypatch.setattr(tenants, "busy_processes", contextlib.contextmanager(recorded))
    alive_while_timing = []

    def default_against_one(*args, **kwargs):
        alive_while_timing.extend(process.poll() is None for process in started)
        return [DEFAULT_ROW]

    monkeypatch.setattr(epochs, "default_against_one", default_against_one)
    out = tmp_path / "out"
    assert cli.main(["bench", "--default-threads-only", "--tenant", "2", "--out", str(out)]) == 0
    assert alive_while_timing == [True, True]
    assert all(process.poll() is not None for process in started)  # stopped afterwards
    report = (out / "bench.md").read_text()
    assert "2 CPU-bound process(es) started beside it" in report and "| cpp | 2 |" in report
    assert "| contender |" not in report  # nothing else was timed
    assert f"wrote {out / 'bench.md'}" in capsys.readouterr().out


def _small_problem(dtype):
    rng = np.random.default_rng(2)
    x = (rng.random((96, 784)) * (rng.random((96, 784)) < 0.2)).astype(dtype)
    y = rng.integers(0, 10, 96)
    return x, y, rng.permutation(96)


PEERS = {
    "assignment-style NumPy": None,
    "PyTorch eager": "torch",
    "PyTorch torch.compile": "torch",
    "JAX jit(lax.scan) epoch": "jax",
}


def check_peer_trains_like_the_reference(name: str) -> None:
    """From the same init and order, a peer's parameters after one epoch match fastmlp's reference."""
    x, y, order = _small_problem(np.float64)
    init = peers.initial_params(784, 128, 10, np.float64)
    init["W1"] *= 50  # large enough that the hidden layer is not linear: a wrong gradient shows
    reference = epochs.FastmlpTrainer("numpy", x, y, 16, init)
    reference.epoch(order)
    if name == "assignment-style NumPy":
        peer: peers.Trainer = peers.NumpyAssignment(x, y, init, 16)
    else:
        peer = epochs.FRAMEWORK_PEERS[name][1](x, y, init, 16)
    peer.epoch(order)
    expected, got = reference.params(), peer.params()
    for key in peers.PARAM_NAMES:
        assert not np.allclose(expected[key], init[key], atol=1e-9), key  # training moved it
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", PEERS)
def test_peer_trains_like_the_reference(name):
    framework = PEERS[name]
    if framework is None:
        check_peer_trains_like_the_reference(name)
        return
    if not peers.installed(framework):
        pytest.skip(f"{framework} is not installed (pip install 'fastmlp[peers]' adds this peer)")
    # In a child interpreter: JAX's and PyTorch's thread pools would stay in this one, and JAX
    # warns (rightly) at every later fork, which other tests do. torch.compile's tracer touches
    # .grad of a non-leaf tensor internally (torch 2.13) and warns, and torch warns about its own
    # torch.jit on import (as in pyproject.toml); those warnings are not ours.
    run_check(
        "test_benchmarking",
        "check_peer_trains_like_the_reference",
        name,
        "The .grad attribute of a Tensor that is not a leaf",
        "`torch.jit.script_method` is deprecated",
    )


def test_pinned_restores_every_thread():
    if not affinity.supported():
        pytest.skip("no sched_setaffinity on this platform")
    allowed = os.sched_getaffinity(0)
    with affinity.pinned(1) as cpus:
        assert len(cpus) == 1 or len(allowed) == 1
        assert os.sched_getaffinity(0) == (cpus if len(allowed) > 1 else allowed)
    assert os.sched_getaffinity(0) == allowed


def test_accuracy_table_flags_a_disagreement():
    agree = epochs.accuracy_table({"a": 0.9, "b": 0.901, "c": None})
    assert "the same within" in agree and "NOT" not in agree and "not installed" in agree
    assert "NOT the same" in epochs.accuracy_table({"a": 0.9, "b": 0.95})
