"""Which build and which CPU produced a result: ``fastmlp.build_info()``.

``pip install .`` compiles the C++ extension with ``-march=native``, and a portable build holds
one module per x86-64 level of which ``fastmlp._isa`` loads the best the CPU runs; either way
another CPU gets other vector code, and sums round differently in the last bits. Results are
therefore bit-identical only between runs of the same build on the same CPU features; every run
JSON and ``fastmlp bench`` record this dict so that a comparison knows which case it is in (``same_build``).

Keys of ``build_info()``:

- ``compiler``, ``compile_flags``: the C++ compiler (id and version) and the flags the kernels
  in use were compiled with (None when the extension is not built);
- ``module``: the compiled module in use (``fastmlp._cpp``, or ``fastmlp._cpp_v2`` / ``_v3`` /
  ``_v4`` of a portable build, chosen at import by ``fastmlp._isa``; ``FASTMLP_ISA`` forces one);
- ``isa_level``: the x86-64 level the extension was compiled for (``x86-64``, ``x86-64-v2``,
  ``-v3``, ``-v4``), from the compiler's predefined macros; ``isa_features``: the vector features
  enabled at compile time, named as in /proc/cpuinfo;
- ``numpy``: NumPy's version (the reference backend and the Python-side sums use it);
- ``cpu_model``: this machine's CPU model name (informative, not compared);
- ``cpu_level``: the highest x86-64 level this CPU supports; ``cpu_flags``: the CPU's vector
  features among ``RELEVANT_CPU_FLAGS`` (from /proc/cpuinfo; empty where that file is missing).

Extending it: add the key in ``build_info`` and, if it changes results, to ``BIT_IDENTITY_KEYS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .machine import cpu_model

# The x86-64 psABI levels as /proc/cpuinfo names their features (pni is SSE3, abm includes LZCNT).
X86_64_LEVELS = {
    "x86-64-v2": ("cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"),
    "x86-64-v3": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"),
    "x86-64-v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}
# Features that can change which instructions -march=native or a dispatcher picks.
RELEVANT_CPU_FLAGS = tuple(
    sorted(
        {flag for flags in X86_64_LEVELS.values() for flag in flags}
        | {"sse2", "avx_vnni", "avx512ifma", "avx512vbmi", "avx512_vnni", "avx512_bf16", "avx512_fp16"}
    )
)
# The keys that must be equal for two runs to be expected to agree bit for bit.
BIT_IDENTITY_KEYS = ("compiler", "compile_flags", "isa_level", "isa_features", "numpy", "cpu_flags")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """This CPU's features among RELEVANT_CPU_FLAGS, sorted; empty if /proc/cpuinfo is missing."""
    if not cpuinfo.is_file():
        return []
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            return [flag for flag in RELEVANT_CPU_FLAGS if flag in present]
    return []


def cpu_level(flags: list[str]) -> str:
    """The highest x86-64 level whose features (and those of the levels below) are all in flags."""
    level = "x86-64"
    for name, needed in X86_64_LEVELS.items():
        if not set(needed) <= set(flags):
            break
        level = name
    return level


def compiled_info() -> dict[str, Any]:
    """The compile-time part, from the compiled module in use (its ``build_info()``); None values
    if the extension is not built."""
    from . import _isa

    try:
        module = _isa.load()
    except ImportError:
        return {
            "compiler": None,
            "compile_flags": None,
            "module": None,
            "isa_level": None,
            "isa_features": None,
        }
    info: dict[str, Any] = {"module": module.__name__, **module.build_info()}
    # CMake writes its options joined as they are stored, with "SHELL:" markers and stray spaces.
    info["compile_flags"] = " ".join(str(info["compile_flags"]).replace("SHELL:", "").split())
    return info


def build_info() -> dict[str, Any]:
    """The build and CPU this process computes with (keys in the module docstring); JSON-ready."""
    flags = cpu_flags()
    return {
        **compiled_info(),
        "numpy": np.__version__,
        "cpu_model": cpu_model(),
        "cpu_level": cpu_level(flags),
        "cpu_flags": flags,
    }


def same_build(recorded: dict[str, Any] | None, current: dict[str, Any] | None = None) -> bool:
    """Whether ``recorded`` (a run's ``build_info``) matches ``current`` (default: this process)
    on every key of BIT_IDENTITY_KEYS. A record without build information never matches."""
    if not recorded:
        return False
    current = build_info() if current is None else current
    return all(recorded.get(key) == current.get(key) for key in BIT_IDENTITY_KEYS)


def describe(info: dict[str, Any] | None = None) -> str:
    """One line for report headers: compiler and flags, compiled and CPU levels, CPU model, NumPy."""
    info = build_info() if info is None else info
    return (
        f"{info['compiler']} {info['compile_flags']}, compiled for {info['isa_level']}, "
        f"running on a {info['cpu_level']} CPU ({info['cpu_model']}), NumPy {info['numpy']}"
    )
