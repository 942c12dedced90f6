"""``fastmlp bench --sweep``: one training epoch over many shapes, fastmlp against JAX and PyTorch,
on MNIST and on the same rows standardised per column, with the machine's GEMM peak beside it.

Every shape (hidden sizes, activation, batch size) on every input is timed for each contender on
one pinned CPU, all runs interleaved (``epochs._interleaved_minimum``: warm-up epoch, then the
minimum of ``repeats`` turns). Contenders: fastmlp's cpp backend through the Python API
(``MLP`` + ``SGD`` + ``train_epoch``), JAX (the epoch as one ``jit`` of a ``lax.scan``) and
PyTorch eager, all from the same initial parameters. The single-core SGEMM peak (NumPy's BLAS,
square 1024 and 2048) is measured in the same run, before and after the epochs, and every epoch's
dense GEMM work is shown as a rate and as a share of that peak.

Standardised input: each column minus its mean over the rows, over its standard deviation; the
columns that are constant (MNIST's border pixels) become 1.0, so no zero is left and fastmlp's
sparse path, which lives on MNIST's zeros, never applies.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FastmlpValueError
from . import peers
from .affinity import pinned
from .epochs import Epoch, _interleaved_minimum, _set_threads, framework_available

INPUTS = ("mnist", "dense")
FASTMLP = "fastmlp cpp"
BF16 = "fastmlp cpp bf16"  # precision="bfloat16" (with --bf16), beside FASTMLP's float32
JAX = "JAX"
TORCH = "PyTorch eager"
PEERS = {JAX: "jax", TORCH: "torch"}  # contender -> framework it needs
# SGD for every contender (the timings do not depend on it; finite losses do).
LEARNING_RATE, REG = 0.01, 1e-4
N_CLASSES = 10

# Targets (issue 21): fastmlp / best peer on each input; where the peer is already near the peak
# (above PEER_NEAR_PEAK of it) on dense input, never slower than the peer and at PEAK_SHARE of it.
TARGET_RATIO = {"dense": 0.85, "mnist": 0.5}
PEER_NEAR_PEAK, PEAK_SHARE = 0.75, 0.90
BF16_TARGET = 0.6  # bfloat16 epoch / float32 epoch at 1024-1024 (issue 21)


@dataclass(frozen=True)
class Shape:
    """One row of the sweep: hidden sizes, their activation, the batch size, the input kind."""

    hidden: tuple[int, ...]
    activation: str
    batch_size: int
    input: str

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.hidden))} {self.activation} b{self.batch_size}"


# The issue's table, row for row.
ISSUE_SHAPES = (
    Shape((128,), "sigmoid", 64, "mnist"),
    Shape((128,), "sigmoid", 64, "dense"),
    Shape((128,), "sigmoid", 32, "dense"),
    Shape((128,), "sigmoid", 256, "dense"),
    Shape((512,), "sigmoid", 64, "mnist"),
    Shape((512,), "sigmoid", 64, "dense"),
    Shape((256,), "sigmoid", 32, "dense"),
    Shape((256, 128), "relu", 128, "mnist"),
    Shape((256, 128), "relu", 128, "dense"),
    Shape((1024, 1024), "relu", 256, "mnist"),
    Shape((1024, 1024), "relu", 256, "dense"),
)


def parse_shapes(text: str) -> list[Shape]:
    """``"1024-1024:relu:256:dense,128:sigmoid:64:mnist"`` -> shapes; ValueError naming the bad one."""
    shapes = []
    for item in text.split(","):
        parts = item.strip().split(":")
        try:
            hidden, activation, batch, kind = parts
            sizes = tuple(int(h) for h in hidden.split("-"))
            batch_size = int(batch)
        except ValueError:
            raise FastmlpValueError(
                f"--shapes: {item!r} is not HIDDEN[-HIDDEN...]:ACTIVATION:BATCH:INPUT"
                " (e.g. 256-128:relu:128:dense)"
            ) from None
        if min(sizes) < 1 or batch_size < 1:
            raise FastmlpValueError(f"--shapes: sizes and batch must be positive in {item!r}")
        if activation not in peers.PEER_ACTIVATIONS:
            raise FastmlpValueError(
                f"--shapes: activation must be one of {', '.join(peers.PEER_ACTIVATIONS)} in {item!r}"
            )
        if kind not in INPUTS:
            raise FastmlpValueError(f"--shapes: input must be one of {', '.join(INPUTS)} in {item!r}")
        shapes.append(Shape(sizes, activation, batch_size, kind))
    return shapes


def standardised(x: np.ndarray) -> np.ndarray:
    """x (N, D) with every column centred and scaled to unit variance; constant columns are 1.0."""
    x64 = x.astype(np.float64)
    mean, std = x64.mean(axis=0), x64.std(axis=0)
    constant = std == 0
    out = (x64 - mean) / np.where(constant, 1.0, std)
    out[:, constant] = 1.0
    result: np.ndarray = out.astype(x.dtype)
    return result


def gemm_flops(n_rows: int, sizes: Sequence[int]) -> float:
    """Dense GEMM FLOPs of one epoch over n_rows for layer sizes (D, H1, ..., C).

    Per layer (fan_in x fan_out) and row: forward 2 fan_in fan_out, dW the same, and dX the same
    for every layer but the first (no gradient to the input).
    """
    products = [a * b for a, b in itertools.pairwise(sizes)]
    return 2.0 * n_rows * (3 * sum(products) - products[0])


def sgemm_peak(
    sizes: Sequence[int] = (1024, 2048),
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Single-core float32 GEMM rate in FLOP/s: NumPy's BLAS on square matrices, 1 pinned CPU.

    The best of ``repeats`` calls per size, the best size: what the machine gives one core at
    its quietest moment in this run.
    """
    rng = np.random.default_rng(0)
    best = 0.0
    _set_threads(1)
    with pinned(1):
        for n in sizes:
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            c = np.empty((n, n), np.float32)
            np.matmul(a, b, out=c)  # warm-up: first touch, BLAS buffers
            for _ in range(repeats):
                start = clock()
                np.matmul(a, b, out=c)
                elapsed = clock() - start
                best = max(best, 2.0 * n**3 / elapsed if elapsed > 0 else 0.0)
    return best


