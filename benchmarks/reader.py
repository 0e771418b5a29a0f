"""A reader of the published DuckDB file, as a BI tool or notebook would be, while runs load:
python -m benchmarks.reader PATH --dataset liveagent --until STOP_FILE [--hold] [--pause S]

Queries the file read-only in a loop until STOP_FILE exists: reconnecting every time (a
notebook cell, a dashboard refresh) or, with --hold, on one connection kept open (a BI tool's
pool). Every query checks that it sees whole loads only: every load id in the data tables is a
committed load in `_dlt_loads`, and every message belongs to a conversation the same snapshot
holds. Prints one JSON object at the end: queries, failed queries (with their first line),
incomplete snapshots and the distinct (loads, conversations) states seen.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

FAMILY = ("conversations", "conversation_tags", "message_groups", "messages")


def snapshot(db: duckdb.DuckDBPyConnection, dataset: str) -> tuple[list[Any], list[str]]:
    """(state seen, what is incomplete in it) of one consistent read."""
    db.execute("BEGIN TRANSACTION")  # one snapshot for every query below
    try:
        committed = {row[0] for row in db.execute(
            f"SELECT load_id FROM {dataset}._dlt_loads WHERE status = 0").fetchall()}
        problems = []
        for table in FAMILY:
            loads = {row[0] for row in db.execute(
                f"SELECT DISTINCT _dlt_load_id FROM {dataset}.{table}").fetchall()}
            uncommitted = sorted(loads - committed)
            if uncommitted:
                problems.append(f"{table} holds rows of uncommitted loads {uncommitted}")
        orphans = db.execute(
            f"SELECT count(*) FROM {dataset}.messages m WHERE NOT EXISTS (SELECT 1 FROM "
            f"{dataset}.conversations c WHERE c.conversationid = m.conversationid)").fetchone()
        if orphans and orphans[0]:
            problems.append(f"{orphans[0]} messages without their conversation")
        conversations = db.execute(f"SELECT count(*) FROM {dataset}.conversations").fetchone()
        return [len(committed), conversations[0] if conversations else 0], problems
    finally:
        db.execute("COMMIT")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reader", description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--dataset", default="liveagent")
    parser.add_argument("--until", type=Path, required=True, help="stop when this file exists")
    parser.add_argument("--hold", action="store_true", help="keep one connection open")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between queries")
    args = parser.parse_args(argv)
    queries, absent = 0, 0
    failures: list[str] = []
    incomplete: list[str] = []
    states: list[list[Any]] = []
    held: duckdb.DuckDBPyConnection | None = None
    print("reading", flush=True)
    while not args.until.exists():
        time.sleep(args.pause)
        if held is None and not args.path.exists():
            absent += 1  # nothing published yet
            continue
        queries += 1
        try:
            db = held or duckdb.connect(str(args.path), read_only=True)
            try:
                state, problems = snapshot(db, args.dataset)
            finally:
                if args.hold:
                    held = db
                else:
                    db.close()
        except duckdb.CatalogException:
            absent += 1  # a file without the tables yet
            continue
        except duckdb.Error as error:
            failures.append(str(error).strip().splitlines()[0])
            continue
        incomplete += problems
        if not states or states[-1] != state:
            states.append(state)
    json.dump({"queries": queries, "failures": failures, "incomplete": incomplete,
               "states": states, "absent": absent}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
