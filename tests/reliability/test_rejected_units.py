"""Rows kept in `rejected_rows` are read again until they load: a rejected conversation whose
re-read answers 404 once, a report day outside the lookback, a knowledge-base entry that does
not change; a unit leaves the table only when its row loads or LiveAgent says twice, in two
runs, that it is gone. In DuckDB and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.dictionary import COLUMNS, DLT_COLUMNS
from tests.support import Api
from tests.warehouse import Target

Transform = Callable[[dict], dict]


def run(run_cli: Callable[..., int], target: Target, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str]:
    code = run_cli(*target.args, "--progress-every", "0", *args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def kept(target: Target) -> list[dict[str, Any]]:
    return target.query("SELECT table_name, row_key, reason FROM {ds}.rejected_rows")


def broken(data_key: str, where: Callable[[dict], bool], field: str) -> Transform:
    """An answer whose rows `where` picks carry a list in `field` (a row that cannot load)."""
    def transform(payload: dict) -> dict:
        for row in payload["response"][data_key]:
            if where(row):
                row[field] = ["not", "a", "value"]
        return payload
    return transform


def test_rejected_rows_exists_empty_after_a_clean_run_of_any_tables(
    run_cli: Callable[..., int], target: Target, capsys: pytest.CaptureFixture[str],
) -> None:
    """The monitoring query runs before any row was ever rejected, whichever tables ran."""
    assert run(run_cli, target, capsys, "--resources", "tags")[0] == 0
    assert target.query("SELECT table_name, count(*) AS n FROM {ds}.rejected_rows "
                        "GROUP BY 1") == []
    columns = target.query("SELECT column_name FROM information_schema.columns WHERE "
                           "table_schema = '{ds}' AND table_name = 'rejected_rows'")
    assert {row["column_name"] for row in columns} == \
        set(COLUMNS["rejected_rows"]) | set(DLT_COLUMNS)


def test_a_rejected_conversation_whose_reread_answers_404_once_loads_later(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = account.conversation_id(0)
    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=broken(
        "conversations", lambda row: row["conversationid"] == first, "subject"))
    conversations = ("--resources", "conversations")
    assert run(run_cli, target, capsys, *conversations)[0] == 3
    fake.faults.add("status", status=404, path=f"/api/conversations/{first}$", times=1)
    code, out = run(run_cli, target, capsys, *conversations)
    assert code == 3, out  # one 404 (a replica that lags) is not LiveAgent saying it is gone
    assert [row["row_key"] for row in kept(target)] == [first]
    assert "1 conversations read again by id" in out
    code, out = run(run_cli, target, capsys, *conversations)
    assert code == 0, out
    assert kept(target) == []
    loaded = target.query(f"SELECT subject FROM {{ds}}.conversations "
                          f"WHERE conversationid = '{first}'")
    assert loaded == [{"subject": account.record(0).subject or None}]
    assert target.query(f"SELECT count(*) AS n FROM {{ds}}.messages "
                        f"WHERE conversationid = '{first}'")[0]["n"] > 0


def test_a_report_day_outside_the_lookback_is_read_again_until_it_loads(
    run_cli: Callable[..., int], fake: FakeLiveAgent, target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = "2025-09-20"  # 19 days before the account's today: far outside the 3-day lookback
    agents = ("--resources", "report_agents")
    assert run(run_cli, target, capsys, *agents)[0] == 0
    before = target.query(f"SELECT * FROM {{ds}}.report_agents WHERE report_date = '{day}'")
    assert before
    fake.faults.add("mutate", path="/api/reports/agents$", times=1,
                    transform=broken("agents", lambda row: True, "contactid"))
    code, out = run(run_cli, target, capsys, *agents, "--start-date", day, "--end-date", day)
    assert code == 3, out
    assert {row["reason"][:40] for row in kept(target)} and len(kept(target)) == len(before)
    assert "report days read again (a request each)" in out
    fake.log.clear()
    code, out = run(run_cli, target, capsys, *agents)
    assert code == 0, out
    assert kept(target) == []
    assert [entry.params["date_from"] for entry in fake.log.select(path="/api/reports/agents$")
            if entry.params["date_from"] == day] == [day]
    after = target.query(f"SELECT * FROM {{ds}}.report_agents WHERE report_date = '{day}'")
    assert len(after) == len(before)


def test_an_unchanged_kb_entry_rejected_once_is_read_again_by_id(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = api.get("/api/knowledgebase/entries", limit=500)["entries"][3]
    entry_id = entry["kb_entry_id"]
    fake.faults.add("mutate", path="/api/knowledgebase/entries$", times=1, transform=broken(
        "entries", lambda row: row["kb_entry_id"] == entry_id, "title"))
    entries = ("--resources", "kb_entries")
    code, out = run(run_cli, target, capsys, *entries)
    assert code == 3, out
    assert [row["row_key"] for row in kept(target)] == [entry_id]
    assert "1 knowledge-base entries read again by id (a request each)" in out
    fake.log.clear()
    code, out = run(run_cli, target, capsys, *entries)
    assert code == 0, out
    assert kept(target) == []
    by_id = [e for e in fake.log.select(path="/api/knowledgebase/entries$")
             if e.params.get("entry_id")]
    assert [e.params["entry_id"] for e in by_id] == [entry_id]
    assert target.query(f"SELECT title FROM {{ds}}.kb_entries WHERE kb_entry_id = "
                        f"'{entry_id}'") == [{"title": entry["title"] or None}]


def test_a_bounded_reread_ends_a_kb_rejection_only_by_loading_the_entry(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = api.get("/api/knowledgebase/entries", limit=500)["entries"]
    entry = max(listed, key=lambda row: row["datechanged"])
    entry_id = entry["kb_entry_id"]
    fake.faults.add("mutate", path="/api/knowledgebase/entries$", times=1, transform=broken(
        "entries", lambda row: row["kb_entry_id"] == entry_id, "title"))
    entries = ("--resources", "kb_entries")
    assert run(run_cli, target, capsys, *entries)[0] == 3
    changed = datetime.strptime(entry["datechanged"], "%Y-%m-%d %H:%M:%S").date()
    end = changed - timedelta(days=1)  # the re-read ends before the entry's change
    code, out = run(run_cli, target, capsys, *entries, "--start-date",
                    (end - timedelta(days=30)).isoformat(), "--end-date", end.isoformat())
    loaded = target.query(f"SELECT title FROM {{ds}}.kb_entries WHERE kb_entry_id = "
                          f"'{entry_id}'")
    still_kept = [row["row_key"] for row in kept(target)] == [entry_id]
    assert still_kept or loaded == [{"title": entry["title"] or None}], out
    assert code == (3 if still_kept else 0), out
    assert run(run_cli, target, capsys, *entries)[0] == 0
    assert kept(target) == []
    assert target.query(f"SELECT title FROM {{ds}}.kb_entries WHERE kb_entry_id = "
                        f"'{entry_id}'") == [{"title": entry["title"] or None}]


def test_a_kb_entry_gone_for_good_leaves_after_two_runs_that_miss_it(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, api: Api,
    target: Target, capsys: pytest.CaptureFixture[str],
) -> None:
    entry_id = api.get("/api/knowledgebase/entries", limit=500)["entries"][3]["kb_entry_id"]
    fake.faults.add("mutate", path="/api/knowledgebase/entries$", times=1, transform=broken(
        "entries", lambda row: row["kb_entry_id"] == entry_id, "title"))
    entries = ("--resources", "kb_entries")
    assert run(run_cli, target, capsys, *entries)[0] == 3
    account.delete_kb_entry(entry_id)
    code, out = run(run_cli, target, capsys, *entries)
    assert code == 3, out  # missing once: kept
    assert [row["row_key"] for row in kept(target)] == [entry_id]
    code, out = run(run_cli, target, capsys, *entries)
    assert code == 0, out  # missing again, in a later run: gone
    assert kept(target) == []


def test_the_retries_of_one_run_are_bounded(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, target: Target,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.faults.add("error_envelope", status=500, path=r"/messages$")  # every one, for good
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "1")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REREADS_PER_RUN", "50")
    conversations = ("--resources", "conversations")
    code, out = run(run_cli, target, capsys, *conversations)
    assert code == 3 and "120 rows could not be loaded (120 new this run)" in out
    asked: set[str] = set()
    for _ in range(3):  # 50 a run, least recently read first: every one in turn
        fake.log.clear()
        code, out = run(run_cli, target, capsys, *conversations)
        assert code == 3, out
        assert "120 conversations' messages read again by id (a request each)" in out
        assert "(at most 50 of each a run)" in out
        reads = [entry.path.split("/")[3] for entry in fake.log.select(path=r"/messages$")]
        assert len(reads) == len(set(reads)) == 50
        asked.update(reads)
    assert asked == {account.conversation_id(index) for index in range(120)}
