"""The Dagster assets (one per table), jobs, schedules and freshness checks, materialized
in-process against the fake account into a real DuckDB file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from liveagent_fake.models import Account as FakeAccount
from liveagent_fake.server import FakeLiveAgent
from pipelines.accounts import Account
from pipelines.dagster_definitions import FRESHNESS_WINDOW, build_definitions
from sources.liveagent import CONVERSATION_FAMILY
from tests.support import ZONE, make_account
from tests.warehouse import Warehouse

FAMILY = {"conversations", "conversation_tags", "message_groups", "messages",
          "conversation_status_history"}
assert set(CONVERSATION_FAMILY) >= FAMILY  # the rest of it loads into these tables


@pytest.fixture
def instance() -> Any:
    with dg.instance_for_test() as instance:  # a persisted one: schedules need its ref
        yield instance


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_definitions()  # no accounts configured: the group `liveagent`


def key(table: str, *account: str) -> dg.AssetKey:
    return dg.AssetKey(["liveagent", *account, table])


@pytest.fixture
def materialize(configured: Path, instance: Any, defs: dg.Definitions) -> Any:
    def run(*tables: str, **config: Any) -> Any:
        config = {"pipelines_dir": str(configured / "pipelines"), **config}
        assets = defs.get_assets_def(key("conversations"))
        selection = [key(t) for t in tables] if tables else list(assets.keys)
        return dg.materialize([assets, *(defs.asset_checks or ())], instance=instance,
                              selection=selection, raise_on_error=False,
                              run_config={"ops": {"liveagent": {"config": config}}})
    return run


def materialized(result: Any, op: str = "liveagent") -> dict[str, dict[str, Any]]:
    """The metadata of each table the run materialized, by table name."""
    return {event.asset_key.path[-1]: {k: v.value for k, v in event.metadata.items()}
            for event in result.asset_materializations_for_node(op)}


def warehouse_count(warehouse: Warehouse, table: str) -> int:
    return warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table}") \
        if table in warehouse.tables() else 0


def test_definitions_load_with_one_asset_per_table_in_the_group_liveagent(
    defs: dg.Definitions
) -> None:
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()  # what `dagster dev -m` loads, jobs resolved
    assets = defs.get_assets_def(key("conversations"))
    tables = {asset_key.path[-1] for asset_key in assets.keys}
    assert FAMILY | {"agents", "tags", "kb_entries", "report_agents", "labels"} <= tables
    assert "rejected_rows" not in tables and "conversation_retries" not in tables
    assert assets.keys == {key(table) for table in tables}
    assert set(assets.group_names_by_key.values()) == {"liveagent"}
    assert assets.op.pool == "liveagent" and assets.can_subset
    spec = assets.specs_by_key[key("messages")]
    assert spec.kinds == {"dlt", "duckdb"} and spec.description.startswith("Messages of each")
    columns = {c.name: c.type for c in spec.metadata["dagster/column_schema"].columns}
    assert columns["messageid"] == "text" and "conversationid" in columns
    job = repository.get_job("liveagent_job")
    assert job.asset_layer.executable_asset_keys == assets.keys
    # the job runs the freshness checks too: every scheduled run re-evaluates them
    assert any(node.name.startswith("freshness_check") for node in job.graph.nodes)
    schedule = repository.get_schedule_def("liveagent_hourly")
    assert schedule.cron_schedule == "0 * * * *" and schedule.job_name == "liveagent_job"
    assert {check.asset_key for check in repository.asset_graph.asset_check_keys} == assets.keys
    assert repository.get_sensor_def("liveagent_freshness")


def test_selecting_one_table_of_the_conversation_family_materializes_the_family_only(
    materialize, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    result = materialize("messages")
    assert result.success
    loaded = materialized(result)
    assert set(loaded) == FAMILY
    assert fake.log.select(path=r"/tags$") == [] and fake.log.select(path=r"/agents") == []
    assert {t for t in warehouse.tables() if not t.startswith(("_dlt", "run_history"))} <= \
        FAMILY | {"table_freshness", "rejected_rows"}  # every run creates rejected_rows
    for table, metadata in loaded.items():
        assert metadata["rows_written"] == warehouse_count(warehouse, table), table


def test_materializing_every_table_reports_what_the_warehouse_holds(
    materialize, defs: dg.Definitions, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    result = materialize()
    assert result.success
    loaded = materialized(result)
    assert len(result.asset_materializations_for_node("liveagent")) == len(loaded)  # once each
    assert {key(t) for t in loaded} == defs.get_assets_def(key("tags")).keys
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    for table, metadata in loaded.items():
        assert metadata["rows_written"] == warehouse_count(warehouse, table), table
        assert metadata["api_requests"] == fake.log.total
        assert metadata["dagster/table_name"] == f"liveagent.{table}"
        assert metadata["data"] == warehouse.path and metadata["rejected_rows"] == 0
    written = {table: m["rows_written"] for table, m in loaded.items()}
    assert loaded["tags"]["run_rows_written"] == sum(written.values())
    assert loaded["tags"]["backfill_complete"] is True
    assert loaded["tags"]["history_conversations_left"] == 0
    assert loaded["tags"]["backfill"].startswith("backfill complete: ")
    in_duckdb = {column: kind for (table, column), kind in warehouse.column_types().items()
                 if table == "messages"}
    columns = {c.name: c.type for c in loaded["messages"]["dagster/column_schema"].columns}
    assert set(columns) == set(in_duckdb)  # the dlt schema's columns, as loaded


def test_a_table_whose_reads_keep_failing_fails_its_asset_only(
    materialize, defs: dg.Definitions, fake: FakeLiveAgent, instance: Any,
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GET /tags answering an error envelope every time: every other asset is materialized
    from the run, the tags asset fails to materialize with the one line that says why."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    fake.faults.add("error_envelope", status=500, path="/api/tags$")
    result = materialize()
    assert not result.success
    assets = defs.get_assets_def(key("tags")).keys
    assert {key(table) for table in materialized(result)} == assets - {key("tags")}
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description == (
        "loaded, but 1 table failed and kept its state (the next run reads it again): tags: "
        "LiveAgent kept failing on tags after 2 attempts (last: error 500 under HTTP 200: "
        "Injected error 500)")
    # planned and not materialized in a failed run: what Dagster shows as a failed asset (its
    # open-source event storages keep no ASSET_FAILED_TO_MATERIALIZE events)
    planned = instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    assert {record.asset_key for record in planned} == assets
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    assert "tags" not in warehouse.tables()


def test_history_not_yet_counted_is_not_a_number(
    materialize, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time-boxed first run leaves history it has not counted yet: the metadata says so and
    carries no count (not 0)."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIORITY_DAYS", "7")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")  # 1 s: 20 requests
    result = materialize("conversations", max_duration_seconds=1)
    assert result.success
    metadata = materialized(result)["conversations"]
    assert metadata["backfill_complete"] is False
    assert "history_conversations_left" not in metadata
    assert "not yet counted" in metadata["backfill"]


def test_rows_kept_out_and_bad_answers_show_on_their_table(
    materialize, fake: FakeLiveAgent, account: FakeAccount, warehouse: Warehouse
) -> None:
    fake.faults.add("empty", path="/api/tags$", times=1)
    fake.faults.add("error_envelope", status=400, path=f"/{account.conversation_id(3)}/messages$")
    loaded = materialized(materialize("conversations", "tags"))
    assert loaded["tags"]["bad_answers_retried"] == {"an empty body": 1,
                                                     "error 400 under HTTP 200": 1}
    assert loaded["messages"]["rejected_rows"] == 1 and loaded["tags"]["rejected_rows"] == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.rejected_rows") == 1


def test_a_second_materialization_is_incremental(
    materialize, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    assert materialize("conversations").success
    fake.log.clear()
    result = materialize("conversations")
    assert result.success
    assert fake.log.select(path=r"/messages$") == []
    assert materialized(result)["messages"]["rows_written"] == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


def test_a_failed_run_loses_nothing_and_the_next_run_resumes(
    materialize, fake: FakeLiveAgent, account: FakeAccount, warehouse: Warehouse
) -> None:
    assert materialize("conversations").success
    noted = account.conversation_id(3)
    account.clock.advance(600)
    account.add_message(noted, "a note", kind="N")
    # the run dies mid-extract (a refused key; a 400 or 5xx would cost only its conversation)
    fake.faults.add("status", path=r"/messages$", status=401)
    assert not materialize("conversations").success
    fake.faults.clear()
    fake.log.clear()
    assert materialize("conversations").success
    assert [e.path.split("/")[3] for e in fake.log.select(path=r"/messages$")] == [noted]
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages WHERE conversationid = "
                            f"'{noted}' AND message = 'a note'") == 1


def test_a_failed_run_is_a_dagster_failure_with_one_line_and_no_key(
    materialize, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__API_KEY", "wrong-key-1")
    result = materialize("tags")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert "rejected the API key" in description and "\n" not in description
    error = failure.step_failure_data.error
    logged = capfd.readouterr()
    everything = error.to_string() + str(result.all_events) + logged.out + logged.err
    assert "rejected the API key" in logged.err
    assert "wrong-key-1" not in everything
    assert error.cause is None and error.context is None  # `from None`: no inner traceback


def test_freshness_checks_fail_before_a_materialization_and_pass_after(
    materialize, defs: dg.Definitions, instance: Any
) -> None:
    assets = defs.get_assets_def(key("conversations"))

    def evaluate() -> dict[str, bool]:
        result = dg.materialize([assets, *(defs.asset_checks or ())], instance=instance,
                                selection=dg.AssetSelection.checks_for_assets(key("tags")))
        return {e.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}

    assert evaluate() == {"tags": False}
    assert materialize("tags").success
    assert evaluate() == {"tags": True}  # fresh for FRESHNESS_WINDOW (two hours) from now
    assert FRESHNESS_WINDOW.total_seconds() == 2 * 3600


@pytest.mark.parametrize("job_name, selection", [
    ("liveagent_job", None),  # the previous scheduled run
    ("__ASSET_JOB", frozenset({key("tags")})),  # "Materialize" clicked in the UI
])
def test_the_schedule_skips_a_tick_while_a_run_of_the_assets_is_in_progress(
    instance: Any, defs: dg.Definitions, job_name: str, selection: Any
) -> None:
    schedule = defs.get_repository_def().get_schedule_def("liveagent_hourly")

    def tick() -> Any:
        (request,) = schedule(dg.build_schedule_context(instance=instance))
        return request

    instance.add_run(dg.DagsterRun(job_name="other_job", run_id="b" * 36,
                                   status=dg.DagsterRunStatus.STARTED))
    assert isinstance(tick(), dg.RunRequest)
    running = instance.add_run(dg.DagsterRun(job_name=job_name, run_id="a" * 36,
                                             asset_selection=selection,
                                             status=dg.DagsterRunStatus.STARTED))
    skip = tick()
    assert isinstance(skip, dg.SkipReason) and "a" * 36 in skip.skip_message
    instance.report_run_failed(running)  # over: the next tick runs again
    assert isinstance(tick(), dg.RunRequest)


def test_two_accounts_are_two_groups_each_loading_its_own_dataset(
    configured: Path, fake: FakeLiveAgent, instance: Any
) -> None:
    with FakeLiveAgent(make_account(conversations=20, timezone=ZONE)) as other:
        accounts = [Account("acme", "acme", {"base_url": fake.url + "/api/",
                                             "api_key": fake.api_key}),
                    Account("globex", "globex_data", {"base_url": other.url + "/api/",
                                                      "api_key": other.api_key})]
        defs = build_definitions(accounts)
        dg.Definitions.validate_loadable(defs)
        graph = defs.get_repository_def().asset_graph
        groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
        assert groups == {"liveagent_acme", "liveagent_globex"}
        for name, conversations in (("acme", 120), ("globex", 20)):
            assets = defs.get_assets_def(key("conversations", name))
            assert assets.op.pool == f"liveagent_{name}"
            config = {"pipelines_dir": str(configured / "pipelines")}
            result = dg.materialize([assets], instance=instance, selection=[
                key("conversations", name)], run_config={
                    "ops": {f"liveagent_{name}": {"config": config}}})
            assert {e.asset_key.path[1] for e in
                    result.asset_materializations_for_node(f"liveagent_{name}")} == {name}
            dataset = "acme" if name == "acme" else "globex_data"
            held = Warehouse(str(configured / f"liveagent_{name}.duckdb"), dataset)
            assert held.scalar("SELECT count(*) FROM {ds}.conversations") == conversations


def test_configured_accounts_load_as_groups_without_the_demo_the_cli_or_the_fake(
    tmp_path: Path
) -> None:
    """`dagster dev -m pipelines.dagster_definitions` in a directory whose `.dlt/` declares
    two accounts, in a fresh interpreter (nothing imported before it)."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(
        '[liveagent.accounts.acme]\nbase_url = "https://acme.example"\n'
        '[liveagent.accounts.globex]\nbase_url = "https://globex.example"\n')
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        '[liveagent.accounts.acme]\napi_key = "acme-key"\n')
    code = ("import sys; from pipelines.dagster_definitions import defs; "
            "graph = defs.get_repository_def().asset_graph; "
            "print(sorted({graph.get(k).group_name for k in graph.get_all_asset_keys()})); "
            "print(sorted(m for m in sys.modules if m.startswith(('liveagent_fake', "
            "'pipelines.demo', 'pipelines.liveagent_pipeline')))); "
            "print(sorted(j.name for j in defs.jobs))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=120, cwd=tmp_path)
    assert found.stdout.splitlines() == [
        "['liveagent_acme', 'liveagent_globex']", "[]",
        "['liveagent_acme_job', 'liveagent_globex_job']"]
    assert "acme-key" not in found.stdout + found.stderr


def test_an_accounts_failure_names_the_setting_of_that_account(
    configured: Path, fake: FakeLiveAgent, instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """acme's own key is wrong; globex inherits the shared key, which is wrong too."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__API_KEY", "wrong-key-2")
    url = fake.url + "/api/"
    defs = build_definitions([Account("acme", "acme", {"base_url": url, "api_key": "wrong-key-1"}),
                              Account("globex", "globex", {"base_url": url})])
    expected = {"acme": "check liveagent.accounts.acme.api_key "
                        "(LIVEAGENT__ACCOUNTS__ACME__API_KEY)",
                "globex": "check sources.liveagent.api_key (SOURCES__LIVEAGENT__API_KEY)"}
    for name, change in expected.items():
        config = {"pipelines_dir": str(configured / "pipelines")}
        result = dg.materialize([defs.get_assets_def(key("tags", name))], instance=instance,
                                selection=[key("tags", name)], raise_on_error=False,
                                run_config={"ops": {f"liveagent_{name}": {"config": config}}})
        (failure,) = result.get_step_failure_events()
        description = failure.step_failure_data.user_failure_data.description
        assert "rejected the API key" in description and change in description, description
        assert "wrong-key" not in description
