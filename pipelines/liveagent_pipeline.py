"""`liveagent-pipeline`: copy a LiveAgent account into DuckDB (default) or Postgres.

    liveagent-pipeline run [--destination duckdb|postgres] [--dataset liveagent]
                           [--resources a,b,...] [--start-date D] [--end-date D]
                           [--full-refresh] [--duckdb-path FILE] [--transform]
                           [--duckdb-storage-version VERSION]
    liveagent-pipeline demo [--conversations N] [--duckdb-path FILE] [--transform]
                            [--dashboard [--dashboard-port PORT]]
    liveagent-pipeline plan [--account NAME] [--start-date D]
    liveagent-pipeline dashboard [--duckdb-path FILE] [--dataset NAME] [--dashboard-port PORT]
    liveagent-pipeline query [--duckdb-path FILE] [--max-rows N] "SQL"
    liveagent-pipeline convert-duckdb [--duckdb-path FILE] [--storage-version VERSION]
    liveagent-pipeline forget (--email ADDRESS | --contact-id ID) [--destination ...]
                              [--duckdb-path FILE] [--dataset NAME] [--account NAME]

Configuration comes the dlt way: `.dlt/config.toml` and `.dlt/secrets.toml` in the working
directory, or `SOURCES__LIVEAGENT__*` environment variables; every default lives in code.
Exit codes: 0 every package loaded, 1 the run failed, 2 fix the command line or configuration,
3 loaded, but rows that break the contract are kept in `rejected_rows` instead of their tables,
4 loaded, but tables whose reads kept failing were not (their state kept; a line names each and
why), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import dlt
from dlt.common import logger as dlt_logger

from pipelines import dashboard, demo, duckdb_commands, forget, plan
from pipelines.accounts import Account, account_named
from pipelines.errors import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_TABLES_FAILED,
    explain,
    failed_tables_line,
    known_secrets,
)
from pipelines.logs import quiet_load_jobs
from pipelines.options import DEFAULT_DUCKDB_WAIT
from pipelines.progress import Progress
from pipelines.runner import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    DEFAULT_KEPT_LOAD_PACKAGES,
    RunContext,
    RunOptions,
    UsageError,
    run_pipeline,
    status_lines,
    summary,
)
from sources.liveagent.client import redact
from sources.liveagent.exceptions import ConfigurationError
from sources.liveagent.transforms import parse_date_text


def date_argument(value: str) -> str:
    """YYYY-MM-DD or an ISO datetime, checked before anything runs."""
    try:
        parse_date_text(value)
    except ConfigurationError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a date: use YYYY-MM-DD or an ISO datetime like 2025-01-31T08:00"
        ) from None
    return value


class OneLineParser(argparse.ArgumentParser):
    """Reports a command-line mistake in one line (and exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"liveagent-pipeline: {message} (see {self.prog} --help)\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog="liveagent-pipeline", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one ELT run")
    status = commands.add_parser(
        "status", help="where the backfill stands and what is left, without loading anything")
    plan_parser = commands.add_parser(
        "plan", help="before a first sync: estimate its conversations, requests and time from "
        "a few cheap requests", description=plan.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    plan_parser.add_argument("--account", help="one of the accounts of [liveagent.accounts]")
    plan_parser.add_argument("--start-date", type=date_argument,
                             help="the first account-local day the sync would load")
    plan_parser.add_argument("--debug", action="store_true",
                             help="print the traceback of a failure")
    forget_parser = commands.add_parser(
        "forget", help="hash what the warehouse holds about one contact (an erasure request), "
        "and keep later runs from loading them in clear text",
        description=forget.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    forget.add_arguments(forget_parser)
    for command in (run, status, forget_parser):
        command.add_argument("--destination", default="duckdb",
                             help="duckdb (default), postgres, or any dlt destination's name "
                             "(filesystem, motherduck, ...), configured the dlt way")
        command.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset (schema) name")
        command.add_argument("--duckdb-path", default=DEFAULT_DUCKDB_PATH,
                             help=f"DuckDB file (default ./{DEFAULT_DUCKDB_PATH})")
        command.add_argument("--pipeline-name",
                             help="dlt's pipeline name (default: liveagent for the default "
                             "target, else derived from the target)")
        command.add_argument("--account", help="one of the accounts of [liveagent.accounts]: "
                             "its URL, key, time zone and dataset")
    run.add_argument("--max-duration", type=duration_argument, metavar="DURATION",
                     help="time box, e.g. 14m: bring the warehouse up to date, then spend "
                     "the rest on history and stop starting new backfill loads after it")
    run.add_argument("--duckdb-storage-version", metavar="VERSION",
                     help="storage format of a new DuckDB file: the oldest DuckDB release "
                     "that must open it, or 'latest' (default: destination.duckdb."
                     "storage_version, else v1.4.0)")
    run.add_argument("--resources", default="",
                     help="comma-separated tables to load (default: all)")
    run.add_argument("--start-date", type=date_argument,
                     help="first account-local day (YYYY-MM-DD) or datetime")
    run.add_argument("--end-date", type=date_argument,
                     help="last account-local day: a backfill that leaves incremental state as is")
    run.add_argument("--full-refresh", action="store_true",
                     help="drop this source's tables and state, then load everything again")
    run.add_argument("--reconcile", action="store_true",
                     help="list every conversation id now (not only on the weekly cadence) to "
                     "find conversations purged from LiveAgent")
    run.add_argument("--confirm-deletes", action="store_true",
                     help="accept listings that take away more rows than one listing may "
                     "(sources.liveagent.max_deleted_share): LiveAgent really deleted them")
    run.add_argument("--duckdb-wait", type=float, default=DEFAULT_DUCKDB_WAIT, metavar="SECONDS",
                     help="how long to wait for a DuckDB file another process holds "
                     f"(default {DEFAULT_DUCKDB_WAIT:.0f})")
    run.add_argument("--keep-load-packages", type=int, default=DEFAULT_KEPT_LOAD_PACKAGES,
                     metavar="N", help="loaded packages kept in the pipelines directory for "
                     f"inspection (default {DEFAULT_KEPT_LOAD_PACKAGES}); older ones are deleted")
    forget_parser.add_argument("--pipelines-dir", help="where dlt keeps local pipeline state")
    forget_parser.add_argument("--debug", action="store_true",
                               help="print the traceback of a failure")
    demo_parser = commands.add_parser(
        "demo", help="run the pipeline against a bundled fake account (no login needed)")
    demo.add_arguments(demo_parser)
    dashboard.add_arguments(demo_parser, command=False)
    dashboard.add_arguments(commands.add_parser(
        "dashboard", help="serve the starter dashboard on a warehouse's analyst layer "
        "(needs the dashboard extra)"), command=True)
    duckdb_commands.add_commands(commands)
    for command in (run, demo_parser, status):
        command.add_argument("--pipelines-dir", help="where dlt keeps local pipeline state")
        command.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                             help="progress line period on stderr; 0 turns progress off")
        command.add_argument("--debug", action="store_true",
                             help="print the traceback of a failure")
        command.add_argument("--transform", action="store_true",
                             help="after the load, build the analyst layer (dbt staging views "
                             "and marts, then its tests); needs the analytics extra")
    return parser.parse_args(argv)


def run_options(args: argparse.Namespace) -> RunOptions:
    target = {"destination": args.destination, "dataset": args.dataset,
              "duckdb_path": args.duckdb_path, "pipelines_dir": args.pipelines_dir,
              "pipeline_name": args.pipeline_name}
    if args.command in ("status", "forget"):
        return RunOptions(**target)
    return RunOptions(
        **target, resources=[n.strip() for n in args.resources.split(",") if n.strip()],
        start_date=args.start_date, end_date=args.end_date, full_refresh=args.full_refresh,
        keep_load_packages=args.keep_load_packages, reconcile=args.reconcile,
        max_duration=configured_max_duration() if args.max_duration is None
        else args.max_duration,
        duckdb_storage_version=args.duckdb_storage_version, duckdb_wait=args.duckdb_wait,
        transform=args.transform,
    )


def chosen_account(args: argparse.Namespace) -> Account | None:
    """The account of `--account` (run and status only), or None."""
    name = getattr(args, "account", None)
    return account_named(name) if name else None


def for_account(args: argparse.Namespace, options: RunOptions, account: Account | None
                ) -> tuple[RunOptions, dict[str, Any]]:
    """The options and source settings of `account`, or `options` as they are."""
    if account is None:
        return options, {}
    explicit_dataset = args.dataset != DEFAULT_DATASET
    aimed = account.options(options)
    if explicit_dataset:
        aimed.dataset = args.dataset
    return aimed, dict(account.settings)


def configured_max_duration() -> float | None:
    """`sources.liveagent.max_duration` (e.g. "14m") when the command line sets none."""
    value = dlt.config.get("sources.liveagent.max_duration", str)
    if not value:
        return None
    try:
        return duration_argument(str(value))
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"sources.liveagent.max_duration (env SOURCES__LIVEAGENT__MAX_DURATION)"
                         f": {error}") from None


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def duration_argument(value: str) -> float:
    """'14m', '1h30m', '900s' or '900' (seconds); above 0: a box of nothing was once taken
    for no box at all."""
    found = _DURATION.fullmatch(value.strip())
    if not value.strip() or found is None or not any(found.groups()):
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a duration: use e.g. 14m, 1h30m or 900 (seconds)")
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = float(hours * 3600 + minutes * 60 + seconds)
    if duration <= 0:
        raise argparse.ArgumentTypeError(
            f"'{value}' is no time box: give one above 0 seconds, e.g. 14m, or leave it out "
            "for none")
    return duration


