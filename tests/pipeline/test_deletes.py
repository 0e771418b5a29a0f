"""Deletes: after one row of every kind is deleted in LiveAgent, every table marks exactly the
deleted rows (or removes them), nothing else changes, in DuckDB and Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.settings import DELETED_AT
from tests.support import Api
from tests.warehouse import (
    DELETE_KEYS,
    Target,
    Warehouse,
    assert_equal_to_a_clean_run,
    delete_marks,
    same_in_both,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = "liveagent_deletes"
NOTHING: dict[str, set[str]] = {table: set() for table in DELETE_KEYS}


def keys(warehouse: Warehouse, marked: bool) -> dict[str, set[str]]:
    """Per table, the keys (conversation ids for the per-conversation tables) of the rows with
    (or without) a deletion mark."""
    return delete_marks(Target("duckdb", warehouse.path), marked)


def without(data_key: str, key: str, value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A `mutate` transform: the listing without the row whose `key` is `value`."""
    def transform(payload: dict[str, Any]) -> dict[str, Any]:
        rows = payload["response"][data_key]
        payload["response"][data_key] = [row for row in rows if str(row[key]) != value]
        return payload

    return transform


def delete_one_of_each(account: Account, api: Api) -> dict[str, set[str]]:
    """Deletes a row of every kind, through the API where it has an endpoint; returns what
    each table should mark."""
    directory = account.directory
    tag = directory.tags()[2].id
    group = directory.customer_groups()[1].id
    category = next(e for e in directory.kb_entries() if e.rtype == "G")
    article = next(e for e in directory.kb_entries()
                   if e.rtype == "A" and e.parent_entry_id != category.kb_entry_id)
    for path in (f"/api/tags/{tag}", f"/api/customersgroups/{group}",
                 f"/api/knowledgebase/entries/{article.kb_entry_id}"):
        assert api.call("DELETE", path).status_code == 200, path
    gone_entries = {str(n) for n in account.delete_kb_entry(category.kb_entry_id)}
    company = account.company(0).id
    account.remove_company(company)
    agent = directory.agents()[-1].userid
    account.remove_agent(agent)
    purged = account.conversation_id(5)
    account.purge_conversation(purged)
    return {"tags": {tag}, "customer_groups": {group},
            "suggestion_categories": {str(category.kb_entry_id)}, "knowledgebases": set(),
            "companies": {company}, "agents": {agent},
            "kb_entries": {str(article.kb_entry_id)} | gone_entries,
            "conversations": {purged}, "conversation_tags": {purged} if account.record(5).tags
            else set(), "message_groups": {purged}, "messages": {purged}}


def test_every_kind_of_delete_is_marked_and_nothing_else_changes(
    run_cli: Callable[..., int], account: Account, api: Api, warehouse: Warehouse,
) -> None:
    assert run_cli() == 0
    before = keys(warehouse, marked=False)
    account.clock.advance(60)
    expected = delete_one_of_each(account, api)
    assert run_cli("--reconcile") == 0
    assert keys(warehouse, marked=True) == expected
    assert keys(warehouse, marked=False) == {t: before[t] - expected[t] for t in before}
    # a removed agent's messages still find its name
    agent = next(iter(expected["agents"]))
    assert warehouse.scalar(f"SELECT firstname FROM {{ds}}.agents WHERE id = '{agent}'")
    marks = warehouse.scalar(f"SELECT count(DISTINCT {DELETED_AT}) FROM {{ds}}.conversations")
    assert marks == 1  # the time this run noticed
    # later runs leave the marks as they are
    account.clock.advance(60)
    assert run_cli() == 0 and keys(warehouse, marked=True) == expected


def test_a_row_that_comes_back_is_unmarked(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
) -> None:
    assert run_cli("--resources", "tags") == 0
    hidden = account.directory.tags()[0].id
    fake.faults.add("mutate", path="/api/tags$", transform=without("tags", "id", hidden),
                    times=1)
    assert run_cli("--resources", "tags") == 0
    assert keys(warehouse, marked=True)["tags"] == {hidden}
    assert run_cli("--resources", "tags") == 0
    assert keys(warehouse, marked=True)["tags"] == set()


