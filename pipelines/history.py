"""Run history in the warehouse: one row per run in `run_history`, per table it read a row in
`run_history_tables` (rows written, whether the table then held all LiveAgent has, and if not,
since when it holds data; whether its reads failed, and why), and the view `table_freshness`
for a dashboard to show: per table, `data_as_of` (the end of the last run after which it
equalled LiveAgent: a run that could not read it does not count), `last_written_at` (the end of
the last run that wrote rows into it), and, as of the last run that read it, `complete`,
`data_since` (NULL when complete), `failed` and `failure` (why).

The rows are written by a pipeline of their own (`<name>_runs`, same destination and
dataset), after the run: a failed run's pending package stays untouched for the next run to
finish, and the history never holds up the data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema

from pipelines.comments import write_comments
from pipelines.targets import prune_loaded_packages, set_aside_unreadable_state
from sources.liveagent.coverage import TableCoverage
from sources.liveagent.dictionary import dlt_column_hints

log = logging.getLogger(__name__)

RUNS = "run_history"
TABLES = "run_history_tables"
FRESHNESS = "table_freshness"
# portable SQL (DuckDB, Postgres, SQLite): no bool_or, no max() of a boolean
FRESHNESS_SQL = """
CREATE OR REPLACE VIEW {view} AS
WITH reads AS (
  SELECT t.table_name, t.rows_written, t.data_since, t.failure, r.finished_at,
         CASE WHEN t.failed THEN 1 ELSE 0 END AS failed,
         CASE WHEN t.failed THEN 0 WHEN t.complete THEN 1 ELSE 0 END AS good,
         row_number() OVER (PARTITION BY t.table_name ORDER BY r.finished_at DESC) AS newest
  FROM {tables} AS t JOIN {runs} AS r ON r.run_id = t.run_id
  WHERE r.outcome <> 'failed')
SELECT table_name,
       max(CASE WHEN good = 1 THEN finished_at END) AS data_as_of,
       max(CASE WHEN rows_written > 0 THEN finished_at END) AS last_written_at,
       max(CASE WHEN newest = 1 THEN good ELSE 0 END) = 1 AS complete,
       max(CASE WHEN newest = 1 THEN data_since END) AS data_since,
       max(CASE WHEN newest = 1 THEN failed ELSE 0 END) = 1 AS failed,
       max(CASE WHEN newest = 1 THEN failure END) AS failure
FROM reads
GROUP BY table_name
"""

# the history's data dictionary: written as comments like the dataset's (pipelines/comments.py)
RUNS_DESCRIPTION = "One row per run of the pipeline: when, outcome, figures"
RUN_COLUMNS = {
    "run_id": "Id of the run: the pipeline's name, @, when it started (UTC, ISO 8601)",
    "started_at": "When the run started (UTC)",
    "finished_at": "When the run ended (UTC)",
    "outcome": "loaded; loaded, N rows rejected; loaded, N tables failed; failed; or forgot a "
               "contact (liveagent-pipeline forget)",
    "detail": "Why the run failed, or the line naming the tables that failed; of a forget, the "
              "contact's keyed hash and the rows hashed per table; NULL otherwise",
    "rows_written": "Rows written into the tables (new or changed rows; rejected_rows apart); "
                    "of a forget, the rows it hashed",
    "requests": "Requests sent to LiveAgent",
    "rate_limit_wait_seconds": "Seconds spent waiting for the rate limit",
    "loads": "dlt loads the run committed (a long backfill commits several)",
    "history_windows_left": "Conversation history windows still to read; NULL while not "
                            "counted yet",
    "history_conversations_left": "Conversations of the history still to read; NULL while "
                                  "not counted yet",
    "history_report_days_left": "Report days of the history still to read",
    "backfill_complete": "True once the tables hold all the history LiveAgent has",
    "rejected_rows": "Rows kept in rejected_rows after the run",
    "pipeline_name": "dlt's name of the pipeline that ran (one per account and target)",
    "rows_marked_deleted": "Rows marked deleted as LiveAgent no longer lists them",
    "rows_removed": "Rows removed (deletes = remove) as two listings in a row lacked them",
    "rows_unmarked": "Rows listed again, no longer marked deleted",
    "deletes": "What the listings found gone or back, by action and table (JSON)",
}
TABLES_DESCRIPTION = "Per run, one row per table it read: rows written, coverage, failure"
TABLE_COLUMNS = {
    "run_id": "The run (run_history.run_id)",
    "table_name": "A table the run read",
    "rows_written": "Rows the run wrote into it (new or changed rows)",
    "complete": "Whether the table then held everything LiveAgent has",
    "data_since": "When not complete, the first day it holds (account-local); NULL otherwise",
    "failed": "Whether its reads kept failing (NULL in rows from before reads could fail "
              "alone)",
    "failure": "Why its reads failed; NULL otherwise",
}
# the view's description, in the shape of a dlt table schema (comments.write_comments)
FRESHNESS_DOCS = {
    "description": "How current each table is, as of the runs in run_history",
    "columns": {name: {"description": text} for name, text in {
        "table_name": "A table the pipeline loads",
        "data_as_of": "End of the last good run after which the table equalled LiveAgent "
                      "(UTC); NULL while its backfill is under way",
        "last_written_at": "End of the last run that wrote rows into it (UTC)",
        "complete": "As of the last run that read it: it held everything LiveAgent has",
        "data_since": "As of the last run that read it: the first day it holds when not "
                      "complete",
        "failed": "As of the last run that read it: its reads kept failing",
        "failure": "Why its reads failed in that run; NULL otherwise",
    }.items()},
}


def run_rows(run_id: str, started_at: datetime, finished_at: datetime, outcome: str,
             detail: str, figures: Mapping[str, Any],
             tables: Mapping[str, tuple[int, TableCoverage]],
             failed: Mapping[str, str] | None = None,
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The row of `run_history` and those of `run_history_tables` for one run: per table the
    rows written, its coverage, and whether its reads failed (`failed`: why, by table)."""
    failed = failed or {}
    run = {"run_id": run_id, "started_at": started_at, "finished_at": finished_at,
           "outcome": outcome, "detail": detail or None, **figures}
    return run, [{"run_id": run_id, "table_name": table, "rows_written": rows,
                  "complete": coverage.complete, "data_since": _day(coverage.data_from),
                  "failed": table in failed, "failure": failed.get(table)}
                 for table, (rows, coverage) in sorted(tables.items())]


