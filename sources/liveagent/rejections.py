"""Rows kept out of their tables: the `rejected_rows` table and the registry that owns it.

A row that breaks the contract (no key, a malformed datetime, a structure where a value
belongs, a changed type) and a request about one object that kept failing (a conversation's
messages, a company's details) cost that row or object, never the run: it is written to
`rejected_rows` with its reason and the row as received (secrets removed), and everything else
loads.

Each rejection belongs to a *unit*, the smallest thing that is read again as a whole: one
conversation's row (`conversations:<id>`), one conversation's messages (`messages:<id>`), a
full list (`tags:`), a report day (`report_agents:2025-10-09`), a knowledge-base entry. Later
runs read every unit again (`Rereads`: at most `per_run` of a resource's units a run, least
recently read first) until it loads. When a unit is read whole again, its earlier rejections
that did not recur leave the table (a hard-delete row) and the ones that recur keep their
first-seen time; a unit read but not whole (messages that fall short) keeps them all. A unit
LiveAgent says is gone (404 by id, an entry no longer listed) leaves only when it says so
again in a later load: one answer may come from a replica that lags. The registry in source
state (key `rejected_rows`) maps every open rejection to its unit, first- and last-seen time
and the unit's notes; it commits with the load like all state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dlt
from dlt.extract import DltResource
from dlt.extract.items import DataItemWithMeta

from .settings import DEFAULT_REREADS_PER_RUN, DEFAULT_SHORT_MESSAGE_READS, REJECTED_ROWS
from .transforms import Rejected, Row, column_hints

STATE_KEY = "rejected_rows"
CONVERSATION_SCOPES = ("conversations", "messages")  # units re-read by conversation id
GONE_AT = "gone_at"  # when LiveAgent first said a unit is gone (it leaves on the second time)
NOTES = "notes"  # what a resource keeps about a unit until it loads (e.g. reads that fell short)


def unit(scope: str, ident: str = "") -> str:
    return f"{scope}:{ident}"


@dataclass(frozen=True)
class Rereads:
    """How later runs read rejected units again."""

    per_run: int = DEFAULT_REREADS_PER_RUN  # units of each resource a run reads again, at most
    short_message_reads: int = DEFAULT_SHORT_MESSAGE_READS  # reads a short answer is kept for


class RejectedRows:
    """The registry of open rejections, over the source state it lives in."""

    def __init__(self, state: dict[str, Any], now: datetime) -> None:
        self._open: dict[str, dict[str, Any]] = state.setdefault(STATE_KEY, {})
        self._now = now
        self._by_unit: dict[str, set[str]] = {}
        self._answered: set[str] = set()  # units this load decided (`first_answer`)
        for rejection_id, entry in self._open.items():
            self._by_unit.setdefault(entry["unit"], set()).add(rejection_id)

    def settle(self, read: str, rejected: Iterable[Rejected],
               conversationid: str | None = None, notes: Mapping[str, Any] | None = None
               ) -> list[Row]:
        """Rows for `rejected_rows` after unit `read` was read whole: its rejections now, and
        a deletion for each earlier one that did not recur."""
        rows = [self._reject(read, found, conversationid, notes) for found in rejected]
        current = {row["rejection_id"] for row in rows}
        for gone in self._by_unit.pop(read, set()) - current:
            del self._open[gone]
            rows.append({"rejection_id": gone, "deleted": True})
        if current:
            self._by_unit[read] = current
        return rows

    def keep(self, read: str, rejected: Iterable[Rejected], conversationid: str | None = None,
             notes: Mapping[str, Any] | None = None) -> list[Row]:
        """Rows for `rejected_rows` after unit `read` was read but not whole: its rejections
        now, its earlier ones kept as they are."""
        rows = [self._reject(read, found, conversationid, notes) for found in rejected]
        self._by_unit.setdefault(read, set()).update(row["rejection_id"] for row in rows)
        return rows

    def confirm_gone(self, read: str) -> list[Row]:
        """LiveAgent says unit `read` no longer exists: noted the first time, and the unit's
        rejections leave when a later load hears it again (a replica that lags says it once)."""
        entries = [self._open[rejection_id] for rejection_id in self._by_unit.get(read, ())]
        said = [datetime.fromisoformat(entry[GONE_AT]) for entry in entries if GONE_AT in entry]
        if said and min(said) < self._now:
            return self.settle(read, [])
        for entry in entries:
            entry.setdefault(GONE_AT, self._now.isoformat())
        return []

    def notes(self, read: str) -> dict[str, Any]:
        """What was noted about unit `read` while its rejections stay open."""
        return {name: value for rejection_id in sorted(self._by_unit.get(read, ()))
                for name, value in self._open[rejection_id].get(NOTES, {}).items()}

    def first_answer(self, read: str) -> bool:
        """Whether this is the load's first answer for unit `read`: one read twice in a load
        (by its listing and again by id) is decided once, so neither a read nor a table row
        counts twice."""
        if read in self._answered:
            return False
        self._answered.add(read)
        return True

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

    def to_reread(self, scopes: Iterable[str], limit: int) -> list[str]:
        """Ids of the units of `scopes` that can be asked for by id, noticed before this load:
        the `limit` least recently read (the others wait for later runs)."""
        wanted, last = set(scopes), dict[str, datetime]()
        for entry in self._open.values():
            scope, _, ident = entry["unit"].partition(":")
            seen = datetime.fromisoformat(entry["last_seen"])
            if scope in wanted and ident and not ident.startswith("#") and seen < self._now:
                last[ident] = min(last.get(ident, seen), seen)
        return sorted(last, key=lambda ident: (last[ident], ident))[:max(0, limit)]

    def conversations_to_reread(self, limit: int) -> list[str]:
        """Conversations whose row or messages an earlier load rejected."""
        return self.to_reread(CONVERSATION_SCOPES, limit)

    def _reject(self, read: str, found: Rejected, conversationid: str | None,
                notes: Mapping[str, Any] | None) -> Row:
        raw_json = json.dumps(found.raw, ensure_ascii=True, sort_keys=True, default=str)
        rejection_id = f"{found.table}:{found.key}" if found.key else \
            f"{found.table}:#{_digest(read, raw_json)}"
        entry = self._open.setdefault(rejection_id,
                                      {"unit": read, "first_seen": self._now.isoformat()})
        entry.update(unit=read, last_seen=self._now.isoformat())
        entry.pop(GONE_AT, None)  # LiveAgent answered for it again
        if notes is not None:
            entry[NOTES] = dict(notes)
        return {
            "rejection_id": rejection_id, "table_name": found.table, "row_key": found.key,
            "conversationid": conversationid, "reason": found.reason,
            "raw_json": None if found.raw is None else raw_json,
            "first_seen_at": datetime.fromisoformat(entry["first_seen"]),
            "last_seen_at": self._now,
        }


# how later runs read each kind of unit again (`reread_kind`), for the summary and `status`
REREADS = {
    "conversations": "{n} conversations read again by id (their row, then their messages)",
    "messages": "{n} conversations' messages read again by id (a request each)",
    "report_days": "{n} report days read again (a request each)",
    "kb_entries": "{n} knowledge-base entries read again by id (a request each)",
    "details": "{n} companies' or agents' details read again by id (a request each)",
    "conversation_details": "{n} conversations' details read again when they change",
    "lists": "{n} lists read whole again",
}
KEYLESS = "keyless"  # a row without its key: nothing can ask LiveAgent for it again


def reread_kind(read: str) -> str:
    """The kind of unit `read` as later runs read it again (a key of `REREADS`, or
    `KEYLESS`)."""
    scope, _, ident = read.partition(":")
    if scope in ("conversations", "kb_entries") and ident.startswith("#"):
        return KEYLESS
    if scope in ("conversations", "messages", "kb_entries", "conversation_details"):
        return scope
    if scope.startswith("report_"):
        return "report_days"
    return "lists" if ident in ("", "#") else "details"


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


def for_table(rows: list[Row]) -> DataItemWithMeta:
    """`rows` routed to `rejected_rows` (every resource has its hints, see `__init__.py`)."""
    return dlt.mark.with_table_name(rows, REJECTED_ROWS.name)


def rejected_rows_hints() -> dict[str, Any]:
    """The hints of `rejected_rows`: merged on `rejection_id`; `deleted` removes a row."""
    columns: dict[str, Any] = column_hints(REJECTED_ROWS)
    columns["deleted"] = {**columns["deleted"], "data_type": "bool", "hard_delete": True}
    return {"table_name": REJECTED_ROWS.name, "columns": columns,
            "primary_key": list(REJECTED_ROWS.primary_key), "write_disposition": "merge"}


def rejected_rows() -> DltResource:
    """`rejected_rows` with its columns and no row, in every load (the runner selects it with
    any tables): the table exists before a first row is kept, so a query on it always runs."""
    return dlt.resource([dlt.mark.materialize_table_schema()], name=REJECTED_ROWS.name,
                        **rejected_rows_hints())


def is_rejections(page: Any) -> bool:
    """Whether a page a transformer received holds `rejected_rows` rows (which travel down the
    pipe of the resource that found them) rather than data."""
    return isinstance(page, list) and bool(page) and isinstance(page[0], Mapping) \
        and "rejection_id" in page[0]
