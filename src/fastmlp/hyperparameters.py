"""Every hyper-parameter's constraint, declared once (scikit-learn's ``_parameter_constraints`` is
the model): the configuration file (``config``), the tuning space (``tune.space``) and the
optimizer settings (``optim``) read this table, so a rule and its message are written here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import FastmlpTypeError, FastmlpValueError

Rule = Literal["positive", "non-negative", "fraction", "real"]


@dataclass(frozen=True)
class Constraint:
    """``kind``: int, or float (an int is accepted where a float is expected; bool never);
    ``rule``: positive (> 0), non-negative (>= 0), fraction (in [0, 1)) or any finite real."""

    kind: type
    rule: Rule

    def check(
        self,
        name: str,
        value: object,
        value_error: type[Exception] = FastmlpValueError,
        type_error: type[Exception] = FastmlpTypeError,
    ) -> int | float:
        """``value`` if it is of this kind and obeys the rule, else the error naming ``name``."""
        kinds = (int,) if self.kind is int else (int, float)
        if isinstance(value, bool):
            raise type_error(f"{name} must be a number, got a boolean ({value})")
        if not isinstance(value, kinds):
            names = " or ".join(t.__name__ for t in kinds)
            raise type_error(f"{name} must be {names}, got {type(value).__name__} ({value!r})")
        if value != value or value in (float("inf"), float("-inf")):
            raise value_error(f"{name} must be a finite number, got {value}")
        self.check_rule(name, value, value_error)
        return value

    def check_rule(self, name: str, value: float, error: type[Exception] = FastmlpValueError) -> None:
        """The rule alone, for a number already known to be of this kind."""
        if self.rule == "positive" and not value > 0:
            raise error(f"{name} must be > 0, got {value}")
        if self.rule == "non-negative" and not value >= 0:
            raise error(f"{name} must be >= 0, got {value}")
        if self.rule == "fraction" and not 0 <= value < 1:
            raise error(f"{name} must be in [0, 1), got {value}")


PARAMETER_CONSTRAINTS: dict[str, Constraint] = {
    "learning_rate": Constraint(float, "positive"),
    "reg": Constraint(float, "non-negative"),
    "momentum": Constraint(float, "fraction"),
    "beta1": Constraint(float, "fraction"),
    "beta2": Constraint(float, "fraction"),
    "epsilon": Constraint(float, "positive"),
    "power_t": Constraint(float, "real"),
    "batch_size": Constraint(int, "positive"),
    "epochs": Constraint(int, "positive"),
    "hidden_size": Constraint(int, "positive"),
    "depth": Constraint(int, "positive"),
}


def check(name: str, value: object, argument: str | None = None) -> float:
    """Hyper-parameter ``name`` checked by its constraint, as a float (errors name ``argument``)."""
    return float(PARAMETER_CONSTRAINTS[name].check(argument or name, value))
