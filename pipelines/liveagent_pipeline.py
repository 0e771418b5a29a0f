"""`liveagent-pipeline`: copy a LiveAgent account into DuckDB (default) or Postgres.

    liveagent-pipeline run [--destination duckdb|postgres] [--dataset liveagent]
                           [--resources a,b,...] [--start-date D] [--end-date D]
                           [--full-refresh] [--duckdb-path FILE]
    liveagent-pipeline demo [--conversations N] [--duckdb-path FILE]

Configuration comes the dlt way: `.dlt/config.toml` and `.dlt/secrets.toml` in the working
directory, or `SOURCES__LIVEAGENT__*` environment variables; every default lives in code.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract import DltSource

from pipelines import demo
from sources.liveagent import CONVERSATION_FAMILY, INTERNAL_RESOURCES, liveagent_source
from sources.liveagent.client import process_metrics
from sources.liveagent.exceptions import LiveAgentError
from sources.liveagent.settings import DEFAULT_MAX_WORKERS

DEFAULT_DUCKDB_PATH = "warehouse.duckdb"
DEFAULT_DATASET = "liveagent"
# DuckDB's default insert_values loader is slow and memory-hungry on large loads (dlt 1.31);
# parquet is the choice until benchmarks/ measures the alternatives (issue 6)
LOADER_FILE_FORMAT = {"duckdb": "parquet", "postgres": "insert_values"}


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


@dataclass
class RunResult:
    load_info: LoadInfo
    row_counts: dict[str, int]
    requests: int
    rate_limit_wait: float
    elapsed: float


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="liveagent-pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one ELT run")
    run.add_argument("--destination", choices=("duckdb", "postgres"), default="duckdb")
    run.add_argument("--dataset", default=DEFAULT_DATASET, help="dataset (schema) name")
    run.add_argument("--duckdb-path", default=DEFAULT_DUCKDB_PATH,
                     help=f"DuckDB file (default ./{DEFAULT_DUCKDB_PATH})")
    run.add_argument("--resources", default="",
                     help="comma-separated tables to load (default: all)")
    run.add_argument("--start-date", help="first account-local day (YYYY-MM-DD) or datetime")
    run.add_argument("--end-date",
                     help="last account-local day: a backfill that leaves incremental state as is")
    run.add_argument("--full-refresh", action="store_true",
                     help="drop this source's tables and state, then load everything again")
    run.add_argument("--pipelines-dir", help="where dlt keeps local pipeline state")
    demo_parser = commands.add_parser(
        "demo", help="run the pipeline against a bundled fake account (no login needed)")
    demo.add_arguments(demo_parser)
    return parser.parse_args(argv)


def select_resources(source: DltSource, names: str) -> list[str]:
    """Resources for the requested table names; the conversation family travels together
    (conversation_details joins it) because they share the conversations' incremental state."""
    if not names.strip():
        return [name for name, resource in source.resources.items() if resource.selected]
    wanted = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in source.resources or name in INTERNAL_RESOURCES:
            known = sorted(set(source.resources) - set(INTERNAL_RESOURCES))
            raise UsageError(f"unknown resource '{name}'; choose from: {', '.join(known)}")
        wanted.append(name)
    if any(name in CONVERSATION_FAMILY or name == "conversation_details" for name in wanted):
        wanted.extend(CONVERSATION_FAMILY)
    return list(dict.fromkeys(wanted))


def pipeline_name(destination: str, dataset: str, duckdb_path: Path | None) -> str:
    """One pipeline (and local state) per target, so two DuckDB files never share state."""
    target = f"{destination}:{dataset}:{duckdb_path or ''}"
    return f"liveagent_{destination}_{dataset}_{hashlib.sha1(target.encode()).hexdigest()[:8]}"


