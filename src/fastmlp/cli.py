"""The ``fastmlp`` command: train, data, reproduce, bench, tune.

Every user error (bad flag, bad configuration, missing data, unknown backend, a missing optional
dependency) ends in one line ``fastmlp: error: ...`` on stderr and exit status 2, never a
traceback. Those are the project's own errors (``fastmlp.errors.FastmlpError``), the parser's
UsageError and OSError (a file the user named). Any other exception is a bug in fastmlp: it
surfaces as a traceback, after one line asking for a report.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .backends import KNOWN_BACKENDS
from .errors import FastmlpError, MissingDependencyError

BUG_REPORT_HINT = (
    "fastmlp: this is a bug in fastmlp, not a usage error; please report it with the traceback below"
    " and the output of 'fastmlp --version'"
)


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


ANY_SIZE_HELP = (
    "accept --data-dir files of MNIST's layout but other row counts (Fashion-MNIST, KMNIST, your own"
    " split); without it a file must hold MNIST's 60,000 / 10,000 rows"
)


# Options more than one command takes: the same flag, type and default everywhere; a command
# without a default help here words it for its own case.
_SHARED_OPTIONS: dict[str, dict[str, Any]] = {
    "--backend": {"choices": KNOWN_BACKENDS, "help": "kernel backend (default: fastest available)"},
    "--dtype": {
        "choices": ("float32", "float64"),
        "default": "float32",
        "help": "floating-point type (default float32)",
    },
    "--epochs": {"type": _int_at_least(1, "--epochs")},
    "--seed": {"type": _int_at_least(0, "--seed"), "default": 0},
    "--jobs": {"type": _int_at_least(1, "--jobs")},
    "--scheduler": {},
    "--out": {"default": "reports"},
    "--data-dir": {"help": "directory with the MNIST CSV or IDX files"},
    "--allow-any-size": {"action": "store_true", "help": ANY_SIZE_HELP},
    "--json": {},
}


def _add_shared(parser: argparse.ArgumentParser, flag: str, help: str | None = None, **options: Any) -> None:
    """Add the shared option ``flag`` to one command: ``help`` and ``options`` replace its defaults."""
    keywords = {**_SHARED_OPTIONS[flag], **options}
    if help is not None:
        keywords["help"] = help
    parser.add_argument(flag, **keywords)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastmlp", description="Fast CPU training of small MLPs; reproduces the course assignment."
    )
    parser.add_argument(
        "--version", action="store_true", help="print the version and how the C++ kernels were built"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", help="train one configuration (the assignment's YAML file)")
    train.add_argument("--config", required=True, help="YAML file with sections Train and Model")
    _add_shared(train, "--backend")
    _add_shared(train, "--dtype")
    _add_shared(train, "--epochs", "override Train.epochs")
    _add_shared(train, "--seed", "shuffle seed (default 0)")
    train.add_argument(
        "--threads",
        type=_int_at_least(1, "--threads"),
        help="compute threads (default: all cores; a batch runs on one while that is faster, see README)",
    )
    _add_shared(train, "--data-dir", "directory with the MNIST CSV or IDX files (default: cache or download)")
    _add_shared(train, "--allow-any-size")
    _add_shared(train, "--json", "write the run (config, history, best, ...) to this JSON file")
    train.add_argument("--plot", help="write the two-panel learning-curve PNG here")
    train.add_argument("--save", help="save the best model (.npz) here")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")

    data = commands.add_parser("data", help="show where MNIST comes from, fetch it, or verify it")
    action = data.add_mutually_exclusive_group()
    action.add_argument("--where", action="store_true", help="print the data source (default)")
    action.add_argument("--fetch", action="store_true", help="download and cache MNIST now")
    action.add_argument("--verify", action="store_true", help="load and check the data")
    _add_shared(data, "--data-dir")
    _add_shared(data, "--allow-any-size")

    reproduce = commands.add_parser("reproduce", help="every table and learning curve of the assignment")
    _add_shared(reproduce, "--backend")
    _add_shared(reproduce, "--out", "output directory (default: reports/)")
    _add_shared(reproduce, "--jobs", "worker processes (default: one per core)")
    _add_shared(reproduce, "--seed", "first shuffle seed")
    reproduce.add_argument(
        "--seeds", type=_int_at_least(1, "--seeds"), default=1, help="shuffle seeds per configuration"
    )
    _add_shared(reproduce, "--scheduler", "address of a Dask distributed scheduler to run the jobs on")
    reproduce.add_argument("--quick", action="store_true", help="data subset and 3 epochs: a smoke test")
    _add_shared(reproduce, "--data-dir")
    reproduce.add_argument(
        "--fail-on-mismatch",
        action="store_true",
        help="exit with status 1 if any compared cell is outside its acceptance bound (for scripts and CI)",
    )

    bench = commands.add_parser("bench", help="time one training epoch per backend and peer; write a chart")
    bench.add_argument(
        "--threads",
        help="comma-separated thread counts (default 1,2; with --sweep default 1: fastmlp cpp is also"
        " timed at each count above 1, with --clock wall)",
    )
    bench.add_argument("--batch-sizes", default="64", help="comma-separated batch sizes (default 64)")
    _add_shared(bench, "--dtype")
    bench.add_argument(
        "--repeats",
        type=_int_at_least(1, "--repeats"),
        default=3,
        help="timed epochs per backend, thread count and batch size; the minimum is reported (default 3)",
    )
    bench.add_argument(
        "--tenant",
        type=_int_at_least(0, "--tenant"),
        default=0,
        metavar="N",
        help="start N CPU-bound processes for the bench's duration (a machine that is not idle; default 0)",
    )
    bench.add_argument(
        "--default-threads-only",
        action="store_true",
        help="time only the default threads against 1 thread per backend (the table --tenant is for)",
    )
    _add_shared(bench, "--out", "directory for bench.md and bench.png")
    _add_shared(bench, "--data-dir")
    bench.add_argument(
        "--summary",
        metavar="RESULTS_JSON",
        help="time nothing: turn a 'pytest benchmarks --benchmark-only --benchmark-json=FILE' run into"
        " summary.md and summary.png in --out (backend x kernel at batch 64, ratios to NumPy)",
    )
    bench.add_argument(
        "--sklearn",
        action="store_true",
        help="time fastmlp.sklearn's MLPClassifier against scikit-learn's own instead (fits of 3 epochs,"
        " one CPU; MNIST dense and CSR, make_classification) and write sklearn.md in --out",
    )
    bench.add_argument(
        "--sweep",
        action="store_true",
        help="time one epoch per shape instead: fastmlp cpp, JAX and PyTorch eager on 1 pinned CPU, MNIST"
        " and standardised (dense) input, with the single-core SGEMM peak; writes sweep.md in --out",
    )
    bench.add_argument(
        "--shapes",
        metavar="SPEC",
        help="with --sweep: comma-separated HIDDEN[-HIDDEN...]:ACTIVATION:BATCH:INPUT (INPUT mnist or"
        " dense), e.g. 1024-1024:relu:256:dense (default: the 11 rows of issue 21)",
    )
    bench.add_argument(
        "--bf16",
        action="store_true",
        help="with --sweep: also time fastmlp cpp with precision=bfloat16 (CPUs with AVX512_BF16) and"
        " print its epochs beside float32's, with their ratio",
    )
    bench.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="with --sweep: wall time (default) or the process's CPU time, which leaves out the time"
        " other programs hold the pinned CPU on a loaded machine",
    )
    _add_tune_parser(commands)
    return parser


def _version_text() -> str:
    """The version, the libraries that matter for speed, and how the C++ extension was built."""
    import platform

    import numba
    import numpy

    from . import __version__, available_backends

    lines = [
        f"fastmlp {__version__}",
        f"Python {platform.python_version()}, NumPy {numpy.__version__}, Numba {numba.__version__}; "
        f"backends available: {', '.join(available_backends())}",
    ]
    from .build import build_info

    info = build_info()
    lines.append(
        f"build: {info['compiler']}, flags {info['compile_flags']}, instruction-set level {info['isa_level']}"
        f" (module {info['module']})"
    )
    lines.append(f"CPU: {info['cpu_model']}, level {info['cpu_level']}")
    return "\n".join(lines)


def _add_tune_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    tune = commands.add_parser(
        "tune", help="search hyperparameters with Optuna (resumable; needs fastmlp[tune])"
    )
    tune.add_argument("--config", help="YAML file with the fixed parts (default: the assignment's defaults)")
    tune.add_argument("--space", help="YAML file with a Search section (default: configs/tune_space.yaml's)")
    tune.add_argument(
        "--trials",
        type=_int_at_least(1, "--trials"),
        default=100,
        help="trials in the study, in total (default 100)",
    )
    tune.add_argument("--timeout", type=float, help="start no trial after this many seconds")
    _add_shared(tune, "--epochs", "epochs per trial at most (default 20)", default=20)
    tune.add_argument("--study", default="fastmlp", help="study name (default fastmlp)")
    tune.add_argument(
        "--storage", help="Optuna storage URL (default sqlite:///OUT/STUDY.db); or journal:PATH"
    )
    _add_shared(tune, "--jobs", "trials in parallel (default: one per core)")
    _add_shared(tune, "--scheduler", "address of a Dask distributed scheduler to run the trials on")
    _add_shared(tune, "--seed", "shuffle and sampler seed")
    _add_shared(tune, "--backend", "kernel backend (default: the fastest available)")
    _add_shared(tune, "--out", "directory for TUNING.md, the model, figures")
    _add_shared(tune, "--json", "write the result (counts, best, top trials) to this JSON file")
    _add_shared(tune, "--data-dir")
    _add_shared(
        tune,
        "--allow-any-size",
        "accept --data-dir files of MNIST's layout but other sizes (Fashion-MNIST, your own split)",
    )


def _command_train(args: argparse.Namespace) -> int:
    from . import default_backend, set_num_threads
    from .config import load_config
    from .data import describe_source, load_mnist
    from .models import save_model
    from .plotting import plot_learning_curves
    from .progress import write
    from .runs import run_config
    from .threads import default_threads, get_num_threads, max_threads
    from .train import EpochRecord

    config = load_config(args.config)
    if args.epochs is not None:
        config["Train"]["epochs"] = args.epochs
    backend = args.backend or default_backend()
    threads = args.threads if args.threads is not None else default_threads()
    if threads > max_threads():
        raise UsageError(f"--threads must be at most {max_threads()} (the cores available), got {threads}")
    set_num_threads(threads)
    if not args.quiet:
        write(
            f"fastmlp train: backend {backend}, {args.dtype}, {get_num_threads()} thread"
            f"{'s' if get_num_threads() > 1 else ''}, data from {describe_source(args.data_dir)}"
        )
    data = load_mnist(args.data_dir, dtype=args.dtype, quiet=args.quiet, allow_any_size=args.allow_any_size)

    def report(record: EpochRecord) -> None:
        # Above the progress bar (see fastmlp.progress); the line fits 80 columns.
        if not args.quiet:
            seconds = record.train_seconds + record.eval_seconds
            write(
                f"epoch {record.epoch:3d}  train loss {record.train_loss:.4f} acc {record.train_acc:.4f}  "
                f"val loss {record.val_loss:.4f} acc {record.val_acc:.4f}  ({seconds:.1f} s)"
            )

    run = run_config(
        config,
        data,
        backend=backend,
        dtype=args.dtype,
        seed=args.seed,
        progress=False if args.quiet else None,
        on_epoch=report,
    )
    model, result = run.model, run.result
    written = []
    if args.json:
        Path(args.json).write_text(json.dumps(run.record, indent=2), encoding="utf-8")
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
        print(data.verify(args.data_dir, allow_any_size=args.allow_any_size))
    else:
        print(data.describe_source(args.data_dir))
    return 0


def _command_line(name: str) -> str:
    """The command as typed, for the report's "made by" line (``fastmlp NAME`` when called from
    Python rather than the shell)."""
    return "fastmlp " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [name] else f"fastmlp {name}"


def _options(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The parsed options ``names`` as keyword arguments of the same names."""
    return {name: getattr(args, name) for name in names}