def execute(args: argparse.Namespace, account: Account | None = None) -> tuple[str, int]:
    """The summary to print and the exit code of a run (of `account`, if any) that loaded."""
    if args.command in duckdb_commands.COMMANDS:
        return duckdb_commands.execute(args), EXIT_OK
    if args.command == "plan":
        settings = dict(account.settings) if account is not None else {}
        if args.start_date:
            settings["start_date"] = args.start_date
        return "\n".join(plan.plan(settings)), EXIT_OK
    if args.command == "dashboard":
        path = Path(args.duckdb_path).expanduser().resolve()
        return dashboard.serve(path, args.dataset, args.dashboard_port), EXIT_OK
    context = run_context(args)
    if args.command == "demo":
        return run_demo(args, context), EXIT_OK
    options, settings = for_account(args, run_options(args), account)
    if args.command == "status":
        return "\n".join(status_lines(options)), EXIT_OK
    if args.command == "forget":
        done = forget.forget(options, args.email, args.contact_id, context.say, settings)
        return forget.summary(options, done), EXIT_OK
    if args.confirm_deletes:  # for this run only: not a setting that stays on
        settings["confirm_deletes"] = True
    result = run_pipeline(options, context=context, **settings)
    if result.failed:  # in the summary too; here the one line a failure gets
        print(f"liveagent-pipeline: {failed_tables_line(result.failed, options.account)}",
              file=sys.stderr)
        return summary(options, result), EXIT_TABLES_FAILED
    return summary(options, result), EXIT_REJECTED if result.rejections.open else EXIT_OK


