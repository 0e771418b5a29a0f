"""The analyst layer on the fake's data, in DuckDB and Postgres: dbt's own tests pass, the
marts recompute what LiveAgent's report endpoints returned for the same days (loaded by the
same runs), the backlog equals a direct computation from the raw tables, and the data
dictionary reached the warehouse as comments."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from pipelines.agreement import FIGURES, agreement
from pipelines.agreement import as_reported as kpis
from pipelines.transform import TransformResult
from tests.analytics.conftest import AS_OF, HOLIDAYS, UNREPORTED_DAY, ZONE
from tests.analytics.oracle import Target, backlog, by
from tests.support import make_account

Built = tuple[Target, TransformResult]


def departments() -> list[str]:
    """The department ids of the fixture's account, in the order its schedules name them."""
    return [d.id for d in make_account(conversations=120).entities.departments]


def test_dbt_built_every_model_and_passed_every_test(built: Built) -> None:
    _, result = built
    assert result.models == 23
    assert result.tests >= 50 and result.warnings == []


def test_daily_totals_agree_with_report_performance(built: Built) -> None:
    """Counts, and response, next response and resolution times in calendar seconds and in
    business hours, per day as LiveAgent's performance report gives them."""
    target, _ = built
    marts = by(target.sql("SELECT * FROM {marts}.liveagent__daily_kpis"), "date_day")
    reports = target.sql("SELECT * FROM {ds}.report_performance ORDER BY report_date")
    assert len(reports) == 30 and sum(r["answers"] for r in reports) > 200
    # the business-hours figures are not calendar ones in disguise
    assert sum(r["new_answer_avg_time_sla"] < r["new_answer_avg_time"] for r in reports) > 10
    assert sum(r["next_answer_avg_time_sla"] > 0 for r in reports) > 10
    for report in reports:
        assert kpis(marts.get(report["report_date"])) == tuple(report[f] for f in FIGURES), \
            report["report_date"]


@pytest.mark.parametrize(("report", "mart", "key", "name"), [
    ("report_agents", "liveagent__daily_agent_kpis", "agent_id", None),
    ("report_departments", "liveagent__daily_department_kpis", "department_id", None),
    ("report_tags", "liveagent__daily_tag_kpis", "tag_id", None),
    ("report_channels", "liveagent__daily_channel_kpis", "channel_label", "channel_name"),
])
def test_figures_per_agent_department_tag_and_channel_agree_with_the_reports(
        built: Built, report: str, mart: str, key: str, name: str | None) -> None:
    target, _ = built
    marts = by(target.sql(f"SELECT * FROM {{marts}}.{mart}"), "date_day", key)
    rows = target.sql(f"SELECT * FROM {{ds}}.{report}")
    # new conversations per agent are the assignee's, which only conversation_details carries
    figures = FIGURES[1:] if report == "report_agents" else FIGURES
    compared = 0
    for row in rows:
        found = kpis(marts.get((row["report_date"], row[name or "id"])))
        assert found[-len(figures):] == tuple(row[f] for f in figures), (row["report_date"],
                                                                         row[name or "id"])
        compared += bool(row["answers"])
    assert compared > 50
    assert {k for k, v in marts.items() if v["answers"] and str(k[0]) != UNREPORTED_DAY} <= \
        {(r["report_date"], r[name or "id"]) for r in rows}


def test_sla_outcomes_agree_with_report_sla_compliance(built: Built) -> None:
    target, _ = built
    conversations = target.sql("SELECT due_date, sla_status, first_response_at, due_at "
                               "FROM {marts}.liveagent__conversation_metrics")
    reports = target.sql("SELECT * FROM {ds}.report_sla_compliance")
    assert sum(r["fulfilled"] + r["unfulfilled"] for r in reports) > 20
    for report in reports:
        due = [c for c in conversations if c["due_date"] == report["report_date"]]
        met = [(c["due_at"] - c["first_response_at"]).total_seconds() for c in due
               if c["sla_status"] == "met"]
        breached = [c for c in due if c["sla_status"] == "breached"]
        assert (len(met), len(breached)) == (report["fulfilled"], report["unfulfilled"])
        if met:
            assert (sum(met) // len(met), max(met), min(met)) == (
                report["avg_fulfilled_time"], report["max_fulfilled_time"],
                report["min_fulfilled_time"])


