"""Rows kept out of their tables: the `rejected_rows` table and the registry that owns it.

A row that breaks the contract (no key, a malformed datetime, a structure where a value
belongs, a changed type) and a request about one object that kept failing (a conversation's
messages, a company's details) cost that row or object, never the run: it is written to
`rejected_rows` with its reason and the row as received (secrets removed), and everything else
loads.

Each rejection belongs to a *unit*, the smallest thing that is read again as a whole: one
conversation's row (`conversations:<id>`), one conversation's messages (`messages:<id>`), a
full list (`tags:`), a report day (`report_agents:2025-10-09`), a knowledge-base entry. When a
unit is read again, its earlier rejections that did not recur leave the table (a hard-delete
row) and the ones that recur keep their first-seen time. The registry in source state (key
`rejected_rows`) maps every open rejection to its unit and first-seen time; it commits with the
load like all state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import dlt
from dlt.extract.items import DataItemWithMeta

from .settings import REJECTED_ROWS
from .transforms import Rejected, Row, column_hints

STATE_KEY = "rejected_rows"
CONVERSATION_SCOPES = ("conversations", "messages")  # units re-read by conversation id


def unit(scope: str, ident: str = "") -> str:
    return f"{scope}:{ident}"


class RejectedRows:
    """The registry of open rejections, over the source state it lives in."""

    def __init__(self, state: dict[str, Any], now: datetime) -> None:
        self._open: dict[str, dict[str, str]] = state.setdefault(STATE_KEY, {})
        self._now = now
        self._by_unit: dict[str, set[str]] = {}
        for rejection_id, entry in self._open.items():
            self._by_unit.setdefault(entry["unit"], set()).add(rejection_id)

    def settle(self, read: str, rejected: Iterable[Rejected],
               conversationid: str | None = None) -> list[Row]:
        """Rows for `rejected_rows` after unit `read` was read whole: its rejections now, and
        a deletion for each earlier one that did not recur."""
        rows = [self._reject(read, found, conversationid) for found in rejected]
        current = {row["rejection_id"] for row in rows}
        for gone in self._by_unit.pop(read, set()) - current:
            del self._open[gone]
            rows.append({"rejection_id": gone, "deleted": True})
        if current:
            self._by_unit[read] = current
        return rows

    def has_open(self, read: str) -> bool:
        return read in self._by_unit

    def open_ids(self, scope: str, noticed_before: datetime | None = None) -> list[str]:
        """Ids of the units of `scope` with open rejections (e.g. conversation ids), only those
        last noticed before `noticed_before` when given (not again in this load)."""
        prefix = unit(scope)
        found = {entry["unit"][len(prefix):] for entry in self._open.values()
                 if entry["unit"].startswith(prefix)
                 and (noticed_before is None
                      or datetime.fromisoformat(entry["last_seen"]) < noticed_before)}
        return sorted(ident for ident in found if ident and not ident.startswith("#"))

    def conversations_to_reread(self) -> list[str]:
        """Conversations whose row or messages an earlier load rejected."""
        return sorted({ident for scope in CONVERSATION_SCOPES
                       for ident in self.open_ids(scope, noticed_before=self._now)})

    def _reject(self, read: str, found: Rejected, conversationid: str | None) -> Row:
        raw_json = json.dumps(found.raw, ensure_ascii=True, sort_keys=True, default=str)
        rejection_id = f"{found.table}:{found.key}" if found.key else \
            f"{found.table}:#{_digest(read, raw_json)}"
        entry = self._open.setdefault(rejection_id,
                                      {"unit": read, "first_seen": self._now.isoformat()})
        entry.update(unit=read, last_seen=self._now.isoformat())
        return {
            "rejection_id": rejection_id, "table_name": found.table, "row_key": found.key,
            "conversationid": conversationid, "reason": found.reason,
            "raw_json": None if found.raw is None else raw_json,
            "first_seen_at": datetime.fromisoformat(entry["first_seen"]),
            "last_seen_at": self._now,
        }


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


def for_table(rows: list[Row]) -> DataItemWithMeta:
    """`rows` routed to `rejected_rows` (every resource has its hints, see `__init__.py`)."""
    return dlt.mark.with_table_name(rows, REJECTED_ROWS.name)


def rejected_rows_hints() -> dict[str, Any]:
    """The hints of `rejected_rows`: merged on `rejection_id`; `deleted` removes a row."""
    columns: dict[str, Any] = {**column_hints(REJECTED_ROWS),
                               "deleted": {"data_type": "bool", "hard_delete": True}}
    return {"table_name": REJECTED_ROWS.name, "columns": columns,
            "primary_key": list(REJECTED_ROWS.primary_key), "write_disposition": "merge"}


def is_rejections(page: Any) -> bool:
    """Whether a page a transformer received holds `rejected_rows` rows (which travel down the
    pipe of the resource that found them) rather than data."""
    return isinstance(page, list) and bool(page) and isinstance(page[0], Mapping) \
        and "rejection_id" in page[0]