def _day(value: str | None) -> date | None:
    """The day of an ISO date or datetime (a conversation window's edge is one)."""
    if value is None:
        return None
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


def record(pipeline: dlt.Pipeline, run: dict[str, Any], tables: list[dict[str, Any]]) -> None:
    """Loads the rows through `<pipeline>_runs` and (re)creates the freshness view. A history
    that cannot be written says so in the log only: as a warning after a good run, at debug
    level after a failed one (whose own error, often the same unreachable destination, is the
    one line the user needs). Its load packages are deleted once loaded: the rows are in the
    warehouse and nothing else in them is needed."""
    try:
        # an unreadable local state of its own is restored from the destination too
        set_aside_unreadable_state(pipeline.pipelines_dir, f"{pipeline.pipeline_name}_runs")
        runs = dlt.pipeline(pipeline_name=f"{pipeline.pipeline_name}_runs",
                            pipelines_dir=pipeline.pipelines_dir,
                            destination=pipeline.destination,
                            dataset_name=pipeline.dataset_name)
        runs.run(_history(run, tables))
        _freshness_view(runs)
        write_comments(runs, {FRESHNESS: FRESHNESS_DOCS})
        prune_loaded_packages(runs, keep=0)
    except Exception as error:  # the run's own outcome stands; its history is a nicety
        level = logging.DEBUG if run["outcome"] == "failed" else logging.WARNING
        log.log(level, "the run history could not be written: %s", type(error).__name__)


def _described(hints: dict[str, TColumnSchema], descriptions: dict[str, str]
               ) -> dict[str, TColumnSchema]:
    """`hints` with every column's description, dlt's own columns' too (a column without a
    type hint, one every row has, gets its type from the first value)."""
    columns: dict[str, TColumnSchema] = {
        name: {**hints.get(name, {}), "description": text}  # type: ignore[typeddict-item]
        for name, text in descriptions.items()}
    return {**columns, **dlt_column_hints()}


def _history(run: dict[str, Any], tables: list[dict[str, Any]]) -> list[Any]:
    @dlt.resource(name=RUNS, write_disposition="append",
                  columns=_described({
                      "started_at": {"data_type": "timestamp", "timezone": True},
                      "finished_at": {"data_type": "timestamp", "timezone": True},
                      "detail": {"data_type": "text", "nullable": True},
                      # NULL while the history's conversations are not counted yet
                      "history_windows_left": {"data_type": "bigint", "nullable": True},
                      "history_conversations_left": {"data_type": "bigint", "nullable": True},
                      "history_report_days_left": {"data_type": "bigint", "nullable": True},
                      "backfill_complete": {"data_type": "bool", "nullable": True},
                      # what the listings found gone or back, by what was done and table
                      "deletes": {"data_type": "json", "nullable": True},
                      # NULL in a failed run's row (typed here: a column dlt knows only by its
                      # description and gets no value for is one it warns about)
                      **{name: {"data_type": "bigint", "nullable": True} for name in (
                          "rows_written", "loads", "rejected_rows", "rows_marked_deleted",
                          "rows_removed", "rows_unmarked")},
                      "rate_limit_wait_seconds": {"data_type": "double", "nullable": True}},
                      RUN_COLUMNS))
    def runs() -> Iterator[dict[str, Any]]:
        yield run

    @dlt.resource(name=TABLES, write_disposition="append",
                  columns=_described({
                      "rows_written": {"data_type": "bigint"},
                      "complete": {"data_type": "bool", "nullable": True},
                      "data_since": {"data_type": "date", "nullable": True},
                      # NULL in rows written before reads could fail alone
                      "failed": {"data_type": "bool", "nullable": True},
                      "failure": {"data_type": "text", "nullable": True}}, TABLE_COLUMNS))
    def per_table() -> Iterator[list[dict[str, Any]]]:
        yield tables

    return [runs().apply_hints(additional_table_hints={"description": RUNS_DESCRIPTION}),
            per_table().apply_hints(additional_table_hints={"description": TABLES_DESCRIPTION})]


def _freshness_view(runs: dlt.Pipeline) -> None:
    try:
        client_manager = runs.sql_client()
    except Exception:  # a destination without SQL (files): the tables are there, no view
        return
    with client_manager as client:
        client.execute_sql(FRESHNESS_SQL.format(
            view=client.make_qualified_table_name(FRESHNESS),
            tables=client.make_qualified_table_name(TABLES),
            runs=client.make_qualified_table_name(RUNS)))
