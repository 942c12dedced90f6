"""The compiled build in use is the best level this CPU runs; FASTMLP_ISA forces one.

A portable build (FASTMLP_NATIVE_ARCH=OFF) has one module per x86-64 level: the kernel tests run at
every level the CPU supports (each in a fresh interpreter, since the level is chosen at import)
against the NumPy reference. A default build has the one native module, so those cases reduce
to it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fastmlp import _isa

SUPPORTED = _isa.supported_levels()


def test_the_selected_level_is_the_best_supported_one():
    assert SUPPORTED, "no compiled build runs on this CPU"
    info = _isa.isa_info()
    expected = os.environ.get(_isa.ENV) or SUPPORTED[0]
    assert info["isa"] == expected
    assert info["module"] == _isa.MODULES[expected]
    assert set(info["supported"]) <= set(info["built"])
    if expected.startswith("x86-64-"):
        assert info["arch_flags"] == f"-march={expected}"


def test_an_unknown_or_unbuilt_level_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(_isa.ENV, "x86-64-v9")
    with pytest.raises(ValueError, match="FASTMLP_ISA='x86-64-v9' is not built"):
        _isa._forced()


def test_the_cpu_probe_answers_for_every_level():
    probe = _isa._probe()
    assert probe.cpu_supports("native") and not probe.cpu_supports("x86-64-v9")
    # The levels nest: a CPU with v4 has v3, with v3 has v2.
    answers = [probe.cpu_supports(level) for level in ("x86-64-v2", "x86-64-v3", "x86-64-v4")]
    assert answers == sorted(answers, reverse=True)


@pytest.mark.parametrize("level", SUPPORTED)
def test_kernels_match_the_reference_at_every_supported_level(level):
    env = {**os.environ, _isa.ENV: level, "FASTMLP_TEST_BACKENDS": "numpy,cpp"}
    test_dir = os.path.dirname(__file__)
    check = f"import fastmlp._isa as i; assert i.isa_info()['isa'] == {level!r}, i.isa_info()"
    subprocess.run([sys.executable, "-c", check], env=env, check=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-k",
            "not numba",
            os.path.join(test_dir, "test_kernels_reference.py"),
            os.path.join(test_dir, "test_native_epoch.py"),
            os.path.join(test_dir, "test_gemm.py"),  # v2: Eigen's GEMM; v3: the AVX2 kernel; v4: AVX-512
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]  # tests ran, none failed
