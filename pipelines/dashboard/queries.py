"""What the starter dashboard shows, read from the analyst layer's marts (`<dataset>_analytics`)
of a DuckDB file opened read-only. No Streamlit here: the figures can be computed and checked
without a browser.

Every figure covers a period of whole account-local days ending on the marts' last day (the day
`as_of` fell on when dbt ran), not on the machine's today: the account's zone decides days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.duckdb_file import connect_read_only

METRICS = "liveagent__conversation_metrics"
BACKLOG = "liveagent__daily_backlog"
NEEDED = (METRICS, BACKLOG, "liveagent__daily_kpis", "liveagent__daily_channel_kpis",
          "liveagent__daily_department_kpis", "liveagent__daily_agent_kpis")
# figures of a later analyst layer than some warehouses have: their tiles say "not yet built"
# until `run --transform` rebuilds the marts
SATISFACTION = "liveagent__daily_satisfaction"
BUSINESS_SECONDS = "first_response_business_seconds"  # a column of METRICS


class MartsMissing(Exception):
    """The file has no analyst layer for the dataset (loaded without --transform)."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int) -> Period:
        return cls(last - timedelta(days=days - 1), last)


@dataclass
class Overview:
    new_conversations: int
    resolved: int
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None
    open_conversations: int  # at the end of the period's last day
    open_week_before: int | None


@dataclass
class BusinessFirstResponse:
    """First responses counted in business hours (the schedule the analyst layer was built
    with; without one, business time is calendar time)."""

    median_seconds: float | None
    first_responses: int


@dataclass
class Satisfaction:
    """The account's ratings in the period, from LiveAgent's reports."""

    positive: int
    negative: int
    resolved: int
    rated: int  # resolves that got a rating
    days_covered: int  # days of the period the reports were loaded for

    @property
    def positive_share(self) -> float | None:
        rated = self.positive + self.negative
        return self.positive / rated if rated else None

    @property
    def rated_share(self) -> float | None:
        return self.rated / self.resolved if self.resolved else None


@dataclass
class Figures:
    """Everything one page of the dashboard shows."""

    period: Period
    overview: Overview
    # None: the warehouse's analyst layer was built before these figures existed
    business_first_response: BusinessFirstResponse | None
    satisfaction: Satisfaction | None
    daily: pd.DataFrame  # date_day, new_conversations, resolved, open_conversations
    channels: pd.DataFrame  # name, new_conversations, answers, resolved, median_first_response
    departments: pd.DataFrame  # as channels
    agents: pd.DataFrame  # name, answers, resolved, first_responses, median_first_response


def marts_found(db: duckdb.DuckDBPyConnection, dataset: str) -> set[str]:
    return {row[0] for row in db.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?",
        [f"{dataset}_analytics"]).fetchall()}


def missing_marts(db: duckdb.DuckDBPyConnection, dataset: str) -> list[str]:
    found = marts_found(db, dataset)
    return [name for name in NEEDED if name not in found]


def mart_columns(db: duckdb.DuckDBPyConnection, dataset: str, mart: str) -> set[str]:
    return {row[0] for row in db.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [f"{dataset}_analytics", mart]).fetchall()}


def last_day(db: duckdb.DuckDBPyConnection, dataset: str) -> date | None:
    row = db.execute(f"SELECT max(date_day) FROM {dataset}_analytics.{BACKLOG}").fetchone()
    return row[0] if row else None


def load(path: Path, dataset: str, days: int) -> Figures:
    """The figures of the last `days` days of the marts (days >= 1)."""
    with connect_read_only(path) as db:
        missing = missing_marts(db, dataset)
        if missing:
            raise MartsMissing(f"{path} has no analyst layer for dataset {dataset} (missing "
                               f"{dataset}_analytics.{missing[0]}): build it with "
                               "`liveagent-pipeline run --transform`")
        end = last_day(db, dataset)
        if end is None:
            raise MartsMissing(f"the analyst layer in {path} is empty: load conversations first")
        period = Period.ending(end, days)
        business = _business_first_response(db, dataset, period) \
            if BUSINESS_SECONDS in mart_columns(db, dataset, METRICS) else None
        satisfaction = _satisfaction(db, dataset, period) \
            if SATISFACTION in marts_found(db, dataset) else None
        return Figures(period, _overview(db, dataset, period), business, satisfaction,
                       _daily(db, dataset, period),
                       _by(db, dataset, period, "channel", "channel_label"),
                       _by(db, dataset, period, "department", "department_name"),
                       _agents(db, dataset, period))


def _frame(db: duckdb.DuckDBPyConnection, sql: str, dataset: str, period: Period
           ) -> pd.DataFrame:
    # {m}: the marts' schema; $first and $last: the period's days, both included
    query = sql.replace("{m}", f"{dataset}_analytics")
    return db.execute(query, {"first": period.first, "last": period.last}).df()


