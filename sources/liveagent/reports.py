"""Report resources: one request window per account-local day, newest days first.

Each report resource remembers in its state the last closed (fully past) day it loaded. A run
reads from the day after it up to today; the first run of each day also reads the
`lookback_days` closed days before, which LiveAgent may still revise. Keys include the day, so
re-reading a day replaces its rows instead of adding to them.

The first load reads the last `priority_days` days only; every later load also reads up to
`HISTORY_DAYS_PER_LOAD` older days (fewer when its time budget is short), newest first, down
to the floor: the start date or, without one, the day of the account's oldest conversation
(once the conversations' history listing has seen it; until then `DEFAULT_REPORT_HISTORY_DAYS`
back): no requests for days before the account's data. `ReportHistory` reads where that
stands; a floor found lower later (an older conversation) opens the days above it again. A run
with an explicit end date (a backfill) reads exactly the asked days and leaves the state alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import dlt
from dlt.extract import DltResource

from .backfill import Backfill
from .details import digest
from .exceptions import ConfigurationError
from .isolation import fails_alone
from .paginators import AnchoredOffsetPaginator, without_repeats
from .privacy import Privacy
from .reading import Reading
from .rejections import for_table, unit
from .settings import DEFAULT_REPORT_HISTORY_DAYS, REPORT_PAGE_SIZE, REPORTS, Report
from .timebox import report_days_in
from .transforms import Rejected, Row, column_hints, days, report_rows

STATE_KEY = "last_closed_day"
LOOKBACK_KEY = "lookback_read_on"
HISTORY_KEY = "history_before"  # the oldest day loaded: the days before it are not
FLOOR_KEY = "history_floor"  # the oldest day history goes down to, as the last load knew it
HISTORY_DAYS_PER_LOAD = 14  # 126 requests of the nine reports


@dataclass(frozen=True)
class ReportHistory:
    """Where one report's history stands, from its resource state: the days from `loaded_from`
    on are loaded, history goes down to `floor`."""

    loaded_from: date | None  # None: loaded before the floor was kept, when history was done
    floor: date | None

    @classmethod
    def of(cls, resource_state: Mapping[str, Any]) -> ReportHistory | None:
        """None for a report never loaded."""
        if STATE_KEY not in resource_state:
            return None
        return cls(_day(resource_state.get(HISTORY_KEY)), _day(resource_state.get(FLOOR_KEY)))

    @property
    def days_left(self) -> int:
        if self.loaded_from is None or self.floor is None:
            return 0
        return max(0, (self.loaded_from - self.floor).days)

    @property
    def complete(self) -> bool:
        return self.days_left == 0


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def history_days(state: dict[str, Any], lower: date, at_most: int) -> list[date]:
    """The older days this load reads, newest first, at most `at_most` (and moves
    `history_before` past them); notes `lower` as the floor."""
    state[FLOOR_KEY] = lower.isoformat()
    before = state.setdefault(HISTORY_KEY, lower.isoformat())  # kept before floors: done
    if date.fromisoformat(before) <= lower or at_most <= 0:
        return []
    first = max(lower, date.fromisoformat(before) - timedelta(days=at_most))
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


@dataclass(frozen=True)
class ReportPlan:
    """What the report resources of one load read."""

    start: date | None  # the start date (history goes down to it); None: see `report_floor`
    end: date | None  # an end date: a backfill of past days that leaves the state alone
    lookback_days: int
    group_by: str  # the performance report's buckets
    priority_days: int  # the first load reads this many days back
    history_days: int = HISTORY_DAYS_PER_LOAD  # older days one load reads at most
    history_only: bool = False  # a later load of a run: history only, today is read already
    privacy: Privacy = field(default_factory=Privacy)  # its excluded columns are not asked for


def report_history_days(time_budget: float | None, requests_per_second: float) -> int:
    """Older days one load of the reports reads: `HISTORY_DAYS_PER_LOAD`, or what a quarter
    of a time-boxed load's requests pay for (timebox.py), so that most of a short box goes to
    the conversations."""
    if time_budget is None:
        return HISTORY_DAYS_PER_LOAD
    return min(HISTORY_DAYS_PER_LOAD, report_days_in(time_budget, requests_per_second))


def report_resource(report: Report, reading: Reading, plan: ReportPlan) -> DltResource:
    table = report.table
    start, end = plan.start, plan.end

    @dlt.resource(name=table.name, primary_key=table.primary_key, write_disposition="merge",
                  columns=column_hints(table))
    @fails_alone  # a failed report's state, set below before its days are read, goes back
    def report_windows(reading: Reading) -> Iterator[Any]:
        state = dlt.current.resource_state()
        today = reading.client.account_today(reading.time)
        lower = report_floor(start, today)
        if lower > today:
            raise ConfigurationError(
                f"the start date {lower} (sources.liveagent.start_date or --start-date) is "
                f"after the account's today ({today}): no report day to read")
        if end is not None:  # a backfill of past days: state stays as it is
            chosen = days(lower, min(end, today))  # no days of the account's future
        elif STATE_KEY not in state:  # the first load: the newest days, history later
            recent = max(lower, today - timedelta(days=plan.priority_days))
            state[HISTORY_KEY], state[FLOOR_KEY] = recent.isoformat(), lower.isoformat()
            chosen = list(reversed(days(recent, today)))
        else:
            chosen = [] if plan.history_only else list(reversed(
                report_days(state, lower, None, today, plan.lookback_days)))
            chosen += history_days(state, lower, plan.history_days)
        if end is None and not plan.history_only:
            state[STATE_KEY] = (today - timedelta(days=1)).isoformat()
            state[LOOKBACK_KEY] = today.isoformat()
        if end is None and not plan.history_only:
            chosen += rejected_days(reading, table.name, chosen, today)
        read_again = ReadAgain(state, today - timedelta(days=plan.lookback_days + 1)) \
            if end is None else None
        reading.client.metrics.plan("reports", len(chosen))  # a request a day at least
        for day in chosen:
            rows, rejected = fetch_day(reading, report, day, plan.group_by,
                                       plan.privacy.requested_columns(table.name))
            settled = reading.rejections().settle(unit(table.name, day.isoformat()), rejected)
            if settled:
                yield for_table(settled)
            if read_again is None or read_again.changed(day, rows):
                yield rows

    return report_windows(reading)


def rejected_days(reading: Reading, table: str, chosen: list[date], today: date) -> list[date]:
    """Days an earlier run rejected rows of and this load does not read anyway: read again by
    the first load of each run until they load, a request each, at most `rereads.per_run`
    (least recently read first)."""
    ids = reading.rejections().to_reread((table,), reading.rereads.per_run + len(chosen))
    found = [date.fromisoformat(ident) for ident in ids if _is_day(ident)]
    return [day for day in found if day not in chosen and day <= today][:reading.rereads.per_run]


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


class ReadAgain:
    """The days a report reads again (today, the lookback) are written only when their rows
    differ from those last loaded: a digest per day in the resource state, kept for the days
    from `oldest` on (older ones are not read again), committed with the load."""

    KEY = "day_digests"

    def __init__(self, state: dict[str, Any], oldest: date) -> None:
        self.oldest = oldest
        self.digests: dict[str, str] = {day: found for day, found in state.get(self.KEY, {})
                                        .items() if date.fromisoformat(day) >= oldest}
        state[self.KEY] = self.digests

    def changed(self, day: date, rows: list[Row]) -> bool:
        if day < self.oldest:
            return True  # a history day, read once
        found = digest({"rows": rows})
        if self.digests.get(day.isoformat()) == found:
            return False
        self.digests[day.isoformat()] = found
        return True


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


def fetch_day(reading: Reading, report: Report, day: date, group_by: str,
              columns: str | None = None) -> tuple[list[Row], list[Rejected]]:
    """One day of a report: its rows, and the ones that cannot be loaded (`columns`: the
    endpoint's `columns` parameter, when some are not to be asked for)."""
    params: dict[str, Any] = {"date_from": day.isoformat(), "date_to": day.isoformat()}
    if columns:
        params["columns"] = columns
    if report.endpoint == "performance":
        params["group_by"] = group_by
    paginator = AnchoredOffsetPaginator(REPORT_PAGE_SIZE, "limitfrom", "limitcount")
    pages = reading.client.paginate(f"reports/{report.endpoint}", report.data_key, paginator,
                                    params)
    return report_rows(report, [row for page in without_repeats(pages) for row in page], day,
                       reading.time, reading.contracts.check(report.table))


def report_resources(reading: Reading, plan: ReportPlan) -> list[DltResource]:
    return [report_resource(report, reading, plan) for report in REPORTS]
