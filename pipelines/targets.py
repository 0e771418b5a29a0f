"""Where a run loads: the dlt pipeline of a target (its readable name, its destination and
loader format), the lock that keeps two runs off one target, and the DuckDB file's own needs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.destination import Destination
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.runtime.collector import NULL_COLLECTOR
from dlt.common.runtime.collector_base import Collector
from dlt.common.versioned_state import decompress_state, json_decode_state
from dlt.destinations.exceptions import DestinationUndefinedEntity
from dlt.pipeline.state_sync import migrate_state_to_current
from filelock import FileLock, Timeout

from pipelines import duckdb_file, read_copy
from pipelines.options import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    BusyError,
    RunOptions,
    UsageError,
)
from pipelines.postgres import ResumablePostgres
from pipelines.run_file import RunFile, read_run_file, run_file_path

log = logging.getLogger(__name__)

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
    defaults = (Path(DEFAULT_DUCKDB_PATH).stem, DEFAULT_DATASET)
    for part, default in zip((where, _slug(options.dataset)), defaults, strict=True):
        part = part.removeprefix("liveagent_")  # liveagent_acme.duckdb: liveagent_acme
        if part != default and part not in parts:
            parts.append(part)
    return "_".join(parts)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def target_id(options: RunOptions) -> str:
    """What makes a target one: the destination, the dataset, and the DuckDB file."""
    place = str(options.duckdb_file) if options.destination == "duckdb" else ""
    return f"{options.destination}|{options.dataset}|{place}"


def describe_target(options: RunOptions) -> str:
    if options.destination == "duckdb":
        return f"{options.duckdb_file} (dataset {options.dataset})"
    return f"{options.destination} dataset {options.dataset}"


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


def pipelines_dir_of(options: RunOptions) -> str:
    """Where dlt keeps the target's pipeline (its default unless the options say)."""
    return options.pipelines_dir or get_dlt_pipelines_dir()


def set_aside_unreadable_state(pipelines_dir: str, name: str) -> str | None:
    """Moves the local state of pipeline `name` aside when dlt could not read it (a crash or
    a full disk can leave it cut short: dlt failed every run with JSONDecodeError), so that the
    run restores the state its last load committed to the destination (dlt's
    `sync_destination`; the local copy is a cache of it). Returns what to say, or None."""
    path = Path(pipelines_dir) / name / dlt.Pipeline.STATE_FILE
    try:
        state = json_decode_state(path.read_text())
        if isinstance(state, dict) and "_state_version" in state:
            return None
        reason = "not a pipeline state"
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:  # JSON decoders' errors are ValueErrors
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    # beside the working directory, which dlt empties when it restores the state
    aside = Path(pipelines_dir) / f"{name}.{path.name}.unreadable"
    os.replace(path, aside)
    return (f"the local pipeline state {path} could not be read ({reason}); set aside as "
            f"{aside.name}, the state of the last load is restored from the destination")


def make_pipeline(options: RunOptions, progress: Collector | None = None,
                  say: Callable[[str], None] = lambda _: None) -> dlt.Pipeline:
    """The dlt pipeline of the target, its local state bound to it (`bind_local_state`) and
    readable (`set_aside_unreadable_state`, said through `say`)."""
    location: dict[str, Any] = {"pipelines_dir": options.pipelines_dir} \
        if options.pipelines_dir else {}
    notice = set_aside_unreadable_state(pipelines_dir_of(options), pipeline_name(options))
    if notice:
        say(notice)
    # merges pass through `<dataset>_staging`; dlt empties it after each load when asked, so
    # analysts never meet stale copies of the tables there (a user's own setting wins)
    if dlt.config.get("load.truncate_staging_dataset", bool) is None:
        dlt.config["load.truncate_staging_dataset"] = True
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name(options), destination=destination_of(options),
        dataset_name=options.dataset, progress=progress or NULL_COLLECTOR, **location,
    )
    bind_local_state(pipeline, options)
    return pipeline


def destination_of(options: RunOptions, credentials: Any = None) -> Any:
    """The dlt destination of the target (a DuckDB one on `credentials` when given)."""
    if options.destination == "duckdb":
        if options.duckdb_file.stem == options.dataset:
            raise UsageError(
                f"--duckdb-path {options.duckdb_path} is named like the dataset "
                f"'{options.dataset}'; DuckDB would see a catalog and a schema of one name: "
                "rename the file"
            )
        return dlt.destinations.duckdb(credentials or str(options.writer_file))
    if options.destination == "postgres":
        return ResumablePostgres()  # dlt's, resumable, with a lock timeout (postgres.py)
    return any_destination(options.destination)  # configured the dlt way (destination.<name>)


