"""One endpoint that keeps failing costs its own tables only (issue 19, finding 5): the other
tables load and commit, the failed table keeps its rows and state, the run exits 4 with one
line naming each failed table and why, and the run history, `table_freshness` and `status` say
it failed. What makes every read meaningless (a rejected key) still stops the run at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from liveagent_fake.models import Account
from liveagent_fake.realworld import RealWorld
from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import main
from pipelines.options import RunOptions
from pipelines.targets import committed_state
from sources.liveagent.settings import REPORTS
from tests.support import ZONE, make_account
from tests.warehouse import Target, assert_equal_to_a_clean_run

ATTEMPTS = 3
# every table but the reports (the reference's examples date from 2014: a start date in 2011
# would read three years of report days)
NOT_REPORTS = ("conversations,companies,agents,agent_online_status,tags,customer_groups,"
               "suggestion_categories,knowledgebases,kb_entries")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


def source_state(target: Target, configured: Path) -> dict[str, Any]:
    """The LiveAgent source's state as the target's last committed load holds it."""
    options = RunOptions(destination=target.destination, dataset=target.dataset,
                         pipelines_dir=str(configured / "pipelines"))
    if target.destination == "duckdb":
        options.duckdb_path = target.location
    committed = committed_state(options)
    assert committed is not None
    state: dict[str, Any] = committed.state["sources"]["liveagent"]
    return state


def status(target: Target, configured: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["status", "--pipelines-dir", str(configured / "pipelines"),
                 *target.args]) == 0
    return capsys.readouterr().out


def failure_lines(err: str) -> list[str]:
    """The CLI's lines on stderr (the fake's server threads may print there too)."""
    return [line for line in err.splitlines() if line.startswith("liveagent-pipeline: ")]


def freshness(target: Target) -> dict[str, dict[str, Any]]:
    return {row["table_name"]: row for row in target.query("SELECT * FROM {ds}.table_freshness")}


def finished(target: Target) -> list[Any]:
    return [row["finished_at"] for row in target.query(
        "SELECT finished_at FROM {ds}.run_history ORDER BY finished_at")]


class TestAListThatKeepsFailing:
    """The reference's example answers, and GET /tags answering an error envelope every time."""

    @pytest.fixture
    def account(self) -> Account:
        account = make_account(conversations=10, timezone=ZONE)
        account.real_world = RealWorld(documented_examples=True)
        return account

    def test_costs_only_its_table(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, target: Target,
        configured: Path, capsys: pytest.CaptureFixture[str],
    ) -> None:
        args = ("--progress-every", "0", "--start-date", "2011-01-01", "--resources", NOT_REPORTS)
        # the reference's example /messages answer holds fewer groups than its listing counts:
        # those conversations are kept for a re-read (exit 3), every run
        assert run_cli(*args, *target.args) == 3
        tags, state = target.tables()["tags"], source_state(target, configured)
        fake.faults.add("error_envelope", status=500, path="/api/tags$")
        fake.log.clear()
        capsys.readouterr()

        assert run_cli(*args, *target.args) == 4
        out, err = capsys.readouterr()
        line = ("loaded, but 1 table failed and kept its state (the next run reads it again): "
                f"tags: LiveAgent kept failing on tags after {ATTEMPTS} attempts (last: error 500 "
                "under HTTP 200: Injected error 500)")
        assert err.strip().splitlines() == [f"liveagent-pipeline: {line}"]
        assert line in out.splitlines()
        assert len(fake.log.select(path=r"/api/tags$")) == ATTEMPTS
        assert target.tables()["tags"] == tags
        after = source_state(target, configured)
        assert after["resources"]["tags"] == state["resources"]["tags"]
        assert after["failed_tables"]["tags"]["reason"] == line.split("tags: ", 1)[1]
        assert set(after["failed_tables"]) == {"tags"}
        runs = target.query("SELECT outcome, detail FROM {ds}.run_history ORDER BY finished_at")
        assert runs[-1] == {"outcome": "loaded, 1 table failed, 2 rows rejected", "detail": line}
        fresh, (first, second) = freshness(target), finished(target)
        assert fresh["tags"]["failed"] and "kept failing on tags" in fresh["tags"]["failure"]
        assert fresh["tags"]["data_as_of"] == first and not fresh["tags"]["complete"]
        for table in ("conversations", "messages", "companies", "kb_entries", "agents"):
            assert not fresh[table]["failed"] and fresh[table]["failure"] is None, table
            assert fresh[table]["data_as_of"] == second, table
        shown = status(target, configured, capsys)
        assert "failed when last read, state kept (the next run reads them again): tags: " \
            f"LiveAgent kept failing on tags after {ATTEMPTS} attempts" in shown, shown
        assert fake.api_key not in out + err + shown

        fake.faults.clear()
        # tags as the first run left it
        assert_equal_to_a_clean_run(run_cli, target, *args, exit_code=3)
        # the third read of the short conversations takes them as given (short_message_reads)
        assert run_cli(*args, *target.args) == 0
        assert "failed_tables" not in source_state(target, configured)
        fresh = freshness(target)
        assert not fresh["tags"]["failed"] and fresh["tags"]["data_as_of"] == finished(target)[-1]
        assert "failed when last read" not in status(target, configured, capsys)


