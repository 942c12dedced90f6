"""``fastmlp tune``: the study runner. Open or resume the study, run the trials, evaluate the best.

Resume: the study (its trials, their per-epoch validation accuracies) lives in the storage, so
running the same command again continues it. ``trials`` is the study's total: trials that
completed or were pruned count, and only the rest are run. Trials left running by an interrupted
run (Ctrl-C, a crash, a reboot) are marked failed ("interrupted") and do not count; they are the
only work lost. One ``fastmlp tune`` at a time drives a study (its workers are its own).

At the end, the best completed trial (highest validation accuracy) is trained again from its
configuration with the same seed, backend and one thread, which reproduces it exactly; this
model is evaluated on the test split, once, and saved with a YAML config for ``fastmlp train``.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _validate
from .._cluster import require_distributed
from ..config import validate
from ..errors import FastmlpTypeError, FastmlpValueError, MissingDependencyError
from ..progress import progress_bar
from .executors import make_executor
from .objective import TrialSettings, run_trial
from .results import TuneError, TuneResult, trial_counts
from .space import DEFAULT_SPACE, SearchSpace
from .storage import default_url, open_storage

OPTUNA_HINT = 'fastmlp tune needs Optuna: pip install "fastmlp[tune]"'
DEFAULT_EPOCHS = 20
FINISHED = ("COMPLETE", "PRUNED")
MAX_FAILURES_IN_A_ROW = 3  # an error that repeats is the setup's, not one trial's


class TuneInterrupted(KeyboardInterrupt):
    """Ctrl-C: the message says how many trials are stored and how to resume."""


def require_optuna() -> Any:
    try:
        import optuna
    except ImportError as error:
        raise MissingDependencyError(OPTUNA_HINT) from error
    return optuna


def _open_study(settings: TrialSettings) -> Any:
    """Create the study, or load it and check it was made with the same settings."""
    optuna = require_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # fastmlp prints its own progress
    storage = open_storage(settings.storage)
    study = optuna.create_study(
        study_name=settings.study, storage=storage, direction="maximize", load_if_exists=True
    )
    wanted = json.loads(json.dumps(settings.fingerprint()))
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", wanted)
    elif stored != wanted:
        different = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
        raise TuneError(
            f"study {settings.study!r} in {settings.storage} was made with other settings "
            f"({', '.join(different)} differ); use the same options to resume it, or a new --study NAME"
        )
    return study


def _fail_interrupted(study: Any) -> int:
    """Mark trials left running by an earlier, interrupted run as failed, through Optuna's public
    ``Study.tell`` (by trial number: their ``Trial`` objects died with that run); the numbers are
    kept in the study's ``interrupted_trials`` attribute. Returns how many."""
    optuna = require_optuna()
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    if stale:
        earlier = list(study.user_attrs.get("interrupted_trials", []))
        study.set_user_attr("interrupted_trials", earlier + [t.number for t in stale])
    return len(stale)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _Progress:
    """Trials done, best so far, ETA: a tqdm bar on a terminal, else one line per trial."""

    def __init__(
        self, total: int, done: int, best: float, deadline: float | None, log: Callable[[str], None]
    ):
        self.total, self.done, self.best, self.deadline, self.log = total, done, best, deadline, log
        self.start, self.finished_here = time.monotonic(), 0
        self.bar: Any = progress_bar(total, "trials", "trial", initial=done)

    def eta(self, running: int) -> float:
        if not self.finished_here:
            return math.nan
        per_trial = (time.monotonic() - self.start) / self.finished_here
        eta = per_trial * (self.total - self.done)
        if self.deadline is not None:
            eta = min(eta, max(0.0, self.deadline - time.monotonic()))
        return eta

    def update(self, summary: dict[str, Any], running: int) -> None:
        if summary["state"] in FINISHED:
            self.done += 1
            self.finished_here += 1
        if summary["value"] is not None and summary["value"] > self.best:
            self.best = summary["value"]
        eta = self.eta(running)
        best = f"{self.best:.4f}" if self.best >= 0 else "-"
        if self.bar is not None:
            self.bar.update(1 if summary["state"] in FINISHED else 0)
            self.bar.set_postfix(best=best, last=summary["state"].lower())
            return
        value = f"val {summary['value']:.4f}" if summary["value"] is not None else summary["reason"]
        params = ", ".join(
            f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary["params"].items()
        )
        self.log(
            f"trial {summary['number']} {summary['state'].lower()}: {value} ({params}; "
            f"{summary['seconds']:.1f} s)"
            f" | {self.done}/{self.total} done, best {best}, ETA {'?' if math.isnan(eta) else _duration(eta)}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def tune(
    out_dir: str | Path = "reports",
    *,
    base: dict[str, Any] | None = None,
    space: SearchSpace = DEFAULT_SPACE,
    trials: int = 100,
    timeout: float | None = None,
    epochs: int = DEFAULT_EPOCHS,
    study: str = "fastmlp",
    storage: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    seed: int = 0,
    backend: str | None = None,
    dtype: str = "float32",
    data_dir: str | None = None,
    allow_any_size: bool = False,
    subset: dict[str, int] | None = None,
    command: str = "fastmlp tune",
    log: Callable[[str], None] = print,
) -> TuneResult:
    """Run (or resume) a study of ``trials`` trials in total, then evaluate and save the best.

    ``base``: the assignment-style configuration whose knobs ``space`` does not vary (default:
    the assignment's defaults, a TwoLayerNet); ``epochs`` is the per-trial budget. Trials run in
    ``jobs`` local processes (default one per core) or on the Dask cluster at ``scheduler``.
    ``timeout`` (seconds) stops starting new trials. ``subset`` ({"train": rows, "val": rows})
    tunes on the first rows of each split. ``allow_any_size`` accepts files in ``data_dir`` whose
    sizes differ from MNIST's (as ``fastmlp.data.load_mnist``). Writes TUNING.md, the best model
    (.npz), its YAML config and the figures into ``out_dir``.
    """
    from .. import default_backend, get_backend
    from ..threads import max_threads

    require_optuna()
    wall_start = time.monotonic()
    trials, epochs = _validate.positive_int("trials", trials), _validate.positive_int("epochs", epochs)
    seed = _validate.seed("seed", seed)
    if jobs is not None:
        jobs = _validate.positive_int("jobs", jobs)
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise FastmlpValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(study, str) or not study or "/" in study:
        raise FastmlpValueError(f"study must be a non-empty name without '/', got {study!r}")
    if not isinstance(space, SearchSpace):
        raise FastmlpTypeError(f"space must be a SearchSpace, got {type(space).__name__}")
    if scheduler is not None:
        require_distributed("tune")  # before the study is created
    backend = default_backend() if backend is None else backend
    get_backend(backend)
    config = validate(base if base is not None else {})
    config["Train"]["epochs"] = epochs
    config["Train"].pop("debug", None)
    space.check_model(config["Model"]["type"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = TrialSettings(
        study=study,
        storage=storage or default_url(out, study),
        base=config,
        space=space,
        seed=seed,
        backend=backend,
        dtype=dtype,
        data_dir=None if data_dir is None else str(data_dir),
        allow_any_size=bool(allow_any_size),
        subset=dict(subset or {}),
    )
    optuna_study = _open_study(settings)
    stale = _fail_interrupted(optuna_study)
    counts = trial_counts(optuna_study)
    done = counts["COMPLETE"] + counts["PRUNED"]
    remaining = max(0, trials - done)
    executor = None
    if remaining:
        executor = make_executor(jobs or max_threads(), scheduler, jobs is not None)
    where = (
        f"Dask scheduler {scheduler}"
        if scheduler
        else f"{executor.workers if executor else 0} local process(es)"
    )
    log(
        f"tune: study {study!r} in {settings.storage}: {done} trials done"
        + (f", {stale} interrupted marked failed" if stale else "")
        + (f"; running {remaining} more on {where}" if remaining else f"; the budget of {trials} is reached")
    )
    best_value = optuna_study.best_value if counts["COMPLETE"] else -1.0
    deadline = None if timeout is None else time.monotonic() + timeout
    if executor is not None:
        plan = _Plan(settings, remaining, first_number=sum(counts.values()), deadline=deadline)
        _run_trials(executor, plan, _Progress(trials, done, best_value, deadline, log), optuna_study)
    from .report import finish

    return finish(optuna_study, settings, out, command=command, wall_start=wall_start, log=log)


class _CtrlC:
    """Ctrl-C as a flag as well as the usual KeyboardInterrupt. Python drops an exception raised
    inside a garbage-collection callback (SQLAlchemy registers some), so a Ctrl-C that lands there
    would be lost; the runner checks the flag after every trial as well."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():  # signals go to the main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


@dataclass(frozen=True)
class _Plan:
    """The trials this run adds: ``remaining`` more finished ones, numbered from ``first_number``,
    none started after ``deadline`` (time.monotonic)."""

    settings: TrialSettings
    remaining: int
    first_number: int
    deadline: float | None


def _run_trials(executor: Any, plan: _Plan, progress: _Progress, study: Any) -> None:
    try:
        with _CtrlC() as ctrl_c:
            _submit_and_collect(executor, plan, progress, ctrl_c)
    except KeyboardInterrupt:
        executor.close(cancel=True)
        progress.close()
        _fail_interrupted(study)  # trials whose worker was killed before it could say so
        counts = trial_counts(study)
        raise TuneInterrupted(
            f"interrupted: {counts['COMPLETE'] + counts['PRUNED']} finished trials are stored in "
            f"{plan.settings.storage}; run the same command to resume (only the running trials are lost)"
        ) from None
    except BaseException:
        executor.close(cancel=True)
        progress.close()
        raise
    executor.close()
    progress.close()


def _submit_and_collect(executor: Any, plan: _Plan, progress: _Progress, ctrl_c: _CtrlC) -> None:
    pending: set[Any] = set()
    submitted = finished = failed_in_a_row = 0
    while True:
        if ctrl_c.pressed:
            raise KeyboardInterrupt
        # At most one trial per worker in flight; failed trials do not count and are redone.
        while (
            len(pending) < executor.workers
            and finished + len(pending) < plan.remaining
            and (plan.deadline is None or time.monotonic() < plan.deadline)
        ):
            pending.add(executor.submit(run_trial, plan.settings, plan.first_number + submitted))
            submitted += 1
        if not pending:
            return
        for future in executor.wait(pending):
            pending.discard(future)
            try:
                summary = future.result()
            except Exception as error:  # the worker itself died (killed, out of memory)
                raise TuneError(f"a trial worker failed: {type(error).__name__}: {error}") from error
            progress.update(summary, len(pending))
            if summary["state"] in FINISHED:
                finished += 1
                failed_in_a_row = 0
                continue
            failed_in_a_row += 1
            if failed_in_a_row >= MAX_FAILURES_IN_A_ROW:
                raise TuneError(f"{failed_in_a_row} trials in a row failed; the last: {summary['reason']}")
