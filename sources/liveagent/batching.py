"""Which listed conversations go into one load (pure; no I/O)."""

from __future__ import annotations

from datetime import datetime

from .settings import CONVERSATIONS_PAGE_SIZE
from .transforms import Row


class EarliestChanged:
    """The conversations of one load. Unlimited: rows pass through in pages as listed. Limited
    to `limit`: the `limit` earliest-changed rows plus any sharing the last one's second, held
    in at most twice that much memory; rows listed twice count once, the newer kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.truncated = False
        self._rows: dict[str, Row] = {}
        self._seen: dict[str, datetime] = {}

    def add(self, row: Row) -> list[Row] | None:
        """Takes a row; returns a page to yield now (unlimited mode) or None."""
        key, changed = row["conversationid"], row["datechanged"]
        previous = self._seen.get(key)
        if previous is not None and changed <= previous:
            return None
        self._seen[key] = changed
        self._rows[key] = row
        if not self.limit and len(self._rows) >= CONVERSATIONS_PAGE_SIZE:
            return self._take_all()
        if self.limit and len(self._rows) >= 2 * self.limit:
            self._cut()
        return None

    def finish(self) -> list[list[Row]]:
        """The remaining rows in pages (earliest changed first when limited); afterwards
        `truncated` tells whether listed rows were left for a later load."""
        if self.limit and len(self._rows) > self.limit:
            self._cut()
        ordered = sorted(self._rows.values(), key=lambda r: r["datechanged"]) if self.limit \
            else list(self._rows.values())
        self._rows = {}
        size = CONVERSATIONS_PAGE_SIZE
        return [ordered[start:start + size] for start in range(0, len(ordered), size)]

    def _take_all(self) -> list[Row]:
        page, self._rows = list(self._rows.values()), {}
        return page

    def _cut(self) -> None:
        ordered = sorted(self._rows.values(), key=lambda r: r["datechanged"])
        last = ordered[self.limit - 1]["datechanged"]
        kept = [r for r in ordered if r["datechanged"] <= last]
        self.truncated = self.truncated or len(kept) < len(ordered)
        self._rows = {r["conversationid"]: r for r in kept}
