"""SGD: L2 on weight matrices only, every parameter stepped, momentum as specified."""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp.models import TwoLayerNet
from fastmlp.optim import SGD


def test_regularisation_touches_weight_matrices_only(backend):
    model = TwoLayerNet(4, 3, 2, dtype="float64", backend=backend, init="he", seed=1)
    model.params["b1"][...] = 2.0
    before = {k: v.copy() for k, v in model.params.items()}
    grads = {k: np.zeros_like(v) for k, v in model.params.items()}
    SGD(0.1, reg=0.5).step(model, grads)
    np.testing.assert_allclose(model.params["W1"], before["W1"] * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(model.params["b1"], before["b1"])


def test_every_parameter_steps_with_momentum(backend):
    model = TwoLayerNet(4, 3, 2, dtype="float64", backend=backend, init="he", seed=1)
    before = {k: v.copy() for k, v in model.params.items()}
    grads = {k: np.ones_like(v) for k, v in model.params.items()}
    optimizer = SGD(0.1, momentum=0.9)
    optimizer.step(model, grads)
    optimizer.step(model, grads)
    # v1 = -0.1, v2 = 0.9 * -0.1 - 0.1 = -0.19; total change -0.29 for every element.
    for name, value in model.params.items():
        np.testing.assert_allclose(value, before[name] - 0.29, rtol=1e-14, err_msg=name)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="lr must be > 0"):
        SGD(0.0)
    with pytest.raises(ValueError, match="momentum must be < 1"):
        SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="reg must be >= 0"):
        SGD(0.1, reg=-1)
    model = TwoLayerNet(4, 3, 2, backend="numpy")
    with pytest.raises(ValueError, match="grads must have the keys"):
        SGD(0.1).step(model, {"W1": np.zeros((4, 3), np.float32)})
