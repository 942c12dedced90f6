"""Stochastic gradient descent with L2 on weight matrices and optional momentum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate
from ._memory import aligned_zeros
from .errors import FastmlpValueError


@dataclass(frozen=True)
class SGDSettings:
    """SGD's hyper-parameters, checked here, once: everything that receives this object trusts it
    (the native epochs read it from the model description, ``backends._epoch.Layers``)."""

    learning_rate: float
    reg: float = 0.0
    momentum: float = 0.0

    def __post_init__(self) -> None:
        checked = _validate.sgd_hyperparameters(self.learning_rate, self.reg, self.momentum)
        for name, value in zip(("learning_rate", "reg", "momentum"), checked, strict=True):
            object.__setattr__(self, name, value)  # as Python floats


class SGD:
    """``g = grad + reg * W`` for weight matrices (biases unregularised), then for every parameter
    ``p -= learning_rate * g``, or with momentum ``v = momentum * v - learning_rate * g; p += v``.

    The update runs in the model's backend (the ``sgd_update`` kernel); velocities are held here,
    one per parameter, created at the first step.
    """

    def __init__(self, learning_rate: float, reg: float = 0.0, momentum: float = 0.0) -> None:
        self.settings = SGDSettings(learning_rate, reg, momentum)
        self.velocities: dict[str, np.ndarray] = {}

    @property
    def learning_rate(self) -> float:
        return self.settings.learning_rate

    @property
    def reg(self) -> float:
        return self.settings.reg

    @property
    def momentum(self) -> float:
        return self.settings.momentum

    def velocity(self, name: str, param: np.ndarray) -> np.ndarray:
        """The velocity buffer of parameter ``name`` (zeros at first use)."""
        if name not in self.velocities:
            self.velocities[name] = aligned_zeros(param.shape, param.dtype)
        return self.velocities[name]

    @staticmethod
    def is_weight_matrix(name: str, param: np.ndarray) -> bool:
        return param.ndim == 2

    def step(self, model: Any, grads: dict[str, np.ndarray]) -> None:
        """Update ``model.params`` in place from ``grads`` (same keys)."""
        if set(grads) != set(model.params):
            raise FastmlpValueError(
                f"grads must have the keys of the model's params {sorted(model.params)}, got {sorted(grads)}"
            )
        kernel = model.backend.sgd_update
        for name, param in model.params.items():
            reg = self.reg if self.is_weight_matrix(name, param) else 0.0
            velocity = None
            if self.momentum:
                velocity = self.velocity(name, param)
            kernel(param, grads[name], self.learning_rate, reg=reg, momentum=self.momentum, velocity=velocity)
