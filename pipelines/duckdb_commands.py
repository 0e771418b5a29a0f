"""`liveagent-pipeline query` and `liveagent-pipeline convert-duckdb`: the DuckDB file without
a DuckDB client of one's own (the `duckdb` PyPI package has no command, and the DuckDB CLI a
user has may be too old or too new for the file)."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from pipelines import duckdb_file, read_copy
from pipelines.runner import DEFAULT_DUCKDB_PATH, UsageError

COMMANDS = ("query", "convert-duckdb")


def add_commands(commands: argparse._SubParsersAction) -> None:
    query = commands.add_parser(
        "query", help="print the result of one SQL statement on the DuckDB file (read-only)")
    query.add_argument("sql", help='e.g. "SELECT status, count(*) FROM liveagent.conversations '
                       'GROUP BY 1"')
    query.add_argument("--max-rows", type=int, default=duckdb_file.DEFAULT_MAX_ROWS,
                       metavar="N", help=f"rows printed at most (default "
                       f"{duckdb_file.DEFAULT_MAX_ROWS})")
    convert = commands.add_parser(
        "convert-duckdb", help="rewrite the DuckDB file in another storage format (the "
        "original is kept beside it as FILE.<its format>.bak)")
    convert.add_argument("--storage-version", default=None, metavar="VERSION",
                         help="oldest DuckDB release that must open the file, or 'latest' "
                         f"(default: destination.duckdb.storage_version, else "
                         f"{duckdb_file.DEFAULT_STORAGE_VERSION})")
    for command in (query, convert):
        command.add_argument("--duckdb-path", default=DEFAULT_DUCKDB_PATH,
                             help=f"DuckDB file (default ./{DEFAULT_DUCKDB_PATH})")
        command.add_argument("--debug", action="store_true",
                             help="print the traceback of a failure")


# what a mistyped statement raises (parser, binder, catalog, a write on the read-only file, a
# bad cast); not an IOException such as a lock held by a run
QUERY_MISTAKES = (duckdb.ProgrammingError, duckdb.DataError)


def execute(args: argparse.Namespace) -> str:
    path = Path(args.duckdb_path).expanduser().resolve()
    try:
        if args.command == "query":
            return duckdb_file.query(path, args.sql, args.max_rows)
        return convert(path, duckdb_file.storage_version(args.storage_version))
    except (FileNotFoundError, duckdb_file.StorageVersionError) as error:
        raise UsageError(str(error)) from None
    except QUERY_MISTAKES as error:
        raise UsageError(f"the query failed: {str(error).splitlines()[0]}") from None


def convert(path: Path, version: str) -> str:
    """Converts the file runs load into (their own copy, when they publish one) and publishes
    it again, so readers and later runs both get the new format."""
    writer = read_copy.writer_path(path)
    if not read_copy.enabled() or not writer.exists():
        writer = path
    before = duckdb_file.file_storage_version(writer) if writer.exists() else ""
    kept = duckdb_file.convert(writer, version, kept_beside=path)
    if writer != path:
        read_copy.publish(writer, path)
    after = duckdb_file.file_storage_version(path)
    return (f"liveagent-pipeline: rewrote {path} in storage format {after} (was {before}); "
            f"the original is kept as {kept}: delete it once the new file serves you")
