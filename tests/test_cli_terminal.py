"""``fastmlp train`` as a user sees it in a terminal: the pseudo-terminal's output, rendered by the
pyte emulator, holds every epoch line intact and no left-over progress bar, at 120x40 and 80x24,
on every backend; a pipe gets the lines and no bar."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import BACKENDS
from terminal import run_in_terminal
from test_data import csv_bytes

CONFIG = """\
Train:
  batch_size: 32
  learning_rate: 0.5
  reg: 0.001
  epochs: 3
Model:
  type: TwoLayerNet
  hidden_size: 16
"""
EPOCH_LINE = re.compile(
    r"^epoch +(\d+)  train loss \d+\.\d{4} acc [01]\.\d{4}  "
    r"val loss \d+\.\d{4} acc [01]\.\d{4}  \(\d+\.\d s\)$"
)
BAR_TRACES = ("epochs:", "epoch/s", "s/epoch", "%|", "█", "val_acc=")
FASTMLP = [sys.executable, "-c", "import sys; from fastmlp.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Small MNIST-layout files (600 / 100 rows, hence --allow-any-size) and a 3-epoch config."""
    directory = tmp_path_factory.mktemp("terminal")
    rng = np.random.default_rng(0)
    for name, rows in (("mnist_train.csv", 600), ("mnist_test.csv", 100)):
        images = rng.integers(0, 256, (rows, 784), dtype=np.uint8)
        (directory / name).write_bytes(csv_bytes(images, rng.integers(0, 10, rows), header=True))
    (directory / "config.yaml").write_text(CONFIG)
    return directory


def train_command(workdir, backend, *extra):
    files = ["--config", str(workdir / "config.yaml"), "--data-dir", str(workdir)]
    return [*FASTMLP, "train", *files, "--allow-any-size", "--backend", backend, "--threads", "1", *extra]


def environment(workdir):
    # TQDM_MININTERVAL=0: tqdm redraws the bar on every update instead of at most every 0.1 s,
    # so every epoch line is written while a bar is on the screen.
    return {**os.environ, "FASTMLP_CACHE": str(workdir / "cache"), "TQDM_MININTERVAL": "0"}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("backend", BACKENDS)
def test_train_in_a_terminal_leaves_clean_lines(workdir, backend, size):
    capture = run_in_terminal(train_command(workdir, backend), *size, env=environment(workdir))
    assert capture.status == 0, "\n".join(capture.lines)
    assert b"epochs:" in capture.raw and b"\r" in capture.raw  # a bar was drawn and redrawn
    lines = capture.lines
    assert lines[0].startswith(
        f"fastmlp train: backend {backend}, float32, 1 thread, data from user directory"
    )
    epoch_lines = [i for i, line in enumerate(lines) if line.startswith("epoch")]
    assert [EPOCH_LINE.match(lines[i]).group(1) for i in epoch_lines] == ["1", "2", "3"], lines
    assert epoch_lines == list(range(epoch_lines[0], epoch_lines[0] + 3))  # adjacent, nothing between
    assert lines[epoch_lines[-1] + 1].startswith("best epoch ") and len(lines) == epoch_lines[-1] + 2, lines
    leftovers = [line for line in lines if any(trace in line for trace in BAR_TRACES)]
    assert leftovers == []


def test_quiet_in_a_terminal_draws_nothing(workdir):
    capture = run_in_terminal(train_command(workdir, "numpy", "--quiet"), 80, 24, env=environment(workdir))
    assert capture.status == 0
    assert b"epochs:" not in capture.raw and not any(line.startswith("epoch") for line in capture.lines)
    assert capture.lines[-1].startswith("best epoch ")


def test_a_pipe_gets_the_epoch_lines_and_no_bar(workdir):
    result = subprocess.run(
        train_command(workdir, "numpy"), env=environment(workdir), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "epochs:" not in result.stderr and "\r" not in result.stderr + result.stdout
    epochs = [EPOCH_LINE.match(line) for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert [match.group(1) for match in epochs] == ["1", "2", "3"]
