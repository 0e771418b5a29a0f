"""Dagster definitions: one asset per warehouse table, materialized hourly, per account.

    pip install -e '.[dagster]' && dagster dev -m pipelines.dagster_definitions

Without `[liveagent.accounts.*]` the tables are the group `liveagent` (keys `liveagent/<table>`);
with accounts, each account is a group `liveagent_<account>` (keys `liveagent/<account>/<table>`)
with its own job, hourly schedule, concurrency pool and freshness checks. Every materialization
is one `pipelines.runner.run_pipeline` call, as for the CLI: locks, the chunked backfill, run
history, rejected rows and the time box all stay the runner's.

Configuration and secrets come the dlt way, as for the CLI: `SOURCES__LIVEAGENT__*` environment
variables or `.dlt/` in the working directory (`dagster dev` also reads a `.env` file there,
which wins over the shell's environment: see the README). This is the only module that imports
Dagster, an optional dependency.

dagster-dlt (`@dlt_assets`, `DagsterDltTranslator`) was measured and left out: 0.29.27, its
newest, pins dagster==1.13.27 exactly; it makes one asset per *selected resource* (four of ours,
`conversation_retries`, `conversation_reconciliation`, `kb_entry_deletions` and
`kb_entry_retries`, load into another resource's table), wants a `dlt.Pipeline` at definition
time (ours is made from the run config) and expands no selection to the conversation family.
"""

import warnings
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
import dlt
from dlt.common.schema import Schema

from pipelines.accounts import Account, configured_accounts
from pipelines.errors import failed_tables_line, failure_line
from pipelines.runner import (
    RunOptions,
    RunResult,
    coverage_line,
    rejection_lines,
    run_pipeline,
    select_resources,
    tables_of,
)
from sources.liveagent import CONVERSATION_FAMILY, liveagent_source

if TYPE_CHECKING:  # what dg.define_asset_job returns; dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

PREFIX = "liveagent"
HOURLY = "0 * * * *"
# an hourly schedule's tables are overdue when no run wrote them for two hours: one missed tick
# (a run still going, a skipped tick) is not yet a failure, two are. Freshness *checks*, which
# dagster 1.13 calls superseded by FreshnessPolicy (its warning is silenced where they are
# built): a check is a result in the event log, evaluated by every run of the job (its
# selection holds the checks) and testable in-process; a policy needs the freshness daemon.
FRESHNESS_WINDOW = timedelta(hours=2)
# what the definitions need from the source is its tables and their declared columns: it is
# built without the account's URL and key (nothing is requested while definitions load)
_SPEC_SETTINGS = {"base_url": "https://definitions.invalid/api/", "api_key": "unused",
                  "timezone": "UTC", "check_timezone": False}
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
          dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
          dg.DagsterRunStatus.CANCELING]


class LiveAgentConfig(dg.Config):
    """The `liveagent-pipeline run` options; no dates: a scheduled run is incremental. Which
    tables load is the asset selection."""

    destination: str | None = None  # None: the definitions' (duckdb unless built otherwise)
    dataset: str | None = None  # None: the account's dataset, `liveagent` without accounts
    # None: warehouse.duckdb, or liveagent_<account>.duckdb for an account; relative to the
    # working directory
    duckdb_path: str | None = None
    pipelines_dir: str | None = None  # where dlt keeps local state; None: dlt's default
    # a time box for one materialization (e.g. 840 for a 15-minute schedule): the warehouse is
    # brought up to date, the rest of the time goes to the history backfill
    max_duration_seconds: float | None = None
    transform: bool = False  # build the analyst layer (dbt) after the load


@dataclass(frozen=True)
class Target:
    """The assets of one account (or of the unnamed default one) and where they load."""

    account: Account | None
    destination: str = "duckdb"

    @property
    def name(self) -> str:
        """The group's, the pool's and the op's name."""
        return PREFIX if self.account is None else f"{PREFIX}_{self.account.name}"

    def key(self, table: str) -> dg.AssetKey:
        account = [] if self.account is None else [self.account.name]
        return dg.AssetKey([PREFIX, *account, table])

    def source_options(self) -> dict[str, Any]:
        return {} if self.account is None else dict(self.account.settings)

    def options(self, config: LiveAgentConfig, resources: list[str]) -> RunOptions:
        base = RunOptions(destination=config.destination or self.destination,
                          resources=resources, pipelines_dir=config.pipelines_dir,
                          max_duration=config.max_duration_seconds, transform=config.transform)
        if config.duckdb_path:
            base.duckdb_path = config.duckdb_path
        options = base if self.account is None else self.account.options(base)
        options.dataset = config.dataset or options.dataset
        return options


