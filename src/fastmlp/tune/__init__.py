"""``fastmlp tune``: the assignment's tuning step as one resumable Optuna study.

Needs the ``tune`` extra (``pip install "fastmlp[tune]"``); importing this package does not.
"""

from .results import TuneError, TuneResult
from .runner import OPTUNA_HINT, TuneInterrupted, require_optuna, tune
from .space import DEFAULT_SPACE, SearchSpace, load_space, parse_space
from .storage import StorageError

__all__ = [
    "DEFAULT_SPACE",
    "OPTUNA_HINT",
    "SearchSpace",
    "StorageError",
    "TuneError",
    "TuneInterrupted",
    "TuneResult",
    "load_space",
    "parse_space",
    "require_optuna",
    "tune",
]
