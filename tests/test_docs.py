"""The README's drop-in snippet and docs/examples/assignment_style.py run as written (on a small
MNIST-like set, off the network)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from synthetic import write_mnist_like

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def drop_in_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("### Drop-in for assignment code", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the drop-in section has no python code block"
    return found.group(1)


def test_readme_drop_in_snippet_runs_as_written(tmp_path, monkeypatch, capsys):
    write_mnist_like(tmp_path / "mnist")
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path / "mnist"))
    monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path / "cache"))
    snippet = drop_in_snippet()
    assert "from fastmlp.compat import" in snippet
    namespace: dict = {}
    exec(compile(snippet, "README.md drop-in snippet", "exec"), namespace)
    model = namespace["model"]
    assert all(np.any(g != 0) for g in model.gradients.values())  # forward filled them
    assert math.isfinite(namespace["epoch_loss"]) and 0 <= namespace["val_acc"] <= 1
    assert "validation accuracy" in capsys.readouterr().out


def test_assignment_style_example_runs(tmp_path):
    write_mnist_like(tmp_path / "mnist")
    config = tmp_path / "config.yaml"
    config.write_text(
        "Train:\n  batch_size: 32\n  learning_rate: 0.1\n  reg: 0.001\n  epochs: 2\n  debug: True\n"
        "Model:\n  type: SoftmaxRegression\n"
    )
    env = {**os.environ, "FASTMLP_DATA": str(tmp_path / "mnist"), "FASTMLP_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "examples" / "assignment_style.py"),
            "--config",
            str(config),
            "--plot",
            str(tmp_path / "curves.png"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == ["epoch 0", "epoch 1"]
    assert any(line.startswith("Epoch: [1][0/") for line in lines)  # debug: True in the YAML
    test_acc = float(next(line for line in lines if line.startswith("Final Accuracy")).split()[-1])
    assert test_acc > 0.3
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
