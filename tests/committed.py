"""Compare a run with a committed run JSON: bit for bit on the same build and CPU features,
otherwise within tolerances.COMMITTED_RUN_TOLERANCES."""

from __future__ import annotations

from typing import Any

import pytest
from tolerances import COMMITTED_RUN_TOLERANCES

from fastmlp.build import same_build

LOSSES = ("train_loss", "val_loss")
ACCURACIES = ("train_acc", "val_acc")


def comparison_for(committed: dict[str, Any]) -> str:
    """``bitwise`` if the committed run's build_info matches this process's, else ``tolerance``."""
    return "bitwise" if same_build(committed.get("build_info")) else "tolerance"


def assert_runs_match(ours: dict[str, Any], committed: dict[str, Any], comparison: str) -> None:
    """Histories and best epochs agree, exactly (``bitwise``) or within the tolerances."""
    history, theirs = ours["history"], committed["history"]
    assert len(history) == len(theirs)
    if comparison == "bitwise":
        assert ours["best"] == committed["best"]
        for epoch, (a, b) in enumerate(zip(history, theirs, strict=True), start=1):
            for key in LOSSES + ACCURACIES:
                assert a[key] == b[key], f"epoch {epoch} {key}"
        return
    rtol, atol = COMMITTED_RUN_TOLERANCES["loss_rtol"], COMMITTED_RUN_TOLERANCES["accuracy_atol"]
    for epoch, (a, b) in enumerate(zip(history, theirs, strict=True), start=1):
        for key in LOSSES:
            assert a[key] == pytest.approx(b[key], rel=rtol, abs=0), f"epoch {epoch} {key}"
        for key in ACCURACIES:
            assert a[key] == pytest.approx(b[key], rel=0, abs=atol), f"epoch {epoch} {key}"
    best, their_best = ours["best"], committed["best"]
    assert best["val_acc"] == pytest.approx(their_best["val_acc"], rel=0, abs=atol)
    if best["epoch"] == their_best["epoch"]:
        for key in ("train_acc", "test_acc"):
            assert best[key] == pytest.approx(their_best[key], rel=0, abs=atol), f"best {key}"
    else:
        # Another best epoch is acceptable only where the committed curve has a near tie.
        tied = theirs[best["epoch"] - 1]["val_acc"]
        assert tied == pytest.approx(their_best["val_acc"], rel=0, abs=atol), "best epoch"
