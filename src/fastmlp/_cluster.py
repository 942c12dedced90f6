"""The optional Dask cluster (``--scheduler``): dask.distributed comes with ``fastmlp[cluster]``,
so it is imported here only, and a missing install or an unreachable scheduler is one clear error."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .errors import FastmlpValueError, MissingDependencyError


def cluster_hint(command: str) -> str:
    return f'fastmlp {command} --scheduler needs dask.distributed: pip install "fastmlp[cluster]"'


def require_distributed(command: str) -> ModuleType:
    """``dask.distributed``, or MissingDependencyError saying how ``fastmlp <command>`` gets it."""
    try:
        import dask.distributed
    except ImportError as error:
        raise MissingDependencyError(cluster_hint(command)) from error
    return dask.distributed


def connect(address: str, command: str) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``address``, for ``fastmlp <command>``."""
    distributed = require_distributed(command)
    try:
        return distributed.Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as error:
        raise FastmlpValueError(f"--scheduler: cannot connect to {address!r}: {error}") from error
