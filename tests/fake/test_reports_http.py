"""Reports over HTTP: parameters as documented, and totals that agree with the conversations
and messages the other endpoints serve."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from liveagent_fake.reports import REPORT_NAMES
from liveagent_fake.server import FakeLiveAgent
from tests.support import NOW, ZONE, Api, assert_error, make_account, walked_business_seconds

LIST_KEY = {"agents": "agents", "channels": "channels", "departments": "departments",
            "performance": "performance", "tags": "tags",
            "tickets/agentsavailability": "agentsavailability", "tickets/load": "loads",
            "tickets/slacompliance": "slacompliances", "tickets/slalog": "slalogs"}
MANDATORY_DATES = {"agents", "channels", "departments", "performance", "tags", "tickets/slalog"}
RANGE = {"date_from": "2025-09-01", "date_to": "2025-10-09"}  # the whole generated history


def rows(api: Api, name: str, **params: object) -> list[dict]:
    return api.get(f"/api/reports/{name}", **params)[LIST_KEY[name]]


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_mandatory_dates(api: Api, name: str) -> None:
    response = api.call("GET", f"/api/reports/{name}")
    if name in MANDATORY_DATES:
        assert "date_from" in assert_error(response, 400)["errormessage"]
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_both_date_formats_mean_the_same_window(api: Api, name: str) -> None:
    short = rows(api, name, date_from="2025-10-01", date_to="2025-10-02")
    long = rows(api, name, date_from="2025-10-01 00:00:00", date_to="2025-10-02 23:59:59")
    assert short == long


def test_bad_dates_and_limits_are_400(api: Api) -> None:
    assert_error(api.call("GET", "/api/reports/agents", date_from="01.10.2025",
                          date_to="2025-10-02"), 400)
    assert_error(api.call("GET", "/api/reports/agents", date_from="2025-10-03",
                          date_to="2025-10-02"), 400)
    assert_error(api.call("GET", "/api/reports/agents", limitcount=1001, **RANGE), 400)
    assert_error(api.call("GET", "/api/reports/performance", group_by="year", **RANGE), 400)
    assert_error(api.call("GET", "/api/reports/tags", columns="id,nope", **RANGE), 400)


def test_limitcount_and_limitfrom_page_the_rows(api: Api) -> None:
    everything = rows(api, "performance", limitcount=1000, **RANGE)
    assert len(everything) == 39  # one row per day of the range
    assert len(rows(api, "performance", **RANGE)) == 39  # default limitcount is 100
    pages = [rows(api, "performance", limitcount=10, limitfrom=start, **RANGE)
             for start in range(0, 39, 10)]
    assert [r for page in pages for r in page] == everything


def test_columns_and_group_by(api: Api) -> None:
    picked = rows(api, "departments", columns="answers,id", **RANGE)
    assert picked and all(list(r) == ["id", "answers"] for r in picked)
    weeks = rows(api, "performance", group_by="week", **RANGE)
    assert [w["datetime"] for w in weeks][:2] == ["2025-09-01", "2025-09-08"]
    assert weeks[-1]["dateto"] == "2025-10-09 23:59:59"


def test_filters_narrow_ticket_reports(api: Api) -> None:
    everything = rows(api, "tickets/slalog", **RANGE)
    department = everything[0]["departmentid"]
    narrowed = rows(api, "tickets/slalog", departmentid=department, **RANGE)
    assert narrowed == [r for r in everything if r["departmentid"] == department]
    sessions = rows(api, "tickets/agentsavailability", limitcount=1000, **RANGE)
    agent = sessions[0]["userid"]
    assert rows(api, "tickets/agentsavailability", agentid=agent, limitcount=1000, **RANGE) == \
        [s for s in sessions if s["userid"] == agent]


def test_totals_agree_with_conversations_and_messages(api: Api) -> None:
    conversations = api.all_conversations()
    agents = {a["id"] for a in api.get("/api/onlinestatus/agents")["agentsOnlineStates"]}
    answers = resolved = 0
    for conversation in conversations:
        groups = api.get(f"/api/conversations/{conversation['conversationid']}/messages")
        for group in groups["groups"]:
            resolved += group["rtype"] == "R"
            answers += sum(m["rtype"] == "M" and m["userid"] in agents and group["rtype"] != "I"
                           for m in group["messages"])
    by_department = rows(api, "departments", **RANGE)
    assert sum(int(r["created_tickets"]) for r in by_department) == len(conversations)
    assert sum(int(r["answers"]) for r in by_department) == answers > 0
    assert sum(int(r["resolved_tickets"]) for r in by_department) == resolved > 0
    days = rows(api, "performance", **RANGE)
    assert sum(int(r["answers"]) for r in days) == answers


def test_a_posted_answer_shows_in_the_report(api: Api, account) -> None:
    before = rows(api, "departments", date_from="2025-10-09", date_to="2025-10-09")
    ref = account.conversation_id(0)
    agent = account.entities.agents[0].email
    api.call("POST", f"/api/conversations/{ref}/messages", message="ok", useridentifier=agent)
    after = rows(api, "departments", date_from="2025-10-09", date_to="2025-10-09")
    assert sum(int(r["answers"]) for r in after) == sum(int(r["answers"]) for r in before) + 1


# -- business hours, next answers, chats and calls ----------------------------------------------
# (an account of its own, with a schedule, recomputed from what the API serves)
OFFICE = {"mon": ["08:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"],
          "wed": ["08:00-17:00"], "thu": ["08:00-17:00"], "fri": ["08:00-15:30"],
          "sat": ["09:00-12:30"]}
CHATS, CALLS = "BI", "CW"  # the chat and call channels (dataset.CHAT_CHANNELS, CALL_CHANNELS)


def schedule_for(departments: list[str]) -> dict:
    """Office hours in the account zone with two holidays; the first department works in
    Sydney (its Sunday hours hold the 2025-10-05 clock change), the second in New York."""
    return {
        "hours": OFFICE, "holidays": ["2025-09-29", "2025-10-01"],
        "departments": {
            departments[0]: {"timezone": "Australia/Sydney", "holidays": ["2025-10-06"],
                             "hours": {"sun": ["00:00-06:00", "09:00-18:00"],
                                       "mon": ["07:30-19:00"], "thu": ["10:00-22:00"]}},
            departments[1]: {"timezone": "America/New_York"},
        },
    }


@dataclass
class Served:
    """A conversation as the API serves it: what the figures are recomputed from."""

    created: int
    department: str
    channel: str
    assignee: str | None
    answers: list[tuple[int, str]]  # (time, author), by time then author
    customer_messages: list[int]
    resolves: list[tuple[int, str]]
    last_message: int


@pytest.fixture(scope="module")
def scheduled() -> Iterator[tuple[Api, dict, list[Served]]]:
    """A served account with business hours and a few never answered chats and calls; with
    its schedule and its conversations read back over HTTP."""
    departments = [d.id for d in make_account(conversations=100).entities.departments]
    schedule = schedule_for(departments)
    account = make_account(conversations=100, business_hours=schedule)
    for n, channel in enumerate("BICW"):  # customers nobody answered
        account.create_conversation("missed", "hello?", channel=channel, department=n % 2,
                                    agent=n, at=NOW - (n + 2) * 86400 + 3 * n * 3600)
    with FakeLiveAgent(account) as fake:
        api = Api(fake)
        yield api, schedule, read_back(api)


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(ZONE))
               .timestamp())


def read_back(api: Api) -> list[Served]:
    agents = {a["id"] for a in api.get("/api/onlinestatus/agents")["agentsOnlineStates"]}
    served = []
    for row in api.all_conversations():
        ref = row["conversationid"]
        detail = api.get(f"/api/conversations/{ref}")
        groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
        messages = [(g, m) for g in groups for m in g.get("messages", [])]
        served.append(Served(
            created=epoch(row["datecreated"]), department=row["departmentid"],
            channel=row["channel_type"], assignee=detail["assignedto"],
            answers=sorted((epoch(m["datecreated"]), m["userid"]) for g, m in messages
                           if m["rtype"] == "M" and m["userid"] in agents and g["rtype"] != "I"),
            customer_messages=[epoch(m["datecreated"]) for _, m in messages
                               if m["rtype"] == "M" and m["userid"] not in agents],
            resolves=sorted((epoch(g["datecreated"]), g["userid"]) for g in groups
                            if g["rtype"] == "R"),
            last_message=max(epoch(m["datecreated"]) for _, m in messages),
        ))
    return served


Keys = Callable[[Served, "str | None", int], Iterable[str]]


def recompute(served: list[Served], schedule: dict, low: int, high: int,
              keys: Keys) -> dict[str, dict[str, list[int]]]:
    """Per row key, the values each figure is the mean (or count, or sum) of, following the
    definitions in liveagent_fake/reports/__init__.py; business seconds by walking the clock."""
    found: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def credit(conv: Served, author: str | None, at: int, **values: int) -> None:
        for key in keys(conv, author, at):
            for name, value in values.items():
                found[key][name].append(value)

    def business(conv: Served, start: int, end: int) -> int:
        return walked_business_seconds(schedule, ZONE, start, end, conv.department)

    for conv in served:
        chat, call = conv.channel in CHATS, conv.channel in CALLS
        if low <= conv.created <= high and not conv.answers and (chat or call):
            credit(conv, conv.assignee, conv.created,
                   **{"missed_chats" if chat else "missed_calls": 1})
        if conv.answers and low <= conv.answers[0][0] <= high:
            at, author = conv.answers[0]
            values = {"newAnswerAvgTime": at - conv.created,
                      "newAnswerAvgTimeSla": business(conv, conv.created, at)}
            if chat:
                values.update(chat_pickup=1, chatPickupAvgTime=at - conv.created,
                              chatAvgTime=conv.last_message - conv.created)
            if call:
                values.update(call_pickup_avg_time=at - conv.created,
                              call_avg_time=conv.last_message - conv.created,
                              call_seconds=conv.last_message - conv.created)
            credit(conv, author, at, **values)
        if conv.resolves and low <= conv.resolves[0][0] <= high:
            at, author = conv.resolves[0]
            credit(conv, author, at, firstResolveAvgTime=at - conv.created,
                   firstResolveAvgTimeSla=business(conv, conv.created, at))
        # a later answer after customer messages (one on the previous answer's second came
        # before it), timed from the earliest of them
        for (previous, _), (at, author) in pairwise(conv.answers):
            waiting = [t for t in conv.customer_messages if previous < t <= at]
            if waiting and low <= at <= high:
                credit(conv, author, at, nextAnswerAvgTime=at - min(waiting),
                       nextAnswerAvgTimeSla=business(conv, min(waiting), at))
    return found


COUNTED = {"missed_chats", "missed_calls", "chat_pickup"}
SUMMED = {"call_seconds"}
RECOMPUTED = ("newAnswerAvgTime", "newAnswerAvgTimeSla", "firstResolveAvgTime",
              "firstResolveAvgTimeSla", "nextAnswerAvgTime", "nextAnswerAvgTimeSla",
              "missed_chats", "missed_calls", "chat_pickup", "chatPickupAvgTime", "chatAvgTime",
              "call_pickup_avg_time", "call_avg_time", "call_seconds")


def expected_row(values: dict[str, list[int]]) -> dict[str, str]:
    def figure(name: str) -> int:
        found = values.get(name, [])
        if name in COUNTED:
            return len(found)
        if name in SUMMED:
            return sum(found)
        return sum(found) // len(found) if found else 0
    return {name: str(figure(name)) for name in RECOMPUTED}


def window(day_from: str, day_to: str) -> tuple[int, int]:
    return epoch(f"{day_from} 00:00:00"), epoch(f"{day_to} 23:59:59")


def test_sla_and_next_answer_figures_by_department(scheduled) -> None:
    api, schedule, served = scheduled
    expected = recompute(served, schedule, *window(RANGE["date_from"], RANGE["date_to"]),
                         lambda conv, author, at: (conv.department,))
    found = rows(api, "departments", **RANGE)
    assert len(found) == 4
    for row in found:
        assert {name: row[name] for name in RECOMPUTED} == expected_row(expected[row["id"]]), \
            row["departmentName"]
    # the schedules count: business time is well short of calendar time everywhere, and the
    # two departments with schedules of their own would have other figures with the office's
    for row in found:
        for figure in ("newAnswerAvgTime", "firstResolveAvgTime", "nextAnswerAvgTime"):
            assert 0 < int(row[f"{figure}Sla"]) < int(row[figure]) // 2, (row["id"], figure)
    office = {key: value for key, value in schedule.items() if key != "departments"}
    office_only = recompute(served, office, *window(RANGE["date_from"], RANGE["date_to"]),
                            lambda conv, author, at: (conv.department,))
    for department in schedule["departments"]:
        assert expected_row(office_only[department]) != expected_row(expected[department])
    assert sum(int(r["missed_chats"]) for r in found) >= 2
    assert sum(int(r["missed_calls"]) for r in found) >= 2


def test_sla_and_next_answer_figures_by_day(scheduled) -> None:
    api, schedule, served = scheduled
    low, high = window(RANGE["date_from"], RANGE["date_to"])
    zone = ZoneInfo(ZONE)
    expected = recompute(served, schedule, low, high, lambda conv, author, at: (
        datetime.fromtimestamp(at, zone).date().isoformat(),))
    days = rows(api, "performance", **RANGE)
    assert len(days) == 39
    for row in days:
        assert {name: row[name] for name in RECOMPUTED} == \
            expected_row(expected.get(row["datetime"], {})), row["datetime"]
    assert sum(int(r["nextAnswerAvgTimeSla"]) > 0 for r in days) >= 10


def test_chat_and_call_figures_by_channel_and_agent(scheduled) -> None:
    api, schedule, served = scheduled
    span = window(RANGE["date_from"], RANGE["date_to"])
    by_channel = recompute(served, schedule, *span, lambda conv, author, at: (conv.channel,))
    channels = {row["channelName"]: row for row in rows(api, "channels", **RANGE)}
    for code, name in (("B", "Contact button"), ("I", "Invitation"), ("C", "Call"),
                       ("W", "Call button")):
        assert {n: channels[name][n] for n in RECOMPUTED} == expected_row(by_channel[code]), name
    assert int(channels["Contact button"]["chat_pickup"]) >= 5
    assert int(channels["Call"]["call_seconds"]) > 0
    assert int(channels["Email"]["chat_pickup"]) == int(channels["Email"]["missed_calls"]) == 0
    by_agent = recompute(served, schedule, *span,
                         lambda conv, author, at: () if author is None else (author,))
    agents = rows(api, "agents", **RANGE)
    for row in agents:
        assert {n: row[n] for n in RECOMPUTED} == expected_row(by_agent[row["id"]]), row["id"]
        worktime = int(row["worktime"])
        for name in ("missed_chats", "missed_calls", "call_seconds"):
            rate = f"{int(row[name]) * 60 / worktime:.2f}" if worktime else "0.00"
            assert row[f"{name}_ph"] == rate
    assert sum(int(r["missed_chats"]) for r in agents) >= 2  # the two created, both assigned
