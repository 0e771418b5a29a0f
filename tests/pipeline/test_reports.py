"""Report tables: account-local day windows, totals that match the fake, re-reads that never
double a total, and state that remembers the last closed day."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import ZONE, Api
from tests.warehouse import Warehouse, local_day, utc

START, TODAY = date(2025, 9, 9), date(2025, 10, 9)  # the configured start; the fake's today
ADDITIVE = ("answers", "created_tickets", "resolved_tickets", "notes", "i_messages")


def totals(warehouse: Warehouse, table: str, columns: tuple[str, ...] = ADDITIVE
           ) -> dict[str, int]:
    sums = ", ".join(f"sum({c}) AS {c}" for c in columns)
    return warehouse.rows(table, sums)[0]


def test_day_windows_cover_start_to_today_in_account_time(
    run_cli, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    days = [r["report_date"] for r in warehouse.rows("report_performance", "report_date",
                                                      "ORDER BY 1")]
    assert days == [START + timedelta(days=n) for n in range((TODAY - START).days + 1)]
    for row in warehouse.rows("report_performance", "report_date, datetime"):
        midnight = row["report_date"]
        expected = utc(f"{midnight} 00:00:00", ZONE)
        assert row["datetime"] == expected  # bucket start is the account-local midnight
    asked = {(e.params["date_from"], e.params["date_to"])
             for e in fake.log.select(path="/reports/departments$")}
    assert asked == {(d.isoformat(), d.isoformat()) for d in days}


def test_totals_match_the_conversations_and_messages(
    run_cli, api: Api, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    conversations = api.all_conversations()
    created = [c for c in conversations
               if START <= local_day(utc(c["datecreated"], ZONE), ZONE) <= TODAY]
    agents = {a["id"] for a in api.get("/api/onlinestatus/agents")["agentsOnlineStates"]}
    answers = 0
    for conversation in conversations:
        for group in api.get(f"/api/conversations/{conversation['conversationid']}/messages")[
                "groups"]:
            answers += sum(
                1 for m in group["messages"]
                if m["rtype"] == "M" and m["userid"] in agents and group["rtype"] != "I"
                and START <= local_day(utc(m["datecreated"], ZONE), ZONE) <= TODAY)
    for table in ("report_departments", "report_channels", "report_performance"):
        sums = totals(warehouse, table)
        assert sums["created_tickets"] == len(created) > 0, table
        assert sums["answers"] == answers > 0, table
    assert totals(warehouse, "report_agents", ("answers",))["answers"] == answers


def test_rerunning_days_never_doubles_a_total(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    tables = ("report_agents", "report_channels", "report_departments", "report_tags",
              "report_performance")
    before = {t: totals(warehouse, t, ("answers", "created_tickets")) for t in tables}
    counts = {t: warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{t}")
              for t in ("report_tickets_load", "report_sla_compliance", "report_sla_log",
                        "report_agents_availability", *tables)}
    fake.log.clear()
    assert run_cli() == 0  # later the same day: today only
    assert {e.params["date_from"] for e in fake.log.select(path="/reports/tags$")} == \
        {TODAY.isoformat()}
    assert {t: totals(warehouse, t, ("answers", "created_tickets")) for t in tables} == before
    assert {t: warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{t}") for t in counts} == counts
    # today's rows, read again unchanged, are not written again (nor counted as written)
    written = warehouse.rows("run_history_tables", "table_name, rows_written",
                             "WHERE run_id = (SELECT max_by(run_id, started_at) FROM "
                             "{ds}.run_history) AND table_name LIKE 'report_%'".replace(
                                 "{ds}", warehouse.dataset))
    assert len(written) == 9 and all(row["rows_written"] == 0 for row in written), written

    account.clock.advance(86400)  # the next day's first run re-reads the lookback days too
    fake.log.clear()
    assert run_cli() == 0
    re_read = sorted({e.params["date_from"] for e in fake.log.select(path="/reports/tags$")})
    tomorrow = TODAY + timedelta(days=1)
    assert re_read == [(tomorrow - timedelta(days=n)).isoformat() for n in (4, 3, 2, 1, 0)]
    until_today = f"WHERE report_date <= '{TODAY}'"
    assert {t: warehouse.rows(t, "sum(answers) AS answers, sum(created_tickets) AS created",
                              until_today)[0] for t in tables} == \
        {t: {"answers": v["answers"], "created": v["created_tickets"]} for t, v in before.items()}


def test_a_new_answer_today_moves_only_today(
    run_cli, account: Account, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    query = ("SELECT sum(answers) FROM {ds}.report_departments WHERE report_date = '%s'")
    today_before = warehouse.scalar(query % TODAY)
    total_before = totals(warehouse, "report_departments")["answers"]
    account.add_message(account.conversation_id(3), "one more",
                        useridentifier=account.entities.agents[0].email)
    assert run_cli() == 0
    assert warehouse.scalar(query % TODAY) == today_before + 1
    assert totals(warehouse, "report_departments")["answers"] == total_before + 1
    local_now = account.time.local(account.clock.now())
    assert local_now.date() == TODAY and local_now.tzinfo == ZoneInfo(ZONE)
