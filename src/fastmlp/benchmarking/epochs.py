"""``fastmlp bench``: one training epoch per contender, timed in the same run, as a table of
seconds and ratios plus a bar chart.

Contenders: fastmlp's backends (the trainer's epoch, native when the backend has one), the
assignment-style NumPy epoch, the framework peers of ``peers`` when installed (PyTorch eager,
``torch.compile``, JAX), and the dense GEMM floor. Machines are shared and noisy, so each
contender is timed ``repeats`` times, interleaved with all the others (thread counts included),
and the table reports the minimum: the least-disturbed measurement of the same work. An n-thread
row runs with the process pinned to n CPUs. ``same_accuracy`` checks that the trainable
contenders reach the same accuracy from the same initialisation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..machine import cpu_model
from . import peers
from .affinity import pinned

# Accuracies of contenders trained the same way agree to within this (a fraction, 0.3 points).
ACCURACY_TOLERANCE = 0.003


@dataclass(frozen=True)
class Timing:
    contender: str
    threads: int
    batch_size: int
    dtype: str
    seconds: float


class FastmlpTrainer:
    """The trainer's training epoch on ``backend`` for a TwoLayerNet (lr 0.1, reg 1e-3)."""

    def __init__(
        self, backend: str, x: np.ndarray, y: np.ndarray, batch_size: int, init: peers.Params | None = None
    ) -> None:
        from ..models import TwoLayerNet
        from ..optim import SGD

        self.model = TwoLayerNet(
            input_size=x.shape[1], hidden_size=128, num_classes=10, dtype=x.dtype, backend=backend
        )
        for name, value in (init or {}).items():
            self.model.params[name][...] = value
        self.optimizer = SGD(learning_rate=0.1, reg=1e-3)
        self.x, self.y, self.batch_size = x, y, batch_size

    def epoch(self, order: np.ndarray) -> object:
        from ..train import train_epoch

        return train_epoch(self.model, self.optimizer, self.x, self.y, order, self.batch_size)

    def params(self) -> peers.Params:
        return {name: self.model.params[name].copy() for name in peers.PARAM_NAMES}


def fastmlp_epoch_factory(
    backend: str, x: np.ndarray, y: np.ndarray, batch_size: int
) -> Callable[[np.ndarray], object]:
    """The trainer's training epoch on ``backend`` for a fresh TwoLayerNet (lr 0.1, reg 1e-3)."""
    return FastmlpTrainer(backend, x, y, batch_size).epoch


# The optional framework peers: contender name -> (framework to import, how to build its trainer).
FRAMEWORK_PEERS: dict[str, tuple[str, Callable[..., peers.Trainer]]] = {
    "PyTorch eager": ("torch", lambda x, y, init, b: peers.TorchTrainer(x, y, init, b)),
    "PyTorch torch.compile": (
        "torch",
        lambda x, y, init, b: peers.CompiledTorchTrainer(x, y, init, b),
    ),
    "JAX jit(lax.scan) epoch": ("jax", lambda x, y, init, b: peers.JaxTrainer(x, y, init, b)),
}
NOT_INSTALLED = "not installed (pip install 'fastmlp[peers]')"


def trainers(
    x: np.ndarray, y: np.ndarray, batch_size: int, backends: list[str], init: peers.Params
) -> dict[str, peers.Trainer | None]:
    """Every trainable contender, all starting from ``init``; None for a framework not installed."""
    found: dict[str, peers.Trainer | None] = {
        f"fastmlp {name}": FastmlpTrainer(name, x, y, batch_size, init) for name in backends
    }
    found["assignment-style NumPy"] = peers.NumpyAssignment(x, y, init, batch_size)
    for name, (framework, build) in FRAMEWORK_PEERS.items():
        found[name] = build(x, y, init, batch_size) if framework_available(framework) else None
    return found


