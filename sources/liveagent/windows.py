"""The listings of the conversation family: the incremental part, a history window and a
bounded re-read, each yielding pages of rows (and their rejected rows) for `conversations`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from .backfill import Backfill
from .batching import EarliestChanged, NewestChanged
from .paginators import CursorPaginator
from .reading import Reading
from .rejections import for_table, unit
from .settings import CONVERSATIONS, CONVERSATIONS_PAGE_SIZE
from .transforms import Rejected, Row, after_the_mark, convert_each, dedup_columns

SECOND = timedelta(seconds=1)
_UNLIMITED = 10**12


def digest(row: Row) -> str:
    """A row's identity at the high-water second: every loaded field, so a row read again
    unchanged is dropped and a same-second change is not."""
    fields = {name: row.get(name) for name in dedup_columns(CONVERSATIONS)}
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Listing:
    """Pages of converted conversation rows for a `datechanged` filter; rejected rows are
    yielded as they come (see `rejected_pages`)."""

    def __init__(self, reading: Reading, datechanged: str | None) -> None:
        self.reading = reading
        self.params = {} if datechanged is None else {"datechanged": datechanged}
        self.rejected: list[Any] = []

    def rows(self) -> Iterator[tuple[list[Row], list[Any]]]:
        """(rows, rejected_rows rows) per listed page."""
        check = self.reading.contracts.check(CONVERSATIONS)
        pages = self.reading.client.paginate("conversations", "conversations",
                                             CursorPaginator(CONVERSATIONS_PAGE_SIZE),
                                             self.params)
        for page in pages:
            rows, rejected = convert_each(page, CONVERSATIONS, self.reading.time, check)
            yield rows, [for_table(_settle_rows(self.reading, rejected))] if rejected else []


def between(reading: Reading, low: datetime | None, high: datetime | None) -> str | None:
    """A `datechanged` filter for [low, high) (either end open)."""
    time = reading.time
    if low is not None and high is not None:
        return f"btw:{time.render_lower_bound(low)},{time.render_upper_bound(high - SECOND)}"
    if low is not None:
        return f"gte:{time.render_lower_bound(low)}"
    if high is not None:
        return f"lte:{time.render_upper_bound(high - SECOND)}"
    return None


class Incremental:
    """What changed since the high-water mark, earliest first in loads of `per_load`."""

    def __init__(self, reading: Reading, backfill: Backfill, plan: Any,
                 snapshot: datetime | None) -> None:
        self.reading, self.backfill, self.plan, self.snapshot = reading, backfill, plan, snapshot
        self.ids: set[str] = set()  # conversations this part read (history skips them)

    def read(self) -> Iterator[Any]:
        backfill, low = self.backfill, self.backfill.high_water_time()
        cuts = [datetime.fromisoformat(cut) for cut in backfill.catch_up]
        windowed = bool(cuts)
        high = cuts[0] + SECOND if windowed else None
        listing = Listing(self.reading, between(self.reading, low, high))
        batch = EarliestChanged(self.plan.per_load, floor=low)
        known = set(backfill.boundary)
        for rows, rejected in listing.rows():
            yield from rejected
            for row in after_the_mark(rows, low, self.reading.time):
                if self.snapshot is not None and row["datechanged"] > self.snapshot:
                    continue  # changed after this load began: the next load reads it
                if low is not None and row["datechanged"] == low and digest(row) in known:
                    continue  # the boundary second, read again unchanged
                full = batch.add(row)
                if full:
                    yield from self._loaded(full)
        last_pages = batch.finish()
        if windowed and not batch.truncated:
            cuts = cuts[1:]  # this window is done; the open listing comes after the last cut
        elif not windowed and batch.truncated:
            cuts = batch.later_cuts(max(row["datechanged"] for row in last_pages[-1]))
        backfill.catch_up = [cut.isoformat() for cut in cuts]
        backfill.catching_up = windowed or batch.truncated
        for page in last_pages:
            yield from self._loaded(page)

    def _loaded(self, page: list[Row]) -> Iterator[Any]:
        self._move_mark(page)
        self.ids.update(row["conversationid"] for row in page)
        yield from _loaded(self.reading, page)

    def _move_mark(self, page: list[Row]) -> None:
        backfill = self.backfill
        mark = backfill.high_water_time()
        newest = max(row["datechanged"] for row in page)
        if mark is None or newest > mark:
            backfill.high_water, backfill.boundary = newest.isoformat(), []
            mark = newest
        backfill.boundary += [digest(row) for row in page if row["datechanged"] == mark]
        backfill.saw_created(min((r["datecreated"] for r in page if r["datecreated"]),
                                 default=None))


class History:
    """One window of history, newest first: the rows changed before `history_to`, at most
    `budget` of them (plus every row that shares the oldest second taken). The first window
    lists all history once and plans the following windows (`history_cuts`), each about
    `per_load` rows, so later windows list only their own range."""

    def __init__(self, reading: Reading, backfill: Backfill, plan: Any, skip: set[str]) -> None:
        self.reading, self.backfill, self.plan, self.skip = reading, backfill, plan, skip

    def read(self, budget: int) -> Iterator[Any]:
        backfill = self.backfill
        start, upper = backfill.history_range()
        assert upper is not None
        planning = not backfill.history_planned
        cuts = [datetime.fromisoformat(cut) for cut in backfill.history_cuts]
        low = start if planning or not cuts else cuts[0]
        window = NewestChanged(self.plan.per_load or _UNLIMITED)
        listed = 0
        for rows, rejected in Listing(self.reading, between(self.reading, low, upper)).rows():
            yield from rejected
            for row in rows:  # the filter's bounds are widened around DST: keep the range
                if row["datechanged"] < upper and (low is None or row["datechanged"] >= low):
                    window.add(row)
                    listed += 1
                    backfill.saw_created(row["datecreated"])
        rows = window.finish()
        if planning:
            backfill.history_planned, backfill.history_rows = True, listed
        if window.truncated:  # the window is the newest rows; older ones make more windows
            edge = rows[-1]["datechanged"]
            cuts = [edge, *(window.earlier_cuts(edge) if planning else cuts)]
        taken = _newest(rows, budget)
        if len(taken) < len(rows):  # the budget ends inside the window
            backfill.history_to = taken[-1]["datechanged"].isoformat() if taken else \
                backfill.history_to
        elif cuts:
            backfill.history_to = cuts.pop(0).isoformat()
        else:
            backfill.history_to = None  # the oldest window: history is done
        backfill.history_cuts = [cut.isoformat() for cut in cuts]
        backfill.history_rows = max(0, backfill.history_rows - len(taken))
        fresh = [row for row in taken if row["conversationid"] not in self.skip]
        for at in range(0, len(fresh), CONVERSATIONS_PAGE_SIZE):
            yield from _loaded(self.reading, fresh[at:at + CONVERSATIONS_PAGE_SIZE])


def _newest(rows: list[Row], budget: int) -> list[Row]:
    """The first `budget` of `rows` (newest first) and every row sharing the last one's
    second."""
    if budget >= len(rows):
        return rows
    if budget <= 0:
        return []
    oldest = rows[budget - 1]["datechanged"]
    return [row for row in rows if row["datechanged"] >= oldest]


def read_range(reading: Reading, start: datetime | None, end: datetime) -> Iterator[Any]:
    """Every conversation changed in [start, end): a re-read that leaves the backfill alone."""
    batch = EarliestChanged(0)
    for rows, rejected in Listing(reading, between(reading, start, end)).rows():
        yield from rejected
        for row in rows:
            full = batch.add(row)
            if full:
                yield from _loaded(reading, full)
    for page in batch.finish():
        yield from _loaded(reading, page)


def _settle_rows(reading: Reading, rejected: list[Rejected]) -> list[Row]:
    """Rejected conversation rows, each the rejection of its own unit; the keyless ones share
    one, which nothing reads again whole (one does not end another)."""
    rows: list[Row] = []
    for found in rejected:
        if found.key:
            read = unit("conversations", found.key)
            if reading.rejections().first_answer(read):
                rows += reading.rejections().settle(read, [found], conversationid=found.key)
        else:
            rows += reading.rejections().keep(unit("conversations", "#"), [found])
    return rows


def _loaded(reading: Reading, page: list[Row]) -> Iterator[Any]:
    """`page`, preceded by the deletions of earlier rejections of its conversations."""
    rejections = reading.rejections()
    settled: list[Row] = []
    for row in page:
        read = unit("conversations", row["conversationid"])
        if rejections.has_open(read) and rejections.first_answer(read):
            settled += rejections.settle(read, [])
    if settled:
        yield for_table(settled)
    yield page