@dataclass(frozen=True)
class CommittedState:
    """The pipeline state the target's last load committed, and when it was written."""

    state: dict[str, Any]
    committed_at: datetime


def committed_state(options: RunOptions) -> CommittedState | None:
    """What the target's last committed load holds of the pipeline state, read the way a reader
    reads (the published DuckDB file read-only; other destinations through a pipeline of its
    own in a scratch directory): no run lock, nothing written or created. None when nothing
    was loaded."""
    name = pipeline_name(options)
    connection = None
    if options.destination == "duckdb":
        if not options.duckdb_file.exists():
            return None
        connection = duckdb_file.connect_read_only(options.duckdb_file)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            reader = dlt.pipeline(pipeline_name=name, pipelines_dir=scratch,
                                  destination=destination_of(options, connection),
                                  dataset_name=options.dataset)
            with reader.destination_client() as client:
                try:
                    stored = client.get_stored_state(name)  # type: ignore[attr-defined]
                except DestinationUndefinedEntity:
                    return None
    finally:
        if connection is not None:
            connection.close()
    if stored is None:
        return None
    return CommittedState(dict(migrate_state_to_current(name, decompress_state(stored.state))),
                          stored.created_at)


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
def exclusive(pipeline: dlt.Pipeline, options: RunOptions,
              say: Callable[[str], None] = lambda _: None) -> Iterator[RunFile]:
    """Holds the target for one run: a second run on it refuses instead of interleaving with
    this one's state and load packages. The run says how it goes in its run file. Runs of
    other targets in the same DuckDB file (another dataset, another account) wait for it:
    `writing_duckdb_file`."""
    base = Path(pipeline.pipelines_dir) / f"{pipeline.pipeline_name}.lock"
    lock = FileLock(str(base))
    path = run_file_path(pipeline.pipelines_dir, pipeline.pipeline_name)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_run_file(path)
        who = f"PID {holder['pid']}, started {holder['started_at']}" if holder \
            else "another process"
        target = options.duckdb_file if options.destination == "duckdb" else "Postgres"
        raise BusyError(f"another liveagent-pipeline run ({who}) is loading into {target} "
                        f"(dataset {options.dataset}); try again when it has finished") from None
    run_file = RunFile(path)
    try:
        run_file.write()
        with writing_duckdb_file(options, say):
            yield run_file
    finally:
        run_file.close()
        lock.release()


