"""`liveagent-pipeline run` options, exit codes and the summary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import in_finalizer, main
from tests.warehouse import Target, Warehouse, postgres_scalar


def test_summary_names_tables_requests_and_where_the_data_is(
    run_cli, fake: FakeLiveAgent, warehouse: Warehouse, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli() == 0
    out = capsys.readouterr().out
    assert f"with {fake.log.total} API requests" in out
    conversations = warehouse.scalar("SELECT count(*) FROM {ds}.conversations")
    assert f"  conversations{' ' * 10}" in out and f" {conversations}\n" in out
    assert f"data: {warehouse.path} (dataset liveagent)" in out


def test_resources_selects_tables_and_keeps_the_conversation_family_together(
    run_cli, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    assert run_cli("--resources", "tags,messages") == 0
    assert warehouse.tables() >= {"tags", "conversations", "conversation_tags",
                                  "message_groups", "messages"}
    assert not warehouse.tables() & {"companies", "report_agents", "kb_entries", "agents"}
    assert fake.log.select(path="/reports/") == [] and fake.log.select(path="/companies") == []


def test_unknown_resource_is_a_usage_error(run_cli, capsys: pytest.CaptureFixture) -> None:
    assert run_cli("--resources", "tags,tickets") == 2
    err = capsys.readouterr().err
    assert err.startswith("liveagent-pipeline: unknown resource 'tickets'; choose from:")
    assert "messages" in err and "company_list" not in err


def test_duckdb_file_named_like_the_dataset_is_refused(
    run_cli, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("--duckdb-path", "liveagent.duckdb") == 2
    assert "named like the dataset 'liveagent'" in capsys.readouterr().err


def test_end_date_backfill_leaves_the_high_water_mark(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    assert run_cli("--resources", "conversations", "--start-date", "2025-09-20",
                   "--end-date", "2025-09-25") == 0
    (listing,) = fake.log.select(path="/api/conversations$")
    assert listing.params["datechanged"] == "btw:2025-09-20 00:00:00,2025-09-25 23:59:59"
    backfilled = warehouse.scalar("SELECT count(*) FROM {ds}.conversations")
    assert 0 < backfilled < 120
    fake.log.clear()
    assert run_cli("--resources", "conversations") == 0  # the state never moved: a first sync
    recent, history = fake.log.select(path="/api/conversations$")
    assert recent.params["datechanged"] == "gte:2025-09-09 10:53:20"  # the last 30 days first
    assert history.params["datechanged"] == "btw:2025-09-09 00:00:00,2025-09-09 10:53:19"
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


def test_full_refresh_starts_over(run_cli, fake: FakeLiveAgent, warehouse: Warehouse) -> None:
    assert run_cli("--resources", "conversations") == 0
    fake.log.clear()
    assert run_cli("--resources", "conversations", "--full-refresh") == 0
    assert len(fake.log.select(path=r"/messages$")) == 120  # everything read again
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages") == \
        warehouse.scalar("SELECT count(DISTINCT messageid) FROM {ds}.messages")


def test_progress_lines_show_rows_requests_and_rate_limit_waits(
    run_cli, fake: FakeLiveAgent, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")  # 20/s: ~7 s
    assert run_cli("--resources", "conversations", "--progress-every", "1") == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    running = [line for line in err if line.startswith("extract running")]
    assert len(running) >= 3 and all(len(line) < 120 for line in err)
    assert "requests" in running[-1] and "throttled" in running[-1]
    assert any(re.search(r"\d+/120 conversations read · \d+ requests, \d+ left, ETA \d+s",
                         line) for line in running)
    done = next(line for line in err if line.startswith("extract done in"))
    assert f"{fake.log.total:,} requests" in done
    throttled = int(re.search(r"throttled (\d+)%$", done).group(1))
    assert throttled > 50  # 20 requests a second for ~7 s: the limiter set the pace
    held = float(re.search(r"\(([\d.]+)s of it held back", captured.out).group(1))
    wall = float(re.search(r"rows in ([\d.]+)s", captured.out).group(1))
    assert 1 < held <= wall  # wall time, not the sum of every thread's wait
    assert any(line.startswith("normalize done in") for line in err)
    assert any(line.startswith("load done in") for line in err)


def test_start_date_on_an_existing_target_rereads_without_moving_state(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
    capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("--resources", "conversations") == 0
    fake.log.clear()
    assert run_cli("--resources", "conversations", "--start-date", "2025-10-01") == 0
    assert "re-reading from 2025-10-01 to now; incremental state kept" in capsys.readouterr().out
    (listing,) = fake.log.select(path="/api/conversations$")
    assert listing.params["datechanged"].startswith("btw:2025-10-01 00:00:00,")
    fake.log.clear()
    assert run_cli("--resources", "conversations") == 0  # back to the high-water mark
    (listing,) = fake.log.select(path="/api/conversations$")
    latest = max(account.record(i).changed for i in range(120))
    assert listing.params["datechanged"] == f"gte:{account.time.render(latest)}"
    assert fake.log.select(path="/messages$") == []


def test_a_fresh_machine_restores_state_from_the_warehouse(
    run_cli, fake: FakeLiveAgent, configured, warehouse: Warehouse
) -> None:
    import shutil

    assert run_cli("--resources", "conversations") == 0
    shutil.rmtree(configured / "pipelines")  # a new container: no local dlt state
    fake.log.clear()
    assert run_cli("--resources", "conversations") == 0
    (listing,) = fake.log.select(path="/api/conversations$")
    assert listing.params["datechanged"].startswith("gte:2025-10-09")
    assert fake.log.select(path="/messages$") == []


def test_loaded_packages_are_kept_only_as_many_as_asked(
    run_cli, configured: Path, account: Account
) -> None:
    loaded = configured / "pipelines"

    def packages() -> list[Path]:
        return [p for p in loaded.glob("*/load/loaded/*") if p.is_dir()]

    snapshot = ("--resources", "agent_online_status")  # appended every run: a package each
    for _ in range(5):
        account.clock.advance(60)
        assert run_cli(*snapshot) == 0
    assert len(packages()) == 3  # the default
    assert run_cli(*snapshot, "--keep-load-packages", "0") == 0
    assert packages() == []
    assert run_cli(*snapshot) == 0 and len(packages()) == 1


def test_the_cli_loads_the_fake_only_for_the_demo() -> None:
    """A production run never imports the fake LiveAgent server (it ships for the demo)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, pipelines.liveagent_pipeline, pipelines.runner\n"
         "print(sorted(m for m in sys.modules if m.startswith('liveagent_fake')))"],
        capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_a_ctrl_c_in_a_finalizer_is_taken_after_it() -> None:
    """Python drops a KeyboardInterrupt raised in `__del__`, so the CLI's handler defers it
    (the run that caught its Ctrl-C in pyrate_limiter's BucketFactory.__del__ went on)."""
    seen: list[bool] = []

    class Finalized:
        def __del__(self) -> None:
            seen.append(in_finalizer(sys._getframe()))

    Finalized()  # collected at once: its __del__ runs here
    assert seen == [True]
    assert not in_finalizer(sys._getframe())


