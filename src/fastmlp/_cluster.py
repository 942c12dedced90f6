"""The optional Dask cluster (``--scheduler``): dask.distributed comes with ``fastmlp[cluster]``,
so it is imported here only, and a missing install or an unreachable scheduler is one clear error."""

from __future__ import annotations

from typing import Any

from .errors import FastmlpValueError, MissingDependencyError


def cluster_hint(command: str) -> str:
    return f'fastmlp {command} --scheduler needs dask.distributed: pip install "fastmlp[cluster]"'


def connect(address: str, command: str) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``address``, for ``fastmlp <command>``."""
    try:
        from dask.distributed import Client
    except ImportError as error:
        raise MissingDependencyError(cluster_hint(command)) from error
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as error:
        raise FastmlpValueError(f"--scheduler: cannot connect to {address!r}: {error}") from error
