"""The benchmark suite (``pytest benchmarks --benchmark-only``) loads: its kernel table must name
every kernel of the interface (benchmarks/test_kernels.py refuses to load otherwise), so a kernel
added without its benchmark fails here, and not only when someone next times the kernels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _pytest(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """pytest over the repository's benchmarks in a child, with an empty cache (nothing may fetch or
    read MNIST) and a home of its own; the run must pass."""
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "pytest", *arguments, "-q", "-p", "no:cacheprovider"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FASTMLP_CACHE": str(tmp_path / "cache")}
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_benchmark_suite_collects_every_kernel(tmp_path):
    result = _pytest(tmp_path, "benchmarks", "--collect-only")
    collected = result.stdout
    assert "test_kernels.py::test_kernel[" in collected
    for kernel in ("affine_forward", "adam_update", "tanh_backward", "poisson_deviance_backward"):
        assert f"-{kernel}]" in collected, kernel
    assert not (tmp_path / "cache").exists()


def test_the_kernel_benchmarks_run_and_check_their_results(tmp_path):
    """Every kernel's benchmark on every backend, float32 at batch 64, with the timing off: each
    one runs its call and checks the result against the NumPy reference (benchmarks/test_kernels.py)."""
    result = _pytest(tmp_path, "benchmarks/test_kernels.py", "--benchmark-disable", "-k", "float32 and N64")
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-1000:]
