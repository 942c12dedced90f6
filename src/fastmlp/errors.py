"""The errors fastmlp raises on purpose, so that callers (the CLI first) can tell a user's mistake
from a bug.

Every check of a user-supplied value raises one of these. They subclass the built-in
ValueError / TypeError (the data errors: RuntimeError) as well, so ``except ValueError`` keeps
working for callers that do not know fastmlp's types.
"""

from __future__ import annotations


class FastmlpError(Exception):
    """Base of every error fastmlp raises because of its input (never because of a bug)."""


class FastmlpValueError(FastmlpError, ValueError):
    """An argument has the right type but an unusable value; the message names the argument."""


class FastmlpTypeError(FastmlpError, TypeError):
    """An argument has the wrong type (or dtype); the message names the argument."""


class DataUnavailableError(FastmlpError, RuntimeError):
    """No source of MNIST worked; the message says how to provide the files."""


class DataCorruptError(FastmlpError, RuntimeError):
    """A data file's content does not match its checksum or its expected layout; the message names
    the file and, where there is one, the faulty row."""


class MissingDependencyError(FastmlpError, ImportError):
    """An optional dependency a feature needs is not installed; the message gives the pip command."""
