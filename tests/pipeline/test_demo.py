"""`liveagent-pipeline demo` runs the real pipeline against the bundled fake."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from pipelines.liveagent_pipeline import main
from sources.liveagent.dictionary import TABLES
from sources.liveagent.labels import label_of
from tests.warehouse import Warehouse


def test_demo_loads_and_answers_the_example_queries(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BASE_URL", "API_KEY", "TIMEZONE", "START_DATE"):  # no account configured
        monkeypatch.delenv(f"SOURCES__LIVEAGENT__{name}", raising=False)
    assert main(["demo", "--conversations", "300", "--pipelines-dir",
                 str(tmp_path / "pipelines")]) == 0
    out = capsys.readouterr().out
    warehouse = Warehouse(str(tmp_path / "demo.duckdb"))
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 300
    for title in ("-- Conversations by channel and status",
                  "-- First agent reply per department (minutes)",
                  "-- Agents by answers over the last 7 days (report_agents)"):
        assert title in out
    departments = {r["departmentname"] for r in warehouse.rows("conversations",
                                                                 "DISTINCT departmentname")}
    assert any(f"\n{name} " in out for name in departments)
    assert_tables_say_what_they_hold(out, warehouse)
    assert_channels_and_statuses_are_labels(out, warehouse)
    # the fake's reports measure first answers in the demo's business hours (nights left out)
    calendar, business = warehouse.scalar(
        "SELECT [sum(new_answer_avg_time), sum(new_answer_avg_time_sla)] "
        "FROM {ds}.report_performance")
    assert 0 < business < calendar
    # a second demo starts over instead of mixing two generated accounts
    assert main(["demo", "--conversations", "100", "--pipelines-dir",
                 str(tmp_path / "pipelines")]) == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 100


def assert_tables_say_what_they_hold(out: str, warehouse: Warehouse) -> None:
    """One line per loaded table: its rows, then the data dictionary's description."""
    shown = {table: (int(rows), holds) for table, rows, holds in
             re.findall(r"^  (\w+) +(\d+)  (.+)$", out, re.MULTILINE)}
    loaded = {table: warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table}")
              for table in warehouse.tables() & set(TABLES)}
    assert shown == {table: (rows, TABLES[table]) for table, rows in loaded.items() if rows}
    assert "conversations" in shown and "report_agents" in shown


def assert_channels_and_statuses_are_labels(out: str, warehouse: Warehouse) -> None:
    """The first query shows `Email` and `Open`, not `E` and `C`: its counts are the
    warehouse's codes read through the labels."""
    block = out.split("-- Conversations by channel and status\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("----"))
    assert re.split(r"  +", lines[rule - 1]) == ["channel", "status", "conversations"]
    shown = {(channel, status): int(n) for channel, status, n in
             (re.split(r"  +", line) for line in lines[rule + 1:])}
    labelled = Counter(
        (label_of("conversations", "channel_type", r["channel_type"]),
         label_of("conversations", "status", r["status"]))
        for r in warehouse.rows("conversations", "channel_type, status"))
    assert len(shown) == min(8, len(labelled))
    assert all(labelled[key] == n for key, n in shown.items())
    assert sorted(shown.values(), reverse=True) == \
        sorted(labelled.values(), reverse=True)[:len(shown)]
    assert ("Email", "Open") in shown  # the fake's most common pair