def blas_description() -> str:
    """Which BLAS NumPy uses and which of its kernels, for the peak's line: OpenBLAS picks its
    kernels by CPU at load time, and ``OPENBLAS_CORETYPE`` overrides that (this workplace sets it
    to Haswell, the AVX2 kernels, which on Zen 5 halves the peak of the AVX-512 ones)."""
    from threadpoolctl import threadpool_info

    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if not blas:
        return "no BLAS found by threadpoolctl"
    # NumPy's own (the peak is np.matmul), not another BLAS the process loaded first.
    info = next((i for i in blas if "numpy" in str(i.get("filepath", ""))), blas[0])
    text = f"{info.get('internal_api')} {info.get('version')}, {info.get('architecture')} kernels"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return text + (f", forced by OPENBLAS_CORETYPE={forced}" if forced else "")


def cpu_kernels_peak(clock: str, sizes: Sequence[int] = (1024, 2048)) -> tuple[float, str]:
    """``sgemm_peak`` (on the clock named ``clock``) and ``blas_description`` with the kernels
    OpenBLAS picks for this CPU.

    OpenBLAS reads ``OPENBLAS_CORETYPE`` once, when NumPy loads it; where the environment sets it
    (this workplace sets Haswell, the AVX2 kernels, half the AVX-512 ones' rate on a Zen 5), this
    process's BLAS is not the machine's peak, so the peak is measured in a child interpreter
    without the variable, and the description says so."""
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if not forced:
        return sgemm_peak(sizes, clock=CLOCKS[clock]), blas_description()
    code = (
        "import json\nfrom fastmlp.benchmarking import sweep\n"
        f"rate = sweep.sgemm_peak({tuple(sizes)!r}, clock=sweep.CLOCKS[{clock!r}])\n"
        "print(json.dumps([rate, sweep.blas_description()]))"
    )
    env = {name: value for name, value in os.environ.items() if name != "OPENBLAS_CORETYPE"}
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    rate, text = json.loads(child.stdout.splitlines()[-1])
    return float(rate), f"{text} (measured without this environment's OPENBLAS_CORETYPE={forced})"


