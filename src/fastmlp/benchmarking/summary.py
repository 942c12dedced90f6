"""One summary of a ``pytest benchmarks --benchmark-only --benchmark-json=FILE`` run: a Markdown
table and one figure, instead of a table per benchmark group.

Every figure is a ratio to the NumPy reference measured in the same run: a kernel's time on
the NumPy backend divided by its time on another backend (above 1: faster than NumPy), and the
same for the whole epochs. Times are each benchmark's minimum over its rounds, the least
disturbed measurement on a shared machine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FastmlpValueError

BACKENDS = ("numpy", "numba", "cpp")
REFERENCE = "numpy"


@dataclass(frozen=True)
class Summary:
    dtype: str
    batch: int
    kernels: dict[str, dict[str, float]]  # kernel -> backend -> seconds (minimum)
    epochs: dict[int, dict[str, float]]  # threads -> contender ("fastmlp cpp", "peer torch") -> seconds
    epoch_rows: int | None
    machine: str


def load_results(path: str | Path) -> dict[str, Any]:
    """The JSON pytest-benchmark wrote; ValueError naming the file if it is not one."""
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FastmlpValueError(f"{path}: not a readable pytest-benchmark JSON file ({error})") from error
    if not isinstance(results, dict) or not isinstance(results.get("benchmarks"), list):
        raise FastmlpValueError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    return results


def summarise(results: dict[str, Any], dtype: str = "float32", batch: int = 64) -> Summary:
    """The kernel and epoch timings at ``dtype`` and ``batch`` out of a pytest-benchmark run."""
    kernels: dict[str, dict[str, float]] = {}
    epochs: dict[int, dict[str, float]] = {}
    rows = None
    for bench in results["benchmarks"]:
        info, seconds = bench.get("extra_info", {}), float(bench["stats"]["min"])
        if info.get("dtype") != dtype or info.get("batch") != batch:
            continue
        if "kernel" in info:
            kernels.setdefault(info["kernel"], {})[info["backend"]] = seconds
        elif "rows" in info:
            contender = f"fastmlp {info['backend']}" if "backend" in info else f"peer {info['peer']}"
            epochs.setdefault(int(info["threads"]), {})[contender] = seconds
            rows = int(info["rows"])
    if not kernels and not epochs:
        raise FastmlpValueError(f"the results hold no benchmark at dtype {dtype} and batch {batch}")
    machine = results.get("machine_info", {})
    cpu = machine.get("cpu", {}).get("brand_raw") or machine.get("processor") or "unknown CPU"
    return Summary(dtype, batch, kernels, dict(sorted(epochs.items())), rows, str(cpu))


def _ratio(reference: float | None, seconds: float | None) -> float:
    return reference / seconds if reference and seconds else math.nan


def _times(ratio: float) -> str:
    return "-" if math.isnan(ratio) else f"{ratio:.2f}x"


def markdown(summary: Summary) -> str:
    """Backend x kernel, then the epochs: time and ratio to the NumPy reference."""
    others = [b for b in BACKENDS if b != REFERENCE]
    lines = [
        f"Kernels at batch {summary.batch}, {summary.dtype}, 1 thread; time is the minimum over the rounds, "
        f"ratio = NumPy time / backend time (above 1: faster than NumPy). {summary.machine}.",
        "",
        "| kernel | numpy (µs) | " + " | ".join(f"{b} (µs) | {b} vs numpy" for b in others) + " |",
        "|---" * (2 + 2 * len(others)) + "|",
    ]
    for kernel, times in summary.kernels.items():
        reference = times.get(REFERENCE)
        cells = [f"{1e6 * reference:.1f}" if reference else "-"]
        for backend in others:
            seconds = times.get(backend)
            cells += [f"{1e6 * seconds:.1f}" if seconds else "-", _times(_ratio(reference, seconds))]
        lines.append(f"| {kernel} | " + " | ".join(cells) + " |")
    if summary.epochs:
        rows = f"{summary.epoch_rows:,} rows" if summary.epoch_rows else "rows"
        lines += [
            "",
            f"Training epochs of {rows}, batch {summary.batch}, {summary.dtype}; "
            "ratio = fastmlp numpy time / time.",
            "",
            "| contender | "
            + " | ".join(f"{n} thread{'s' if n > 1 else ''} (ms) | vs numpy" for n in summary.epochs)
            + " |",
            "|---" * (1 + 2 * len(summary.epochs)) + "|",
        ]
        contenders = sorted({c for times in summary.epochs.values() for c in times})
        for contender in contenders:
            cells = []
            for times in summary.epochs.values():
                seconds = times.get(contender)
                cells += [
                    f"{1e3 * seconds:.1f}" if seconds else "-",
                    _times(_ratio(times.get(f"fastmlp {REFERENCE}"), seconds)),
                ]
            lines.append(f"| {contender} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(summary: Summary, path: str | Path) -> None:
    """One PNG: speed-up over NumPy per kernel (left) and per epoch contender (right), log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    def ratio_axis(axes: Any) -> None:
        # Log scale with plain labels (0.5x, 1x, 2x) instead of matplotlib's crowded 10^k minor ticks.
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(FixedLocator([0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.axvline(1.0, color="black", linewidth=0.8)
        axes.grid(axis="x", alpha=0.3)

    others = [b for b in BACKENDS if b != REFERENCE]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 6), gridspec_kw={"width_ratios": [3, 2]})
    names = list(summary.kernels)
    height = 0.8 / len(others)
    for i, backend in enumerate(others):
        ratios = [_ratio(summary.kernels[k].get(REFERENCE), summary.kernels[k].get(backend)) for k in names]
        left.barh([y + i * height for y in range(len(names))], ratios, height, label=backend)
    left.set_yticks([y + height * (len(others) - 1) / 2 for y in range(len(names))], names, fontsize=8)
    left.invert_yaxis()
    ratio_axis(left)
    left.set_xlabel("speed-up over the NumPy backend (log scale)")
    left.set_title(f"Kernels, batch {summary.batch}, {summary.dtype}, 1 thread", fontsize=10)
    left.legend(fontsize=8)

    contenders = sorted({c for times in summary.epochs.values() for c in times})
    threads = list(summary.epochs)
    height = 0.8 / max(1, len(threads))
    for i, n in enumerate(threads):
        times = summary.epochs[n]
        ratios = [_ratio(times.get(f"fastmlp {REFERENCE}"), times.get(c)) for c in contenders]
        right.barh(
            [y + i * height for y in range(len(contenders))],
            ratios,
            height,
            label=f"{n} thread{'s' if n > 1 else ''}",
        )
    right.set_yticks(
        [y + height * (len(threads) - 1) / 2 for y in range(len(contenders))], contenders, fontsize=8
    )
    right.invert_yaxis()
    ratio_axis(right)
    right.set_xlabel("speed-up over fastmlp numpy at the same threads")
    rows = f"{summary.epoch_rows:,} rows" if summary.epoch_rows else "epochs"
    right.set_title(f"Training epoch of {rows}, batch {summary.batch}", fontsize=10)
    if threads:
        right.legend(fontsize=8)
    fig.suptitle(
        f"fastmlp benchmarks: ratios to the NumPy reference, same run\n{summary.machine}", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
