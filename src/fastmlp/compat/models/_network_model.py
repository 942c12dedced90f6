"""``_CompatModel``: a fastmlp ``Network`` behind the assignment's model interface.

The maths runs in fastmlp's kernels (the model's ``backend``), in float64 unless the model is
built with ``dtype="float32"``. This is the one layer of fastmlp whose contract is to convert:
whatever user code puts into ``weights`` or ``gradients`` (another float dtype, a list, a
transposed view) is converted to the model's dtype and layout once, into the dict itself, when
it is used; the kernels underneath stay strict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import models
from ..._memory import aligned, aligned_zeros
from ...errors import FastmlpTypeError, FastmlpValueError
from ...models.network import initial_weight
from ._base_network import _baseNetwork


class _CompatModel(_baseNetwork):
    """A fastmlp ``Network`` behind the assignment's interface.

    ``weights`` is the network's own parameter dict (updates through either name are shared);
    ``gradients`` holds zeros of every parameter's shape from construction, then the gradients of
    the last ``forward`` in train mode.
    """

    def __init__(self, network: models.Network) -> None:
        super().__init__(network.input_size, network.num_classes, backend=network.backend)
        self.network = network
        self._weight_init()

    def _weight_init(self) -> None:
        """The assignment's initialisation, global side effect included: before each weight
        matrix ``np.random.seed(1024)``, then ``0.001 * np.random.randn(fan_in, fan_out)``, so
        code that draws from NumPy's global generator after building a model sees the numbers it
        sees after the assignment's. Biases and every gradient start at zero. (Models built with
        another ``init`` draw it as ``fastmlp.models`` does, without touching the global one.)"""
        network = self.network
        for i, layer in enumerate(network.layer_specs, start=1):
            shape = (layer.fan_in, layer.fan_out)
            if network.init == "assignment":
                np.random.seed(network.seed)  # noqa: NPY002  # the assignment's global generator
                weight = 0.001 * np.random.randn(*shape)  # noqa: NPY002
            else:
                weight = initial_weight(shape, network.init, network.seed)
            network.params[f"W{i}"] = aligned(weight.astype(network.dtype))
            if layer.has_bias:
                network.params[f"b{i}"] = aligned_zeros(layer.fan_out, network.dtype)
        self.gradients = {name: aligned_zeros(p.shape, p.dtype) for name, p in network.params.items()}

    @property
    def dtype(self) -> np.dtype:
        dtype: np.dtype = self.network.dtype
        return dtype

    @property
    def weights(self) -> dict[str, np.ndarray]:
        return self.network.params

    @weights.setter
    def weights(self, value: dict[str, np.ndarray]) -> None:
        if not isinstance(value, dict):
            raise FastmlpTypeError(f"weights must be a dict of arrays, got {type(value).__name__}")
        # _baseNetwork.__init__ assigns an empty dict before the network exists: nothing to replace yet.
        if hasattr(self, "network"):
            self.network.params = value  # converted when used (parameters())

    def _realign(self) -> None:
        super()._realign()
        self.network.params = {name: aligned(p) for name, p in self.network.params.items()}

    def _convert(self, value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
        """``value`` as the model's dtype and shape, C-contiguous and writable: the array itself
        when it already is one, whatever its alignment (so in-place updates reach it), else a
        converted copy, which the caller stores in the dict in its place."""
        if (
            isinstance(value, np.ndarray)
            and value.dtype == self.dtype
            and value.shape == shape
            and value.flags.c_contiguous
            and value.flags.writeable
        ):
            return value
        try:
            array = np.array(value, dtype=self.dtype, order="C")
        except (TypeError, ValueError) as error:
            kind = type(value).__name__
            raise FastmlpTypeError(f"{name} must be an array of numbers, got {kind}") from error
        if array.shape != shape:
            raise FastmlpValueError(f"{name} must have shape {shape}, got {array.shape}")
        return aligned(array)

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters the kernels will use, after converting what user code assigned."""
        params = self.network.params
        for spec_name, shape in self._shapes().items():
            if spec_name not in params:
                raise FastmlpValueError(f"weights must hold {spec_name!r} (keys {sorted(self._shapes())})")
            params[spec_name] = self._convert(params[spec_name], shape, f"weights[{spec_name!r}]")
        return params

    def gradient(self, name: str) -> np.ndarray:
        """``gradients[name]`` as the kernels will use it: what user code assigned, converted once
        and put back into ``gradients`` (so a later ``+=`` or update changes the dict's array)."""
        shape = self._shapes()[name]
        if name not in self.gradients:
            raise FastmlpValueError(f"gradients must hold {name!r} (keys {sorted(self._shapes())})")
        gradient = self._convert(self.gradients[name], shape, f"gradients[{name!r}]")
        self.gradients[name] = gradient
        return gradient

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i, layer in enumerate(self.network.layer_specs, start=1):
            shapes[f"W{i}"] = (layer.fan_in, layer.fan_out)
            if layer.has_bias:
                shapes[f"b{i}"] = (layer.fan_out,)
        return shapes

    def forward(self, X: Any, y: Any, mode: str = "train") -> tuple[np.float64, np.float64]:
        """Loss and accuracy (``numpy.float64``, as the assignment's) on the batch X (N, D), y (N,);
        in ``mode='train'`` also fills ``self.gradients`` (the gradients of the mean loss, before
        regularisation)."""
        if mode not in ("train", "valid", "test"):
            raise FastmlpValueError(f"mode must be 'train', 'valid' or 'test', got {mode!r}")
        self.parameters()
        x = np.asarray(X, dtype=self.dtype)
        loss, correct = self.network.forward(x, np.asarray(y))
        if mode == "train":
            self.gradients.update(self.network.backward())
        return np.float64(loss), np.float64(correct / len(x))