def make_pipeline(args: argparse.Namespace) -> dlt.Pipeline:
    duckdb_path = None
    if args.destination == "duckdb":
        duckdb_path = Path(args.duckdb_path).expanduser().resolve()
        if duckdb_path.stem == args.dataset:
            raise UsageError(
                f"--duckdb-path {args.duckdb_path} is named like the dataset '{args.dataset}'; "
                "DuckDB would see catalog and schema with one name: rename the file"
            )
        destination: Any = dlt.destinations.duckdb(str(duckdb_path))
    else:
        destination = dlt.destinations.postgres()
    return dlt.pipeline(
        pipeline_name=pipeline_name(args.destination, args.dataset, duckdb_path),
        destination=destination, dataset_name=args.dataset, pipelines_dir=args.pipelines_dir,
    )


def run(args: argparse.Namespace, **source_options: Any) -> RunResult:
    """One ELT run; `source_options` override configuration (the demo passes its fake)."""
    started = time.monotonic()
    requests_before, waited_before = process_metrics.requests, process_metrics.waited
    pipeline = make_pipeline(args)
    dates = (("start_date", args.start_date), ("end_date", args.end_date))
    source = liveagent_source(**{k: v for k, v in dates if v}, **source_options)
    source = source.with_resources(*select_resources(source, args.resources))
    workers = dlt.config.get("sources.liveagent.max_workers", int) or DEFAULT_MAX_WORKERS
    pipeline.extract(source, workers=workers,
                     refresh="drop_sources" if args.full_refresh else None,
                     loader_file_format=LOADER_FILE_FORMAT[args.destination])  # type: ignore[arg-type]
    normalized = pipeline.normalize()
    load_info = pipeline.load()
    load_info.raise_on_failed_jobs()
    counts = normalized.row_counts if normalized is not None else {}
    return RunResult(
        load_info=load_info,
        row_counts={t: n for t, n in sorted(counts.items()) if not t.startswith("_dlt")},
        requests=process_metrics.requests - requests_before,
        rate_limit_wait=process_metrics.waited - waited_before,
        elapsed=time.monotonic() - started,
    )


def summary(args: argparse.Namespace, result: RunResult) -> str:
    lines = [f"liveagent-pipeline: loaded {sum(result.row_counts.values())} rows in "
             f"{result.elapsed:.1f}s with {result.requests} API requests "
             f"({result.rate_limit_wait:.1f}s waiting for the rate limit)"]
    width = max((len(t) for t in result.row_counts), default=10)
    lines += [f"  {table:<{width}}  {rows:>9}" for table, rows in result.row_counts.items()]
    if not result.row_counts:
        lines.append("  nothing new since the last run")
    if args.destination == "duckdb":
        path = Path(args.duckdb_path).expanduser().resolve()
        lines.append(f"data: {path} (dataset {args.dataset}); query it with\n"
                     f"  duckdb {path} \"SELECT status, count(*) FROM {args.dataset}.conversations"
                     " GROUP BY 1\"")
    else:
        lines.append(f"data: Postgres schema {args.dataset}")
    return "\n".join(lines)


def liveagent_cause(error: BaseException | None) -> LiveAgentError | None:
    """The LiveAgentError behind a pipeline failure, if one caused it."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, LiveAgentError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def run_demo(args: argparse.Namespace) -> str:
    print(f"liveagent-pipeline demo: starting a fake LiveAgent account with "
          f"{args.conversations} conversations on a loopback port ...", flush=True)
    options = demo.run_args(args)
    with demo.fake_account(args.conversations) as fake:
        result = run(options, **demo.source_options(fake))
    path = Path(options.duckdb_path).expanduser().resolve()
    return f"{summary(options, result)}\n\n{demo.example_queries(path, options.dataset)}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        output = run_demo(args) if args.command == "demo" else summary(args, run(args))
    except UsageError as error:
        print(f"liveagent-pipeline: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        cause = liveagent_cause(error)
        if cause is None:
            raise
        print(f"liveagent-pipeline: {cause}", file=sys.stderr)
        return 1
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