def _fastmlp_epoch(
    x: np.ndarray, y: np.ndarray, shape: Shape, init: peers.Params, precision: str = "float32"
) -> Epoch:
    from ..models import MLP
    from ..optim import SGD
    from ..train import train_epoch

    model = MLP(
        x.shape[1],
        shape.hidden,
        N_CLASSES,
        shape.activation,
        dtype=x.dtype,
        backend="cpp",
        precision=precision,
    )
    for name, value in init.items():
        model.params[name][...] = value
    optimizer = SGD(LEARNING_RATE, reg=REG)
    return lambda order: train_epoch(model, optimizer, x, y, order, shape.batch_size)


def initial_params(n_inputs: int, shape: Shape, dtype: np.dtype) -> peers.Params:
    """fastmlp's MLP initialisation (He, seed 1024), the common start of every contender."""
    from ..models import MLP

    model = MLP(n_inputs, shape.hidden, N_CLASSES, shape.activation, dtype=dtype, backend="numpy")
    return {name: value.copy() for name, value in model.params.items()}


def contenders(x: np.ndarray, y: np.ndarray, shape: Shape) -> dict[str, Epoch | str]:
    """Each contender's epoch for ``shape`` on x, or the reason it cannot run."""
    init = initial_params(x.shape[1], shape, x.dtype)
    lr, reg, activation, batch = LEARNING_RATE, REG, shape.activation, shape.batch_size
    found: dict[str, Epoch | str] = {FASTMLP: _fastmlp_epoch(x, y, shape, init)}
    if framework_available("jax"):
        found[JAX] = peers.JaxTrainer(x, y, init, batch, lr, reg, activation).epoch
    else:
        found[JAX] = "jax not installed (pip install jax)"
    if framework_available("torch"):
        trainer = peers.TorchTrainer(x, y, init, batch, lr, reg, activation)
        found[TORCH] = trainer.epoch
    else:
        found[TORCH] = "torch not installed (pip install torch==2.13.0)"
    return found


@dataclass(frozen=True)
class SweepRow:
    shape: Shape
    seconds: dict[str, float]  # contender -> seconds per epoch (measured contenders only)
    flops: float  # dense GEMM FLOPs of the epoch


@dataclass(frozen=True)
class Sweep:
    rows: list[SweepRow]
    peak: float  # FLOP/s, the best of the measurements before and after the epochs
    peaks: tuple[float, float]  # before, after
    skipped: dict[str, str]  # contender -> why it was not timed
    n_rows: int
    clock: str = "wall"  # a key of CLOCKS
    blas: str = ""  # blas_description() of the run
    thread_counts: tuple[int, ...] = ()  # fastmlp cpp's counts above 1 (threads_contender)
    bfloat16: bool = False  # BF16 was asked for (timed, or in skipped with the reason)


