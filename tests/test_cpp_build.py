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
    from fastmlp.backends import cpp_backend

    assert cpp_backend.__all__ == numpy_backend.__all__
    for name in numpy_backend.__all__:
        expected = inspect.signature(getattr(numpy_backend, name))
        assert inspect.signature(getattr(cpp_backend, name)) == expected, name


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
