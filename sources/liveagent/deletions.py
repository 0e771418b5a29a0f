"""Rows that left LiveAgent. API v1 lists no deletions, so they are found by comparing a
complete listing with what the warehouse holds: a key loaded before (and not yet marked) that
the listing no longer has is gone.

`deletes = "mark"` (default, Fivetran's `_fivetran_deleted` convention): the row stays, its
last loaded version written again with `_liveagent_deleted_at` (the UTC time this load noticed),
so history and joins keep working; a row a later listing has again is written again unmarked.
`deletes = "remove"`: a row with the table's hard-delete column true removes it (dlt's
`hard_delete`), once two listings in a row lack its key (the first one's keys wait in the
resource state, which commits only with the load).

One wrong answer must not cost live data, so a listing is believed only when it is complete
and plausible: a failed one raises before this; pages that break the API's continuity are
refused by the paginators (paginators.py); a listing that lacks more of the live keys than a
small share (`DeletePolicy.allowed`), or is empty while keys are live, is refused here. A user
confirms a real mass deletion for one run (`confirm_deletes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dlt

from .client import RequestMetrics
from .exceptions import IncompleteListingError
from .settings import DEFAULT_MAX_DELETED_SHARE, DELETED_AT, DELETES_ALWAYS_ALLOWED, Table
from .transforms import Row

BATCH = 500  # keys per warehouse query


LOADED = "loaded"  # source state: a load of this source has committed into the warehouse
PENDING = "pending_removal"  # resource state, remove mode: per table, keys one listing lacked


@dataclass(frozen=True)
class DeletePolicy:
    """How deletions are recorded, and how much of a table one listing may take away."""

    mode: str = "mark"  # or "remove"
    max_share: float = DEFAULT_MAX_DELETED_SHARE  # of the live keys, beyond the few always allowed
    confirmed: bool = False  # the user confirmed a mass deletion for this run

    def allowed(self, live: int) -> int:
        """Keys one listing may drop of `live` loaded ones: a few real deletions in a short
        list (one tag of 12) pass, a listing that lost a page (400 of 1,500) does not."""
        return max(min(DELETES_ALWAYS_ALLOWED, live // 2), int(self.max_share * live))


@dataclass(frozen=True)
class Comparison:
    """What a complete listing says about a table."""

    gone: list[str]  # keys to record as deleted in this load
    back: list[str]  # keys marked deleted before that the listing has again


class LoadedRow(dict[str, Any]):
    """A row as an earlier load wrote it, written again (marked, unmarked): the privacy step
    leaves its hashed values as they are (privacy.py)."""


class LoadedRows:
    """What earlier loads wrote to the warehouse, read through dlt's dataset of the pipeline
    that runs this source (any destination dlt can query). Empty before the first load, and
    on a run that refreshes the source (dlt wipes its state, and drops the tables only when
    it loads): the source state says whether the warehouse holds this source's loads."""

    def __init__(self) -> None:
        self._dataset: Any = None
        self._keys: dict[str, tuple[set[str], set[str]]] = {}  # the warehouse holds still

    def keys(self, table: Table, key: str) -> tuple[set[str], set[str]]:
        """The keys of `table` without a deletion mark, and those with one."""
        if table.name not in self._keys:
            live: set[str] = set()
            marked: set[str] = set()
            relation = self._relation(table)
            chunks = [] if relation is None else relation.select(key, DELETED_AT).iter_fetch(50_000)
            for chunk in chunks:
                for value, deleted_at in chunk:
                    (live if deleted_at is None else marked).add(str(value))
            self._keys[table.name] = live, marked
        return self._keys[table.name]

    def rows(self, table: Table, key: str, values: Sequence[str]) -> Iterator[Row]:
        """The rows of `table` whose `key` is among `values`, as they were loaded (dlt's
        bookkeeping columns apart, JSON columns parsed)."""
        relation = self._relation(table)
        if relation is None:
            return
        columns = [c for c in relation.columns if not c.startswith("_dlt_")]
        json_columns = {name for name, column in relation.columns_schema.items()
                        if column.get("data_type") == "json"}
        for start in range(0, len(values), BATCH):
            batch = relation.select(*columns).where(key, "in", list(values[start:start + BATCH]))
            for found in batch.fetchall():
                row = LoadedRow(zip(columns, found, strict=True))
                for name in json_columns & row.keys():
                    if isinstance(row[name], str):
                        row[name] = json.loads(row[name])
                yield row

    def _relation(self, table: Table) -> Any:
        state = dlt.current.source_state()
        if not state.get(LOADED):
            state[LOADED] = True  # true once this load commits
            return None
        try:
            if self._dataset is None:
                self._dataset = dlt.current.pipeline().dataset()
            relation = self._dataset[table.name]
            relation.columns  # noqa: B018 (raises when the table does not exist yet)
        except Exception:  # no pipeline, no destination or no such table yet: nothing loaded
            return None
        if DELETED_AT not in relation.columns:
            return None  # loaded before deletes were tracked: nothing to compare against yet
        return relation


def refused(table: Table, reason: str, advice: str = "") -> IncompleteListingError:
    """The one-line error of a listing of every row of `table` taken for a wrong answer."""
    return IncompleteListingError(
        f"LiveAgent's listing of every row of {table.name} was refused as a wrong answer: "
        f"{reason}; nothing was marked deleted or removed, and the next run lists again{advice}")


