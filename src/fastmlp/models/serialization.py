"""Save a trained model as one ``.npz`` (weights plus a JSON config) and load it back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FastmlpValueError
from .architectures import build_model
from .network import Network

CONFIG_KEY = "__fastmlp_config__"


def save_model(model: Network, path: str | os.PathLike[str]) -> Path:
    """Write ``model``'s parameters and architecture to ``path`` (``.npz``); returns the path."""
    path = Path(path)
    config = {"model": model.config(), "dtype": model.dtype.name, "format": 1}
    arrays: dict[str, Any] = dict(model.params)
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    temporary = path.with_name(f".{path.name}.tmp.npz")
    np.savez(temporary, **arrays)
    os.replace(temporary, path)  # atomic: an interrupted save never leaves half a model
    return path


def load_model(
    path: str | os.PathLike[str], *, expect: dict[str, Any] | None = None, backend: Any = None
) -> Network:
    """Rebuild the model saved at ``path``.

    ``expect`` is the architecture the caller requires (as ``model.config()`` gives it); a saved
    model of another architecture is refused with a ValueError naming the difference.
    """
    with np.load(path, allow_pickle=False) as archive:
        if CONFIG_KEY not in archive:
            raise FastmlpValueError(f"{path} is not a fastmlp model file (no {CONFIG_KEY} entry)")
        saved = json.loads(archive[CONFIG_KEY].tobytes().decode())
        params = {name: archive[name] for name in archive.files if name != CONFIG_KEY}
    config = saved["model"]
    if expect is not None and expect != config:
        different = sorted(k for k in set(expect) | set(config) if expect.get(k) != config.get(k))
        raise FastmlpValueError(
            f"{path} holds a model that does not match the requested architecture: "
            + ", ".join(f"{k} is {config.get(k)!r}, expected {expect.get(k)!r}" for k in different)
        )
    model = build_model(config, dtype=saved["dtype"], backend=backend)
    if set(params) != set(model.params):
        raise FastmlpValueError(f"{path}: parameters {sorted(params)} do not match {sorted(model.params)}")
    for name, value in params.items():
        if value.shape != model.params[name].shape:
            raise FastmlpValueError(
                f"{path}: {name} has shape {value.shape}, expected {model.params[name].shape}"
            )
        model.params[name][...] = value
    return model
