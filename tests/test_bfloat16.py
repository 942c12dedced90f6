"""precision="bfloat16" (issue 21): the NumPy emulation of the rounding against hand-derived bit
patterns and ml_dtypes, the native bfloat16 GEMM and epoch against that emulation (the tolerance
table's float32 row), repeatable bits at any thread count, and the errors where it is not run:
a CPU without AVX512_BF16, the numba backend, float64, an unknown precision."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS
from tolerances import assert_close

import fastmlp
from fastmlp.backends._epoch import native_model
from fastmlp.backends.precision import round_to_bfloat16
from fastmlp.errors import FastmlpTypeError, FastmlpValueError
from fastmlp.models import MLP
from fastmlp.optim import SGD, SGDSettings
from fastmlp.threads import max_threads
from fastmlp.train import epoch_pass, evaluation_pass

# float32 bits -> the bits of the nearest bfloat16 (as float32), derived by hand from the format:
# sign 1, exponent 8, mantissa 7 (the high half of a float32), ties to even, subnormals as zero.
BIT_PATTERNS = {
    0x3F800000: 0x3F800000,  # 1.0: exact
    0x3F808000: 0x3F800000,  # 1 + 2^-8: a tie, the kept last bit 0 stays (down)
    0x3F818000: 0x3F820000,  # 1 + 3 * 2^-8: a tie, the kept last bit 1 rounds up to even
    0x3F808001: 0x3F810000,  # just above the tie: up
    0x3F807FFF: 0x3F800000,  # just below: down
    0xBF818000: 0xBF820000,  # the same tie, negative
    0x3FFFFFFF: 0x40000000,  # 1.99999988: carries into the exponent (2.0)
    0x00800000: 0x00800000,  # the smallest normal float32 is a bfloat16
    0x00000001: 0x00000000,  # subnormal inputs are zero (VCVTNE2PS2BF16: DAZ)
    0x807FFFFF: 0x80000000,  # ... keeping their sign
    0x7F7FFFFF: 0x7F800000,  # the largest float32 rounds past the largest bfloat16: infinity
    0x7F800000: 0x7F800000,  # infinity stays
    0xFF800000: 0xFF800000,
    0x7F800001: 0x7FC00000,  # a signalling NaN becomes a quiet one
    0xFFC12345: 0xFFC10000,  # a quiet NaN keeps its sign and high payload
}

CPP = "cpp" in BACKENDS
if CPP:
    from fastmlp.backends import cpp_backend

    HAS_BF16 = cpp_backend._compiled.cpu_has_bf16()
else:
    HAS_BF16 = False


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def test_rounding_matches_hand_derived_bit_patterns():
    given = np.array(list(BIT_PATTERNS), dtype=np.uint32).view(np.float32)
    want = np.array(list(BIT_PATTERNS.values()), dtype=np.uint32)
    got = _bits(round_to_bfloat16(given))
    assert [hex(v) for v in got] == [hex(v) for v in want]
    assert round_to_bfloat16(given.reshape(3, 5)).shape == (3, 5)


def test_rounding_matches_ml_dtypes_bfloat16():
    """An independent implementation (ml_dtypes' bfloat16 cast, round to nearest even) on normal
    numbers over the whole exponent range, ties included."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(0)
    bits = rng.integers(0x00800000, 0x7F7F0000, 200_000, dtype=np.uint32)
    bits[:1000] = (bits[:1000] & 0xFFFF0000) | 0x8000  # exact ties
    bits[1000:2000] |= 0x80000000  # negative
    x = bits.view(np.float32)
    want = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    np.testing.assert_array_equal(_bits(round_to_bfloat16(x)), _bits(want))


def test_products_of_rounded_values_are_exact_in_float32():
    """Why the emulation may multiply in float32: 8-bit mantissas make 16-bit products."""
    rng = np.random.default_rng(1)
    a = round_to_bfloat16(rng.standard_normal(10_000).astype(np.float32))
    b = round_to_bfloat16(rng.standard_normal(10_000).astype(np.float32))
    np.testing.assert_array_equal((a * b).astype(np.float64), a.astype(np.float64) * b.astype(np.float64))


@pytest.mark.skipif(not CPP, reason="FASTMLP_TEST_BACKENDS excludes cpp")
@pytest.mark.parametrize("shape", [(37, 33, 10), (256, 784, 100), (5, 1, 17), (13, 64, 40), (1, 3, 1)])
def test_native_gemm_matches_the_emulation(shape):
    """The compiled bfloat16 GEMM (odd K padded, narrow and tail tiles) against the rounded inputs'
    product in float64; on a CPU without AVX512_BF16 the call is refused instead."""
    N, K, M = shape
    rng = np.random.default_rng(2)
    a = rng.standard_normal((N, K)).astype(np.float32)
    b = rng.standard_normal((K, M)).astype(np.float32)
    if not HAS_BF16:
        with pytest.raises(ValueError, match="AVX512_BF16"):
            cpp_backend._compiled.gemm_bf16(a, b)
        return
    want = round_to_bfloat16(a).astype(np.float64) @ round_to_bfloat16(b).astype(np.float64)
    got = cpp_backend._compiled.gemm_bf16(a, b)
    assert_close(got, want.astype(np.float32), np.float32, scale=float(np.sqrt(K)))
    # and not the float32 product: the inputs really are rounded
    assert np.abs(got - (a.astype(np.float64) @ b)).max() > 1e-3


def _data(dense: bool, rows: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 37)) * (1.0 if dense else (rng.random((rows, 37)) < 0.2))
    return x.astype(np.float32), rng.integers(0, 10, rows)


