"""The DuckDB file a run writes: its storage format, its conversion, and queries on it.

DuckDB 2.0 writes files that DuckDB 1.x cannot open ("version number 999, but we can only read
versions between 64 and 67"), and most BI tools ship DuckDB 1.x drivers. A new warehouse file
is therefore created in the format of DuckDB 1.4 (the LTS line) unless `latest` is asked for;
DuckDB keeps a file's format for as long as the file lives, so an existing file keeps whatever
it has until `liveagent-pipeline convert-duckdb` rewrites it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines.options import UsageError

DEFAULT_STORAGE_VERSION = "v1.4.0"  # readable by DuckDB 1.4 and later
LATEST = "latest"
CONFIG_KEY = "destination.duckdb.storage_version"
SCRIPT = "liveagent-pipeline"
DEFAULT_MAX_ROWS = 100
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


class StorageVersionError(ValueError):
    """A storage version DuckDB does not know."""


# every DuckDB database file carries this at bytes 8-11 (its main header); read before DuckDB
# opens a file: given a SQLite file, DuckDB tries to download its SQLite extension to open it
MAGIC, MAGIC_AT = b"DUCK", 8
SQLITE_MAGIC = b"SQLite format 3\0"


def check_database(path: Path) -> None:
    """Refuses a file at `path` that is no DuckDB database (empty, SQLite, anything else), in
    one line that names it; a missing file passes (a run creates it)."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        head, what = b"", "a directory"
    else:
        what = "an empty file" if not head else "a SQLite database" \
            if head == SQLITE_MAGIC else "a file of another kind"
    if head[MAGIC_AT:MAGIC_AT + len(MAGIC)] == MAGIC:
        return
    raise UsageError(f"{path} is {what}, not a DuckDB database: choose another --duckdb-path, "
                     "or move the file away to start a new warehouse there")


def storage_version(requested: str | None = None) -> str:
    """The storage version asked for: the option, else `destination.duckdb.storage_version`
    from configuration, else v1.4.0; checked by DuckDB itself."""
    version = requested or dlt.config.get(CONFIG_KEY, str) or DEFAULT_STORAGE_VERSION
    try:
        duckdb.connect(":memory:", config={"storage_compatibility_version": version}).close()
    except duckdb.InvalidInputException:
        raise StorageVersionError(
            f"'{version}' is not a DuckDB storage version: use a release like "
            f"{DEFAULT_STORAGE_VERSION} (the oldest DuckDB that must read the file) or "
            f"'{LATEST}'") from None
    return version


def prepare(path: Path, version: str, shown_as: Path | None = None) -> list[str]:
    """Creates the file in `version`'s format when it does not exist yet (dlt would create it
    in the newest format); for an existing file that clients of `version` cannot open, a notice
    saying how to convert it (naming it `shown_as`, the file users know, when that differs)."""
    if not path.exists():
        duckdb.connect(str(path), config={"storage_compatibility_version": version}).close()
        return []
    found = file_storage_version(path)
    if readable_by(found, version):
        return []
    known = shown_as or path
    return [f"{known} keeps the storage format it was created in ({found}): DuckDB clients "
            f"older than {found.rstrip('+')} cannot open it; `{convert_command(known, version)}` "
            "rewrites it"]


def file_storage_version(path: Path) -> str:
    """The oldest DuckDB release that reads the file, as DuckDB names it (`v1.4.0+`)."""
    with duckdb.connect(str(path), read_only=True) as db:
        row = db.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                         "WHERE database_name = current_database()").fetchone()
    return str(row[0]) if row and row[0] else "unknown"


def readable_by(found: str, version: str) -> bool:
    """Whether a file in storage format `found` opens in DuckDB `version` (and later)."""
    if version == LATEST:
        return True
    have, want = _VERSION.match(found), _VERSION.match(version)
    if have is None or want is None:
        return False
    return _numbers(have) <= _numbers(want)


def _numbers(match: re.Match[str]) -> tuple[int, ...]:
    return tuple(int(part) for part in match.groups())


def convert(path: Path, version: str, kept_beside: Path | None = None) -> Path:
    """Rewrites the file in `version`'s format (COPY FROM DATABASE into a new file, then
    swapped in); returns where the original was kept (beside `kept_beside`, the file users
    know, when given). Holds the original's write lock until the new file is in place, so a
    run meanwhile fails as "in use" instead of loading into a file about to be replaced."""
    if not path.exists():
        raise FileNotFoundError(f"no DuckDB file at {path}")
    check_database(path)
    converted = path.with_name(path.name + ".converting")
    beside = kept_beside or path
    kept = beside.with_name(f"{beside.name}.{file_storage_version(path).rstrip('+')}.bak")
    converted.unlink(missing_ok=True)
    with duckdb.connect(":memory:") as db:
        db.execute(f"ATTACH {_literal(path)} AS convert_source")
        db.execute("CHECKPOINT convert_source")  # the WAL's changes into the file first
        db.execute(f"ATTACH {_literal(converted)} AS convert_target "
                   f"(STORAGE_VERSION {_literal(version)})")
        db.execute("COPY FROM DATABASE convert_source TO convert_target")
        db.execute("DETACH convert_target")
        os.replace(path, kept)
        os.replace(converted, path)
    return kept


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The file opened read-only (readers in several processes may share it); a missing file
    is an error here, where DuckDB would create an empty one."""
    if not path.exists():
        raise FileNotFoundError(f"no DuckDB file at {path}; load one with `{SCRIPT} run` or "
                                "choose it with --duckdb-path")
    check_database(path)
    return duckdb.connect(str(path), read_only=True)


def query(path: Path, sql: str, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """The result of one SQL statement on the file (opened read-only) as a text table."""
    with connect_read_only(path) as db:
        result = db.execute(sql)
        if result.description is None:
            return "ok"
        names = [d[0] for d in result.description]
        rows = result.fetchmany(max_rows + 1)
    shown = [[_text(v) for v in row] for row in rows[:max_rows]]
    more = [f"(more than {max_rows} rows; --max-rows N shows more)"] if len(rows) > max_rows \
        else []
    return "\n".join([format_table(names, shown), *more])


def _text(value: Any) -> str:
    return "NULL" if value is None else str(value)


def format_table(names: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest value under a header and a rule."""
    widths = [max(len(n), *(len(r[i]) for r in rows)) if rows else len(n)
              for i, n in enumerate(names)]
    lines = [names, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def cli_command() -> list[str]:
    """How a shell starts this installation's `liveagent-pipeline`: by name when PATH finds
    this very script, by its path when PATH finds another one or none (a venv not activated),
    through `python -m` when no script was installed."""
    scripts = Path(sysconfig.get_path("scripts"))
    for script in (scripts / SCRIPT, scripts / f"{SCRIPT}.exe"):
        if script.is_file():
            found = shutil.which(SCRIPT)
            same = found is not None and Path(found).resolve() == script.resolve()
            return [SCRIPT] if same else [str(script)]
    return [sys.executable, "-m", "pipelines.liveagent_pipeline"]


def query_command(path: Path, sql: str) -> str:
    """A shell command that prints the result of `sql` on the file."""
    return shlex.join([*cli_command(), "query", "--duckdb-path", str(path), sql])


def convert_command(path: Path, version: str) -> str:
    return shlex.join([*cli_command(), "convert-duckdb", "--duckdb-path", str(path),
                       "--storage-version", version])
