"""Checked by mypy (strict), never run: ``tests/test_typing.py``. Every call that crosses the backend
boundary has the type the interface declares and not ``Any``: ``assert_type`` fails on an ``Any``
(mypy reports "Expression is of type Any"), so this file proves mypy sees no ``Any`` there."""

from __future__ import annotations

import numpy as np
from typing_extensions import assert_type  # typing's own from Python 3.11; mypy targets 3.10

from fastmlp import _cpp
from fastmlp.backends import cpp_backend, get_backend, numba_backend, numpy_backend
from fastmlp.backends._epoch import NativeModel, PassResult
from fastmlp.backends.interface import Backend, NativeEpoch, RawCalls

x = np.zeros((4, 3), np.float32)
w = np.zeros((3, 2), np.float32)
y = np.zeros(4, np.int64)
order = np.arange(4, dtype=np.int64)

# The registry and the backend objects.
backend = get_backend("cpp")
assert_type(backend, Backend)
assert_type(backend.name, str)
assert_type(cpp_backend.BACKEND, Backend)
assert_type(numba_backend.BACKEND, Backend)
assert_type(numpy_backend.BACKEND, Backend)

# Kernels: the Protocol's return types.
assert_type(backend.affine_forward(x, w), np.ndarray)
assert_type(backend.affine_backward(x, x, w), tuple[np.ndarray | None, np.ndarray, np.ndarray | None])
assert_type(backend.relu_forward(x), np.ndarray)
assert_type(backend.softmax_cross_entropy(x, y), tuple[float, np.ndarray])
assert_type(backend.accuracy(x, y), float)
backend.sgd_update(w, w, 0.1)  # the update kernels return None: mypy checks their arguments
backend.adam_update(w, w, w, w, 0.1, 0.0, 0.9, 0.999, 1e-8)

# The native epoch: declared capability, then a named result.
native = backend.native_epoch
assert_type(native, NativeEpoch | None)
if native is not None:
    net: NativeModel = NativeModel.__new__(NativeModel)
    result = native.train_epoch(net, x, y, order, batch_size=2, threads=1)
    assert_type(result, PassResult)
    assert_type(result.loss_sum, float)
    assert_type(result.correct, int)
    assert_type(native.evaluate(net, x, y, batch_size=2), PassResult)

# The compiled module itself is checked against the raw calls' interface, and its stub's calls
# have concrete types.
calls: RawCalls = _cpp
assert_type(_cpp.cross_entropy_forward(x, y), float)
assert_type(_cpp.correct_count(x, y), int)
assert_type(_cpp.get_num_threads(), int)
