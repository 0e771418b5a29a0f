"""Business hours: the part of the week an account's SLA clock runs (the `*Sla` report figures).

The schedule is the one format the connector's config and the analyst layer take:

    {"timezone": "Europe/Bratislava",                  # optional; default: the account's zone
     "hours": {"mon": ["08:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"]},
     "holidays": ["2025-12-24"],                       # schedule-local dates, closed all day
     "departments": {"<department id>": {"hours": {...}}}}   # keys left out come from the top

A day missing from `hours` is closed; `hours` missing altogether means open all day, every day
(holidays still close their days). No schedule at all is calendar time.

An interval "HH:MM-HH:MM" on local date d is [local(d, start), local(d, end)) in the schedule's
zone, "24:00" being the next day's midnight. A wall time that a DST jump skips is read with
fold=0 (the offset before the jump), as Postgres reads it, so an interval holding the jump is
shorter (00:00-06:00 lasts 5 hours the day clocks go forward) and one holding the repeated hour
is longer. Business seconds between a and b are the length of [a, b) inside the union of the
open intervals.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate, pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHEDULE_KEYS = ("timezone", "hours", "holidays")
DAY_MINUTES = 24 * 60
WHOLE_DAY = ((0, DAY_MINUTES),)
_INTERVAL = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# a timeline covers whole local days; instants this many days inside its ends are exact (the
# intervals of a day may stray past its midnights where a DST jump sits at midnight)
_MARGIN_DAYS = 2
# how far a timeline reaches beyond the instants first asked for: a report over months of
# conversations builds it once
_GROWTH_DAYS = 400

Interval = tuple[int, int]  # minutes after local midnight: [start, end)


@dataclass(frozen=True)
class _Timeline:
    """The open intervals of local days [first, last] as disjoint sorted UTC intervals, with
    the open seconds before each, exact for instants in [valid_from, valid_to]."""

    first: date
    last: date
    valid_from: int
    valid_to: int
    starts: list[int]
    ends: list[int]
    open_before: list[int]  # open seconds in the intervals before this one

    def open_seconds_before(self, ts: int) -> int:
        position = bisect.bisect_right(self.starts, ts) - 1
        if position < 0:
            return 0
        inside = min(ts, self.ends[position]) - self.starts[position]
        return self.open_before[position] + inside


class Schedule:
    """Weekly open hours and holidays in one time zone."""

    def __init__(self, zone_name: str, week: tuple[tuple[Interval, ...], ...] | None,
                 holidays: frozenset[date]) -> None:
        self.zone_name = zone_name
        self.zone = ZoneInfo(zone_name)
        self.week = week  # per weekday, Monday first; None = open all day, every day
        self.holidays = holidays
        self._timeline: _Timeline | None = None

    @property
    def is_calendar_time(self) -> bool:
        """No hours and no holidays: business seconds are plain seconds."""
        return self.week is None and not self.holidays

    def day_intervals(self, day: date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        return WHOLE_DAY if self.week is None else self.week[day.weekday()]

    def seconds(self, start: int, end: int) -> int:
        """Business seconds in [start, end); negative (the same, reversed) when end < start."""
        if self.is_calendar_time:
            return end - start
        timeline = self._covering(min(start, end), max(start, end))
        return timeline.open_seconds_before(end) - timeline.open_seconds_before(start)

    # -- the timeline, built lazily and grown when an instant falls outside it --------------
    def _local_date(self, ts: int) -> date:
        return datetime.fromtimestamp(ts, self.zone).date()

    def _midnight(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp())

    def _instant(self, day: date, minutes: int) -> int:
        """Epoch seconds of the wall time `minutes` after midnight on `day` (fold=0)."""
        if minutes == DAY_MINUTES:
            return self._midnight(day + timedelta(days=1))
        hour, minute = divmod(minutes, 60)
        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        return int(wall.timestamp())

    def _covering(self, low: int, high: int) -> _Timeline:
        timeline = self._timeline
        if timeline is not None and timeline.valid_from <= low and high <= timeline.valid_to:
            return timeline
        # grown by at least its own length each time: rebuilds stay few however far a caller
        # reaches, and the days already covered stay covered
        reach = _GROWTH_DAYS if timeline is None else \
            max(_GROWTH_DAYS, (timeline.last - timeline.first).days)
        first = self._local_date(low) - timedelta(days=_MARGIN_DAYS + reach)
        last = self._local_date(high) + timedelta(days=_MARGIN_DAYS + reach)
        if timeline is not None:
            first, last = min(first, timeline.first), max(last, timeline.last)
        timeline = self._timeline = self._build(first, last)
        return timeline

    def _build(self, first: date, last: date) -> _Timeline:
        pieces: list[Interval] = []
        day = first
        while day <= last:
            for start, end in self.day_intervals(day):
                low, high = self._instant(day, start), self._instant(day, end)
                if high > low:  # an interval inside a skipped hour has no length
                    pieces.append((low, high))
            day += timedelta(days=1)
        pieces.sort()
        starts: list[int] = []
        ends: list[int] = []
        for low, high in pieces:  # merged: an instant is open once however many cover it
            if ends and low <= ends[-1]:
                ends[-1] = max(ends[-1], high)
            else:
                starts.append(low)
                ends.append(high)
        lengths = (high - low for low, high in zip(starts, ends, strict=True))
        open_before = [0, *accumulate(lengths)][:-1]
        return _Timeline(first, last, self._midnight(first + timedelta(days=_MARGIN_DAYS)),
                         self._midnight(last + timedelta(days=1 - _MARGIN_DAYS)),
                         starts, ends, open_before)


class BusinessHours:
    """An account's validated schedule: the top-level one and per-department overrides."""

    def __init__(self, schedule: Mapping[str, object] | None = None,
                 timezone: str = "GMT") -> None:
        top = _mapping(schedule or {}, "business_hours")
        _known_keys(top, (*SCHEDULE_KEYS, "departments"), "business_hours")
        _zone(timezone, "the account time zone")
        inherited: dict[str, object] = {"timezone": timezone}
        inherited.update({key: top[key] for key in SCHEDULE_KEYS if key in top})
        self.default = _schedule(inherited, "business_hours")
        self.departments: dict[str, Schedule] = {}
        departments = _mapping(top.get("departments", {}), "business_hours.departments")
        for department_id, override in departments.items():
            where = f"business_hours.departments.{department_id}"
            override = _mapping(override, where)
            _known_keys(override, SCHEDULE_KEYS, where)
            self.departments[str(department_id)] = _schedule({**inherited, **override}, where)

    def schedule_for(self, department_id: str | None) -> Schedule:
        """The department's own schedule where it has one, else the top-level one."""
        if department_id is None:
            return self.default
        return self.departments.get(department_id, self.default)

    def seconds(self, start: int, end: int, department_id: str | None = None) -> int:
        """Business seconds in [start, end) (epoch seconds) for a conversation of the
        department; negative when end < start."""
        return self.schedule_for(department_id).seconds(start, end)


