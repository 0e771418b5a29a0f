"""SIGKILL during extract, normalize and load, then a rerun: the warehouse equals the fake
with no duplicates and no gaps. A long backfill commits in chunks and resumes after the last
committed one."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.postgres import COMMITTED_JOBS_TABLE
from tests.support import Api, make_account
from tests.warehouse import (
    Target,
    Warehouse,
    assert_conversation_family_equal,
    assert_equal_to_a_clean_run,
    postgres_scalar,
)

REPO = Path(__file__).resolve().parents[2]
KEYS = {"conversations": "conversationid", "messages": "messageid",
        "message_groups": "messagegroupid", "companies": "id", "agents": "id",
        "kb_entries": "kb_entry_id", "tags": "id", "report_sla_log": "id",
        "report_agents": "report_date, id", "report_tickets_load": "date",
        "conversation_tags": "conversationid, tag_id", "agent_online_status": "id, snapshot_at"}


def run_killer(configured: Path, point: str, count: float, *args: str) -> int:
    """The CLI in its own process, to be killed at `point`; returns its exit status."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.killer", point, str(count), "--",
         "run", "--progress-every", "0", "--pipelines-dir", str(configured / "pipelines"),
         *args],
        cwd=configured, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=300,
    )
    assert result.returncode in (-9, 0), result.stderr[-2000:]
    return result.returncode


def killed_run(configured: Path, point: str, count: int, *args: str) -> int:
    """The CLI in its own process, killed at `point`; returns its exit status."""
    returncode = run_killer(configured, point, count, *args)
    assert returncode == -9, "the run ended before the kill point"
    return returncode


def assert_no_duplicates(warehouse: Warehouse) -> None:
    for table, key in KEYS.items():
        total = warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table}")
        distinct = warehouse.scalar(f"SELECT count(*) FROM (SELECT DISTINCT {key} "
                                    f"FROM {{ds}}.{table})")
        assert total == distinct > 0, table


@pytest.mark.parametrize("point, count", [("extract", 60), ("normalize", 1), ("load", 5)])
def test_killed_run_then_rerun_is_exact(
    run_cli, fake: FakeLiveAgent, api: Api, target: Target, configured: Path,
    point: str, count: int
) -> None:
    assert killed_run(configured, point, count, *target.args) == -9  # it really died mid-step
    assert run_cli("--progress-every", "0", *target.args) == 0
    if target.destination == "duckdb":
        warehouse = Warehouse(target.location)
        assert_conversation_family_equal(api, warehouse)
        assert_no_duplicates(warehouse)
    assert_equal_to_a_clean_run(run_cli, target)


@pytest.mark.postgres
@pytest.mark.parametrize("point, count, create_indexes", [
    ("copied", 1, "true"), ("copied", 4, "false"), ("inserted", 1, "true")])
def test_killed_after_a_job_committed_then_rerun_is_exact(
    run_cli, fake: FakeLiveAgent, configured: Path, postgres_dsn: str, postgres_schema: str,
    monkeypatch: pytest.MonkeyPatch, point: str, count: int, create_indexes: str
) -> None:
    """The COPY (or dlt's INSERT of its state) committed in Postgres, dlt had not yet recorded
    the job as done: the resumed job must not write its file a second time, with or without
    dlt's unique indexes."""
    monkeypatch.setenv("DESTINATION__POSTGRES__CREATE_INDEXES", create_indexes)
    target = Target("postgres", postgres_dsn, postgres_schema)
    committed = f"SELECT count(*) FROM {postgres_schema}.{COMMITTED_JOBS_TABLE}"
    assert killed_run(configured, point, count, *target.args) == -9
    assert postgres_scalar(postgres_dsn, committed) >= count  # died inside the window
    assert run_cli("--progress-every", "0", *target.args) == 0
    assert postgres_scalar(postgres_dsn, committed) == 0  # forgotten once the package loaded
    assert_equal_to_a_clean_run(run_cli, target)