def every_row(table: Table, pages: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """`pages` of a listing of every row of `table`; one whose pages break the API's
    continuity (the paginators' `IncompleteListingError`) is refused naming the table."""
    try:
        yield from pages
    except IncompleteListingError as error:
        raise refused(table, str(error)) from None


class Deletions:
    """Finds and writes the deletions of one load, and counts them into the run's metrics."""

    def __init__(self, policy: DeletePolicy, noticed_at: datetime,
                 metrics: RequestMetrics | None = None, loaded: LoadedRows | None = None) -> None:
        self.policy = policy
        self.noticed_at = noticed_at
        self.metrics = metrics or RequestMetrics()
        self.loaded = loaded or LoadedRows()

    def compare(self, table: Table, key: str, listed: Collection[str],
                state: dict[str, Any]) -> Comparison:
        """What a complete listing (`listed`, its keys) says: the keys to record as deleted
        now, and those marked before that are back. `state` is the resource state of the
        caller (remove mode keeps the keys waiting for a second listing there). Raises
        `IncompleteListingError` for a listing that takes away more than one may."""
        live, marked = self.loaded.keys(table, key)
        dropped = live - set(listed)
        waiting = set(state.get(PENDING, {}).get(table.name, ()))
        self._refuse_implausible(table, len(live), len(dropped - waiting), bool(listed))
        gone = self._agreed(table, dropped, state) if self.policy.mode == "remove" else dropped
        back = sorted(marked.intersection(listed))
        self.metrics.add_deletes("unmarked", table.name, len(back))
        return Comparison(sorted(gone), back)

    def rows(self, table: Table, key: str, gone: Sequence[str],
             tombstone: dict[str, Any] | None = None) -> list[Row]:
        """The rows that record `gone` in `table`: marked copies, or rows that remove them
        (`tombstone` gives the other key columns such a row needs, e.g. a message id)."""
        if not gone:
            return []
        loaded = list(self.loaded.rows(table, key, gone))
        if self.policy.mode == "remove":
            self.metrics.add_deletes("removed", table.name, len(loaded))
            removing = sorted({str(row[key]) for row in loaded})
            self.metrics.add_delete_markers(table.name, len(removing))
            return [{key: value, **(tombstone or {}), table.hard_delete_column: True}
                    for value in removing]
        self.metrics.add_deletes("marked", table.name, len(loaded))
        return [LoadedRow({**row, DELETED_AT: self.noticed_at}) for row in loaded]

    def restored(self, table: Table, key: str, back: Sequence[str]) -> list[Row]:
        """The rows of `back` in `table` as loaded, without their mark (the rows of a
        conversation that is back, in the tables rewritten per conversation)."""
        rows = self._unmarked_as_loaded(table, key, back)
        self.metrics.add_deletes("unmarked", table.name, len(rows))
        return rows

    def as_listed(self, table: Table, key: str, listed: dict[str, Row],
                  convert: Callable[[list[Row]], list[Row]]) -> list[Row]:
        """The rows that are back (`listed`, raw, by key), converted as their listing does,
        or as loaded when one no longer converts (they are counted by `compare`)."""
        rows = convert(list(listed.values()))
        unconverted = sorted(set(listed) - {str(row[key]) for row in rows})
        return rows + self._unmarked_as_loaded(table, key, unconverted)

    def _unmarked_as_loaded(self, table: Table, key: str, values: Sequence[str]) -> list[Row]:
        if not values:
            return []
        return [LoadedRow({**row, DELETED_AT: None})
                for row in self.loaded.rows(table, key, values)]

    def _agreed(self, table: Table, dropped: set[str], state: dict[str, Any]) -> set[str]:
        """Remove mode: of the keys this listing lacks, those the last listing lacked too;
        the others wait in `state` for the next one (a key listed again leaves it)."""
        pending = state.setdefault(PENDING, {})
        agreed = dropped & set(pending.get(table.name, ()))
        waiting = sorted(dropped - agreed)
        if waiting:
            pending[table.name] = waiting
        else:
            pending.pop(table.name, None)
        self.metrics.add_deletes("pending", table.name, len(waiting))
        return agreed

    def _refuse_implausible(self, table: Table, live: int, dropped: int, listed: bool) -> None:
        """A listing that is empty while keys are live, or lacks more of them than
        `DeletePolicy.allowed` (keys an earlier listing already lacked apart), is refused,
        unless the user confirmed it."""
        allowed = self.policy.allowed(live)
        if self.policy.confirmed or dropped == 0 or (listed and dropped <= allowed):
            return
        lacks = f"it lacks {dropped:,} of the {live:,} rows loaded" if listed else \
            f"it is empty while {live:,} rows are loaded"
        raise refused(
            table, f"{lacks} (one listing may take away at most {allowed:,}: "
            f"{DELETES_ALWAYS_ALLOWED} rows but at most half of them, or "
            f"{self.policy.max_share:.0%} of them, sources.liveagent.max_deleted_share, "
            "whichever is more)",
            "; if LiveAgent really deleted them, run once with --confirm-deletes")
