"""Business hours (liveagent_fake.business_hours): the schedule format, its checks, and business
seconds across DST changes, holidays and long spans."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from liveagent_fake.business_hours import BusinessHours
from tests.support import make_account, walked_business_seconds

BRATISLAVA = "Europe/Bratislava"
SYDNEY = "Australia/Sydney"
HOUR = 3600
WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(zone: str, day: str, clock: str = "00:00") -> int:
    """Epoch seconds of a wall time (one that exists, read unambiguously or fold=0)."""
    wall = datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=ZoneInfo(zone))
    return int(wall.timestamp())


def day_span(zone: str, day: str) -> tuple[int, int]:
    """The local day as [midnight, next midnight)."""
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return at(zone, day), at(zone, following)


# -- DST changes --------------------------------------------------------------------------------
def test_bratislava_autumn_change_repeats_an_hour() -> None:
    # 2025-10-26, a Sunday: at 03:00 CEST the clocks go back to 02:00 CET
    hours = BusinessHours({"hours": {"sun": ["00:00-06:00", "20:00-22:00"]}}, BRATISLAVA)
    low, high = day_span(BRATISLAVA, "2025-10-26")
    assert high - low == 25 * HOUR
    assert hours.seconds(low, high) == 7 * HOUR + 2 * HOUR
    # the repeated hour is open once on each pass: 01:30 CEST to 02:30 CET is 2 hours
    first_pass = at(BRATISLAVA, "2025-10-26", "01:30")
    assert hours.seconds(first_pass, first_pass + 2 * HOUR) == 2 * HOUR
    # an interval starting in the repeated hour starts at its first pass (fold=0)
    ambiguous = BusinessHours({"hours": {"sun": ["02:30-04:00"]}}, BRATISLAVA)
    assert ambiguous.seconds(low, high) == 2 * HOUR + 30 * 60
    # the week's other Sundays are 8 hours
    week_before = at(BRATISLAVA, "2025-10-19")
    assert hours.seconds(week_before, week_before + 7 * 24 * HOUR) == 8 * HOUR


def test_sydney_spring_change_skips_an_hour() -> None:
    # 2025-10-05, a Sunday: at 02:00 AEST the clocks jump to 03:00 AEDT
    hours = BusinessHours({"hours": {"sun": ["00:00-06:00"], "mon": ["00:00-06:00"]}}, SYDNEY)
    low, high = day_span(SYDNEY, "2025-10-05")
    assert high - low == 23 * HOUR
    assert hours.seconds(low, high) == 5 * HOUR  # 00:00-06:00 holds the jump
    monday = day_span(SYDNEY, "2025-10-06")
    assert hours.seconds(*monday) == 6 * HOUR
    # a bound inside the skipped hour reads with the offset before the jump (fold=0):
    # 02:30 is 03:30 AEDT, so 02:30-06:00 lasts 2.5 hours and 02:15-02:45 is 03:15-03:45
    skipped = BusinessHours({"hours": {"sun": ["02:30-06:00"]}}, SYDNEY)
    assert skipped.seconds(low, high) == 2 * HOUR + 30 * 60
    inside_jump = BusinessHours({"hours": {"sun": ["02:15-02:45"]}}, SYDNEY)
    assert inside_jump.seconds(low, high) == 30 * 60
    assert inside_jump.seconds(low, at(SYDNEY, "2025-10-05", "03:15")) == 0


@pytest.mark.parametrize(("zone", "day"), [(BRATISLAVA, "2025-10-26"), (BRATISLAVA, "2025-03-30"),
                                           (SYDNEY, "2025-10-05"), (SYDNEY, "2025-04-06")])
def test_open_all_week_is_calendar_time_on_dst_days(zone: str, day: str) -> None:
    every_day = {name: ["00:00-24:00"] for name in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                     "sun")}
    explicit = BusinessHours({"hours": every_day}, zone)
    unconfigured = BusinessHours(None, zone)
    low, high = day_span(zone, day)
    assert high - low != 24 * HOUR
    for start, end in ((low, high), (low - 5 * HOUR, high + 7 * HOUR + 13), (low + 1, low + 2),
                       (low - 3 * 86400 - 17, high + 9 * 86400 + 1)):
        assert explicit.seconds(start, end) == end - start
        assert unconfigured.seconds(start, end) == end - start


# -- holidays, long spans, departments ----------------------------------------------------------
def test_holidays_close_their_local_day() -> None:
    schedule = {"timezone": BRATISLAVA, "hours": {**WEEKDAYS_9_TO_5, "sat": ["00:00-24:00"]},
                "holidays": ["2025-12-24", "2025-12-27"]}
    hours = BusinessHours(schedule, "UTC")
    assert hours.seconds(*day_span(BRATISLAVA, "2025-12-23")) == 8 * HOUR
    assert hours.seconds(*day_span(BRATISLAVA, "2025-12-24")) == 0
    assert hours.seconds(*day_span(BRATISLAVA, "2025-12-27")) == 0  # a Saturday
    week = day_span(BRATISLAVA, "2025-12-22")[0], day_span(BRATISLAVA, "2025-12-28")[1]
    assert hours.seconds(*week) == 4 * 8 * HOUR
    # no hours but holidays: every other day is open all day
    days_off = BusinessHours({"holidays": ["2025-12-24"]}, BRATISLAVA)
    assert days_off.seconds(*week) == 6 * 24 * HOUR


def test_multi_week_spans_count_every_working_day() -> None:
    schedule = {"hours": WEEKDAYS_9_TO_5, "holidays": ["2025-10-28", "2025-11-17"]}
    hours = BusinessHours(schedule, BRATISLAVA)
    # Monday 2025-10-13 to Monday 2025-11-24: six weeks over the autumn change, two holidays
    low, high = at(BRATISLAVA, "2025-10-13"), at(BRATISLAVA, "2025-11-24")
    assert hours.seconds(low, high) == (6 * 5 - 2) * 8 * HOUR
    assert hours.seconds(high, low) == -hours.seconds(low, high)
    # mid-interval bounds count whole seconds
    start, end = at(BRATISLAVA, "2025-10-13", "16:59") + 59, at(BRATISLAVA, "2025-10-14", "09:00")
    assert hours.seconds(start, end + 1) == 2
    # no cap: ten years, queried once and again from both far ends
    decade = BusinessHours({"hours": WEEKDAYS_9_TO_5}, "UTC")
    first, last = date(2020, 1, 1), date(2030, 1, 1)
    weekdays = sum((first + timedelta(days=n)).weekday() < 5 for n in range((last - first).days))
    low, high = at("UTC", first.isoformat()), at("UTC", last.isoformat())
    assert decade.seconds(low, high) == weekdays * 8 * HOUR
    assert decade.seconds(low + 86400 * 3000, high) + decade.seconds(low, low + 86400 * 3000) \
        == weekdays * 8 * HOUR


def test_departments_override_what_they_name() -> None:
    schedule = {
        "hours": WEEKDAYS_9_TO_5, "holidays": ["2025-10-08"],
        "departments": {
            "sales": {"hours": {"wed": ["12:00-14:00"]}},  # zone and holidays inherited
            "night": {"timezone": SYDNEY, "holidays": []},  # hours inherited
        },
    }
    hours = BusinessHours(schedule, BRATISLAVA)
    wednesday = day_span(BRATISLAVA, "2025-10-08")
    tuesday = day_span(BRATISLAVA, "2025-10-07")
    assert hours.seconds(*tuesday) == 8 * HOUR
    assert hours.seconds(*tuesday, "unlisted") == 8 * HOUR
    assert hours.seconds(*wednesday) == 0
    assert hours.seconds(*wednesday, "sales") == 0  # the inherited holiday
    next_wednesday = day_span(BRATISLAVA, "2025-10-15")
    assert hours.seconds(*next_wednesday, "sales") == 2 * HOUR
    assert hours.seconds(*tuesday, "sales") == 0
    # Sydney's (AEDT) 09:00-17:00 is 00:00-08:00 in Bratislava (CEST); no holiday there
    low = at(BRATISLAVA, "2025-10-07", "23:00")
    assert hours.seconds(low, low + 5 * HOUR, "night") == 4 * HOUR
    assert hours.schedule_for("night").zone_name == SYDNEY
    assert hours.schedule_for(None) is hours.schedule_for("unlisted") is hours.default


def test_the_schedule_zone_defaults_to_the_account_zone() -> None:
    account = make_account(timezone=SYDNEY, business_hours={"hours": WEEKDAYS_9_TO_5})
    assert account.business_hours.default.zone_name == SYDNEY
    monday = day_span(SYDNEY, "2025-10-06")
    assert account.business_hours.seconds(*monday) == 8 * HOUR
    conv = account.record(0)
    assert account.business_seconds(conv, *monday) == 8 * HOUR
    assert make_account().business_hours.seconds(*monday) == 24 * HOUR


@pytest.mark.parametrize("zone", [BRATISLAVA, SYDNEY])
def test_random_spans_agree_with_a_walk_of_the_clock(zone: str) -> None:
    schedule = {
        "hours": {"mon": ["08:00-12:00", "13:00-17:30"], "tue": ["07:15-19:45"],
                  "wed": ["00:00-01:30", "22:00-24:00"], "fri": ["09:00-17:00"],
                  "sat": ["10:00-14:00"], "sun": ["00:00-06:00", "18:00-24:00"]},
        "holidays": ["2025-10-01", "2025-10-29"],
    }
    hours = BusinessHours(schedule, zone)
    rng = random.Random(20)
    origin = at(zone, "2025-09-25")  # both zones change their clocks within five weeks of it
    for _ in range(40):
        start = origin + rng.randrange(35 * 86400)
        end = start + rng.choice([rng.randrange(3600), rng.randrange(4 * 86400)])
        assert hours.seconds(start, end) == walked_business_seconds(schedule, zone, start, end)


# -- checks -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("schedule", "message"), [
    ({"hours": {"monday": ["08:00-17:00"]}}, "unknown day name(s) monday"),
    ({"hours": {"mon": ["8:00-17:00"]}}, "'8:00-17:00' is not \"HH:MM-HH:MM\""),
    ({"hours": {"mon": ["08:00 - 17:00"]}}, "is not \"HH:MM-HH:MM\""),
    ({"hours": {"mon": "08:00-17:00"}}, "business_hours.hours.mon: expected a list"),
    ({"hours": {"mon": ["08:00-24:30"]}}, "is not a time of day"),
    ({"hours": {"mon": ["24:00-24:00"]}}, "is not a time of day"),
    ({"hours": {"mon": ["08:60-17:00"]}}, "is not a time of day"),
    ({"hours": {"tue": ["17:00-08:00"]}}, "business_hours.hours.tue[0]: '17:00-08:00' starts at "
                                          "or after its end"),
    ({"hours": {"tue": ["08:00-08:00"]}}, "starts at or after its end"),
    ({"hours": {"wed": ["13:00-17:00", "08:00-13:30"]}}, "intervals overlap (13:00 is before "
                                                         "13:30)"),
    ({"holidays": ["2025-02-30"]}, "business_hours.holidays[0]: '2025-02-30' is not a date"),
    ({"holidays": ["20251224"]}, "is not a date"),
    ({"holidays": "2025-12-24"}, "expected a list"),
    ({"timezone": "Europe/Bratislavaa"}, "unknown time zone 'Europe/Bratislavaa'"),
    ({"timezone": ""}, "a time zone name is a non-empty string"),
    ({"departments": {"d1": {"timezone": "Mars/Olympus"}}},
     "business_hours.departments.d1.timezone: unknown time zone"),
    ({"departments": {"d1": {"hours": {"sun": ["09:00-10:00", "09:30-11:00"]}}}},
     "business_hours.departments.d1.hours.sun: intervals overlap"),
    ({"departments": {"d1": {"departments": {}}}}, "unknown key(s) departments"),
    ({"holiday": ["2025-12-24"]}, "unknown key(s) holiday"),
    ({"departments": ["d1"]}, "business_hours.departments: expected an object"),
])
def test_a_bad_schedule_is_refused_with_its_place(schedule: dict, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        BusinessHours(schedule, BRATISLAVA)
    assert message in str(refused.value)


def test_touching_intervals_and_midnight_ends_are_fine() -> None:
    hours = BusinessHours({"hours": {"mon": ["13:00-24:00", "08:00-13:00"],
                                     "tue": ["00:00-02:00"]}}, BRATISLAVA)
    monday = at(BRATISLAVA, "2025-10-06")
    assert hours.seconds(monday, monday + 2 * 86400) == 18 * HOUR
    assert hours.seconds(monday + 23 * HOUR, monday + 25 * HOUR) == 2 * HOUR
    with pytest.raises(ValueError, match="unknown time zone"):
        make_account(timezone=BRATISLAVA, business_hours={"timezone": "Nowhere/Else"})
