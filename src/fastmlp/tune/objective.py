"""One trial, as a worker runs it: open the study, draw a configuration, train, tell the result.

The objective is the best validation accuracy over the trial's epochs. Each epoch's validation
accuracy is reported to the pruner, which stops trials that fall below the median of earlier
trials at the same epoch. The trial's data has no test split (``x_test`` is one validation row):
the test set plays no part in any choice. A trial that diverges (NaN or infinite loss) is
recorded as pruned, with the reason in the trial's ``reason`` attribute; an error in training is
recorded as failed with its reason; neither stops the study.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from .space import SearchSpace

# Median pruning: a trial stops when its validation accuracy after epoch e is below the median
# of the finished trials' accuracies after epoch e. Not before 5 trials have finished (a median
# of fewer is noise) nor before epoch 3 (early epochs of slow-starting configurations that end
# up best, such as low learning rates with high momentum, look poor).
PRUNER_STARTUP_TRIALS = 5
PRUNER_WARMUP_EPOCHS = 3


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a study shares; stored with the study, so a resume can check it."""

    study: str
    storage: str
    base: dict[str, Any]
    space: SearchSpace
    seed: int
    backend: str
    dtype: str = "float32"
    data_dir: str | None = None
    allow_any_size: bool = False
    subset: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> dict[str, Any]:
        """The settings that define the study (not where it is stored, nor where the data is)."""
        return {
            "base": self.base,
            "space": self.space.to_dict(),
            "seed": self.seed,
            "backend": self.backend,
            "dtype": self.dtype,
            "subset": self.subset,
        }


@functools.lru_cache(maxsize=2)
def trial_data(
    data_dir: str | None, dtype: str, subset: tuple[tuple[str, int], ...] = (), allow_any_size: bool = False
) -> Any:
    """MNIST (or the first rows of each split, ``subset``) without its test split; cached per worker."""
    from ..data import load_mnist

    data = load_mnist(data_dir, dtype=dtype, quiet=True, allow_any_size=allow_any_size)
    rows = dict(subset)
    train, val = slice(rows.get("train")), slice(rows.get("val"))
    # train() wants a test split; one validation row stands in, so trials cannot look at test.
    return type(data)(
        data.x_train[train],
        data.y_train[train],
        data.x_val[val],
        data.y_val[val],
        data.x_val[:1],
        data.y_val[:1],
    )


def make_sampler(seed: int, ordinal: int) -> Any:
    """TPE, seeded per trial: each worker builds a fresh sampler, and the same seed in every
    worker would draw the same random start-up points."""
    import optuna

    # constant_liar (the default in Optuna >= 5, experimental before) stops parallel workers from
    # proposing the same point while the trials they would learn from are still running.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed * 1_000_003 + ordinal, constant_liar=True)


def make_pruner() -> Any:
    import optuna

    return optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS
    )


class _Diverged(Exception):
    pass


def run_trial(settings: TrialSettings, ordinal: int) -> dict[str, Any]:
    """Run one new trial of the study and return its summary (number, state, value, params, ...).

    ``ordinal`` numbers the trials this run has submitted; it only seeds the sampler.
    """
    import optuna

    from ..config import build_from_config
    from ..threads import thread_budget
    from ..train import EpochRecord, train
    from .storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # one trial per core: parallelism comes from running trials side by side
    with thread_budget(1):
        start = time.perf_counter()
        study = optuna.load_study(
            study_name=settings.study,
            storage=open_storage(settings.storage),
            sampler=make_sampler(settings.seed, ordinal),
            pruner=make_pruner(),
        )
        trial = study.ask()
        summary: dict[str, Any] = {"number": trial.number, "value": None, "reason": "", "epochs": 0}
        try:
            config = settings.space.suggest(trial, settings.base)
            data = trial_data(
                settings.data_dir,
                settings.dtype,
                tuple(sorted(settings.subset.items())),
                settings.allow_any_size,
            )
            model, optimizer, options = build_from_config(
                config, backend=settings.backend, dtype=settings.dtype
            )

            def report(record: EpochRecord) -> None:
                summary["epochs"] = record.epoch
                trial.report(record.val_acc, record.epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(
                        f"pruned after epoch {record.epoch}: val acc {record.val_acc:.4f} below the median"
                    )

            result = train(
                model, optimizer, data, seed=settings.seed, progress=False, on_epoch=report, **options
            )
            if result.interrupted:
                raise KeyboardInterrupt
            if result.diverged:
                raise _Diverged(result.message)
            value = max(record.val_acc for record in result.history)
            trial.set_user_attr("best_epoch", result.best_epoch)
            trial.set_user_attr("train_acc", result.history[result.best_epoch - 1].train_acc)
            state, summary["value"] = optuna.trial.TrialState.COMPLETE, value
        except optuna.TrialPruned as pruned:
            state, summary["reason"] = optuna.trial.TrialState.PRUNED, str(pruned)
        except _Diverged as diverged:
            # Pruned rather than failed: TPE learns from pruned trials (this region is bad), not failed ones.
            state, summary["reason"] = optuna.trial.TrialState.PRUNED, str(diverged)
        except KeyboardInterrupt:
            _finish(study, trial, optuna.trial.TrialState.FAIL, None, "interrupted", start)
            raise
        except Exception as error:  # a trial's error is the trial's result, not the study's end
            state, summary["reason"] = optuna.trial.TrialState.FAIL, f"{type(error).__name__}: {error}"
    _finish(study, trial, state, summary["value"], summary["reason"], start)
    summary.update(state=state.name, params=dict(trial.params), seconds=time.perf_counter() - start)
    return summary


def _finish(study: Any, trial: Any, state: Any, value: float | None, reason: str, start: float) -> None:
    seconds = time.perf_counter() - start
    trial.set_user_attr("seconds", seconds)
    if reason:
        trial.set_user_attr("reason", reason)
    study.tell(trial, value if value is not None and math.isfinite(value) else None, state=state)
