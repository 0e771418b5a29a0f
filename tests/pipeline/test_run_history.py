"""Run history in the warehouse: a row per run with its outcome and figures, the rows each
table got, and a view that answers "as of when is each table current, when was it last
written"."""

from __future__ import annotations

from collections.abc import Callable

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.warehouse import Warehouse


def test_every_run_is_recorded_and_the_view_says_when_each_table_changed(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, warehouse: Warehouse,
) -> None:
    tables = ("--resources", "conversations,tags,kb_entries")
    assert run_cli(*tables) == 0
    account.clock.advance(60)
    fake.faults.add("status", status=401, path="/api/tags$", times=1)  # a failed run
    assert run_cli("--resources", "tags") == 2
    account.clock.advance(60)
    account.set_status(account.conversation_id(1), "R")
    assert run_cli(*tables) == 0
    runs = warehouse.rows("run_history", "outcome, rows_written, requests, detail",
                          "ORDER BY started_at")
    assert [run["outcome"] for run in runs] == ["loaded", "failed", "loaded"]
    assert runs[0]["rows_written"] > 120 and runs[0]["requests"] > 120
    assert "rejected the API key" in runs[1]["detail"] and fake.api_key not in runs[1]["detail"]
    fresh = {row["table_name"]: row for row in warehouse.rows("table_freshness")}
    first_run, last_run = (warehouse.scalar(f"SELECT {f}(finished_at) FROM {{ds}}.run_history")
                           for f in ("min", "max"))
    assert fresh["conversations"]["last_written_at"] == last_run  # one changed
    assert fresh["kb_entries"]["data_as_of"] == last_run  # current as of the last run...
    assert fresh["kb_entries"]["last_written_at"] == first_run  # ...nothing new since
    assert fresh["tags"]["data_as_of"] == last_run  # read whole every run...
    assert fresh["tags"]["last_written_at"] == first_run  # ...written when something changed
    per_table = warehouse.rows("run_history_tables", "table_name, rows_written",
                               "WHERE rows_written > 0")
    assert {"conversations", "messages", "tags"} <= {row["table_name"] for row in per_table}