def table_assets(target: Target) -> dg.AssetsDefinition:
    """One asset per table the source loads, in one op: one run, one lock, one pool slot.
    Any subset may be selected; a conversation-family table brings the whole family (they
    share one incremental state), and those not selected are recorded as materialized too."""
    source = liveagent_source(**{**target.source_options(), **_SPEC_SETTINGS})
    tables = tables_of(source, select_resources(source, []))
    schema = source.discover_schema()
    specs = [dg.AssetSpec(target.key(table), group_name=target.name,
                          description=schema.tables[table].get("description"),
                          kinds={"dlt", target.destination},
                          metadata=column_schema(schema, table, declared_only=True))
             for table in tables]

    @dg.multi_asset(name=target.name, specs=specs, can_subset=True, pool=target.name)
    def liveagent_tables(context: dg.AssetExecutionContext, config: LiveAgentConfig
                         ) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
        selected = context.selected_asset_keys
        # every table selected: the run reads what the source selects (as the CLI's default)
        resources = [] if len(selected) == len(specs) else \
            [table for table in tables if target.key(table) in selected]
        options = target.options(config, resources)
        result = _run(context, options, target.source_options())
        yield from materializations(target, options, result, selected)
        if result.failed:  # recorded after the others: their materializations stand
            raise dg.Failure(description=failed_tables_line(result.failed, options.account))

    return liveagent_tables


def _run(context: dg.AssetExecutionContext, options: RunOptions,
         source_options: dict[str, Any]) -> RunResult:
    try:
        result = run_pipeline(options, **source_options)
    except Exception as error:
        message = failure_line(error, source_options.get("api_key"), options.account)
    else:
        for notice in result.notices:
            context.log.info(notice)
        for line in rejection_lines(options, result.rejections):
            context.log.warning(line)
        return result
    # the one-line reason only, raised outside the except block so that no chained traceback
    # (which could carry the API key) reaches Dagster's event log
    raise dg.Failure(description=message) from None


def materializations(target: Target, options: RunOptions, result: RunResult,
                     selected: AbstractSet[dg.AssetKey]
                     ) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """A result per selected table; a table the run read without its being selected (the rest
    of the conversation family) is an `AssetMaterialization`: an op may only return outputs of
    its selection, but may record any asset's materialization. A table whose reads failed gets
    none: the op then fails, and with it that asset only."""
    figures = run_metadata(options, result)
    schema = dlt.attach(result.pipeline_name, pipelines_dir=result.pipelines_dir).default_schema
    for table in (table for table in result.tables if table not in result.failed):
        key = target.key(table)
        metadata = {**figures, **table_metadata(schema, options, result, table)}
        if key in selected:
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        elif table in CONVERSATION_FAMILY or table == "conversation_details":
            yield dg.AssetMaterialization(asset_key=key, metadata=metadata,
                                          description="loaded with the conversation family")


def table_metadata(schema: Schema, options: RunOptions, result: RunResult, table: str
                   ) -> dict[str, Any]:
    return {
        "rows_written": dg.MetadataValue.int(result.row_counts.get(table, 0)),
        "rejected_rows": dg.MetadataValue.int(result.rejections.open_by_table.get(table, 0)),
        **column_schema(schema, table),
        "dagster/table_name": dg.MetadataValue.text(f"{options.dataset}.{table}"),
    }


def column_schema(schema: Schema, table: str, declared_only: bool = False) -> dict[str, Any]:
    """The table's columns in the dlt schema as `dagster/column_schema`. Declared only: the
    source's hints before any load (API field names, normalized here; a column with a
    description but no type yet is left out until a load types it)."""
    columns = schema.tables[table]["columns"] if declared_only \
        else schema.get_table_columns(table)
    normalize = schema.naming.normalize_identifier
    return {"dagster/column_schema": dg.TableSchema(columns=[
        dg.TableColumn(normalize(name), type=str(column["data_type"]),
                       description=column.get("description"))
        for name, column in columns.items() if column.get("data_type")])}


