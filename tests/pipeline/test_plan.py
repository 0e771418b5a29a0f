"""`liveagent-pipeline plan`: the first sync's requests, estimated from a few requests, against
what the sync then made (the fake counts both)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import main


def planned(out: str) -> tuple[int, int, int]:
    """(requests made to plan, first sync's requests, the first load's) as the plan says."""
    made = re.search(r"\((\d+) requests made to plan it\)", out)
    total = re.search(r"first sync: about ([\d,]+) requests in (\d+) load", out)
    first = re.search(r"queryable after the first load: about ([\d,]+) requests", out)
    assert made and total and first, out
    return int(made.group(1)), int(total.group(1).replace(",", "")), \
        int(first.group(1).replace(",", ""))


@pytest.mark.parametrize(("start_date", "details"),
                         [(None, False), ("2025-09-20", False), (None, True)])
def test_the_plan_counts_the_requests_of_the_first_sync(
        run_cli, fake: FakeLiveAgent, configured: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture, start_date: str | None, details: bool) -> None:
    monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATION_DETAILS", str(details).lower())
    dates = ["--start-date", start_date] if start_date else []
    assert main(["plan", *dates]) == 0
    made, requests, first_load = planned(capsys.readouterr().out)
    assert made == fake.stats.snapshot()["total"] <= 8
    fake.stats.reset()
    assert run_cli("--progress-every", "0", *dates) == 0
    made_by_sync = fake.stats.snapshot()["total"]
    assert abs(requests - made_by_sync) <= 0.1 * made_by_sync
    assert first_load <= requests  # equal when the first load reads it all


def test_the_plan_of_a_pool_counts_its_rate(
        fake: FakeLiveAgent, configured: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__API_KEY", f"{fake.api_key},another-key")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "180")
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    assert "at 360/min (2 keys at 180/min)" in out
    assert "another-key" not in out
