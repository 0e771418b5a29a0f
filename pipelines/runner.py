"""One ELT run of the LiveAgent source, for the CLI and for orchestrators alike."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import dlt
from dlt.common.pipeline import ExtractInfo, LoadInfo
from dlt.common.runtime.collector_base import Collector
from dlt.extract import DltSource

from pipelines import duckdb_file, history
from pipelines.accounts import refuse_a_shared_target
from pipelines.comments import write_comments
from pipelines.configuration import check_dataset, checked_source, source_settings
from pipelines.errors import failed_tables_line, failure_line, tables_and_reasons
from pipelines.options import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_PATH,
    DEFAULT_KEPT_LOAD_PACKAGES,
    BusyError,
    LoadsCommitted,
    RunOptions,
    UsageError,
)
from pipelines.progress import clock
from pipelines.read_copy import Publication
from pipelines.run_file import read_run_file, run_file_path
from pipelines.targets import (
    ReadCopy,
    committed_state,
    describe_target,
    exclusive,
    holds_no_tables,
    loader_file_format,
    make_pipeline,
    pipeline_name,
    pipelines_dir_of,
    prepare_duckdb_file,
    prune_loaded_packages,
    published,
    removed_unless_loaded,
    wait_for_duckdb_file,
)
from pipelines.timebox import TimeBox
from pipelines.transform import TransformResult, transform
from pipelines.transform import summary as transform_summary
from sources.liveagent import (
    ALWAYS_SELECTED,
    CONVERSATION_FAMILY,
    INTERNAL_RESOURCES,
    SELECTED_WITH,
    SNAPSHOT_TABLES,
    Failures,
    liveagent_source,
)
from sources.liveagent.backfill import Backfill
from sources.liveagent.business_hours import checked_business_hours
from sources.liveagent.client import RequestMetrics
from sources.liveagent.coverage import Coverage
from sources.liveagent.dictionary import TABLES as TABLE_DESCRIPTIONS
from sources.liveagent.exceptions import TablesFailedError
from sources.liveagent.isolation import failing_tables
from sources.liveagent.key_pool import api_keys, pool_per_minute
from sources.liveagent.privacy import Privacy, checked_privacy
from sources.liveagent.rejections import KEYLESS, REREADS, reread_kind
from sources.liveagent.rejections import STATE_KEY as REJECTIONS_KEY
from sources.liveagent.settings import (
    DEFAULT_MAX_WORKERS,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_REREADS_PER_RUN,
    DEFAULT_SHORT_MESSAGE_READS,
    DEFAULT_TIMEZONE,
    REJECTED_ROWS,
)

# the runner's public names (orchestrators import them from here)
__all__ = ["DEFAULT_DATASET", "DEFAULT_DUCKDB_PATH", "DEFAULT_KEPT_LOAD_PACKAGES", "BusyError",
           "LoadsCommitted", "RunContext", "RunOptions", "RunResult", "UsageError", "coverage_line",
           "rejection_lines", "run_pipeline", "select_resources", "status_lines", "summary",
           "tables_of"]


@dataclass
class Rejections:
    """Rows kept in `rejected_rows` after a run, per table, and how many this run found; their
    units by how later runs read them again (`reread_kind`)."""

    open_by_table: dict[str, int] = field(default_factory=dict)
    new: int = 0
    units_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def open(self) -> int:
        return sum(self.open_by_table.values())


# what the summary says of each kind of delete count (RequestMetrics.deletes), in this order
DELETE_LINES = (
    ("marked", "marked deleted, as LiveAgent no longer lists them"),
    ("removed", "removed, as two listings in a row no longer had them"),
    ("pending", "no longer listed, removed if the next listing agrees"),
    ("unmarked", "listed again, no longer marked deleted"),
)


def deletes_by_action(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Delete counts (by (action, table)) as {action: {table: rows}}, tables sorted."""
    by_action: dict[str, dict[str, int]] = {}
    for (action, table), rows in sorted(counts.items()):
        if rows > 0:
            by_action.setdefault(action, {})[table] = rows
    return by_action


