"""`liveagent-pipeline`: copy a LiveAgent account into DuckDB (default) or Postgres.

    liveagent-pipeline run [--destination duckdb|postgres] [--dataset liveagent]
                           [--resources a,b,...] [--start-date D] [--end-date D]
                           [--full-refresh] [--duckdb-path FILE] [--transform]
    liveagent-pipeline demo [--conversations N] [--duckdb-path FILE] [--transform]

Configuration comes the dlt way: `.dlt/config.toml` and `.dlt/secrets.toml` in the working
directory, or `SOURCES__LIVEAGENT__*` environment variables; every default lives in code.
Exit codes: 0 every package loaded, 1 the run failed, 2 fix the command line or configuration,
3 loaded, but rows that break the contract are kept in `rejected_rows` instead of their tables.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import date, datetime
from typing import NoReturn

import dlt

from pipelines import demo
from pipelines.errors import EXIT_OK, EXIT_REJECTED, explain
from pipelines.logs import quiet_load_jobs
from pipelines.progress import Progress
from pipelines.runner import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    DEFAULT_KEPT_LOAD_PACKAGES,
    RunOptions,
    UsageError,
    run_pipeline,
    status_lines,
    summary,
)
from sources.liveagent.client import redact


def date_argument(value: str) -> str:
    """YYYY-MM-DD or an ISO datetime, checked before anything runs."""
    try:
        (date if len(value) == 10 else datetime).fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
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
    for command in (run, status):
        command.add_argument("--destination", choices=("duckdb", "postgres"), default="duckdb")
        command.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset (schema) name")
        command.add_argument("--duckdb-path", default=DEFAULT_DUCKDB_PATH,
                             help=f"DuckDB file (default ./{DEFAULT_DUCKDB_PATH})")
    run.add_argument("--max-duration", type=duration_argument, metavar="DURATION",
                     help="time box, e.g. 14m: bring the warehouse up to date, then spend "
                     "the rest on history and stop starting new backfill loads after it")
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
    run.add_argument("--keep-load-packages", type=int, default=DEFAULT_KEPT_LOAD_PACKAGES,
                     metavar="N", help="loaded packages kept in the pipelines directory for "
                     f"inspection (default {DEFAULT_KEPT_LOAD_PACKAGES}); older ones are deleted")
    demo_parser = commands.add_parser(
        "demo", help="run the pipeline against a bundled fake account (no login needed)")
    demo.add_arguments(demo_parser)
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
    if args.command == "status":
        return RunOptions(destination=args.destination, dataset=args.dataset,
                          duckdb_path=args.duckdb_path, pipelines_dir=args.pipelines_dir)
    return RunOptions(
        destination=args.destination, dataset=args.dataset, duckdb_path=args.duckdb_path,
        resources=[n.strip() for n in args.resources.split(",") if n.strip()],
        start_date=args.start_date, end_date=args.end_date, full_refresh=args.full_refresh,
        pipelines_dir=args.pipelines_dir, keep_load_packages=args.keep_load_packages,
        reconcile=args.reconcile, max_duration=args.max_duration or configured_max_duration(),
        transform=args.transform,
    )


def configured_max_duration() -> float | None:
    """`sources.liveagent.max_duration` (e.g. "14m") when the command line sets none."""
    value = dlt.config.get("sources.liveagent.max_duration", str)
    if not value:
        return None
    try:
        return duration_argument(str(value))
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"sources.liveagent.max_duration: {error}") from None


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def duration_argument(value: str) -> float:
    """'14m', '1h30m', '900s' or '900' (seconds)."""
    found = _DURATION.fullmatch(value.strip())
    if not value.strip() or found is None or not any(found.groups()):
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a duration: use e.g. 14m, 1h30m or 900 (seconds)")
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def execute(args: argparse.Namespace) -> tuple[str, int]:
    """The summary to print and the exit code of a run that loaded."""
    progress = Progress(period=args.progress_every) if args.progress_every > 0 else None
    if args.command == "demo":
        return demo.run(args, progress), EXIT_OK
    options = run_options(args)
    if args.command == "status":
        return "\n".join(status_lines(options)), EXIT_OK
    result = run_pipeline(options, progress)
    return summary(options, result), EXIT_REJECTED if result.rejections.open else EXIT_OK


def known_secrets() -> list[str]:
    try:
        return [str(dlt.secrets.get("sources.liveagent.api_key") or "")]
    except Exception:  # secrets that cannot even be read cannot leak either
        return []


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_load_jobs(not args.debug)  # a retried job's traceback only with --debug
    try:
        output, code = execute(args)
    except Exception as error:
        secrets = known_secrets()
        if args.debug:
            print(redact(traceback.format_exc(), secrets), file=sys.stderr)
        message, code = explain(error)
        print(f"liveagent-pipeline: {redact(message, secrets)}", file=sys.stderr)
        return code
    print(output)
    return code


if __name__ == "__main__":
    sys.exit(main())
