"""What every resource of one source instance reads with, and the dlt hints of each kind of
table."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import dlt
from dlt.extract import DltResource

from .client import LiveAgentClient
from .contract import Contracts
from .deletions import Deletions
from .exceptions import ConfigurationError, NotFoundError, RefusedError
from .isolation import Isolation
from .rejections import RejectedRows, Rereads, for_table
from .settings import Table
from .transforms import AccountTime, Rejected, Row, column_hints

log = logging.getLogger(__name__)


@dataclass
class Reading:
    """The client, the account's time zone, the type contract of unknown fields, the
    rejected-row registry, how rejected units are read again and the isolation of failing
    resources of one source instance (one load)."""

    client: LiveAgentClient
    time: AccountTime
    noticed_at: datetime  # when this load noticed what it rejects or finds deleted (UTC)
    deletions: Deletions
    contracts: Contracts = field(default_factory=Contracts)
    isolation: Isolation = field(default_factory=Isolation)  # what a failing resource costs
    rereads: Rereads = field(default_factory=Rereads)
    _rejections: RejectedRows | None = None

    def snapshot(self) -> datetime | None:
        """The account's clock at this load's first request, its latest reading: rows changed
        after it wait for the next load, so no high-water mark passes a change that a listing
        still under way could have missed."""
        now = self.client.server_now(self.time)
        return None if now is None else self.time.latest_reading(now)

    def refuse_a_future_start(self, start: datetime | None, initial: datetime | None) -> None:
        """A listing that starts after the account's clock would never load anything and would
        keep its start as the high-water mark: refuse it, naming where it came from."""
        now = self.snapshot()
        if start is None or now is None or start <= now:
            return
        when = f"{self.time.render_lower_bound(start)} {self.time.name}"
        clock = f"{self.time.render_lower_bound(now)} {self.time.name}"
        if start == initial:
            raise ConfigurationError(
                f"the start date {when} (sources.liveagent.start_date or --start-date) is after "
                f"the account's clock ({clock}): nothing would ever load; choose an earlier date")
        raise ConfigurationError(
            f"an earlier run stored {when} as where to continue, after the account's clock "
            f"({clock}): nothing would ever load; run once with --full-refresh")

    def rejections(self) -> RejectedRows:
        """The registry over this extract's source state (call from a resource, not a worker
        thread: dlt's state lives in the extracting thread's context)."""
        if self._rejections is None:
            self._rejections = RejectedRows(dlt.current.source_state(), self.noticed_at)
        return self._rejections

    def get_if_exists(self, *path: str) -> dict[str, Any] | None:
        """GET the object at `path` (each part URL-encoded); None when it was deleted after it
        was listed (logged, not a failed run: the next listing no longer has it)."""
        found = self.get_found(*path)
        if found is None:
            log.warning("%s was deleted after it was listed; skipped", "/".join(path))
        return found

    def get_found(self, *path: str) -> dict[str, Any] | None:
        """GET the object at `path` (each part URL-encoded); None when LiveAgent answers 404."""
        try:
            return self.client.get("/".join(_segment(part) for part in path))
        except NotFoundError:
            return None


@dataclass
class ReadUnit:
    """One object read on its own (a company with its details, a conversation's details): its
    rows, or why it could not be loaded, for the unit of the rejected-row registry."""

    unit: str
    rows: list[Row]
    rejected: list[Rejected]
    conversationid: str | None = None


def settle(reading: Reading, read: ReadUnit | None) -> Iterator[Any]:
    """What a leaf transformer yields for a `ReadUnit`: its rejected-row changes, its rows."""
    if read is None:
        return
    settled = reading.rejections().settle(read.unit, read.rejected, read.conversationid)
    if settled:
        yield for_table(settled)
    if read.rows:
        yield read.rows


def _segment(part: str) -> str:
    """`part` as one URL path segment, `/`, `?`, `#`, `%` and the like encoded. An id that is
    `.` or `..` cannot be one: every URL library resolves it as a directory, so the request
    would reach another endpoint; such an object is refused (and so kept in rejected_rows)."""
    if part in (".", ".."):
        raise RefusedError(f"LiveAgent listed the id {part!r}, which no URL path can carry")
    return quote(part, safe="")


def merge_hints(table: Table, resource: str | None = None) -> dict[str, Any]:
    return {"name": resource or table.name, "table_name": table.name,
            "primary_key": table.primary_key, "write_disposition": "merge",
            "columns": column_hints(table)}


def newest_wins(table: Table, cursor: str, resource: str | None = None) -> dict[str, Any]:
    """Merge hints where, of two rows with one key in a load, the later `cursor` is kept."""
    hints = merge_hints(table, resource)
    hints["columns"][cursor]["dedup_sort"] = "desc"
    return hints


DELETE_INSERT: Any = {"disposition": "merge", "strategy": "delete-insert"}


def rewritten_per_conversation(table: Table) -> dict[str, Any]:
    """Hints of a table whose rows are replaced whenever their conversation is read; a row
    with the table's hard-delete column true only removes the conversation's old rows."""
    return {"table_name": table.name, "primary_key": table.primary_key,
            "merge_key": "conversationid", "write_disposition": DELETE_INSERT,
            "columns": column_hints(table)}


def table_variant(resource: DltResource, hints: dict[str, Any]) -> DltResource:
    """Gives `resource` the hints of another table (`hints["table_name"]`), for the rows it
    routes there with `dlt.mark.with_table_name`. dlt starts a table variant as a copy of the
    resource's own hints (columns, keys, merge key), so it is emptied first."""
    table_name = hints["table_name"]
    resource.apply_hints(table_name=table_name, columns={}, create_table_variant=True)
    resource.apply_hints(**{"merge_key": "", **hints}, create_table_variant=True)
    return resource


class SharedMap:
    """A map step a resource gets once and every new source points at its own function.
    dlt's `|` returns the transformer it pipes into, so the module-level transformers
    (message_groups, messages) are the same objects in every source a process builds: a map
    added per build would stay and pile up (measured: one more step per build, so a second
    load of one run hashed a hashed value again)."""

    def __init__(self) -> None:
        self.function: Callable[[Any, Any], Any] | None = None

    def __call__(self, item: Any, meta: Any = None) -> Any:
        return item if self.function is None else self.function(item, meta)


def shared_map(resource: DltResource, slot: str,
               function: Callable[[Any, Any], Any] | None) -> DltResource:
    """`resource` with its `SharedMap` named `slot` (added once) set to `function` (None: the
    step passes items through)."""
    step: SharedMap | None = getattr(resource, slot, None)
    if step is None:
        step = SharedMap()
        resource.add_map(step)
        setattr(resource, slot, step)
    step.function = function
    return resource
