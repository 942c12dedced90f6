"""A small learnable dataset shaped like MNIST's split, for training tests."""

from __future__ import annotations

import numpy as np

from fastmlp.data import MnistSplit


def blobs(n_train=600, n_val=200, n_test=200, features=20, classes=4, dtype=np.float64, seed=0) -> MnistSplit:
    """Gaussian clusters in [0, 1]-ish space; a linear model separates them well."""
    rng = np.random.default_rng(seed)
    centres = rng.random((classes, features))
    parts = []
    for n in (n_train, n_val, n_test):
        y = rng.integers(0, classes, n)
        x = centres[y] + 0.15 * rng.standard_normal((n, features))
        parts += [x.astype(dtype), y]
    return MnistSplit(*parts)


def mnist_like(n_train=6000, n_test=1000, seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 images (N, 784) and labels (N,) shaped and scaled like MNIST, mostly zeros like it.

    Each of the 10 classes is a fixed stroke pattern of about 120 pixels; an image keeps a random
    80% of its class's pixels at random intensities and lights a few stray pixels. Learnable, yet
    a freshly initialised model starts near chance, as on MNIST.
    """
    rng = np.random.default_rng(seed)
    templates = rng.random((10, 784)) < 0.15
    parts = []
    for n in (n_train, n_test):
        y = rng.integers(0, 10, n).astype(np.uint8)
        on = templates[y] & (rng.random((n, 784)) < 0.8) | (rng.random((n, 784)) < 0.03)
        x = np.where(on, rng.integers(64, 256, (n, 784)), 0).astype(np.uint8)
        parts += [x, y]
    return parts[0], parts[1], parts[2], parts[3]


def _idx(array: np.ndarray) -> bytes:
    dims = array.shape if array.ndim == 1 else (array.shape[0], 28, 28)
    return bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + array.tobytes()


def write_mnist_like(directory, seed=0) -> None:
    """The four IDX files of an MNIST-like set in ``directory`` (a --data-dir for fastmlp).

    They hold MNIST's own counts (60,000 training and 10,000 test images): fastmlp's loader
    refuses other sizes unless asked (``allow_any_size``), as it must for a user's real files.
    """
    from pathlib import Path

    x_train, y_train, x_test, y_test = mnist_like(n_train=60_000, n_test=10_000, seed=seed)
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in zip(names, (x_train, y_train, x_test, y_test), strict=True):
        (directory / name).write_bytes(_idx(array))


_DIGITS = [str(v).encode() for v in range(256)]


def write_mnist_csv(path, images, labels, header=False) -> None:
    """``labels`` (N,) and uint8 ``images`` (N, 784) as an MNIST CSV file: the label, then the
    pixels, one image a line (with ``header``, first the wheel's ``label,1x1,1x2,...`` line)."""
    from pathlib import Path

    table = np.column_stack([labels, images]).astype(np.uint8).tolist()
    lines = [b",".join(map(_DIGITS.__getitem__, row)) for row in table]
    if header:
        lines.insert(
            0, b",".join([b"label"] + [f"{r}x{c}".encode() for r in range(1, 29) for c in range(1, 29)])
        )
    Path(path).write_bytes(b"\n".join(lines) + b"\n")
