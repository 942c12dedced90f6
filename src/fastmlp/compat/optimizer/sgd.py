"""The assignment's ``optimizer/sgd.py``: ``SGD``."""

from __future__ import annotations

from typing import Any

from ..models._network_model import _CompatModel
from ._base_optimizer import _assignment_dicts, _BaseOptimizer


class SGD(_BaseOptimizer):
    """The assignment's optimiser: ``update(model)`` regularises the weight matrices, then steps.

    No momentum: the assignment's SGD takes only ``learning_rate`` and ``reg``. Works on any model
    with the assignment's ``weights`` and ``gradients`` dicts (see ``_BaseOptimizer``); on compat's
    own models the step runs in the model's backend.
    """

    def update(self, model: Any) -> None:
        """Regularise, then ``weights[p] -= learning_rate * gradients[p]`` for every parameter, in
        place (``learning_rate=0`` leaves the weights as they are, as the assignment's step does)."""
        self.apply_regularization(model)
        if isinstance(model, _CompatModel):
            for name, param in model.parameters().items():
                gradient = model.gradient(name)
                if self.learning_rate > 0:
                    model.backend.sgd_update(param, gradient, self.learning_rate)
                else:  # the kernels take only lr > 0; the assignment's arithmetic, in NumPy
                    param -= param.dtype.type(self.learning_rate) * gradient
            return
        weights, gradients = _assignment_dicts(model)
        for name in weights:
            weights[name] -= self.learning_rate * gradients[name]
