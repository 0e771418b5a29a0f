"""Scheduled loads and readers side by side: readers of the DuckDB file (a notebook that
reconnects, a BI tool that keeps its connection) query it in a loop during a multi-load
backfill and incremental runs; no run fails, no query fails, and every query sees whole loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from liveagent_fake.models import Account
from pipelines import read_copy
from pipelines.liveagent_pipeline import main
from tests.support import ZONE, Api, make_account
from tests.warehouse import Warehouse, assert_conversation_family_equal

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def account() -> Account:
    return make_account(conversations=300, timezone=ZONE)


@pytest.fixture(autouse=True)
def several_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backfill of several loads, slow enough for readers to query between them."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIORITY_DAYS", "7")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "60")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "6000")


@contextmanager
def readers(path: Path, stop: Path) -> Iterator[list[dict]]:
    """A reader that reconnects for every query and one that holds its connection, both
    querying `path` until the block ends; their reports fill the yielded list."""
    processes = [subprocess.Popen(
        [sys.executable, "-m", "benchmarks.reader", str(path), "--until", str(stop), "--pause",
         "0.05", *hold],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for hold in ([], ["--hold"])]
    reports: list[dict] = []
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline() == "reading\n"
        yield reports
    finally:
        stop.touch()
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err[-2000:]
            reports.append(json.loads(out))


def change_the_account(account: Account, round_: int) -> None:
    account.clock.advance(600)
    agent = account.entities.agents[0].email
    for index in range(round_ * 10, round_ * 10 + 10):
        account.set_status(account.conversation_id(index), "R", useridentifier=agent)


@pytest.mark.slow
def test_readers_and_loads_never_break_each_other(
    run_cli: Callable[..., int], configured: Path, account: Account, api: Api,
    warehouse: Warehouse,
) -> None:
    path = Path(warehouse.path)
    with readers(path, configured / "stop") as reports:
        assert run_cli("--progress-every", "0") == 0  # the backfill, in several loads
        for round_ in range(2):
            change_the_account(account, round_)
            assert run_cli("--progress-every", "0") == 0
        # the status of a target is read the same way, any time
        assert main(["status", "--pipelines-dir", str(configured / "pipelines")]) == 0
    reconnecting, holding = reports
    for report in reports:
        assert report["failures"] == [] and report["incomplete"] == [], report
    assert reconnecting["queries"] >= 20
    loads_seen = [loads for loads, _ in reconnecting["states"]]
    assert len(loads_seen) >= 4 and loads_seen == sorted(loads_seen)  # load after load
    assert holding["queries"] >= 20  # on the file it opened first, all along
    assert_conversation_family_equal(api, warehouse)


def test_the_writers_copy_is_the_runs_own(
    run_cli: Callable[..., int], configured: Path, warehouse: Warehouse,
) -> None:
    """Runs load into `.liveagent/<file>` and publish `<file>`, which holds the same data."""
    assert run_cli("--resources", "tags,conversations", "--progress-every", "0") == 0
    writer = Warehouse(str(configured / ".liveagent" / "warehouse.duckdb"))
    for table in ("tags", "conversations", "messages", "_dlt_loads", "run_history"):
        query = f"SELECT count(*) FROM {{ds}}.{table}"
        assert writer.scalar(query) == warehouse.scalar(query) > 0, table
    assert not (configured / "warehouse.duckdb.wal").exists()


def test_a_warehouse_loaded_without_a_read_copy_becomes_the_writers_copy(
    run_cli: Callable[..., int], configured: Path, account: Account, api: Api,
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A warehouse loaded before runs kept their own copy goes on from its state."""
    monkeypatch.setenv("DESTINATION__DUCKDB__READ_COPY", "false")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "0")
    assert run_cli("--resources", "conversations", "--progress-every", "0") == 0
    monkeypatch.delenv("DESTINATION__DUCKDB__READ_COPY")
    change_the_account(account, 0)
    capsys.readouterr()
    assert run_cli("--resources", "conversations", "--progress-every", "0") == 0
    out = capsys.readouterr().out
    written = dict(line.split() for line in out.splitlines() if line.startswith("  conv"))
    assert written["conversations"] == "10"  # the changed ones, not all of them again
    assert (configured / ".liveagent" / "warehouse.duckdb").exists()
    assert_conversation_family_equal(api, warehouse)


def test_status_answers_while_a_run_loads(
    configured: Path, account: Account, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`status` takes no lock: during a multi-load backfill it says a run is going, how far,
    and what the loads committed so far hold; the run is not held up."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "3000")
    pipelines = str(configured / "pipelines")
    run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.liveagent_pipeline", "run", "--pipelines-dir",
         pipelines, "--progress-every", "0"], cwd=configured,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    seen = []
    while run.poll() is None:
        assert main(["status", "--pipelines-dir", pipelines]) == 0
        seen.append(capsys.readouterr().out)
    _, err = run.communicate()
    assert run.returncode == 0, err
    going = [status for status in seen if f"a run is going: PID {run.pid}" in status]
    assert going and "API requests so far" in going[-1]
    assert any("as of the last load" in status and "history left:" in status
               for status in going)  # the backfill's first loads, committed meanwhile
    assert main(["status", "--pipelines-dir", pipelines]) == 0
    after = capsys.readouterr().out
    assert "a run is going" not in after and "backfill complete" in after


def test_a_copy_the_writer_changed_during_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer, published = tmp_path / ".liveagent" / "w.duckdb", tmp_path / "w.duckdb"
    writer.parent.mkdir()
    with duckdb.connect(str(writer)) as db:
        db.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    copies: list[Path] = []
    copy = read_copy.copy_file

    def copy_then_change(source: Path, target: Path) -> None:
        copy(source, target)
        copies.append(target)
        if len(copies) == 1:  # something wrote the writer's file during the first copy
            with duckdb.connect(str(source)) as db:
                db.execute("INSERT INTO t SELECT range FROM range(1000, 3000)")
                db.execute("CHECKPOINT")

    monkeypatch.setattr(read_copy, "copy_file", copy_then_change)
    read_copy.publish(writer, published)
    assert len(copies) == 2
    with duckdb.connect(str(published), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (3000,)


def test_a_torn_copy_is_found_unreadable(tmp_path: Path) -> None:
    whole, torn = tmp_path / "whole.duckdb", tmp_path / "torn.duckdb"
    with duckdb.connect(str(whole)) as db:
        db.execute("CREATE TABLE t AS SELECT range AS i, 'x' || range AS v FROM range(300000)")
    assert read_copy.unreadable(whole) is None
    torn.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    assert read_copy.unreadable(torn) is not None
