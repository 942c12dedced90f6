"""``fastmlp bench``'s report: bench.md (the default threads against 1 thread per backend, the
timing table, the targets as same-run ratios, the
accuracy check, the thread scaling of the default backend, one epoch at the states the tables'
runs pass through) and bench.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .epochs import Timing, accuracy_table, bar_chart, markdown_table, targets_table


def bench_markdown(
    timings: list[Timing],
    scaling: dict[int, float],
    states: dict[str, float],
    accuracies: Any,
    *,
    backend: str,
    build: str,
    repeats: int,
    defaults: str = "",
) -> str:
    """The whole report as Markdown; ``scaling`` is seconds by thread count for ``backend`` alone
    (timed ``repeats`` times each), ``states`` seconds by training state, ``accuracies`` what
    ``epochs.same_accuracy`` measured; ``defaults`` the table of ``epochs.default_against_one_table``."""
    fewest = min(scaling)
    one = scaling[fewest]
    text = f"Build: {build}\n\n" + (f"{defaults}\n" if defaults else "") + markdown_table(timings)
    text += "\n\nTargets (same-run ratios, batch 64):\n\n" + targets_table(timings, scaling)
    text += "\n\nAccuracy check, every trainable contender after 1 epoch from the same init:\n\n"
    text += accuracy_table(accuracies)
    text += (
        f"\n\nThread scaling: {backend} alone, batch 64, the thread counts alternating"
        f" ({repeats} repeats each, minimum):\n\n"
        f"| threads | seconds / epoch | vs {fewest} thread{'s' if fewest > 1 else ''} |\n|---|---|---|\n"
        + "".join(f"| {n} | {seconds:.3f} | {seconds / one:.2f}x |\n" for n, seconds in scaling.items())
    )
    spread = max(states.values()) / min(states.values())
    text += (
        f"\n\nOne epoch ({backend}, 1 thread, batch 64) at the states the tables' runs pass through:\n\n"
        + "| state | seconds |\n|---|---|\n"
        + "".join(f"| {label} | {seconds:.3f} |\n" for label, seconds in states.items())
        + f"\nSlowest / fastest: {spread:.2f}x"
    )
    return text


def write_bench(out: Path, timings: list[Timing], markdown: str) -> tuple[Path, Path]:
    """Write ``markdown`` to OUT/bench.md and the bar chart of ``timings`` to OUT/bench.png."""
    out.mkdir(parents=True, exist_ok=True)
    table, chart = out / "bench.md", out / "bench.png"
    table.write_text(markdown + "\n", encoding="utf-8")
    bar_chart(timings, chart)
    return table, chart
