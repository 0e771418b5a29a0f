"""Report windows and time buckets in the account time zone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import params as p
from ..exceptions import BadRequest
from ..models import Account
from .columns import DEFAULT_SPAN, HOUR

Row = dict[str, "str | None"]
Params = Mapping[str, str]


@dataclass(frozen=True)
class Window:
    """Inclusive bounds in epoch seconds."""

    low: int
    high: int

    def __contains__(self, ts: object) -> bool:
        return isinstance(ts, int) and self.low <= ts <= self.high


def _checked(low: int, high: int) -> Window:
    if low > high:
        raise BadRequest("Invalid value of parameter 'date_from': it is after 'date_to'")
    return Window(low, high)


def _parse_from(account: Account, value: str) -> int:
    return account.time.parse("date_from", value, allow_date=True)


def _parse_to(account: Account, value: str) -> int:
    return account.time.parse("date_to", value, allow_date=True, end_of_day=True)


def required_window(account: Account, params: Params) -> Window:
    """The mandatory date_from/date_to pair."""
    raw_from, raw_to = p.required(params, "date_from"), p.required(params, "date_to")
    return _checked(_parse_from(account, raw_from), _parse_to(account, raw_to))


def optional_window(account: Account, params: Params) -> Window | None:
    """The optional pair, or None when both are absent; a missing end is now and a missing
    start DEFAULT_SPAN before the end."""
    raw_from, raw_to = p.optional(params, "date_from"), p.optional(params, "date_to")
    if raw_from is None and raw_to is None:
        return None
    high = _parse_to(account, raw_to) if raw_to is not None else account.clock.now()
    low = _parse_from(account, raw_from) if raw_from is not None else high - DEFAULT_SPAN
    return _checked(low, high)


def default_window(account: Account, params: Params) -> Window:
    now = account.clock.now()
    return optional_window(account, params) or Window(now - DEFAULT_SPAN, now)


def _midnight(account: Account, day: date) -> int:
    return account.time.timestamp(datetime(day.year, day.month, day.day))


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def compliance_window(account: Account, params: Params) -> Window:
    """slacompliance: the dates when given, else its `datetime` constraint (always checked)."""
    constraint = p.optional(params, "datetime") or "L30D"
    now = account.clock.now()
    this_month = account.time.local(now).date().replace(day=1)
    if constraint == "L30D":
        preset = Window(now - DEFAULT_SPAN, now)
    elif constraint == "TM":
        preset = Window(_midnight(account, this_month), now)
    elif constraint == "LM":
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        preset = Window(_midnight(account, last_month), _midnight(account, this_month) - 1)
    elif re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", constraint):
        month = date(int(constraint[:4]), int(constraint[5:]), 1)
        preset = Window(_midnight(account, month), _midnight(account, _month_after(month)) - 1)
    else:
        raise BadRequest(f"Invalid value of parameter 'datetime': '{constraint}' (allowed: "
                         "L30D, TM, LM, YYYY-MM)")
    return optional_window(account, params) or preset


def hour_floor(account: Account, ts: int) -> int:
    local = account.time.local(ts)
    return ts - local.minute * 60 - local.second


def _period_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_period(day: date, unit: str) -> date:
    if unit == "month":
        return _month_after(day)
    return day + timedelta(days=7 if unit == "week" else 1)


def bucket_starts(account: Account, window: Window, unit: str) -> list[int]:
    """Starts of the account-local hours/days/weeks/months meeting the window; the first one
    is clipped to the window's start."""
    if unit == "hour":
        starts = list(range(hour_floor(account, window.low), window.high + 1, HOUR))
    else:
        starts = []
        day = _period_start(account.time.local(window.low).date(), unit)
        while (start := _midnight(account, day)) <= window.high:
            starts.append(start)
            day = _next_period(day, unit)
    starts[0] = max(starts[0], window.low)
    return starts
