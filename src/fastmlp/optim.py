"""The optimizers: SGD (plain, momentum, Nesterov) and Adam, with L2 on weight matrices in either form
and scikit-learn's learning-rate schedules.

Every step rule is a row of ``backends.tables.OPTIMIZERS`` with its update kernel in every backend;
the optimizer holds the hyper-parameters (``settings``, checked once, here) and the per-parameter
buffers, and the native epochs read both from the model's description (``backends._epoch.Layers``).

L2 (``l2``): ``"assignment"`` adds ``reg * W`` to the batch's mean gradient; ``"sklearn"`` is
scikit-learn's ``(sum_n g_n + alpha W) / n`` with n the batch's rows or its sample-weight sum, i.e.
``reg / n`` per batch, and adds ``0.5 reg sum W^2 / n`` to the batch loss. Biases are never
regularised.

Schedules (SGD, as scikit-learn's SGDOptimizer): ``"constant"``; ``"invscaling"``:
``lr = learning_rate_init / (t + 1) ** power_t`` after each epoch, t the samples seen so far
(``epoch_ended(t)``); ``"adaptive"``: ``plateau()`` (the caller's "no improvement for
n_iter_no_change epochs") divides lr by 5 and says stop once lr <= 1e-6.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import _validate, hyperparameters
from ._memory import aligned_zeros
from .errors import FastmlpTypeError, FastmlpValueError

L2_FORMS = ("assignment", "sklearn")
SCHEDULES = ("constant", "invscaling", "adaptive")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise FastmlpValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _check_settings(settings: Any, names: tuple[str, ...]) -> None:
    """Each named hyper-parameter by its one declaration (hyperparameters.PARAMETER_CONSTRAINTS),
    stored back as a Python float; and the L2 form."""
    for name in names:
        object.__setattr__(settings, name, hyperparameters.check(name, getattr(settings, name)))
    _check_choice("l2", settings.l2, L2_FORMS)


@dataclass(frozen=True)
class SGDSettings:
    """SGD's hyper-parameters, checked here, once: everything that receives this object trusts it
    (the native epochs read it from the model description, ``backends._epoch.Layers``)."""

    learning_rate: float
    reg: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    l2: Literal["assignment", "sklearn"] = "assignment"

    def __post_init__(self) -> None:
        _check_settings(self, ("learning_rate", "reg", "momentum"))
        object.__setattr__(self, "nesterov", _validate.boolean("nesterov", self.nesterov))

    @classmethod
    def trusted(cls, learning_rate: float, reg: float = 0.0, momentum: float = 0.0) -> SGDSettings:
        """Settings from values their declarations have already checked (a ``config.CheckedConfig``'s
        Train keys): made without checking them again, so the CLI path checks each value once."""
        settings = object.__new__(cls)
        values = {"learning_rate": learning_rate, "reg": reg, "momentum": momentum}
        for field in dataclasses.fields(cls):
            value = float(values[field.name]) if field.name in values else field.default
            object.__setattr__(settings, field.name, value)
        return settings

    @property
    def rule(self) -> str:
        """Its row of backends.tables.OPTIMIZERS."""
        return "nesterov" if self.nesterov else "sgd"

    @property
    def buffers(self) -> tuple[str, ...]:
        """The per-parameter buffers this step needs: a velocity with momentum or Nesterov."""
        return ("velocity",) if self.momentum != 0.0 or self.nesterov else ()


@dataclass(frozen=True)
class AdamSettings:
    """Adam's hyper-parameters (scikit-learn's defaults), checked once here."""

    learning_rate: float = 0.001
    reg: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    l2: Literal["assignment", "sklearn"] = "assignment"

    def __post_init__(self) -> None:
        _check_settings(self, ("learning_rate", "reg", "beta1", "beta2", "epsilon"))

    momentum = 0.0  # Adam keeps moments, not a velocity
    rule = "adam"
    buffers = ("m", "v")

    def step_size(self, t: int) -> float:
        """Kingma and Ba's bias-corrected step at update t (1, 2, ...): lr sqrt(1 - b2^t) / (1 - b1^t)."""
        return self.learning_rate * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)


Settings = SGDSettings | AdamSettings