def _overview(db: duckdb.DuckDBPyConnection, dataset: str, period: Period) -> Overview:
    row = _frame(db, """
        SELECT
          (SELECT sum(new_conversations) FROM {m}.liveagent__daily_kpis
           WHERE date_day BETWEEN $first AND $last) AS new_conversations,
          (SELECT sum(resolved) FROM {m}.liveagent__daily_kpis
           WHERE date_day BETWEEN $first AND $last) AS resolved,
          (SELECT median(first_response_seconds) FROM {m}.liveagent__conversation_metrics
           WHERE first_response_date BETWEEN $first AND $last) AS first_response,
          -- resolution time of the conversations whose (last) resolve fell in the period
          (SELECT median(full_resolution_seconds) FROM {m}.liveagent__conversation_metrics
           WHERE CAST(resolved_at_local AS DATE) BETWEEN $first AND $last) AS resolution,
          (SELECT open_conversations FROM {m}.liveagent__daily_backlog
           WHERE date_day = $last) AS open_now,
          (SELECT open_conversations FROM {m}.liveagent__daily_backlog
           WHERE date_day = $last - 7) AS open_before""", dataset, period).iloc[0]
    return Overview(_int(row.new_conversations), _int(row.resolved),
                    _float(row.first_response), _float(row.resolution), _int(row.open_now),
                    None if pd.isna(row.open_before) else int(row.open_before))


def _business_first_response(db: duckdb.DuckDBPyConnection, dataset: str, period: Period
                             ) -> BusinessFirstResponse:
    """The median of the conversations first answered in the period: the population of
    liveagent__daily_kpis' median_first_response_business_seconds, over the whole period
    (medians of days do not add up to the period's)."""
    row = _frame(db, f"""
        SELECT median({BUSINESS_SECONDS}) AS median, count({BUSINESS_SECONDS}) AS measured
        FROM {{m}}.{METRICS} WHERE first_response_date BETWEEN $first AND $last""",
                 dataset, period).iloc[0]
    return BusinessFirstResponse(_float(row["median"]), _int(row.measured))


def _satisfaction(db: duckdb.DuckDBPyConnection, dataset: str, period: Period) -> Satisfaction:
    row = _frame(db, f"""
        SELECT sum(positive) AS positive, sum(negative) AS negative, sum(resolved) AS resolved,
               sum(resolved - unrated) AS rated,
               count(*) FILTER (WHERE report_covered) AS days_covered
        FROM {{m}}.{SATISFACTION}
        WHERE dimension = 'account' AND date_day BETWEEN $first AND $last""",
                 dataset, period).iloc[0]
    return Satisfaction(_int(row.positive), _int(row.negative), _int(row.resolved),
                        _int(row.rated), _int(row.days_covered))


def _daily(db: duckdb.DuckDBPyConnection, dataset: str, period: Period) -> pd.DataFrame:
    return _frame(db, """
        SELECT b.date_day, coalesce(k.new_conversations, 0) AS new_conversations,
               coalesce(k.resolved, 0) AS resolved, b.open_conversations
        FROM {m}.liveagent__daily_backlog b
        LEFT JOIN {m}.liveagent__daily_kpis k USING (date_day)
        WHERE b.date_day BETWEEN $first AND $last ORDER BY b.date_day""", dataset, period)


def _by(db: duckdb.DuckDBPyConnection, dataset: str, period: Period, dimension: str,
        name: str) -> pd.DataFrame:
    """Volume per current channel or department; the median comes from the conversations
    (medians of days do not add up to the period's)."""
    sql = """
        WITH volume AS (
          SELECT {name} AS name, sum(new_conversations) AS new_conversations,
                 sum(answers) AS answers, sum(resolved) AS resolved
          FROM {m}.liveagent__daily_{dimension}_kpis
          WHERE date_day BETWEEN $first AND $last GROUP BY ALL),
        first_response AS (
          SELECT {name} AS name, median(first_response_seconds) AS median_first_response
          FROM {m}.liveagent__conversation_metrics
          WHERE first_response_date BETWEEN $first AND $last GROUP BY ALL)
        SELECT coalesce(v.name, f.name, '(none)') AS name,
               coalesce(v.new_conversations, 0) AS new_conversations,
               coalesce(v.answers, 0) AS answers, coalesce(v.resolved, 0) AS resolved,
               f.median_first_response
        FROM volume v FULL JOIN first_response f USING (name)
        ORDER BY new_conversations DESC, name"""
    return _frame(db, sql.replace("{name}", name).replace("{dimension}", dimension),
                  dataset, period)


def _agents(db: duckdb.DuckDBPyConnection, dataset: str, period: Period) -> pd.DataFrame:
    """Per agent: answers, resolves and first responses they wrote; the median of their
    first responses (a conversation's first answer is its first agent's)."""
    return _frame(db, """
        WITH work AS (
          SELECT agent_id, any_value(agent_name) AS name, sum(answers) AS answers,
                 sum(resolved) AS resolved, sum(first_responses) AS first_responses
          FROM {m}.liveagent__daily_agent_kpis
          WHERE date_day BETWEEN $first AND $last GROUP BY agent_id),
        first_response AS (
          SELECT first_agent_id AS agent_id,
                 median(first_response_seconds) AS median_first_response
          FROM {m}.liveagent__conversation_metrics
          WHERE first_response_date BETWEEN $first AND $last GROUP BY ALL)
        SELECT w.name, w.answers, w.resolved, w.first_responses, f.median_first_response
        FROM work w LEFT JOIN first_response f USING (agent_id)
        ORDER BY w.answers DESC, w.name""", dataset, period)


def _int(value: object) -> int:
    return 0 if pd.isna(value) else int(value)  # type: ignore[call-overload]


def _float(value: object) -> float | None:
    return None if pd.isna(value) else float(value)  # type: ignore[arg-type]
