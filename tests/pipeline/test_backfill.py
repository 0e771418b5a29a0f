"""Fresh data first: the first load reads the last `priority_days`, history follows newest
first in bounded windows; time-boxed runs keep recent data fresh during a long backfill; any
runner calling `pipeline.run(liveagent_source())` makes the same progress."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dlt
import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import main
from pipelines.runner import source_state
from sources.liveagent import liveagent_source
from sources.liveagent.backfill import Backfill
from sources.liveagent.coverage import Coverage
from tests.support import NOW, ZONE, Api, make_account
from tests.warehouse import Warehouse, assert_conversation_family_equal

REPO = Path(__file__).resolve().parents[2]
PRIORITY_DAYS = 7
PRIORITY_START = datetime.fromtimestamp(NOW, timezone.utc) - timedelta(days=PRIORITY_DAYS)


@pytest.fixture
def account(request: pytest.FixtureRequest) -> Account:
    """300 conversations over 30 days (or the days a test asks for, or its (conversations,
    days))."""
    asked = getattr(request, "param", 30)
    conversations, days = asked if isinstance(asked, tuple) else (300, asked)
    return make_account(conversations=conversations, timezone=ZONE, days=days)


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIORITY_DAYS", str(PRIORITY_DAYS))
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "60")


def loads(warehouse: Warehouse, where: str) -> list[dict]:
    """Per load, in load order: the range of `datechanged` it wrote and how many rows."""
    return warehouse.rows("conversations", "_dlt_load_id AS load, min(datechanged) AS low, "
                          "max(datechanged) AS high, count(*) AS n",
                          f"WHERE {where} GROUP BY 1 ORDER BY 1")


def test_the_newest_weeks_load_first_then_history_newest_first(
    run_cli: Callable[..., int], api: Api, warehouse: Warehouse, account: Account,
) -> None:
    assert run_cli("--resources", "conversations") == 0
    since = f"TIMESTAMPTZ '{PRIORITY_START.isoformat()}'"
    recent = loads(warehouse, f"datechanged >= {since}")
    history = loads(warehouse, f"datechanged < {since}")
    assert sum(load["n"] for load in recent) == \
        sum(account.record(i).changed >= PRIORITY_START.timestamp() for i in range(300))
    assert max(load["load"] for load in recent) <= min(load["load"] for load in history)
    assert len(history) >= 3
    for newer, older in itertools.pairwise(history):  # each window older
        assert older["high"] < newer["low"]
    assert all(load["n"] <= 70 for load in history)  # 60 and the ties of the last second
    assert_conversation_family_equal(api, warehouse)


def test_any_runner_makes_the_same_progress_one_window_per_call(
    configured: Path, api: Api, account: Account,
) -> None:
    pipeline = dlt.pipeline("any_runner", destination=dlt.destinations.duckdb(
        str(configured / "any.duckdb")), dataset_name="liveagent",
        pipelines_dir=str(configured / "pipelines"))
    calls = 0
    while True:
        calls += 1
        pipeline.run(liveagent_source().with_resources("conversations", "conversation_tags",
                                                       "message_groups", "messages"))
        backfill = Backfill.of(source_state(pipeline))
        if not backfill.pending:
            break
        assert calls < 20
    assert calls >= 4  # the recent days (two loads of 60), then history window by window
    assert_conversation_family_equal(api, Warehouse(str(configured / "any.duckdb")))


@pytest.mark.parametrize("account", [(240, 30)], indirect=True)  # 3-5 boxes of history
def test_time_boxed_runs_keep_recent_data_fresh_during_the_backfill(
    run_cli: Callable[..., int], api: Api, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "600")  # 10 a second
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "1000")
    agent = account.entities.agents[0].email
    runs = 0
    while True:
        runs += 1
        changed = account.conversation_id(runs)
        account.clock.advance(60)
        account.set_status(changed, "R", useridentifier=agent)  # a change since the last tick
        # the up-to-date load takes 2-5 s here; the rest of the box goes to history
        assert run_cli("--resources", "conversations", "--max-duration", "10s",
                       "--progress-every", "0") == 0
        out = capsys.readouterr().out
        assert warehouse.scalar("SELECT status FROM {ds}.conversations "
                                f"WHERE conversationid = '{changed}'") == "R"
        if "backfill complete" in out:
            break
        assert "history left:" in out and runs < 15
    assert runs >= 3  # the history took several ticks
    assert_conversation_family_equal(api, warehouse)


def test_what_is_left_is_not_yet_known_until_counted_then_true(
    run_cli: Callable[..., int], warehouse: Warehouse, account: Account,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, configured: Path,
) -> None:
    """Before the first history window lists the history, what is left is "not yet counted"
    (summary, status, run history), never 0; then it is the fake's own count."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "1000")
    assert run_cli("--max-duration", "1s", "--progress-every", "0") == 0
    out = capsys.readouterr().out
    assert "not yet counted" in out and "backfill complete" not in out
    history = warehouse.rows("run_history", "history_conversations_left, history_windows_left,"
                             " backfill_complete")
    assert history == [{"history_conversations_left": None, "history_windows_left": None,
                        "backfill_complete": False}]
    status = ["status", "--pipelines-dir", str(configured / "pipelines")]
    assert main(status) == 0
    assert "history left: conversations changed before" in capsys.readouterr().out

    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "60")
    assert run_cli("--max-duration", "10s", "--progress-every", "0") == 0  # a window or more
    capsys.readouterr()
    assert main(status) == 0
    out = capsys.readouterr().out
    before = Coverage.of(source_state(dlt.attach(pipeline_name="liveagent", pipelines_dir=str(
        configured / "pipelines")))).conversations.history_to
    assert before is not None
    left = sum(account.record(i).changed < datetime.fromisoformat(before).timestamp()
               for i in range(300))
    assert left > 0 and f"about {left:,} conversations changed before {before[:16]}" in out
    assert warehouse.scalar("SELECT history_conversations_left FROM {ds}.run_history "
                            "ORDER BY finished_at DESC LIMIT 1") == left