def test_status_of_a_missing_target_creates_nothing(
    configured: Path, target: Target, capsys: pytest.CaptureFixture[str],
) -> None:
    """A DuckDB file `status` created would be in DuckDB 2.0's format, kept by the next run
    (DuckDB 1.4 clients then cannot open it); a Postgres dataset would be empty."""
    pipelines = configured / "pipelines"
    places = [("--duckdb-path", str(configured / "nowhere" / "warehouse.duckdb")),
              ("--duckdb-path", target.location)] if target.destination == "duckdb" \
        else [("--destination", "postgres", "--dataset", target.dataset)]
    for place in places:
        assert main(["status", "--pipelines-dir", str(pipelines), *place]) == 0
        assert capsys.readouterr().out.strip().endswith("nothing loaded yet")
    assert sorted(p.name for p in configured.iterdir()) == []
    if target.destination == "postgres":
        assert not postgres_scalar(target.location, "SELECT count(*) FROM pg_namespace WHERE "
                                   f"starts_with(nspname, '{target.dataset}')")


@pytest.mark.parametrize("damage", ["{\"_state_version\": 3, \"sources\": {", "", "\0" * 64])
def test_a_corrupt_local_state_is_restored_from_the_destination(
    run_cli, configured: Path, account: Account, target: Target, damage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The destination holds the state each load committed; the local copy (dlt's pipelines
    dir) is a cache a crash or a full disk can leave cut short."""
    assert run_cli("--resources", "conversations", *target.args) == 0
    state_files = [path for path in (configured / "pipelines").glob("*/state.json")
                   if not path.parent.name.endswith("_runs")]  # not the run history's
    assert len(state_files) == 1
    state_files[0].write_text(damage)
    runs_state = state_files[0].parent.with_name(f"{state_files[0].parent.name}_runs")
    (runs_state / "state.json").write_text(damage)  # the run history's pipeline too
    account.clock.advance(300)
    account.create_conversation("Brand new", "Hello", channel="B", owner=7)
    capsys.readouterr()
    assert run_cli("--resources", "conversations", *target.args) == 0
    captured = capsys.readouterr()
    assert f"the local pipeline state {state_files[0]} could not be read (" in captured.err
    aside = configured / "pipelines" / f"{state_files[0].parent.name}.state.json.unreadable"
    assert f"set aside as {aside.name}, the state of the last load is restored from the " \
        "destination" in captured.err
    assert aside.read_text() == damage
    # on from the high-water mark: the new conversation only, nothing read twice
    assert re.search(r"\n  conversations +1\n", captured.out), captured.out
    assert target.query("SELECT count(*) AS n FROM {ds}.conversations") == [{"n": 121}]
    assert target.query("SELECT outcome FROM {ds}.run_history") == [{"outcome": "loaded"}] * 2


@pytest.mark.parametrize(("schedule", "message"), [
    ('{"hours": {"mon": ["17:00-08:00"]}}',
     "sources.liveagent.business_hours.hours.mon: '17:00-08:00' must open before it closes"),
    ('{"hours": {"monday": ["08:00-17:00"]}}',
     "sources.liveagent.business_hours.hours: unknown day 'monday'"),
    ('{"departments": {"d1": {"timezone": "Mars/Olympus"}}}',
     "sources.liveagent.business_hours.departments.d1.timezone: unknown time zone"),
    ('{"holidays": ["2025-13-01"]}',
     "sources.liveagent.business_hours.holidays: '2025-13-01' is not a date"),
])
def test_a_malformed_business_hours_schedule_is_refused_before_anything_runs(
    run_cli, fake: FakeLiveAgent, monkeypatch: pytest.MonkeyPatch, configured: Path,
    capsys: pytest.CaptureFixture, schedule: str, message: str,
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__BUSINESS_HOURS", schedule)
    assert run_cli() == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert fake.log.select() == [] and not (configured / "warehouse.duckdb").exists()