def _command_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce
    from .reproduce.compare import verdict

    records = reproduce(
        args.out,
        n_jobs=args.jobs,
        command=_command_line("reproduce"),
        **_options(args, "backend", "seed", "seeds", "scheduler", "quick", "data_dir"),
    )
    outcome = verdict(records)
    print(outcome.line())
    if args.quick and outcome.failed:
        print("(--quick is a smoke test: runs this short are not expected to match the write-up)")
    return 1 if args.fail_on_mismatch and outcome.failed else 0


def _command_tune(args: argparse.Namespace) -> int:
    from .config import load_config
    from .tune import DEFAULT_SPACE, TuneInterrupted, load_space, require_optuna, tune

    require_optuna()
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    space = load_space(args.space) if args.space else DEFAULT_SPACE
    base = load_config(args.config) if args.config else None
    try:
        result = tune(
            args.out,
            base=base,
            space=space,
            command=_command_line("tune"),
            **_options(args, "trials", "timeout", "epochs", "study", "storage"),  # the study
            **_options(
                args, "jobs", "scheduler", "seed", "backend", "data_dir", "allow_any_size"
            ),  # its runs
        )
    except TuneInterrupted as interrupted:
        print(f"fastmlp: {interrupted}", file=sys.stderr)
        return 130
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def _int_list(flag: str, text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise UsageError(f"{flag} must be positive integers, got {text!r}")
    return values


def _thread_counts(text: str) -> list[int]:
    """--threads of fastmlp bench: counts this process can run (1 to its cores)."""
    from .threads import max_threads

    counts = _int_list("--threads", text)
    if max(counts) > max_threads():
        cores = max_threads()
        raise UsageError(f"--threads must be at most {cores} (the cores available), got {max(counts)}")
    return counts


def _command_bench_summary(args: argparse.Namespace) -> int:
    from .benchmarking import summary

    result = summary.summarise(summary.load_results(args.summary), dtype=args.dtype)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = summary.markdown(result)
    (out / "summary.md").write_text(table, encoding="utf-8")
    summary.figure(result, out / "summary.png")
    print(table, end="")
    print(f"wrote {out / 'summary.md'} and {out / 'summary.png'}")
    return 0


def _command_bench_sklearn(args: argparse.Namespace) -> int:
    try:
        import scipy.sparse  # noqa: F401
        import sklearn  # noqa: F401

        from .benchmarking import sklearn_fits
    except ImportError as error:
        raise MissingDependencyError(
            'fastmlp bench --sklearn needs scikit-learn and scipy: pip install "fastmlp[sklearn]"'
        ) from error
    from .build import describe as describe_build
    from .data import load_mnist

    data = sklearn_fits.datasets(load_mnist(args.data_dir, dtype=args.dtype), dtype=args.dtype)
    results = sklearn_fits.time_fits(data, repeats=args.repeats)
    table = sklearn_fits.markdown(results, repeats=args.repeats, build=describe_build())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sklearn.md").write_text(table, encoding="utf-8")
    print(table, end="")
    print(f"wrote {out / 'sklearn.md'}")
    return 0


def _command_bench_sweep(args: argparse.Namespace) -> int:
    from .benchmarking import sweep
    from .build import describe as describe_build
    from .data import load_mnist

    shapes = sweep.parse_shapes(args.shapes) if args.shapes else list(sweep.ISSUE_SHAPES)
    threads = _thread_counts(args.threads or "1")
    if args.clock == "cpu" and max(threads) > 1:
        raise UsageError("--threads above 1 needs --clock wall (CPU time adds up every thread's)")
    data = load_mnist(args.data_dir, dtype="float32")
    result = sweep.run_sweep(
        data.x_train,
        data.y_train,
        shapes,
        repeats=args.repeats,
        clock=args.clock,
        threads=threads,
        bfloat16=args.bf16,
    )
    table = f"Build: {describe_build()}\n\n" + sweep.markdown(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"wrote {out / 'sweep.md'}")
    return 0


def _command_bench(args: argparse.Namespace) -> int:
    if args.summary:
        return _command_bench_summary(args)
    if args.sklearn:
        return _command_bench_sklearn(args)
    if args.shapes and not args.sweep:
        raise UsageError("--shapes needs --sweep")
    if args.bf16 and not args.sweep:
        raise UsageError("--bf16 needs --sweep")
    if args.sweep:
        return _command_bench_sweep(args)
    import os

    from .benchmarking.tenants import busy_processes

    threads = _thread_counts(args.threads or "1,2")
    batch_sizes = _int_list("--batch-sizes", args.batch_sizes)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    with busy_processes(args.tenant):
        if args.tenant:
            print(f"{args.tenant} CPU-bound process(es) running beside the bench until it ends")
        return _bench(args, threads, batch_sizes, load)


def _bench(args: argparse.Namespace, threads: list[int], batch_sizes: list[int], load: str) -> int:
    from . import available_backends, default_backend
    from .benchmarking.epochs import (
        default_against_one,
        default_against_one_table,
        epoch_time_by_state,
        same_accuracy,
        thread_scaling,
        time_epochs,
    )
    from .benchmarking.report import bench_markdown, write_bench
    from .build import describe as describe_build
    from .data import load_mnist
    from .threads import default_threads

    data = load_mnist(args.data_dir, dtype=args.dtype)
    pairs = 4 * args.repeats
    print(f"Default threads ({default_threads()}) against 1 thread, {pairs} pairs of epochs")
    defaults = default_against_one(
        data.x_train, data.y_train, backends=available_backends(), threads=default_threads(), pairs=pairs
    )
    defaults_table = default_against_one_table(defaults, tenants=args.tenant, pairs=pairs, load=load)
    if args.default_threads_only:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        text = f"Build: {describe_build()}\n\n{defaults_table}"
        (out / "bench.md").write_text(text, encoding="utf-8")
        print(text, end="")
        print(f"wrote {out / 'bench.md'}")
        return 0
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
    table = bench_markdown(
        timings,
        scaling,
        states,
        accuracies,
        backend=default_backend(),
        build=describe_build(),
        repeats=2 * args.repeats,
        defaults=defaults_table,
    )
    markdown_path, chart_path = write_bench(Path(args.out), timings, table)
    print(table)
    print(f"wrote {markdown_path} and {chart_path}")
    return 0


COMMANDS = {
    "train": _command_train,
    "data": _command_data,
    "reproduce": _command_reproduce,
    "bench": _command_bench,
    "tune": _command_tune,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastmlp`` console script; returns the exit status."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.version:
            print(_version_text())
            return 0
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return COMMANDS[args.command](args)
    except (UsageError, FastmlpError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"fastmlp: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130
    except Exception:
        print(BUG_REPORT_HINT, file=sys.stderr)
        raise
