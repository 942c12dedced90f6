"""``fastmlp bench --sweep``: the shapes, the dense input, the FLOP count, the peak, the table and
the targets, with fake timers (what the sweep computes, never how fast anything is)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from child_interpreter import run_check

from fastmlp.benchmarking import peers, sweep
from fastmlp.errors import FastmlpValueError


def test_parse_shapes_reads_every_field():
    shapes = sweep.parse_shapes("1024-1024:relu:256:dense, 128:sigmoid:64:mnist")
    assert shapes == [
        sweep.Shape((1024, 1024), "relu", 256, "dense"),
        sweep.Shape((128,), "sigmoid", 64, "mnist"),
    ]
    assert shapes[0].label == "1024-1024 relu b256"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("128:sigmoid:64", "HIDDEN"),
        ("128:sigmoid:b64:dense", "HIDDEN"),
        ("0:sigmoid:64:dense", "positive"),
        ("128:tanh:64:dense", "activation"),
        ("128:relu:64:sparse", "input"),
    ],
)
def test_parse_shapes_names_what_is_wrong(text, names):
    with pytest.raises(FastmlpValueError, match=names):
        sweep.parse_shapes(text)


def test_issue_shapes_are_the_issues_eleven_rows():
    labels = [(s.label, s.input) for s in sweep.ISSUE_SHAPES]
    assert len(labels) == 11 and len(set(labels)) == 11
    assert ("1024-1024 relu b256", "dense") in labels and ("128 sigmoid b32", "dense") in labels


def test_standardised_leaves_no_zero_and_unit_columns():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 30)) * (rng.random((200, 30)) < 0.3)).astype(np.float32)
    x[:, 3] = 0.0  # a constant column, as MNIST's border pixels
    original = x.copy()
    dense = sweep.standardised(x)
    np.testing.assert_array_equal(x, original)  # input unchanged
    assert dense.dtype == np.float32 and dense.shape == x.shape
    assert np.count_nonzero(dense) == dense.size
    np.testing.assert_array_equal(dense[:, 3], 1.0)
    varying = np.delete(dense, 3, axis=1).astype(np.float64)
    np.testing.assert_allclose(varying.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(varying.std(axis=0), 1.0, rtol=1e-5)


def test_gemm_flops_counts_forward_dw_and_dx_but_the_first():
    # 784-1024-1024-10 over 48,000 rows, GEMM by GEMM: (rows x k) @ (k x n) is 2 rows k n FLOPs.
    rows = 48_000
    forward = [(784, 1024), (1024, 1024), (1024, 10)]
    dw = forward
    dx = forward[1:]  # no gradient to the input
    expected = sum(2 * rows * k * n for k, n in [*forward, *dw, *dx])
    assert sweep.gemm_flops(rows, (784, 1024, 1024, 10)) == expected
    # The issue's figure: JAX at 5.62 s is "about 82 GFLOP/s".
    assert round(expected / 5.62 / 1e9) == 82


def test_sgemm_peak_is_the_best_rate_with_a_fake_clock():
    ticks = itertools.count(step=0.5)  # every call takes 0.5 s
    rate = sweep.sgemm_peak(sizes=(8, 16), repeats=2, clock=lambda: next(ticks))
    assert rate == 2.0 * 16**3 / 0.5


def _fake_runs(seconds_of):
    """A stand-in for the interleaved timer: each run's seconds from ``seconds_of(shape, name)``."""
    seen = {}

    def time_runs(runs, order, repeats, clock):
        seen.update(runs=dict(runs), rows=len(order), repeats=repeats, clock=clock)
        return {key: seconds_of(*key) for key in runs}

    return time_runs, seen


