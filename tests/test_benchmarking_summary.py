"""fastmlp.benchmarking.summary and ``fastmlp bench --summary``: a pytest-benchmark JSON run
turned into one table and one figure of ratios to the NumPy reference."""

from __future__ import annotations

import json

import pytest

from fastmlp import cli
from fastmlp.benchmarking import summary


def kernel(name, backend, seconds, dtype="float32", batch=64):
    info = {"backend": backend, "kernel": name, "dtype": dtype, "batch": batch, "threads": 1}
    return {"group": f"{name}, {dtype}, batch {batch}", "extra_info": info, "stats": {"min": seconds}}


def epoch(contender, threads, seconds, batch=64):
    key, value = contender.split(" ")
    info = {"threads": threads, "rows": 12000, "batch": batch, "dtype": "float32", key: value}
    return {"group": "epoch", "extra_info": info, "stats": {"min": seconds}}


RESULTS = {
    "machine_info": {"cpu": {"brand_raw": "Test CPU"}},
    "benchmarks": [
        kernel("affine_forward", "numpy", 100e-6),
        kernel("affine_forward", "numba", 50e-6),
        kernel("affine_forward", "cpp", 25e-6),
        kernel("relu_forward", "numpy", 4e-6),
        kernel("relu_forward", "numba", 8e-6),
        kernel("relu_forward", "cpp", 2e-6),
        kernel("relu_forward", "cpp", 1e-9, batch=1024),  # other batch: left out
        kernel("relu_forward", "cpp", 1e-9, dtype="float64"),  # other dtype: left out
        epoch("backend numpy", 1, 0.080),
        epoch("backend cpp", 1, 0.040),
        epoch("peer assignment-numpy", 1, 0.160),
        epoch("backend numpy", 2, 0.060),
        epoch("backend cpp", 2, 0.030),
    ],
}


def test_table_holds_the_ratios_to_numpy():
    result = summary.summarise(RESULTS)
    assert result.kernels["relu_forward"] == {"numpy": 4e-6, "numba": 8e-6, "cpp": 2e-6}
    table = summary.markdown(result)
    assert "| affine_forward | 100.0 | 50.0 | 2.00x | 25.0 | 4.00x |" in table
    assert "| relu_forward | 4.0 | 8.0 | 0.50x | 2.0 | 2.00x |" in table
    assert "Training epochs of 12,000 rows, batch 64, float32" in table
    assert "| fastmlp cpp | 40.0 | 2.00x | 30.0 | 2.00x |" in table
    assert "| peer assignment-numpy | 160.0 | 0.50x | - | - |" in table  # not run at 2 threads


def test_command_writes_the_table_and_one_figure(tmp_path, capsys):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RESULTS))
    assert cli.main(["bench", "--summary", str(path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "summary.md").read_text() in capsys.readouterr().out


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "x.json").write_text("{}")
    assert cli.main(["bench", "--summary", str(tmp_path / "x.json")]) == 2
    assert "not a pytest-benchmark JSON file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no benchmark at dtype float64 and batch 64"):
        summary.summarise({"benchmarks": [kernel("relu_forward", "cpp", 1e-6)]}, dtype="float64")