Runs = dict[tuple[Shape, str], tuple[int, int, Epoch]]  # (shape, contender) -> (threads, batch, epoch)
TimeRuns = Callable[[Runs, np.ndarray, int, Callable[[], float]], dict[tuple[Shape, str], float]]
# What --clock names: wall time, or this process's CPU time (all threads; with 1 pinned CPU it
# leaves out the time other programs hold that CPU, which on a loaded machine was 2-3x the epoch).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def run_sweep(
    x: np.ndarray,
    y: np.ndarray,
    shapes: Sequence[Shape] = ISSUE_SHAPES,
    *,
    repeats: int = 2,
    clock: str = "wall",
    log: Callable[[str], None] = print,
    time_runs: TimeRuns = _interleaved_minimum,
    peak: Callable[[Callable[[], float]], float] | None = None,
    threads: Sequence[int] = (1,),
    bfloat16: bool = False,
) -> Sweep:
    """Time every shape x contender on 1 pinned CPU, interleaved; the GEMM peak before and after.

    x (N, D) MNIST-like rows, y (N,) labels; the dense input is ``standardised(x)``. ``clock``
    names an entry of CLOCKS, used for the epochs and the peak alike (``cpu_kernels_peak``, or
    ``peak`` given the clock). Every count in ``threads``
    above 1 adds fastmlp cpp on that many pinned CPUs (``threads_contender(n)``), interleaved
    with the rest; that needs the wall clock (CPU time adds up the threads'). ``bfloat16`` adds
    fastmlp cpp with precision="bfloat16" (BF16) at 1 thread, where the CPU has AVX512_BF16.
    """
    extra_threads = sorted({n for n in threads if n > 1})
    if extra_threads and clock != "wall":
        raise FastmlpValueError("threads above 1 need clock='wall' (CPU time adds up every thread's)")
    timer = CLOCKS[clock]
    inputs = {kind: x for kind in INPUTS}
    if any(shape.input == "dense" for shape in shapes):
        inputs["dense"] = standardised(x)
    order = np.random.default_rng(0).permutation(len(x))
    if peak is None:
        before, blas = cpu_kernels_peak(clock)
    else:
        before, blas = peak(timer), blas_description()
    log(f"  single-core SGEMM peak (before): {before / 1e9:.1f} GFLOP/s")
    runs: Runs = {}
    skipped: dict[str, str] = {}
    bf16_missing = _bfloat16_unavailable() if bfloat16 else None
    if bf16_missing is not None:
        skipped[BF16] = bf16_missing
    for shape in shapes:
        for name, epoch in contenders(inputs[shape.input], y, shape).items():
            if isinstance(epoch, str):
                skipped[name] = epoch
            else:
                runs[shape, name] = (1, shape.batch_size, epoch)
        for n in extra_threads:  # its own model: every contender trains from the same start
            epoch = _fastmlp_epoch(inputs[shape.input], y, shape, initial_params(x.shape[1], shape, x.dtype))
            runs[shape, threads_contender(n)] = (n, shape.batch_size, epoch)
        if bfloat16 and bf16_missing is None:
            init = initial_params(x.shape[1], shape, x.dtype)
            runs[shape, BF16] = (
                1,
                shape.batch_size,
                _fastmlp_epoch(inputs[shape.input], y, shape, init, "bfloat16"),
            )
    for name, reason in skipped.items():
        log(f"  {name}: skipped, {reason}")
    seconds = time_runs(runs, order, repeats, timer)
    after = cpu_kernels_peak(clock)[0] if peak is None else peak(timer)
    log(f"  single-core SGEMM peak (after): {after / 1e9:.1f} GFLOP/s")
    rows = []
    for shape in shapes:
        measured = {name: s for (sh, name), s in seconds.items() if sh == shape}
        flops = gemm_flops(len(order), (x.shape[1], *shape.hidden, N_CLASSES))
        rows.append(SweepRow(shape, measured, flops))
        log(f"  {shape.label} {shape.input}: " + ", ".join(f"{n} {s:.3f} s" for n, s in measured.items()))
    return Sweep(
        rows, max(before, after), (before, after), skipped, len(order), clock, blas,
        tuple(extra_threads), bfloat16,
    )  # fmt: skip


def _bfloat16_unavailable() -> str | None:
    """None where fastmlp cpp runs precision="bfloat16" on this CPU, else why not."""
    from ..backends import cpp_backend

    return cpp_backend.bfloat16_unavailable()


def threads_contender(n: int) -> str:
    """The name of fastmlp cpp timed on ``n`` threads (n > 1; FASTMLP is its 1-thread run)."""
    return f"{FASTMLP}, {n} threads"


def _peer_seconds(row: SweepRow) -> list[float]:
    return [s for name, s in row.seconds.items() if name in PEERS]


def verdict(row: SweepRow, peak: float) -> str:
    """Whether the row meets issue 21's target, and by which rule; '-' without a peer."""
    peer_seconds = _peer_seconds(row)
    if FASTMLP not in row.seconds or not peer_seconds:
        return "-"
    ours, best = row.seconds[FASTMLP], min(peer_seconds)
    ratio = ours / best
    limit = TARGET_RATIO[row.shape.input]
    if ratio <= limit:
        return f"met (<= {limit})"
    if row.shape.input == "dense" and row.flops / best >= PEER_NEAR_PEAK * peak:
        share = row.flops / ours / peak
        met = ratio <= 1.0 and share >= PEAK_SHARE
        return f"{'met' if met else 'missed'} (peer near peak: <= 1.0 and >= {PEAK_SHARE:.0%} of peak)"
    return f"missed (<= {limit})"


