"""The assignment's write-up as data: its runs, its three tables and its original values.

Every number here is copied from the course write-up (the assignment's own report, which is not
part of this repository; README "The reproduction" describes it); nothing is derived from
fastmlp's own output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class RunSpec:
    """One training configuration. Two tables naming the same configuration share one run."""

    model: str = "TwoLayerNet"
    hidden_size: int = 128
    batch_size: int = 64
    learning_rate: float = 0.1
    reg: float = 0.001
    epochs: int = 10
    momentum: float = 0.0

    @property
    def key(self) -> str:
        """A file-name-safe identifier, the same for identical configurations."""
        hidden = f"h{self.hidden_size}_" if self.model != "SoftmaxRegression" else ""
        return (
            f"{self.model}_{hidden}bs{self.batch_size}_lr{self.learning_rate:g}_reg{self.reg:g}"
            f"_ep{self.epochs}_mom{self.momentum:g}"
        )

    def to_config(self) -> dict[str, dict[str, object]]:
        """The run as an assignment-style config (sections ``Train`` and ``Model``)."""
        fields = asdict(self)
        model: dict[str, object] = {"type": fields.pop("model")}
        hidden = fields.pop("hidden_size")
        if model["type"] != "SoftmaxRegression":
            model["hidden_size"] = hidden
        return {"Train": fields, "Model": model}


DEFAULT = RunSpec()
TUNED = RunSpec(learning_rate=0.15, reg=1e-4, epochs=50)


@dataclass(frozen=True)
class Column:
    label: str
    run: RunSpec
    # Original value per row name ("train", "val", "test"); None where the write-up has no cell.
    original: dict[str, float]
    note: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    rows: tuple[str, ...]
    columns: tuple[Column, ...]
    # Extra columns are fastmlp's additions, reported beside the table, never compared.
    extra_columns: tuple[Column, ...] = ()


ROW_TITLES = {"train": "Training accuracy", "val": "Validation accuracy", "test": "Test accuracy"}

TABLE_1 = Table(
    name="table1",
    title="Table 1: learning rate (TwoLayerNet, 10 epochs, reg 1e-3, batch 64)",
    rows=("train", "test"),
    columns=(
        Column("lr=1", replace(DEFAULT, learning_rate=1.0), {"train": 0.9424, "test": 0.9495}),
        Column("lr=1e-1", DEFAULT, {"train": 0.9223, "test": 0.9248}),
        Column("lr=1e-2", replace(DEFAULT, learning_rate=0.01), {"train": 0.7295, "test": 0.7623}),
        Column("lr=5e-2", replace(DEFAULT, learning_rate=0.05), {"train": 0.9087, "test": 0.9127}),
    ),
)

TABLE_2 = Table(
    name="table2",
    title="Table 2: regularisation coefficient (TwoLayerNet, 10 epochs, lr 0.1, batch 64)",
    rows=("train", "val", "test"),
    columns=(
        Column("reg=1e-1", replace(DEFAULT, reg=0.1), {"train": 0.3319, "val": 0.3685, "test": 0.3776}),
        Column("reg=1e-2", replace(DEFAULT, reg=0.01), {"train": 0.8844, "val": 0.8945, "test": 0.8932}),
        Column("reg=1e-3", DEFAULT, {"train": 0.9212, "val": 0.9282, "test": 0.9256}),
        Column("reg=1e-4", replace(DEFAULT, reg=1e-4), {"train": 0.9299, "val": 0.9358, "test": 0.9316}),
        Column(
            "reg=1",
            replace(DEFAULT, reg=1.0),
            {"train": 0.0989, "val": 0.1060, "test": 0.1135},
            note="degenerate: predicts a single class",
        ),
    ),
)

TABLE_3 = Table(
    name="table3",
    title="Table 3: tuned (TwoLayerNet, batch 64, lr 0.15, reg 1e-4, 50 epochs, momentum not applied)",
    rows=("train", "val", "test"),
    columns=(Column("tuned (as run: no momentum)", TUNED, {"train": 0.9833, "val": 0.9729, "test": 0.9735}),),
    extra_columns=(
        Column("extra: tuned with momentum 0.9 applied", replace(TUNED, momentum=0.9), {}),
        Column("extra: SoftmaxRegression, default config", replace(DEFAULT, model="SoftmaxRegression"), {}),
    ),
)

TABLES = (TABLE_1, TABLE_2, TABLE_3)

# Cells whose value honestly moves by more than 0.015 with the shuffle order (measured over 5 seeds
# with plain NumPy, issue 4): for them the original must lie in the seeds' range widened by 0.005.
SEED_SENSITIVE = {("reg=1e-1", "val"), ("reg=1e-1", "test"), ("lr=1e-2", "test")}
DEGENERATE = {"reg=1"}
TOLERANCE = 0.015
RANGE_MARGIN = 0.005
DEGENERATE_TOLERANCE = 0.025


def unique_runs(tables: tuple[Table, ...] = TABLES) -> list[RunSpec]:
    """Every configuration behind the tables, each once, in table order."""
    runs: dict[str, RunSpec] = {}
    for table in tables:
        for column in (*table.columns, *table.extra_columns):
            runs.setdefault(column.run.key, column.run)
    return list(runs.values())
