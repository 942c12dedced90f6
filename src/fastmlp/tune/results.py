"""What a study gives: its result, its error, its trial counts (read by the runner and the report,
so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import FastmlpError


class TuneError(FastmlpError, RuntimeError):
    """The study cannot go on or cannot give a result; the message says why."""


@dataclass
class TuneResult:
    study: str
    storage: str
    counts: dict[str, int]
    best: dict[str, Any]
    top: list[dict[str, Any]]
    wall_seconds: float
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "storage": self.storage,
            "counts": self.counts,
            "best": self.best,
            "top": self.top,
            "wall_seconds": self.wall_seconds,
            "files": self.files,
        }


def trial_counts(study: Any) -> dict[str, int]:
    """The study's trials by state: COMPLETE, PRUNED, FAIL, RUNNING (and any other Optuna names)."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, "RUNNING": 0}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts
