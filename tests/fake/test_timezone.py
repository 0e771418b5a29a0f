"""Datetimes are stored in UTC and rendered (and parsed) in the account time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from liveagent_fake.server import FakeLiveAgent
from tests.support import NOW, Api, make_account

FMT = "%Y-%m-%d %H:%M:%S"


def utc(text: str, zone: str) -> datetime:
    return datetime.strptime(text, FMT).replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def listing(zone: str) -> list[dict]:
    with FakeLiveAgent(make_account(timezone=zone)) as fake:
        return Api(fake).all_conversations()


def test_same_instants_rendered_in_each_zone() -> None:
    gmt, bratislava, new_york = listing("GMT"), listing("Europe/Bratislava"), \
        listing("America/New_York")
    assert [r["conversationid"] for r in gmt] == [r["conversationid"] for r in new_york]
    for a, b, c in zip(gmt, bratislava, new_york, strict=True):
        for column in ("datecreated", "datechanged"):
            assert a[column] != b[column] != c[column]
            assert utc(a[column], "GMT") == utc(b[column], "Europe/Bratislava") \
                == utc(c[column], "America/New_York")


def test_filters_are_read_in_the_account_zone() -> None:
    account = make_account(timezone="Asia/Kathmandu")  # +05:45, no DST
    with FakeLiveAgent(account) as fake:
        api = Api(fake)
        rows = api.all_conversations()
        pivot = sorted(r["datechanged"] for r in rows)[30]
        got = api.all_conversations(datechanged=f"gte:{pivot}")
        assert got == [r for r in rows if r["datechanged"] >= pivot]
        cut = int(utc(pivot, "Asia/Kathmandu").timestamp())
        assert len(got) == sum(1 for i in range(60) if account.record(i).changed >= cut)


def test_server_time_is_rendered_in_the_account_zone() -> None:
    with FakeLiveAgent(make_account(timezone="Europe/Bratislava")) as fake:
        status = Api(fake).get("/api/application/status")
    assert status["current_server_time"] == "2025-10-09 10:53:20"
    assert utc(status["current_server_time"], "Europe/Bratislava").timestamp() == NOW


def test_dst_change_renders_local_wall_time() -> None:
    account = make_account(timezone="Europe/Bratislava")
    winter = int(datetime(2025, 12, 1, 12, 0, tzinfo=timezone.utc).timestamp())
    summer = int(datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc).timestamp())
    assert account.time.render(winter) == "2025-12-01 13:00:00"
    assert account.time.render(summer) == "2025-07-01 14:00:00"
    assert account.time.parse("x", "2025-07-01 14:00:00") == summer
