"""fastmlp tune: resume after Ctrl-C, parallel workers without lost or duplicated trials, a Dask
cluster, pruning, diverging trials, and the errors a user can make. Small synthetic MNIST-shaped
data in a temporary directory; no network, no user cache."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")  # the `tune` extra; CI's `test` extra installs it

from fastmlp.cli import main  # noqa: E402
from fastmlp.tune import DEFAULT_SPACE, load_space, parse_space, tune  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BACKEND = "cpp"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """MNIST's CSV layout, 1,000 + 200 rows: ten noisy binary patterns a TwoLayerNet learns in a few
    epochs."""
    directory = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    patterns = rng.random((10, 784)) < 0.3
    for name, rows in (("mnist_train.csv", 1000), ("mnist_test.csv", 200)):
        labels = rng.integers(0, 10, rows)
        noisy = patterns[labels] ^ (rng.random((rows, 784)) < 0.1)
        table = np.column_stack([labels, noisy.astype(int) * 255])
        np.savetxt(directory / name, table, fmt="%d", delimiter=",")
    return str(directory)


@pytest.fixture(autouse=True)
def no_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path / "cache"))


def _study(out: Path, name: str = "fastmlp"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out / f'{name}.db'}")


def _space(**knobs):
    return parse_space(knobs)


@pytest.fixture
def run_tune(tmp_path, data_dir):
    """``tune`` into tmp_path on the synthetic data and BACKEND, silently; keywords give the rest."""

    def run(**options):
        return tune(
            tmp_path, backend=BACKEND, data_dir=data_dir, allow_any_size=True, log=lambda _: None, **options
        )

    return run


def _tune_args(out, data_dir):
    """``fastmlp tune`` arguments for the synthetic data and BACKEND, one worker, output in ``out``."""
    where = ["--out", str(out), "--data-dir", data_dir]
    return [*"tune --allow-any-size --jobs 1 --backend".split(), BACKEND, *where]


SMALL = {"learning_rate": {"low": 0.05, "high": 0.5, "log": True}, "hidden_size": [16, 32]}


def test_the_space_file_is_the_default_space():
    assert load_space(ROOT / "configs" / "tune_space.yaml") == DEFAULT_SPACE


def test_two_processes_lose_and_duplicate_no_trial(tmp_path, run_tune):
    result = run_tune(space=_space(**SMALL), trials=6, epochs=3, jobs=2)
    trials = _study(tmp_path).get_trials()
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    # Each worker seeds its sampler differently: six distinct configurations, none run twice.
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6
    assert result.counts["COMPLETE"] + result.counts["PRUNED"] == 6
    assert result.best["val_acc"] == max(t.value for t in trials if t.value is not None)


def test_ctrl_c_then_the_same_command_resumes(tmp_path, data_dir):
    out = tmp_path / "reports"
    args = [*_tune_args(out, data_dir), "--epochs", "4", "--trials", "60"]
    space = tmp_path / "space.yaml"
    space.write_text(
        "Search:\n  learning_rate: {low: 0.05, high: 0.5, log: true}\n  hidden_size: [16, 32, 64]\n"
    )
    args += ["--space", str(space)]
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from fastmlp.cli import main; sys.exit(main(sys.argv[1:]))",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 120
    finished = 0
    while finished < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.2)
        if (out / "fastmlp.db").exists():
            # Read the file with sqlite3 directly: opening it through Optuna while the child
            # creates the schema would race the child's own schema creation.
            try:
                with contextlib.closing(sqlite3.connect(out / "fastmlp.db", timeout=5)) as db:
                    (finished,) = db.execute(
                        "SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')"
                    ).fetchone()
            except sqlite3.OperationalError:
                pass  # the schema is being created
    assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "run the same command to resume" in stderr
    before = {t.number: (t.state.name, t.value, t.params) for t in _study(out).get_trials()}
    assert all(state != "RUNNING" for state, _, _ in before.values())  # the interrupted trial is failed
    done = sum(state in ("COMPLETE", "PRUNED") for state, _, _ in before.values())

    # The same command, with the budget set to two more than were done.
    args[args.index("--trials") + 1] = str(done + 2)
    assert main(args) == 0
    after = _study(out).get_trials()
    assert [t.number for t in after] == list(range(len(before) + 2))
    assert {t.number: (t.state.name, t.value, t.params) for t in after[: len(before)]} == before
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in after) == done + 2
    assert (out / "TUNING.md").is_file()


def test_a_resume_with_other_settings_is_refused(tmp_path, data_dir, capsys):
    common = _tune_args(tmp_path, data_dir)
    space = tmp_path / "space.yaml"
    space.write_text("Search:\n  hidden_size: [16, 32]\n")
    assert main([*common, "--space", str(space), "--trials", "2", "--epochs", "2"]) == 0
    capsys.readouterr()
    assert main([*common, "--space", str(space), "--trials", "3", "--epochs", "3"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("fastmlp: error: study 'fastmlp'") and "base differ" in error
    assert len(error.splitlines()) == 1


def test_a_dask_cluster_runs_the_trials(tmp_path, run_tune):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = run_tune(space=_space(**SMALL), trials=3, epochs=2, scheduler=cluster.scheduler_address)
    assert [t.number for t in _study(tmp_path).get_trials()] == [0, 1, 2]
    assert result.counts["COMPLETE"] + result.counts["PRUNED"] == 3


def test_the_pruner_stops_hopeless_trials(tmp_path, run_tune):
    # lr 1e-4 does not move in 8 epochs (chance accuracy), the others learn by epoch 3: once five
    # trials have finished, the median at epoch 3 is a learning one, and lr 1e-4 falls below it.
    space = _space(learning_rate=[1.0e-4, 0.5, 1.0, 1.5], hidden_size=[32])
    run_tune(space=space, trials=16, epochs=8, jobs=1)
    pruned = [t for t in _study(tmp_path).get_trials() if t.state.name == "PRUNED"]
    assert pruned
    for trial in pruned:
        assert len(trial.intermediate_values) < 8
        assert trial.user_attrs["reason"].startswith("pruned after epoch")


def test_a_diverging_trial_is_recorded_and_the_study_goes_on(tmp_path, run_tune):
    space = _space(learning_rate=[0.1, 1.0e30], hidden_size=[16, 32])
    result = run_tune(space=space, trials=8, epochs=3, jobs=1)
    trials = _study(tmp_path).get_trials()
    diverged = [t for t in trials if t.params["learning_rate"] == 1.0e30]
    assert diverged and len(diverged) < len(trials)
    for trial in diverged:
        assert trial.state.name == "PRUNED"
        assert "diverged" in trial.user_attrs["reason"]
    assert result.best["params"]["learning_rate"] == 0.1 and np.isfinite(result.best["test_acc"])


def test_the_best_config_retrains_to_the_same_model(tmp_path, data_dir, run_tune, capsys):
    space = _space(**SMALL, reg={"low": 1.0e-5, "high": 1.0e-3, "log": True})
    result = run_tune(space=space, trials=4, epochs=3, jobs=1)
    assert result.best["retrained_val_acc"] == result.best["val_acc"]
    run = tmp_path / "run.json"
    code = main(
        [
            "train",
            "--config",
            result.files["config"],
            "--seed",
            "0",
            "--backend",
            BACKEND,
            "--threads",
            "1",
            "--data-dir",
            data_dir,
            "--allow-any-size",
            "--json",
            str(run),
            "--quiet",
        ]
    )
    assert code == 0
    best = json.loads(run.read_text())["best"]
    assert best["val_acc"] == result.best["val_acc"] and best["test_acc"] == result.best["test_acc"]
    report = (tmp_path / "TUNING.md").read_text()
    assert "0.9735" in report and f"{result.best['test_acc']:.4f}" in report
    for figure in ("history", "importances", "contour"):
        assert Path(result.files[figure]).stat().st_size > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Search:\n  learnig_rate: [0.1]\n", "unknown key Search.learnig_rate; valid keys: learning_rate"),
        (
            "Search:\n  reg: {low: 1e-6, high: 1.0e-3, log: true}\n",
            "Search.reg.low must be a number, got the text '1e-6'",
        ),
        (
            "Search:\n  momentum: {low: 0.5, high: 0.2}\n",
            "Search.momentum.low must be < Search.momentum.high",
        ),
        ("Search:\n  batch_size: [64, 0]\n", "Search.batch_size[1] must be > 0"),
        ("Search:\n  depth: [1, 2]\n", "Search.depth applies to Model.type MLP only"),
        ("Train:\n  epochs: 3\n", "must hold exactly one section, Search"),
    ],
)
def test_a_bad_space_is_one_line_naming_the_key(tmp_path, capsys, text, message):
    space = tmp_path / "space.yaml"
    space.write_text(text)
    assert main(["tune", "--space", str(space), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("fastmlp: error: ") and message in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["nosuchdb://nowhere/study", "sqlite:///{tmp}/a-file/study.db"])
def test_a_storage_that_cannot_be_opened_is_a_clear_error(tmp_path, capsys, url):
    (tmp_path / "a-file").write_text("not a directory")
    url = url.format(tmp=tmp_path)
    assert main(["tune", "--storage", url, "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"fastmlp: error: --storage: cannot open {url!r}: ")
    assert len(error.strip().splitlines()) == 1


def test_missing_optuna_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["tune"]) == 2
    assert (
        capsys.readouterr().err == 'fastmlp: error: fastmlp tune needs Optuna: pip install "fastmlp[tune]"\n'
    )


def test_missing_dask_is_one_line(tmp_path, data_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    code = main(["tune", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path), "--data-dir", data_dir])
    assert code == 2
    assert capsys.readouterr().err.endswith('needs dask.distributed: pip install "fastmlp[cluster]"\n')
