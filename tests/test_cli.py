"""The fastmlp command: one line per epoch, the three accuracies, JSON and PNG outputs, and
one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import numpy as np
import pytest
from synthetic import blobs

import fastmlp
from fastmlp import cli, data
from fastmlp.models import TwoLayerNet, load_model

CONFIG = """\
Train:
  batch_size: 32
  learning_rate: 0.5
  reg: 0.001
  epochs: 2
Model:
  type: TwoLayerNet
  hidden_size: 16
"""


@pytest.fixture
def small_mnist(monkeypatch):
    """MNIST-shaped (784 inputs, 10 classes) but tiny, in place of the real download."""
    split = blobs(n_train=300, n_val=100, n_test=100, features=784, classes=10, dtype=np.float32)
    monkeypatch.setattr(data, "load_mnist", lambda data_dir=None, dtype="float32", **_: split)
    return split


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    return path


def test_train_prints_epochs_and_writes_outputs(tmp_path, small_mnist, config_file, capsys):
    out_json, out_png, out_model = tmp_path / "run.json", tmp_path / "run.png", tmp_path / "best.npz"
    status = cli.main(
        [
            *"train --backend numpy --epochs 3 --threads 1".split(),
            *("--config", str(config_file), "--json", str(out_json)),
            *("--plot", str(out_png), "--save", str(out_model)),
        ]
    )
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["1", "2", "3"]
    assert any(line.startswith("best epoch") and "test acc" in line for line in lines)
    run = json.loads(out_json.read_text())
    assert run["backend"] == "numpy" and run["dtype"] == "float32" and run["threads"] == 1
    assert run["config"]["Train"]["epochs"] == 3  # the flag overrode the file
    assert run["build_info"] == fastmlp.build_info()
    assert [sorted(e) for e in run["history"]] == [
        sorted(["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "train_seconds", "eval_seconds"])
    ] * 3
    assert sorted(run["best"]) == ["epoch", "test_acc", "train_acc", "val_acc"] and run["diverged"] is False
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = load_model(out_model, expect=TwoLayerNet(784, 16, 10).config())
    assert model.params["W1"].shape == (784, 16)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["train", "--config", "{config}", "--backend", "fortran"],
            "argument --backend: invalid choice: 'fortran'",
        ),
        (["train", "--config", "{config}", "--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["train", "--config", "{config}", "--threads", "999"], "--threads must be at most"),
        (["train", "--config", "{missing}"], "--config: cannot read"),
        (["train"], "the following arguments are required: --config"),
        (["train", "--config", "{bad}"], "unknown key Train.speed"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["reproduce", "--seeds", "0"], "--seeds must be >= 1"),
        (["bench", "--threads", "1,x"], "--threads must be comma-separated integers"),
        (["bench", "--tenant", "-1"], "--tenant must be >= 0, got -1"),
        (["bench", "--summary", "{missing}"], "not a readable pytest-benchmark JSON file"),
        (["tune", "--study", "a/b", "--out", "{out}"], "study must be a non-empty name without '/'"),
    ],
)
def test_errors_are_one_line_with_status_2(tmp_path, small_mnist, config_file, capsys, arguments, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text("Train:\n  speed: 3\n")
    paths = {
        "config": str(config_file),
        "missing": str(tmp_path / "nope.yaml"),
        "bad": str(bad),
        "out": str(tmp_path / "out"),
    }
    assert cli.main([a.format(**paths) for a in arguments]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fastmlp: error: ") and message in err


def test_console_script_error_has_no_traceback(tmp_path):
    # The installed entry point, in a fresh process: no Python traceback reaches the user.
    program = "import sys; from fastmlp.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", program, "train", "--config", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith(
        "fastmlp: error: --config: cannot read"
    )


def test_a_bug_is_a_traceback_with_a_report_hint_not_a_usage_error(monkeypatch, capsys):
    # Only fastmlp's own errors are usage errors; any other exception is a bug and must surface.
    def broken(args):
        raise RuntimeError("an internal invariant broke")

    monkeypatch.setitem(cli.COMMANDS, "data", broken)
    with pytest.raises(RuntimeError, match="an internal invariant broke"):
        cli.main(["data"])
    err = capsys.readouterr().err
    assert err == cli.BUG_REPORT_HINT + "\n"
    assert "fastmlp --version" in err and "fastmlp: error:" not in err
    # The same for built-in ValueError / TypeError, which used to pass for usage errors.
    for error in (ValueError("not the user's"), TypeError("not the user's")):

        def raises(args, error=error):
            raise error

        monkeypatch.setitem(cli.COMMANDS, "data", raises)
        with pytest.raises(type(error)):
            cli.main(["data"])
        assert capsys.readouterr().err == cli.BUG_REPORT_HINT + "\n"


def test_console_script_bug_shows_the_traceback(tmp_path):
    program = (
        "import sys; from fastmlp import cli\n"
        "def broken(args): raise RuntimeError('an internal invariant broke')\n"
        "cli.COMMANDS['data'] = broken\n"
        "sys.exit(cli.main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, "data"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1  # Python's status for an uncaught exception, not the usage error's 2
    assert result.stderr.startswith(cli.BUG_REPORT_HINT + "\nTraceback (most recent call last):")
    assert result.stderr.rstrip().endswith("RuntimeError: an internal invariant broke")


def test_reproduce_on_a_scheduler_without_dask_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import dask.distributed now fails
    out = tmp_path / "out"
    assert cli.main(["reproduce", "--scheduler", "tcp://127.0.0.1:1", "--quick", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "fastmlp: error: fastmlp reproduce --scheduler needs dask.distributed: "
        'pip install "fastmlp[cluster]"\n'
    )
    assert not out.exists()  # refused before anything was written


def test_bench_sklearn_without_scipy_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)  # import scipy.sparse now fails
    assert cli.main(["bench", "--sklearn", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "fastmlp: error: fastmlp bench --sklearn needs scikit-learn and scipy: "
        'pip install "fastmlp[sklearn]"\n'
    )
    assert not (tmp_path / "out").exists()  # refused before any data was read or written


def test_importing_fastmlp_sklearn_without_scipy_names_the_extra(monkeypatch):
    from fastmlp.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    monkeypatch.delitem(sys.modules, "fastmlp.sklearn", raising=False)
    with pytest.raises(MissingDependencyError, match=r'pip install "fastmlp\[sklearn\]"'):
        importlib.import_module("fastmlp.sklearn")


def test_data_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path / "cache"))
    assert cli.main(["data", "--where"]) == 0
    assert "not cached yet" in capsys.readouterr().out
    assert cli.main(["data", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "data_dir must be an existing directory" in capsys.readouterr().err


def test_ctrl_c_leaves_metrics_and_best_weights(tmp_path, small_mnist, config_file, monkeypatch, capsys):
    import fastmlp.train

    real_epoch, calls = fastmlp.train.train_epoch, []

    def interrupted_on_the_third_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(fastmlp.train, "train_epoch", interrupted_on_the_third_epoch)
    out_json = tmp_path / "run.json"
    status = cli.main(
        ["train", "--config", str(config_file), "--epochs", "5", "--backend", "cpp", "--json", str(out_json)]
    )
    assert status == 130
    run = json.loads(out_json.read_text())
    assert run["interrupted"] is True and len(run["history"]) == 2
    saved = out_json.with_suffix(".npz")
    assert load_model(saved).params["W1"].shape == (784, 16)
    captured = capsys.readouterr()
    assert "interrupted after 2 complete epochs" in captured.err and f"best model: {saved}" in captured.out


def test_every_data_fault_is_one_line_status_2_and_nothing_is_trained(
    tmp_path, config_file, monkeypatch, capsys
):
    """The faults of tests/test_data.py through the command: one line, status 2, no training."""
    from test_data import X_TEST, X_TRAIN, Y_TEST, Y_TRAIN, csv_bytes, idx_bytes

    import fastmlp.train

    monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data.formats, "MNIST_ROWS", {"train": len(X_TRAIN), "test": len(X_TEST)})
    monkeypatch.setattr(fastmlp.train, "train", lambda *a, **k: pytest.fail("trained on faulty data"))
    good_train = csv_bytes(X_TRAIN, Y_TRAIN, True)
    bad_label = Y_TEST.astype(np.int64)
    bad_label[1] = 11
    bad_pixel = X_TEST.astype(np.int64)
    bad_pixel[0, 0] = 256
    faults = {
        "cut at a line boundary": (
            {"mnist_train.csv": csv_bytes(X_TRAIN[:5], Y_TRAIN[:5], True)},
            "5 rows, expected 10",
        ),
        "cut mid-row": ({"mnist_train.csv": good_train[:-300]}, "row 10 (line 11): truncated"),
        "wrong label": ({"mnist_test.csv": csv_bytes(X_TEST, bad_label, True)}, "row 2 (line 3): label 11"),
        "pixel out of range": ({"mnist_test.csv": csv_bytes(bad_pixel, Y_TEST, True)}, "pixel 1 is 256"),
        "header only": ({"mnist_test.csv": csv_bytes(X_TEST[:0], Y_TEST[:0], True)}, "holds no data rows"),
    }
    idx = {
        stem: idx_bytes(a)
        for stem, a in zip(data.sources.IDX_FILES.values(), (X_TRAIN, Y_TRAIN, X_TEST, Y_TEST), strict=True)
    }
    faults["IDX wrong magic"] = (
        {**idx, "train-labels-idx1-ubyte": b"\0\0\x08\x03" + idx["train-labels-idx1-ubyte"][4:]},
        "magic number 0x00000803",
    )
    faults["IDX wrong count"] = (
        {**idx, "t10k-images-idx3-ubyte": idx_bytes(X_TEST[:2])},
        "declares 2 records, expected 4",
    )
    for name, (files, message) in faults.items():
        directory = tmp_path / name.replace(" ", "_")
        directory.mkdir()
        if any(f.endswith(".csv") for f in files):
            files = {
                "mnist_train.csv": good_train,
                "mnist_test.csv": csv_bytes(X_TEST, Y_TEST, True),
                **files,
            }
        for file, content in files.items():
            (directory / file).write_bytes(content)
        for command in (["train", "--config", str(config_file)], ["data", "--verify"]):
            assert cli.main([*command, "--data-dir", str(directory)]) == 2, name
            captured = capsys.readouterr()
            assert captured.err.count("\n") == 1 and captured.err.startswith(
                f"fastmlp: error: {directory}"
            ), name
            assert message in captured.err, name


def test_version_names_the_build(capsys):
    assert cli.main(["--version"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"fastmlp {fastmlp.__version__}"
    info = fastmlp.build_info()
    build = next(line for line in lines if line.startswith("build: "))
    assert info["compiler"] in build and info["compile_flags"] in build and info["isa_level"] in build


def test_bare_command_prints_the_usage(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: fastmlp") and all(name in err for name in cli.COMMANDS)


def test_every_option_has_help_text():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = {"fastmlp": parser, **{f"fastmlp {name}": sub for name, sub in commands.choices.items()}}
    missing = [
        f"{name} {action.option_strings[-1]}"
        for name, sub in parsers.items()
        for action in sub._actions
        if action.option_strings and not action.help
    ]
    assert missing == []


def test_train_header_line_names_backend_dtype_threads_and_data(tmp_path, small_mnist, config_file, capsys):
    status = cli.main(
        [
            *"train --backend numba --dtype float32 --threads 1 --epochs 1".split(),
            *("--config", str(config_file), "--data-dir", str(tmp_path)),
        ]
    )
    assert status == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"fastmlp train: backend numba, float32, 1 thread, data from user directory {tmp_path}"
