"""The ``fastmlp`` command: train, data, reproduce, bench.

Every user error (bad flag, bad configuration, missing data, unknown backend) ends in one line
``fastmlp: error: ...`` on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from .backends import KNOWN_BACKENDS


class UsageError(Exception):
    """A command-line mistake; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print the whole usage first
        raise UsageError(message)


def _int_at_least(minimum: int, flag: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``, with an error naming ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be >= {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastmlp", description="Fast CPU training of small MLPs; reproduces the course assignment."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train one configuration (the assignment's YAML file)")
    train.add_argument("--config", required=True, help="YAML file with sections Train and Model")
    train.add_argument(
        "--backend", choices=KNOWN_BACKENDS, help="kernel backend (default: fastest available)"
    )
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    train.add_argument("--epochs", type=_int_at_least(1, "--epochs"), help="override Train.epochs")
    train.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="shuffle seed (default 0)")
    train.add_argument(
        "--threads", type=_int_at_least(1, "--threads"), help="compute threads (default: all cores)"
    )
    train.add_argument(
        "--data-dir", help="directory with the MNIST CSV or IDX files (default: cache or download)"
    )
    train.add_argument("--json", help="write the run (config, history, best, ...) to this JSON file")
    train.add_argument("--plot", help="write the two-panel learning-curve PNG here")
    train.add_argument("--save", help="save the best model (.npz) here")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")

    data = commands.add_parser("data", help="show where MNIST comes from, fetch it, or verify it")
    action = data.add_mutually_exclusive_group()
    action.add_argument("--where", action="store_true", help="print the data source (default)")
    action.add_argument("--fetch", action="store_true", help="download and cache MNIST now")
    action.add_argument("--verify", action="store_true", help="load and check the data")
    data.add_argument("--data-dir", help="directory with the MNIST CSV or IDX files")

    reproduce = commands.add_parser("reproduce", help="every table and learning curve of the assignment")
    reproduce.add_argument("--backend", choices=KNOWN_BACKENDS)
    reproduce.add_argument("--out", default="reports", help="output directory (default: reports/)")
    reproduce.add_argument(
        "--jobs", type=_int_at_least(1, "--jobs"), help="worker processes (default: one per core)"
    )
    reproduce.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="first shuffle seed")
    reproduce.add_argument(
        "--seeds", type=_int_at_least(1, "--seeds"), default=1, help="shuffle seeds per configuration"
    )
    reproduce.add_argument("--scheduler", help="address of a Dask distributed scheduler to run the jobs on")
    reproduce.add_argument("--quick", action="store_true", help="data subset and 3 epochs: a smoke test")
    reproduce.add_argument("--data-dir", help="directory with the MNIST CSV or IDX files")

    bench = commands.add_parser("bench", help="time one training epoch per backend and peer; write a chart")
    bench.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    bench.add_argument("--batch-sizes", default="64", help="comma-separated batch sizes (default 64)")
    bench.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    bench.add_argument("--repeats", type=_int_at_least(1, "--repeats"), default=3)
    bench.add_argument("--out", default="reports", help="directory for bench.md and bench.png")
    bench.add_argument("--data-dir", help="directory with the MNIST CSV or IDX files")
    return parser


def _command_train(args: argparse.Namespace) -> int:
    from . import default_backend, set_num_threads
    from .config import build_from_config, load_config
    from .data import load_mnist
    from .models import save_model
    from .plotting import plot_learning_curves
    from .threads import get_num_threads, max_threads
    from .train import EpochRecord, train

    config = load_config(args.config)
    if args.epochs is not None:
        config["Train"]["epochs"] = args.epochs
    backend = args.backend or default_backend()
    threads = args.threads if args.threads is not None else max_threads()
    if threads > max_threads():
        raise UsageError(f"--threads must be at most {max_threads()} (the cores available), got {threads}")
    set_num_threads(threads)
    model, optimizer, options = build_from_config(config, backend=backend, dtype=args.dtype)
    data = load_mnist(args.data_dir, dtype=args.dtype, quiet=args.quiet)

    def report(record: EpochRecord) -> None:
        if not args.quiet:
            print(
                f"epoch {record.epoch:3d}  train loss {record.train_loss:.4f} acc {record.train_acc:.4f}  "
                f"val loss {record.val_loss:.4f} acc {record.val_acc:.4f}  "
                f"({record.train_seconds:.2f} s train, {record.eval_seconds:.2f} s eval)",
                flush=True,
            )

    result = train(
        model,
        optimizer,
        data,
        seed=args.seed,
        progress=False if args.quiet else None,
        on_epoch=report,
        **options,
    )
    run = {
        "config": config,
        "backend": backend,
        "dtype": args.dtype,
        "threads": get_num_threads(),
        "seed": args.seed,
        **result.to_dict(),
    }
    written = []
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=2), encoding="utf-8")
        written.append(f"metrics: {args.json}")
    if result.best_epoch and (args.save or result.interrupted):
        path = args.save or str(Path(args.json or "fastmlp-run").with_suffix(".npz"))
        save_model(model, path)
        written.append(f"best model: {path}")
    if args.plot and result.history:
        plot_learning_curves(result.history, args.plot, title=f"{config['Model']['type']} on {backend}")
        written.append(f"curves: {args.plot}")
    if result.message:
        print(f"fastmlp: {result.message}", file=sys.stderr)
    if result.best_epoch:
        best = result.best
        print(
            f"best epoch {best['epoch']}: train acc {best['train_acc']:.4f}  val acc {best['val_acc']:.4f}  "
            f"test acc {best['test_acc']:.4f}"
        )
    for line in written:
        print(f"wrote {line}")
    if result.interrupted:
        return 130
    return 1 if result.diverged else 0


