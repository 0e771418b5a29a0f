"""How much of the account's history the warehouse holds: the conversation family's backfill
(backfill.py) and each report's days (reports.py), read from the state the last load committed.

The one place that says whether the backfill is complete (conversations *and* every report day
down to the floor), what is left and what it costs, and, per table, whether it equals LiveAgent
or from which date on it holds data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .backfill import Backfill
from .reports import ReportHistory
from .settings import CONVERSATION_DETAILS, CONVERSATION_TAGS, CONVERSATIONS, MESSAGE_GROUPS
from .settings import MESSAGES as MESSAGES_TABLE

# the tables the conversations' backfill fills (the status history is observed along with it)
FAMILY_TABLES = frozenset({CONVERSATIONS.name, CONVERSATION_TAGS.name, MESSAGE_GROUPS.name,
                           MESSAGES_TABLE.name, CONVERSATION_DETAILS.name,
                           "conversation_status_history"})


@dataclass(frozen=True)
class TableCoverage:
    """Whether a table holds everything LiveAgent has (as of the load), and if not, from
    when on it does (an ISO date or datetime; None: not known)."""

    complete: bool
    data_from: str | None = None


@dataclass
class Coverage:
    conversations: Backfill
    reports: dict[str, ReportHistory] = field(default_factory=dict)  # by table

    @classmethod
    def of(cls, source_state: Mapping[str, Any]) -> Coverage:
        resources = source_state.get("resources", {})
        reports = {name: ReportHistory.of(state) for name, state in resources.items()
                   if name.startswith("report_")}
        return cls(Backfill.of(source_state),
                   {name: history for name, history in sorted(reports.items()) if history})

    # -- the conversation family ---------------------------------------------------------
    @property
    def conversations_complete(self) -> bool:
        backfill = self.conversations
        return backfill.started and not backfill.pending

    # -- the reports ---------------------------------------------------------------------
    @property
    def report_days_left(self) -> int:
        """Days of history the report furthest behind still lacks."""
        return max((h.days_left for h in self.reports.values()), default=0)

    def reports_left(self) -> dict[str, ReportHistory]:
        return {name: h for name, h in self.reports.items() if not h.complete}

    # -- the whole -----------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """Conversations and every report day down to the floor (of what was loaded)."""
        return self.conversations_complete and not self.reports_left()

    def pending(self, tables: Iterable[str]) -> list[str]:
        """Of `tables`, those another load would add history to."""
        wanted = set(tables)
        left = [name for name in self.reports_left() if name in wanted]
        if CONVERSATIONS.name in wanted and self.conversations.pending:
            left.insert(0, CONVERSATIONS.name)
        return left

    def requests_left(self, requests_per_row: int) -> int | None:
        """What the history left costs in requests (None while the conversations left are not
        counted): each conversation's own requests and listing pages, a request per report
        and day."""
        conversations = self.conversations.requests_left(requests_per_row)
        if conversations is None:
            return None
        return conversations + sum(h.days_left for h in self.reports.values())

    def table(self, name: str) -> TableCoverage:
        if name in FAMILY_TABLES:
            backfill = self.conversations
            if self.conversations_complete:
                return TableCoverage(True)
            return TableCoverage(False, backfill.history_to if backfill.history_left
                                 else backfill.history_from)
        history = self.reports.get(name)
        if history is not None and not (history.complete and self._floor_final):
            return TableCoverage(False, history.loaded_from.isoformat()
                                 if history.loaded_from else None)
        return TableCoverage(True)

    @property
    def _floor_final(self) -> bool:
        """Whether the reports' floor can no longer move down: it is the start date, or the
        oldest conversation is known (their history is read, or was never asked for)."""
        backfill = self.conversations
        return not backfill.history_left or backfill.history_from is not None

    def describe(self, requests_per_row: int, requests_per_minute: float) -> str:
        """One line on where the backfill stands, for people."""
        newest = (self.conversations.high_water or "nothing yet")[:16]
        if self.complete:
            return f"backfill complete: {self._down_to()}; newest change loaded {newest}"
        requests = self.requests_left(requests_per_row)
        cost = "time not yet known" if requests is None else \
            f"~{requests:,} requests, ~{requests / requests_per_minute / 60:.1f} h at " \
            f"{requests_per_minute:g}/min"
        return f"history left: {'; '.join(self._left())} ({cost}); newest change loaded {newest}"

    def _down_to(self) -> str:
        since = self.conversations.history_from
        parts = [f"conversations {f'changed since {since[:10]}' if since else 'from the start'}"]
        floors = {h.floor for h in self.reports.values() if h.floor}
        if floors:
            parts.append(f"every report day since {min(floors).isoformat()}")
        return " and ".join(parts)

    def _left(self) -> list[str]:
        backfill, parts = self.conversations, []
        if not backfill.started:
            parts.append("conversations not loaded yet")
        elif backfill.history_left:
            before = f"changed before {(backfill.history_to or '')[:16]}"
            rows, windows = backfill.conversations_left, backfill.windows_left
            parts.append(f"conversations {before}, not yet counted (the first history window "
                         "counts them)" if rows is None else
                         f"about {rows:,} conversations {before} in {windows} windows")
        elif backfill.catching_up:
            parts.append(f"changes since {(backfill.high_water or '')[:16]} still catching up")
        left = self.reports_left()
        if left:
            floor = min(h.floor for h in left.values() if h.floor)
            parts.append(f"up to {self.report_days_left} days of {len(left)} reports (down "
                         f"to {floor.isoformat()})")
        return parts
