"""Time boxes at LiveAgent's real limit (180 requests a minute, not sped up): a first sync of a
90-day account as runs of `--max-duration 60s`. How far past its box each run ended (the time
box counts every kind of history request, reports included), and whether every run made
history progress."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

from ..child import pipeline_spec, run_child
from ..common import Context, ScenarioResult, say
from ..fake import FakeConfig, FakeProcess

NAME = "time_box"
CONVERSATIONS = 400
REAL_LIMIT = 180  # requests per minute per key
BOX = 60.0  # seconds
PRIORITY_DAYS = 3  # little to bring up to date; the rest of each box goes to history
RUNS = {True: 2, False: 4}  # by --quick


def history_before(pipelines_dir: Path) -> dict[str, Any]:
    """Where each part of the history stands in the state the last load committed: the
    conversations' window (`history_to`) and each report's oldest loaded day."""
    for state_file in pipelines_dir.glob("*/state.json"):
        source = json.loads(state_file.read_text()).get("sources", {}).get("liveagent", {})
        if source.get("backfill"):
            reports = {name: resource.get("history_before")
                       for name, resource in source.get("resources", {}).items()
                       if name.startswith("report_")}
            return {"conversations": source["backfill"].get("history_to"), "reports": reports}
    return {}


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    workdir = context.path(NAME)
    config = FakeConfig(CONVERSATIONS, requests_per_minute=REAL_LIMIT, burst=REAL_LIMIT / 60,
                        days=90)
    runs: list[dict[str, Any]] = []
    with FakeProcess(config, context.path(NAME, "fake.log")) as fake:
        spec = pipeline_spec(fake, workdir, NAME, requests_per_minute=REAL_LIMIT,
                             max_duration=BOX, priority_days=PRIORITY_DAYS)
        for number in range(RUNS[context.quick]):
            say(f"{NAME}: run {number + 1} with a {BOX:.0f}s box at {REAL_LIMIT}/min")
            before = fake.stats()["total"]
            started = time.monotonic()
            outcome = run_child(spec)
            took = time.monotonic() - started
            runs.append({"ok": outcome["ok"], "seconds": round(took, 1),
                         "requests": fake.stats()["total"] - before,
                         "history": history_before(workdir / "pipelines")})
            if not outcome["ok"]:
                runs[-1]["error"] = outcome.get("error")
                break
        stats = fake.stats()
    ok = all(r["ok"] for r in runs)
    past = [r["seconds"] - BOX for r in runs]
    states = [{}] + [r["history"] for r in runs]
    progressed = sum(1 for earlier, later in itertools.pairwise(states)
                     if later and later != earlier)
    result.add("runs succeeded", f"{sum(r['ok'] for r in runs)} of {len(runs)}", "all", ok)
    result.add("seconds per run (box 60 s), each", ", ".join(f"{r['seconds']:.1f}"
                                                            for r in runs))
    # the margin a 14-minute box leaves a 15-minute cron is 60 s; a run ends past its box by
    # the fixed cost of its last load (normalize, load, run history), which does not scale
    result.add("most seconds past the box", f"{max(past):.1f}", "< 20", max(past) < 20)
    result.add("runs that moved the history back", f"{progressed} of {len(runs)}", "all",
               progressed == len(runs))
    result.add("requests per run", ", ".join(str(r["requests"]) for r in runs))
    result.add("429 answers", stats["by_status"].get("429", 0), "0",
               stats["by_status"].get("429", 0) == 0)
    result.details = {"runs": runs, "fake_stats": stats}
    return result
