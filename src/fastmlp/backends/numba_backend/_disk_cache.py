"""Numba's on-disk cache of this package, kept in step with fastmlp's sources as a whole.

Numba checks a cached function against its own file only (that file's modification time and
size). A compiled function whose callee or compile-time constant lives in another file keeps the
old machine code when only that other file changes: after ``pip install`` of a newer fastmlp over
an older one the numba epoch was seen running an old row update (0.166 s an epoch where the new
code takes 0.119 s). So, before anything here is compiled or loaded, every cached entry of this
package is dropped when any source of fastmlp differs from the sources that wrote the cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_SOURCES = Path(__file__).resolve().parents[2]  # the fastmlp package
_CACHE_DIR = Path(__file__).resolve().parent / "__pycache__"  # where numba's cache=True writes
_STAMP = "fastmlp-sources.sha256"


def sources_digest(package: Path = _SOURCES) -> str:
    """SHA-256 over the relative path and bytes of every .py file of ``package``, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def refresh(cache_dir: Path = _CACHE_DIR, digest: str | None = None) -> bool:
    """Drop numba's index and data files in ``cache_dir`` if they were written for other sources.

    Returns True when files were dropped. A cache directory that cannot be written is left alone
    (numba then falls back to its user-wide cache, which this does not manage).
    """
    digest = sources_digest() if digest is None else digest
    stamp = cache_dir / _STAMP
    try:
        if stamp.is_file() and stamp.read_text(encoding="ascii").strip() == digest:
            return False
        dropped = False
        if cache_dir.is_dir():
            for entry in list(cache_dir.glob("*.nbi")) + list(cache_dir.glob("*.nbc")):
                entry.unlink(missing_ok=True)
                dropped = True
        cache_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest + "\n", encoding="ascii")
        return dropped
    except OSError:
        return False