@dataclass
class RunResult:
    load_info: LoadInfo | None
    row_counts: dict[str, int]
    requests: int
    rate_limit_wait: float
    elapsed: float
    notices: list[str] = field(default_factory=list)
    bad_answers: dict[str, int] = field(default_factory=dict)  # retried, by kind
    rejections: Rejections = field(default_factory=Rejections)
    taken_short: int = 0  # conversations whose messages loaded short after all their reads
    coverage: Coverage = field(default_factory=lambda: Coverage(Backfill()))
    transformed: TransformResult | None = None
    pipeline_name: str = ""  # dlt's name of the target's pipeline...
    pipelines_dir: str = ""  # ...and where dlt keeps its local state (`dlt pipeline` reads it)
    tables: list[str] = field(default_factory=list)  # the tables the run read
    loads: int = 0
    publications: list[Publication] = field(default_factory=list)  # of the read copy
    # rows the listings found gone or back: {"marked": {"tags": 1}, "removed": ..., ...}
    deletes: dict[str, dict[str, int]] = field(default_factory=dict)
    # tables whose reads kept failing, with the reason: not updated, their state kept
    failed: dict[str, str] = field(default_factory=dict)


def select_resources(source: DltSource, names: list[str]) -> list[str]:
    """Resources for the requested table names; the conversation family travels together
    (with conversation_details when it is named or configured on) because they share the
    conversations' incremental state."""
    if not names:
        return [name for name, resource in source.resources.items() if resource.selected]
    wanted = []
    for name in names:
        if name not in source.resources or name in INTERNAL_RESOURCES + ALWAYS_SELECTED:
            known = sorted(set(source.resources) - set(INTERNAL_RESOURCES + ALWAYS_SELECTED))
            raise UsageError(f"unknown resource '{name}'; choose from: {', '.join(known)}")
        wanted.append(name)
    if any(name in CONVERSATION_FAMILY or name == "conversation_details" for name in wanted):
        wanted.extend(CONVERSATION_FAMILY)
        if source.resources["conversation_details"].selected:
            wanted.append("conversation_details")
    for name in list(wanted):
        wanted.extend(SELECTED_WITH.get(name, ()))
    return list(dict.fromkeys([*wanted, *ALWAYS_SELECTED]))


def tables_of(source: DltSource, selected: list[str]) -> list[str]:
    """The tables the `selected` resources load (internal ones feed others' tables;
    `rejected_rows` is summarised apart), in resource order."""
    tables = [str(source.resources[name].table_name) for name in selected
              if name not in INTERNAL_RESOURCES]
    return [table for table in dict.fromkeys(tables) if table != REJECTED_ROWS.name]


def has_incremental_state(pipeline: dlt.Pipeline) -> bool:
    return bool(source_state(pipeline).get("resources")) or \
        coverage_of(pipeline).conversations.started


def _silent(message: str) -> None:
    pass


@dataclass
class RunContext:
    """What one run carries besides its options: the counters of every request its sources
    make (a run builds a source per load), where it says what it waits for, and dlt's
    progress collector. Two runs in one process never count into each other."""

    metrics: RequestMetrics = field(default_factory=RequestMetrics)
    say: Callable[[str], None] = _silent
    progress: Collector | None = None
    step: str = "starting"  # where the run is: extract, normalize, load, ... (for `status`)
    loads: int = 0  # loads this run committed
    after_extract: float = 0.0  # seconds the last load took after its extract (normalize, load)

    def snapshot(self) -> dict[str, Any]:
        """What the run file says of the run's progress."""
        return {"step": self.step, "loads_committed": self.loads,
                "requests": self.metrics.requests, "requests_due": self.metrics.due,
                "per_minute": self.metrics.per_minute}


