"""Report resources: one request window per account-local day.

Each report resource remembers in its state the last closed (fully past) day it loaded. A run
reads from the day after it, minus `lookback_days` closed days that LiveAgent may still revise,
up to today; keys include the day, so re-reading a day replaces its rows instead of adding to
them. A run with an explicit end date (a backfill) reads exactly the asked days and leaves the
state alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dlt
from dlt.extract import DltResource

from .client import LiveAgentClient
from .paginators import ShortPageOffsetPaginator
from .settings import REPORT_PAGE_SIZE, REPORTS, Report
from .transforms import AccountTime, Row, column_hints, days, report_rows

STATE_KEY = "last_closed_day"


class AccountToday:
    """Today in the account, from the server's clock (the client's probe of
    /application/status), shared by every report: the machine's clock or zone may differ."""

    def __init__(self, client: LiveAgentClient, time: AccountTime) -> None:
        self._client, self._time = client, time
        self._lock = threading.Lock()
        self._today: date | None = None

    def __call__(self) -> date:
        with self._lock:
            if self._today is None:
                status = self._client.server_status()
                now = self._time.parse(status.get("current_server_time"))
                self._today = self._time.to_local_date(now) if now else self._time.today()
            return self._today


def report_days(
    state: dict[str, Any], start: date, end: date | None, today: date, lookback_days: int
) -> list[date]:
    """The account-local days a run reads (see the module docstring)."""
    if end is not None:
        return days(start, end)
    first = start
    if STATE_KEY in state:
        resume = date.fromisoformat(state[STATE_KEY]) + timedelta(days=1 - lookback_days)
        first = max(start, resume)
    return days(first, today)


def report_resource(
    report: Report, client: LiveAgentClient, time: AccountTime, today: AccountToday,
    start: date, end: date | None, lookback_days: int, group_by: str,
) -> DltResource:
    table = report.table

    @dlt.resource(name=table.name, primary_key=table.primary_key, write_disposition="merge",
                  columns=column_hints(table))
    def report_windows() -> Iterator[list[Row]]:
        state = dlt.current.resource_state()
        last = today() if end is None else end
        for day in report_days(state, start, end, last, lookback_days):
            yield list(fetch_day(client, report, time, day, group_by))
        if end is None:
            state[STATE_KEY] = (last - timedelta(days=1)).isoformat()

    return report_windows()


def fetch_day(
    client: LiveAgentClient, report: Report, time: AccountTime, day: date, group_by: str
) -> Iterator[Row]:
    params: dict[str, Any] = {"date_from": day.isoformat(), "date_to": day.isoformat()}
    if report.endpoint == "performance":
        params["group_by"] = group_by
    paginator = ShortPageOffsetPaginator(REPORT_PAGE_SIZE, "limitfrom", "limitcount")
    for page in client.paginate(f"reports/{report.endpoint}", report.data_key, paginator, params):
        yield from report_rows(report, page, day, time)


def report_resources(
    client: LiveAgentClient, time: AccountTime, start: date, end: date | None,
    lookback_days: int, group_by: str,
) -> list[DltResource]:
    today = AccountToday(client, time)
    return [report_resource(report, client, time, today, start, end, lookback_days, group_by)
            for report in REPORTS]
