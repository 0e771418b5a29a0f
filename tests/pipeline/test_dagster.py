"""The Dagster asset and schedule, materialized in-process against the fake account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.dagster_definitions import (
    JOB_NAME,
    defs,
    liveagent_hourly,
    liveagent_warehouse,
)
from tests.warehouse import Warehouse


@pytest.fixture
def instance() -> Any:
    with dg.instance_for_test() as instance:  # a persisted one: schedules need its ref
        yield instance


@pytest.fixture
def materialize(configured: Path, instance: Any) -> Any:
    def run(**config: Any) -> Any:
        config = {"duckdb_path": str(configured / "warehouse.duckdb"),
                  "pipelines_dir": str(configured / "pipelines"), **config}
        return dg.materialize([liveagent_warehouse], instance=instance, raise_on_error=False,
                              run_config={"ops": {"liveagent_warehouse": {"config": config}}})
    return run


def metadata(result: Any) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node("liveagent_warehouse")
    return {key: value.value for key, value in event.metadata.items()}


def test_materialization_loads_the_account_and_reports_what_it_loaded(
    materialize, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    result = materialize()
    assert result.success
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    loaded = metadata(result)
    counts = loaded["row_counts"]
    assert {"conversations", "messages", "agents", "tags"} <= set(counts)
    in_warehouse = {t: warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{t}") for t in counts}
    assert counts == in_warehouse
    assert loaded["total_rows"] == sum(counts.values())
    assert loaded["api_requests"] == fake.log.total
    assert loaded["rate_limit_wait_seconds"] >= 0 and loaded["elapsed_seconds"] > 0
    assert loaded["data"] == warehouse.path and loaded["dataset"] == "liveagent"
    assert loaded["rejected_rows"] == 0 and loaded["bad_answers_retried"] == {}


def test_rows_kept_out_and_bad_answers_show_in_the_materialization(
    materialize, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    fake.faults.add("empty", path="/api/tags$", times=1)
    fake.faults.add("error_envelope", status=400, path=f"/{account.conversation_id(3)}/messages$")
    loaded = metadata(materialize())
    assert loaded["bad_answers_retried"] == {"an empty body": 1, "error 400 under HTTP 200": 1}
    assert loaded["rejected_rows"] == 1 and loaded["rejected_rows_by_table"] == {"messages": 1}
    assert warehouse.scalar("SELECT count(*) FROM {ds}.rejected_rows") == 1


def test_a_second_materialization_is_incremental(
    materialize, fake: FakeLiveAgent, warehouse: Warehouse
) -> None:
    assert materialize(resources=["conversations"]).success
    fake.log.clear()
    result = materialize(resources=["conversations"])
    assert result.success
    assert fake.log.select(path=r"/messages$") == []
    assert metadata(result)["row_counts"].get("messages", 0) == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


def test_a_failed_run_loses_nothing_and_the_next_run_resumes(
    materialize, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    assert materialize(resources=["conversations"]).success
    noted = account.conversation_id(3)
    account.clock.advance(600)
    account.add_message(noted, "a note", kind="N")
    # the run dies mid-extract (a refused key; a 400 or 5xx would cost only its conversation)
    fake.faults.add("status", path=r"/messages$", status=401)
    assert not materialize(resources=["conversations"]).success
    fake.faults.clear()
    fake.log.clear()
    assert materialize(resources=["conversations"]).success
    assert [e.path.split("/")[3] for e in fake.log.select(path=r"/messages$")] == [noted]
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages WHERE conversationid = "
                            f"'{noted}' AND message = 'a note'") == 1


def test_a_failed_run_is_a_dagster_failure_with_one_line_and_no_key(
    materialize, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__API_KEY", "wrong-key-1")
    result = materialize()
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


def test_definitions_load_with_an_hourly_schedule_on_the_asset_job(instance: Any) -> None:
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()  # what `dagster dev -m` loads, jobs resolved
    job = repository.get_job(JOB_NAME)
    assert job.asset_layer.executable_asset_keys == {liveagent_warehouse.key}
    schedule = repository.get_schedule_def("liveagent_hourly")
    assert schedule.cron_schedule == "0 * * * *" and schedule.job_name == JOB_NAME


@pytest.mark.parametrize("job_name, selection", [
    (JOB_NAME, None),  # the previous scheduled run
    ("__ASSET_JOB", frozenset({liveagent_warehouse.key})),  # "Materialize" clicked in the UI
])
def test_the_schedule_skips_a_tick_while_a_run_of_the_asset_is_in_progress(
    instance: Any, job_name: str, selection: Any
) -> None:
    def tick() -> Any:
        (request,) = liveagent_hourly(dg.build_schedule_context(instance=instance))
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