def run_pipeline(
    options: RunOptions, progress: Collector | None = None, context: RunContext | None = None,
    **source_options: Any,
) -> RunResult:
    """One ELT run; `source_options` override configuration (the demo passes its fake).

    A start date without an end date is the initial backfill on a new target; once state
    exists it re-reads from that date up to now and leaves the state where it was."""
    context = context or RunContext(progress=progress)
    started, started_at = time.monotonic(), datetime.now(timezone.utc)
    check_configuration(options, source_options)
    pipeline = make_pipeline(options, context.progress, context.say)
    with exclusive(pipeline, options, context.say) as run_file, removed_unless_loaded(options), \
            published(options) as copy:
        run_file.follow(context.snapshot)
        notices = prepare_duckdb_file(options, context.say)
        wait_for_duckdb_file(options, context.say)
        try:
            result = _run_locked(pipeline, options, started, context, copy, **source_options)
        except (Exception, KeyboardInterrupt) as error:
            if not isinstance(error, UsageError) and not empty_duckdb_file(options):
                record_failure(pipeline, started_at, error, context, source_options, options)
                copy.changed()
            raise
        result.notices += notices
        record_success(pipeline, started_at, result)
        copy.changed()
    result.publications = copy.publications
    return result


def empty_duckdb_file(options: RunOptions) -> bool:
    """A DuckDB target with no table yet: a failed first run leaves no warehouse behind
    (`removed_unless_loaded`), so it records no history there either."""
    path = options.writer_file
    return options.destination == "duckdb" and (not path.exists() or holds_no_tables(path))


def record_success(pipeline: dlt.Pipeline, started_at: datetime, result: RunResult) -> None:
    coverage = result.coverage
    run, tables = history.run_rows(
        _run_id(pipeline, started_at), started_at, datetime.now(timezone.utc), outcome(result),
        failed_tables_line(result.failed) if result.failed else "",
        {"rows_written": sum(result.row_counts.values()), "requests": result.requests,
         "rate_limit_wait_seconds": round(result.rate_limit_wait, 3), "loads": result.loads,
         "history_windows_left": coverage.conversations.windows_left,
         "history_conversations_left": coverage.conversations.conversations_left,
         "history_report_days_left": coverage.report_days_left,
         "backfill_complete": coverage.complete,
         "rejected_rows": result.rejections.open, "pipeline_name": pipeline.pipeline_name,
         "rows_marked_deleted": sum(result.deletes.get("marked", {}).values()),
         "rows_removed": sum(result.deletes.get("removed", {}).values()),
         "rows_unmarked": sum(result.deletes.get("unmarked", {}).values()),
         "deletes": result.deletes or None},
        {table: (result.row_counts.get(table, 0), coverage.table(table))
         for table in result.tables}, result.failed)
    history.record(pipeline, run, tables)


def outcome(result: RunResult) -> str:
    """`loaded`, and what it lacks: tables that failed, rows rejected."""
    parts = ["loaded"]
    if result.failed:
        parts.append(f"{len(result.failed)} table{'s' if len(result.failed) > 1 else ''} failed")
    if result.rejections.open:
        parts.append(f"{result.rejections.open} rows rejected")
    return ", ".join(parts)


def record_failure(pipeline: dlt.Pipeline, started_at: datetime, error: BaseException,
                   context: RunContext, source_options: dict[str, Any],
                   options: RunOptions) -> None:
    detail = failure_line(error, source_options.get("api_key"), options.account)
    run, _ = history.run_rows(
        _run_id(pipeline, started_at), started_at, datetime.now(timezone.utc), "failed",
        detail, {"requests": context.metrics.requests, "pipeline_name": pipeline.pipeline_name},
        {})
    history.record(pipeline, run, [])


def _run_id(pipeline: dlt.Pipeline, started_at: datetime) -> str:
    return f"{pipeline.pipeline_name}@{started_at.isoformat(timespec='microseconds')}"


def check_configuration(options: RunOptions, source_options: dict[str, Any]) -> None:
    """Every setting a run needs, checked before the destination is touched (the source is
    built once here: it resolves and checks its own settings)."""
    check_dataset(options.dataset)
    refuse_a_shared_target(options)
    dates = {k: v for k, v in (("start_date", options.start_date),
                               ("end_date", options.end_date)) if v}
    labels = ("--start-date" if options.start_date else "sources.liveagent.start_date",
              "--end-date" if options.end_date else "sources.liveagent.end_date")
    select_resources(checked_source({**dates, **source_options}, labels), options.resources)


