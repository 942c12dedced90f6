"""Compare reproduced accuracies with the write-up's, cell by cell, and test its observations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .tables import (
    DEGENERATE,
    DEGENERATE_TOLERANCE,
    RANGE_MARGIN,
    SEED_SENSITIVE,
    TABLE_1,
    TABLE_2,
    TABLES,
    TOLERANCE,
    Column,
    Table,
)

Records = dict[str, list[dict[str, Any]]]  # spec key -> one record per seed


@dataclass(frozen=True)
class Cell:
    """One table cell: our values over the seeds beside the original."""

    values: tuple[float, ...]
    original: float | None
    verdict: str  # how the cell compares with the original ("" for extra columns)
    ok: bool

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def difference(self) -> float:
        """Our mean minus the original; 0 where there is no original."""
        return 0.0 if self.original is None else self.mean - self.original

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0


def best_value(record: dict[str, Any], row: str) -> float:
    return float(record["best"][f"{row}_acc"])


def cell(table_column: Column, row: str, records: Records) -> Cell:
    values = tuple(best_value(record, row) for record in records[table_column.run.key])
    original = table_column.original.get(row)
    if original is None:
        return Cell(values, None, "", True)
    mean = float(np.mean(values))
    if table_column.label in DEGENERATE:
        ok = abs(mean - original) <= DEGENERATE_TOLERANCE
        return Cell(values, original, f"degenerate run: near chance (within {DEGENERATE_TOLERANCE})", ok)
    if abs(mean - original) <= TOLERANCE:
        return Cell(values, original, f"within {TOLERANCE}", True)
    if (table_column.label, row) in SEED_SENSITIVE:
        low, high = min(values) - RANGE_MARGIN, max(values) + RANGE_MARGIN
        ok = low <= original <= high
        return Cell(values, original, f"seed-sensitive: original in seed range +-{RANGE_MARGIN}", ok)
    return Cell(values, original, f"OUTSIDE {TOLERANCE}", False)


def table_cells(table: Table, records: Records) -> dict[tuple[str, str], Cell]:
    return {
        (column.label, row): cell(column, row, records)
        for column in (*table.columns, *table.extra_columns)
        for row in table.rows
    }


@dataclass(frozen=True)
class Verdict:
    """How the reproduction ended, over every compared cell of the tables."""

    cells: dict[tuple[str, str], Cell]  # (column label, row) -> cell, compared cells only

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [key for key, c in self.cells.items() if not c.ok]

    @staticmethod
    def _name(key: tuple[str, str]) -> str:
        label, row = key
        return f"{label} {row}"

    def line(self) -> str:
        """One line for the terminal: how many cells are within bounds, or out of bounds, and the
        worst of them (the report lists them all)."""
        total = len(self.cells)
        if not self.failed:
            worst = max(self.cells, key=lambda k: abs(self.cells[k].difference))
            return (
                f"Reproduction: {total}/{total} compared cells within bounds "
                f"(worst: {self._name(worst)}, {self.cells[worst].difference:+.4f})"
            )
        worst = max(self.failed, key=lambda k: abs(self.cells[k].difference))
        cell = self.cells[worst]
        return (
            f"Reproduction: {len(self.failed)}/{total} compared cells out of bounds "
            f"(worst: {self._name(worst)}, {cell.mean:.4f} vs {cell.original:.4f}, {cell.difference:+.4f})"
        )


def verdict(records: Records, tables: tuple[Table, ...] = TABLES) -> Verdict:
    """Every cell with an original value, compared as in the report."""
    compared = {}
    for table in tables:
        for key, c in table_cells(table, records).items():
            if c.original is not None:
                compared[key] = c
    return Verdict(compared)


@dataclass(frozen=True)
class Observation:
    claim: str
    holds: bool
    evidence: str


def _curve(records: Records, column: Column, key: str = "val_acc") -> np.ndarray:
    """Mean over seeds of one per-epoch metric."""
    mean: np.ndarray = np.mean(
        [[epoch[key] for epoch in r["history"]] for r in records[column.run.key]], axis=0
    )
    return mean


def _column(table: Table, label: str) -> Column:
    return next(c for c in table.columns if c.label == label)


def observations(records: Records) -> list[Observation]:
    """The write-up's observations, each checked on the mean learning curves."""
    found = []

    lr_curves = {c.label: _curve(records, c) for c in TABLE_1.columns}
    first_epoch = {label: float(curve[0]) for label, curve in lr_curves.items()}
    fastest = max(first_epoch, key=lambda label: first_epoch[label])
    found.append(
        Observation(
            "lr=1 rises fastest",
            fastest == "lr=1",
            "validation accuracy after epoch 1: "
            + ", ".join(f"{label} {value:.4f}" for label, value in first_epoch.items()),
        )
    )
    # Oscillation is counted per seed: averaging curves over seeds would smooth it away.
    drops = {
        c.label: [int(np.sum(np.diff([e["val_acc"] for e in r["history"]]) < 0)) for r in records[c.run.key]]
        for c in TABLE_1.columns
    }
    mean_drops = {label: float(np.mean(counts)) for label, counts in drops.items()}
    found.append(
        Observation(
            "lr=1's validation accuracy oscillates",
            min(drops["lr=1"]) >= 1 and mean_drops["lr=1"] >= max(mean_drops.values()),
            "epochs at which validation accuracy fell, per seed: "
            + "; ".join(f"{label} {counts}" for label, counts in drops.items()),
        )
    )
    slow = lr_curves["lr=1e-2"]
    found.append(
        Observation(
            "lr=0.01 is still climbing at the last epoch",
            bool(slow[-1] > slow[-2] and slow[-1] - slow[-3] > 0),
            f"validation accuracy over the last three epochs: {slow[-3]:.4f}, {slow[-2]:.4f}, {slow[-1]:.4f}",
        )
    )
    heavy = _curve(records, _column(TABLE_2, "reg=1"))
    found.append(
        Observation(
            "reg=1 learns nothing (accuracy near chance, flat curve)",
            bool(heavy.max() < 0.2 and heavy.max() - heavy.min() < 0.05),
            f"validation accuracy stays in [{heavy.min():.4f}, {heavy.max():.4f}] over all epochs",
        )
    )
    best_val = {c.label: cell(c, "val", records).mean for c in TABLE_2.columns}
    best_reg = max(best_val, key=lambda label: best_val[label])
    found.append(
        Observation(
            "the best regularisation lies between 1e-3 and 1e-4",
            best_reg in ("reg=1e-3", "reg=1e-4"),
            "best validation accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in best_val.items()),
        )
    )
    return found
