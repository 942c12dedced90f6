"""The assignment's ``optimizer`` module: ``SGD``."""

from __future__ import annotations

from .. import _validate
from .models import _CompatModel


class SGD:
    """The assignment's optimiser: ``update(model)`` regularises the weight matrices, then steps.

    No momentum: the assignment's SGD takes only ``learning_rate`` and ``reg``.
    """

    def __init__(self, learning_rate: float = 1e-4, reg: float = 1e-3) -> None:
        self.learning_rate, self.reg, _ = _validate.sgd_hyperparameters(learning_rate, reg, 0.0)

    def apply_regularization(self, model: _CompatModel) -> None:
        """``gradients[W] += reg * weights[W]`` for every weight matrix (biases are not regularised)."""
        for name, weight in model.parameters().items():
            if weight.ndim == 2:
                gradient = model.gradient(name)
                gradient += weight.dtype.type(self.reg) * weight

    def update(self, model: _CompatModel) -> None:
        """Regularise, then ``weights[p] -= learning_rate * gradients[p]`` for every parameter, in place."""
        self.apply_regularization(model)
        for name, param in model.parameters().items():
            model.backend.sgd_update(param, model.gradient(name), self.learning_rate)
