"""Any command's wall time with N CPU-bound processes beside it (``fastmlp bench --tenant``'s).

    python benchmarks/beside_tenants.py 1 fastmlp reproduce --backend cpp --out DIR
    python benchmarks/beside_tenants.py 0 fastmlp tune --trials 8 --epochs 3 --out DIR

For the commands whose workers have one thread each (reproduce, tune): run it with 0 and 1,
alternately, and compare the wall times printed. The tenants stop when the command ends.
"""

from __future__ import annotations

import subprocess
import sys
import time

from fastmlp.benchmarking.tenants import busy_processes


def main() -> int:
    tenants, command = int(sys.argv[1]), sys.argv[2:]
    with busy_processes(tenants):
        start = time.perf_counter()
        status = subprocess.call(command, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
    print(f"{tenants} tenant(s): {seconds:.1f} s wall, exit status {status}: {' '.join(command)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
