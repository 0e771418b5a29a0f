"""Lists the API has no change filter for (tags, customer groups, suggestion categories,
knowledge bases) and the labels are read whole every run, but only what changed in them is
written: a run with nothing changed writes none of their rows and says so, in DuckDB and
Postgres; a change, a deletion or a row that comes back writes that row only."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.labels import LABELS, LABELS_TABLE
from sources.liveagent.settings import (
    AGENT_ONLINE_STATUS,
    CUSTOMER_GROUPS,
    DELETED_AT,
    KNOWLEDGEBASES,
    SUGGESTION_CATEGORIES,
    TAGS,
)
from tests.support import Api
from tests.warehouse import Target

LISTS = tuple(t.name for t in (TAGS, CUSTOMER_GROUPS, SUGGESTION_CATEGORIES, KNOWLEDGEBASES))
WHOLE = (*LISTS, LABELS_TABLE.name)
NOTHING = dict.fromkeys(WHOLE, 0)
ONLY_WHOLE = ("--resources", ",".join(WHOLE))
# every table but the reports, whose last days are read again every run by design
NOT_REPORTS = ("--resources", ",".join((*WHOLE, "conversations", "conversation_details",
                                        "companies", "kb_entries", "agents",
                                        AGENT_ONLINE_STATUS.name)))


@pytest.fixture
def duckdb_target(configured: Path) -> Target:
    return Target("duckdb", str(configured / "warehouse.duckdb"))


def run(run_cli: Callable[..., int], target: Target, *args: str) -> None:
    assert run_cli("--progress-every", "0", *target.args, *args) == 0


def written(target: Target) -> list[dict[str, int]]:
    """Per run, oldest first, the rows it wrote into each of the whole-list tables (from
    run_history_tables)."""
    rows = target.query("SELECT r.run_id, t.table_name, t.rows_written "
                        "FROM {ds}.run_history_tables t JOIN {ds}.run_history r "
                        "ON r.run_id = t.run_id ORDER BY r.started_at")
    runs: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["table_name"] in WHOLE:
            runs.setdefault(row["run_id"], {})[row["table_name"]] = row["rows_written"]
    return list(runs.values())


def tags(target: Target) -> dict[str, tuple[str, bool]]:
    """The tags table: name and whether it is marked deleted, by id."""
    rows = target.query(f"SELECT id, name, {DELETED_AT} IS NOT NULL AS marked FROM {{ds}}.tags")
    return {row["id"]: (row["name"], row["marked"]) for row in rows}


def without(tag_id: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def listing(payload: dict[str, Any]) -> dict[str, Any]:
        payload["response"]["tags"] = [t for t in payload["response"]["tags"] if t["id"] != tag_id]
        return payload
    return listing


def test_a_run_with_nothing_changed_writes_no_list_rows_and_says_so(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(run_cli, target, *NOT_REPORTS)
    fake.account.clock.advance(60)
    capsys.readouterr()
    run(run_cli, target, *NOT_REPORTS)
    snapshot = len(api.get("/api/onlinestatus/agents")["agentsOnlineStates"])
    assert capsys.readouterr().out.startswith(
        "liveagent-pipeline: no new or changed rows since the last run "
        f"({snapshot} agent_online_status snapshot rows appended); checked in ")
    first, second = written(target)
    assert all(first[table] > 0 for table in WHOLE) and second == NOTHING
    finished = [row["finished_at"] for row in target.query(
        "SELECT finished_at FROM {ds}.run_history ORDER BY started_at")]
    fresh = {row["table_name"]: row for row in target.query("SELECT * FROM {ds}.table_freshness")}
    for table in WHOLE:  # read by the second run, written by the first
        assert (fresh[table]["data_as_of"], fresh[table]["last_written_at"]) == \
            (finished[1], finished[0]), table


def test_a_renamed_tag_writes_that_row_only(
    run_cli: Callable[..., int], api: Api, duckdb_target: Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    renamed = api.get("/api/tags")["tags"][3]["id"]
    api.call("PUT", f"/api/tags/{renamed}", name="Renamed")
    capsys.readouterr()
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("liveagent-pipeline: loaded 1 rows in ")
    assert lines[1].split() == ["tags", "1"] and not lines[2].startswith("  ")
    assert written(duckdb_target)[-1] == {**NOTHING, "tags": 1}
    listed = api.get("/api/tags")["tags"]
    assert tags(duckdb_target) == {t["id"]: (t["name"], False) for t in listed}
    assert tags(duckdb_target)[renamed] == ("Renamed", False)


@pytest.mark.parametrize("deletes", ["mark", "remove"])
def test_a_deleted_tag_is_marked_or_removed_and_nothing_else_is_written(
    run_cli: Callable[..., int], api: Api, duckdb_target: Target,
    monkeypatch: pytest.MonkeyPatch, deletes: str,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__DELETES", deletes)
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    listed = {t["id"]: t["name"] for t in api.get("/api/tags")["tags"]}
    gone = list(listed)[2]
    assert api.call("DELETE", f"/api/tags/{gone}").status_code == 200
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    if deletes == "mark":  # the marked copy is the one row written
        expected = {key: (name, key == gone) for key, name in listed.items()}
        assert written(duckdb_target)[-1] == {**NOTHING, "tags": 1}
    else:  # removed once a second listing agrees; a row that only removes another is not a
        # row written
        assert tags(duckdb_target) == {key: (name, False) for key, name in listed.items()}
        run(run_cli, duckdb_target, *ONLY_WHOLE)
        expected = {key: (name, False) for key, name in listed.items() if key != gone}
        assert written(duckdb_target)[-1] == NOTHING
    assert tags(duckdb_target) == expected
    run(run_cli, duckdb_target, *ONLY_WHOLE)  # the deletion stays as it is
    assert written(duckdb_target)[-1] == NOTHING and tags(duckdb_target) == expected


def test_a_deleted_tag_that_comes_back_is_written_unmarked(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, duckdb_target: Target,
) -> None:
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    listed = {t["id"]: t["name"] for t in api.get("/api/tags")["tags"]}
    hidden = next(iter(listed))
    fake.faults.add("mutate", path="/api/tags$", transform=without(hidden), times=1)
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    assert tags(duckdb_target)[hidden] == (listed[hidden], True)
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    assert written(duckdb_target)[-1] == {**NOTHING, "tags": 1}
    assert tags(duckdb_target) == {key: (name, False) for key, name in listed.items()}


def test_a_tag_rejected_once_is_written_when_it_loads_and_only_it(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, duckdb_target: Target,
) -> None:
    bad = api.get("/api/tags")["tags"][1]["id"]

    def broken(payload: dict[str, Any]) -> dict[str, Any]:
        for row in payload["response"]["tags"]:
            if row["id"] == bad:
                row["name"] = ["not", "a", "name"]
        return payload

    fake.faults.add("mutate", path="/api/tags$", transform=broken, times=1)
    assert run_cli("--progress-every", "0", *ONLY_WHOLE) == 3  # rows rejected
    rejected = duckdb_target.query("SELECT table_name, row_key FROM {ds}.rejected_rows")
    assert rejected == [{"table_name": "tags", "row_key": bad}] and bad not in tags(duckdb_target)
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    assert written(duckdb_target)[-1] == {**NOTHING, "tags": 1}
    assert duckdb_target.query("SELECT * FROM {ds}.rejected_rows") == []
    assert set(tags(duckdb_target)) == {t["id"] for t in api.get("/api/tags")["tags"]}


def test_a_full_refresh_writes_every_list_row_again(
    run_cli: Callable[..., int], duckdb_target: Target,
) -> None:
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    run(run_cli, duckdb_target, *ONLY_WHOLE)
    run(run_cli, duckdb_target, *ONLY_WHOLE, "--full-refresh")
    first, unchanged, refreshed = written(duckdb_target)
    assert unchanged == NOTHING and refreshed == first
    assert duckdb_target.query("SELECT count(*) AS n FROM {ds}.labels") == [{"n": len(LABELS)}]


def test_labels_are_replaced_whole_when_they_change(
    run_cli: Callable[..., int], duckdb_target: Target, monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(run_cli, duckdb_target, "--resources", "labels")
    run(run_cli, duckdb_target, "--resources", "labels")
    changed = (replace(LABELS[0], label="Relabelled"), *LABELS[2:])  # one changed, one gone
    # the module, not the resource the package exports under its name
    monkeypatch.setattr(importlib.import_module("sources.liveagent.labels"), "LABELS", changed)
    run(run_cli, duckdb_target, "--resources", "labels")
    assert [runs["labels"] for runs in written(duckdb_target)] == \
        [len(LABELS), 0, len(changed)]
    loaded = duckdb_target.query("SELECT table_name, column_name, code, label FROM {ds}.labels")
    assert sorted(loaded, key=str) == sorted((asdict(label) for label in changed), key=str)
