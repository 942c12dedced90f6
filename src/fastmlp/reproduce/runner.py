"""Run the reproduction's training jobs: in local worker processes (joblib) or on a Dask cluster.

Each job trains one configuration with one shuffle seed on one compute thread and returns the
run's record (the same JSON object ``fastmlp train --json`` writes, plus its wall time). A job
depends only on its arguments, so the results are identical however the jobs are scheduled.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .tables import RunSpec

# --quick: the same configurations on the first rows of each split and few epochs.
QUICK_ROWS = {"train": 12000, "val": 2000, "test": 2000}
QUICK_EPOCHS = 3


@dataclass(frozen=True)
class Job:
    spec: RunSpec
    seed: int

    @property
    def name(self) -> str:
        return f"{self.spec.key}_seed{self.seed}"


@dataclass(frozen=True)
class RunOptions:
    """What every job of one reproduction shares: how it trains, and where the jobs run (in
    ``n_jobs`` local worker processes, or on the Dask scheduler at ``scheduler`` when given)."""

    backend: str
    dtype: str = "float32"
    quick: bool = False
    data_dir: str | None = None
    n_jobs: int = 1
    scheduler: str | None = None

    @property
    def job_arguments(self) -> tuple[str, str, bool, str | None]:
        """``run_job``'s arguments after the job."""
        return (self.backend, self.dtype, self.quick, self.data_dir)


def quick_spec(spec: RunSpec) -> RunSpec:
    from dataclasses import replace

    return replace(spec, epochs=min(spec.epochs, QUICK_EPOCHS))


@functools.lru_cache(maxsize=2)
def _dataset(data_dir: str | None, dtype: str, quick: bool) -> Any:
    # Cached per worker process: every job of a worker reuses one copy of MNIST.
    from ..data import load_mnist

    data = load_mnist(data_dir=data_dir, dtype=dtype)
    if not quick:
        return data
    return type(data)(
        data.x_train[: QUICK_ROWS["train"]],
        data.y_train[: QUICK_ROWS["train"]],
        data.x_val[: QUICK_ROWS["val"]],
        data.y_val[: QUICK_ROWS["val"]],
        data.x_test[: QUICK_ROWS["test"]],
        data.y_test[: QUICK_ROWS["test"]],
    )


def run_job(job: Job, backend: str, dtype: str, quick: bool, data_dir: str | None) -> dict[str, Any]:
    """Train one job on one thread and return its record."""
    from .. import set_num_threads
    from ..runs import run_config

    set_num_threads(1)
    data = _dataset(data_dir, dtype, quick)
    start = time.perf_counter()
    record = run_config(job.spec.to_config(), data, backend=backend, dtype=dtype, seed=job.seed).record
    record["wall_seconds"] = time.perf_counter() - start
    record["name"] = job.name
    record["spec_key"] = job.spec.key
    record["seed"] = job.seed
    return record


def run_jobs(
    jobs: Sequence[Job], options: RunOptions, on_done: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """Run every job and return their records in the order of ``jobs``.

    ``options.scheduler`` is the address of a Dask distributed scheduler (``tcp://host:8786``);
    without it the jobs run in ``options.n_jobs`` local worker processes (joblib's loky backend).
    """
    arguments = options.job_arguments
    if options.scheduler is not None:
        return _run_on_dask(jobs, arguments, options.scheduler, on_done)
    from joblib import Parallel, delayed

    if options.n_jobs == 1:
        records = []
        for job in jobs:
            records.append(run_job(job, *arguments))
            if on_done:
                on_done(records[-1])
        return records
    parallel = Parallel(n_jobs=options.n_jobs, return_as="generator")
    records = []
    # Longest jobs first keeps both workers busy until the end; results are re-ordered below.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].spec.epochs)
    for record in parallel(delayed(run_job)(jobs[i], *arguments) for i in order):
        records.append(record)
        if on_done:
            on_done(record)
    by_name = {record["name"]: record for record in records}
    return [by_name[job.name] for job in jobs]


def _run_on_dask(
    jobs: Sequence[Job],
    arguments: tuple[Any, ...],
    scheduler: str,
    on_done: Callable[[dict[str, Any]], None] | None,
) -> list[dict[str, Any]]:
    from .._cluster import connect, require_distributed

    as_completed = require_distributed("reproduce").as_completed
    with connect(scheduler, "reproduce") as client:
        futures = [
            client.submit(run_job, job, *arguments, key=f"fastmlp-{job.name}", pure=False) for job in jobs
        ]
        for future in as_completed(futures):
            if on_done:
                on_done(future.result())
        return [future.result() for future in futures]
