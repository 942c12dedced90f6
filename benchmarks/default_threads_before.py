"""``fastmlp bench --default-threads-only`` as it was before issue 17, for a before/after table.

    python benchmarks/default_threads_before.py OLD_CPP.so [fastmlp bench options]
    python benchmarks/default_threads_before.py OLD_CPP.so --tenant 1 --out DIR

OLD_CPP.so is the ``fastmlp._cpp`` module of an earlier build (for example main at 17bea10: its
OpenMP barriers, every batch on the whole team). The run loads it as fastmlp's compiled module
and lets ``set_num_threads(n)`` raise NumPy's BLAS to n threads as fastmlp did then, then runs
this checkout's bench, so the two tables are timed by the same code. Run it and ``fastmlp bench
--default-threads-only`` (same options) one after the other, twice, to see how much the load moved.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> int:
    path, options = sys.argv[1], sys.argv[2:]
    spec = importlib.util.spec_from_file_location("fastmlp." + Path(path).name.split(".")[0], path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from threadpoolctl import threadpool_limits

    from fastmlp import _isa, cli, threads

    _isa.load = lambda: module  # cpp_backend takes whatever _isa.load() returns
    set_budget = threads.set_num_threads

    def set_num_threads_as_before(n: int) -> None:
        set_budget(n)
        threadpool_limits(limits=n, user_api="blas")

    threads.set_num_threads = set_num_threads_as_before
    import fastmlp

    fastmlp.set_num_threads = set_num_threads_as_before
    return cli.main(["bench", "--default-threads-only", *options])


if __name__ == "__main__":
    sys.exit(main())
