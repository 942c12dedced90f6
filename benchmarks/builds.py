"""Running benchmarks against other builds of the compiled module (compare_builds.py,
sklearn_fit_builds.py, optimizer_epochs.py --module): load one as fastmlp's, and run a script's
child for each build in turn, in fresh interpreters."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path


def use_build(path: str) -> None:
    """Load ``path`` (a ``fastmlp._cpp`` or ``fastmlp._cpp_vN`` from any build directory) as the
    compiled module every part of fastmlp uses from now on, before anything has loaded one."""
    name = "fastmlp." + Path(path).name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from fastmlp import _isa

    _isa.load = lambda: module  # every user of the compiled module takes what _isa.load() returns


def in_turns(script: str, builds: list[str], rounds: int, child_args: list[str], legend: str) -> None:
    """Each round, ``python script BUILD --child *child_args`` for every build in turn; prints the
    legend, then one line a round of the children's outputs."""
    print(legend + ";", " | ".join(builds))
    for round_ in range(1, rounds + 1):
        cells = []
        for build in builds:
            command = [sys.executable, script, build, "--child", *child_args]
            cells.append(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())
        print(f"round {round_}: " + " | ".join(cells), flush=True)
