"""Our source against dlt's declarative rest_api source configured the obvious way.

A fresh account of 500 conversations behind 50 ms of latency per request; both sides load the
conversations and one messages request per conversation into their own DuckDB file. Reports
both wall times, the speed-up, and whether both loaded the same conversations and messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from ..child import pipeline_spec, run_child
from ..common import API_KEY, UNLIMITED_RPM, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "concurrency"
CONVERSATIONS = 500
LATENCY = 0.05
OURS, BASELINE = "ours", "baseline"

SpecMaker = Callable[[FakeProcess, Path], dict[str, Any]]


def baseline_spec(fake: FakeProcess, workdir: Path) -> dict[str, Any]:
    return {"mode": "rest_api", "source": {"base_url": fake.base_url, "api_key": API_KEY},
            "options": {"dataset": BASELINE, "duckdb_path": str(workdir / "baseline_data.duckdb"),
                        "pipelines_dir": str(workdir / "pipelines")}}


def best_of(runs: int, make_spec: SpecMaker, fake: FakeProcess, workdir: Path, label: str
            ) -> dict[str, Any]:
    """The fastest of `runs` fresh runs, each into a new directory; a failed run if any."""
    outcomes = []
    for attempt in range(runs):
        target = workdir / f"{label}{attempt}"
        target.mkdir(parents=True)
        fake.reset_stats()
        outcome = run_child(make_spec(fake, target))
        outcome.update(fake_stats=fake.stats(), directory=str(target))
        outcomes.append(outcome)
        say(f"{NAME}: {label} run {attempt + 1}: {outcome.get('wall')}s ok={outcome['ok']}")
    failed = [o for o in outcomes if not o["ok"]]
    return failed[0] if failed else min(outcomes, key=lambda o: o["wall"])


def ours_spec(fake: FakeProcess, workdir: Path) -> dict[str, Any]:
    return pipeline_spec(fake, workdir, OURS, resources=["conversations"],
                         requests_per_minute=UNLIMITED_RPM)


def ids(path: Path, query: str) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {str(row[0]) for row in connection.sql(query).fetchall()}


def compare_rows(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Message and conversation ids of both loads (the baseline's nested messages land in
    its `messages__messages` child table)."""
    ours_db = Path(ours["directory"]) / f"{OURS}_data.duckdb"
    base_db = Path(baseline["directory"]) / "baseline_data.duckdb"
    ours_messages = ids(ours_db, f"SELECT messageid FROM {OURS}.messages")
    base_messages = ids(base_db, f"SELECT messageid FROM {BASELINE}.messages__messages")
    ours_conversations = ids(ours_db, f"SELECT conversationid FROM {OURS}.conversations")
    base_conversations = ids(base_db, f"SELECT conversationid FROM {BASELINE}.conversations")
    return {
        "messages": (len(ours_messages), len(base_messages)),
        "messages_equal": ours_messages == base_messages,
        "conversations": (len(ours_conversations), len(base_conversations)),
        "conversations_equal": ours_conversations == base_conversations,
    }


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    runs = 1 if context.quick else 2
    workdir = context.path(NAME)
    with FakeProcess(FakeConfig(CONVERSATIONS, latency=LATENCY),
                     context.path(NAME, "fake.log")) as fake:
        say(f"{NAME}: {CONVERSATIONS} conversations, {LATENCY * 1000:.0f} ms latency, "
            f"best of {runs}")
        ours = best_of(runs, ours_spec, fake, workdir, OURS)
        baseline = best_of(runs, baseline_spec, fake, workdir, BASELINE)
    result.details = {"conversations": CONVERSATIONS, "latency": LATENCY, "runs": runs,
                      "ours": ours, "baseline": baseline}
    if not (ours["ok"] and baseline["ok"]):
        result.add("runs succeeded", f"ours={ours['ok']} baseline={baseline['ok']}", "both",
                   False)
        return result
    speedup = ratio(baseline["wall"], ours["wall"])
    result.add("wall s: ours / rest_api", f"{ours['wall']:.1f} / {baseline['wall']:.1f}")
    result.add("speed-up (wall)", speedup, ">= 8", speedup >= 8)
    extract_speedup = ratio(baseline["steps"]["extract"], ours["steps"]["extract"])
    result.add("speed-up (extract only)", extract_speedup)
    result.add("requests: ours / rest_api",
               f"{ours['fake_stats']['total']} / {baseline['fake_stats']['total']}")
    rows = compare_rows(ours, baseline)
    result.details["rows"] = rows
    result.add("message ids identical", f"{rows['messages_equal']} {rows['messages']}",
               "True", rows["messages_equal"])
    result.add("conversation ids identical",
               f"{rows['conversations_equal']} {rows['conversations']}", "True",
               rows["conversations_equal"])
    return result
