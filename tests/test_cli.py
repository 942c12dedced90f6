"""The fastmlp command: one line per epoch, the three accuracies, JSON and PNG outputs, and
one-line errors with exit status 2."""

from __future__ import annotations

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
    monkeypatch.setattr(data, "load_mnist", lambda data_dir=None, dtype="float32", quiet=False: split)
    return split


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    return path


def test_train_prints_epochs_and_writes_outputs(tmp_path, small_mnist, config_file, capsys):
    out_json, out_png, out_model = tmp_path / "run.json", tmp_path / "run.png", tmp_path / "best.npz"
    status = cli.main(
        ["train", "--config", str(config_file), "--backend", "numpy", "--epochs", "3", "--threads", "1",
         "--json", str(out_json), "--plot", str(out_png), "--save", str(out_model)]
    )  # fmt: skip
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
    ],
)
def test_errors_are_one_line_with_status_2(tmp_path, small_mnist, config_file, capsys, arguments, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text("Train:\n  speed: 3\n")
    paths = {"config": str(config_file), "missing": str(tmp_path / "nope.yaml"), "bad": str(bad)}
    assert cli.main([a.format(**paths) for a in arguments]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fastmlp: error: ") and message in err


def test_console_script_error_has_no_traceback(tmp_path):
    # The installed entry point, in a fresh process: no Python traceback reaches the user.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from fastmlp.cli import main; sys.exit(main())", "train", "--config", str(tmp_path / "x")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith(
        "fastmlp: error: --config: cannot read"
    )


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
