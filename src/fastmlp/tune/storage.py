"""Where a study lives: Optuna's RDB storage on a SQLite file by default, or a journal file.

Every trial worker (a local process or a Dask task) opens the same storage by its URL and writes
its own trial: the sampled parameters, the validation accuracy of every epoch (for the pruner),
the result. Nothing else is shared between workers.

Why SQLite by default, although Optuna's documentation "would never recommend SQLite3 for
parallel optimization" (RDBStorage notes, FAQ "sqlite_concurrency"): SQLite takes one lock for
the whole file, so many writers queue and, past the busy timeout, fail with "database is
locked". Here the writers are few (one per core, 2 to 8) and write rarely (one row per epoch,
an epoch is 0.1-1 s), new trial numbers are assigned inside the locked write transaction (so two
workers never get the same number), the busy timeout is raised from 5 s to 60 s (a worker waits
instead of failing), and fastmlp never uses the enqueue path whose SQLite race is Optuna issue
#4002. In exchange the study is one ordinary database file: survives crashes, can be copied,
opened with ``sqlite3`` or ``optuna-dashboard``. For many workers, or a study on a network
filesystem, use what Optuna recommends instead: ``--storage journal:PATH`` (JournalStorage with a
file backend and file locks, no server) or a database server URL (``postgresql://...``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import FastmlpValueError

JOURNAL_PREFIX = "journal:"
SQLITE_PREFIX = "sqlite:///"
SQLITE_BUSY_TIMEOUT_SECONDS = 60


class StorageError(FastmlpValueError):
    """The storage URL cannot be opened; the message names it."""


def default_url(out_dir: str | Path, study: str) -> str:
    """``sqlite:///OUT/STUDY.db``: the study next to its report."""
    return f"{SQLITE_PREFIX}{Path(out_dir) / f'{study}.db'}"


def _make_parent(url: str, path_text: str) -> None:
    if path_text in ("", ":memory:"):
        return
    try:
        Path(path_text).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(f"--storage: cannot open {url!r}: {error.strerror or error}") from error


@lru_cache(maxsize=4)
def open_storage(url: str) -> Any:
    """The Optuna storage at ``url``, opened once per process (workers reuse it for every trial)."""
    import optuna

    if not isinstance(url, str) or not url:
        raise StorageError(f"--storage must be a URL such as sqlite:///reports/study.db, got {url!r}")
    try:
        if url.startswith(JOURNAL_PREFIX):
            path = url[len(JOURNAL_PREFIX) :]
            _make_parent(url, path)
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            return JournalStorage(JournalFileBackend(path))
        engine_kwargs: dict[str, Any] = {}
        if url.startswith(SQLITE_PREFIX):
            _make_parent(url, url[len(SQLITE_PREFIX) :].split("?")[0])
            engine_kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except StorageError:
        raise
    except Exception as error:  # SQLAlchemy, a missing DB driver, the OS: all one message
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(f"--storage: cannot open {url!r}: {detail}") from error
