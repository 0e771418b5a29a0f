"""What the marts must hold, computed in Python straight from the raw tables (no SQL of the
dbt project), and a reader of a warehouse's tables and marts in DuckDB or Postgres."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import psycopg2

from tests.warehouse import query_rows

Rows = list[dict[str, Any]]
OPEN_EXCEPT = ("R", "L", "X", "B")  # every other status is open


@dataclass
class Target:
    """A warehouse the pipeline loaded and dbt built: `sql` runs a query with {ds} (the raw
    dataset), {stg} and {marts} filled in."""

    destination: str
    dataset: str
    locate: str  # the DuckDB file or the Postgres DSN

    def sql(self, query: str) -> Rows:
        return query_rows(self.destination, self.locate, query.format(
            ds=self.dataset, stg=f"{self.dataset}_stg", marts=f"{self.dataset}_analytics"))

    def execute(self, statement: str) -> None:
        statement = statement.format(ds=self.dataset)
        if self.destination == "duckdb":
            with duckdb.connect(self.locate) as db:
                db.execute(statement)
            return
        with psycopg2.connect(self.locate) as connection, connection.cursor() as cursor:
            cursor.execute(statement)

    def live(self, table: str) -> Rows:
        return self.sql(f"SELECT * FROM {{ds}}.{table} WHERE _liveagent_deleted_at IS NULL")


def first_answers(target: Target) -> dict[str, datetime]:
    """Each conversation's first answer: an agent's message of type M outside internal groups."""
    agents = {row["id"] for row in target.sql("SELECT id FROM {ds}.agents")}
    internal = {(g["conversationid"], g["messagegroupid"]) for g in target.live("message_groups")
                if g["rtype"] == "I"}
    first: dict[str, datetime] = {}
    for m in target.live("messages"):
        if m["rtype"] == "M" and m["userid"] in agents \
                and (m["conversationid"], m["messagegroupid"]) not in internal:
            cid = m["conversationid"]
            first[cid] = min(first.get(cid, m["datecreated"]), m["datecreated"])
    return first


def median_first_response_by_channel(target: Target, zone: str, since: date
                                     ) -> dict[str, float]:
    """Median minutes to the first answer per channel label, for conversations first answered
    on an account-local day after `since`."""
    labels = {r["code"]: r["label"] for r in target.sql(
        "SELECT code, label FROM {ds}.labels WHERE table_name = 'conversations' "
        "AND column_name = 'channel_type'")}
    answered = first_answers(target)
    seconds: defaultdict[str, list[float]] = defaultdict(list)
    for c in target.live("conversations"):
        at = answered.get(c["conversationid"])
        if at is not None and at.astimezone(ZoneInfo(zone)).date() > since:
            seconds[labels[c["channel_type"]]].append((at - c["datecreated"]).total_seconds())
    return {label: round(statistics.median(values) / 60, 1) for label, values in seconds.items()}


def backlog(target: Target, zone: str, last_day: date) -> dict[date, int]:
    """Open conversations at each account-local day's last second: the observed status history
    (or the conversation's row, when the history has none) from a conversation's first
    observed version on, before it open from creation to the first resolve."""
    tz = ZoneInfo(zone)
    rows = target.live("conversations")
    conversations = {c["conversationid"]: c["datecreated"] for c in rows}
    history: defaultdict[str, Rows] = defaultdict(list)
    for h in target.sql("SELECT * FROM {ds}.conversation_status_history"):
        history[h["conversationid"]].append(h)
    for c in rows:  # without a history row, the row itself is an observation
        if c["conversationid"] not in history:
            history[c["conversationid"]].append({"status": c["status"], "valid_to": None,
                                                 "valid_from": c["datechanged"]})
    resolves: dict[str, datetime] = {}
    for g in target.live("message_groups"):
        if g["rtype"] == "R":
            cid = g["conversationid"]
            resolves[cid] = min(resolves.get(cid, g["datecreated"]), g["datecreated"])

    def open_at(cid: str, moment: datetime) -> bool:
        versions = history.get(cid, [])
        first_seen = min((v["valid_from"] for v in versions), default=None)
        if first_seen is not None and moment >= first_seen:
            return any(v["valid_from"] <= moment and v["status"] not in OPEN_EXCEPT
                       and (v["valid_to"] is None or moment < v["valid_to"]) for v in versions)
        ends = [t for t in (resolves.get(cid), first_seen) if t is not None]
        return conversations[cid] <= moment and (not ends or moment < min(ends))

    first_day = min(created.astimezone(tz).date() for created in conversations.values())
    result = {}
    day = first_day
    while day <= last_day:
        moment = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=tz)
        result[day] = sum(open_at(cid, moment) for cid in conversations)
        day += timedelta(days=1)
    return result


def by(rows: Rows, *keys: str, value: Callable[[dict[str, Any]], Any] = lambda r: r) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: value(row)
            for row in rows}