def _train(backend: str, threads: int = 1, epochs: int = 2, dense: bool = True, **sparse):
    """Epochs of a bfloat16 MLP and an evaluation pass; ``sparse`` (the native epoch's option) goes
    to the native epoch directly."""
    x, y = _data(dense)
    order = np.random.default_rng(3).permutation(len(x))[:290]  # a short last batch
    model = MLP(37, [40, 33], 10, "relu", backend=backend, precision="bfloat16", seed=0)
    opt = SGD(0.05, reg=1e-3, momentum=0.9)
    native = model.backend.native_epoch
    results = []
    with fastmlp.threads.thread_budget(threads):
        for _ in range(epochs):
            if sparse:
                assert native is not None
                results.append(native.train_epoch(model.describe(opt), x, y, order, batch_size=32, **sparse))
            else:
                results.append(epoch_pass(model, opt, x, y, order, 32))
        results.append(evaluation_pass(model, x, y, 64))
    return model, results


@pytest.mark.skipif(not CPP, reason="FASTMLP_TEST_BACKENDS excludes cpp")
@pytest.mark.parametrize("threads", [n for n in (1, 2) if n <= max_threads()])
def test_native_bfloat16_epoch_matches_the_numpy_emulation(threads):
    if not HAS_BF16:
        with pytest.raises(FastmlpValueError, match=r"precision='bfloat16'.*AVX512_BF16"):
            MLP(37, [40], 10, backend="cpp", precision="bfloat16")
        return
    reference, want = _train("numpy")
    model, got = _train("cpp", threads)
    for g, w in zip(got, want, strict=True):
        assert g.batches == w.batches
        assert abs(g.correct - w.correct) <= 1  # a row at the decision boundary may flip
        assert_close(g.loss_sum, w.loss_sum, np.float32, scale=10.0)
    for name, value in model.params.items():
        assert_close(value, reference.params[name], np.float32)
    # the emulation is not float32's epoch: bfloat16 inputs change the weights measurably
    float_model = MLP(37, [40, 33], 10, "relu", backend="cpp", seed=0)
    x, y = _data(True)
    order = np.random.default_rng(3).permutation(len(x))[:290]
    opt = SGD(0.05, reg=1e-3, momentum=0.9)
    for _ in range(2):
        epoch_pass(float_model, opt, x, y, order, 32)
    assert np.abs(float_model.params["W1"] - model.params["W1"]).max() > 1e-4


@pytest.mark.skipif(not CPP, reason="FASTMLP_TEST_BACKENDS excludes cpp")
@pytest.mark.parametrize("dense", [True, False])
def test_native_bfloat16_bits_repeat_and_do_not_depend_on_threads(dense):
    if not HAS_BF16:
        with pytest.raises(FastmlpValueError, match="AVX512_BF16"):
            MLP(37, [40], 10, backend="cpp", precision="bfloat16")
        return
    sparse = {} if dense else {"sparse": True}  # sparse=True: layer 1 over the non-zeros, in float32
    first, r1 = _train("cpp", 1, dense=dense, **sparse)
    again, r2 = _train("cpp", 1, dense=dense, **sparse)
    two, r3 = _train("cpp", 2, dense=dense, **sparse)
    for name, value in first.params.items():
        assert value.tobytes() == again.params[name].tobytes() == two.params[name].tobytes(), name
    assert r1 == r2 == r3


