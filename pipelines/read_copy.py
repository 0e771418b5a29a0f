"""The DuckDB file readers open: a copy of the warehouse, published after every load.

DuckDB lets one process write a file, and an open connection of another process, even a
read-only one, keeps the writer out (and a writer keeps readers out): a BI tool or notebook
that connects during a scheduled run failed the run, or failed itself. So a run loads into a
file of its own, `.liveagent/<file>` beside the file users know, and after every load that
committed it replaces the file they open with a copy of its own: written beside it, then
renamed over it, so a reader sees the previous load or the new one, never half of one.
Connections already open keep reading the file they opened (a replaced file lives on while it
is open); new connections see the new one. Chosen by measurement over holding the file only
for the load step, waiting for readers, and dlt's DuckLake destination: README, "Reading DuckDB
while loads run" (benchmarks/scenarios/readers.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb

log = logging.getLogger(__name__)

WRITER_DIR = ".liveagent"  # beside the published file: same disk, so a rename publishes
CONFIG_KEY = "destination.duckdb.read_copy"


def enabled(requested: bool | None = None) -> bool:
    """Whether runs load into a writer's copy and publish the file readers open: the option,
    else `destination.duckdb.read_copy` from configuration, else yes."""
    if requested is not None:
        return requested
    configured = dlt.config.get(CONFIG_KEY, bool)
    return True if configured is None else bool(configured)


def writer_path(published: Path) -> Path:
    """Where runs load for readers of `published`; the same file name, so DuckDB names the
    catalog of both alike and a query that names it runs on either."""
    return published.parent / WRITER_DIR / published.name


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@dataclass(frozen=True)
class Publication:
    """One publication: its size and how long the copy took."""

    path: Path
    bytes: int
    seconds: float


class PublishError(OSError):
    """The read copy could not be made whole."""


ATTEMPTS = 3


def publish(writer: Path, published: Path) -> Publication:
    """Replaces `published` with a copy of `writer`, whose changes are first checkpointed into
    the file itself (a copy without the WAL would lack them). Call it when no load runs: the
    copy is of the file as the last committed load left it. The copy is made while a
    connection holds the writer's database open (so no shutdown checkpoint of another one in
    this process writes it meanwhile), and is taken only when the writer did not change during
    it and the copy opens with every table readable; else it is made again."""
    started = time.monotonic()
    staged = published.with_name(f".{published.name}.{os.getpid()}.publishing")
    try:
        for attempt in range(1, ATTEMPTS + 1):
            with duckdb.connect(str(writer)) as db:
                db.execute("CHECKPOINT")
                before = _signature(writer)
                copy_file(writer, staged)
                unchanged = _signature(writer) == before
            problem = None if unchanged else "the file changed while it was copied"
            problem = problem or unreadable(staged)
            if problem is None:
                break
            log.warning("read copy of %s, attempt %d: %s", writer, attempt, problem)
        else:
            raise PublishError(f"could not copy {writer} whole for readers: {problem}")
        # a WAL beside the published file belongs to the file it replaces (someone wrote into
        # the read copy): DuckDB would replay it into the new one
        wal_of(published).unlink(missing_ok=True)
        os.replace(staged, published)
        _sync_directory(published.parent)
    finally:
        staged.unlink(missing_ok=True)
    return Publication(published, published.stat().st_size, time.monotonic() - started)


def _signature(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns


def unreadable(path: Path) -> str | None:
    """Why the DuckDB file at `path` does not open with every table's metadata readable (what
    a reader touches first), or None when it does."""
    try:
        with duckdb.connect(str(path), read_only=True) as db:
            tables = db.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                "WHERE NOT internal").fetchall()
            for schema, table in tables:
                db.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()
    except duckdb.Error as error:
        return str(error).strip().splitlines()[0]
    return None


def copy_file(source: Path, target: Path) -> None:
    """A durable copy (Linux copies in the kernel: sendfile)."""
    shutil.copyfile(source, target)
    with open(target, "rb+") as copied:
        os.fsync(copied.fileno())


def _sync_directory(directory: Path) -> None:
    """The rename itself made durable (where the platform can open a directory)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(handle)
    finally:
        os.close(handle)


def seed(published: Path, writer: Path) -> bool:
    """A warehouse loaded before runs kept a copy of their own (the published path was the
    file they wrote) becomes the writer's copy: copied, not moved, so readers keep their file.
    The caller holds `published` open read-only meanwhile, so no one writes it during the copy;
    a WAL an interrupted writer left travels with it. Returns whether it copied."""
    if writer.exists() or not published.exists():
        return False
    writer.parent.mkdir(parents=True, exist_ok=True)
    staged = writer.with_name(writer.name + ".seeding")
    try:
        copy_file(published, staged)
        if wal_of(published).exists():
            copy_file(wal_of(published), wal_of(writer))
        os.replace(staged, writer)
    finally:
        staged.unlink(missing_ok=True)
    return True


def remove_writer(writer: Path) -> None:
    """The writer's copy and its WAL gone, and its directory when nothing else is in it."""
    for leftover in (writer, wal_of(writer)):
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # another file's copy lives there too
        writer.parent.rmdir()