@pytest.fixture
def account() -> Account:
    return make_account(conversations=600, timezone="Europe/Bratislava")


def test_long_backfill_commits_in_chunks_and_resumes_after_the_last(
    run_cli, fake: FakeLiveAgent, api: Api, warehouse: Warehouse, configured: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "200")
    family = ("--resources", "conversations")
    assert killed_run(configured, "extract", 450, *family) == -9  # inside the third chunk
    committed = {r["conversationid"] for r in warehouse.rows("conversations", "conversationid")}
    # whole chunks were loaded before the kill: two as a rule, one when the second's load had
    # not committed by the 450th request (seen once in CI on 2 busy cores); a chunk may hold a
    # few less than 200 new conversations when rows of the previous chunk's last second are
    # listed again
    assert 190 <= len(committed) <= 200 or 390 <= len(committed) <= 400, len(committed)

    fake.log.clear()
    assert run_cli("--progress-every", "0", *family) == 0
    fetched = {e.path.split("/")[3] for e in fake.log.select(path="/messages$")}
    assert not fetched & committed  # committed chunks are not fetched again
    assert len(fetched | committed) == 600
    assert_conversation_family_equal(api, warehouse)


def test_chunks_without_a_crash(
    run_cli, fake: FakeLiveAgent, api: Api, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "250")
    assert run_cli("--progress-every", "0", "--resources", "conversations") == 0
    assert "history committed in 3 loads" in capsys.readouterr().out
    assert len(fake.log.select(path="/messages$")) == 600  # each conversation once
    listings = [e.params.get("datechanged", "") for e in
                fake.log.select(path="/api/conversations$")]
    # the first listing finds everything and notes where the second load ends: that load
    # lists only its own rows, and an open listing takes the rest; then the history window
    # below the last 30 days
    assert [value.split(":")[0] for value in listings] == ["gte", "btw", "gte", "btw"]
    assert_conversation_family_equal(api, warehouse)


def test_changes_during_a_chunked_backfill_are_not_missed(
    run_cli, fake: FakeLiveAgent, account: Account, api: Api, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Conversations changed while a backfill runs (one already loaded, one in a later load's
    window) move past the noted cuts and are read by the open listing at the end."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "150")
    by_change = sorted(range(600), key=lambda i: account.record(i).changed)
    agent = account.entities.agents[0].email

    def change_meanwhile(payload: dict) -> dict:
        account.clock.advance(60)
        for index in (by_change[10], by_change[400]):
            account.set_status(account.conversation_id(index), "R", useridentifier=agent)
        return payload

    # during the second load's listing, after the first load committed
    fake.faults.add("mutate", path="/api/conversations$", skip=1, times=1,
                    transform=change_meanwhile)
    assert run_cli("--progress-every", "0", "--resources", "conversations") == 0
    listings = [e.params.get("datechanged", "").split(":")[0]
                for e in fake.log.select(path="/api/conversations$")]
    assert listings == ["gte", "btw", "btw", "btw", "gte", "btw"]
    assert_conversation_family_equal(api, warehouse)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_kill_storm_during_a_chunked_backfill_ends_exact(
    run_cli, fake: FakeLiveAgent, configured: Path, postgres_dsn: str, postgres_schema: str,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight SIGKILLs at random points of a backfill into Postgres that commits 50
    conversations per load, then a run to the end: the tables equal a run without kills."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "50")
    target = Target("postgres", postgres_dsn, postgres_schema)
    rng = random.Random(20261125)
    kills = runs = 0
    while kills < 8 and runs < 20:  # a run that ends before its kill does not count
        # wherever the run is after so many seconds, or right after a COPY's commit
        point, count = rng.choice([("seconds", round(rng.uniform(0.2, 3.0), 2)),
                                   ("copied", rng.randint(1, 14))])
        kills += run_killer(configured, point, count, *target.args) == -9
        runs += 1
    assert kills == 8
    assert run_cli("--progress-every", "0", *target.args) == 0
    assert_equal_to_a_clean_run(run_cli, target)