def test_a_report_that_times_out_costs_only_its_table(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, target: Target,
    configured: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A report endpoint timing out (heavy queries on LiveAgent's side time out first) keeps
    its state (`last_closed_day` is set before the days are read)."""
    assert run_cli("--progress-every", "0", *target.args) == 0
    before = source_state(target, configured)["resources"]
    report_agents = target.tables()["report_agents"]
    account.clock.advance(timedelta(days=1).total_seconds())  # a new day for every report
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUEST_TIMEOUT", "0.5")
    timing_out = fake.faults.add("slow", delay=1.5, path="/api/reports/agents$")
    fake.log.clear()
    capsys.readouterr()

    assert run_cli("--progress-every", "0", *target.args) == 4
    [line] = failure_lines(capsys.readouterr().err)
    assert line.startswith("liveagent-pipeline: loaded, but 1 table failed and kept its state "
                           "(the next run reads it again): report_agents: LiveAgent at ")
    assert line.endswith(f"did not answer reports/agents after {ATTEMPTS} attempts (Read "
                         "timed out)")
    assert timing_out.fired == ATTEMPTS
    after = source_state(target, configured)["resources"]
    assert after["report_agents"] == before["report_agents"]
    assert target.tables()["report_agents"] == report_agents
    for report in REPORTS:
        if report.table.name != "report_agents":
            name = report.table.name
            assert after[name]["last_closed_day"] > before[name]["last_closed_day"], name

    fake.faults.clear()
    assert run_cli("--progress-every", "0", *target.args) == 0
    after = source_state(target, configured)["resources"]
    assert after["report_agents"]["last_closed_day"] == after["report_tags"]["last_closed_day"]
    clean = target.other("clean")
    assert run_cli("--progress-every", "0", *clean.args) == 0
    assert target.tables()["report_agents"] == clean.tables()["report_agents"]


def test_a_table_that_failed_is_not_read_again_by_the_later_loads_of_a_backfill(
    run_cli: Callable[..., int], fake: FakeLiveAgent, configured: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first run reads two days, then the history in loads of 14 days: report_agents fails
    in the second load and is left out of the ones after it (its history cannot advance: it
    would only cost its retries again in every load)."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIORITY_DAYS", "2")
    failing = fake.faults.add("error_envelope", status=500, path="/api/reports/agents$", skip=3)
    assert run_cli("--progress-every", "0") == 4
    out = capsys.readouterr().out
    found = re.search(r"history committed in (\d+) loads", out)
    assert found is not None and int(found.group(1)) >= 3, out
    assert failing.fired == ATTEMPTS
    reports = source_state(Target("duckdb", str(configured / "warehouse.duckdb")),
                           configured)["resources"]
    assert reports["report_agents"]["history_before"] > reports["report_tags"]["history_before"]
    assert reports["report_tags"]["history_before"] == "2025-09-09"  # the start date


def test_a_failing_conversation_listing_fails_the_family_together(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, target: Target,
    configured: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The family shares one backfill record: none of it advances (the reconciliation's day
    neither), each of its tables is named, every other table loads."""
    args = ("--progress-every", "0", "--resources", "conversations,tags,kb_entries")
    assert run_cli(*args, *target.args) == 0
    state = source_state(target, configured)
    account.create_conversation("Another", "Hi", owner=2)
    account.update_tag(account.directory.tags()[0].id, name="Renamed")
    fake.faults.add("error_envelope", status=503, path="/api/conversations$")
    capsys.readouterr()

    assert run_cli(*args, "--reconcile", *target.args) == 4
    assert failure_lines(capsys.readouterr().err) == [
        "liveagent-pipeline: loaded, but 5 tables failed and kept their state (the next run "
        "reads them again): conversation_status_history, conversation_tags, conversations, "
        "message_groups, messages: LiveAgent kept failing on conversations after "
        f"{ATTEMPTS} attempts (last: error 503 under HTTP 200: Injected error 503)"]
    after = source_state(target, configured)
    assert after["backfill"] == state["backfill"]
    assert after["resources"].get("conversation_reconciliation") == \
        state["resources"].get("conversation_reconciliation")
    assert target.query("SELECT count(*) AS n FROM {ds}.tags WHERE name = 'Renamed'") == \
        [{"n": 1}]  # the other tables loaded

    fake.faults.clear()
    assert run_cli(*args, *target.args) == 0
    assert_equal_to_a_clean_run(run_cli, target, *args[2:])


def test_a_rejected_key_still_stops_the_run_at_once(
    run_cli: Callable[..., int], fake: FakeLiveAgent, configured: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 401 on one list after the probe passed is the key's failure, not the list's."""
    fake.faults.add("status", status=401, path="/api/tags$")
    assert run_cli("--progress-every", "0") == 2
    assert "LiveAgent rejected the API key (401" in capsys.readouterr().err
    assert not (configured / "warehouse.duckdb").exists()
    assert len(fake.log.select(path=r"/api/tags$")) == 1
