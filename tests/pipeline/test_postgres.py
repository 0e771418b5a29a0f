"""The incremental scenario into a real Postgres ends with the same table contents as into
DuckDB, compared row by row."""

from __future__ import annotations

import re

import psycopg2
import pytest

from liveagent_fake.models import Account
from tests.warehouse import Warehouse, duckdb_tables, postgres_tables

pytestmark = pytest.mark.postgres
SCHEMA = "liveagent_equality"


def summary_counts(output: str) -> dict[str, int]:
    """The per-table rows of the CLI's summary."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^  (\w+) +(\d+)$", output, re.MULTILINE)}


def test_incremental_scenario_matches_duckdb_row_by_row(
    run_cli, account: Account, warehouse: Warehouse, postgres_dsn: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn)
    to_postgres = ("--destination", "postgres", "--dataset", SCHEMA)
    assert run_cli() == 0
    capsys.readouterr()
    assert run_cli(*to_postgres) == 0
    # a first run's summary says what the tables hold (the rows that only delete the old tags
    # of untagged conversations are not counted: they are no table's rows)
    reported = summary_counts(capsys.readouterr().out)
    held = {table: sum(rows.values())
            for table, rows in postgres_tables(postgres_dsn, SCHEMA).items()}
    # rejected_rows (always there, empty on a clean run) is summarised apart
    assert held.pop("rejected_rows") == 0
    assert reported == held

    ref = account.conversation_id
    account.clock.advance(300)
    account.set_status(ref(1), "R", useridentifier=account.entities.agents[0].email)
    agent = account.entities.agents[1].userid
    account.add_message(ref(2), "Grüße 🚀 — ça va?", useridentifier=agent)
    account.add_message(ref(3), "customer again", from_customer=True)
    account.create_conversation("Brand new", "Hello", channel="B", owner=7)
    untagged = next(i for i in range(10, 120) if account.record(i).tags)
    for tag in list(account.record(untagged).tags):
        account.tag_conversation(ref(untagged), tag_id=account.entities.tags[tag].id, add=False)
    account.delete_conversation(ref(4))
    account.touch_kb_entry(3, title="Edited")
    assert run_cli() == 0 and run_cli(*to_postgres) == 0

    in_duckdb, in_postgres = duckdb_tables(warehouse), postgres_tables(postgres_dsn, SCHEMA)
    assert set(in_postgres) == set(in_duckdb)
    assert {"conversations", "messages", "report_agents", "companies"} <= set(in_duckdb)
    for table in sorted(in_duckdb):
        assert in_postgres[table] == in_duckdb[table], table
    assert sum(in_duckdb["conversations"].values()) == 121


def test_status_reads_what_postgres_holds_and_creates_nothing(
    run_cli, configured, postgres_dsn: str, postgres_schema: str,
    capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` on Postgres: nothing loaded yet (and no schema made for asking), then the
    state the last load committed, read through a pipeline of its own."""
    from pipelines.liveagent_pipeline import main

    status = ["status", "--destination", "postgres", "--dataset", postgres_schema,
              "--pipelines-dir", str(configured / "pipelines")]
    assert main(status) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "  nothing loaded yet"
    with psycopg2.connect(postgres_dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s",
                       (f"{postgres_schema}%",))
        assert cursor.fetchone() == (0,)
    assert run_cli("--destination", "postgres", "--dataset", postgres_schema,
                   "--resources", "conversations", "--progress-every", "0") == 0
    capsys.readouterr()
    assert main(status) == 0
    out = capsys.readouterr().out
    assert "as of the last load, committed" in out and "backfill complete" in out
