"""The API's datetime format: 'YYYY-MM-DD HH:MM:SS' (or a bare date where allowed) in the
account time zone. The fake stores epoch seconds in UTC and converts only here."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .exceptions import BadRequest

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
OPERATORS = ("eq", "gt", "lt", "gte", "lte", "btw")


class AccountTime:
    """Renders and parses datetimes in one account time zone."""

    def __init__(self, timezone: str = "GMT") -> None:
        self.zone = ZoneInfo(timezone)
        self.name = timezone

    def render(self, ts: int | None) -> str | None:
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, self.zone).strftime(DATETIME_FORMAT)

    def render_date(self, ts: int) -> str:
        return datetime.fromtimestamp(ts, self.zone).strftime(DATE_FORMAT)

    def local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, self.zone)

    def timestamp(self, local: datetime) -> int:
        return int(local.replace(tzinfo=self.zone).timestamp())

    def parse(
        self, name: str, value: str, allow_date: bool = False, end_of_day: bool = False
    ) -> int:
        """Epoch seconds of `value`; a bare date is its first (with end_of_day: last) second."""
        value = value.strip()
        try:
            return self.timestamp(datetime.strptime(value, DATETIME_FORMAT))
        except ValueError:
            pass
        if allow_date:
            try:
                day = datetime.strptime(value, DATE_FORMAT)
            except ValueError:
                pass
            else:
                if end_of_day:
                    day += timedelta(days=1, seconds=-1)
                return self.timestamp(day)
        expected = "YYYY-MM-DD HH:MM:SS" + (" or YYYY-MM-DD" if allow_date else "")
        raise BadRequest(f"Invalid value of parameter '{name}': '{value}' (expected {expected})")

    def parse_op(self, name: str, value: str) -> tuple[str, int, int | None]:
        """An opdatetime: (operator, first, second); the second bound is only set for btw."""
        operator, sep, rest = value.partition(":")
        if not sep or operator not in OPERATORS:
            # no operator: the whole value is a datetime, compared with 'eq'
            return "eq", self.parse(name, value), None
        if operator == "btw":
            low, comma, high = rest.partition(",")
            if not comma:
                raise BadRequest(
                    f"Invalid value of parameter '{name}': '{value}' (btw needs 'from,to')"
                )
            return "btw", self.parse(name, low), self.parse(name, high)
        return operator, self.parse(name, rest), None


def op_matches(ts: int, op: tuple[str, int, int | None]) -> bool:
    operator, first, second = op
    if operator == "eq":
        return ts == first
    if operator == "gt":
        return ts > first
    if operator == "gte":
        return ts >= first
    if operator == "lt":
        return ts < first
    if operator == "lte":
        return ts <= first
    assert second is not None
    return first <= ts <= second
