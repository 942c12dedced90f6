"""The assignment's YAML configuration: read it as it is, check every key, build the run.

Train:
  batch_size: 64
  learning_rate: 0.1
  reg: 0.001
  epochs: 10
  momentum: 0.9      # optional
  debug: True        # optional, accepted and ignored
Model:
  type: TwoLayerNet  # or SoftmaxRegression, or MLP
  hidden_size: 128   # TwoLayerNet only
  # MLP: hidden_sizes: [256, 128], activation: relu | sigmoid
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from .errors import FastmlpValueError
from .hyperparameters import PARAMETER_CONSTRAINTS
from .models import MODEL_TYPES, Network, build_model
from .models.network import ACTIVATIONS
from .optim import SGD, SGDSettings


class ConfigError(FastmlpValueError):
    """A configuration file or value is wrong; the message names the key."""


DEFAULTS: dict[str, dict[str, Any]] = {
    "Train": {
        "batch_size": 64,
        "learning_rate": 0.1,
        "reg": 0.001,
        "epochs": 10,
        "momentum": 0.0,
        "debug": False,
    },
    "Model": {"type": "TwoLayerNet", "hidden_size": 128},
}
# Train's keys: their constraints are hyperparameters.PARAMETER_CONSTRAINTS' (debug: a boolean).
_TRAIN_KEYS = ("batch_size", "learning_rate", "reg", "epochs", "momentum", "debug")
_MODEL_KEYS = {
    "SoftmaxRegression": {"type"},
    "TwoLayerNet": {"type", "hidden_size"},
    "MLP": {"type", "hidden_sizes", "activation"},
}


def _check_value(key: str, value: Any, parameter: str) -> None:
    """``value`` of config key ``key`` by the constraint of hyper-parameter ``parameter``."""
    PARAMETER_CONSTRAINTS[parameter].check(key, value, ConfigError, ConfigError)


class CheckedConfig(dict[str, dict[str, Any]]):
    """A configuration ``validate`` made: complete and checked, so nothing downstream checks it again."""


def validate(config: Any) -> CheckedConfig:
    """A complete, checked copy of ``config`` (missing optional keys take the defaults)."""
    if not isinstance(config, dict):
        raise ConfigError(
            f"the configuration must be a mapping with sections Train and Model, got {type(config).__name__}"
        )
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown section {sorted(unknown)[0]!r}; expected Train and Model")
    result = CheckedConfig(copy.deepcopy(DEFAULTS))
    for section in DEFAULTS:
        given = config.get(section, {})
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise ConfigError(f"{section} must be a mapping, got {type(given).__name__}")
        result[section].update(given)
    train = result["Train"]
    for key in train:
        if key not in _TRAIN_KEYS:
            raise ConfigError(f"unknown key Train.{key}; valid keys: {', '.join(_TRAIN_KEYS)}")
        if key == "debug":
            if not isinstance(train[key], bool):
                raise ConfigError(
                    f"Train.debug must be bool, got {type(train[key]).__name__} ({train[key]!r})"
                )
        else:
            _check_value(f"Train.{key}", train[key], key)
    model = result["Model"]
    kind = model.get("type")
    if kind not in MODEL_TYPES:
        raise ConfigError(f"Model.type must be one of {', '.join(MODEL_TYPES)}, got {kind!r}")
    given_model = config.get("Model") or {}
    if kind != "TwoLayerNet" and "hidden_size" not in given_model:
        model.pop("hidden_size", None)  # the default belongs to TwoLayerNet only
    for key in model:
        if key not in _MODEL_KEYS[kind]:
            raise ConfigError(
                f"unknown key Model.{key} for {kind}; valid keys: {', '.join(sorted(_MODEL_KEYS[kind]))}"
            )
    if kind == "TwoLayerNet":
        _check_value("Model.hidden_size", model["hidden_size"], "hidden_size")
    if kind == "MLP":
        sizes = model.setdefault("hidden_sizes", [128])
        if not isinstance(sizes, list) or not sizes:
            raise ConfigError(f"Model.hidden_sizes must be a non-empty list of ints, got {sizes!r}")
        for i, size in enumerate(sizes):
            _check_value(f"Model.hidden_sizes[{i}]", size, "hidden_size")
        activation = model.setdefault("activation", "relu")
        if activation not in ACTIVATIONS:
            raise ConfigError(f"Model.activation must be {' or '.join(ACTIVATIONS)}, got {activation!r}")
    return result


def read_yaml(path: str | os.PathLike[str], flag: str) -> Any:
    """The content of the YAML file at ``path``, given on the command line as ``flag``; a file that
    cannot be read or parsed is a ConfigError naming the flag and the file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{flag}: cannot read {str(path)!r}: {error.strerror or error}") from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{flag}: {path} is not valid YAML ({str(error).splitlines()[0]})") from error


def load_config(path: str | os.PathLike[str]) -> CheckedConfig:
    """Read and validate a YAML configuration file."""
    return validate(read_yaml(path, "--config"))


def build_from_config(
    config: dict[str, Any], *, backend: str | None = None, dtype: str = "float32"
) -> tuple[Network, SGD, dict[str, Any]]:
    """The model, optimiser and trainer options (epochs, batch_size) a configuration describes."""
    checked = config if isinstance(config, CheckedConfig) else validate(config)  # checked once
    train, model_config = checked["Train"], dict(checked["Model"])
    model = build_model(model_config, dtype=dtype, backend=backend)
    settings = SGDSettings.trusted(train["learning_rate"], train["reg"], train["momentum"])
    optimizer = SGD.from_settings(settings)  # validate checked these keys: no second check
    return model, optimizer, {"epochs": train["epochs"], "batch_size": train["batch_size"]}
