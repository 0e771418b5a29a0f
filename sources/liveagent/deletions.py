"""Rows that left LiveAgent. API v1 lists no deletions, so they are found by comparing a
complete listing with what the warehouse holds: a key loaded before (and not yet marked) that
the listing no longer has is gone.

`deletes = "mark"` (default, Fivetran's `_fivetran_deleted` convention): the row stays, its
last loaded version written again with `_liveagent_deleted_at` (the UTC time this load noticed),
so history and joins keep working; a row that comes back is loaded as usual, unmarked.
`deletes = "remove"`: a row with the table's hard-delete column true removes it (dlt's
`hard_delete`). Only a listing that completed is compared: a failed one raises before this.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

import dlt

from .settings import DELETED_AT, Table
from .transforms import Row

BATCH = 500  # keys per warehouse query


LOADED = "loaded"  # source state: a load of this source has committed into the warehouse


class LoadedRows:
    """What earlier loads wrote to the warehouse, read through dlt's dataset of the pipeline
    that runs this source (any destination dlt can query). Empty before the first load, and
    on a run that refreshes the source (dlt wipes its state, and drops the tables only when
    it loads): the source state says whether the warehouse holds this source's loads."""

    def __init__(self) -> None:
        self._dataset: Any = None

    def live_keys(self, table: Table, key: str) -> set[str]:
        """The keys of `table` without a deletion mark."""
        relation = self._relation(table)
        if relation is None:
            return set()
        found: set[str] = set()
        for chunk in relation.select(key, DELETED_AT).iter_fetch(50_000):
            found.update(str(value) for value, deleted_at in chunk if deleted_at is None)
        return found

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
                row = dict(zip(columns, found, strict=True))
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


class Deletions:
    """Finds and writes the deletions of one load."""

    def __init__(self, mode: str, noticed_at: datetime, loaded: LoadedRows | None = None,
                 count_markers: Callable[[str, int], None] | None = None) -> None:
        self.mode = mode
        self.noticed_at = noticed_at
        self.loaded = loaded or LoadedRows()
        self.count_markers = count_markers or (lambda table, count: None)

    def gone(self, table: Table, key: str, listed: Collection[str]) -> list[str]:
        """Keys loaded before, unmarked, that a complete listing (`listed`) no longer has."""
        return sorted(self.loaded.live_keys(table, key) - set(listed))

    def rows(self, table: Table, key: str, gone: Sequence[str],
             tombstone: dict[str, Any] | None = None) -> list[Row]:
        """The rows that record `gone` in `table`: marked copies, or rows that remove them
        (`tombstone` gives the other key columns such a row needs, e.g. a message id)."""
        if not gone:
            return []
        if self.mode == "remove":
            self.count_markers(table.name, len(gone))
            return [{key: value, **(tombstone or {}), table.hard_delete_column: True}
                    for value in gone]
        return [{**row, DELETED_AT: self.noticed_at}
                for row in self.loaded.rows(table, key, gone)]