def test_backlog_equals_a_direct_computation_from_raw_tables(built: Built) -> None:
    target, _ = built
    marts = by(target.sql("SELECT * FROM {marts}.liveagent__daily_backlog"), "date_day",
               value=lambda r: r["open_conversations"])
    last_day = AS_OF.astimezone(ZoneInfo(ZONE)).date()
    expected = backlog(target, ZONE, last_day)
    assert marts == expected
    assert max(expected.values()) > 20 and expected[last_day] > 0


def test_history_saw_the_changes_between_the_runs(built: Built) -> None:
    target, _ = built
    changed = target.sql("SELECT conversationid, status, valid_to FROM "
                         "{ds}.conversation_status_history WHERE valid_to IS NOT NULL")
    assert len(changed) == 3  # resolved, reopened (seen as Open again), trashed
    metrics = by(target.sql("SELECT * FROM {marts}.liveagent__conversation_metrics"),
                 "conversation_id")
    reopened = [m for m in metrics.values() if m["reopen_count"]]
    assert [m["status"] for m in reopened] == ["C"]
    assert sum(m["status"] == "X" and not m["is_open"] for m in metrics.values()) >= 1


def test_codes_keep_their_value_and_get_their_label(built: Built) -> None:
    target, _ = built
    labelled = target.sql("SELECT status, status_label, channel_type, channel_label "
                          "FROM {stg}.stg_liveagent__conversations")
    assert {(r["status"], r["status_label"]) for r in labelled} >= {("C", "Open"),
                                                                     ("R", "Resolved")}
    assert all(r["channel_label"] for r in labelled)
    assert target.sql("SELECT label FROM {ds}.labels WHERE table_name = 'conversations' "
                      "AND column_name = 'channel_type' AND code = 'C'") == [{"label": "Call"}]


def test_the_data_dictionary_is_in_the_warehouse_as_comments(built: Built) -> None:
    target, _ = built
    if target.destination == "duckdb":
        rows = target.sql("SELECT comment FROM duckdb_columns() WHERE schema_name = '{ds}' "
                          "AND table_name = 'conversations' AND column_name = 'status'")
        table = target.sql("SELECT comment FROM duckdb_tables() WHERE schema_name = '{ds}' "
                           "AND table_name = 'messages'")
    else:
        rows = target.sql("SELECT col_description('{ds}.conversations'::regclass, "
                          "ordinal_position) AS comment FROM information_schema.columns "
                          "WHERE table_schema = '{ds}' AND table_name = 'conversations' "
                          "AND column_name = 'status'")
        table = target.sql("SELECT obj_description('{ds}.messages'::regclass) AS comment")
    assert "C is Open" in rows[0]["comment"]
    assert table[0]["comment"].startswith("Messages of each message group")


# every column of the raw dataset, the staging schema and the marts schema, with its comment
COLUMN_COMMENTS = {
    "duckdb": "SELECT schema_name AS schema, table_name AS relation, column_name AS name, "
              "comment FROM duckdb_columns() WHERE schema_name IN ('{ds}', '{stg}', '{marts}')",
    "postgres": "SELECT table_schema AS schema, table_name AS relation, column_name AS name, "
                "col_description(format('%I.%I', table_schema, table_name)::regclass, "
                "ordinal_position) AS comment FROM information_schema.columns "
                "WHERE table_schema IN ('{ds}', '{stg}', '{marts}')",
}


