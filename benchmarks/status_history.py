"""What exact status history costs: dlt's `scd2` merge strategy on `conversations` against the
`conversation_status_history` table the source appends (sources/liveagent/history.py).

    python -m benchmarks.status_history [--conversations 20000] [--rounds 10]
                                        [--changed 2000] [--status-changes 500]

Both sides load the same conversation rows (the fake's, converted by the source's transforms)
straight into dlt, no HTTP: a first load of every conversation, then `--rounds` incremental
loads of `--changed` conversations whose `datechanged` moved, `--status-changes` of them with
a new status. (a) `conversations` with `write_disposition={"disposition": "merge", "strategy":
"scd2"}` and `merge_key="conversationid"` (only keys in the load can be retired, as an
incremental load needs), and the same beside `conversations` merged as today (a table of
versions, `scd2_beside`); (b) `conversations` merged as today plus the history rows, found by
reading the open versions of the load's conversations from the warehouse; and the baseline,
`conversations` merged alone. Prints seconds per incremental load (extract + normalize +
load), rows stored and the DuckDB file's size.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dlt

from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.responses import conversation_row
from sources.liveagent.history import (
    CONVERSATION_STATUS_HISTORY,
    OpenVersions,
    status_changes,
)
from sources.liveagent.settings import CONVERSATIONS
from sources.liveagent.transforms import AccountTime, column_hints, convert

Row = dict[str, Any]
ZONE = "Europe/Bratislava"


def conversations(count: int) -> list[Row]:
    account = Account(DatasetConfig(conversations=count, days=90), timezone=ZONE)
    time_ = AccountTime(ZONE)
    return [convert(conversation_row(account, account.record(i)), CONVERSATIONS, time_)
            for i in range(count)]


def changed(rows: list[Row], round_no: int, count: int, status_changes_: int) -> list[Row]:
    """`count` rows with a later datechanged, the first `status_changes_` with a new status."""
    rng = random.Random(round_no)
    picked = rng.sample(range(len(rows)), count)
    for n, index in enumerate(picked):
        row = rows[index] = dict(rows[index])
        row["datechanged"] = row["datechanged"] + timedelta(days=1, seconds=round_no)
        row["messagegroupsin"] = (row["messagegroupsin"] or 0) + 1
        if n < status_changes_:
            row["status"] = "R" if row["status"] != "R" else "C"
    return [rows[index] for index in picked]


def scd2_resource(rows: list[Row], table: str = "conversations") -> Any:
    return dlt.resource(rows, name=table,
                        write_disposition={"disposition": "merge", "strategy": "scd2"},
                        merge_key="conversationid", columns=column_hints(CONVERSATIONS))


def merged(rows: list[Row]) -> Any:
    """`conversations` as the source loads it today: the baseline both sides start from."""
    return dlt.resource(rows, name="conversations", primary_key="conversationid",
                        write_disposition="merge", columns=column_hints(CONVERSATIONS))


def scd2_beside(rows: list[Row]) -> list[Any]:
    """`conversations` merged as today, and its versions in a table of their own: scd2 that
    keeps `conversations` one row per key."""
    return [merged(rows), scd2_resource(rows, "conversation_versions")]


READS: list[float] = []  # seconds spent reading open versions, per load


def history_resources(rows: list[Row]) -> list[Any]:

    @dlt.resource(name=CONVERSATION_STATUS_HISTORY.name, write_disposition="merge",
                  primary_key=CONVERSATION_STATUS_HISTORY.primary_key,
                  columns=column_hints(CONVERSATION_STATUS_HISTORY))
    def history() -> Iterator[list[Row]]:
        started = time.perf_counter()
        current = OpenVersions().of([r["conversationid"] for r in rows])
        READS.append(time.perf_counter() - started)
        yield status_changes(rows, current)

    return [merged(rows), history()]


def measure(name: str, make: Callable[[list[Row]], Any], first: list[Row],
            rounds: list[list[Row]], destination: Any, work: Path) -> dict[str, Any]:
    @dlt.source(name="bench", max_table_nesting=0)
    def source(rows: list[Row]) -> Any:
        return make(rows)

    pipeline = dlt.pipeline(f"history_{name}", destination=destination,
                            dataset_name=f"bench_{name}", pipelines_dir=str(work / "pipelines"))
    pipeline.run(source(first), loader_file_format="parquet")
    seconds = []
    for rows in rounds:
        started = time.perf_counter()
        pipeline.run(source(rows), loader_file_format="parquet")
        seconds.append(time.perf_counter() - started)
    with pipeline.sql_client() as client:
        counts = {table: (client.execute_sql(
            f"SELECT count(*) FROM {client.make_qualified_table_name(table)}") or [[0]])[0][0]
            for table in ("conversations", "conversation_versions",
                          CONVERSATION_STATUS_HISTORY.name)
            if client.has_dataset() and _exists(client, table)}
    return {"name": name, "seconds": seconds, "rows": counts}


def _exists(client: Any, table: str) -> bool:
    return bool(client.execute_sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND "
        "table_name = %s", client.dataset_name, table)[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--changed", type=int, default=2_000)
    parser.add_argument("--status-changes", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="status-history-"))
    try:
        base = conversations(args.conversations)
        rows = list(base)
        rounds = [changed(rows, n, args.changed, args.status_changes)
                  for n in range(1, args.rounds + 1)]
        for name, make in (("merge_only", merged), ("scd2", scd2_resource),
                           ("scd2_beside", scd2_beside), ("history_table", history_resources)):
            path = work / f"{name}.duckdb"
            result = measure(name, make, base, rounds, dlt.destinations.duckdb(str(path)), work)
            per_load = sorted(result["seconds"])
            print(f"{name:14} median {per_load[len(per_load) // 2]:.2f} s per incremental "
                  f"load (min {per_load[0]:.2f}, max {per_load[-1]:.2f}); rows "
                  f"{result['rows']}; file {path.stat().st_size / 1e6:.1f} MB")
        reads = sorted(READS[1:])  # the first load reads nothing
        print(f"history_table: reading the open versions took {reads[len(reads) // 2]:.2f} s "
              "per load (median)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
