"""How far off is `liveagent-pipeline plan` from the first sync that follows it?

Two accounts of different shapes, each behind a fake whose clock stands still: `liveagent-
pipeline plan`, then the first sync of the whole source (no rate limit: the requests, not the
time, are compared). Figures per account: the plan's requests, the sync's requests (the fake's
count), their ratio (target: within 10%), the conversations the plan expected against those
loaded, and the requests the plan itself made.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import duckdb

from ..child import pipeline_spec, run_child
from ..common import API_KEY, ROOT, UNLIMITED_RPM, Context, ScenarioResult, child_env, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "first_sync_plan"


@dataclass(frozen=True)
class Shape:
    name: str
    conversations: int
    days: int
    messages_per_conversation: float
    conversations_per_load: int  # the source's chunking: windows of history


SHAPES = (
    # the key_pool scenario's account: all history inside the reports' 90 days, one window
    Shape("1,500 over 90 days", 1500, 90, 5.0, 10_000),
    # a year of small conversations: history past the reports' 90 days, in windows of 3,000
    Shape("12,000 over 365 days", 12_000, 365, 2.0, 3_000),
)
_REQUESTS = re.compile(r"first sync: about ([\d,]+) requests")
_CONVERSATIONS = re.compile(r"conversations: about ([\d,]+) in the history")
_MADE = re.compile(r"\((\d+) requests made to plan it\)")


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    measured: dict[str, Any] = {}
    for shape in SHAPES:
        config = FakeConfig(shape.conversations, days=shape.days, frozen=True,
                            messages_per_conversation=shape.messages_per_conversation)
        with FakeProcess(config, context.path(NAME, f"fake-{shape.conversations}.log")) as fake:
            say(f"{NAME}: plan, then the first sync, of {shape.name}")
            planned = plan(fake, shape)
            fake.reset_stats()
            spec = pipeline_spec(fake, context.path(NAME, str(shape.conversations)), NAME,
                                 requests_per_minute=UNLIMITED_RPM,
                                 conversations_per_load=shape.conversations_per_load,
                                 check_timezone=False)  # the fake's clock stands still
            outcome = run_child(spec)
            made = fake.stats()["total"]
        loaded = loaded_conversations(spec) if outcome["ok"] else 0
        off = ratio(planned["requests"], made)
        result.add(f"{shape.name}: planned / made requests",
                   f"{planned['requests']:,} / {made:,} = {off}", "0.9-1.1",
                   bool(outcome["ok"]) and 0.9 <= off <= 1.1)
        result.add(f"{shape.name}: planned / loaded conversations",
                   f"{planned['conversations']:,} / {loaded:,}")
        result.add(f"{shape.name}: requests made to plan", planned["made"])
        measured[shape.name] = {"plan": planned, "made": made, "loaded": loaded,
                                "run": outcome}
    result.details = measured
    return result


def plan(fake: FakeProcess, shape: Shape) -> dict[str, Any]:
    env = child_env(SOURCES__LIVEAGENT__BASE_URL=fake.base_url,
                    SOURCES__LIVEAGENT__API_KEY=API_KEY,
                    SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD=str(shape.conversations_per_load))
    done = subprocess.run([sys.executable, "-m", "pipelines.liveagent_pipeline", "plan"],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=300, check=True)
    numbers = [_number(pattern, done.stdout) for pattern in (_REQUESTS, _CONVERSATIONS, _MADE)]
    return {"requests": numbers[0], "conversations": numbers[1], "made": numbers[2],
            "output": done.stdout}


def _number(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.search(text)
    if found is None:
        raise RuntimeError(f"the plan's output has no {pattern.pattern!r}: {text!r}")
    return int(found.group(1).replace(",", ""))


def loaded_conversations(spec: dict[str, Any]) -> int:
    with duckdb.connect(spec["options"]["duckdb_path"], read_only=True) as db:
        row = db.execute(f'SELECT count(*) FROM "{spec["options"]["dataset"]}".conversations'
                         ).fetchone()
    return int(row[0]) if row else 0
