"""Two runs of the same pipeline at once: the second refuses; the first finishes exact."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.support import Api
from tests.warehouse import Warehouse, assert_conversation_family_equal


def test_a_second_run_on_the_same_target_refuses(
    run_cli, fake: FakeLiveAgent, api: Api, warehouse: Warehouse, configured: Path,
    capsys: pytest.CaptureFixture
) -> None:
    fake.latency = 0.02  # the first run takes a few seconds
    first = subprocess.Popen(
        [sys.executable, "-m", "pipelines.liveagent_pipeline", "run", "--progress-every", "0",
         "--pipelines-dir", str(configured / "pipelines")],
        cwd=configured, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        owners = []
        deadline = time.monotonic() + 30
        while not owners and time.monotonic() < deadline:
            owners = list((configured / "pipelines").glob("*.run.json"))
            time.sleep(0.05)
        assert owners, "the first run never took the target"
        assert run_cli("--progress-every", "0") == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"liveagent-pipeline: another liveagent-pipeline run (PID "
                              f"{first.pid}, started ")
        assert "is loading into" in err and "warehouse.duckdb (dataset liveagent)" in err
        assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    finally:
        first.kill()
    fake.latency = 0
    assert_conversation_family_equal(api, warehouse)
    assert not list((configured / "pipelines").glob("*.run.json"))
    assert run_cli("--progress-every", "0") == 0  # the target is free again


def test_different_targets_run_side_by_side(run_cli, fake: FakeLiveAgent, configured: Path
                                            ) -> None:
    fake.latency = 0.01
    other = subprocess.Popen(
        [sys.executable, "-m", "pipelines.liveagent_pipeline", "run", "--progress-every", "0",
         "--duckdb-path", "other.duckdb", "--pipelines-dir", str(configured / "pipelines")],
        cwd=configured, env=os.environ.copy(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        assert run_cli("--progress-every", "0") == 0
        assert other.wait(timeout=120) == 0
    finally:
        other.kill()
