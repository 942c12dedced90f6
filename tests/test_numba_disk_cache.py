"""Numba's disk cache is dropped when fastmlp's sources change (numba itself checks one file only)."""

from __future__ import annotations

from pathlib import Path

from fastmlp.backends.numba_backend import _disk_cache


def _fake_cache(directory: Path) -> list[Path]:
    directory.mkdir()
    files = [directory / "_epoch_loops.train_epoch_kernel-118.py311.nbi", directory / "x-1.py311.1.nbc"]
    for path in files:
        path.write_bytes(b"compiled")
    return files


def test_a_cache_written_for_other_sources_is_dropped(tmp_path: Path) -> None:
    files = _fake_cache(tmp_path / "__pycache__")
    (tmp_path / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"bytecode")
    assert _disk_cache.refresh(tmp_path / "__pycache__", digest="new") is True
    assert not any(path.exists() for path in files)
    assert (tmp_path / "__pycache__" / "module.cpython-311.pyc").exists()  # only numba's files
    assert (tmp_path / "__pycache__" / "fastmlp-sources.sha256").read_text().strip() == "new"


def test_a_cache_of_the_same_sources_is_kept(tmp_path: Path) -> None:
    _disk_cache.refresh(tmp_path / "__pycache__", digest="same")
    files = [tmp_path / "__pycache__" / "f-1.py311.nbi", tmp_path / "__pycache__" / "f-1.py311.1.nbc"]
    for path in files:
        path.write_bytes(b"compiled")
    assert _disk_cache.refresh(tmp_path / "__pycache__", digest="same") is False
    assert all(path.exists() for path in files)
    assert _disk_cache.refresh(tmp_path / "__pycache__", digest="changed") is True
    assert not any(path.exists() for path in files)


def test_the_digest_follows_every_source_file(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 2\n")
    before = _disk_cache.sources_digest(package)
    assert _disk_cache.sources_digest(package) == before
    (package / "sub" / "b.py").write_text("B = 3\n")  # a file other than the compiled function's
    assert _disk_cache.sources_digest(package) != before


def test_importing_the_backend_stamped_its_cache_with_the_installed_sources() -> None:
    stamp = _disk_cache._CACHE_DIR / _disk_cache._STAMP
    assert stamp.read_text().strip() == _disk_cache.sources_digest()