@contextmanager
def writing_duckdb_file(options: RunOptions, say: Callable[[str], None]) -> Iterator[None]:
    """Holds the DuckDB file the run writes for the whole run, waiting first for a run of
    another dataset in it (another account's) to finish, saying so once: DuckDB lets one
    process write a file, and a run opens it again and again (state, load, history), so two
    runs started together failed one of them ("in use by another process"). The wait has no
    bound of its own: the other run ends, and a third run of this target refuses meanwhile."""
    if options.destination != "duckdb":
        yield
        return
    writer = options.writer_file
    writer.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(writer.with_name(f".{writer.name}.lock")))
    note = RunFile(writer.with_name(f".{writer.name}.run.json"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_run_file(note.path)
        who = f"PID {holder['pid']} (dataset {holder.get('dataset')}, started " \
            f"{holder['started_at']})" if holder else "another process"
        say(f"waiting for the run of {who} that is writing {options.duckdb_file}: DuckDB "
            "lets one process write a file, so runs into one file take turns")
        lock.acquire()
    try:
        note.write(dataset=options.dataset)
        yield
    finally:
        note.close()
        lock.release()


def wait_for_duckdb_file(options: RunOptions, say: Callable[[str], None]) -> None:
    """Waits (up to `options.duckdb_wait` seconds) for the DuckDB file the run loads into
    while another process holds it, saying so once; a file still held then fails the run with
    DuckDB's own error (explained in one line)."""
    if options.destination == "duckdb" and options.writer_file.exists():
        with opened_when_free(options.writer_file, options, say):
            pass


@contextmanager
def opened_when_free(path: Path, options: RunOptions, say: Callable[[str], None],
                     read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The DuckDB file opened as soon as no other process holds it (see
    `wait_for_duckdb_file`); while it is open, no other process writes it."""
    deadline, said = time.monotonic() + options.duckdb_wait, False
    while True:
        try:
            db = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            held = _HELD.search(str(error))
            if held is None or time.monotonic() >= deadline:
                raise
            if not said:
                say(f"waiting up to {options.duckdb_wait:.0f}s for {path}, held by PID "
                    f"{held.group(1)} (close it, or read a copy: see the README)")
                said = True
            time.sleep(1.0)
    try:
        yield db
    finally:
        db.close()


_HELD = re.compile(r"Could not set lock on file .*?\(PID (\d+)\)", re.DOTALL)


def prepare_duckdb_file(options: RunOptions, say: Callable[[str], None]) -> list[str]:
    """The file the run loads into, ready: when runs publish a read copy and have no copy of
    their own yet, the published file (a warehouse loaded before they did) becomes it; a new
    file is created in the storage format asked for (v1.4.0 by default, which DuckDB 1.4
    clients open). Returns notices about an existing file they cannot open. Both files are
    refused when they are no DuckDB database (checked here, while the run holds them: a file
    another run creates is empty for a moment)."""
    if options.destination != "duckdb":
        return []
    try:
        version = duckdb_file.storage_version(options.duckdb_storage_version)
    except duckdb_file.StorageVersionError as error:
        raise UsageError(str(error)) from None
    published, writer = options.duckdb_file, options.writer_file
    for path in dict.fromkeys((published, writer)):
        duckdb_file.check_database(path)
    if options.publishes and not writer.exists() and published.exists():
        with opened_when_free(published, options, say, read_only=True):
            read_copy.seed(published, writer)
    writer.parent.mkdir(parents=True, exist_ok=True)
    return duckdb_file.prepare(writer, version, shown_as=published)


@contextmanager
def removed_unless_loaded(options: RunOptions) -> Iterator[None]:
    """A DuckDB file this run created is removed again when the run fails before anything
    was loaded into it, so a failed first run leaves no empty warehouse behind."""
    path = options.writer_file
    created = options.destination == "duckdb" and not path.exists()
    try:
        yield
    except BaseException:
        if created and holds_no_tables(path):
            if options.publishes:
                read_copy.remove_writer(path)
            else:
                path.unlink(missing_ok=True)
                read_copy.wal_of(path).unlink(missing_ok=True)
        raise


def holds_no_tables(path: Path) -> bool:
    """Whether the DuckDB file exists and holds no table (False when it cannot be opened)."""
    try:
        with duckdb.connect(str(path), read_only=True) as db:
            found = db.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    except duckdb.Error:
        return False
    return found is not None and found[0] == 0


@contextmanager
def published(options: RunOptions) -> Iterator[ReadCopy]:
    """The read copy of a run (see `ReadCopy`): published once more when the run ends, if
    anything changed since, also when the run failed after it committed something."""
    copy = ReadCopy(options)
    try:
        yield copy
    except BaseException:
        try:
            copy.publish()
        except Exception as error:  # the run's own failure is the line to show
            log.debug("the read copy could not be published: %s", error)
        raise
    copy.publish()


class ReadCopy:
    """Publishes the file readers open after the loads of a run (read_copy.py): `changed()`
    after anything was committed to the writer's copy, `publish()` when readers should see it
    (nothing happens when nothing changed, or when runs do not publish). Between the loads of
    a long run it publishes only once the last copy's time is ninefold past, so copying costs
    at most a tenth of a run whose loads come fast (a copy runs at about 100 MB/s here)."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.stale = False
        self.publications: list[read_copy.Publication] = []
        self._next_between_loads = 0.0

    def changed(self) -> None:
        self.stale = self.options.publishes

    def publish(self, between_loads: bool = False) -> None:
        if not self.stale or (between_loads and time.monotonic() < self._next_between_loads):
            return
        done = read_copy.publish(self.options.writer_file, self.options.duckdb_file)
        self.publications.append(done)
        self.stale = False
        self._next_between_loads = time.monotonic() + 9 * done.seconds


def prune_loaded_packages(pipeline: dlt.Pipeline, keep: int) -> None:
    """Deletes loaded packages but the newest `keep`: dlt needs a package only until it is
    loaded, and keeps every one (schema, state and job files: about 400 KB for a run with
    nothing to load, 35k runs a year at a 15-minute cadence)."""
    loaded = sorted(pipeline.list_completed_load_packages(), key=float)
    for load_id in loaded[:max(0, len(loaded) - keep)]:
        shutil.rmtree(pipeline.get_load_package_info(load_id).package_path, ignore_errors=True)
