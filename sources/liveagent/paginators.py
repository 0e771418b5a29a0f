"""One paginator per paging style of the API."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator, OffsetPaginator
from requests import Request, Response

from .exceptions import RequestError


class CursorPaginator(BasePaginator):
    """GET /conversations: every row carries an opaque `cursor`; the next page starts after
    the last row's cursor. A page shorter than `limit` is the last one."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._cursor: str | None = None

    def init_request(self, request: Request) -> None:
        self._cursor = None
        params: dict[str, Any] = dict(request.params or {})  # type: ignore[arg-type]
        params.pop("cursor", None)
        request.params = {**params, "limit": self.limit}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        if not data or len(data) < self.limit:
            self._has_next_page = False
            return
        cursor = data[-1].get("cursor") if isinstance(data[-1], dict) else None
        if not cursor:
            raise RequestError(
                f"{type(self).__name__}: the last row of a full page has no 'cursor'; "
                "cannot page further without skipping rows"
            )
        self._cursor = cursor

    def update_request(self, request: Request) -> None:
        if self._cursor is not None:
            request.params = {**request.params, "cursor": self._cursor}  # type: ignore[dict-item]


class ShortPageOffsetPaginator(OffsetPaginator):
    """dlt's OffsetPaginator without the trailing empty-page request: the API sends no total,
    so a page shorter than `limit` ends the listing."""

    def __init__(self, limit: int, offset_param: str, limit_param: str) -> None:
        super().__init__(limit=limit, offset_param=offset_param, limit_param=limit_param,
                         total_path=None)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if data is None or len(data) < self.limit:
            self._has_next_page = False
