"""Dagster definitions: the LiveAgent copy as one asset, materialized hourly.

    pip install -e '.[dagster]' && dagster dev -m pipelines.dagster_definitions

Configuration and secrets come the dlt way, as for the CLI: `SOURCES__LIVEAGENT__*` environment
variables (`dagster dev` also reads a `.env` file in its working directory) or `.dlt/` in the
working directory. This is the only module that imports Dagster, an optional dependency.
"""

from collections.abc import Iterator

import dagster as dg

from pipelines.errors import explain, known_secrets
from pipelines.runner import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    RunOptions,
    RunResult,
    backfill_line,
    rejection_lines,
    run_pipeline,
)
from sources.liveagent.client import redact

JOB_NAME = "liveagent_job"
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
          dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
          dg.DagsterRunStatus.CANCELING]


class LiveAgentConfig(dg.Config):
    """The `liveagent-pipeline run` options; no dates: a scheduled run is incremental."""

    destination: str = "duckdb"  # duckdb or postgres
    dataset: str = DEFAULT_DATASET
    duckdb_path: str = DEFAULT_DUCKDB_PATH  # relative to the Dagster process's working directory
    resources: list[str] = []  # noqa: RUF012 (pydantic copies it) table names; empty: all
    pipelines_dir: str | None = None  # where dlt keeps local state; None: dlt's default
    # a time box for one materialization (e.g. 840 for a 15-minute schedule): the warehouse is
    # brought up to date, the rest of the time goes to the history backfill
    max_duration_seconds: float | None = None


@dg.asset(kinds={"dlt"}, description="A copy of the LiveAgent account (all selected tables)")
def liveagent_warehouse(
    context: dg.AssetExecutionContext, config: LiveAgentConfig
) -> dg.MaterializeResult:
    options = RunOptions(destination=config.destination, dataset=config.dataset,
                         duckdb_path=config.duckdb_path, resources=list(config.resources),
                         pipelines_dir=config.pipelines_dir,
                         max_duration=config.max_duration_seconds)
    try:
        result = run_pipeline(options)
    except Exception as error:
        message = redact(explain(error)[0], known_secrets())
    else:
        for notice in result.notices:
            context.log.info(notice)
        for line in rejection_lines(options, result.rejections):
            context.log.warning(line)
        return materialization(options, result)
    # the one-line reason only, raised outside the except block so that no chained traceback
    # (which could carry the API key) reaches Dagster's event log
    raise dg.Failure(description=message) from None


def materialization(options: RunOptions, result: RunResult) -> dg.MaterializeResult:
    where = (str(options.duckdb_file) if options.destination == "duckdb"
             else f"Postgres schema {options.dataset}")
    return dg.MaterializeResult(metadata={
        "row_counts": dg.MetadataValue.json(result.row_counts),
        "total_rows": dg.MetadataValue.int(sum(result.row_counts.values())),
        "api_requests": dg.MetadataValue.int(result.requests),
        "rate_limit_wait_seconds": dg.MetadataValue.float(round(result.rate_limit_wait, 3)),
        "elapsed_seconds": dg.MetadataValue.float(round(result.elapsed, 3)),
        "bad_answers_retried": dg.MetadataValue.json(result.bad_answers),
        "rejected_rows": dg.MetadataValue.int(result.rejections.open),
        "rejected_rows_by_table": dg.MetadataValue.json(result.rejections.open_by_table),
        "backfill": dg.MetadataValue.text(backfill_line(result.backfill)),
        "history_windows_left": dg.MetadataValue.int(result.backfill.windows_left),
        "history_conversations_left": dg.MetadataValue.int(result.backfill.history_rows
                                                           if result.backfill.history_left
                                                           else 0),
        "destination": dg.MetadataValue.text(options.destination),
        "dataset": dg.MetadataValue.text(options.dataset),
        "data": dg.MetadataValue.text(where),
    })


liveagent_job = dg.define_asset_job(JOB_NAME, selection=[liveagent_warehouse])


@dg.schedule(cron_schedule="0 * * * *", job=liveagent_job, execution_timezone="UTC")
def liveagent_hourly(
    context: dg.ScheduleEvaluationContext,
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """Hourly incremental run; skipped while another run of the asset is going (no overlap)."""
    active = [run.run_id for run in context.instance.get_runs(dg.RunsFilter(statuses=ACTIVE))
              if run.job_name == JOB_NAME
              or liveagent_warehouse.key in (run.asset_selection or ())]
    if active:
        yield dg.SkipReason(f"run {active[0]} of liveagent_warehouse is still in progress")
    else:
        yield dg.RunRequest()


defs = dg.Definitions(assets=[liveagent_warehouse], jobs=[liveagent_job],
                      schedules=[liveagent_hourly])
