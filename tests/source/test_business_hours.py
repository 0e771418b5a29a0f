"""The business-hours setting: what the connector checks and passes on to the analyst layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from sources.liveagent.business_hours import checked_business_hours
from sources.liveagent.exceptions import ConfigurationError

CONFIG = Path(__file__).parents[2] / ".dlt" / "config.toml"


def commented_example() -> dict:
    """The business_hours example of .dlt/config.toml, uncommented, as TOML reads it."""
    text = CONFIG.read_text()
    block = text[text.index("# [sources.liveagent.business_hours]"):text.index("[destination")]
    lines = [line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")]
    return tomlkit.loads("\n".join(lines).replace("<department id>", "d1")).unwrap()


def test_the_documented_example_is_a_valid_schedule() -> None:
    schedule = commented_example()["sources"]["liveagent"]["business_hours"]
    checked = checked_business_hours(schedule, "GMT")
    assert checked is not None
    assert checked["timezone"] == "Europe/Bratislava" and len(checked["holidays"]) == 3
    assert checked["hours"]["mon"] == ["08:00-12:00", "13:00-17:00"]
    assert checked["departments"]["d1"]["timezone"] == "Australia/Sydney"
    assert "holidays" not in checked["departments"]["d1"]  # taken from the top level


def test_the_zone_defaults_to_the_account_s_and_no_schedule_is_none() -> None:
    assert checked_business_hours({"hours": {"MON": [" 08:00 - 17:00 "]}}, "Asia/Tokyo") == {
        "timezone": "Asia/Tokyo", "hours": {"mon": ["08:00-17:00"]}, "departments": {}}
    assert checked_business_hours(None, "GMT") is None and checked_business_hours({}, "GMT") is None


@pytest.mark.parametrize(("schedule", "message"), [
    ({"hours": {"mon": ["08:00-12:00", "11:00-17:00"]}}, "hours.mon: intervals overlap"),
    ({"hours": {"mon": "08:00-17:00"}}, "hours.mon must be a list"),
    ({"hours": {"mon": ["8-17"]}}, "'8-17' is not an interval"),
    ({"hours": {"mon": ["08:61-17:00"]}}, "must open before it closes"),
    ({"hours": {"mon": ["00:00-24:01"]}}, "must open before it closes"),
    ({"holiday": ["2025-12-24"]}, "unknown key 'holiday'"),
    ({"departments": ["d1"]}, "departments must be a table"),
    ({"departments": {"d1": {"hours": {"fri": ["09:00-18:00"]}, "zone": "GMT"}}},
     "departments.d1: unknown key 'zone'"),
    ({"timezone": "Europe/Atlantis"}, "timezone: unknown time zone 'Europe/Atlantis'"),
])
def test_a_malformed_schedule_names_the_setting_and_the_value(schedule: dict, message: str
                                                              ) -> None:
    with pytest.raises(ConfigurationError) as raised:
        checked_business_hours(schedule, "GMT")
    assert message in str(raised.value)
    assert str(raised.value).startswith("sources.liveagent.business_hours")
