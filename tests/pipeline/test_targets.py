"""Targets: readable pipeline names dlt's own commands accept, state that never crosses
targets, and any dlt destination (SQLite through dlt's sqlalchemy destination runs here)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from tests.warehouse import Warehouse, dataset_tables, duckdb_tables


def change_the_account(account: Account) -> None:
    ref = account.conversation_id
    account.clock.advance(300)
    account.set_status(ref(1), "R", useridentifier=account.entities.agents[0].email)
    account.add_message(ref(3), "customer again", from_customer=True)
    account.create_conversation("Brand new", "Hello", channel="B", owner=7)
    account.delete_conversation(ref(4))
    account.touch_kb_entry(3, title="Edited")


def test_dlt_pipeline_info_works_with_the_readable_name(
    run_cli: Callable[..., int], configured: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("--resources", "tags") == 0
    out = capsys.readouterr().out
    pipelines = configured / "pipelines"
    assert f"dlt pipeline: liveagent in {pipelines}" in out
    dlt_command = Path(sys.executable).with_name("dlt")
    info = subprocess.run([str(dlt_command), "pipeline", "--pipelines-dir", str(pipelines),
                           "liveagent", "info"], capture_output=True, text=True, timeout=120,
                          cwd=configured)
    assert info.returncode == 0, info.stderr
    assert "liveagent" in info.stdout and "tags" in info.stdout


def test_two_targets_of_one_name_never_share_state(
    run_cli: Callable[..., int], configured: Path, account: Account,
) -> None:
    """Two directories' warehouse.duckdb both make the pipeline `liveagent`: the second
    starts from its own (empty) target, not from the first one's high-water mark."""
    (configured / "other").mkdir()
    assert run_cli("--resources", "conversations") == 0
    other = str(configured / "other" / "warehouse.duckdb")
    assert run_cli("--resources", "conversations", "--duckdb-path", other) == 0
    assert Warehouse(other).scalar("SELECT count(*) FROM {ds}.conversations") == 120
    change_the_account(account)
    assert run_cli("--resources", "conversations") == 0  # the first continues where it was
    assert Warehouse(str(configured / "warehouse.duckdb")).scalar(
        "SELECT count(*) FROM {ds}.conversations") == 121


def test_any_dlt_destination_sqlite_ends_equal_to_duckdb(
    run_cli: Callable[..., int], configured: Path, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__SQLALCHEMY__CREDENTIALS",
                       f"sqlite:///{configured / 'sqlite.db'}")
    to_sqlite = ("--destination", "sqlalchemy")
    assert run_cli() == 0 and run_cli(*to_sqlite) == 0
    change_the_account(account)
    assert run_cli() == 0 and run_cli(*to_sqlite) == 0
    in_duckdb = duckdb_tables(warehouse)
    in_sqlite = dataset_tables("liveagent_sqlalchemy", str(configured / "pipelines"))
    assert set(in_sqlite) == set(in_duckdb)
    for table in sorted(in_duckdb):
        assert in_sqlite[table] == in_duckdb[table], table


def test_the_staging_dataset_is_emptied_after_each_load(
    run_cli: Callable[..., int], account: Account, warehouse: Warehouse,
) -> None:
    """Merges pass through `liveagent_staging`; after the load it holds no rows an analyst
    could take for data."""
    assert run_cli("--resources", "conversations") == 0
    change_the_account(account)
    assert run_cli("--resources", "conversations") == 0
    staging = Warehouse(warehouse.path, f"{warehouse.dataset}_staging")
    assert {"conversations", "message_groups", "messages"} <= staging.tables()
    for table in sorted(t for t in staging.tables() if not t.startswith("_dlt")):
        assert staging.scalar(f"SELECT count(*) FROM {{ds}}.{table}") == 0, table


def hold_duckdb_file(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (an analyst's notebook) with the file open read-only for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         "db = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True)\n"
         "time.sleep(float(sys.argv[2]))", str(path), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    return holder


def test_a_reader_holding_the_duckdb_file_does_not_hold_up_a_run(
    run_cli: Callable[..., int], configured: Path, warehouse: Warehouse,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Readers open the published copy; runs load into their own (see test_readers.py)."""
    assert run_cli("--resources", "tags") == 0
    capsys.readouterr()
    holder = hold_duckdb_file(Path(warehouse.path), 30)
    try:
        assert run_cli("--resources", "tags", "--duckdb-wait", "1") == 0
    finally:
        holder.kill()
        holder.wait()
    assert "waiting" not in capsys.readouterr().err


def test_without_a_read_copy_a_held_file_is_waited_for(
    run_cli: Callable[..., int], configured: Path, warehouse: Warehouse,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__DUCKDB__READ_COPY", "false")
    assert run_cli("--resources", "tags") == 0
    assert not (configured / ".liveagent").exists()
    capsys.readouterr()
    holder = hold_duckdb_file(Path(warehouse.path), 3)
    try:
        assert run_cli("--resources", "tags", "--duckdb-wait", "60") == 0
    finally:
        holder.wait(timeout=60)
    err = capsys.readouterr().err
    assert f"waiting up to 60s for {warehouse.path}, held by PID {holder.pid}" in err

    holder = hold_duckdb_file(Path(warehouse.path), 30)
    try:
        assert run_cli("--resources", "tags", "--duckdb-wait", "1") == 1
    finally:
        holder.kill()
        holder.wait()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("liveagent-pipeline: ") and "PID" in lines[-1], lines
