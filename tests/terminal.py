"""Run a command in a pseudo-terminal and render what it wrote as a terminal shows it (pyte)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from dataclasses import dataclass

import pyte


@dataclass
class Capture:
    status: int
    raw: bytes  # every byte the command wrote, control sequences included
    lines: list[str]  # the rendered screen, lines scrolled off the top first, trailing blanks dropped


def run_in_terminal(
    argv: list[str], columns: int, rows: int, env: dict[str, str], timeout: float = 600
) -> Capture:
    """``argv`` with stdin, stdout and stderr on one pseudo-terminal of ``columns`` x ``rows``."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            process.kill()
            raise TimeoutError(f"{argv} still running after {timeout} s")
        status = process.wait(timeout=60)
    finally:
        os.close(master)
    raw = b"".join(chunks)
    screen = pyte.HistoryScreen(columns, rows, history=100_000)
    pyte.ByteStream(screen).feed(raw)

    def text(line: dict[int, pyte.screens.Char]) -> str:
        return "".join(line[x].data for x in range(columns)).rstrip()

    lines = [text(line) for line in screen.history.top] + [text(screen.buffer[y]) for y in range(rows)]
    while lines and not lines[-1]:
        lines.pop()
    return Capture(status, raw, lines)
