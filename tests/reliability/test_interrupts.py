"""Ctrl-C in a chunked backfill, wherever the run is: exit 130 and one line on stderr after
the progress lines, whatever dlt is doing with the signal at that moment; the next run
finishes the backfill."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]
PROGRESS = re.compile(r"(extract|normalize|load) (running|done in) ")


def interrupted_run(configured: Path, point: str, count: int) -> subprocess.CompletedProcess:
    """The CLI in its own process, sent SIGINT once at `point`, its stdin a terminal (dlt
    writes a line of its own for a signal when it is one)."""
    terminal, stdin = pty.openpty()
    try:
        return subprocess.run(
            [sys.executable, "-m", "tests.reliability.killer", point, str(count), "INT", "--",
             "run", "--progress-every", "0.2", "--pipelines-dir", str(configured / "pipelines"),
             "--resources", "conversations"],
            cwd=configured, stdin=stdin, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO),
                 "SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD": "20"})
    finally:
        os.close(terminal)
        os.close(stdin)


# a load of the conversation family runs 11 jobs (6 files and 5 merges): job 15 is in the
# second load; the second normalized package is the second load's
@pytest.mark.parametrize("point, count, message", [
    ("normalize", 2, "interrupted after 1 load of this run committed; the rest was not loaded"),
    ("load", 15, "interrupted while loading (1 load of this run committed before)"),
])
def test_ctrl_c_prints_one_line_after_the_progress_lines(
    run_cli, configured: Path, fake: FakeLiveAgent, warehouse: Warehouse, point: str,
    count: int, message: str
) -> None:
    result = interrupted_run(configured, point, count)
    lines = result.stderr.splitlines()
    assert result.returncode == 130, result.stderr
    assert [line for line in lines if not PROGRESS.match(line)] == lines[-1:], result.stderr
    assert lines[-1].startswith(f"liveagent-pipeline: {message}")
    assert run_cli("--resources", "conversations", "--progress-every", "0") == 0
    for key in ("count(*)", "count(DISTINCT conversationid)"):
        assert warehouse.scalar(f"SELECT {key} FROM {{ds}}.conversations") == 120