def _run_locked(
    pipeline: dlt.Pipeline, options: RunOptions, started: float, context: RunContext,
    copy: ReadCopy, **source_options: Any,
) -> RunResult:
    metrics = context.metrics
    requests_before, waited_before = metrics.requests, metrics.waited
    bad_before = Counter(metrics.bad_answers)
    markers_before = Counter(metrics.delete_markers)
    deletes_before = Counter(metrics.deletes)
    taken_short_before = metrics.taken_short
    started_at = datetime.now(timezone.utc)
    notices = []
    # restores schema and state a fresh machine lacks locally (a full refresh needs the
    # schema to know which tables to drop)
    pipeline.sync_destination()
    end_date = options.end_date
    if options.start_date and not end_date and has_incremental_state(pipeline):
        end_date = datetime.now(timezone.utc).isoformat(timespec="seconds")
        notices.append(f"re-reading from {options.start_date} to now; incremental state kept")
    dates: dict[str, Any] = {
        k: v for k, v in (("start_date", options.start_date), ("end_date", end_date)) if v}
    box = None if options.max_duration is None else \
        TimeBox.of(options.max_duration, started, source_settings(source_options))
    names, counts, loads = options.resources, Counter[str](), 0
    tables: set[str] = set()
    failed: dict[str, str] = {}  # tables whose reads failed in a load of this run, and why
    while True:  # a long backfill commits one catch-up chunk or history window per load
        first: dict[str, Any] = {"reconcile": True} if options.reconcile and loads == 0 else {}
        if box is not None:
            first["time_budget"] = box.budget(loads, context.after_extract)
        failures = Failures()
        source = liveagent_source(**dates, **first, history_only=loads > 0, metrics=metrics,
                                  failures=failures, **source_options)
        selected = select_resources(source, names)
        read = tables_of(source, selected)
        tables |= set(read)
        before = coverage_of(pipeline)
        try:
            load_info, loaded = load_once(pipeline, source.with_resources(*selected), options,
                                          context, refresh=options.full_refresh and loads == 0,
                                          failures=None if loads else failures)
        except (Exception, KeyboardInterrupt) as error:
            if loads:
                raise LoadsCommitted(loads) from error
            raise
        counts.update(loaded)
        loads = context.loads = loads + 1
        copy.changed()
        failed |= {table: why for table, why in failures.tables.items() if table in read}
        after = coverage_of(pipeline)
        if box is not None:
            box.loaded(loads, after)
        # a run reads all history it has time for: later loads read what has history left
        # (a table that failed in this run is not read again: its state did not move)
        names = [name for name in after.pending(read) if name not in failed] \
            if end_date is None else []
        if not names:
            break
        if after == before and (box is None or loads > 1):  # a boxed first load reads none
            notices.append("the last load made no history progress; the backfill goes on in "
                           "the next run")
            break
        spent = box.spent(names, after, context.after_extract) if box is not None else None
        if spent:
            notices.append(spent)
            break
        copy.publish(between_loads=True)  # readers see the loads of a long backfill
    if loads > 1:
        notices.append(f"history committed in {loads} loads")
    prune_loaded_packages(pipeline, options.keep_load_packages)
    write_comments(pipeline)
    transformed = build_analyst_layer(pipeline, source_options) if options.transform else None
    return RunResult(
        load_info=load_info,
        row_counts=written_rows(counts, Counter(metrics.delete_markers) - markers_before),
        requests=metrics.requests - requests_before,
        rate_limit_wait=metrics.waited - waited_before,
        elapsed=time.monotonic() - started,
        notices=notices,
        bad_answers=dict(Counter(metrics.bad_answers) - bad_before),
        rejections=rejections_in(source_state(pipeline), started_at),
        taken_short=metrics.taken_short - taken_short_before,
        coverage=coverage_of(pipeline),
        transformed=transformed,
        pipeline_name=pipeline.pipeline_name,
        pipelines_dir=pipeline.pipelines_dir,
        tables=sorted(tables),
        loads=loads,
        deletes=deletes_by_action(Counter(metrics.deletes) - deletes_before),
        failed=dict(sorted(failed.items())),
    )


