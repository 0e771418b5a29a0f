"""`liveagent-pipeline demo` runs the real pipeline against the bundled fake."""

from __future__ import annotations

import pytest

from pipelines.liveagent_pipeline import main
from tests.warehouse import Warehouse


def test_demo_loads_and_answers_the_example_queries(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BASE_URL", "API_KEY", "TIMEZONE", "START_DATE"):  # no account configured
        monkeypatch.delenv(f"SOURCES__LIVEAGENT__{name}", raising=False)
    assert main(["demo", "--conversations", "300", "--pipelines-dir",
                 str(tmp_path / "pipelines")]) == 0
    out = capsys.readouterr().out
    warehouse = Warehouse(str(tmp_path / "demo.duckdb"))
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 300
    for title in ("-- Conversations by channel and status",
                  "-- First agent reply per department (minutes)",
                  "-- Agents by answers over the last 7 days (report_agents)"):
        assert title in out
    departments = {r["departmentname"] for r in warehouse.rows("conversations",
                                                                 "DISTINCT departmentname")}
    assert any(f"\n{name} " in out for name in departments)
    # a second demo starts over instead of mixing two generated accounts
    assert main(["demo", "--conversations", "100", "--pipelines-dir",
                 str(tmp_path / "pipelines")]) == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 100