@pytest.mark.skipif(not CPP, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_bfloat16_sparse_layer_one_is_float32():
    """sparse=True keeps layer 1 in float32 (the rest bfloat16): close to the all-bfloat16 epoch,
    not equal to it; sparse=None under bfloat16 runs layer 1 dense, as the emulation does."""
    if not HAS_BF16:
        with pytest.raises(FastmlpValueError, match="AVX512_BF16"):
            MLP(37, [40], 10, backend="cpp", precision="bfloat16")
        return
    dense_model, _ = _train("cpp", dense=False, sparse=False)
    default_model, _ = _train("cpp", dense=False)
    sparse_model, _ = _train("cpp", dense=False, sparse=True)
    assert dense_model.params["W1"].tobytes() == default_model.params["W1"].tobytes()
    assert dense_model.params["W1"].tobytes() != sparse_model.params["W1"].tobytes()
    np.testing.assert_allclose(sparse_model.params["W1"], dense_model.params["W1"], atol=2e-2)


def _tiny_bfloat16_net():
    """A 4-3 bfloat16 native model and 5 rows for it: what the refusals are tried on."""
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((4, 3)).astype(np.float32)]
    net = native_model(w, [None], [None], step=SGDSettings(0.1), precision="bfloat16")
    return net, rng.standard_normal((5, 4)).astype(np.float32)


@pytest.mark.skipif("numba" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes numba")
def test_numba_rejects_bfloat16_naming_the_argument_and_backend():
    with pytest.raises(FastmlpValueError, match=r"precision='bfloat16'.*numba"):
        MLP(37, [40], 10, backend="numba", precision="bfloat16")
    net, x = _tiny_bfloat16_net()
    native = fastmlp.get_backend("numba").native_epoch
    with pytest.raises(FastmlpValueError, match=r"net\.precision='bfloat16'.*numba"):
        native.train_epoch(net, x, np.zeros(5, np.int64), np.arange(5), batch_size=2)


def test_precision_is_checked():
    with pytest.raises(FastmlpValueError, match="precision must be one of float32, bfloat16"):
        MLP(4, [3], 2, backend="numpy", precision="float16")
    with pytest.raises(FastmlpTypeError, match="precision must be one of"):
        MLP(4, [3], 2, backend="numpy", precision=16)  # type: ignore[arg-type]
    with pytest.raises(FastmlpValueError, match="precision='bfloat16' needs dtype float32"):
        MLP(4, [3], 2, backend="numpy", dtype="float64", precision="bfloat16")
    w = [np.zeros((4, 3))]
    with pytest.raises(FastmlpValueError, match="precision='bfloat16' needs dtype float32"):
        native_model(w, [None], [None], precision="bfloat16")


def test_numpy_reference_rounds_each_gemm_input():
    """The kernel-by-kernel bfloat16 forward is the float32 forward of the rounded x and W."""
    x, _ = _data(True, rows=20)
    model = MLP(37, [], 10, backend="numpy", precision="bfloat16", seed=0)
    W, b = model.params["W1"], model.params["b1"]
    want = round_to_bfloat16(x) @ round_to_bfloat16(W) + b
    np.testing.assert_array_equal(model.scores(x), want)
    assert not np.array_equal(model.scores(x), x @ W + b)


@pytest.mark.skipif(not CPP, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_a_cpu_without_avx512_bf16_gets_a_clear_error(monkeypatch):
    """What an AVX2-only Zen 3 (or any CPU without AVX512_BF16) sees, on every CPU: the CPUID
    probe answered False."""
    monkeypatch.setattr(cpp_backend._compiled, "cpu_has_bf16", lambda: False)
    with pytest.raises(FastmlpValueError, match=r"precision='bfloat16' on the cpp backend: .*AVX512_BF16"):
        MLP(37, [40], 10, backend="cpp", precision="bfloat16")
    net, x = _tiny_bfloat16_net()
    native = fastmlp.get_backend("cpp").native_epoch
    with pytest.raises(FastmlpValueError, match=r"net\.precision='bfloat16'.*AVX512_BF16"):
        native.evaluate(net, x, np.zeros(5, np.int64), batch_size=2)
    # float32 is untouched by it, and the numpy emulation runs anywhere
    MLP(37, [40], 10, backend="cpp")
    MLP(37, [40], 10, backend="numpy", precision="bfloat16")
