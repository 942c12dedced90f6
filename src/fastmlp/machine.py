"""A one-line description of the machine, for reports that quote timings."""

from __future__ import annotations

import platform
from pathlib import Path

from .threads import max_threads


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what platform reports."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> str:
    return (
        f"{cpu_model()}, {max_threads()} cores available, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    )
