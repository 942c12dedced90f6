"""Mypy (strict) sees no ``Any`` at the backend boundary: ``tests/typecheck/backend_boundary.py`` asserts
the type of every kind of call across it (registry, kernels, native epoch, compiled module) with
``assert_type``, which fails on ``Any``. The check runs against the installed package, as a user's
type checker would see it (its ``py.typed`` and ``_cpp.pyi``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BOUNDARY = Path(__file__).parent / "typecheck" / "backend_boundary.py"


def test_mypy_strict_sees_no_any_at_the_backend_boundary(tmp_path):
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(BOUNDARY)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # the installed fastmlp, not a source tree beside it
    )
    assert done.returncode == 0, done.stdout + done.stderr
