"""Business hours: the schedule the analyst layer measures response and resolution times in
(`[sources.liveagent.business_hours]`). The connector only checks and passes it on: the dbt
project computes with it (var `business_hours`, macros/business_hours.sql).

    timezone = "Europe/Bratislava"           # default: the account's zone
    holidays = ["2025-12-24", "2025-12-25"]  # closed all day
    [sources.liveagent.business_hours.hours]
    mon = ["08:00-17:00"]                    # a day not listed is closed; "24:00" ends the day
    [sources.liveagent.business_hours.departments.<department id>]
    timezone = "Australia/Sydney"            # what a department sets replaces the top level's

No schedule (or no `hours`): open 24/7, so business time equals calendar time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from typing import Any

from .exceptions import ConfigurationError
from .transforms import AccountTime

SETTING = "sources.liveagent.business_hours"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_KEYS = ("timezone", "hours", "holidays")


def checked_business_hours(schedule: Mapping[str, Any] | None, account_zone: str
                           ) -> dict[str, Any] | None:
    """The schedule as the dbt project takes it, with its zone filled in (the account's by
    default); a malformed one is a ConfigurationError naming the setting and the value."""
    if not schedule:
        return None
    _known_keys(schedule, (*_KEYS, "departments"), SETTING)
    checked = _checked(schedule, SETTING, account_zone)
    departments = schedule.get("departments") or {}
    if not isinstance(departments, Mapping):
        raise ConfigurationError(f"{SETTING}.departments must be a table of department ids")
    checked["departments"] = {}
    for department_id, own in departments.items():
        where = f"{SETTING}.departments.{department_id}"
        if not isinstance(own, Mapping):
            raise ConfigurationError(f"{where} must be a table (timezone, hours, holidays)")
        _known_keys(own, _KEYS, where)
        checked["departments"][str(department_id)] = _checked(own, where, None)
    return checked


def _known_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table).difference(known))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key {unknown[0]!r} (known: "
                                 f"{', '.join(known)})")


def _checked(table: Mapping[str, Any], where: str, zone_default: str | None) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    zone = table.get("timezone") or zone_default
    if zone is not None:
        try:
            AccountTime(str(zone))
        except Exception:
            raise ConfigurationError(f"{where}.timezone: unknown time zone {zone!r} "
                                     "(an IANA name such as 'Europe/Bratislava')") from None
        checked["timezone"] = str(zone)
    if "hours" in table:
        checked["hours"] = _checked_hours(table["hours"], f"{where}.hours")
    if "holidays" in table:
        checked["holidays"] = _checked_holidays(table["holidays"], f"{where}.holidays")
    return checked


def _checked_hours(hours: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(hours, Mapping):
        raise ConfigurationError(f"{where} must be a table of days (mon ... sun)")
    checked: dict[str, list[str]] = {}
    for day, intervals in hours.items():
        if str(day).lower() not in DAYS:
            raise ConfigurationError(f"{where}: unknown day {day!r} (mon, tue, ... sun)")
        if isinstance(intervals, str) or not isinstance(intervals, (list, tuple)):
            raise ConfigurationError(f"{where}.{day} must be a list like [\"08:00-17:00\"]")
        spans = sorted(_seconds(str(text), f"{where}.{day}") for text in intervals)
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ConfigurationError(f"{where}.{day}: intervals overlap: {list(intervals)}")
        checked[str(day).lower()] = [str(text).replace(" ", "") for text in intervals]
    return checked


def _seconds(text: str, where: str) -> tuple[int, int]:
    match = _INTERVAL.fullmatch(text.replace(" ", ""))
    if match is None:
        raise ConfigurationError(f"{where}: {text!r} is not an interval like \"08:00-17:00\"")
    open_h, open_m, close_h, close_m = (int(part) for part in match.groups())
    start, end = open_h * 3600 + open_m * 60, close_h * 3600 + close_m * 60
    if open_m > 59 or close_m > 59 or not 0 <= start < end <= 86400:
        raise ConfigurationError(f"{where}: {text!r} must open before it closes, between "
                                 "00:00 and 24:00")
    return start, end


def _checked_holidays(holidays: Any, where: str) -> list[str]:
    if isinstance(holidays, str) or not isinstance(holidays, (list, tuple)):
        raise ConfigurationError(f"{where} must be a list of dates like [\"2025-12-24\"]")
    checked = []
    for day in holidays:
        try:
            checked.append(date.fromisoformat(str(day)).isoformat())
        except ValueError:
            raise ConfigurationError(f"{where}: {day!r} is not a date (YYYY-MM-DD)") from None
    return checked