def test_rows_listed_again_are_unmarked_in_every_table(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, api: Api,
    target: Target,
) -> None:
    """A conversation and a knowledge-base entry one reconciliation missed (each listing
    lacked one row: plausible, so recorded) are written again, unmarked, by the next one
    that lists them: the conversation with its tags, message groups and messages."""
    assert run_cli(*target.args) == 0
    conversation = account.conversation_id(next(i for i in range(120) if account.record(i).tags))
    # the last entry: one missing before it would leave a row at the offset that confirms
    # the listing's end (a page cut short, refused)
    entry = api.get("/api/knowledgebase/entries", limit=500)["entries"][-1]["kb_entry_id"]
    # skip=1: the incremental listing comes first, then the listing of every row (and the
    # request that confirms its end)
    fake.faults.add("mutate", path="/api/conversations$", skip=1, times=2,
                    transform=without("conversations", "conversationid", conversation))
    fake.faults.add("mutate", path="/api/knowledgebase/entries$", skip=1, times=2,
                    transform=without("entries", "kb_entry_id", entry))
    assert run_cli(*target.args, "--reconcile") == 0
    marked = delete_marks(target)
    assert marked["kb_entries"] == {entry}
    family = ("conversations", "message_groups", "messages", "conversation_tags")
    assert {table: marked[table] for table in family} == {t: {conversation} for t in family}
    assert run_cli(*target.args, "--reconcile") == 0
    assert delete_marks(target) == NOTHING
    assert_equal_to_a_clean_run(run_cli, target)


def test_the_summary_and_run_history_count_the_rows_marked_deleted(
    run_cli: Callable[..., int], account: Account, api: Api, warehouse: Warehouse,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli() == 0
    account.clock.advance(60)
    expected = delete_one_of_each(account, api)
    capsys.readouterr()
    assert run_cli("--reconcile") == 0
    marked = {table: warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table} "
                                      f"WHERE {DELETED_AT} IS NOT NULL") for table in DELETE_KEYS}
    marked = {table: rows for table, rows in sorted(marked.items()) if rows}
    assert set(marked) == {table for table, gone in expected.items() if gone}
    line = "marked deleted, as LiveAgent no longer lists them: " + \
        ", ".join(f"{table} {rows}" for table, rows in marked.items())
    assert line in capsys.readouterr().out.splitlines()
    run = warehouse.rows("run_history", "rows_marked_deleted, rows_removed, deletes",
                         "ORDER BY finished_at DESC LIMIT 1")[0]
    assert run["rows_marked_deleted"] == sum(marked.values()) and run["rows_removed"] == 0
    assert json.loads(run["deletes"]) == {"marked": marked}