def run_metadata(options: RunOptions, result: RunResult) -> dict[str, Any]:
    """The run's figures, the same on every table it materialized."""
    where = (str(options.duckdb_file) if options.destination == "duckdb"
             else f"{options.destination} dataset {options.dataset}")
    coverage = result.coverage
    left = {"history_windows_left": coverage.conversations.windows_left,
            "history_conversations_left": coverage.conversations.conversations_left}
    return {
        "run_rows_written": dg.MetadataValue.int(sum(result.row_counts.values())),
        "api_requests": dg.MetadataValue.int(result.requests),
        "rate_limit_wait_seconds": dg.MetadataValue.float(round(result.rate_limit_wait, 3)),
        "elapsed_seconds": dg.MetadataValue.float(round(result.elapsed, 3)),
        "bad_answers_retried": dg.MetadataValue.json(result.bad_answers),
        "backfill": dg.MetadataValue.text(coverage_line(coverage)),
        "backfill_complete": dg.MetadataValue.bool(coverage.complete),
        # left out while not known (the first history window counts the conversations)
        **{name: dg.MetadataValue.int(value) for name, value in left.items()
           if value is not None},
        "history_report_days_left": dg.MetadataValue.int(coverage.report_days_left),
        "destination": dg.MetadataValue.text(options.destination),
        "dataset": dg.MetadataValue.text(options.dataset),
        "data": dg.MetadataValue.text(where),
        "dlt_pipeline": dg.MetadataValue.text(result.pipeline_name),
    }


def hourly_schedule(target: Target, job: "UnresolvedAssetJobDefinition",
                    keys: Sequence[dg.AssetKey]) -> dg.ScheduleDefinition:
    """Hourly incremental run; skipped while another run of the target's assets is going,
    besides the pool (which only queues the second run's op)."""

    @dg.schedule(name=f"{target.name}_hourly", cron_schedule=HOURLY, job=job,
                 execution_timezone="UTC")
    def liveagent_hourly(context: dg.ScheduleEvaluationContext
                         ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        active = [run.run_id for run in context.instance.get_runs(dg.RunsFilter(statuses=ACTIVE))
                  if run.job_name == job.name or set(keys) & set(run.asset_selection or ())]
        if active:
            yield dg.SkipReason(f"run {active[0]} of {target.name} is still in progress")
        else:
            yield dg.RunRequest()

    return liveagent_hourly


@dataclass(frozen=True)
class Built:
    """What one target contributes to the definitions."""

    assets: dg.AssetsDefinition
    job: "UnresolvedAssetJobDefinition"
    schedule: dg.ScheduleDefinition
    checks: Sequence[dg.AssetChecksDefinition]


def build_target(target: Target) -> Built:
    assets = table_assets(target)
    job = dg.define_asset_job(f"{target.name}_job", selection=dg.AssetSelection.assets(assets))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = dg.build_last_update_freshness_checks(assets=[assets],
                                                       lower_bound_delta=FRESHNESS_WINDOW)
    return Built(assets, job, hourly_schedule(target, job, list(assets.keys)), checks)


def build_definitions(accounts: Sequence[Account] = (), destination: str = "duckdb"
                      ) -> dg.Definitions:
    """The definitions for `accounts` (none: the one account of `sources.liveagent`), loading
    into `destination` unless a run's config says otherwise."""
    targets = [Target(account, destination) for account in accounts] or \
        [Target(None, destination)]
    built = [build_target(target) for target in targets]
    checks = [check for part in built for check in part.checks]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        sensor = dg.build_sensor_for_freshness_checks(freshness_checks=checks,
                                                      name=f"{PREFIX}_freshness")
    return dg.Definitions(
        assets=[part.assets for part in built], asset_checks=checks,
        jobs=[part.job for part in built], schedules=[part.schedule for part in built],
        sensors=[sensor])


defs = build_definitions(configured_accounts())
