"""Backend registry: one kernel interface, several implementations chosen by name.

``numpy`` is the reference; ``numba`` and ``cpp`` load when their dependencies do
(the compiled extension, Numba). A backend is an ``interface.Backend`` object, each module's
``BACKEND``: the kernels of ``_kernels.KERNELS``, its name and its declared capabilities.
"""

from __future__ import annotations

import os

from ..errors import FastmlpTypeError, FastmlpValueError
from .interface import Backend

KNOWN_BACKENDS = ("numpy", "numba", "cpp")


def _import(name: str) -> Backend:
    """Import backend ``name``'s module (lazily: Numba alone costs ~65 MB) and return its BACKEND."""
    if name == "numpy":
        from .numpy_backend import BACKEND
    elif name == "numba":
        from .numba_backend import BACKEND
    else:
        from .cpp_backend import BACKEND
    return BACKEND


_loaded: dict[str, Backend] = {}
_load_errors: dict[str, str] = {}
_default: str | None = None


def _load(name: str) -> Backend | None:
    if name in _loaded:
        return _loaded[name]
    if name in _load_errors:
        return None
    try:
        backend = _import(name)
    except ImportError as error:
        _load_errors[name] = f"{type(error).__name__}: {error}"
        return None
    _loaded[name] = backend
    return backend


def available_backends() -> list[str]:
    """Names of the backends that load on this machine, reference first."""
    return [name for name in KNOWN_BACKENDS if _load(name) is not None]


def _check_name(name: object, argument: str = "name") -> str:
    if not isinstance(name, str):
        raise FastmlpTypeError(f"{argument} must be a backend name (str), got {type(name).__name__}")
    if name not in KNOWN_BACKENDS:
        raise FastmlpValueError(
            f"{argument}: unknown backend {name!r}; valid backends: {', '.join(KNOWN_BACKENDS)}"
        )
    return name


def get_backend(name: str | None = None) -> Backend:
    """Return the backend called ``name`` (default: the current default backend)."""
    name = default_backend() if name is None else _check_name(name)
    backend = _load(name)
    if backend is None:
        raise FastmlpValueError(
            f"backend {name!r} is not available on this machine ({_load_errors[name]}); "
            f"available: {', '.join(available_backends())}"
        )
    return backend


def set_backend(name: str) -> None:
    """Make ``name`` the default backend for models and kernels."""
    global _default
    get_backend(_check_name(name))
    _default = name


def default_backend() -> str:
    """The default backend: set_backend(), else $FASTMLP_BACKEND, else the fastest available."""
    if _default is not None:
        return _default
    from_env = os.environ.get("FASTMLP_BACKEND")
    if from_env:
        return _check_name(from_env, "FASTMLP_BACKEND")
    # Fastest first, loading no more than needed: importing Numba alone costs ~65 MB of memory.
    return next(name for name in ("cpp", "numba", "numpy") if _load(name) is not None)
