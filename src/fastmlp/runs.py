"""One configuration trained end to end: what ``fastmlp train --json`` and ``fastmlp reproduce``
store for a run. The config builds the model and optimizer (``config.build_from_config``), the
trainer runs the protocol (``train.train``), and the record adds what makes the run repeatable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .build import build_info
from .config import build_from_config
from .models import Network
from .threads import get_num_threads
from .train import EpochRecord, TrainResult, train


@dataclass
class Run:
    """One configuration trained: the model (its best epoch's weights restored), the trainer's
    result, and the run's JSON-ready record (what ``fastmlp train --json`` and reproduce store)."""

    model: Network
    result: TrainResult
    record: dict[str, Any]


def run_config(
    config: dict[str, Any],
    data: Any,
    *,
    backend: str,
    dtype: str = "float32",
    seed: int = 0,
    progress: bool | None = False,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> Run:
    """Train the run an assignment-style ``config`` describes."""
    model, optimizer, train_options = build_from_config(config, backend=backend, dtype=dtype)
    result = train(model, optimizer, data, seed=seed, progress=progress, on_epoch=on_epoch, **train_options)
    record = {
        "config": config,
        "backend": backend,
        "dtype": dtype,
        "threads": get_num_threads(),
        "seed": seed,
        "build_info": build_info(),  # results are bit-identical only on the same build and CPU features
        **result.to_dict(),
    }
    return Run(model, result, record)
