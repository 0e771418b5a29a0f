"""Deletes: after one row of every kind is deleted in LiveAgent, every table marks exactly the
deleted rows (or removes them), nothing else changes, in DuckDB and Postgres."""

from __future__ import annotations

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
from tests.warehouse import Warehouse, same_in_both

REPO = Path(__file__).resolve().parents[2]
SCHEMA = "liveagent_deletes"
KEYS = {"tags": "id", "customer_groups": "id", "suggestion_categories": "id",
        "knowledgebases": "kb_id", "companies": "id", "agents": "id",
        "kb_entries": "kb_entry_id", "conversations": "conversationid",
        "conversation_tags": "conversationid", "message_groups": "conversationid",
        "messages": "conversationid"}


def keys(warehouse: Warehouse, marked: bool) -> dict[str, set[str]]:
    """Per table, the keys (conversation ids for the per-conversation tables) of the rows with
    (or without) a deletion mark."""
    test = "IS NOT NULL" if marked else "IS NULL"
    loaded = warehouse.tables()
    return {table: {row["k"] for row in warehouse.rows(table, f"{key} AS k",
                                                        f"WHERE {DELETED_AT} {test}")}
            if table in loaded else set() for table, key in KEYS.items()}


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

    def without_it(payload: dict[str, Any]) -> dict[str, Any]:
        payload["response"]["tags"] = [t for t in payload["response"]["tags"]
                                       if t["id"] != hidden]
        return payload

    fake.faults.add("mutate", path="/api/tags$", transform=without_it, times=1)
    assert run_cli("--resources", "tags") == 0
    assert keys(warehouse, marked=True)["tags"] == {hidden}
    assert run_cli("--resources", "tags") == 0
    assert keys(warehouse, marked=True)["tags"] == set()


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


def test_hard_deletes_remove_the_rows(
    run_cli: Callable[..., int], account: Account, api: Api, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__DELETES", "remove")
    assert run_cli() == 0
    before = keys(warehouse, marked=False)
    account.clock.advance(60)
    expected = delete_one_of_each(account, api)
    assert run_cli("--reconcile") == 0
    assert keys(warehouse, marked=True) == {t: set() for t in KEYS}
    assert keys(warehouse, marked=False) == {t: before[t] - expected[t] for t in before}


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
    assert len(fake.log.select(path="/api/conversations$")) == 3  # the id listing: one page


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
