"""``fastmlp bench --tenant N``'s busy processes: running while the block runs, always gone after."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from fastmlp.benchmarking.tenants import busy_processes


def _gone(pid: int, within: float = 20.0) -> bool:
    """Whether process ``pid`` has ended (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_tenants_run_during_the_block_and_are_stopped_after_it():
    with busy_processes(2) as processes:
        assert len(processes) == 2
        time.sleep(0.2)
        assert all(process.poll() is None for process in processes)
    assert all(process.returncode is not None for process in processes)


def test_tenants_are_stopped_when_the_block_raises():
    with pytest.raises(KeyboardInterrupt), busy_processes(1) as processes:
        raise KeyboardInterrupt
    assert processes[0].returncode is not None


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the orphan end")
def test_a_tenant_ends_by_itself_when_its_parent_dies_without_stopping_it():
    # The parent leaves without its finally (os._exit), as a killed bench would.
    program = (
        "import os, sys\n"
        "from fastmlp.benchmarking.tenants import busy_processes\n"
        "with busy_processes(1) as processes:\n"
        "    print(processes[0].pid, flush=True)\n"
        "    os._exit(0)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert _gone(int(result.stdout.strip()))


@pytest.mark.parametrize(("n", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_tenant_count_is_checked(n, error):
    with pytest.raises(error, match="tenant must be"), busy_processes(n):
        pass