@pytest.mark.parametrize("account", [90], indirect=True)
def test_an_unboxed_run_loads_all_history_reports_included(
    run_cli: Callable[..., int], api: Api, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")  # down to the oldest conversation
    assert run_cli("--progress-every", "0") == 0
    assert "backfill complete" in capsys.readouterr().out
    assert_every_report_day_loaded(account, warehouse)
    assert_conversation_family_equal(api, warehouse)
    freshness = warehouse.rows("table_freshness", "table_name, complete, data_since")
    assert freshness and all(row["complete"] and row["data_since"] is None
                             for row in freshness), freshness


@pytest.mark.slow
@pytest.mark.parametrize("account", [(60, 70)], indirect=True)  # reports are most of the work
def test_backfill_complete_only_once_every_report_day_is_loaded(
    run_cli: Callable[..., int], api: Api, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Time-boxed runs on a 70-day account: until the last report day is loaded, every run
    says what is left (and table_freshness which tables are incomplete, since when)."""
    monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "4000")
    runs = 0
    while True:
        runs += 1
        assert run_cli("--max-duration", "10s", "--progress-every", "0") == 0
        out = capsys.readouterr().out
        if "backfill complete" in out:
            break
        assert "history left:" in out and runs < 15, out
        freshness = {r["table_name"]: r for r in warehouse.rows("table_freshness")}
        incomplete = [name for name, row in freshness.items() if not row["complete"]]
        assert incomplete and all(freshness[name]["data_since"] is not None and
                                  freshness[name]["data_as_of"] is None for name in incomplete)
    assert runs >= 3, runs
    assert_every_report_day_loaded(account, warehouse)
    assert_conversation_family_equal(api, warehouse)


def assert_every_report_day_loaded(account: Account, warehouse: Warehouse) -> None:
    """Every report holds every account-local day from the oldest conversation's to today."""
    zone = ZoneInfo(ZONE)
    oldest = min(account.record(i).created for i in range(account.config.conversations))
    first = datetime.fromtimestamp(oldest, zone).date()
    today = datetime.fromtimestamp(NOW, zone).date()
    expected = {first + timedelta(days=n) for n in range((today - first).days + 1)}
    assert (today - first).days > 60
    for table in ("report_performance", "report_tickets_load"):
        days = {row["report_date"] for row in warehouse.rows(table, "DISTINCT report_date")}
        assert days == expected, (table, sorted(expected - days)[:5])


def test_reports_start_at_the_accounts_oldest_conversation(
    run_cli: Callable[..., int], account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The newest days first (the first load), then history down to the day of the oldest
    conversation: not 90 days back, the account is 30 days old."""
    monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "1000")
    assert run_cli("--resources", "conversations,report_tags") == 0
    per_load = warehouse.rows("report_tags", "_dlt_load_id AS load, min(report_date) AS first",
                              "GROUP BY 1 ORDER BY 1")
    assert len(per_load) >= 2
    assert (datetime(2025, 10, 9).date() - per_load[0]["first"]).days == PRIORITY_DAYS
    oldest = min(account.record(i).created for i in range(300))
    first = warehouse.rows("report_tags", "min(report_date) AS first")[0]["first"]
    assert first == datetime.fromtimestamp(oldest, ZoneInfo(ZONE)).date()


@pytest.mark.parametrize("point, count", [("extract", 30), ("extract", 200), ("load", 3)])
def test_a_killed_backfill_resumes_exactly(
    run_cli: Callable[..., int], api: Api, warehouse: Warehouse, configured: Path, point: str,
    count: int,
) -> None:
    """Killed in the recent days' loads, in a history window, and at a load's commit."""
    killed = subprocess.run(
        [sys.executable, "-m", "tests.reliability.killer", point, str(count), "--", "run",
         "--progress-every", "0", "--pipelines-dir", str(configured / "pipelines"),
         "--resources", "conversations"],
        cwd=configured, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert run_cli("--resources", "conversations", "--progress-every", "0") == 0
    assert_conversation_family_equal(api, warehouse)


def test_a_run_killed_at_its_time_box_cut_resumes_exactly(
    run_cli: Callable[..., int], fake: FakeLiveAgent, api: Api, warehouse: Warehouse,
    configured: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "1000")
    killed = subprocess.run(
        [sys.executable, "-m", "tests.reliability.killer", "load", "8", "--", "run",
         "--progress-every", "0", "--pipelines-dir", str(configured / "pipelines"),
         "--resources", "conversations", "--max-duration", "10s"],
        cwd=configured, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    while run_cli("--resources", "conversations", "--progress-every", "0",
                  "--max-duration", "10s") == 0:
        if not Backfill.of(source_state(dlt.attach(
                pipeline_name=_name(configured), pipelines_dir=str(configured / "pipelines"))
                )).pending:
            break
    assert_conversation_family_equal(api, warehouse)


def _name(configured: Path) -> str:
    """The pipeline of the default target (beside it, `liveagent_runs` writes run history)."""
    assert (configured / "pipelines" / "liveagent").is_dir()
    return "liveagent"


def test_a_box_too_small_for_any_history_says_so_and_which_box_reads_some(
    run_cli: Callable[..., int], configured: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Measured before: `--max-duration 1s` made no history progress in six runs, each saying
    "the backfill goes on in the next run"."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "1000")
    status = ["status", "--pipelines-dir", str(configured / "pipelines")]
    lines = []
    for _ in range(2):
        assert run_cli("--max-duration", "1s", "--progress-every", "0") == 0
        out = capsys.readouterr().out
        lines.append(out.splitlines()[0])
        assert "goes on in the next run" not in out
        assert main(status) == 0
        left = [line for line in capsys.readouterr().out.splitlines() if "history left" in line]
    assert all(line.startswith("the time box of 1s is too small for any history: bringing "
                               "the warehouse up to date took ") for line in lines), lines
    assert "not yet counted" in left[0]  # no history read in two runs
    fits = re.search(r"at 1200 requests/min; with this box the backfill makes no progress: "
                     r"give --max-duration (\d+s) or more$", lines[-1])
    assert fits, lines[-1]
    assert run_cli("--max-duration", fits.group(1), "--progress-every", "0") == 0
    assert "too small" not in capsys.readouterr().out
    assert main(status) == 0
    assert "not yet counted" not in capsys.readouterr().out  # the history was read into


@pytest.mark.parametrize("account", [(60, 90)], indirect=True)
def test_a_time_box_holds_every_kind_of_history(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """At a rate the fake enforces, a boxed run on an account with little to bring up to date
    and much history (90 days of nine reports, conversations) ends within its box but the
    fixed cost of its last load (measured: 16.2 s in a box of 20 s). Before, the first load
    read the newest 30 days of the reports, 279 requests, whatever the box: 46.8 s."""
    monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIORITY_DAYS", "30")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "600")
    fake.set_rate_limit(600, burst=30)
    for _ in range(2):
        started = time.monotonic()
        assert run_cli("--max-duration", "20s", "--progress-every", "0") == 0
        took = time.monotonic() - started
        out = capsys.readouterr().out
        assert took < 20 + 5, (took, out)
        print("took", round(took, 1))  # the last load's normalize and load, the history
        assert "history left" in out
        time.sleep(3)  # the fake's bucket of 30 refills: a new run's limiter starts full
    assert fake.stats.by_status.get(429, 0) == 0
