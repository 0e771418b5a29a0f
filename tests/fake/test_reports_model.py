"""The report model, cross-checked against the conversations it is computed from (no HTTP)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from liveagent_fake import dataset as ds
from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.exceptions import BadRequest, NotFound
from liveagent_fake.models import Account
from liveagent_fake.reports import (
    AGENT_COLUMNS,
    CHANNEL_COLUMNS,
    DEPARTMENT_COLUMNS,
    PERFORMANCE_COLUMNS,
    REPORT_NAMES,
    SLA_LOG_COLUMNS,
    TAG_COLUMNS,
    report,
)
from tests import support

NOW = 1_760_000_000  # 2025-10-09 08:53:20 UTC, 10:53:20 in Europe/Bratislava (CEST)
TZ = "Europe/Bratislava"
ADDITIVE = ("answers", "chat_answers", "i_messages", "notes", "created_tickets",
            "resolved_tickets", "rewards", "punishments", "not_ranked")
# additive too, but not counted by message_counts
LATER_ADDITIVE = ("missed_chats", "missed_calls", "chat_pickup", "call_seconds")
KEYS = {"agents": "agents", "channels": "channels", "departments": "departments",
        "performance": "performance", "tags": "tags",
        "tickets/agentsavailability": "agentsavailability", "tickets/load": "loads",
        "tickets/slacompliance": "slacompliances", "tickets/slalog": "slalogs"}


def make_account() -> Account:
    return Account(DatasetConfig(conversations=300, days=20, end=NOW), clock=Clock(NOW),
                   timezone=TZ)


@pytest.fixture(scope="module")
def account() -> Account:
    """Read-only: tests that write build their own account."""
    return make_account()


def rows(account: Account, name: str, **params: str) -> list[dict]:
    response = report(account, name, params)
    assert list(response) == [KEYS[name]]
    return response[KEYS[name]]


def total(found: list[dict], column: str) -> int:
    return sum(int(row[column]) for row in found)


def local_days(account: Account) -> Iterator[str]:
    """Every account-local day that can hold generated activity."""
    day = account.time.local(account.start).date() - timedelta(days=1)
    while day <= account.time.local(NOW).date():
        yield day.isoformat()
        day += timedelta(days=1)


def whole_range(account: Account) -> dict[str, str]:
    days = list(local_days(account))
    return {"date_from": days[0], "date_to": days[-1]}


def conversations(account: Account) -> Iterator[ds.Conversation]:
    for index in range(account.conversation_count):
        yield account.record(index)


def message_counts(account: Account, convs: Iterator[ds.Conversation]) -> Counter:
    """The additive figures, counted straight from the message groups."""
    counts: Counter = Counter()
    for conv in convs:
        counts["created_tickets"] += 1
        for group in conv.groups:
            rated = any(m.rtype in "PW" for m in group.messages)
            if group.rtype == "R":
                counts["resolved_tickets"] += 1
                counts["not_ranked"] += not rated
            for m in group.messages:
                agent = account.is_agent(m.userid)
                if m.rtype == "M" and agent and group.rtype != "I":
                    counts["answers"] += 1
                    counts["chat_answers"] += conv.channel in ds.CHAT_CHANNELS
                elif m.rtype == "M" and not agent:
                    counts["i_messages"] += 1
                counts["notes"] += m.rtype == "N"
                counts["rewards"] += m.rtype == "P"
                counts["punishments"] += m.rtype == "W"
    return counts


# -- totals against the data --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["departments", "channels", "agents"])
def test_daily_windows_add_up_to_every_message(account: Account, name: str) -> None:
    expected = message_counts(account, conversations(account))
    assert expected["answers"] > 100 and expected["resolved_tickets"] > 20
    summed: Counter = Counter()
    for day in local_days(account):
        for row in rows(account, name, date_from=day, date_to=day):
            for column in ADDITIVE:
                if column in row:
                    summed[column] += int(row[column])
    if name == "agents":  # tickets count for their assigned agent, so unassigned ones drop out
        expected["created_tickets"] = sum(c.agent is not None for c in conversations(account))
        assert summed["created_tickets"] < account.conversation_count
    else:
        assert summed["created_tickets"] == account.conversation_count
    for column in ADDITIVE:
        if column in (AGENT_COLUMNS if name == "agents" else DEPARTMENT_COLUMNS):
            assert summed[column] == expected[column], column


def test_performance_buckets_add_up_to_every_message(account: Account) -> None:
    expected = message_counts(account, conversations(account))
    found = rows(account, "performance", group_by="day", **whole_range(account))
    assert len(found) == len(list(local_days(account)))
    for column in ADDITIVE:
        assert total(found, column) == expected[column], column


def test_tags_count_a_conversation_once_per_tag(account: Account) -> None:
    tagged = [c for c in conversations(account) for _ in c.tags]
    expected = message_counts(account, iter(tagged))
    found = rows(account, "tags", **whole_range(account))
    for column in ADDITIVE:
        assert total(found, column) == expected[column], column
    first_tag = rows(account, "tags", **whole_range(account))[0]
    index = next(n for n, t in enumerate(account.entities.tags) if t.id == first_tag["id"])
    assert int(first_tag["created_tickets"]) == sum(index in c.tags for c in conversations(account))


def test_multi_day_window_is_the_sum_of_its_days(account: Account) -> None:
    days = list(local_days(account))[8:13]
    for name in ("departments", "agents", "channels", "tags"):
        whole = {r["id"]: r for r in rows(account, name, date_from=days[0], date_to=days[-1])}
        parts = [rows(account, name, date_from=day, date_to=day) for day in days]
        for row_id, row in whole.items():
            for column in (*ADDITIVE, *LATER_ADDITIVE):
                if column in row:
                    summed = sum(int(r[column]) for part in parts for r in part
                                 if r["id"] == row_id)
                    assert int(row[column]) == summed, (name, row_id, column)


def test_ratings_partition_the_resolved_tickets(account: Account) -> None:
    for row in rows(account, "departments", **whole_range(account)):
        resolved = int(row["resolved_tickets"])
        assert resolved > 0
        parts = ("rewards", "punishments", "not_ranked")
        assert sum(int(row[part]) for part in parts) == resolved
        assert sum(float(row[f"{part}_p"]) for part in parts) == pytest.approx(100, abs=0.02)
        assert row["rewards_p"] == f"{100 * int(row['rewards']) / resolved:.2f}"


def test_first_answer_and_resolve_times(account: Account) -> None:
    day = "2025-10-02"
    window = (account.time.parse("d", day, allow_date=True),
              account.time.parse("d", day, allow_date=True, end_of_day=True))
    answer_delays, resolve_delays = [], []
    for conv in conversations(account):
        answered = account.first_answer_at(conv)
        if answered is not None and window[0] <= answered <= window[1]:
            answer_delays.append(answered - conv.created)
        resolves = [g.created for g in conv.groups if g.rtype == "R"]
        if resolves and window[0] <= min(resolves) <= window[1]:
            resolve_delays.append(min(resolves) - conv.created)
    assert answer_delays and resolve_delays
    (row,) = rows(account, "performance", date_from=day, date_to=day)
    assert int(row["newAnswerAvgTime"]) == sum(answer_delays) // len(answer_delays)
    assert int(row["firstResolveAvgTime"]) == sum(resolve_delays) // len(resolve_delays)


def test_agent_worktime_and_rates(account: Account) -> None:
    day = "2025-10-06"  # a Monday: most agents work
    low = account.time.parse("d", day, allow_date=True)
    online: Counter = Counter()
    for session in account.sessions(low, low + ds.DAY - 1):
        start, end = max(session.start, low), min(session.end, low + ds.DAY, NOW)
        online[account.entities.agents[session.agent].userid] += max(0, end - start)
    found = rows(account, "agents", date_from=day, date_to=day)
    assert sum(int(r["worktime"]) > 0 for r in found) >= 3
    for row in found:
        worktime = int(row["worktime"])
        assert worktime == online[row["id"]] // 60
        for name in ("answers", "missed_chats", "missed_calls", "call_seconds"):
            expected = f"{int(row[name]) * 60 / worktime:.2f}" if worktime else "0.00"
            assert row[f"{name}_ph"] == expected


# -- shape --------------------------------------------------------------------------------------
def test_every_entity_has_a_row_with_all_documented_columns(account: Account) -> None:
    window = {"date_from": "2024-01-01", "date_to": "2024-01-01"}  # no activity at all
    cases = [
        ("agents", AGENT_COLUMNS, {a.userid for a in account.entities.agents}),
        ("departments", DEPARTMENT_COLUMNS, {d.id for d in account.entities.departments}),
        ("tags", TAG_COLUMNS, {t.id for t in account.entities.tags}),
        ("channels", CHANNEL_COLUMNS,
         {str(ds.CHANNEL_TYPES.index(c) + 1) for c in ds.CHANNEL_WEIGHTS}),
    ]
    for name, columns, ids in cases:
        found = rows(account, name, **window)
        assert sorted(r["id"] for r in found) == sorted(ids)
        for row in found:
            assert tuple(row) == columns
            assert all(isinstance(v, str) for v in row.values())
            assert row["answers"] == "0" and row["rewards_p"] == "0.00"
    assert len(AGENT_COLUMNS) == 53 and len(DEPARTMENT_COLUMNS) == 45
    channel_names = [r["channelName"] for r in rows(account, "channels", **window)]
    assert channel_names[:2] == ["Email", "Contact button"]


def test_rows_are_ordered_by_name_or_id(account: Account) -> None:
    day = {"date_from": "2025-10-01", "date_to": "2025-10-01"}
    for name, key in (("departments", "departmentName"), ("tags", "tagName")):
        names = [r[key] for r in rows(account, name, **day)]
        assert names == sorted(names)
    agents = [(r["firstname"], r["lastname"]) for r in rows(account, "agents", **day)]
    assert agents == sorted(agents)
    channel_ids = [int(r["id"]) for r in rows(account, "channels", **day)]
    assert channel_ids == sorted(channel_ids)


def test_columns_selection(account: Account) -> None:
    day = {"date_from": "2025-10-01", "date_to": "2025-10-01"}
    found = rows(account, "agents", columns="answers, id,lastname", **day)
    assert [list(r) for r in found] == [["id", "lastname", "answers"]] * len(found)
    full = rows(account, "agents", **day)
    assert [r["answers"] for r in found] == [r["answers"] for r in full]
    slalog = rows(account, "tickets/slalog", columns="sla,id", **day)
    assert slalog and all(list(r) == ["id", "sla"] for r in slalog)
    availability = rows(account, "tickets/agentsavailability", columns="to_date,userid", **day)
    assert availability and all(list(r) == ["userid", "to_date"] for r in availability)
    with pytest.raises(BadRequest):
        report(account, "departments", {**day, "columns": "id,nope"})


def test_limitcount_and_limitfrom(account: Account) -> None:
    window = whole_range(account)
    everything = rows(account, "tickets/slalog", limitcount="1000", **window)
    assert len(everything) > 100
    assert rows(account, "tickets/slalog", **window) == everything[:100]
    assert rows(account, "tickets/slalog", limitcount="7", limitfrom="95", **window) == \
        everything[95:102]
    assert rows(account, "agents", limitcount="3", limitfrom="2", **window) == \
        rows(account, "agents", **window)[2:5]
    for bad in ({"limitcount": "1001"}, {"limitcount": "0"}, {"limitcount": "x"},
                {"limitfrom": "-1"}):
        with pytest.raises(BadRequest):
            report(account, "agents", {**window, **bad})


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["agents", "channels", "departments", "performance", "tags",
                                  "tickets/slalog"])
def test_mandatory_dates(account: Account, name: str) -> None:
    for params in ({}, {"date_to": "2025-10-01"}, {"date_from": "2025-10-01"}):
        with pytest.raises(BadRequest, match="date_"):
            report(account, name, params)


@pytest.mark.parametrize("name", ["tickets/agentsavailability", "tickets/load",
                                  "tickets/slacompliance"])
def test_optional_dates_default_to_the_last_30_days(account: Account, name: str) -> None:
    found = report(account, name, {"limitcount": "1000"})[KEYS[name]]
    assert found
    explicit = {"date_from": account.time.render(NOW - 30 * ds.DAY),
                "date_to": account.time.render(NOW), "limitcount": "1000"}
    assert report(account, name, explicit)[KEYS[name]] == found


@pytest.mark.parametrize("params", [
    {"date_from": "2025/10/01", "date_to": "2025-10-02"},
    {"date_from": "2025-10-01", "date_to": "2025-10-02 25:00:00"},
    {"date_from": "2025-10-03", "date_to": "2025-10-02"},
    {"date_from": "2025-10-02 12:00:01", "date_to": "2025-10-02 12:00:00"},
])
def test_bad_windows(account: Account, params: dict[str, str]) -> None:
    for name in ("departments", "tickets/load", "tickets/slacompliance"):
        with pytest.raises(BadRequest):
            report(account, name, params)


def test_other_bad_parameters(account: Account) -> None:
    day = {"date_from": "2025-10-01", "date_to": "2025-10-01"}
    with pytest.raises(BadRequest):
        report(account, "performance", {**day, "group_by": "year"})
    for constraint in ("L7D", "2025-13", "2025-1"):
        with pytest.raises(BadRequest):
            report(account, "tickets/slacompliance", {"datetime": constraint})
    with pytest.raises(NotFound):
        report(account, "tickets/nope", day)
    assert set(REPORT_NAMES) == set(KEYS)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_both_date_formats_agree_for_whole_days(account: Account, name: str) -> None:
    short = {"date_from": "2025-10-03", "date_to": "2025-10-05", "limitcount": "1000"}
    long = {"date_from": "2025-10-03 00:00:00", "date_to": "2025-10-05 23:59:59",
            "limitcount": "1000"}
    assert report(account, name, short) == report(account, name, long)


# -- time zone and writes -----------------------------------------------------------------------
def answers_by(account: Account, name: str, day: str) -> dict[str, int]:
    return {r["id"]: int(r["answers"]) for r in rows(account, name, date_from=day, date_to=day)}


def test_a_reply_counts_on_its_local_day() -> None:
    account = make_account()
    conv = account.record(200)
    agent = account.entities.agents[3]
    dept = account.entities.departments[conv.department]
    at = int(datetime(2025, 10, 4, 23, 30, tzinfo=timezone.utc).timestamp())  # 01:30 on 10-05
    before = {day: (answers_by(account, "departments", day), answers_by(account, "agents", day))
              for day in ("2025-10-04", "2025-10-05")}
    account.add_message(account.conversation_id(200), "x", useridentifier=agent.email, at=at)
    depts, agents = answers_by(account, "departments", "2025-10-05"), \
        answers_by(account, "agents", "2025-10-05")
    assert depts[dept.id] == before["2025-10-05"][0][dept.id] + 1
    assert sum(depts.values()) == sum(before["2025-10-05"][0].values()) + 1
    assert agents[agent.userid] == before["2025-10-05"][1][agent.userid] + 1
    assert answers_by(account, "departments", "2025-10-04") == before["2025-10-04"][0]
    hours = rows(account, "performance", date_from="2025-10-05 01:00:00",
                 date_to="2025-10-05 01:59:59", group_by="hour")
    assert [(r["datetime"], r["dateto"]) for r in hours] == \
        [("2025-10-05 01:00:00", "2025-10-05 01:59:59")]
    assert int(hours[0]["answers"]) >= 1


def test_day_windows_follow_the_account_time_zone() -> None:
    account = make_account()
    (row,) = rows(account, "performance", date_from="2025-10-05", date_to="2025-10-05")
    assert row["datetime"] == "2025-10-05" and row["dateto"] == "2025-10-05 23:59:59"
    utc = Account(DatasetConfig(conversations=300, days=20, end=NOW), clock=Clock(NOW),
                  timezone="UTC")
    midnight_local = datetime(2025, 10, 4, 22, tzinfo=timezone.utc).timestamp()
    local = rows(account, "departments", date_from="2025-10-05", date_to="2025-10-05")
    shifted = rows(utc, "departments", date_from=utc.time.render(int(midnight_local)),
                   date_to=utc.time.render(int(midnight_local) + ds.DAY - 1))
    assert total(local, "answers") == total(shifted, "answers")


# -- performance buckets ------------------------------------------------------------------------
def test_performance_group_by(account: Account) -> None:
    day = {"date_from": "2025-10-02", "date_to": "2025-10-02"}
    hours = rows(account, "performance", group_by="hour", **day)
    assert len(hours) == 24
    assert hours[0]["datetime"] == "2025-10-02 00:00:00"
    assert hours[-1]["dateto"] == "2025-10-02 23:59:59"
    (whole,) = rows(account, "performance", **day)
    for column in ADDITIVE:
        assert total(hours, column) == int(whole[column])
    weeks = rows(account, "performance", group_by="week", date_from="2025-09-17",
                 date_to="2025-10-02")
    assert [(r["datetime"], r["dateto"]) for r in weeks] == [
        ("2025-09-17", "2025-09-21 23:59:59"), ("2025-09-22", "2025-09-28 23:59:59"),
        ("2025-09-29", "2025-10-02 23:59:59")]
    months = rows(account, "performance", group_by="month", date_from="2025-09-20 12:00:00",
                  date_to="2025-10-09")
    assert [(r["datetime"], r["dateto"]) for r in months] == [
        ("2025-09-20", "2025-09-30 23:59:59"), ("2025-10-01", "2025-10-09 23:59:59")]
    days = rows(account, "performance", date_from="2025-09-20 12:00:00", date_to="2025-10-09")
    for column in ADDITIVE:
        assert total(months, column) == total(days, column)
    assert rows(account, "performance", columns="datetime,dateto", **day) == \
        [{"datetime": "2025-10-02", "dateto": "2025-10-02 23:59:59"}]


def test_performance_keeps_empty_buckets(account: Account) -> None:
    found = rows(account, "performance", date_from="2024-02-27", date_to="2024-03-01")
    assert [r["datetime"] for r in found] == ["2024-02-27", "2024-02-28", "2024-02-29",
                                              "2024-03-01"]
    assert all(r["answers"] == "0" and r["not_ranked_p"] == "0.00" for r in found)
    assert tuple(found[0]) == PERFORMANCE_COLUMNS


# -- ticket reports -----------------------------------------------------------------------------
def test_load_samples_the_model(account: Account) -> None:
    found = rows(account, "tickets/load", date_from="2025-10-06", date_to="2025-10-06")
    assert [r["date"] for r in found] == [f"2025-10-06 {h:02d}:00:00" for h in range(24)]
    start = account.time.parse("d", "2025-10-06", allow_date=True)
    for hour, row in enumerate(found):
        samples = (start + hour * 3600, start + hour * 3600 + 3599)
        queue = [account.open_tickets_at(t) for t in samples]
        assert (int(row["minQueue"]), int(row["maxQueue"])) == (min(queue), max(queue))
        assert row["avgQueue"] == f"{sum(queue) / 2:.2f}"
        service = [account.in_service_at(t) for t in samples]
        assert int(row["maxService"]) == max(service)
        assert 0 <= int(row["minSlots"]) <= int(row["maxSlots"]) <= len(account.entities.agents)
    assert max(int(r["maxSlots"]) for r in found) >= 3
    assert found[3]["maxSlots"] == "0"  # nobody is online at 3 in the morning


def test_load_agent_filter_narrows_slots(account: Account) -> None:
    day = {"date_from": "2025-10-06", "date_to": "2025-10-06"}
    everyone = rows(account, "tickets/load", **day)
    agent = account.entities.agents[0]
    alone = rows(account, "tickets/load", agentid=agent.userid, **day)
    assert max(int(r["maxSlots"]) for r in alone) <= 1
    for mine, all_agents in zip(alone, everyone, strict=True):
        assert int(mine["maxSlots"]) <= int(all_agents["maxSlots"])
    assert [r["maxQueue"] for r in alone] == [r["maxQueue"] for r in everyone]
    nobody = rows(account, "tickets/load", agentid="nobody", **day)
    assert all(r["maxSlots"] == "0" for r in nobody)
    dept = rows(account, "tickets/load", departmentid=account.entities.departments[0].id, **day)
    for department, all_agents in zip(dept, everyone, strict=True):
        assert int(department["maxSlots"]) <= int(all_agents["maxSlots"])
    assert sum(int(r["maxSlots"]) for r in dept) < sum(int(r["maxSlots"]) for r in everyone)


def test_load_stops_at_now(account: Account) -> None:
    found = rows(account, "tickets/load", date_from="2025-10-09", date_to="2025-10-10")
    assert found[-1]["date"] == "2025-10-09 10:00:00"  # now is 10:53 local


def sla_outcomes(account: Account, low: int, high: int) -> Counter:
    counts: Counter = Counter()
    for conv in conversations(account):
        if conv.datedue is None or not low <= conv.datedue <= high:
            continue
        answered = account.first_answer_at(conv)
        if answered is not None and answered <= conv.datedue:
            counts["fulfilled"] += 1
        elif answered is not None or conv.datedue < NOW:
            counts["unfulfilled"] += 1
    return counts


def test_slacompliance_counts_every_due_ticket(account: Account) -> None:
    window = whole_range(account)
    found = rows(account, "tickets/slacompliance", limitcount="1000", **window)
    assert len(found) == len(list(local_days(account)))
    assert found[0]["date"] == window["date_from"] + " 00:00:00"
    low = account.time.parse("d", window["date_from"], allow_date=True)
    high = account.time.parse("d", window["date_to"], allow_date=True, end_of_day=True)
    expected = sla_outcomes(account, low, high)
    assert expected["fulfilled"] > 20 and expected["unfulfilled"] > 5
    assert total(found, "fulfilled") == expected["fulfilled"]
    assert total(found, "unfulfilled") == expected["unfulfilled"]
    for row in found:
        if row["fulfilled"] != "0":
            assert int(row["minFulfilledTime"]) <= int(row["avgFulfilledTime"]) \
                <= int(row["maxFulfilledTime"])
    per_department = sum(
        total(rows(account, "tickets/slacompliance", limitcount="1000", departmentid=d.id,
                   **window), "fulfilled") for d in account.entities.departments)
    assert per_department == expected["fulfilled"]
    level = next(d.sla_level_id for d in account.entities.departments if d.sla_level_id)
    by_level = rows(account, "tickets/slacompliance", limitcount="1000", slalevelid=level,
                    **window)
    assert 0 < total(by_level, "fulfilled") < expected["fulfilled"]


def test_slacompliance_datetime_presets(account: Account) -> None:
    this_month = rows(account, "tickets/slacompliance", datetime="TM")
    assert [r["date"][:10] for r in this_month] == [f"2025-10-0{d}" for d in range(1, 10)]
    last_month = rows(account, "tickets/slacompliance", datetime="LM")
    assert len(last_month) == 30 and last_month[0]["date"] == "2025-09-01 00:00:00"
    assert rows(account, "tickets/slacompliance", datetime="2025-09") == last_month
    assert total(last_month, "fulfilled") > 0
    dates_win = rows(account, "tickets/slacompliance", datetime="LM", date_from="2025-10-01",
                     date_to=account.time.render(NOW))
    assert dates_win == this_month


def test_slalog_rows(account: Account) -> None:
    window = whole_range(account)
    found = rows(account, "tickets/slalog", limitcount="1000", **window)
    expected = [c for c in conversations(account) if c.datedue is not None]
    assert [r["id"] for r in found] == [str(c.index + 1) for c in expected]
    for row, conv in zip(found, expected, strict=True):
        assert tuple(row) == SLA_LOG_COLUMNS
        assert row["conversationid"] == account.conversation_id(conv.index)
        assert row["date_due"] == account.time.render(conv.datedue)
        due = datetime.strptime(row["server_date_due"], "%Y-%m-%d %H:%M:%S")
        assert due.replace(tzinfo=timezone.utc).timestamp() == conv.datedue
        answered = account.first_answer_at(conv)
        late = (answered if answered is not None else NOW) > conv.datedue
        assert row["sla"].startswith("-") == late
        assert (row["date_closed"] is None) == (account.resolved_at(conv) is None)
        assert row["levelid"] == row["sla_level_id"] != ""
        assert row["req_contactid"] == account.customer(conv.owner).contactid
        assert (row["agentid"] == "") == (conv.agent is None)


def test_slalog_filters(account: Account) -> None:
    window = {**whole_range(account), "limitcount": "1000"}
    everything = rows(account, "tickets/slalog", **window)
    sample = everything[5]
    for param, column in (("departmentid", "departmentid"), ("requesterid", "req_contactid"),
                          ("slalevelid", "sla_level_id"), ("agentid", "agentid")):
        narrowed = rows(account, "tickets/slalog", **{param: sample[column]}, **window)
        assert narrowed == [r for r in everything if r[column] == sample[column]], param
    assert rows(account, "tickets/slalog", departmentid="nope", **window) == []


def test_agentsavailability(account: Account) -> None:
    day = {"date_from": "2025-10-09", "date_to": "2025-10-09"}
    found = rows(account, "tickets/agentsavailability", **day)
    low = account.time.parse("d", "2025-10-09", allow_date=True)
    sessions = account.sessions(low, low + ds.DAY - 1)
    assert sorted(r["id"] for r in found) == sorted(str(s.id) for s in sessions)
    assert [r["from_date"] for r in found] == sorted(r["from_date"] for r in found)
    running = [r for r in found if r["to_date"] == "now"]
    assert running and len(running) == sum(s.end > NOW for s in sessions)
    for row in running:
        start = account.time.parse("d", row["from_date"])
        h, m, s = map(int, row["hours_online"].split(":"))
        assert h * 3600 + m * 60 + s == NOW - start
    agent = account.entities.agents[int(found[0]["id"]) % 1000]
    mine = rows(account, "tickets/agentsavailability", agentid=agent.userid, **day)
    assert [r["userid"] for r in mine] == [agent.userid]
    dept = account.entities.departments[agent.department]
    by_dept = rows(account, "tickets/agentsavailability", departmentid=dept.id, **day)
    assert {r["department_name"] for r in by_dept} == {dept.name}



# -- business hours, next answers, chats and calls ----------------------------------------------
def local(day: str, clock: str) -> int:
    return int(datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=ZoneInfo(TZ)).timestamp())


def figures(account: Account, name: str, row_id: str, day_from: str, day_to: str,
            *columns: str) -> dict[str, str]:
    (row,) = [r for r in rows(account, name, date_from=day_from, date_to=day_to)
              if r["id"] == row_id]
    return {column: row[column] for column in columns}


def test_next_answers_wait_from_the_first_unanswered_customer_message() -> None:
    # Monday 2025-10-13, after the generated history: the only conversation that day
    account = support.make_account(business_hours={"hours": {"mon": ["09:00-10:00",
                                                                     "11:00-17:00"]}})
    first, second = (a.email for a in account.entities.agents[:2])
    day = "2025-10-13"
    ref = account.create_conversation("chat", "hi", channel="B", department=0, agent=1,
                                      at=local(day, "08:00:00"))
    steps = [(first, "09:30:00"), (None, "09:40:00"), (None, "09:50:00"), (second, "11:30:00"),
             (first, "12:00:00"), (None, "12:00:00"),  # the same second: the customer's first
             (first, "12:10:00")]  # nobody waited for this one
    for author, clock in steps:
        account.add_message(ref, "m", useridentifier=author, from_customer=author is None,
                            at=local(day, clock))
    account.add_message(ref, "note", useridentifier=first, kind="N", at=local(day, "12:20:00"))
    account.set_status(ref, "R", useridentifier=second, at=local(day, "12:30:00"))
    department = account.entities.departments[0].id
    assert figures(account, "departments", department, day, day, *(
        "newAnswerAvgTime", "newAnswerAvgTimeSla", "nextAnswerAvgTime", "nextAnswerAvgTimeSla",
        "firstResolveAvgTime", "firstResolveAvgTimeSla", "chat_pickup", "chatPickupAvgTime",
        "chatAvgTime", "missed_chats")) == {
        "newAnswerAvgTime": "5400", "newAnswerAvgTimeSla": "1800",  # 09:00-09:30 is open
        # 09:40 -> 11:30 (3000 s of business) and 12:00 -> 12:00
        "nextAnswerAvgTime": str((6600 + 0) // 2), "nextAnswerAvgTimeSla": str(3000 // 2),
        "firstResolveAvgTime": "16200", "firstResolveAvgTimeSla": "9000",
        # the last message is the resolve group's, at 12:30
        "chat_pickup": "1", "chatPickupAvgTime": "5400", "chatAvgTime": "16200",
        "missed_chats": "0",
    }
    users = {a.email: a.userid for a in account.entities.agents}
    assert figures(account, "agents", users[second], day, day, "nextAnswerAvgTime",
                   "nextAnswerAvgTimeSla", "chat_pickup") == \
        {"nextAnswerAvgTime": "6600", "nextAnswerAvgTimeSla": "3000", "chat_pickup": "0"}
    assert figures(account, "agents", users[first], day, day, "newAnswerAvgTimeSla",
                   "chat_pickup", "chatAvgTime") == \
        {"newAnswerAvgTimeSla": "1800", "chat_pickup": "1", "chatAvgTime": "16200"}
    # an answer counts in the window holding it, however long ago the wait began
    hour = rows(account, "performance", group_by="hour", date_from=f"{day} 11:00:00",
                date_to=f"{day} 11:59:59")
    assert (hour[0]["nextAnswerAvgTime"], hour[0]["newAnswerAvgTime"]) == ("6600", "0")


def test_missed_chats_and_calls_are_never_answered_ones() -> None:
    account = support.make_account()
    day, later = "2025-10-13", "2025-10-15"
    assignee = account.entities.agents[2]
    refs = {channel: account.create_conversation("?", "hello", channel=channel, department=1,
                                                 agent=2, at=local(day, "10:00:00"))
            for channel in "BWE"}
    missed = ("missed_chats", "missed_calls", "created_tickets", "missed_chats_ph")
    department = account.entities.departments[1].id
    assert figures(account, "departments", department, day, day, *missed[:3]) == \
        {"missed_chats": "1", "missed_calls": "1", "created_tickets": "3"}
    assert figures(account, "agents", assignee.userid, day, day, *missed) == \
        {"missed_chats": "1", "missed_calls": "1", "created_tickets": "3",
         "missed_chats_ph": "0.00"}  # no work time after the generated history
    # answered two days later: the call is no longer missed, and is picked up that day
    account.add_message(refs["W"], "hi", useridentifier=assignee.email,
                        at=local(later, "10:00:00"))
    account.add_message(refs["W"], "bye", from_customer=True, at=local(later, "10:05:00"))
    assert figures(account, "departments", department, day, day, *missed[:3]) == \
        {"missed_chats": "1", "missed_calls": "0", "created_tickets": "3"}
    assert figures(account, "departments", department, later, later, "calls",
                   "call_pickup_avg_time", "call_avg_time", "call_seconds") == \
        {"calls": "1", "call_pickup_avg_time": str(2 * ds.DAY),
         "call_avg_time": str(2 * ds.DAY + 300), "call_seconds": str(2 * ds.DAY + 300)}


def test_without_business_hours_the_sla_figures_are_calendar_time(account: Account) -> None:
    window = whole_range(account)
    for name in ("agents", "departments", "channels", "tags", "performance"):
        for row in rows(account, name, **window):
            for figure in ("newAnswerAvgTime", "firstResolveAvgTime", "nextAnswerAvgTime"):
                assert row[f"{figure}Sla"] == row[figure], (name, figure)
            assert row["firstAssignAvgTime"] == row["firstAssignAvgTimeSla"] == "0"
    days = rows(account, "performance", **window)
    assert sum(int(r["nextAnswerAvgTime"]) > 0 for r in days) >= 15
    assert sum(int(r["chat_pickup"]) for r in days) > 20
