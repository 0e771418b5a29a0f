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

from .exceptions import ConfigurationError
from .paginators import AnchoredOffsetPaginator, without_repeats
from .reading import Reading
from .rejections import for_table, unit
from .settings import DEFAULT_REPORT_HISTORY_DAYS, REPORT_PAGE_SIZE, REPORTS, Report
from .transforms import Rejected, Row, column_hints, days, report_rows

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
    report: Report, reading: Reading, start: date | None, end: date | None, lookback_days: int,
    group_by: str,
) -> DltResource:
    table = report.table

    @dlt.resource(name=table.name, primary_key=table.primary_key, write_disposition="merge",
                  columns=column_hints(table))
    def report_windows() -> Iterator[Any]:
        state = dlt.current.resource_state()
        today = reading.client.account_today(reading.time)
        until = None if end is None else min(end, today)  # no days of the account's future
        last = today if until is None else until
        # without a start date, the history counts back from the account's today
        first = start or today - timedelta(days=DEFAULT_REPORT_HISTORY_DAYS)
        if first > today:
            raise ConfigurationError(
                f"the start date {first} (sources.liveagent.start_date or --start-date) is "
                f"after the account's today ({today}): no report day to read")
        for day in report_days(state, first, until, last, lookback_days):
            rows, rejected = fetch_day(reading, report, day, group_by)
            settled = reading.rejections().settle(unit(table.name, day.isoformat()), rejected)
            if settled:
                yield for_table(settled)
            yield rows
        if end is None:
            state[STATE_KEY] = (last - timedelta(days=1)).isoformat()
            state[LOOKBACK_KEY] = last.isoformat()

    return report_windows()


def fetch_day(reading: Reading, report: Report, day: date, group_by: str
              ) -> tuple[list[Row], list[Rejected]]:
    """One day of a report: its rows, and the ones that cannot be loaded."""
    params: dict[str, Any] = {"date_from": day.isoformat(), "date_to": day.isoformat()}
    if report.endpoint == "performance":
        params["group_by"] = group_by
    paginator = AnchoredOffsetPaginator(REPORT_PAGE_SIZE, "limitfrom", "limitcount")
    pages = reading.client.paginate(f"reports/{report.endpoint}", report.data_key, paginator,
                                    params)
    return report_rows(report, [row for page in without_repeats(pages) for row in page], day,
                       reading.time, reading.contracts.check(report.table))


def report_resources(
    reading: Reading, start: date | None, end: date | None, lookback_days: int, group_by: str,
) -> list[DltResource]:
    return [report_resource(report, reading, start, end, lookback_days, group_by)
            for report in REPORTS]
