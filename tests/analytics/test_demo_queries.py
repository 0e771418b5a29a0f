"""The docs' two analyst queries run on the demo account after `demo --transform` and give
what a direct computation from the raw tables gives."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dlt
import pytest

from pipelines.demo import DEMO_TIMEZONE, MART_QUERIES
from pipelines.liveagent_pipeline import main
from tests.analytics.oracle import Target, backlog, median_first_response_by_channel
from tests.support import doc_block, doc_blocks

# the docs' `demo --transform` and `run --transform` commands: the test below runs the first
# with a smaller account (300 conversations); `run --transform` builds the layer through the
# same runner option (RunOptions.transform) after a run like the demo's
TRANSFORM_COMMANDS = ["liveagent-pipeline demo --transform", "liveagent-pipeline run --transform",
                      "liveagent-pipeline demo --transform"]


def readme_queries() -> list[str]:
    """The SQL blocks marked `<!-- analyst-query -->` in the docs (docs/analytics.md)."""
    return [block.text.strip() for block in doc_blocks() if block.marker == "analyst-query"]


def test_the_docs_transform_commands_are_those_the_tests_run() -> None:
    commands = [line.removeprefix(".venv/bin/")
                for block in (doc_block("demo-transform"), doc_block("transform"))
                for line in block.commands() if "pip install" not in line]
    assert commands == TRANSFORM_COMMANDS


def normalized(sql: str) -> str:
    return " ".join(sql.replace("{ds}", "liveagent").rstrip(";").split())


def test_the_demo_prints_the_readme_queries() -> None:
    assert [normalized(q) for q in readme_queries()] == \
        [normalized(sql) for _, sql in MART_QUERIES]


def test_readme_queries_answer_like_the_raw_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BASE_URL", "API_KEY", "TIMEZONE", "START_DATE"):
        monkeypatch.delenv(f"SOURCES__LIVEAGENT__{name}", raising=False)
    assert main(["demo", "--conversations", "300", "--transform", "--progress-every", "0",
                 "--pipelines-dir", str(tmp_path / "pipelines")]) == 0
    printed = capsys.readouterr()
    out = printed.out
    assert "analyst layer: 23 models built" in out and "-- Backlog by day" in out
    # dbt's own output is not shown (the docs said it went to stderr)
    assert "dbt" not in printed.err.lower(), printed.err
    target = Target("duckdb", "liveagent", str(tmp_path / "demo.duckdb"))
    by_channel, by_day = (target.sql(query) for query in readme_queries())

    since = target.sql("SELECT current_date - 7 AS d")[0]["d"]
    expected = median_first_response_by_channel(target, DEMO_TIMEZONE, since)
    assert {r["channel_label"]: r["median_minutes"] for r in by_channel} == expected
    assert sum(r["conversations"] for r in by_channel) > 30
    assert min(expected.values()) > 0 and max(expected.values()) < 24 * 60  # minutes

    today = datetime.now(timezone.utc).astimezone(ZoneInfo(DEMO_TIMEZONE)).date()
    direct = backlog(target, DEMO_TIMEZONE, today)
    assert {r["date_day"]: r["open_conversations"] for r in by_day} == direct
    assert isinstance(by_day[-1]["date_day"], date) and 0 < direct[today] <= 300

    # the diagram docs/tables.md shows how to export (`dlt pipeline <name> schema --format mermaid`)
    [name] = re.findall(r"^dlt pipeline: (\S+) in ", out, re.MULTILINE)
    mermaid = dlt.attach(name, pipelines_dir=str(tmp_path / "pipelines")).default_schema\
        .to_mermaid()
    assert 'messages }|--|| conversations : "of"' in mermaid
    assert 'conversation_tags }|--|| tags : "tagged"' in mermaid
    assert 'text status "Status code, see labels (C is Open' in mermaid
