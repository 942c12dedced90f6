"""The search space of ``fastmlp tune``: which configuration knobs vary, and over which values.

Given as a ``Search`` section in YAML (``--space FILE``); each key is a knob, each value either a
list of choices or a range ``{low, high, log}``::

    Search:
      learning_rate: {low: 0.01, high: 0.5, log: true}
      reg: {low: 1.0e-6, high: 1.0e-3, log: true}
      momentum: {low: 0.0, high: 0.95}
      batch_size: [32, 64, 128]
      hidden_size: [64, 128, 256, 512]
      depth: [1, 2]          # MLP only: hidden_sizes = [hidden_size] * depth

Everything not in the space comes from the base configuration (``--config``). Write small floats
as ``1.0e-4``: YAML 1.1 (PyYAML) reads ``1e-4`` as text.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError, read_yaml
from ..hyperparameters import PARAMETER_CONSTRAINTS, Constraint

# knob -> (value type, rule on every value, where it goes in the configuration)
# The knobs a space may search: their kinds and rules are hyperparameters.PARAMETER_CONSTRAINTS'.
KNOBS: dict[str, Constraint] = {
    name: PARAMETER_CONSTRAINTS[name]
    for name in ("learning_rate", "reg", "momentum", "batch_size", "hidden_size", "depth")
}


@dataclass(frozen=True)
class Param:
    """One knob: ``choices`` (categorical) or a range ``low..high`` (log-uniform if ``log``)."""

    name: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    def suggest(self, trial: Any) -> Any:
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if KNOBS[self.name].kind is int:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def describe(self) -> str:
        if self.choices:
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        return f"[{self.low:g}, {self.high:g}]" + (" log" if self.log else "")


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def to_dict(self) -> dict[str, Any]:
        """The YAML ``Search`` section's content (``parse_space`` reads it back)."""
        return {
            p.name: list(p.choices) if p.choices else {"low": p.low, "high": p.high, "log": p.log}
            for p in self.params
        }

    def check_model(self, model_type: str) -> None:
        """Refuse knobs the base model does not have (named in the message)."""
        if model_type == "SoftmaxRegression":
            for name in ("hidden_size", "depth"):
                if name in self.names:
                    raise ConfigError(f"Search.{name} does not apply to Model.type SoftmaxRegression")
        if model_type == "TwoLayerNet" and "depth" in self.names:
            raise ConfigError("Search.depth applies to Model.type MLP only, the base model is TwoLayerNet")

    def suggest(self, trial: Any, base: dict[str, Any]) -> dict[str, Any]:
        """A full configuration: ``base`` with every knob drawn from ``trial``."""
        config = copy.deepcopy(base)
        values = {p.name: p.suggest(trial) for p in self.params}
        for name in ("learning_rate", "reg", "momentum", "batch_size"):
            if name in values:
                config["Train"][name] = values[name]
        model = config["Model"]
        if model["type"] == "TwoLayerNet" and "hidden_size" in values:
            model["hidden_size"] = values["hidden_size"]
        if model["type"] == "MLP" and ("hidden_size" in values or "depth" in values):
            sizes = model["hidden_sizes"]
            depth = values.get("depth", len(sizes))
            model["hidden_sizes"] = [values.get("hidden_size", sizes[0])] * depth
        return config


def _number(key: str, value: Any, kind: type) -> float:
    if isinstance(value, str):
        hint = " (YAML reads 1e-4 as text; write 1.0e-4)" if "e" in value.lower() else ""
        raise ConfigError(f"{key} must be a number, got the text {value!r}{hint}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {type(value).__name__} ({value!r})")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if value != value:
        raise ConfigError(f"{key} must be a number, got NaN")
    return value


def _param(name: str, spec: Any) -> Param:
    key = f"Search.{name}"
    constraint = KNOBS[name]
    kind = constraint.kind
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(f"{key} must list at least one choice")
        choices = tuple(_number(f"{key}[{i}]", v, kind) for i, v in enumerate(spec))
        for i, value in enumerate(choices):
            constraint.check_rule(f"{key}[{i}]", value, ConfigError)
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{key} lists a choice twice: {list(spec)}")
        return Param(name, choices=choices)
    if not isinstance(spec, dict):
        raise ConfigError(f"{key} must be a list of choices or a mapping {{low, high, log}}, got {spec!r}")
    unknown = set(spec) - {"low", "high", "log"}
    if unknown:
        raise ConfigError(f"unknown key {key}.{sorted(unknown)[0]}; valid keys: low, high, log")
    for bound in ("low", "high"):
        if bound not in spec:
            raise ConfigError(f"{key}.{bound} is missing")
    low = _number(f"{key}.low", spec["low"], kind)
    high = _number(f"{key}.high", spec["high"], kind)
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{key}.log must be true or false, got {log!r}")
    constraint.check_rule(f"{key}.low", low, ConfigError)
    constraint.check_rule(f"{key}.high", high, ConfigError)
    if not low < high:
        raise ConfigError(f"{key}.low must be < {key}.high, got {low} and {high}")
    if log and low <= 0:
        raise ConfigError(f"{key}.low must be > 0 on a log scale, got {low}")
    return Param(name, low=float(low), high=float(high), log=log)


def parse_space(section: Any) -> SearchSpace:
    """A checked search space from the content of a ``Search`` section."""
    if not isinstance(section, dict) or not section:
        raise ConfigError(f"Search must be a non-empty mapping of knobs, got {section!r}")
    for name in section:
        if name not in KNOBS:
            raise ConfigError(f"unknown key Search.{name}; valid keys: {', '.join(KNOBS)}")
    return SearchSpace(tuple(_param(name, spec) for name, spec in section.items()))


def load_space(path: str | os.PathLike[str]) -> SearchSpace:
    """Read a YAML file whose only section is ``Search``."""
    path = Path(path)
    loaded = read_yaml(path, "--space")
    if not isinstance(loaded, dict) or set(loaded) != {"Search"}:
        found = sorted(loaded) if isinstance(loaded, dict) else type(loaded).__name__
        raise ConfigError(f"--space: {path} must hold exactly one section, Search; found {found}")
    return parse_space(loaded["Search"])


# The default space (configs/tune_space.yaml holds the same, as a file to copy and edit): the
# assignment's TwoLayerNet with the knobs the write-up tuned by hand, plus momentum and width.
DEFAULT_SPACE = parse_space(
    {
        "learning_rate": {"low": 0.01, "high": 0.5, "log": True},
        "reg": {"low": 1.0e-6, "high": 1.0e-3, "log": True},
        "momentum": {"low": 0.0, "high": 0.95},
        "batch_size": [32, 64, 128],
        "hidden_size": [128, 256, 512],
    }
)
