"""The closing verdict of ``fastmlp reproduce`` and ``--fail-on-mismatch``, on run records built
from the write-up's own values with known offsets (no training)."""

from __future__ import annotations

import pytest

from fastmlp import cli
from fastmlp.reproduce import compare
from fastmlp.reproduce.tables import TABLES


def records_at(offsets: dict[tuple[str, str], float]) -> compare.Records:
    """One seed per configuration; each compared cell is the original plus its offset (0 unless
    given). Table 1's lr=1e-1 and Table 2's reg=1e-3 share one run: Table 2's values win."""
    best: dict[str, dict[str, float]] = {}
    for table in TABLES:
        for column in (*table.columns, *table.extra_columns):
            values = best.setdefault(column.run.key, {"train_acc": 0.5, "val_acc": 0.5, "test_acc": 0.5})
            for row, original in column.original.items():
                values[f"{row}_acc"] = original + offsets.get((column.label, row), 0.0)
    return {key: [{"best": values}] for key, values in best.items()}


COMPARED = sum(len(column.original) for table in TABLES for column in table.columns)


def test_all_within_bounds_names_the_worst_cell():
    result = compare.verdict(records_at({("reg=1e-2", "test"): -0.0097, ("lr=1", "train"): 0.004}))
    assert result.failed == []
    assert (
        result.line()
        == f"Reproduction: {COMPARED}/{COMPARED} compared cells within bounds (worst: reg=1e-2 test, -0.0097)"
    )


def test_cells_out_of_bounds_are_counted_and_the_worst_named():
    # reg=1e-2 lies outside 0.015; lr=5e-2 further; reg=1's looser 0.025 still holds at 0.02.
    offsets = {("reg=1e-2", "val"): 0.03, ("lr=5e-2", "test"): -0.1, ("reg=1", "train"): 0.02}
    result = compare.verdict(records_at(offsets))
    assert sorted(result.failed) == [("lr=5e-2", "test"), ("reg=1e-2", "val")]
    assert result.line() == (
        f"Reproduction: 2/{COMPARED} compared cells out of bounds "
        "(worst: lr=5e-2 test, 0.8127 vs 0.9127, -0.1000)"
    )
    # Table 2's five test cells, and through the shared run Table 1's lr=1e-1 test cell.
    many = compare.verdict(records_at({(c.label, "test"): 0.2 for c in TABLES[1].columns}))
    assert len(many.failed) == 6 and many.line().startswith(
        f"Reproduction: 6/{COMPARED} compared cells out of"
    )


@pytest.mark.parametrize(("offset", "flag", "status"), [(0.0, True, 0), (0.1, False, 0), (0.1, True, 1)])
def test_fail_on_mismatch_sets_the_exit_status(monkeypatch, capsys, tmp_path, offset, flag, status):
    import fastmlp.reproduce

    records = records_at({("lr=1e-2", "train"): offset})
    monkeypatch.setattr(fastmlp.reproduce, "reproduce", lambda *args, **kwargs: records)
    arguments = ["reproduce", "--out", str(tmp_path)] + (["--fail-on-mismatch"] if flag else [])
    assert cli.main(arguments) == status
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("Reproduction: ") and ("out of bounds" in last) == (offset > 0)
