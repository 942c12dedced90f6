"""The course's two models and a general MLP, as stacks of layers."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._validate import positive_int
from ..errors import FastmlpTypeError, FastmlpValueError
from .network import ACTIVATIONS, Layer, Network, NetworkOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11


class SoftmaxRegression(Network):
    """W1 (D, C), no bias -> ReLU -> softmax cross-entropy.

    The ReLU on the scores is the assignment's design, kept so results match the write-up.
    ``options`` (dtype, backend, init, seed) are Network's, with its defaults.
    """

    def __init__(
        self, input_size: int = 784, num_classes: int = 10, **options: Unpack[NetworkOptions]
    ) -> None:
        layers = [
            Layer(
                positive_int("input_size", input_size),
                positive_int("num_classes", num_classes),
                False,
                "relu",
            )
        ]
        super().__init__(layers, **options)

    def config(self) -> dict[str, Any]:
        return {"type": "SoftmaxRegression", "input_size": self.input_size, "num_classes": self.num_classes}


class TwoLayerNet(Network):
    """W1 (D, H), b1 -> sigmoid -> W2 (H, C), b2 -> softmax cross-entropy.

    ``options`` (dtype, backend, init, seed) are Network's, with its defaults.
    """

    def __init__(
        self,
        input_size: int = 784,
        hidden_size: int = 128,
        num_classes: int = 10,
        **options: Unpack[NetworkOptions],
    ) -> None:
        d = positive_int("input_size", input_size)
        h = positive_int("hidden_size", hidden_size)
        c = positive_int("num_classes", num_classes)
        layers = [Layer(d, h, True, "sigmoid"), Layer(h, c, True, None)]
        super().__init__(layers, **options)

    @property
    def hidden_size(self) -> int:
        return self.layer_specs[0].fan_out

    def config(self) -> dict[str, Any]:
        return {
            "type": "TwoLayerNet",
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_classes": self.num_classes,
        }


class MLP(Network):
    """Any depth: affine + ``activation`` for each hidden size, then affine -> ``loss`` (a row of
    ``backends.tables.LOSSES``: softmax cross-entropy by default).

    ``options`` (dtype, backend, init, seed, loss, precision) are Network's, with its defaults
    except ``init``, "he" here (the course's models keep the assignment's).
    """

    def __init__(
        self,
        input_size: int = 784,
        hidden_sizes: Sequence[int] = (128,),
        num_classes: int = 10,
        activation: str = "relu",
        **options: Unpack[NetworkOptions],
    ) -> None:
        if activation not in ACTIVATIONS:
            raise FastmlpValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
            raise FastmlpTypeError(f"hidden_sizes must be a list of ints, got {type(hidden_sizes).__name__}")
        sizes = [positive_int("input_size", input_size)]
        sizes += [positive_int(f"hidden_sizes[{i}]", h) for i, h in enumerate(hidden_sizes)]
        sizes.append(positive_int("num_classes", num_classes))
        layers = [
            Layer(fan_in, fan_out, True, activation if i < len(sizes) - 2 else None)
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes))
        ]
        self.activation = activation
        options.setdefault("init", "he")
        super().__init__(layers, **options)

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "input_size": self.input_size,
            "hidden_sizes": [layer.fan_out for layer in self.layer_specs[:-1]],
            "num_classes": self.num_classes,
            "activation": self.activation,
            **({} if self.loss.name == "softmax_cross_entropy" else {"loss": self.loss.name}),
        }


MODEL_TYPES: dict[str, type[Network]] = {
    "SoftmaxRegression": SoftmaxRegression,
    "TwoLayerNet": TwoLayerNet,
    "MLP": MLP,
}


def build_model(config: dict[str, Any], **options: Any) -> Network:
    """A model from its config (``type`` plus constructor arguments); ``options`` add dtype etc."""
    kind = config.get("type")
    if kind not in MODEL_TYPES:
        raise FastmlpValueError(f"Model.type must be one of {', '.join(MODEL_TYPES)}, got {kind!r}")
    arguments = {key: value for key, value in config.items() if key != "type"}
    return MODEL_TYPES[kind](**arguments, **options)