class Optimizer:
    """What SGD and Adam share: the settings, one buffer per parameter and buffer name (zeros at first
    use), the update count ``steps`` (a (1,) int64 array the native epochs advance in place) and the
    kernel-by-kernel step."""

    settings: Settings

    def __init__(self) -> None:
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = np.zeros(1, np.int64)

    @property
    def learning_rate(self) -> float:
        return self.settings.learning_rate

    @property
    def reg(self) -> float:
        return self.settings.reg

    @property
    def momentum(self) -> float:
        return self.settings.momentum

    def buffer(self, kind: str, name: str, param: np.ndarray) -> np.ndarray:
        """Buffer ``kind`` (velocity, m, v) of parameter ``name``, zeros at first use."""
        buffers = self.state.setdefault(kind, {})
        if name not in buffers:
            buffers[name] = aligned_zeros(param.shape, param.dtype)
        return buffers[name]

    @property
    def velocities(self) -> dict[str, np.ndarray]:
        return self.state.setdefault("velocity", {})

    def velocity(self, name: str, param: np.ndarray) -> np.ndarray:
        """The velocity buffer of parameter ``name`` (zeros at first use)."""
        return self.buffer("velocity", name, param)

    @staticmethod
    def is_weight_matrix(name: str, param: np.ndarray) -> bool:
        return param.ndim == 2

    def step(self, model: Any, grads: dict[str, np.ndarray], norm: float | None = None) -> None:
        """Update ``model.params`` in place from ``grads`` (same keys); ``norm`` is the batch's rows
        or sample-weight sum (needed by the sklearn L2 form)."""
        if set(grads) != set(model.params):
            raise FastmlpValueError(
                f"grads must have the keys of the model's params {sorted(model.params)}, got {sorted(grads)}"
            )
        settings = self.settings
        reg = settings.reg
        if settings.l2 == "sklearn":
            if norm is None:
                raise FastmlpValueError("norm (the batch's rows or weight sum) is needed with l2='sklearn'")
            reg = reg / norm
        self.steps[0] += 1
        k = model.backend
        for name, param in model.params.items():
            param_reg = reg if self.is_weight_matrix(name, param) else 0.0
            grad = grads[name]
            if isinstance(settings, AdamSettings):
                m, v = self.buffer("m", name, param), self.buffer("v", name, param)
                step_size = settings.step_size(int(self.steps[0]))
                betas = (settings.beta1, settings.beta2)
                k.adam_update(param, grad, m, v, step_size, param_reg, *betas, settings.epsilon)
            elif settings.nesterov:
                velocity = self.velocity(name, param)
                k.nesterov_update(param, grad, settings.learning_rate, param_reg, settings.momentum, velocity)
            else:
                plain = None if not settings.momentum else self.velocity(name, param)
                k.sgd_update(param, grad, settings.learning_rate, param_reg, settings.momentum, plain)

    def epoch_ended(self, samples_seen: int) -> None:
        """The schedule's end-of-epoch step (nothing unless SGD with ``schedule="invscaling"``)."""

    def plateau(self) -> bool:
        """The caller saw no improvement for its patience: True means stop (scikit-learn's
        trigger_stopping); SGD with ``schedule="adaptive"`` divides lr by 5 instead while lr > 1e-6."""
        return True


class SGD(Optimizer):
    """``g = grad + reg * W`` for weight matrices (biases unregularised; ``reg / n`` per batch with
    ``l2="sklearn"``), then for every parameter ``p -= learning_rate * g``, with momentum
    ``v = momentum * v - learning_rate * g; p += v``, with Nesterov ``p += momentum * v - lr * g``
    after that velocity update (scikit-learn's form). ``schedule`` and ``power_t``: see the module.

    The update runs in the model's backend (the ``sgd_update`` / ``nesterov_update`` kernels);
    velocities are held here, one per parameter, created at the first step.
    """

    def __init__(
        self,
        learning_rate: float,
        reg: float = 0.0,
        momentum: float = 0.0,
        *,
        nesterov: bool = False,
        l2: Literal["assignment", "sklearn"] = "assignment",
        schedule: Literal["constant", "invscaling", "adaptive"] = "constant",
        power_t: float = 0.5,
    ) -> None:
        _check_choice("schedule", schedule, SCHEDULES)
        settings = SGDSettings(learning_rate, reg, momentum, nesterov, l2)
        self._start(settings, schedule, hyperparameters.check("power_t", power_t))

    @classmethod
    def from_settings(cls, settings: SGDSettings) -> SGD:
        """SGD at a constant learning rate with ``settings`` as they are: made (so checked) by
        whoever holds them, e.g. ``config.validate``, so the CLI path checks each value once."""
        if not isinstance(settings, SGDSettings):
            raise FastmlpTypeError(f"settings must be an SGDSettings, got {type(settings).__name__}")
        optimizer = cls.__new__(cls)
        optimizer._start(settings, "constant", 0.5)
        return optimizer

    def _start(self, settings: SGDSettings, schedule: str, power_t: float) -> None:
        super().__init__()
        self.settings: SGDSettings = settings
        self.schedule = schedule
        self.power_t = power_t
        self.learning_rate_init = settings.learning_rate

    def _set_learning_rate(self, value: float) -> None:
        if value != self.settings.learning_rate:
            self.settings = dataclasses.replace(self.settings, learning_rate=value)

    def epoch_ended(self, samples_seen: int) -> None:
        if self.schedule == "invscaling":
            self._set_learning_rate(self.learning_rate_init / (samples_seen + 1) ** self.power_t)

    def plateau(self) -> bool:
        if self.schedule != "adaptive" or self.settings.learning_rate <= 1e-6:
            return True
        self._set_learning_rate(self.settings.learning_rate / 5.0)
        return False


class Adam(Optimizer):
    """Adam (Kingma and Ba's efficient form, as scikit-learn's AdamOptimizer): per parameter
    ``m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr sqrt(1 - b2^t) / (1 - b1^t) m /
    (sqrt(v) + eps)`` with ``g = grad + reg * W`` (weight matrices; ``reg / n`` with ``l2="sklearn"``)
    and t the update count (``steps``). The learning rate is constant (no schedule), as in scikit-learn."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        reg: float = 0.0,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        *,
        l2: Literal["assignment", "sklearn"] = "assignment",
    ) -> None:
        super().__init__()
        self.settings: AdamSettings = AdamSettings(learning_rate, reg, beta1, beta2, epsilon, l2)
