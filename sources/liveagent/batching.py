"""Which listed conversations go into one load (pure; no I/O): the earliest changed of an
incremental catch-up, the newest of a history window."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from datetime import datetime, timezone

from .settings import CONVERSATIONS_PAGE_SIZE
from .transforms import Row


class EarliestChanged:
    """The conversations of one load. Unlimited: rows pass through in pages as listed. Limited
    to `limit`: the `limit` earliest-changed rows plus any sharing the last one's second, held
    in at most twice that much memory; rows listed twice count once, the newer kept.

    A limited batch also notes every listed row's change time (8 bytes each), so that
    `later_cuts` can say where the following loads end without listing everything again."""

    def __init__(self, limit: int, floor: datetime | None = None) -> None:
        self.limit = limit
        # rows changed at or before the last high-water mark are the boundary re-read: they do
        # not count toward the limit, or a bulk edit of more than `limit` rows in one second
        # would fill every load with rows already loaded
        self.floor = floor
        self.truncated = False
        self._cut_at = 2 * limit
        self._rows: dict[str, Row] = {}
        self._seen: dict[str, datetime] = {}
        self._listed = array("d")

    def add(self, row: Row) -> list[Row] | None:
        """Takes a row; returns a page to yield now (unlimited mode) or None."""
        key, changed = row["conversationid"], row["datechanged"]
        if not self.limit:
            previous = self._seen.get(key)
            if previous is not None and changed <= previous:
                return None
            self._seen[key] = changed
            self._rows[key] = row
            return self._take_all() if len(self._rows) >= CONVERSATIONS_PAGE_SIZE else None
        # only the kept rows are remembered: memory stays bounded by the limit
        kept = self._rows.get(key)
        if kept is not None and changed <= kept["datechanged"]:
            return None
        self._rows[key] = row
        self._listed.append(changed.timestamp())
        if len(self._rows) >= self._cut_at:
            self._cut()
            self._cut_at = len(self._rows) + self.limit
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

    def later_cuts(self, loaded_through: datetime) -> list[datetime]:
        """The last change time of each following full load among the rows listed after
        `loaded_through`: every such load holds `limit` rows plus the ties of its last second.
        The rows after the last cut, and whatever changes meanwhile, are for an open listing."""
        after = loaded_through.timestamp()
        later = sorted(t for t in self._listed if t > after)
        cuts, end = [], self.limit - 1
        while end < len(later):
            cuts.append(datetime.fromtimestamp(later[end], timezone.utc))
            end = bisect_right(later, later[end]) + self.limit - 1
        return cuts

    def _take_all(self) -> list[Row]:
        page, self._rows = list(self._rows.values()), {}
        return page

    def _cut(self) -> None:
        ordered = sorted(self._rows.values(), key=lambda r: r["datechanged"])
        boundary = 0 if self.floor is None else bisect_right(
            ordered, self.floor, key=lambda r: r["datechanged"])
        if len(ordered) <= boundary + self.limit:
            return
        last = ordered[boundary + self.limit - 1]["datechanged"]
        kept = [r for r in ordered if r["datechanged"] <= last]
        self.truncated = self.truncated or len(kept) < len(ordered)
        self._rows = {r["conversationid"]: r for r in kept}


class NewestChanged:
    """The newest-changed rows of a history listing, for a window read newest first: at most
    `limit` rows plus every row that shares the oldest kept second, held in at most twice that
    much memory; rows listed twice count once, the newer kept. Every listed row's change time
    is noted (8 bytes each), so `earlier_cuts` can plan the following, older windows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.truncated = False
        self._rows: dict[str, Row] = {}
        self._listed = array("d")
        self._prune_at = 2 * limit

    def add(self, row: Row) -> None:
        key, changed = row["conversationid"], row["datechanged"]
        kept = self._rows.get(key)
        if kept is not None and changed <= kept["datechanged"]:
            return
        self._rows[key] = row
        self._listed.append(changed.timestamp())
        if len(self._rows) >= self._prune_at:
            self._prune()
            self._prune_at = len(self._rows) + self.limit

    def finish(self) -> list[Row]:
        """The window's rows, newest first (`truncated` tells whether older ones were left)."""
        if len(self._rows) > self.limit:
            self._prune()
        rows = sorted(self._rows.values(), key=lambda r: r["datechanged"], reverse=True)
        self._rows = {}
        return rows

    def earlier_cuts(self, before: datetime) -> list[datetime]:
        """The oldest change time of each following full window among the rows listed before
        `before`, newest window first: each holds `limit` rows plus the ties of its oldest
        second. Rows older than the last cut make the final window, down to the start."""
        earlier = sorted(-t for t in self._listed if t < before.timestamp())
        cuts, end = [], self.limit - 1
        while end < len(earlier):
            after_ties = bisect_right(earlier, earlier[end])
            if after_ties >= len(earlier):
                break  # the rest fits the final window
            cuts.append(datetime.fromtimestamp(-earlier[end], timezone.utc))
            end = after_ties + self.limit - 1
        return cuts

    def _prune(self) -> None:
        ordered = sorted(self._rows.values(), key=lambda r: r["datechanged"], reverse=True)
        if len(ordered) <= self.limit:
            return
        oldest = ordered[self.limit - 1]["datechanged"]
        kept = [r for r in ordered if r["datechanged"] >= oldest]
        self.truncated = self.truncated or len(kept) < len(ordered)
        self._rows = {r["conversationid"]: r for r in kept}
