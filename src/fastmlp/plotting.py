"""Learning-curve figures (matplotlib, no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import FastmlpValueError


def plot_learning_curves(history: Sequence[Any], path: str | os.PathLike[str], title: str = "") -> Path:
    """Two panels over epochs: loss (train, validation) and accuracy (train, validation).

    ``history``: per-epoch records with ``epoch, train_loss, val_loss, train_acc, val_acc``
    (dicts or objects). Writes a PNG to ``path`` and returns it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r if isinstance(r, dict) else vars(r) for r in history]
    if not rows:
        raise FastmlpValueError("history must hold at least one epoch")
    epochs = [r["epoch"] for r in rows]
    figure, (loss_axes, acc_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, metric, label in ((loss_axes, "loss", "loss"), (acc_axes, "acc", "accuracy")):
        axes.plot(epochs, [r[f"train_{metric}"] for r in rows], marker="o", markersize=3, label="train")
        axes.plot(epochs, [r[f"val_{metric}"] for r in rows], marker="o", markersize=3, label="validation")
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
