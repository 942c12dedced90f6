"""Progress on the terminal, with tqdm used as intended: a bar on stderr only when stderr is a
terminal, as wide as the terminal (postfix included, following resizes), gone when done; every
line printed meanwhile goes through ``tqdm.write`` so that it lands above the bar, not through it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO


def progress_bar(total: int, desc: str, unit: str, enabled: bool | None = None, initial: int = 0) -> Any:
    """A tqdm bar counting ``total`` ``unit``s on stderr (``initial`` of them done already), or None.
    ``enabled`` None: only when stderr is a terminal (a pipe or a log file gets no bar)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True
    )


def write(line: str, file: TextIO | None = None) -> None:
    """Print ``line`` (to stdout by default) above any bar; a plain print when there is none."""
    from tqdm import tqdm

    stream = sys.stdout if file is None else file
    tqdm.write(line, file=stream)
    stream.flush()


@contextmanager
def ticking(bar: Any, seconds: float = 1.0) -> Iterator[None]:
    """Redraw ``bar`` every ``seconds`` while the block runs. tqdm redraws only on updates; when
    each update is a whole training run, the elapsed time would otherwise stand still for minutes."""
    if bar is None:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(seconds):
            bar.refresh()

    thread = threading.Thread(target=tick, name="fastmlp-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