def _command_data(args: argparse.Namespace) -> int:
    from . import data

    if args.fetch:
        print(f"cached in {data.fetch()}")
    elif args.verify:
        print(data.verify(args.data_dir))
    else:
        print(data.describe_source(args.data_dir))
    return 0


def _command_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    command = "fastmlp " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["reproduce"] else "fastmlp reproduce"
    reproduce(
        args.out,
        backend=args.backend,
        seed=args.seed,
        seeds=args.seeds,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        quick=args.quick,
        data_dir=args.data_dir,
        command=command,
    )
    return 0


def _int_list(flag: str, text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise UsageError(f"{flag} must be positive integers, got {text!r}")
    return values


def _command_bench(args: argparse.Namespace) -> int:
    from . import available_backends, default_backend
    from .benchmarking.epochs import (
        accuracy_table,
        bar_chart,
        epoch_time_by_state,
        markdown_table,
        same_accuracy,
        targets_table,
        thread_scaling,
        time_epochs,
    )
    from .data import load_mnist
    from .threads import max_threads

    threads = _int_list("--threads", args.threads)
    if max(threads) > max_threads():
        raise UsageError(
            f"--threads must be at most {max_threads()} (the cores available), got {max(threads)}"
        )
    batch_sizes = _int_list("--batch-sizes", args.batch_sizes)
    data = load_mnist(args.data_dir, dtype=args.dtype)
    print("Same initialisation, same orders, one epoch each, 1 thread: validation accuracy")
    accuracies = same_accuracy(
        data.x_train, data.y_train, data.x_val, data.y_val, backends=available_backends()
    )
    timings = time_epochs(
        data.x_train,
        data.y_train,
        backends=available_backends(),
        threads=threads,
        batch_sizes=batch_sizes,
        repeats=args.repeats,
    )
    scaling = thread_scaling(data.x_train, data.y_train, default_backend(), threads, repeats=2 * args.repeats)
    states = epoch_time_by_state(data.x_train, data.y_train, default_backend())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(timings)
    table += "\n\nTargets (same-run ratios, batch 64):\n\n" + targets_table(timings, scaling)
    table += "\n\nAccuracy check, every trainable contender after 1 epoch from the same init:\n\n"
    table += accuracy_table(accuracies)
    one = scaling[min(threads)]
    table += (
        f"\n\nThread scaling: {default_backend()} alone, batch 64, the thread counts alternating"
        f" ({2 * args.repeats} repeats each, minimum):\n\n"
        + f"| threads | seconds / epoch | vs {min(threads)} thread{'s' if min(threads) > 1 else ''} |\n|---|---|---|\n"
        + "".join(f"| {n} | {seconds:.3f} | {seconds / one:.2f}x |\n" for n, seconds in scaling.items())
    )
    spread = max(states.values()) / min(states.values())
    table += (
        f"\n\nOne epoch ({default_backend()}, 1 thread, batch 64) at the states the tables' runs pass through:\n\n"
        + "| state | seconds |\n|---|---|\n"
        + "".join(f"| {label} | {seconds:.3f} |\n" for label, seconds in states.items())
        + f"\nSlowest / fastest: {spread:.2f}x"
    )
    (out / "bench.md").write_text(table + "\n", encoding="utf-8")
    bar_chart(timings, out / "bench.png")
    print(table)
    print(f"wrote {out / 'bench.md'} and {out / 'bench.png'}")
    return 0


COMMANDS = {
    "train": _command_train,
    "data": _command_data,
    "reproduce": _command_reproduce,
    "bench": _command_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastmlp`` console script; returns the exit status."""
    from .config import ConfigError
    from .data import DataCorruptError, DataUnavailableError

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (
        UsageError,
        ConfigError,
        ValueError,
        TypeError,
        DataUnavailableError,
        DataCorruptError,
        OSError,
    ) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"fastmlp: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130
