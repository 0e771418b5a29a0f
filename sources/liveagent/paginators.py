"""One paginator per paging style of the API: cursor (GET /conversations) and offset (knowledge
base, reports; and /conversations on accounts whose rows carry no cursor)."""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from .exceptions import IncompleteListingError, RequestError

MAX_STEPS_BACK = 20  # per listing; more means the list keeps shifting faster than it is read


def overlap_for(limit: int) -> int:
    """Rows each offset page reads again from the page before (2%, at least one)."""
    return max(1, limit // 50)


class AnchoredOffsetPaginator(BasePaginator):
    """`limit` + `offset` paging that cannot skip a row when the list changes while it is read.

    Offsets shift when rows before the current one disappear or move (a conversation purged,
    a list ordered by change time), and a plain offset walk then skips the rows that slid back
    over the page boundary. So each page starts `overlap` rows before the end of the previous
    one and must contain a row already read *unchanged* (identical): then every row that came
    before it was read too, since unchanged rows keep their order, and rows that changed are
    newer than the run's snapshot and are read by the next run. A page without such an anchor
    is read again one page earlier. A page shorter than `limit` ends the listing (the API sends
    no total, and the overlap makes a trailing empty page unnecessary); rows read twice are
    deduplicated by the caller."""

    def __init__(self, limit: int, offset_param: str = "offset", limit_param: str = "limit"
                 ) -> None:
        super().__init__()
        self.limit = limit
        self.overlap = overlap_for(limit)
        self.offset_param, self.limit_param = offset_param, limit_param
        self.offset = 0
        self.steps_back = 0
        self._recent: deque[set[str]] = deque(maxlen=3)  # identities of the last pages' rows

    def init_request(self, request: Request) -> None:
        self.offset, self.steps_back = 0, 0
        self._recent.clear()
        self.update_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.take_page(data or [])

    def take_page(self, rows: list[Any]) -> None:
        """Advance past `rows`, the page read at `self.offset` (or step back, see above)."""
        identities = {_identity(row) for row in rows}
        # past the first page the overlap always holds a row, so an empty page means the list
        # shrank under the offset: read again too
        if self.offset > 0 and self._recent \
                and not any(identities & seen for seen in self._recent):
            self._step_back()
            return
        self._recent.append(identities)
        if len(rows) < self.limit:
            self._has_next_page = False
            return
        self.offset += self.limit - self.overlap

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}),  # type: ignore[dict-item]
                          self.limit_param: self.limit, self.offset_param: self.offset}

    def _step_back(self) -> None:
        self.steps_back += 1
        if self.steps_back > MAX_STEPS_BACK:
            raise RequestError(
                f"{type(self).__name__}: the list kept shifting while it was paged by "
                f"offset ({self.steps_back} pages read again); try again later"
            )
        self.offset = max(0, self.offset - self.limit)