def contenders(
    x: np.ndarray, y: np.ndarray, batch_size: int, backends: list[str]
) -> dict[str, Callable[[np.ndarray], object] | None]:
    """Every contender's epoch over an order of rows (None: its framework is not installed)."""
    init = peers.initial_params(x.shape[1], 128, 10, x.dtype)
    found: dict[str, Callable[[np.ndarray], object] | None] = {
        name: None if trainer is None else trainer.epoch
        for name, trainer in trainers(x, y, batch_size, backends, init).items()
    }
    found["dense GEMM floor"] = lambda order: peers.gemm_floor_epoch(x, order, batch_size)
    for name in NUMPY_PEERS:
        found[name] = _with_blas_at_budget(found[name])
    return found


# Plain NumPy code timed as its users run it: BLAS at the row's thread count (fastmlp's own
# kernels keep BLAS at one thread, fastmlp.threads).
NUMPY_PEERS = ("assignment-style NumPy", "dense GEMM floor")


def _with_blas_at_budget(epoch: Epoch | None) -> Epoch | None:
    if epoch is None:
        return None

    def run(order: np.ndarray) -> object:
        from ..threads import blas_threads, get_num_threads

        with blas_threads(get_num_threads()):
            return epoch(order)

    return run


def framework_available(framework: str) -> bool:
    return peers.installed(framework)


def torch_available() -> bool:
    return framework_available("torch")


def _set_threads(n: int) -> None:
    from .. import set_num_threads

    set_num_threads(n)  # fastmlp's kernels (their BLAS stays at one thread: fastmlp.threads)
    if torch_available():
        import torch

        torch.set_num_threads(n)


def same_accuracy(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    backends: list[str],
    batch_size: int = 64,
    epochs: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, float | None]:
    """Validation accuracy of every trainable contender after ``epochs`` epochs from one init.

    Same initial parameters (fastmlp's TwoLayerNet init), same shuffled orders, same
    hyper-parameters; each contender trains on 1 thread. None for a framework not installed.
    """
    init = peers.initial_params(x.shape[1], 128, 10, x.dtype)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(x)) for _ in range(epochs)]
    _set_threads(1)
    result: dict[str, float | None] = {}
    for name, trainer in trainers(x, y, batch_size, backends, init).items():
        if trainer is None:
            result[name] = None
            log(f"  {name:24s} {NOT_INSTALLED}")
            continue
        for order in orders:
            trainer.epoch(order)
        result[name] = peers.accuracy(trainer.params(), x_val, y_val)
        log(f"  {name:24s} validation accuracy after {epochs} epoch(s): {result[name]:.4f}")
    return result


def accuracy_table(accuracies: dict[str, float | None], tolerance: float = ACCURACY_TOLERANCE) -> str:
    """Markdown table of the accuracies and one line saying whether they agree within tolerance."""
    lines = ["| contender | validation accuracy |", "|---|---|"]
    lines += [f"| {name} | {NOT_INSTALLED if a is None else f'{a:.4f}'} |" for name, a in accuracies.items()]
    measured = [a for a in accuracies.values() if a is not None]
    spread = max(measured) - min(measured)
    verdict = "the same" if spread <= tolerance else "NOT the same"
    lines.append(
        f"\nAccuracy spread (max - min) {spread:.4f}: {verdict} within {tolerance} (float rounding"
        " differs between implementations; a wrong update rule would differ by far more)."
    )
    return "\n".join(lines)


# Pause before each timed epoch. A contender's worker threads (OpenBLAS's, PyTorch's, OpenMP's)
# keep spinning for a while after its last call; timed on top of them, a 2-thread epoch shares its
# two cores with a third busy thread (benchmarks/thread_interference.py measures the difference).
SETTLE_SECONDS = 0.5

Epoch = Callable[[np.ndarray], object]
K = TypeVar("K", bound=Hashable)


