"""A check run in a child interpreter: for the peer frameworks, whose thread pools would stay in
the test process and whose import makes JAX warn (rightly) at every later fork, which other tests do."""

from __future__ import annotations

import os
import subprocess
import sys


def run_check(module: str, check: str, argument: str, *ignored_warnings: str) -> None:
    """``module.check(argument)`` in a fresh interpreter with warnings as errors (but the messages
    in ``ignored_warnings``, the peers' own); fails with the child's stderr."""
    filters = "".join(f" warnings.filterwarnings('ignore', {message!r});" for message in ignored_warnings)
    code = (
        f"import sys, warnings; sys.path.insert(0, sys.argv[1]);{filters}"
        f" import {module} as t; t.{check}(sys.argv[2])"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, os.path.dirname(__file__), argument],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
