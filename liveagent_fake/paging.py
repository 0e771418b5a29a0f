"""Paging styles of the API, declared once and reused by every endpoint that pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import params as p

T = TypeVar("T")


@dataclass(frozen=True)
class OffsetPaging:
    """`limit`+`offset` (knowledge base) or `limitcount`+`limitfrom` (reports)."""

    limit_param: str
    offset_param: str
    default: int
    maximum: int

    def window(self, params: Mapping[str, str]) -> tuple[int, int]:
        limit = p.integer(params, self.limit_param, self.default, self.maximum, minimum=1)
        offset = p.integer(params, self.offset_param, 0)
        return offset, limit

    def page(self, params: Mapping[str, str], rows: Sequence[T]) -> list[T]:
        offset, limit = self.window(params)
        return list(rows[offset:offset + limit])


KNOWLEDGEBASES = OffsetPaging("limit", "offset", default=10, maximum=500)
KB_ENTRIES = OffsetPaging("limit", "offset", default=50, maximum=500)
KB_ARTICLES = OffsetPaging("limit", "offset", default=10, maximum=500)
REPORTS = OffsetPaging("limitcount", "limitfrom", default=100, maximum=1000)


@dataclass(frozen=True)
class CursorWindow:
    cursor: str | None  # the rows start after the row that carried this cursor
    offset: int  # then this many matching rows are skipped
    limit: int


@dataclass(frozen=True)
class CursorPaging:
    """GET /conversations: `limit` rows after the row whose `cursor` is given.

    `offset` is undocumented, but every public client pages with `limit` + `offset`: it skips
    that many matching rows, in the same internal order the cursor follows. Given together,
    the cursor applies first and the offset skips within what follows it.
    """

    default: int = 100
    maximum: int = 1000

    def limit(self, params: Mapping[str, str]) -> int:
        return p.integer(params, "limit", self.default, self.maximum, minimum=1)

    def window(self, params: Mapping[str, str]) -> CursorWindow:
        return CursorWindow(p.optional(params, "cursor"), p.integer(params, "offset", 0),
                            self.limit(params))


CONVERSATIONS = CursorPaging()