def written_rows(extracted: Counter[str], markers: Counter[str]) -> dict[str, int]:
    """Rows written to each table: extracted rows but the delete markers (rows that only
    remove others), without dlt's own tables and `rejected_rows` (summarised apart)."""
    written = extracted - markers
    return {table: rows for table, rows in sorted(written.items())
            if not table.startswith("_dlt") and table != REJECTED_ROWS.name}


def account_timezone(source_options: dict[str, Any]) -> str:
    """The account's zone as the source reads it: given, configured, or the default."""
    return str(source_options.get("timezone")
               or dlt.config.get("sources.liveagent.timezone", str) or DEFAULT_TIMEZONE)


def build_analyst_layer(pipeline: dlt.Pipeline, source_options: dict[str, Any]
                        ) -> TransformResult:
    """The analyst layer (dbt) on the pipeline's dataset, as the account's settings say: its
    zone, its business hours as the source checked them, and its privacy settings (the
    columns made from excluded or hashed ones say so in their comments)."""
    settings = source_settings(source_options, partial=True)
    zone = account_timezone(source_options)
    return transform(pipeline, zone,
                     business_hours=checked_business_hours(settings["business_hours"], zone),
                     privacy=configured_privacy(source_options))


def configured_privacy(source_options: dict[str, Any]) -> Privacy:
    """The account's privacy settings, checked (`source_options`: its own settings, if any)."""
    settings = source_settings(source_options, partial=True)
    return checked_privacy(settings["privacy"], settings["privacy_salt"])


def rejections_in(state: dict[str, Any], started_at: datetime) -> Rejections:
    """The rows `rejected_rows` holds by the source state that loaded with them; `new` counts
    those first seen since `started_at`."""
    registry = state.get(REJECTIONS_KEY, {})
    result = Rejections()
    units: dict[str, set[str]] = {}  # a keyless row is a unit of its own
    for rejection_id, entry in registry.items():
        table = rejection_id.split(":", 1)[0]
        result.open_by_table[table] = result.open_by_table.get(table, 0) + 1
        if datetime.fromisoformat(entry["first_seen"]) >= started_at:
            result.new += 1
        kind = reread_kind(entry["unit"])
        units.setdefault(kind, set()).add(rejection_id if kind == KEYLESS else entry["unit"])
    result.open_by_table = dict(sorted(result.open_by_table.items()))
    result.units_by_kind = {kind: len(found) for kind, found in units.items()}
    return result


def load_once(pipeline: dlt.Pipeline, source: DltSource, options: RunOptions,
              context: RunContext, refresh: bool, failures: Failures | None = None
              ) -> tuple[LoadInfo, dict[str, int]]:
    """Extract, normalize and load one package; its state commits with the load. With
    `failures` (the source's, on a run's first load), a package whose every read failed is not
    loaded: the run fails."""
    workers = dlt.config.get("sources.liveagent.max_workers", int) or DEFAULT_MAX_WORKERS
    context.step = "extract"
    extracted = pipeline.extract(
        source, workers=workers, refresh="drop_sources" if refresh else None,
        loader_file_format=loader_file_format(options))  # type: ignore[arg-type]
    if failures is not None and failures.everything:
        pipeline.drop()  # its package and the local state it advanced, as below
        raise TablesFailedError(f"no table could be read: {tables_and_reasons(failures.tables)}")
    context.step, extracted_at = "normalize", time.monotonic()
    try:
        pipeline.normalize()
    except Exception:
        # the package would fail again on every run: discard it and the local state it
        # advanced, so the next run restores the last loaded state and reads the data again
        pipeline.drop()
        raise
    context.step = "load"
    load_info = pipeline.load()
    load_info.raise_on_failed_jobs()
    context.step, context.after_extract = "after load", time.monotonic() - extracted_at
    return load_info, extracted_rows(extracted)


def extracted_rows(info: ExtractInfo) -> Counter[str]:
    """Rows per table as extracted. Not normalize's counts: dlt 1.31's csv writer (the Postgres
    loader format here) counts cells, not rows (dlt-hub/dlt#4461)."""
    rows = Counter[str]()
    for metrics in info.metrics.values():
        for step in metrics:
            for table, written in step["table_metrics"].items():
                rows[table] += written.items_count
    return rows