def _rate(flops: float, seconds: float | None, peak: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    rate = flops / seconds
    return f"{rate / 1e9:.0f} ({rate / peak:.0%})"


def markdown(sweep: Sweep) -> str:
    """The sweep as one Markdown table, the peak line and the skipped peers."""
    lines = [
        "| shape (hidden, activation, batch) | input | fastmlp | JAX | PyTorch | fastmlp / best peer "
        "| fastmlp GEMM GFLOP/s (% peak) | best peer GFLOP/s (% peak) | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sweep.rows:
        cells = [f"{row.seconds[n]:.3f}" if n in row.seconds else "-" for n in (FASTMLP, JAX, TORCH)]
        peer_seconds = _peer_seconds(row)
        best = min(peer_seconds) if peer_seconds else None
        ours = row.seconds.get(FASTMLP)
        ratio = f"{ours / best:.2f}" if ours is not None and best is not None else "-"
        lines.append(
            f"| {row.shape.label} | {row.shape.input} | {' | '.join(cells)} | {ratio} "
            f"| {_rate(row.flops, ours, sweep.peak)} | {_rate(row.flops, best, sweep.peak)} "
            f"| {verdict(row, sweep.peak)} |"
        )
    before, after = sweep.peaks
    clock = "CPU time of the process" if sweep.clock == "cpu" else "wall time"
    text = "\n".join(lines)
    text += (
        f"\n\nSeconds per epoch ({sweep.n_rows} rows, float32, 1 pinned CPU, minimum of the interleaved"
        f" repeats, {clock}). Single-core SGEMM peak (NumPy's BLAS: {sweep.blas}; square 1024 and 2048):"
        f" {sweep.peak / 1e9:.1f} GFLOP/s (before the epochs {before / 1e9:.1f}, after {after / 1e9:.1f})."
        " GEMM GFLOP/s: the epoch's dense GEMM FLOPs (forward, dW, dX but the first layer's) over its time."
    )
    text += _threads_table(sweep)
    text += _bfloat16_table(sweep)
    for name, reason in sweep.skipped.items():
        text += f"\n\n{name}: not timed, {reason}."
    return text


def _threads_table(sweep: Sweep) -> str:
    """fastmlp cpp at every thread count timed, beside its 1-thread run (empty if only 1 was)."""
    counts = sweep.thread_counts
    if not counts:
        return ""
    header = "| shape | input | 1 thread | " + " | ".join(f"{n} threads | {n} / 1" for n in counts) + " |"
    lines = ["", "", header, "|---|---|---|" + "---|---|" * len(counts)]
    for row in sweep.rows:
        one = row.seconds.get(FASTMLP)
        cells = []
        for n in counts:
            many = row.seconds.get(threads_contender(n))
            cells.append("-" if many is None else f"{many:.3f}")
            cells.append("-" if many is None or one is None else f"{many / one:.2f}")
        first = "-" if one is None else f"{one:.3f}"
        lines.append(f"| {row.shape.label} | {row.shape.input} | {first} | {' | '.join(cells)} |")
    return "\n".join(lines) + (
        f"\n\nfastmlp cpp on {', '.join(map(str, counts))} pinned CPUs (wall time, interleaved with the"
        " table above): the README's Threads section says how the team runs a batch."
    )


def _bfloat16_table(sweep: Sweep) -> str:
    """fastmlp cpp's bfloat16 epochs beside its float32 ones, same run (empty unless timed)."""
    if not any(BF16 in row.seconds for row in sweep.rows):
        return ""
    lines = ["", "", "| shape | input | float32 | bfloat16 | bfloat16 / float32 |", "|---|---|---|---|---|"]
    for row in sweep.rows:
        ours, bf16 = row.seconds.get(FASTMLP), row.seconds.get(BF16)
        ratio = "-" if ours is None or bf16 is None else f"{bf16 / ours:.2f}"
        cells = ["-" if s is None else f"{s:.3f}" for s in (ours, bf16)]
        lines.append(f"| {row.shape.label} | {row.shape.input} | {' | '.join(cells)} | {ratio} |")
    return "\n".join(lines) + (
        '\n\nfastmlp cpp with precision="bfloat16" (GEMM inputs rounded to bfloat16, float32 sums and'
        f" master weights; AVX512_BF16), 1 pinned CPU, interleaved with the table above; target at"
        f" 1024-1024: <= {BF16_TARGET} of float32's epoch."
    )