def test_run_sweep_times_every_shape_and_contender_and_skips_missing_peers(monkeypatch):
    monkeypatch.setattr(sweep, "framework_available", lambda framework: framework == "jax")
    monkeypatch.setattr(peers, "JaxTrainer", lambda *args, **kwargs: type("Fake", (), {"epoch": None})())
    rng = np.random.default_rng(1)
    x = (rng.random((64, 20)) * (rng.random((64, 20)) < 0.3)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    shapes = sweep.parse_shapes("8:sigmoid:16:mnist,8-4:relu:32:dense")
    seconds = {"fastmlp cpp": 1.0, "JAX": 2.0}
    time_runs, seen = _fake_runs(lambda shape, name: seconds[name] * shape.batch_size / 16)
    peaks = iter([3e9, 4e9])
    clocks = []

    def peak(clock):
        clocks.append(clock)
        return next(peaks)

    logged = []
    result = sweep.run_sweep(
        x, y, shapes, repeats=3, clock="cpu", log=logged.append, time_runs=time_runs, peak=peak
    )
    assert seen["clock"] is time.process_time and clocks == [time.process_time] * 2  # one clock for all
    assert set(seen["runs"]) == {(s, n) for s in shapes for n in ("fastmlp cpp", "JAX")}
    assert all(threads == 1 for threads, _, _ in seen["runs"].values())  # all on one CPU
    assert [batch for _, batch, _ in seen["runs"].values()] == [16, 16, 32, 32]
    assert seen["rows"] == 64 and seen["repeats"] == 3
    assert result.peak == 4e9 and result.peaks == (3e9, 4e9)
    assert result.skipped == {"PyTorch eager": "torch not installed (pip install torch==2.13.0)"}
    assert [row.seconds for row in result.rows] == [
        {"fastmlp cpp": 1.0, "JAX": 2.0},
        {"fastmlp cpp": 2.0, "JAX": 4.0},
    ]
    assert result.rows[1].flops == sweep.gemm_flops(64, (20, 8, 4, 10))
    assert any("PyTorch eager: skipped, torch not installed" in line for line in logged)
    table = sweep.markdown(result)
    assert "| 8 sigmoid b16 | mnist | 1.000 | 2.000 | - | 0.50 |" in table
    assert "| 8-4 relu b32 | dense | 2.000 | 4.000 | - | 0.50 |" in table
    assert "PyTorch eager: not timed, torch not installed" in table
    assert "4.0 GFLOP/s (before the epochs 3.0, after 4.0)" in table
    assert "repeats, CPU time of the process)" in table
    assert f"NumPy's BLAS: {sweep.blas_description()}; square" in table


def test_the_fastmlp_contender_trains_the_shape_it_is_given(monkeypatch):
    # The fastmlp epoch of a sweep row is a real training epoch of that MLP from the shared init.
    monkeypatch.setattr(sweep, "framework_available", lambda framework: False)  # no JAX in this process
    rng = np.random.default_rng(2)
    x = rng.standard_normal((48, 12)).astype(np.float32)
    y = rng.integers(0, 10, 48)
    shape = sweep.Shape((6, 5), "relu", 16, "dense")
    init = sweep.initial_params(12, shape, np.dtype(np.float32))
    assert {name: value.shape for name, value in init.items()} == {
        "W1": (12, 6),
        "b1": (6,),
        "W2": (6, 5),
        "b2": (5,),
        "W3": (5, 10),
        "b3": (10,),
    }
    found = sweep.contenders(x, y, shape)
    assert found["JAX"] == "jax not installed (pip install jax)"
    loss, _ = found["fastmlp cpp"](np.arange(48))
    assert np.isfinite(loss) and loss > 0


def test_the_peak_uses_the_cpus_own_kernels_where_the_environment_forces_others(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    rate, text = sweep.cpu_kernels_peak("cpu", sizes=(64,))
    assert rate > 0
    # measured in a child without the variable: not "forced by", and the line says why
    assert "forced by" not in text and text.endswith("without this environment's OPENBLAS_CORETYPE=Haswell)")
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    rate, text = sweep.cpu_kernels_peak("cpu", sizes=(64,))
    assert rate > 0 and text == sweep.blas_description()


def test_blas_description_names_the_kernels_and_an_override(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    text = sweep.blas_description()
    assert "kernels" in text and text.endswith("forced by OPENBLAS_CORETYPE=Haswell")
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert "OPENBLAS_CORETYPE" not in sweep.blas_description()


def _row(kind, ours, peer, flops=100.0):
    return sweep.SweepRow(sweep.Shape((8,), "relu", 16, kind), {"fastmlp cpp": ours, "JAX": peer}, flops)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (_row("dense", 0.85, 1.0), "met (<= 0.85)"),
        (_row("dense", 0.9, 1.0), "missed (<= 0.85)"),  # peer at 100 FLOP/s: 10% of the peak
        (_row("mnist", 0.5, 1.0), "met (<= 0.5)"),
        (_row("mnist", 0.6, 1.0), "missed (<= 0.5)"),
        # peer at 800 of 1000 FLOP/s (> 75%): fastmlp must not be slower and reach 90%
        (_row("dense", 0.11, 0.125), "met (peer near peak: <= 1.0 and >= 90% of peak)"),
        (_row("dense", 0.12, 0.125), "missed (peer near peak: <= 1.0 and >= 90% of peak)"),
        (_row("dense", 0.13, 0.125), "missed (peer near peak: <= 1.0 and >= 90% of peak)"),
    ],
)
def test_verdict_applies_the_issues_targets(row, expected):
    assert sweep.verdict(row, peak=1000.0) == expected


def test_verdict_without_a_peer_is_a_dash():
    row = sweep.SweepRow(sweep.Shape((8,), "relu", 16, "dense"), {"fastmlp cpp": 1.0}, 1.0)
    assert sweep.verdict(row, 1.0) == "-"


def test_bench_sweep_command_writes_the_table(tmp_path, monkeypatch, capsys):
    from synthetic import blobs

    from fastmlp import cli, data

    monkeypatch.setattr(data, "load_mnist", lambda *args, **kwargs: blobs(features=784))
    seen = {}

    def run_sweep(x, y, shapes, *, repeats, clock, threads, bfloat16):
        seen.update(shapes=shapes, repeats=repeats, clock=clock, threads=threads, bfloat16=bfloat16)
        row = sweep.SweepRow(shapes[0], {"fastmlp cpp": 1.0, "JAX": 4.0}, 2e9)
        return sweep.Sweep([row], 8e9, (8e9, 7e9), {}, len(x))

    monkeypatch.setattr(sweep, "run_sweep", run_sweep)
    out = tmp_path / "out"
    arguments = ["bench", "--sweep", "--shapes", "64:relu:32:dense", "--repeats", "2", "--out", str(out)]
    assert cli.main(arguments) == 0
    shape = sweep.Shape((64,), "relu", 32, "dense")
    assert seen == {"shapes": [shape], "repeats": 2, "clock": "wall", "threads": [1], "bfloat16": False}
    report = (out / "sweep.md").read_text()
    assert "| 64 relu b32 | dense | 1.000 | 4.000 | - | 0.25 | 2 (25%) | 0 (6%) | met (<= 0.85) |" in report
    assert f"wrote {out / 'sweep.md'}" in capsys.readouterr().out


def test_run_sweep_adds_fastmlp_at_more_threads_on_the_wall_clock(monkeypatch):
    monkeypatch.setattr(sweep, "framework_available", lambda framework: False)
    rng = np.random.default_rng(2)
    x = (rng.random((64, 20)) * (rng.random((64, 20)) < 0.3)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    shapes = sweep.parse_shapes("8:sigmoid:16:mnist")
    two = sweep.threads_contender(2)
    time_runs, seen = _fake_runs(lambda shape, name: {"fastmlp cpp": 1.0, two: 0.6}[name])
    result = sweep.run_sweep(
        x, y, shapes, repeats=1, clock="wall", log=lambda line: None, time_runs=time_runs,
        peak=lambda clock: 1e9, threads=[1, 2],
    )  # fmt: skip
    assert {key: threads for key, (threads, _, _) in seen["runs"].items()} == {
        (shapes[0], "fastmlp cpp"): 1,
        (shapes[0], two): 2,
    }
    run_one, run_two = (seen["runs"][shapes[0], name][2] for name in ("fastmlp cpp", two))
    assert run_one is not run_two  # each its own model, from the same start
    table = sweep.markdown(result)
    assert "| 8 sigmoid b16 | mnist | 1.000 | - | - | - |" in table  # the peers' table: 1 thread
    assert "| shape | input | 1 thread | 2 threads | 2 / 1 |" in table
    assert "| 8 sigmoid b16 | mnist | 1.000 | 0.600 | 0.60 |" in table
    assert sweep.verdict(result.rows[0], 1e9) == "-"  # a thread count is not a peer
    with pytest.raises(FastmlpValueError, match="wall"):
        sweep.run_sweep(x, y, shapes, clock="cpu", time_runs=time_runs, peak=lambda c: 1e9, threads=[2])


def test_run_sweep_adds_fastmlp_bfloat16_beside_float32(monkeypatch):
    monkeypatch.setattr(sweep, "framework_available", lambda framework: False)
    made = []
    real_epoch = sweep._fastmlp_epoch

    def fastmlp_epoch(x, y, shape, init, precision="float32"):
        made.append(precision)
        # the float32 model here: a CPU without AVX512_BF16 must run this test too
        return real_epoch(x, y, shape, init)

    monkeypatch.setattr(sweep, "_fastmlp_epoch", fastmlp_epoch)
    monkeypatch.setattr(sweep, "_bfloat16_unavailable", lambda: None)
    rng = np.random.default_rng(2)
    x = rng.random((64, 20)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    shapes = sweep.parse_shapes("8:sigmoid:16:mnist,8-4:relu:32:dense")
    time_runs, seen = _fake_runs(lambda shape, name: {sweep.FASTMLP: 2.0, sweep.BF16: 1.1}[name])
    result = sweep.run_sweep(
        x, y, shapes, repeats=1, clock="cpu", log=lambda line: None, time_runs=time_runs,
        peak=lambda clock: 1e9, bfloat16=True,
    )  # fmt: skip
    assert set(seen["runs"]) == {(s, n) for s in shapes for n in (sweep.FASTMLP, sweep.BF16)}
    assert made == ["float32", "bfloat16"] * 2
    assert all(threads == 1 for threads, _, _ in seen["runs"].values())
    table = sweep.markdown(result)
    assert "| shape | input | float32 | bfloat16 | bfloat16 / float32 |" in table
    assert "| 8-4 relu b32 | dense | 2.000 | 1.100 | 0.55 |" in table
    assert "| 8 sigmoid b16 | mnist | 2.000 | - | - | - |" in table  # not a peer of the first table
    assert sweep.verdict(result.rows[0], 1e9) == "-"
    # where the CPU lacks AVX512_BF16: said, not timed
    monkeypatch.setattr(sweep, "_bfloat16_unavailable", lambda: "this CPU lacks AVX512_BF16")
    time_runs, seen = _fake_runs(lambda shape, name: 1.0)
    result = sweep.run_sweep(
        x, y, shapes, repeats=1, clock="cpu", log=lambda line: None, time_runs=time_runs,
        peak=lambda clock: 1e9, bfloat16=True,
    )  # fmt: skip
    assert {name for _, name in seen["runs"]} == {sweep.FASTMLP}
    assert result.skipped[sweep.BF16] == "this CPU lacks AVX512_BF16"
    assert "fastmlp cpp bf16: not timed, this CPU lacks AVX512_BF16." in sweep.markdown(result)


def test_bfloat16_unavailable_says_why_or_none():
    from fastmlp.backends import cpp_backend

    has = cpp_backend._compiled.cpu_has_bf16()
    assert (sweep._bfloat16_unavailable() is None) == has
    if not has:
        assert "AVX512_BF16" in str(sweep._bfloat16_unavailable())


def test_bench_bf16_needs_sweep(capsys):
    from fastmlp import cli

    assert cli.main(["bench", "--bf16"]) == 2
    assert "--bf16 needs --sweep" in capsys.readouterr().err


def test_bench_sweep_threads_need_the_wall_clock(capsys):
    from fastmlp import cli

    assert cli.main(["bench", "--sweep", "--threads", "1,2", "--clock", "cpu"]) == 2
    assert "--clock wall" in capsys.readouterr().err


def test_bench_shapes_needs_sweep(capsys):
    from fastmlp import cli

    assert cli.main(["bench", "--shapes", "64:relu:32:dense"]) != 0
    assert "--shapes needs --sweep" in capsys.readouterr().err


def check_sweep_peer_trains_like_the_reference(name: str) -> None:
    """The peer the sweep times trains the same MLP (2 hidden ReLU layers) as fastmlp's reference."""
    from fastmlp.models import MLP
    from fastmlp.optim import SGD
    from fastmlp.train import train_epoch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((96, 20))
    y = rng.integers(0, 10, 96)
    order = rng.permutation(96)
    reference = MLP(20, (16, 12), 10, "relu", dtype="float64", backend="numpy")
    init = {key: value.copy() for key, value in reference.params.items()}
    train_epoch(reference, SGD(0.1, reg=1e-3), x, y, order, 16)
    options = {"lr": 0.1, "reg": 1e-3, "activation": "relu"}
    if name == "JAX":
        peer: peers.Trainer = peers.JaxTrainer(x, y, init, 16, **options)
    else:
        peer = peers.TorchTrainer(x, y, init, 16, **options)
    peer.epoch(order)
    got = peer.params()
    assert sorted(got) == sorted(init)
    for key, expected in reference.params.items():
        assert not np.allclose(expected, init[key], atol=1e-9), key  # training moved it
        np.testing.assert_allclose(got[key], expected, rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["JAX", "PyTorch eager"])
def test_sweep_peers_train_a_deep_relu_net_like_the_reference(name):
    framework = sweep.PEERS[name]
    if not peers.installed(framework):
        pytest.skip(f"{framework} not installed")
    # In a child interpreter, as test_benchmarking's peer tests: JAX warns at every later fork.
    run_check(
        "test_benchmarking_sweep",
        "check_sweep_peer_trains_like_the_reference",
        name,
        "`torch.jit.script_method` is deprecated",
    )


def test_interleaved_timer_reads_the_clock_it_is_given(monkeypatch):
    from fastmlp.benchmarking import epochs

    monkeypatch.setattr(epochs, "SETTLE_SECONDS", 0.0)
    ticks = itertools.count(step=1.0)
    calls = []
    runs = {"a": (1, 4, calls.append), "b": (1, 4, calls.append)}
    seconds = epochs._interleaved_minimum(runs, np.arange(4), 2, clock=lambda: next(ticks))
    assert seconds == {"a": 1.0, "b": 1.0}  # each timed epoch spans one tick of the fake clock
    assert len(calls) == 2 + 2 * 2  # a warm-up each, then two turns