def _interleaved_minimum(
    runs: dict[K, tuple[int, int, Epoch]],
    order: np.ndarray,
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[K, float]:
    """Seconds of each run's epoch over ``order``: the minimum of ``repeats``, taken in turns.

    runs maps a key to (threads, batch size, epoch). Each epoch is warmed up first with one whole
    epoch (JIT compilation for the shapes timed, first touches); then every repeat times every run
    once, after SETTLE_SECONDS, so all runs are measured in the same minutes. An n-thread run has
    the whole process pinned to n CPUs (``affinity.pinned``), whatever threads a peer starts.
    ``clock``: wall time by default; ``time.process_time`` counts only the CPU time of this
    process (all its threads), which on a loaded machine leaves out the time others hold the CPUs.
    """
    for n_threads, _, epoch in runs.values():
        _set_threads(n_threads)
        with pinned(n_threads):
            epoch(order)
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for key, (n_threads, _, epoch) in runs.items():
            _set_threads(n_threads)
            with pinned(n_threads):
                time.sleep(SETTLE_SECONDS)
                start = clock()
                epoch(order)
                best[key] = min(best[key], clock() - start)
    _set_threads(1)
    return best


def time_epochs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    backends: list[str],
    threads: list[int],
    batch_sizes: list[int],
    repeats: int = 3,
    log: Callable[[str], None] = print,
) -> list[Timing]:
    """Time one epoch of every contender, ``repeats`` times; keep each minimum.

    Every repeat runs every (threads, batch size, contender) once, so all the ratios, including
    a contender's 2-thread against its 1-thread time, compare measurements taken minutes apart at
    most, not whole phases of the run apart.
    """
    order = np.random.default_rng(0).permutation(len(x))
    dtype = str(x.dtype)
    runs: dict[tuple[str, int, int], tuple[int, int, Epoch]] = {}
    missing: list[tuple[str, int, int]] = []
    for batch_size in batch_sizes:
        # One model per contender and batch size, shared by the thread counts (compiled once).
        found = contenders(x, y, batch_size, backends)
        for n_threads in threads:
            for name, epoch in found.items():
                if epoch is None:
                    missing.append((name, n_threads, batch_size))
                else:
                    runs[name, n_threads, batch_size] = (n_threads, batch_size, epoch)
    seconds = _interleaved_minimum(runs, order, repeats)
    timings = []
    for key in sorted([*runs, *missing], key=lambda k: (k[2], k[1])):
        name, n_threads, batch_size = key
        value = seconds.get(key, math.nan)  # NaN: not installed
        shown = NOT_INSTALLED if math.isnan(value) else f"{value:.3f} s"
        log(f"  {name:24s} threads={n_threads} batch={batch_size} {dtype}: {shown}")
        timings.append(Timing(name, n_threads, batch_size, dtype, value))
    return timings


def thread_scaling(
    x: np.ndarray,
    y: np.ndarray,
    backend: str,
    threads: list[int],
    *,
    batch_size: int = 64,
    repeats: int = 5,
    log: Callable[[str], None] = print,
) -> dict[int, float]:
    """Seconds of one epoch of ``backend`` at each thread count, with no other contender in between.

    The thread counts alternate within each repeat (minimum kept), so the ratio of two of them is
    measured in the same minutes; no other library's thread pool runs between them (see
    SETTLE_SECONDS for what those do to a 2-thread epoch).
    """
    order = np.random.default_rng(0).permutation(len(x))
    runs = {n: (n, batch_size, fastmlp_epoch_factory(backend, x, y, batch_size)) for n in threads}
    best = _interleaved_minimum(runs, order, repeats)
    for n_threads, seconds in best.items():
        log(f"  {backend} alone, threads={n_threads}: {seconds:.3f} s")
    return best