def test_nearly_every_column_the_analyst_sees_carries_a_comment(built: Built) -> None:
    """At least 95% of the columns of every table and view (dlt's own tables apart) are
    described in the warehouse: the data dictionary, the run history and the dbt models'
    descriptions (persist_docs)."""
    target, _ = built
    columns: dict[tuple[str, str], list[dict]] = {}
    for row in target.sql(COLUMN_COMMENTS[target.destination]):
        if not row["relation"].startswith("_dlt"):
            columns.setdefault((row["schema"], row["relation"]), []).append(row)
    assert {schema for schema, _ in columns} == {target.dataset, f"{target.dataset}_stg",
                                                  f"{target.dataset}_analytics"}
    assert {"rejected_rows", "run_history", "table_freshness",
            "liveagent__conversation_metrics"} <= {relation for _, relation in columns}
    lacking = {f"{schema}.{relation}": [c["name"] for c in found if not c["comment"]]
               for (schema, relation), found in columns.items()
               if sum(not c["comment"] for c in found) > 0.05 * len(found)}
    assert lacking == {}


def test_the_analyst_schemas_expose_no_internal_column(built: Built) -> None:
    target, _ = built
    internal = [f"{row['relation']}.{row['name']}"
                for row in target.sql(COLUMN_COMMENTS[target.destination])
                if row["schema"] != target.dataset
                and row["name"].startswith(("_dlt", "_liveagent"))]
    assert internal == []


def test_the_conversation_mart_has_one_row_per_live_conversation(built: Built) -> None:
    target, _ = built
    assert target.sql("SELECT count(*) AS n FROM {marts}.liveagent__conversation_metrics") == \
        target.sql("SELECT count(*) AS n FROM {ds}.conversations "
                   "WHERE _liveagent_deleted_at IS NULL")
    answered = target.sql("SELECT count(*) AS n FROM {marts}.liveagent__conversation_metrics "
                          "WHERE first_response_seconds >= 0 AND agent_replies > 0")[0]["n"]
    assert answered > 60
    assert isinstance(target.sql("SELECT min(date_day) AS d FROM "
                                 "{marts}.liveagent__daily_backlog")[0]["d"], date)


def test_a_schedule_open_around_the_clock_measures_calendar_time(built: Built) -> None:
    target, _ = built
    rows = target.sql("SELECT * FROM {marts}.liveagent__conversation_metrics")
    pairs = (("first_response_seconds", "first_response_business_seconds"),
             ("first_resolution_seconds", "first_resolution_business_seconds"),
             ("full_resolution_seconds", "full_resolution_business_seconds"))
    around_the_clock = [r for r in rows if r["business_hours_schedule"] == departments()[2]]
    measured = [(r[calendar], r[business]) for r in around_the_clock
                for calendar, business in pairs if r[calendar] is not None]
    assert len(measured) > 20 and all(c == b for c, b in measured)
    office = [(r[calendar], r[business]) for r in rows if r["business_hours_schedule"] == "default"
              for calendar, business in pairs if r[calendar] is not None]
    assert all(0 <= b <= c for c, b in office) and sum(b < c for c, b in office) > len(office) / 2


def test_business_hours_follow_daylight_saving_and_holidays(built: Built) -> None:
    """The calendar's open intervals, as UTC instants: Sydney moves its clocks forward at 02:00
    on Sunday 2025-10-05, so that night's 00:00-06:00 lasts five hours, and the hours of the
    Monday after start an hour earlier in UTC than the Monday before; holidays are closed."""
    target, _ = built
    calendar = target.sql("SELECT * FROM {stg}.int_liveagent__business_calendar "
                          "WHERE date_day BETWEEN '2025-09-28' AND '2025-10-06' "
                          "ORDER BY schedule_id, date_day, open_from")
    sydney = by([r for r in calendar if r["schedule_id"] == departments()[1]], "date_day")
    assert sydney[date(2025, 10, 5)]["open_seconds"] == 5 * 3600
    assert sydney[date(2025, 10, 5)]["open_from"] == datetime(2025, 10, 4, 14, tzinfo=timezone.utc)
    assert sydney[date(2025, 9, 29)]["open_from"] == datetime(2025, 9, 28, 23, tzinfo=timezone.utc)
    assert sydney[date(2025, 10, 6)]["open_from"] == datetime(2025, 10, 5, 22, tzinfo=timezone.utc)
    office = [r for r in calendar if r["schedule_id"] == "default"]
    closed = {r["date_day"] for r in office if r["open_from"] is None}
    assert date.fromisoformat(HOLIDAYS[1]) in closed and date(2025, 9, 30) not in closed
    assert {r["date_day"].weekday() for r in office if r["open_from"] is None} == {0, 5, 6}


