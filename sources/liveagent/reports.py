"""Report resources: one request window per account-local day.

Each report resource remembers in its state the last closed (fully past) day it loaded. A run
reads from the day after it up to today; the first run of each day also reads the
`lookback_days` closed days before, which LiveAgent may still revise. Keys include the day, so
re-reading a day replaces its rows instead of adding to them. A run with an explicit end date
(a backfill) reads exactly the asked days and leaves the state alone.
"""

from __future__ import annotations

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
LOOKBACK_KEY = "lookback_read_on"


def report_days(
    state: dict[str, Any], start: date, end: date | None, today: date, lookback_days: int
) -> list[date]:
    """The account-local days a run reads (see the module docstring). The closed days of the
    lookback are read again once per day, by the day's first run; later runs read today."""
    if end is not None:
        return days(start, end)
    first = start
    if STATE_KEY in state:
        after_last = date.fromisoformat(state[STATE_KEY]) + timedelta(days=1)
        revisit = state.get(LOOKBACK_KEY) != today.isoformat()
        first = max(start, after_last - timedelta(days=lookback_days if revisit else 0))
    return days(first, today)


def report_resource(
    report: Report, client: LiveAgentClient, time: AccountTime, start: date, end: date | None,
    lookback_days: int, group_by: str,
) -> DltResource:
    table = report.table

    @dlt.resource(name=table.name, primary_key=table.primary_key, write_disposition="merge",
                  columns=column_hints(table))
    def report_windows() -> Iterator[list[Row]]:
        state = dlt.current.resource_state()
        last = client.account_today(time) if end is None else end
        for day in report_days(state, start, end, last, lookback_days):
            yield list(fetch_day(client, report, time, day, group_by))
        if end is None:
            state[STATE_KEY] = (last - timedelta(days=1)).isoformat()
            state[LOOKBACK_KEY] = last.isoformat()

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
    return [report_resource(report, client, time, start, end, lookback_days, group_by)
            for report in REPORTS]