def markdown_table(timings: list[Timing], reference: str = "assignment-style NumPy") -> str:
    """Seconds per epoch and the ratio to the reference contender at the same threads and batch."""
    lines = [
        "| contender | threads | batch | dtype | seconds / epoch "
        "| vs NumPy (1 thread) | vs same-run reference |",
        "|---|---|---|---|---|---|---|",
    ]
    ref = {(t.threads, t.batch_size, t.dtype): t.seconds for t in timings if t.contender == reference}
    ref_one = {
        (t.batch_size, t.dtype): t.seconds for t in timings if t.contender == reference and t.threads == 1
    }
    for t in timings:
        same = ref.get((t.threads, t.batch_size, t.dtype))
        one = ref_one.get((t.batch_size, t.dtype))
        if math.isnan(t.seconds):
            lines.append(
                f"| {t.contender} | {t.threads} | {t.batch_size} | {t.dtype} | {NOT_INSTALLED} | - | - |"
            )
            continue
        vs_one = f"{t.seconds / one:.2f}x" if one else "-"
        vs_same = f"{t.seconds / same:.2f}x" if same else "-"
        lines.append(
            f"| {t.contender} | {t.threads} | {t.batch_size} | {t.dtype} "
            f"| {t.seconds:.3f} | {vs_one} | {vs_same} |"
        )
    return "\n".join(lines)


