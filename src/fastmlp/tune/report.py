"""The end of ``fastmlp tune``: the best trial retrained and tested once, saved, and reported.

Writes into the output directory: ``TUNING.md`` (top 10 trials, the best configuration, its test
accuracy next to the write-up's tuned 0.9735, wall time), ``<study>_best.npz`` (the model),
``<study>_best.yaml`` (its configuration: ``fastmlp train --config`` retrains it) and three
figures from Optuna's matplotlib visualisations: the optimisation history, the parameter
importances and the learning rate x reg contour.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .objective import TrialSettings
from .results import TuneError, TuneResult, trial_counts

WRITEUP_TUNED = {"val_acc": 0.9729, "test_acc": 0.9735}  # the write-up's Table 3
TOP = 10


def _trial_row(trial: Any) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name,
        "val_acc": trial.value,
        "epochs": len(trial.intermediate_values),
        "seconds": trial.user_attrs.get("seconds"),
        "params": dict(trial.params),
        "reason": trial.user_attrs.get("reason", ""),
    }


def _retrain_best(trial: Any, settings: TrialSettings) -> tuple[dict[str, Any], Any, Any]:
    """Train the best trial's configuration again (same seed, backend, one thread) on the full
    data; returns the configuration, the model and the training result (with its test accuracy)."""
    import optuna

    from ..config import build_from_config
    from ..data import load_mnist
    from ..threads import thread_budget
    from ..train import train
    from .objective import trial_data

    config = settings.space.suggest(optuna.trial.FixedTrial(trial.params), settings.base)
    data = load_mnist(
        settings.data_dir, dtype=settings.dtype, quiet=True, allow_any_size=settings.allow_any_size
    )
    if settings.subset:  # the trials' rows, with the real test split for the one evaluation
        tuned = trial_data(
            settings.data_dir, settings.dtype, tuple(sorted(settings.subset.items())), settings.allow_any_size
        )
        data = data._replace(
            x_train=tuned.x_train, y_train=tuned.y_train, x_val=tuned.x_val, y_val=tuned.y_val
        )
    with thread_budget(1):  # as the trials ran, so the retrained model is the trial's
        model, optimizer, options = build_from_config(config, backend=settings.backend, dtype=settings.dtype)
        result = train(model, optimizer, data, seed=settings.seed, progress=False, **options)
    return config, model, result


def _figures(study: Any, out: Path, name: str) -> dict[str, str]:
    """The three Optuna figures; a figure that needs more trials than there are is skipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as vis

    params = set().union(*(t.params for t in study.get_trials(deepcopy=False)))
    plots: dict[str, Callable[[], Any]] = {
        "history": lambda: vis.plot_optimization_history(study),
        "importances": lambda: vis.plot_param_importances(study),
    }
    if {"learning_rate", "reg"} <= params:
        plots["contour"] = lambda: vis.plot_contour(study, params=["learning_rate", "reg"])
    written = {}
    for key, plot in plots.items():
        path = out / f"{name}_{key}.png"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)  # e.g. "too few trials" from the plots
            try:
                axes = plot()
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue  # e.g. importances of a single completed trial
        figure: Any = axes.ravel()[0].figure if hasattr(axes, "ravel") else axes.figure
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written[key] = str(path)
    return written


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def write_markdown(
    path: Path,
    *,
    settings: TrialSettings,
    counts: dict[str, int],
    top: list[dict[str, Any]],
    best: dict[str, Any],
    config_yaml: str,
    files: dict[str, str],
    wall_seconds: float,
    trial_seconds: float,
    command: str,
) -> None:
    names = settings.space.names
    lines = [
        "# Tuning report",
        "",
        f"Made by `{command}`: study `{settings.study}` in `{settings.storage}`, backend {settings.backend}, "
        f"{settings.dtype}, shuffle seed {settings.seed}, "
        f"{settings.base['Train']['epochs']} epochs per trial at most, "
        f"base model {settings.base['Model']['type']}"
        + (f", data subset {settings.subset}" if settings.subset else "")
        + ".",
        "",
        f"Trials: {counts['COMPLETE']} complete, {counts['PRUNED']} pruned, {counts['FAIL']} failed. "
        f"Wall time of this run: {wall_seconds:.0f} s "
        f"(trials of the whole study: {trial_seconds:.0f} s of worker time).",
        "",
        "Selection is by validation accuracy only; the test split is used once, on the best trial's model.",
        "",
        "## Best configuration against the write-up",
        "",
        "| | write-up, tuned (Table 3) | this study's best |",
        "|---|---|---|",
        f"| Validation accuracy | {WRITEUP_TUNED['val_acc']:.4f} "
        f"| {best['val_acc']:.4f} (trial {best['number']}) |",
        f"| Test accuracy | {WRITEUP_TUNED['test_acc']:.4f} | {best['test_acc']:.4f} |",
        "",
        "Retrained from its configuration for the test evaluation: validation accuracy "
        f"{best['retrained_val_acc']:.4f}"
        + (
            " (identical to the trial's)."
            if best["retrained_val_acc"] == best["val_acc"]
            else " (differs from the trial's!)."
        ),
        "",
        "```yaml",
        config_yaml.rstrip(),
        "```",
        "",
        f"Retrain it with `fastmlp train --config {files.get('config', 'best.yaml')} --seed {settings.seed} "
        f"--backend {settings.backend} --threads 1`.",
        "",
        f"## Top {TOP} trials (by validation accuracy)",
        "",
        "| trial | val acc | epochs | " + " | ".join(names) + " | seconds |",
        "|---" * (len(names) + 4) + "|",
    ]
    for row in top:
        lines.append(
            f"| {row['number']} | {row['val_acc']:.4f} | {row['epochs']} | "
            + " | ".join(_format(row["params"].get(n, "")) for n in names)
            + f" | {row['seconds'] or 0:.1f} |"
        )
    lines += ["", "## Search space", ""]
    lines += [f"- `{p.name}`: {p.describe()}" for p in settings.space.params]
    figures = [key for key in ("history", "importances", "contour") if key in files]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{key}]({Path(files[key]).name})" for key in figures]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def finish(
    study: Any, settings: TrialSettings, out: Path, *, command: str, wall_start: float, log: Any
) -> TuneResult:
    """Evaluate the best trial, write every output file, return the TuneResult."""
    import optuna
    import yaml

    from ..models import save_model

    counts = trial_counts(study)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise TuneError(
            f"no trial of study {settings.study!r} completed "
            f"({counts['PRUNED']} pruned, {counts['FAIL']} failed); "
            "see the reasons with optuna or run more trials"
        )
    ranked = sorted(complete, key=lambda t: (-t.value, t.number))
    best_trial = ranked[0]
    log(
        f"tune: best trial {best_trial.number} (val acc {best_trial.value:.4f}); "
        "training it again for the test split"
    )
    config, model, result = _retrain_best(best_trial, settings)
    name = settings.study
    files = {"model": str(out / f"{name}_best.npz"), "config": str(out / f"{name}_best.yaml")}
    save_model(model, files["model"])
    config_yaml = (
        f"# Best trial {best_trial.number} of study {name!r} (fastmlp tune); retrain with\n"
        f"# fastmlp train --config {files['config']} --seed {settings.seed} "
        f"--backend {settings.backend} --threads 1\n" + yaml.safe_dump(dict(config), sort_keys=False)
    )
    Path(files["config"]).write_text(config_yaml, encoding="utf-8")
    files.update(_figures(study, out, name))
    files["report"] = str(out / "TUNING.md")
    best = {
        "number": best_trial.number,
        "val_acc": best_trial.value,
        "retrained_val_acc": result.best["val_acc"],
        "test_acc": result.test_acc,
        "best_epoch": result.best_epoch,
        "params": dict(best_trial.params),
        "config": config,
    }
    top = [_trial_row(t) for t in ranked[:TOP]]
    wall = time.monotonic() - wall_start
    trial_seconds = sum(t.user_attrs.get("seconds", 0.0) for t in study.get_trials(deepcopy=False))
    write_markdown(
        Path(files["report"]),
        settings=settings,
        counts=counts,
        top=top,
        best=best,
        config_yaml=config_yaml,
        files=files,
        wall_seconds=wall,
        trial_seconds=trial_seconds,
        command=command,
    )
    log(
        f"tune: best trial {best_trial.number}: val acc {best_trial.value:.4f}, "
        f"test acc {result.test_acc:.4f} (write-up tuned: test {WRITEUP_TUNED['test_acc']}); "
        f"{wall:.0f} s; wrote {files['report']}"
    )
    return TuneResult(
        study=name,
        storage=settings.storage,
        counts=counts,
        best=best,
        top=top,
        wall_seconds=wall,
        files=files,
    )
