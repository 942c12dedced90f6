"""The compiled module's stub (src/fastmlp/_cpp.pyi, what mypy checks every call against) says what
the binding (cpp/bindings.cpp) really has: the same names, and per function and constructor the
same parameters in the same order, read from pybind11's signatures."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKENDS

import fastmlp
from fastmlp.backends.interface import RawCalls

pytestmark = pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")

STUB = Path(fastmlp.__file__).parent / "_cpp.pyi"  # beside the module: the source tree's, or a wheel's


def _stub() -> dict[str, list[str] | None]:
    """Name -> parameter names (functions, class constructors without self), None for attributes."""
    declared: dict[str, list[str] | None] = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            declared[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
            declared[node.name] = [a.arg for a in init.args.args][1:]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not node.target.id.startswith("_"):  # _kernels: the stub's own, what the kernels are
                declared[node.target.id] = None
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
            # a kernel: ``name = _kernels.name``, its signature interface.RawCalls's (without self)
            kernel = getattr(RawCalls, node.value.attr)
            declared[node.value.attr] = list(inspect.signature(kernel).parameters)[1:]
    return declared


def _parameters(doc: str, name: str) -> list[str]:
    """The parameter names of the first signature pybind11 writes for ``name`` (overloads agree)."""
    match = re.search(rf"{name}\((.*?)\) ->", doc)
    assert match, doc
    names = [part.split(":")[0].strip() for part in re.split(r",\s*(?![^\[]*\])", match.group(1)) if part]
    return [n for n in names if n != "self"]


def test_the_stub_declares_exactly_what_the_binding_has():
    from fastmlp import _isa

    compiled = _isa.load()
    bound = {name for name in dir(compiled) if not name.startswith("__")}
    assert set(_stub()) == bound


def test_every_stub_signature_is_the_bindings():
    from fastmlp import _isa

    compiled = _isa.load()
    for name, parameters in _stub().items():
        if parameters is None:
            continue
        value = getattr(compiled, name)
        doc = value.__init__.__doc__ if isinstance(value, type) else value.__doc__
        assert _parameters(doc, "__init__" if isinstance(value, type) else name) == parameters, name


def test_mypy_stubtest_finds_the_stub_and_the_binding_the_same():
    """mypy's stubtest imports the compiled module and compares every name, signature, type of
    member (read-only properties included) with the stub; only pybind11's machinery is allowed
    (tests/stubtest_allowlist.txt, each entry with its reason)."""
    from fastmlp import _isa

    if _isa.load().__name__ != "fastmlp._cpp":
        pytest.skip("a portable wheel's per-level module: the stub names fastmlp._cpp")
    allowlist = Path(__file__).with_name("stubtest_allowlist.txt")
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "fastmlp._cpp", "--concise", "--allowlist", str(allowlist)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
