"""Report resources: one request window per account-local day, newest days first.

Each report resource remembers in its state the last closed (fully past) day it loaded. A run
reads from the day after it up to today; the first run of each day also reads the
`lookback_days` closed days before, which LiveAgent may still revise. Keys include the day, so
re-reading a day replaces its rows instead of adding to them.

The first load reads the last `priority_days` days only; every later load also reads up to
`HISTORY_DAYS_PER_LOAD` older days, newest first (`history_before` in the state), down to the
start date or, without one, to the day of the account's oldest conversation (once the
conversations' history listing has seen it; until then `DEFAULT_REPORT_HISTORY_DAYS` back): no
requests for days before the account's data. A run with an explicit end date (a backfill)
reads exactly the asked days and leaves the state alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import dlt
from dlt.extract import DltResource

from .backfill import Backfill
from .exceptions import ConfigurationError
from .paginators import AnchoredOffsetPaginator, without_repeats
from .reading import Reading
from .rejections import for_table, unit
from .settings import DEFAULT_REPORT_HISTORY_DAYS, REPORT_PAGE_SIZE, REPORTS, Report
from .transforms import Rejected, Row, column_hints, days, report_rows

STATE_KEY = "last_closed_day"
LOOKBACK_KEY = "lookback_read_on"
HISTORY_KEY = "history_before"
HISTORY_DAYS_PER_LOAD = 14  # 126 requests of the nine reports


def history_days(state: dict[str, Any], lower: date) -> list[date]:
    """The older days this load reads, newest first (and moves `history_before` past them)."""
    before = state.get(HISTORY_KEY)
    if before is None or date.fromisoformat(before) <= lower:
        state.pop(HISTORY_KEY, None)
        return []
    first = max(lower, date.fromisoformat(before) - timedelta(days=HISTORY_DAYS_PER_LOAD))
    state[HISTORY_KEY] = first.isoformat()
    return list(reversed(days(first, date.fromisoformat(before) - timedelta(days=1))))


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
    group_by: str, priority_days: int,
) -> DltResource:
    table = report.table

    @dlt.resource(name=table.name, primary_key=table.primary_key, write_disposition="merge",
                  columns=column_hints(table))
    def report_windows() -> Iterator[Any]:
        state = dlt.current.resource_state()
        today = reading.client.account_today(reading.time)
        lower = report_floor(start, today)
        if lower > today:
            raise ConfigurationError(
                f"the start date {lower} (sources.liveagent.start_date or --start-date) is "
                f"after the account's today ({today}): no report day to read")
        if end is not None:  # a backfill of past days: state stays as it is
            chosen = days(lower, min(end, today))  # no days of the account's future
        else:
            if STATE_KEY not in state:  # the first load: the newest days, history later
                recent = max(lower, today - timedelta(days=priority_days))
                state[HISTORY_KEY] = recent.isoformat()
                chosen = list(reversed(days(recent, today)))
            else:
                chosen = list(reversed(report_days(state, lower, None, today, lookback_days)))
                chosen += history_days(state, lower)
            state[STATE_KEY] = (today - timedelta(days=1)).isoformat()
            state[LOOKBACK_KEY] = today.isoformat()
        reading.client.metrics.plan("reports", len(chosen))  # a request a day at least
        for day in chosen:
            rows, rejected = fetch_day(reading, report, day, group_by)
            settled = reading.rejections().settle(unit(table.name, day.isoformat()), rejected)
            if settled:
                yield for_table(settled)
            yield rows

    return report_windows()


def report_floor(start: date | None, today: date) -> date:
    """The oldest day reports go back to: the start date, else the day of the account's oldest
    conversation when known, else `DEFAULT_REPORT_HISTORY_DAYS` back."""
    if start is not None:
        return start
    default = today - timedelta(days=DEFAULT_REPORT_HISTORY_DAYS)
    earliest = Backfill.of(dlt.current.source_state()).earliest_created
    if earliest is None:
        return default
    return max(default, datetime.fromisoformat(earliest).date())


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
    priority_days: int,
) -> list[DltResource]:
    return [report_resource(report, reading, start, end, lookback_days, group_by, priority_days)
            for report in REPORTS]