def test_ratings_and_chats_and_calls_equal_the_reports(built: Built) -> None:
    target, _ = built
    reports = {"account": "report_performance", "agent": "report_agents",
               "department": "report_departments", "channel": "report_channels",
               "tag": "report_tags"}
    columns = {"liveagent__daily_satisfaction": {
                   "resolved": "resolved_tickets", "positive": "rewards",
                   "negative": "punishments", "unrated": "not_ranked"},
               "liveagent__daily_chats_calls": {
                   "chats": "chats", "missed_chats": "missed_chats", "chat_pickups": "chat_pickup",
                   "avg_chat_pickup_seconds": "chat_pickup_avg_time",
                   "avg_chat_seconds": "chat_avg_time", "calls": "calls",
                   "missed_calls": "missed_calls", "avg_call_pickup_seconds":
                   "call_pickup_avg_time", "call_seconds": "call_seconds",
                   "avg_call_seconds": "call_avg_time"}}
    for mart, figures in columns.items():
        rows = target.sql(f"SELECT * FROM {{marts}}.{mart} WHERE report_covered")
        for dimension, table in reports.items():
            report = target.sql(f"SELECT * FROM {{ds}}.{table}")
            key = "id" if dimension != "account" else None
            found = {(r["date_day"], r["member_id"]): tuple(r[c] for c in figures)
                     for r in rows if r["dimension"] == dimension}
            expected = {(r["report_date"], r[key] if key else None):
                        tuple(r[c] for c in figures.values()) for r in report}
            assert found == expected, (mart, dimension)
            assert any(any(v) for v in expected.values()), (mart, dimension)
    # and the ratings are the customers' rating messages (type P positive, W negative)
    ratings = target.sql("SELECT datecreated, rtype FROM {ds}.messages "
                         "WHERE rtype IN ('P', 'W') AND _liveagent_deleted_at IS NULL")
    account = by(target.sql("SELECT * FROM {marts}.liveagent__daily_satisfaction "
                            "WHERE dimension = 'account' AND report_covered"), "date_day")
    for rtype, column in (("P", "positive"), ("W", "negative")):
        days = [r["datecreated"].astimezone(ZoneInfo(ZONE)).date() for r in ratings
                if r["rtype"] == rtype]
        assert {day: days.count(day) for day in days if day in account} == \
            {day: row[column] for day, row in account.items() if row[column]}


def test_days_the_reports_do_not_cover_and_the_running_day_are_marked(built: Built) -> None:
    target, _ = built
    missing = date.fromisoformat(UNREPORTED_DAY)
    for mart in ("liveagent__daily_satisfaction", "liveagent__daily_chats_calls",
                 "liveagent__daily_agent_activity"):
        # the account's rows (the performance report) and the agents' were removed that day
        per_agent = mart.endswith("agent_activity")
        rows = target.sql(f"SELECT * FROM {{marts}}.{mart}"
                          + ("" if per_agent else " WHERE dimension = 'account'"))
        uncovered = {r["date_day"] for r in rows if not r["report_covered"]}
        assert missing in uncovered, mart
        assert all(r["date_day"] not in uncovered for r in rows if r["report_covered"]), mart
        assert {r["date_day"] for r in rows if r["is_partial_day"]} == \
            {AS_OF.astimezone(ZoneInfo(ZONE)).date()}, mart
    activity = target.sql("SELECT * FROM {marts}.liveagent__daily_agent_activity "
                          "WHERE report_covered")
    assert sum(r["work_minutes"] for r in activity) > 1000


def test_every_figure_with_a_report_counterpart_agrees_in_full(built: Built) -> None:
    """What the README's agreement table measures on the demo, measured here."""
    target, _ = built
    shares = agreement(target.sql, target.dataset)
    assert len(shares) == 5 * 9 - 1
    assert [(a.report, a.figure) for a in shares if a.share < 1 or a.compared < 10] == []
