"""``fastmlp reproduce``: every table and learning curve of the assignment's write-up, side by side
with the original values."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import _validate
from .._cluster import require_distributed
from ..progress import progress_bar, ticking, write
from .compare import Records
from .report import write_markdown, write_overviews, write_run_files
from .runner import QUICK_EPOCHS, QUICK_ROWS, Job, RunOptions, quick_spec, run_jobs
from .tables import unique_runs

__all__ = ["reproduce"]


def reproduce(
    out_dir: str | Path = "reports",
    *,
    backend: str | None = None,
    dtype: str = "float32",
    seed: int = 0,
    seeds: int = 1,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    quick: bool = False,
    data_dir: str | None = None,
    command: str = "fastmlp reproduce",
    log: Callable[[str], None] = print,
    progress: bool | None = None,
) -> Records:
    """Train every configuration behind the tables and write the report into ``out_dir``.

    Runs ``seeds`` shuffle seeds per configuration (``seed``, ``seed + 1``, ...), in ``n_jobs``
    local processes (default: one per core) or on the Dask cluster at ``scheduler``.
    Returns the run records grouped by configuration (``compare.verdict`` judges them).
    ``log`` receives the start line, one line per finished run and the closing line; ``progress``
    draws a bar of runs done, elapsed time and ETA (None: only when stderr is a terminal).
    """
    from .. import default_backend, get_backend
    from ..threads import max_threads

    backend = default_backend() if backend is None else backend
    get_backend(backend)  # fail early, with the list of valid names, before any worker starts
    seed, seeds = _validate.seed("seed", seed), _validate.positive_int("seeds", seeds)
    if n_jobs is None:
        n_jobs = max_threads()
    n_jobs = _validate.positive_int("jobs", n_jobs)
    if scheduler is not None:
        require_distributed("reproduce")  # before any output is written

    options = RunOptions(backend, dtype, quick, data_dir, n_jobs, scheduler)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Jobs run the (possibly shortened) specs; records stay keyed by the table's full configuration.
    full_key = {}
    specs = []
    for spec in unique_runs():
        run = quick_spec(spec) if quick else spec
        full_key[run.key] = spec.key
        specs.append(run)
    seed_list = list(range(seed, seed + seeds))
    jobs = [Job(spec, s) for spec in specs for s in seed_list]
    workers = (
        f"on the Dask cluster at {scheduler}"
        if scheduler
        else f"{n_jobs} worker process{'es' if n_jobs > 1 else ''} of 1 thread"
    )
    seeds_text = "1 shuffle seed" if seeds == 1 else f"{seeds} shuffle seeds"
    log(
        f"reproduce: {len(jobs)} runs ({len(specs)} configurations x {seeds_text}), "
        f"{backend} backend, {workers}"
    )
    if quick:
        log(
            f"reproduce: --quick: the first {QUICK_ROWS['train']:,} training rows, "
            f"at most {QUICK_EPOCHS} epochs"
        )

    bar = progress_bar(len(jobs), "runs", "run", progress)

    def done(record: dict[str, Any]) -> None:
        best = record["best"]
        line = (
            f"  {record['name']}: val {best['val_acc']:.4f} test {best['test_acc']:.4f}"
            f" ({record['wall_seconds']:.1f} s)"
        )
        if bar is None:
            log(line)
            return
        # joblib and Dask report runs as they finish, not as they start: the bar names the last one.
        bar.set_postfix_str(f"last: {record['name']}", refresh=False)
        bar.update(1)
        write(line)

    start = time.perf_counter()
    try:
        with ticking(bar):
            results = run_jobs(jobs, options, on_done=done)
    finally:
        if bar is not None:
            bar.close()
    total = time.perf_counter() - start

    records: Records = {}
    for record in results:
        records.setdefault(full_key[record["spec_key"]], []).append(record)
        write_run_files(out, record, plot=record["seed"] == seed)
    write_overviews(out, records)
    write_markdown(
        out / "REPRODUCTION.md", records, options, seeds=seed_list, total_seconds=total, command=command
    )
    log(f"reproduce: wrote {out / 'REPRODUCTION.md'} in {total:.1f} s")
    return records