# -- validation -----------------------------------------------------------------------------------
def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _known_keys(value: Mapping[str, object], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(allowed)})")


def _zone(name: object, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: a time zone name is a non-empty string, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}: unknown time zone {name!r}") from None
    return name


def _schedule(spec: Mapping[str, object], where: str) -> Schedule:
    zone = _zone(spec["timezone"], f"{where}.timezone")
    week = None if "hours" not in spec else _week(spec["hours"], f"{where}.hours")
    holidays = _holidays(spec.get("holidays", []), f"{where}.holidays")
    return Schedule(zone, week, holidays)


def _week(hours: object, where: str) -> tuple[tuple[Interval, ...], ...]:
    days = _mapping(hours, where)
    unknown = sorted(str(day) for day in days if day not in WEEKDAYS)
    if unknown:
        raise ValueError(f"{where}: unknown day name(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(WEEKDAYS)})")
    return tuple(_day(days.get(day, []), f"{where}.{day}") for day in WEEKDAYS)


def _day(intervals: object, where: str) -> tuple[Interval, ...]:
    if not isinstance(intervals, list):
        raise ValueError(f"{where}: expected a list of \"HH:MM-HH:MM\", got {intervals!r}")
    parsed = sorted(_interval(text, f"{where}[{n}]") for n, text in enumerate(intervals))
    for (_, end), (start, _) in pairwise(parsed):
        if start < end:
            raise ValueError(f"{where}: intervals overlap ({_clock(start)} is before "
                             f"{_clock(end)})")
    return tuple(parsed)


def _interval(text: object, where: str) -> Interval:
    found = _INTERVAL.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"{where}: {text!r} is not \"HH:MM-HH:MM\"")
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > DAY_MINUTES:
        raise ValueError(f"{where}: {text!r} is not a time of day (00:00 to 24:00)")
    if start >= end:
        raise ValueError(f"{where}: {text!r} starts at or after its end")
    return start, end


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _holidays(days: object, where: str) -> frozenset[date]:
    if not isinstance(days, list):
        raise ValueError(f"{where}: expected a list of \"YYYY-MM-DD\", got {days!r}")
    found = set()
    for n, text in enumerate(days):
        try:
            if not isinstance(text, str) or not _DATE.fullmatch(text):
                raise ValueError
            found.add(date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{where}[{n}]: {text!r} is not a date \"YYYY-MM-DD\"") from None
    return frozenset(found)
