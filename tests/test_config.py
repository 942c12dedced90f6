"""The assignment's YAML file as it is, and one clear error per kind of mistake."""

from __future__ import annotations

import pytest

from fastmlp.config import ConfigError, build_from_config, load_config, validate
from fastmlp.models import SoftmaxRegression, TwoLayerNet

ASSIGNMENT_YAML = """\
Train:
  batch_size: 64
  learning_rate: 0.1
  reg: 0.001
  epochs: 10
  momentum: 0.9      # optional key
  debug: True        # optional key
Model:
  type: TwoLayerNet  # or SoftmaxRegression
  hidden_size: 128   # only for TwoLayerNet
"""


def test_the_assignment_file_is_accepted_as_it_is(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(ASSIGNMENT_YAML)
    config = load_config(path)
    assert config["Train"] == {
        "batch_size": 64,
        "learning_rate": 0.1,
        "reg": 0.001,
        "epochs": 10,
        "momentum": 0.9,
        "debug": True,
    }
    model, optimizer, options = build_from_config(config, backend="numpy")
    assert isinstance(model, TwoLayerNet) and model.hidden_size == 128
    assert (optimizer.learning_rate, optimizer.reg, optimizer.momentum) == (0.1, 0.001, 0.9)
    assert options == {"epochs": 10, "batch_size": 64}


def test_optional_keys_default_and_softmax_regression():
    config = validate({"Train": {"epochs": 3}, "Model": {"type": "SoftmaxRegression"}})
    assert config["Train"]["momentum"] == 0.0 and config["Train"]["batch_size"] == 64
    assert "hidden_size" not in config["Model"]
    assert isinstance(build_from_config(config, backend="numpy")[0], SoftmaxRegression)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Train": {"lerning_rate": 0.1}}, "unknown key Train.lerning_rate"),
        ({"Train": {"batch_size": 0}}, r"Train.batch_size must be > 0, got 0"),
        ({"Train": {"batch_size": 6.4}}, "Train.batch_size must be int, got float"),
        ({"Train": {"epochs": True}}, "Train.epochs must be a number, got a boolean"),
        ({"Train": {"learning_rate": -0.1}}, "Train.learning_rate must be > 0"),
        ({"Train": {"learning_rate": "fast"}}, "Train.learning_rate must be int or float, got str"),
        ({"Train": {"reg": -1}}, "Train.reg must be >= 0"),
        ({"Train": {"momentum": 1.5}}, r"Train.momentum must be in \[0, 1\)"),
        ({"Train": {"debug": "yes"}}, "Train.debug must be bool"),
        ({"Model": {"type": "ResNet"}}, "Model.type must be one of"),
        ({"Model": {"type": "TwoLayerNet", "hidden_size": -3}}, "Model.hidden_size must be > 0"),
        (
            {"Model": {"type": "SoftmaxRegression", "hidden_size": 3}},
            "unknown key Model.hidden_size for SoftmaxRegression",
        ),
        ({"Model": {"type": "MLP", "hidden_sizes": []}}, "Model.hidden_sizes must be a non-empty list"),
        ({"Optimizer": {}}, "unknown section 'Optimizer'"),
        ({"Train": [1, 2]}, "Train must be a mapping"),
        ([1, 2], "must be a mapping with sections Train and Model"),
    ],
)
def test_mistakes_name_the_key(config, message):
    with pytest.raises(ConfigError, match=message):
        validate(config)


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="--config: cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("Train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_the_cli_path_checks_each_optimizer_value_once(tmp_path, monkeypatch):
    # config.validate checks Train.learning_rate by its declaration; the optimizer it builds takes
    # the checked value as it is (SGD.from_settings), so the declaration runs once on that path.
    from fastmlp import hyperparameters

    checked_names: list[str] = []
    original = hyperparameters.Constraint.check

    def counting(self, name, value, *errors):
        checked_names.append(name)
        return original(self, name, value, *errors)

    monkeypatch.setattr(hyperparameters.Constraint, "check", counting)
    path = tmp_path / "c.yaml"
    path.write_text("Train:\n  learning_rate: 0.25\n  reg: 0.001\nModel:\n  type: SoftmaxRegression\n")
    _, optimizer, _ = build_from_config(load_config(path))
    assert [n for n in checked_names if n.endswith("learning_rate")] == ["Train.learning_rate"]
    assert optimizer.learning_rate == 0.25 and optimizer.reg == 0.001
    assert isinstance(optimizer.learning_rate, float)


def test_sgd_from_settings_takes_settings_only():
    from fastmlp.errors import FastmlpTypeError
    from fastmlp.optim import SGD, SGDSettings

    optimizer = SGD.from_settings(SGDSettings(0.5, 0.01, 0.9))
    assert (optimizer.learning_rate, optimizer.reg, optimizer.momentum) == (0.5, 0.01, 0.9)
    assert optimizer.schedule == "constant"
    with pytest.raises(FastmlpTypeError, match="settings"):
        SGD.from_settings({"learning_rate": 0.5})  # type: ignore[arg-type]
