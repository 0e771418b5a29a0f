"""Postgres that makes a run wait, drops its connections or goes away: the run ends in bounded
time with one line that says what happened (nothing else on stderr), and the next run loads
exactly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.postgres_server import OWN_POSTGRES_PASSWORD
from tests.warehouse import Target, assert_equal_to_a_clean_run

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]


def terminate(dsn: str, pid: int) -> None:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_schema_change_behind_a_readers_open_transaction_times_out(
    run_cli, fake: FakeLiveAgent, account: Account, configured: Path, postgres_dsn: str,
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = Target("postgres", postgres_dsn, postgres_schema)
    run = ("--progress-every", "0", "--resources", "conversations", *target.args)
    assert run_cli(*run) == 0
    # one conversation changes and comes with a new field: dlt adds its column (ALTER TABLE)
    account.clock.advance(60)
    changed = account.conversation_id(1)
    account.set_status(changed, "R")

    def new_field(payload: dict) -> dict:
        for row in payload["response"]["conversations"]:
            if row["conversationid"] == changed:
                row["priority"] = 3
        return payload

    fake.faults.add("mutate", path="/api/conversations$", transform=new_field)
    monkeypatch.setenv("DESTINATION__POSTGRES__LOCK_TIMEOUT_SECONDS", "1")
    capsys.readouterr()
    reader = psycopg2.connect(postgres_dsn)
    # without a lock timeout the run would wait for the reader for good: end the reader's
    # session after 30 s, so that the test fails instead of hanging
    watchdog = threading.Timer(30, terminate, (postgres_dsn, reader.get_backend_pid()))
    try:  # a report reading the table in an open transaction holds ACCESS SHARE until it ends
        reader.cursor().execute(f"SELECT count(*) FROM {postgres_schema}.conversations")
        watchdog.start()
        started = time.monotonic()
        code = run_cli(*run)
        waited = time.monotonic() - started
    finally:
        watchdog.cancel()
        reader.close()
    assert (code, capsys.readouterr().err) == (1, (
        "liveagent-pipeline: Postgres at " + postgres_dsn.split("host=")[1]
        + ":5432/postgres: a statement of the load waited more than 1 s for a lock another "
        "session holds on a table of the dataset (a reader's open transaction, say, while new "
        "columns had to be added); this run's load did not complete and state did not "
        "advance (the next run loads what this one read); end that session's transaction "
        "(pg_stat_activity shows it 'idle in transaction') or raise "
        "destination.postgres.lock_timeout_seconds, then run again\n"))
    assert waited < 15  # about 1 s in the lock, the rest reading and normalizing

    assert run_cli(*run) == 0  # the reader has finished
    assert_equal_to_a_clean_run(run_cli, target, "--resources", "conversations")


def sabotaged_run(configured: Path, action: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI in its own process (whose stderr is all its own) cut off from Postgres at its
    first COPY (see postgres_saboteur.py)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.postgres_saboteur", action, "--",
         "run", "--progress-every", "0", "--pipelines-dir", str(configured / "pipelines"),
         *args],
        cwd=configured, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=120,
    )


def test_a_dropped_connection_is_retried_without_a_word(
    run_cli, fake: FakeLiveAgent, configured: Path, postgres_dsn: str, postgres_schema: str
) -> None:
    target = Target("postgres", postgres_dsn, postgres_schema)
    result = sabotaged_run(configured, "disconnect", *target.args)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("liveagent-pipeline: loaded ")
    assert_equal_to_a_clean_run(run_cli, target)


def test_postgres_going_away_mid_load_fails_in_one_line(
    run_cli, fake: FakeLiveAgent, configured: Path, own_postgres_dsn: str
) -> None:
    result = sabotaged_run(configured, "crash", "--destination", "postgres")
    socket = re.escape(own_postgres_dsn.split("host=")[1])
    assert (result.returncode, result.stdout) == (1, "")
    # the reason is libpq's: the job that ran out of attempts last failed to connect
    assert re.fullmatch(
        f"liveagent-pipeline: Postgres at {socket}:5432/postgres is unreachable "
        r"\((Connection refused|No such file or directory)\); this run's load did not "
        r"complete and state did not advance \(the next run loads what this one read\); "
        r"check that the server is up and destination.postgres.credentials\n",
        result.stderr), result.stderr[-3000:]
    assert OWN_POSTGRES_PASSWORD not in result.stderr


def test_a_refused_login_is_a_configuration_error(
    fake: FakeLiveAgent, configured: Path, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = postgres_dsn.split("host=")[1]
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn.replace(
        "postgres:postgres@", f"me:{OWN_POSTGRES_PASSWORD}@"))
    result = sabotaged_run(configured, "nothing", "--destination", "postgres")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", (
        f"liveagent-pipeline: Postgres at {socket}:5432/postgres refused the login (role "
        '"me" does not exist); check destination.postgres.credentials (env '
        "DESTINATION__POSTGRES__CREDENTIALS)\n"))