def bar_chart(timings: list[Timing], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timings = [t for t in timings if not math.isnan(t.seconds)]
    labels = [f"{t.contender}\n{t.threads}T b{t.batch_size}" for t in timings]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * len(timings)), 4.5))
    axes.bar(range(len(timings)), [t.seconds for t in timings], color="tab:blue")
    axes.set_xticks(range(len(timings)), labels, rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("seconds per epoch (48,000 samples)")
    axes.set_title(f"One training epoch, TwoLayerNet 784-128-10\n{cpu_model()}", fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def epoch_time_by_state(
    x: np.ndarray,
    y: np.ndarray,
    backend: str,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Seconds of one training epoch at the states the tables' runs pass through.

    Per-epoch time must not depend on the data or the hyper-parameters; the suspects are weights
    decayed towards zero (reg=1: subnormal numbers) and saturated outputs (the 50-epoch tuned
    run). Each state is reached by training, then one more epoch is timed (best of 2).
    """
    from ..models import TwoLayerNet
    from ..optim import SGD
    from ..train import train_epoch

    states = {
        "fresh init (lr 0.1, reg 1e-3)": (0.1, 1e-3, 0),
        "reg=1 after 10 epochs": (0.1, 1.0, 10),
        "tuned (lr 0.15, reg 1e-4) after 50 epochs": (0.15, 1e-4, 50),
    }
    rng = np.random.default_rng(0)
    seconds = {}
    for label, (lr, reg, warm_epochs) in states.items():
        model = TwoLayerNet(dtype=x.dtype, backend=backend)
        optimizer = SGD(lr, reg=reg)
        for _ in range(warm_epochs):
            train_epoch(model, optimizer, x, y, rng.permutation(len(x)), 64)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            train_epoch(model, optimizer, x, y, rng.permutation(len(x)), 64)
            times.append(time.perf_counter() - start)
        seconds[label] = min(times)
        log(f"  {backend} {label}: {seconds[label]:.3f} s")
    return seconds


def targets_table(timings: list[Timing], scaling: dict[int, float], backend: str = "fastmlp cpp") -> str:
    """The round's targets (issue 13) as same-run ratios of the batch-64 rows; '-' where a row is missing."""
    t = {(x.contender, x.threads): x.seconds for x in timings if x.batch_size == 64}

    def ratio(a: tuple[str, int], b: tuple[str, int]) -> str:
        num, den = t.get(a, math.nan), t.get(b, math.nan)
        return "-" if math.isnan(num) or math.isnan(den) else f"{num / den:.2f}x"

    jax = "JAX jit(lax.scan) epoch"
    alone = f"{scaling[2] / scaling[1]:.2f}x (alone)" if 1 in scaling and 2 in scaling else "-"
    rows = [
        ("cpp 1 thread <= 0.5x JAX pinned to 1 thread", ratio((backend, 1), (jax, 1))),
        ("cpp 2 threads <= 0.5x JAX on 2 threads", ratio((backend, 2), (jax, 2))),
        ("cpp 1 thread <= 0.5x the dense GEMM floor", ratio((backend, 1), ("dense GEMM floor", 1))),
        ("cpp 2 threads <= 0.55x cpp 1 thread", f"{ratio((backend, 2), (backend, 1))} (table); {alone}"),
        ("numba 1 thread <= 1.25x cpp", ratio(("fastmlp numba", 1), (backend, 1))),
        ("cpp 1 thread vs torch.compile 1 thread", ratio((backend, 1), ("PyTorch torch.compile", 1))),
    ]
    return "| target | measured |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


@dataclass(frozen=True)
class DefaultAgainstOne:
    """One backend's epoch at the default thread count against 1 thread, timed in pairs."""

    backend: str
    threads: int  # the default (threads.default_threads())
    default_seconds: float  # median over the pairs
    one_seconds: float  # median over the pairs
    ratio: float  # median of the pairs' default / 1-thread ratios


def default_against_one(
    x: np.ndarray,
    y: np.ndarray,
    *,
    backends: list[str],
    threads: int,
    pairs: int,
    batch_size: int = 64,
    log: Callable[[str], None] = print,
) -> list[DefaultAgainstOne]:
    """Time each backend's training epoch at ``threads`` and at 1 thread, in ``pairs`` pairs.

    The trainer's epoch as ``fastmlp train`` runs it, unpinned. Each pair is the two settings
    back to back (which goes first alternates), all backends in turn, so a pair's ratio compares
    epochs seconds apart: on a machine whose load changes (``--tenant``, other users) the
    median of the pairs' ratios is the robust figure; the medians of the seconds are shown too.
    One model per backend and setting, each warmed up with one epoch first.
    """
    order = np.random.default_rng(0).permutation(len(x))
    settings = (threads, 1)
    models = {(name, n): FastmlpTrainer(name, x, y, batch_size) for name in backends for n in settings}
    for (_, n), trainer in models.items():
        _set_threads(n)
        trainer.epoch(order)
    seconds: dict[tuple[str, int], list[float]] = {key: [] for key in models}
    ratios: dict[str, list[float]] = {name: [] for name in backends}
    for pair in range(pairs):
        for name in backends:
            took = {}
            for n in settings if pair % 2 == 0 else settings[::-1]:
                _set_threads(n)
                start = time.perf_counter()
                models[name, n].epoch(order)
                took[n] = time.perf_counter() - start
                seconds[name, n].append(took[n])
            ratios[name].append(took[threads] / took[1])
    _set_threads(1)
    rows = []
    for name in backends:
        row = DefaultAgainstOne(
            name,
            threads,
            float(np.median(seconds[name, threads])),
            float(np.median(seconds[name, 1])),
            float(np.median(ratios[name])),
        )
        log(
            f"  {name:6s} {threads} threads {row.default_seconds:.3f} s, 1 thread {row.one_seconds:.3f} s:"
            f" {row.ratio:.2f}x (median of {pairs} pairs)"
        )
        rows.append(row)
    return rows


# The issue-17 targets for default / 1 thread, by the number of busy processes beside the bench.
DEFAULT_THREADS_TARGETS = {0: 1.05, 1: 1.10}


def default_against_one_table(rows: list[DefaultAgainstOne], *, tenants: int, pairs: int, load: str) -> str:
    """Markdown: the conditions, then one row per backend with its ratio and the target."""
    target = DEFAULT_THREADS_TARGETS.get(tenants)
    beside = "nothing else started" if tenants == 0 else f"{tenants} CPU-bound process(es) started beside it"
    text = (
        f"Default threads against 1 thread ({beside}; load average {load} before the bench;"
        f" batch 64; median of {pairs} pairs of epochs, each pair back to back):\n\n"
        "| backend | default threads | default, s / epoch | 1 thread, s / epoch | default / 1 thread |"
        " target |\n|---|---|---|---|---|---|\n"
    )
    for row in rows:
        verdict = (
            "-" if target is None else f"<= {target:.2f}x: {'met' if row.ratio <= target else 'NOT met'}"
        )
        text += (
            f"| {row.backend} | {row.threads} | {row.default_seconds:.3f} | {row.one_seconds:.3f}"
            f" | {row.ratio:.2f}x | {verdict} |\n"
        )
    return text