def run_demo(args: argparse.Namespace, context: RunContext) -> str:
    """The demo; with --dashboard, its summary first, then the dashboard on its marts."""
    if not args.dashboard:
        return demo.run(args, context)
    dashboard.require_streamlit()  # before the load, which it would otherwise cost
    args.transform = True
    print(demo.run(args, context), flush=True)
    return dashboard.serve(Path(args.duckdb_path).expanduser().resolve(), args.dataset,
                           args.dashboard_port)


def run_context(args: argparse.Namespace) -> RunContext:
    """The run's counters, shared with the progress lines; what it waits for, on stderr."""
    context = RunContext(say=lambda message: print(f"liveagent-pipeline: {message}",
                                                   file=sys.stderr, flush=True))
    if getattr(args, "progress_every", 0) > 0:
        context.progress = Progress(period=args.progress_every, metrics=context.metrics)
    return context


def unjoined_threads(record: logging.LogRecord) -> bool:
    """Drops dlt's complaint that its extract threads did not join in time: after Ctrl-C they
    are finishing the request they were in, and the process waits for them."""
    return not record.getMessage().startswith("Shutdown of dlt thread pool")


def in_finalizer(frame: FrameType | None) -> bool:
    """Whether the interrupted code is an object's `__del__` (run by the garbage collector
    anywhere): Python prints an exception raised there as "ignored" and carries on (seen:
    pyrate_limiter's BucketFactory.__del__ took a Ctrl-C and the run exited 0)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


# dlt's own Ctrl-C handling in normalize and load (dlt/common/runtime/signals.py), off while
# the CLI handles it: it writes "CTRL-C received..." to a terminal (`_signal_receiver`), logs
# "Exiting runner due to signal 2" at WARNING when it stops (runners/pool_runner.py:275), and
# forgets a signal that came in a step's last pass (`_clear_signals`): measured, a Ctrl-C at the
# end of a backfill chunk's normalize let the run load every other chunk and exit 0. dlt's jobs
# are safe to stop anywhere (they resume after a SIGKILL, tests/reliability/test_crashes.py)
NO_DLT_SIGNALS = {"runtime.intercept_signals": False}


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt wherever the run is (dlt's handling is off, see
    NO_DLT_SIGNALS) and quiets dlt's thread-pool complaint."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        if in_finalizer(frame):  # raised there it would be printed and dropped: the run went on
            threading.Timer(0.05, signal.raise_signal, (signum,)).start()
            return
        if dlt_logger.LOGGER is not None:
            dlt_logger.LOGGER.addFilter(unjoined_threads)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # signals go to main only
        yield
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with dlt.config.values(NO_DLT_SIGNALS):
            yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if dlt_logger.LOGGER is not None:
            dlt_logger.LOGGER.removeFilter(unjoined_threads)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_load_jobs(not args.debug)  # a retried job's traceback only with --debug
    account: Account | None = None  # known before the run: its failure names its settings
    try:
        with interruptible():
            account = chosen_account(args)
            output, code = execute(args, account)
    except (Exception, KeyboardInterrupt) as error:
        secrets = known_secrets(account)
        if args.debug:
            print(redact(traceback.format_exc(), secrets), file=sys.stderr)
        message, code = explain(error, account)
        print(f"liveagent-pipeline: {redact(message, secrets)}", file=sys.stderr)
        return code
    print(output)
    return code


if __name__ == "__main__":
    sys.exit(main())