class CursorPaginator(BasePaginator):
    """GET /conversations: every row carries an opaque `cursor`; the next page starts after
    the last row's cursor. A page shorter than `limit` is the last one.

    Rows of some accounts carry no cursor (the reference's own example has none, and every
    public client pages by `offset`): when a full page ends without one, paging goes on by
    offset with `AnchoredOffsetPaginator`, which cannot skip rows."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._cursor: str | None = None
        self.by_offset: AnchoredOffsetPaginator | None = None

    def init_request(self, request: Request) -> None:
        self._cursor, self.by_offset = None, None
        params: dict[str, Any] = dict(request.params or {})  # type: ignore[arg-type]
        params.pop("cursor", None)
        params.pop("offset", None)
        request.params = {**params, "limit": self.limit}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        if self.by_offset is not None:
            self.by_offset.update_state(response, data)
            self._has_next_page = self.by_offset.has_next_page
            return
        if not data or len(data) < self.limit:
            self._last_page(data or [])
            return
        cursor = _cursor_of(data[-1])
        if cursor:
            self._cursor = cursor
            return
        self._go_on_by_offset(data)

    def _last_page(self, rows: list[Any]) -> None:
        self._has_next_page = False

    def _go_on_by_offset(self, rows: list[Any]) -> None:
        """Paging goes on by offset after `rows`, a page read at offset 0."""
        self.by_offset = self._offset_paginator()
        self.by_offset.take_page(rows)
        self._has_next_page = self.by_offset.has_next_page

    def _offset_paginator(self) -> AnchoredOffsetPaginator:
        return AnchoredOffsetPaginator(self.limit)

    def update_request(self, request: Request) -> None:
        if self.by_offset is not None:
            self.by_offset.update_request(request)
        elif self._cursor is not None:
            request.params = {**request.params, "cursor": self._cursor}  # type: ignore[dict-item]


class CompleteOffsetPaginator(AnchoredOffsetPaginator):
    """`AnchoredOffsetPaginator` for a listing whose every row must be read because what it
    lacks counts as deleted (deletions.py). A short page ends the plain walk; here it ends the
    listing only when the page right after its last row is empty. A page cut short (a lagging
    replica, a timed-out query) is otherwise read as "the rest is gone": it is refused with
    `IncompleteListingError` instead. Costs one request per listing."""

    def __init__(self, limit: int, offset_param: str = "offset", limit_param: str = "limit"
                 ) -> None:
        super().__init__(limit, offset_param, limit_param)
        self.confirming = False

    def init_request(self, request: Request) -> None:
        self.confirming = False
        super().init_request(request)

    def take_page(self, rows: list[Any]) -> None:
        if self.confirming:
            _refuse_rows_after_the_end(rows, f"offset {self.offset}")
            self._has_next_page = False
            return
        super().take_page(rows)
        if not self.has_next_page and rows:
            self.confirming, self._has_next_page = True, True
            self.offset += len(rows)


class CompleteCursorPaginator(CursorPaginator):
    """`CursorPaginator` for a listing whose every row must be read (see
    `CompleteOffsetPaginator`): a short page ends it only when the page after its last row's
    cursor is empty, and a page with a row an earlier page had (`key`) did not follow its
    cursor: both are refused with `IncompleteListingError`. Offset paging, when rows carry
    no cursor, is `CompleteOffsetPaginator` (its pages overlap by design)."""

    def __init__(self, limit: int, key: str) -> None:
        super().__init__(limit)
        self.key = key
        self.confirming = False
        self._listed: set[str] = set()

    def init_request(self, request: Request) -> None:
        self.confirming = False
        self._listed.clear()
        super().init_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        rows = data or []
        if self.confirming:
            self._refuse_repeats(rows)
            _refuse_rows_after_the_end(rows, "the last row's cursor")
            self._has_next_page = False
            return
        if self.by_offset is None:
            self._refuse_repeats(rows)
        super().update_state(response, data)

    def _refuse_repeats(self, rows: list[Any]) -> None:
        keys = [str(row[self.key]) for row in rows if isinstance(row, dict) and row.get(self.key)]
        repeated = self._listed.intersection(keys)
        if repeated:
            raise IncompleteListingError(
                f"a page did not follow its cursor ({len(repeated)} rows of earlier pages "
                f"again, e.g. {self.key} {min(repeated)})")
        self._listed.update(keys)

    def _last_page(self, rows: list[Any]) -> None:
        cursor = _cursor_of(rows[-1]) if rows else None
        if cursor:
            self._cursor, self.confirming = cursor, True
        elif rows:  # no cursor to confirm the end with: the offset after the page does it
            self._go_on_by_offset(rows)
        else:
            self._has_next_page = False

    def _offset_paginator(self) -> AnchoredOffsetPaginator:
        return CompleteOffsetPaginator(self.limit)


def _refuse_rows_after_the_end(rows: list[Any], where: str) -> None:
    if rows:
        raise IncompleteListingError(
            f"a page shorter than its limit was followed by {len(rows)} more rows after "
            f"{where} (a page cut short)")


def _cursor_of(row: Any) -> str | None:
    return row.get("cursor") or None if isinstance(row, dict) else None


def _identity(row: Any) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def without_repeats(pages: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """`pages` without the rows an overlapping offset page read again (identical rows)."""
    seen: set[bytes] = set()
    for page in pages:
        fresh = []
        for row in page:
            digest = hashlib.blake2b(_identity(row).encode(), digest_size=16).digest()
            if digest not in seen:
                seen.add(digest)
                fresh.append(row)
        yield fresh
