"""What a run is asked to do, and the errors that say the asking was wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import read_copy

if TYPE_CHECKING:  # accounts.py imports this module
    from pipelines.accounts import Account

DEFAULT_DUCKDB_PATH = "warehouse.duckdb"
DEFAULT_DATASET = "liveagent"
DEFAULT_KEPT_LOAD_PACKAGES = 3
DEFAULT_DUCKDB_WAIT = 60.0



class UsageError(Exception):
    """Input the user has to correct: printed as one line, exit code 2."""


class BusyError(Exception):
    """Another run holds the same target."""


class LoadsCommitted(Exception):
    """A run failed (its cause) after a chunked backfill had committed `loads` loads."""

    def __init__(self, loads: int) -> None:
        super().__init__(f"{loads} loads of this run were committed before it stopped")
        self.loads = loads


@dataclass
class RunOptions:
    """How one run goes: where it loads, what, and how far."""

    destination: str = "duckdb"  # duckdb, postgres, or any other dlt destination's name
    dataset: str = DEFAULT_DATASET
    duckdb_path: str = DEFAULT_DUCKDB_PATH
    resources: list[str] = field(default_factory=list)  # table names; empty: all
    start_date: str | None = None
    end_date: str | None = None
    full_refresh: bool = False
    pipelines_dir: str | None = None
    keep_load_packages: int = DEFAULT_KEPT_LOAD_PACKAGES  # loaded packages kept to inspect
    reconcile: bool = False  # list every conversation id now to find purged ones
    max_duration: float | None = None  # seconds: stop starting backfill loads after this
    # format of a new DuckDB file: None reads destination.duckdb.storage_version, else v1.4.0
    duckdb_storage_version: str | None = None
    pipeline_name: str | None = None  # None: derived readably from the target (targets.py)
    loader_file_format: str | None = None  # None: the measured one (targets.py)
    duckdb_wait: float = DEFAULT_DUCKDB_WAIT  # seconds to wait for a DuckDB file another holds
    transform: bool = False  # build the analyst layer (dbt) after the load
    # DuckDB: load into a copy of the run's own and publish duckdb_path after every load
    # (read_copy.py); None reads destination.duckdb.read_copy, else yes
    read_copy: bool | None = None
    # the configured account this run loads, if any: its failures name its own settings
    account: Account | None = None

    @property
    def duckdb_file(self) -> Path:
        """The DuckDB file users, BI tools and `query` open."""
        return Path(self.duckdb_path).expanduser().resolve()

    @property
    def publishes(self) -> bool:
        """Whether a run on DuckDB loads into a copy of its own and publishes `duckdb_file`."""
        return self.destination == "duckdb" and read_copy.enabled(self.read_copy)

    @property
    def writer_file(self) -> Path:
        """The DuckDB file runs load into: their own copy (`read_copy.writer_path`) when they
        publish, else `duckdb_file` itself."""
        published = self.duckdb_file
        return read_copy.writer_path(published) if self.publishes else published
