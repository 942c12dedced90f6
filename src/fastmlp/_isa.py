"""Which build of the compiled kernels to load: the best x86-64 level this CPU supports.

``pip install .`` builds one module for the building machine, ``fastmlp._cpp`` (-march=native).
A portable build (``FASTMLP_NATIVE_ARCH=OFF``, for wheels) builds one module per x86-64 level
instead, ``fastmlp._cpp_v2`` / ``_cpp_v3`` / ``_cpp_v4``, and the best one the CPU runs is
imported, as NumPy dispatches its own kernels at run time. The baseline module (x86-64-v2, which
NumPy 2 requires of the CPU anyway) is imported first to ask the CPU what it supports; a wider
module is imported only if the answer is yes, since loading it on an older CPU could stop the
process with an illegal instruction.

``FASTMLP_ISA`` forces a build: ``native``, ``x86-64-v2``, ``x86-64-v3`` or ``x86-64-v4`` (tests
and benchmarks use it to run every level the CPU has).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from functools import cache
from types import ModuleType
from typing import Any

ENV = "FASTMLP_ISA"
# Best first. "native" / "generic" are the single-module builds (compiled for the building
# machine, or for the compiler's default target on a non-x86 machine).
LEVELS = ("native", "generic", "x86-64-v4", "x86-64-v3", "x86-64-v2")
MODULES = {
    "native": "fastmlp._cpp",
    "generic": "fastmlp._cpp",
    "x86-64-v4": "fastmlp._cpp_v4",
    "x86-64-v3": "fastmlp._cpp_v3",
    "x86-64-v2": "fastmlp._cpp_v2",
}


def _built(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


@cache
def built_levels() -> tuple[str, ...]:
    """The levels this installation has a module for, best first."""
    single = _built(MODULES["native"])
    found = []
    for level in LEVELS:
        if level in ("native", "generic"):
            if single and level == "native":
                found.append(_single_module_level())
        elif _built(MODULES[level]):
            found.append(level)
    return tuple(found)


@cache
def _single_module_level() -> str:
    return str(importlib.import_module(MODULES["native"]).isa)


def _probe() -> ModuleType:
    """The module that answers cpu_supports: the lowest level built (always safe to import)."""
    if not built_levels():
        raise ImportError("fastmlp's compiled extension (fastmlp._cpp or fastmlp._cpp_vN) is not built")
    return importlib.import_module(MODULES[built_levels()[-1]])


@cache
def supported_levels() -> tuple[str, ...]:
    """The built levels this CPU can run, best first."""
    probe = _probe()
    return tuple(level for level in built_levels() if probe.cpu_supports(level))


def _forced() -> str | None:
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    built = built_levels()
    if value not in built:
        raise ValueError(
            f"{ENV}={value!r} is not built into this installation of fastmlp; built: {', '.join(built)}"
            " (a portable build, FASTMLP_NATIVE_ARCH=OFF, has x86-64-v2, -v3 and -v4)"
        )
    if value not in supported_levels():
        raise ValueError(
            f"{ENV}={value!r}: this CPU does not support that instruction set; it supports"
            f" {', '.join(supported_levels()) or 'none of the built levels'}"
        )
    return value


@cache
def selected_level() -> str:
    """The level in use: $FASTMLP_ISA if set (ValueError if not built or not supported), else the best."""
    forced = _forced()
    if forced is not None:
        return forced
    supported = supported_levels()
    if not supported:
        raise ImportError(f"none of fastmlp's compiled builds ({', '.join(built_levels())}) runs on this CPU")
    return supported[0]


def load() -> ModuleType:
    """The compiled module of the selected level."""
    return importlib.import_module(MODULES[selected_level()])


def isa_info() -> dict[str, Any]:
    """The level in use and its compiler flags, with the levels built and the ones this CPU runs.

    For ``fastmlp.build_info()``: ``{"isa": "x86-64-v4", "arch_flags": "-march=x86-64-v4",
    "module": "fastmlp._cpp_v4", "built": [...], "supported": [...], "forced": False}``.
    """
    module = load()
    return {
        "isa": str(module.isa),
        "arch_flags": str(module.arch_flags),
        "module": module.__name__,
        "built": list(built_levels()),
        "supported": list(supported_levels()),
        "forced": bool(os.environ.get(ENV, "").strip()),
    }
