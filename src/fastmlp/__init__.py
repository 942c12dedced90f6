"""fastmlp: train small multilayer perceptrons on the CPU, fast, with every kernel checked
against a plain NumPy reference."""

from __future__ import annotations

from .backends import available_backends, default_backend, get_backend, set_backend
from .build import build_info
from .threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "available_backends",
    "build_info",
    "default_backend",
    "get_backend",
    "get_num_threads",
    "set_backend",
    "set_num_threads",
]
