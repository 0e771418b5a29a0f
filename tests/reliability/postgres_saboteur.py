"""Runs `liveagent-pipeline` and cuts Postgres off when the first COPY job starts:
python -m tests.reliability.postgres_saboteur ACTION -- ARGS...

ACTION is disconnect (the job's session is terminated, as by a failover, a pooler's restart or
an administrator; the server stays up), crash (the server dies and stays down: only for a
server of the test's own) or nothing."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg2
from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob

from pipelines.liveagent_pipeline import main


def disconnect(backend_pid: int) -> None:
    with psycopg2.connect(os.environ["DESTINATION__POSTGRES__CREDENTIALS"]) as connection, \
            connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (backend_pid,))  # waits


def crash(backend_pid: int) -> None:
    """The server dies at once, as in an OOM kill or a power cut: its postmaster (a backend's
    parent) and every backend stop, so that none of them can say a word to a client (an
    immediate shutdown would send each client a WARNING, which libpq prints to stderr), and
    are killed."""
    postmaster = parent(backend_pid)
    os.kill(postmaster, signal.SIGSTOP)  # forks no more backends
    backends = [pid for pid in all_pids() if parent(pid) == postmaster]
    for pid in backends:
        os.kill(pid, signal.SIGSTOP)
    for pid in (postmaster, *backends):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{postmaster}") and time.monotonic() < deadline:
        time.sleep(0.05)


def parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
        return 0


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def at_first_copy(action: Callable[[int], None]) -> None:
    original = PostgresCsvCopyJob.run
    done = threading.Event()
    lock = threading.Lock()

    def run(job: Any) -> None:
        with lock:
            if not done.is_set():
                action(job._job_client.sql_client.native_connection.get_backend_pid())
                done.set()
        original(job)

    PostgresCsvCopyJob.run = run  # type: ignore[method-assign]


if __name__ == "__main__":
    action, separator, *cli_args = sys.argv[1:]
    assert separator == "--"
    if action != "nothing":
        at_first_copy({"disconnect": disconnect, "crash": crash}[action])
    sys.exit(main(cli_args))
