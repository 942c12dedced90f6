"""``fastmlp bench``: one training epoch per contender, timed in the same run, as a table of
seconds and ratios plus a bar chart.

Contenders: fastmlp's backends (the trainer's epoch, native when the backend has one), the
assignment-style NumPy epoch, PyTorch CPU eager when torch is installed, and the dense GEMM floor.
Machines are shared and noisy, so each contender is timed ``repeats`` times, interleaved with all
the others (thread counts included), and the table reports the minimum: the least-disturbed
measurement of the same work.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..machine import cpu_model
from . import peers


@dataclass(frozen=True)
class Timing:
    contender: str
    threads: int
    batch_size: int
    dtype: str
    seconds: float


def fastmlp_epoch_factory(
    backend: str, x: np.ndarray, y: np.ndarray, batch_size: int
) -> Callable[[np.ndarray], object]:
    """The trainer's training epoch on ``backend`` for a fresh TwoLayerNet (lr 0.1, reg 1e-3)."""
    from ..models import TwoLayerNet
    from ..optim import SGD
    from ..train import train_epoch

    model = TwoLayerNet(
        input_size=x.shape[1], hidden_size=128, num_classes=10, dtype=x.dtype, backend=backend
    )
    optimizer = SGD(learning_rate=0.1, reg=1e-3)
    return lambda order: train_epoch(model, optimizer, x, y, order, batch_size)


def contenders(
    x: np.ndarray, y: np.ndarray, batch_size: int, backends: list[str], with_torch: bool
) -> dict[str, Callable[[np.ndarray], object]]:
    found: dict[str, Callable[[np.ndarray], object]] = {
        f"fastmlp {name}": fastmlp_epoch_factory(name, x, y, batch_size) for name in backends
    }
    found["assignment-style NumPy"] = lambda order: peers.numpy_assignment_epoch(x, y, order, batch_size)
    if with_torch:
        epoch = peers.torch_epoch_factory(x, y)
        found["PyTorch eager"] = lambda order: epoch(order, batch_size)
    found["dense GEMM floor"] = lambda order: peers.gemm_floor_epoch(x, order, batch_size)
    return found


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _set_threads(n: int) -> None:
    from .. import set_num_threads

    set_num_threads(n)  # fastmlp's kernels and NumPy's BLAS (fastmlp.threads owns both)
    if torch_available():
        import torch

        torch.set_num_threads(n)


# Pause before each timed epoch. A contender's worker threads (OpenBLAS's, PyTorch's, OpenMP's)
# keep spinning for a while after its last call; timed on top of them, a 2-thread epoch shares its
# two cores with a third busy thread (benchmarks/thread_interference.py measures the difference).
SETTLE_SECONDS = 0.5

Epoch = Callable[[np.ndarray], object]
K = TypeVar("K", bound=Hashable)


def _interleaved_minimum(
    runs: dict[K, tuple[int, int, Epoch]], order: np.ndarray, repeats: int
) -> dict[K, float]:
    """Seconds of each run's epoch over ``order``: the minimum of ``repeats``, taken in turns.

    runs maps a key to (threads, batch size, epoch). Each epoch is warmed up first (JIT
    compilation, first touches); then every repeat times every run once, after SETTLE_SECONDS, so
    all runs are measured in the same minutes.
    """
    for n_threads, batch_size, epoch in runs.values():
        _set_threads(n_threads)
        epoch(order[: 4 * batch_size])
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for key, (n_threads, _, epoch) in runs.items():
            _set_threads(n_threads)
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            epoch(order)
            best[key] = min(best[key], time.perf_counter() - start)
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
    with_torch = torch_available()
    order = np.random.default_rng(0).permutation(len(x))
    dtype = str(x.dtype)
    runs: dict[tuple[str, int, int], tuple[int, int, Epoch]] = {}
    for n_threads in threads:
        for batch_size in batch_sizes:
            for name, epoch in contenders(x, y, batch_size, backends, with_torch).items():
                runs[name, n_threads, batch_size] = (n_threads, batch_size, epoch)
    timings = []
    for (name, n_threads, batch_size), seconds in _interleaved_minimum(runs, order, repeats).items():
        log(f"  {name:24s} threads={n_threads} batch={batch_size} {dtype}: {seconds:.3f} s")
        timings.append(Timing(name, n_threads, batch_size, dtype, seconds))
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
