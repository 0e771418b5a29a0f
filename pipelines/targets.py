"""Where a run loads: the dlt pipeline of a target (its readable name, its destination and
loader format), the lock that keeps two runs off one target, and the DuckDB file's own needs.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.destination import Destination
from dlt.common.runtime.collector import NULL_COLLECTOR
from dlt.common.runtime.collector_base import Collector
from filelock import FileLock, Timeout

from pipelines import duckdb_file
from pipelines.options import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    BusyError,
    RunOptions,
    UsageError,
)
from pipelines.postgres import ResumablePostgres

# chosen by measurement (benchmarks/, 50k conversations in one load, 2026-11-25): DuckDB parquet
# normalized in 6.7 s and loaded in 1.6 s (jsonl 14.2 s + 1.9 s; insert_values 17.7 s + 41.8 s at
# 7.8 GB peak RSS); Postgres csv (COPY) 15.5 s + 3.1 s at 164 MB (insert_values 18.2 s + 4.9 s
# at 779 MB)
LOADER_FILE_FORMAT = {"duckdb": "parquet", "postgres": "csv"}


def pipeline_name(options: RunOptions) -> str:
    """A readable name, so dlt's own commands work (`dlt pipeline liveagent info`): `liveagent`
    for the default target (./warehouse.duckdb, dataset liveagent), else the target in words:
    `liveagent_<file>` or `liveagent_<destination>`, and `_<dataset>` when it is not the
    default. `RunOptions.pipeline_name` overrides it. Two targets may still meet under one
    name (two directories' warehouse.duckdb): `bind_local_state` keeps their state apart."""
    if options.pipeline_name:
        return options.pipeline_name
    where = _slug(options.duckdb_file.stem) if options.destination == "duckdb" else \
        _slug(options.destination)
    parts = ["liveagent"]
    if where != Path(DEFAULT_DUCKDB_PATH).stem:
        parts.append(where)
    if options.dataset != DEFAULT_DATASET:
        parts.append(_slug(options.dataset))
    return "_".join(parts)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def target_id(options: RunOptions) -> str:
    """What makes a target one: the destination, the dataset, and the DuckDB file."""
    place = str(options.duckdb_file) if options.destination == "duckdb" else ""
    return f"{options.destination}|{options.dataset}|{place}"


TARGET_FILE = "liveagent_target"  # in the pipeline's working directory


def bind_local_state(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Keeps dlt's local state to the target it belongs to. A pipeline of the same name that
    last loaded another target (another directory's warehouse.duckdb) has its local state
    dropped; the run then restores the state its own target holds (dlt's sync_destination),
    so no target ever continues from another's high-water mark."""
    marker = Path(pipeline.working_dir) / TARGET_FILE
    target = target_id(options)
    if marker.exists() and marker.read_text() != target:
        pipeline.drop()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(target)


def make_pipeline(options: RunOptions, progress: Collector | None = None) -> dlt.Pipeline:
    """The dlt pipeline of the target, its local state bound to it (`bind_local_state`)."""
    if options.destination == "duckdb":
        if options.duckdb_file.stem == options.dataset:
            raise UsageError(
                f"--duckdb-path {options.duckdb_path} is named like the dataset "
                f"'{options.dataset}'; DuckDB would see a catalog and a schema of one name: "
                "rename the file"
            )
        destination: Any = dlt.destinations.duckdb(str(options.duckdb_file))
    elif options.destination == "postgres":
        destination = ResumablePostgres()  # dlt's, resumable, with a lock timeout (postgres.py)
    else:  # any other dlt destination, configured the dlt way (destination.<name>.*)
        destination = any_destination(options.destination)
    location: dict[str, Any] = {"pipelines_dir": options.pipelines_dir} \
        if options.pipelines_dir else {}
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name(options), destination=destination,
        dataset_name=options.dataset, progress=progress or NULL_COLLECTOR, **location,
    )
    bind_local_state(pipeline, options)
    return pipeline


def any_destination(name: str) -> Any:
    """dlt's destination of that name (filesystem, motherduck, bigquery, ...)."""
    try:
        return Destination.from_reference(name)
    except Exception:
        raise UsageError(f"unknown destination '{name}': use duckdb, postgres or the name of "
                         "a dlt destination (filesystem, motherduck, snowflake, ...)") from None


def loader_file_format(options: RunOptions) -> str | None:
    """The file format the destination loads from: measured for DuckDB and Postgres (see
    LOADER_FILE_FORMAT), dlt's default elsewhere."""
    return options.loader_file_format or LOADER_FILE_FORMAT.get(options.destination)


@contextmanager
def exclusive(pipeline: dlt.Pipeline, options: RunOptions) -> Iterator[None]:
    """Holds the target for one run: a second run on it refuses instead of interleaving with
    this one's state and load packages."""
    base = Path(pipeline.pipelines_dir) / f"{pipeline.pipeline_name}.lock"
    owner = base.with_suffix(".owner")
    lock = FileLock(str(base))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = owner.read_text().strip() if owner.exists() else "another process"
        target = options.duckdb_file if options.destination == "duckdb" else "Postgres"
        raise BusyError(f"another liveagent-pipeline run ({holder}) is loading into {target} "
                        f"(dataset {options.dataset}); try again when it has finished") from None
    try:
        owner.write_text(f"PID {os.getpid()}, started "
                         f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def wait_for_duckdb_file(options: RunOptions, say: Callable[[str], None]) -> None:
    """Waits (up to `options.duckdb_wait` seconds) for a DuckDB file another process holds,
    such as an analyst's open connection, saying so once; a file still held then fails the
    run with DuckDB's own error (explained in one line)."""
    path = options.duckdb_file
    if options.destination != "duckdb" or not path.exists():
        return
    deadline, said = time.monotonic() + options.duckdb_wait, False
    while True:
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.IOException as error:
            held = _HELD.search(str(error))
            if held is None or time.monotonic() >= deadline:
                raise
            if not said:
                say(f"waiting up to {options.duckdb_wait:.0f}s for {path}, held by PID "
                    f"{held.group(1)} (close it, or read a copy: see the README)")
                said = True
            time.sleep(1.0)


_HELD = re.compile(r"Could not set lock on file .*?\(PID (\d+)\)", re.DOTALL)


def prepare_duckdb_file(options: RunOptions) -> list[str]:
    """Creates a new DuckDB file in the storage format asked for (v1.4.0 by default, which
    DuckDB 1.4 clients open); notices about an existing file they cannot open."""
    if options.destination != "duckdb":
        return []
    try:
        version = duckdb_file.storage_version(options.duckdb_storage_version)
    except duckdb_file.StorageVersionError as error:
        raise UsageError(str(error)) from None
    return duckdb_file.prepare(options.duckdb_file, version)


@contextmanager
def removed_unless_loaded(options: RunOptions) -> Iterator[None]:
    """A DuckDB file this run created is removed again when the run fails before anything
    was loaded into it, so a failed first run leaves no empty warehouse behind."""
    path = options.duckdb_file
    created = options.destination == "duckdb" and not path.exists()
    try:
        yield
    except BaseException:
        if created and holds_no_tables(path):
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def holds_no_tables(path: Path) -> bool:
    """Whether the DuckDB file exists and holds no table (False when it cannot be opened)."""
    try:
        with duckdb.connect(str(path), read_only=True) as db:
            found = db.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    except duckdb.Error:
        return False
    return found is not None and found[0] == 0


