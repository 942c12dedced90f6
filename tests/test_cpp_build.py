"""The compiled extension is built, importable, and registered as the ``cpp`` backend."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fastmlp
from fastmlp.backends import numpy_backend


def test_extension_loads_and_backend_is_listed() -> None:
    from fastmlp import _isa

    _cpp = _isa.load()  # fastmlp._cpp, or the selected fastmlp._cpp_vN of a portable build
    assert callable(_cpp.affine_forward)
    assert "cpp" in fastmlp.available_backends()


def test_cpp_backend_has_the_reference_interface() -> None:
    cpp = fastmlp.get_backend("cpp")
    for name in numpy_backend.__all__:
        expected = inspect.signature(getattr(numpy_backend, name)).parameters.values()
        ours = inspect.signature(getattr(cpp, name)).parameters.values()
        assert [(p.name, p.kind, p.default) for p in ours] == [
            (p.name, p.kind, p.default) for p in expected
        ], name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_module_refuses_a_wrong_dtype_instead_of_copying(dtype: type) -> None:
    # The bindings take no implicit conversions: writing into a converted copy would be lost.
    from fastmlp import _isa

    _cpp = _isa.load()
    z = np.ones((2, 3), dtype=dtype)
    other = np.float64 if dtype is np.float32 else np.float32
    with pytest.raises(TypeError):
        _cpp.relu_forward(z, np.empty((2, 3), dtype=other))
    with pytest.raises(TypeError):
        _cpp.relu_forward(z, np.empty((3, 2), dtype=dtype).T)


def test_compiled_activation_table_is_the_python_table() -> None:
    # backends.tables.ACTIVATIONS is the one definition; cpp/activations.hpp mirrors it row by row.
    from fastmlp import _isa
    from fastmlp.backends.tables import ACTIVATIONS

    assert _isa.load().activation_codes == {row.name: row.code for row in ACTIVATIONS.values()}


def _bound(dtype: type = np.float32, codes: tuple[int, int] = (2, 0)) -> tuple[list, list, list, list]:
    weights = [np.zeros((4, 3), dtype), np.zeros((3, 2), dtype)]
    biases = [np.zeros(3, dtype), None]
    return weights, biases, list(codes), [None, None]


def test_compiled_epoch_refuses_a_malformed_description_with_value_error() -> None:
    # backends._epoch checks every description first; the compiled module still never trusts shapes
    # it can check cheaply, so a wrong direct call raises instead of reading foreign memory.
    from fastmlp import _isa

    _cpp = _isa.load()
    weights, biases, codes, none = _bound()
    x, y = np.zeros((5, 4), np.float32), np.zeros(5, np.int64)
    order = np.arange(5, dtype=np.int64)
    sgd = _cpp.StepSettings(0, 0.1, 0.0, 0.0, 0.9, 0.999, 1e-8, False)
    ce = _cpp.loss_codes["softmax_cross_entropy"]

    def network(weights=weights, biases=biases, codes=codes, loss=ce):
        return _cpp.NativeModel(weights, biases, codes, none, none, none, none, loss, None)

    with pytest.raises(ValueError, match="activations"):
        network(codes=[2, len(_cpp.activation_codes)])  # one past the table
    with pytest.raises(ValueError, match="loss"):
        network(loss=len(_cpp.loss_codes))
    with pytest.raises(ValueError, match="weights"):
        network(weights=[weights[0], weights[0]])
    with pytest.raises(ValueError, match="one entry per layer"):
        network(biases=biases[:1])
    with pytest.raises(ValueError, match="rule"):
        _cpp.StepSettings(len(_cpp.rule_codes), 0.1, 0.0, 0.0, 0.9, 0.999, 1e-8, False)
    net = network()
    with pytest.raises(ValueError, match="x must be"):
        _cpp.train_epoch(np.zeros((5, 6), np.float32), y, None, None, order, net, sgd, 2, None, 1)
    with pytest.raises(ValueError, match="y must be labels"):  # values for a loss on labels
        _cpp.train_epoch(x, None, np.zeros((5, 2), np.float32), None, order, net, sgd, 2, None, 1)
    with pytest.raises(ValueError, match="sample_weight"):
        _cpp.train_epoch(x, y, None, np.ones(4, np.float32), order, net, sgd, 2, None, 1)
    with pytest.raises(ValueError, match="dtype"):  # float64 x against float32 weights
        _cpp.evaluate(x.astype(np.float64), y, None, None, net, 2, None, 1)
    no_values = np.zeros(0, np.float32)
    sparse = _cpp.SparseRows(np.zeros(4, np.int64), np.zeros(0, np.uint16), no_values, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="another shape"):  # an index of 3 rows for an x of 5
        _cpp.train_epoch(x, y, None, None, order, net, sgd, 2, sparse, 1)
    wide = no_values.astype(np.float64)
    sparse = _cpp.SparseRows(np.zeros(6, np.int64), np.zeros(0, np.uint16), wide, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="values"):  # float64 values for a float32 x
        _cpp.train_epoch(x, y, None, None, order, net, sgd, 2, sparse, 1)
    with pytest.raises(ValueError, match="indptr"):
        _cpp.SparseRows(np.array([0, 2], np.int64), np.zeros(1, np.uint16), no_values, np.zeros(4, np.int64))
    assert (
        _cpp.train_epoch(x, y, None, None, order, net, sgd, 2, None, 1)[1] == 3
    )  # the well-formed call runs