def source_state(pipeline: dlt.Pipeline) -> dict[str, Any]:
    """The state of the LiveAgent source as the last load committed it."""
    state: dict[str, Any] = pipeline.state.get("sources", {}).get("liveagent", {})
    return state


def coverage_of(pipeline: dlt.Pipeline) -> Coverage:
    return Coverage.of(source_state(pipeline))


def _unchanged_headline(row_counts: dict[str, int]) -> str | None:
    """What a run that wrote nothing but snapshot rows says instead of a count of rows loaded
    (those rows say a run happened, not that the account changed); None for any other run."""
    if set(row_counts) - set(SNAPSHOT_TABLES):
        return None
    appended = ", ".join(f"{rows} {table} snapshot rows" for table, rows in row_counts.items())
    return "no new or changed rows since the last run" + \
        (f" ({appended} appended)" if appended else "") + "; checked"


def summary(options: RunOptions, result: RunResult, describe_tables: bool = False) -> str:
    """What a run did, for its terminal; `describe_tables` adds to each table's row count what
    the table holds (the data dictionary's words), for a reader who meets the tables first."""
    unchanged = _unchanged_headline(result.row_counts)
    lines = [*result.notices,
             f"liveagent-pipeline: {unchanged or f'loaded {sum(result.row_counts.values())} rows'}"
             f" in {result.elapsed:.1f}s with {result.requests} API requests "
             f"({result.rate_limit_wait:.1f}s of it held back by the rate limit)"]
    width = max((len(t) for t in result.row_counts), default=10)
    if unchanged is None:
        for table, rows in result.row_counts.items():
            holds = TABLE_DESCRIPTIONS.get(table, "") if describe_tables else ""
            lines.append(f"  {table:<{width}}  {rows:>9}  {holds}".rstrip())
    if result.failed:
        lines.append(failed_tables_line(result.failed, options.account))
    if result.bad_answers:
        kinds = ", ".join(f"{n} x {kind}" for kind, n in sorted(result.bad_answers.items()))
        lines.append(f"LiveAgent sent {sum(result.bad_answers.values())} bad answers, each "
                     f"retried: {kinds}")
    lines += delete_lines(result.deletes)
    lines += taken_short_line(result.taken_short)
    lines += rejection_lines(options, result.rejections)
    if result.coverage.conversations.started or result.coverage.reports:
        lines.append(coverage_line(result.coverage))
    if result.transformed is not None:
        lines.append(transform_summary(result.transformed))
    if options.destination == "duckdb":
        path = options.duckdb_file
        sql = f"SELECT status, count(*) FROM {options.dataset}.conversations GROUP BY 1"
        lines.append(f"data: {path} (dataset {options.dataset}); query it with\n"
                     f"  {duckdb_file.query_command(path, sql)}")
    else:
        lines.append(f"data: {describe_target(options)}")
    if result.pipeline_name:
        lines.append(f"dlt pipeline: {result.pipeline_name} in {result.pipelines_dir} "
                     f"(dlt pipeline --pipelines-dir {result.pipelines_dir} "
                     f"{result.pipeline_name} info)")
    return "\n".join(lines)


def status_lines(options: RunOptions) -> list[str]:
    """Where a target stands, at any time: the run going now (from its run file) and the
    backfill as the last committed load left it (read as readers read; no lock is taken,
    nothing loaded, written or created)."""
    name = pipeline_name(options)
    head = f"liveagent-pipeline status of {describe_target(options)} (pipeline {name}):"
    lines = [head]
    running = read_run_file(run_file_path(pipelines_dir_of(options), name))
    if running:
        lines.append(f"  {running_line(running)}")
    committed = committed_state(options)
    state = (committed.state.get("sources", {}).get("liveagent", {}) if committed else {})
    if committed is None or not state:
        return [*lines, "  nothing loaded yet"]
    coverage = Coverage.of(state)
    lines.append(f"  as of the last load, committed {committed.committed_at:%Y-%m-%d %H:%M:%S} "
                 f"UTC: {coverage_line(coverage)}")
    closed = max((r.get("last_closed_day", "") for name, r in state.get("resources", {}).items()
                  if name.startswith("report_")), default="")
    if closed:
        lines.append(f"  reports: closed days loaded through {closed}")
    lines += [f"  {line}" for line in rejection_lines(options, rejections_in(
        state, datetime.now(timezone.utc)))]
    return lines + [f"  {line}" for line in failing_lines(state)]


