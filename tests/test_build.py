"""fastmlp.build_info(): what the extension was compiled for and what this CPU offers, and the
comparison with committed runs that it decides (tests/committed.py)."""

from __future__ import annotations

import copy
import json

import pytest
from committed import assert_runs_match, comparison_for

import fastmlp
from fastmlp import build

LEVELS = ("x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4")


def test_build_info_describes_the_extension_and_the_cpu():
    info = fastmlp.build_info()
    assert set(info) >= {"compiler", "compile_flags", "isa_level", "isa_features", "numpy", "cpu_model"}
    assert info["compiler"].split()[0] in ("GNU", "Clang", "AppleClang", "IntelLLVM")
    assert "-O" in info["compile_flags"]
    assert info["isa_level"] in LEVELS and info["cpu_level"] in LEVELS
    json.dumps(info)  # it goes into every run JSON
    if info["cpu_flags"]:  # Linux: the extension runs, so the CPU has every feature it was built for
        assert set(info["isa_features"]) <= set(info["cpu_flags"])
        assert LEVELS.index(info["isa_level"]) <= LEVELS.index(info["cpu_level"])


def test_cpu_level_needs_every_feature_of_the_levels_below():
    v2 = list(build.X86_64_LEVELS["x86-64-v2"])
    v3 = v2 + list(build.X86_64_LEVELS["x86-64-v3"])
    v4 = v3 + list(build.X86_64_LEVELS["x86-64-v4"])
    assert build.cpu_level([]) == "x86-64"
    assert build.cpu_level(v2) == "x86-64-v2"
    assert build.cpu_level(v3) == "x86-64-v3"
    assert build.cpu_level(v4) == "x86-64-v4"
    assert build.cpu_level(v4[1:]) == "x86-64"  # AVX-512 without cx16 is not even v2
    assert build.cpu_level([f for f in v4 if f != "fma"]) == "x86-64-v2"


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Some CPU\nflags\t\t: fpu sse2 avx2 fma made_up\n")
    assert build.cpu_flags(cpuinfo) == ["avx2", "fma", "sse2"]
    assert build.cpu_flags(tmp_path / "missing") == []


def test_same_build_compares_every_identity_key():
    info = fastmlp.build_info()
    assert build.same_build(info) and build.same_build(copy.deepcopy(info), info)
    assert not build.same_build(None) and not build.same_build({})
    for key in build.BIT_IDENTITY_KEYS:
        other = {**info, key: "something else"}
        assert not build.same_build(other, info), key
    assert build.same_build({**info, "cpu_model": "another name"}, info)  # informative only


def _run(losses, accuracies, best_epoch):
    history = [
        {"epoch": e, "train_loss": loss, "val_loss": loss, "train_acc": acc, "val_acc": acc}
        for e, (loss, acc) in enumerate(zip(losses, accuracies, strict=True), start=1)
    ]
    best = dict(history[best_epoch - 1])
    return {"history": history, "best": {"epoch": best_epoch, **best, "test_acc": best["val_acc"]}}


def test_committed_comparison_is_bitwise_only_on_the_same_build():
    committed = {**_run([1.0, 0.5], [0.5, 0.8], 2), "build_info": fastmlp.build_info()}
    assert comparison_for(committed) == "bitwise"
    assert (
        comparison_for({**committed, "build_info": {**committed["build_info"], "isa_level": "x"}})
        == "tolerance"
    )
    assert comparison_for(_run([1.0], [0.5], 1)) == "tolerance"  # recorded before build_info existed


def test_committed_comparison_fails_where_it_should():
    committed = _run([1.0, 0.5], [0.5, 0.8], 2)
    last_bits = _run([1.0 + 1e-9, 0.5], [0.5, 0.8], 2)
    assert_runs_match(committed, committed, "bitwise")
    assert_runs_match(last_bits, committed, "tolerance")
    with pytest.raises(AssertionError):
        assert_runs_match(last_bits, committed, "bitwise")
    with pytest.raises(AssertionError):
        assert_runs_match(_run([1.0, 0.51], [0.5, 0.8], 2), committed, "tolerance")
    with pytest.raises(AssertionError):
        assert_runs_match(_run([1.0, 0.5], [0.5, 0.79], 2), committed, "tolerance")
    # Another best epoch passes only where the committed validation curve is nearly tied.
    tied = _run([1.0, 0.5], [0.8, 0.8005], 2)
    assert_runs_match(_run([1.0, 0.5], [0.8004, 0.8001], 1), tied, "tolerance")
    with pytest.raises(AssertionError):
        assert_runs_match(_run([1.0, 0.5], [0.5, 0.8], 1), committed, "tolerance")