def test_a_failed_listing_marks_nothing(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    assert run_cli("--resources", "conversations,tags") == 0
    account.purge_conversation(account.conversation_id(7))
    account.delete_tag(account.directory.tags()[0].id)
    fake.faults.add("empty", path="/api/conversations$", skip=1)  # the id listing fails
    fake.faults.add("empty", path="/api/tags$")
    assert run_cli("--resources", "conversations,tags", "--reconcile") == 1
    assert all(not marked for marked in keys(warehouse, marked=True).values())


def test_hard_deletes_remove_what_two_reconciliations_agree_on(
    run_cli: Callable[..., int], account: Account, api: Api, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__DELETES", "remove")
    assert run_cli() == 0
    before = keys(warehouse, marked=False)
    account.clock.advance(60)
    expected = delete_one_of_each(account, api)
    capsys.readouterr()
    assert run_cli("--reconcile") == 0  # one listing proves nothing yet
    assert keys(warehouse, marked=False) == before
    waiting = "no longer listed, removed if the next listing agrees: agents 1, companies 1, "
    assert waiting in capsys.readouterr().out
    assert run_cli("--reconcile") == 0  # the next agrees
    assert keys(warehouse, marked=True) == NOTHING
    assert keys(warehouse, marked=False) == {t: before[t] - expected[t] for t in before}
    assert "removed, as two listings in a row no longer had them: " in capsys.readouterr().out


def test_hard_deletes_never_remove_a_row_one_listing_missed(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__DELETES", "remove")
    assert run_cli("--resources", "tags") == 0
    tags = keys(warehouse, marked=False)["tags"]
    hidden = account.directory.tags()[0].id
    for _ in range(2):  # missed, listed again, missed: never twice in a row
        fake.faults.add("mutate", path="/api/tags$", transform=without("tags", "id", hidden),
                        times=1)
        assert run_cli("--resources", "tags") == 0
        assert keys(warehouse, marked=False)["tags"] == tags
        assert run_cli("--resources", "tags") == 0
        assert keys(warehouse, marked=False)["tags"] == tags


@pytest.mark.parametrize("confirmation", ["--confirm-deletes", "max_deleted_share"])
def test_a_mass_deletion_is_refused_until_confirmed(
    run_cli: Callable[..., int], account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], confirmation: str,
) -> None:
    """7 of 12 tags deleted at once is more than one listing may take away (6: at most half
    of the 10 rows always allowed): refused until the run is confirmed or the share raised."""
    assert run_cli("--resources", "tags") == 0
    gone = {tag.id for tag in account.directory.tags()[:7]}
    for tag in gone:
        account.delete_tag(tag)
    capsys.readouterr()
    assert run_cli("--resources", "tags") == 1
    error = capsys.readouterr().err
    assert "it lacks 7 of the 12 rows loaded" in error and "--confirm-deletes" in error
    assert keys(warehouse, marked=True) == NOTHING
    if confirmation == "max_deleted_share":
        monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_DELETED_SHARE", "0.6")
        assert run_cli("--resources", "tags") == 0
    else:
        assert run_cli("--resources", "tags", confirmation) == 0
    assert keys(warehouse, marked=True)["tags"] == gone


def test_the_weekly_cadence_finds_purged_conversations(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
) -> None:
    assert run_cli("--resources", "conversations") == 0
    purged = account.conversation_id(9)
    account.purge_conversation(purged)
    fake.log.clear()
    assert run_cli("--resources", "conversations") == 0  # the same day: not listed
    assert len(fake.log.select(path="/api/conversations$")) == 1
    assert keys(warehouse, marked=True)["conversations"] == set()
    account.clock.advance(7 * 86400)
    assert run_cli("--resources", "conversations") == 0
    assert keys(warehouse, marked=True)["conversations"] == {purged}
    # the listing of every row: one page, and the empty one after it that confirms the end
    assert len(fake.log.select(path="/api/conversations$")) == 4


def test_a_reconciliation_killed_midway_marks_nothing_and_the_next_finishes(
    run_cli: Callable[..., int], account: Account, warehouse: Warehouse, configured: Path,
) -> None:
    assert run_cli("--resources", "conversations") == 0
    purged = account.conversation_id(11)
    account.purge_conversation(purged)
    killed = subprocess.run(
        [sys.executable, "-m", "tests.reliability.killer", "reconcile", "1", "--", "run",
         "--progress-every", "0", "--pipelines-dir", str(configured / "pipelines"),
         "--resources", "conversations", "--reconcile"],
        cwd=configured, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert keys(warehouse, marked=True)["conversations"] == set()
    assert run_cli("--resources", "conversations", "--reconcile") == 0
    assert keys(warehouse, marked=True)["conversations"] == {purged}


@pytest.mark.postgres
def test_postgres_marks_exactly_as_duckdb(
    run_cli: Callable[..., int], account: Account, api: Api, warehouse: Warehouse,
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn)
    to_postgres = ("--destination", "postgres", "--dataset", SCHEMA)
    assert run_cli() == 0 and run_cli(*to_postgres) == 0
    account.clock.advance(60)
    delete_one_of_each(account, api)
    assert run_cli("--reconcile") == 0 and run_cli("--reconcile", *to_postgres) == 0
    same_in_both(warehouse, postgres_dsn, SCHEMA)