def failing_lines(state: dict[str, Any]) -> list[str]:
    """The tables whose last read failed, as the committed state says."""
    failing = {table: f"{entry['reason']} (failing since "
                      f"{datetime.fromisoformat(entry['since']):%Y-%m-%d %H:%M} UTC)"
               for table, entry in failing_tables(state).items()}
    if not failing:
        return []
    return [f"failed when last read, state kept (the next run reads them again): "
            f"{tables_and_reasons(failing)}"]


def running_line(fields: dict[str, Any]) -> str:
    """A run going now, as its run file tells."""
    started = datetime.fromisoformat(fields["started_at"])
    since = datetime.now(timezone.utc) - started
    loads, due, rate = (fields.get(name) for name in ("loads_committed", "requests_due",
                                                      "per_minute"))
    left = f", {due:,} more known to come (~{clock(due / rate * 60)} at {rate:g}/min)" \
        if due and rate else ""
    return (f"a run is going: PID {fields['pid']}, started {started:%H:%M:%S} UTC "
            f"({clock(since.total_seconds())} ago); step {fields.get('step', 'starting')}, "
            f"{loads or 0} load{'' if loads == 1 else 's'} committed, "
            f"{fields.get('requests', 0):,} API requests so far{left}")


def coverage_line(coverage: Coverage) -> str:
    details = bool(dlt.config.get("sources.liveagent.conversation_details", bool))
    rate = dlt.config.get("sources.liveagent.requests_per_minute", float) or \
        DEFAULT_REQUESTS_PER_MINUTE
    keys = len(api_keys(dlt.secrets.get("sources.liveagent.api_key")))
    return coverage.describe(2 if details else 1, pool_per_minute(keys, rate))


def delete_lines(deletes: dict[str, dict[str, int]]) -> list[str]:
    """What the run's listings found gone or back, per table (see the README's Deletes)."""
    return [f"{what}: " + ", ".join(f"{table} {rows}" for table, rows in deletes[action].items())
            for action, what in DELETE_LINES if action in deletes]


def rejection_lines(options: RunOptions, rejections: Rejections) -> list[str]:
    """What `rejected_rows` holds, and what the next run does about each kind of it."""
    if not rejections.open:
        return []
    tables = ", ".join(f"{table} {n}" for table, n in rejections.open_by_table.items())
    kinds = rejections.units_by_kind
    plans = [REREADS[kind].format(n=kinds[kind]) for kind in REREADS if kinds.get(kind)]
    per_run = dlt.config.get("sources.liveagent.rereads_per_run", int) or \
        DEFAULT_REREADS_PER_RUN
    line = (f"{rejections.open} rows could not be loaded ({rejections.new} new this run): "
            f"kept in {options.dataset}.{REJECTED_ROWS.name} with the reason ({tables})")
    if plans:
        line += f"; the next run: {', '.join(plans)} (at most {per_run} of each a run)"
    if kinds.get(KEYLESS):
        line += (f"; {kinds[KEYLESS]} rows without a key stay until a --full-refresh "
                 "(nothing can ask LiveAgent for them)")
    return [line]


def taken_short_line(taken: int) -> list[str]:
    """The conversations whose messages stayed short for all their reads."""
    if not taken:
        return []
    who = "1 conversation's" if taken == 1 else f"{taken} conversations'"
    reads = dlt.config.get("sources.liveagent.short_message_reads", int) or \
        DEFAULT_SHORT_MESSAGE_READS
    return [f"{who} messages loaded as LiveAgent gives them after {reads} short reads: fewer "
            "message groups than their listed rows count (see the log for which)"]
