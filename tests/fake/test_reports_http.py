"""Reports over HTTP: parameters as documented, and totals that agree with the conversations
and messages the other endpoints serve."""

from __future__ import annotations

import pytest

from liveagent_fake.reports import REPORT_NAMES
from tests.support import Api, assert_error

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
