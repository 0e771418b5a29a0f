"""Requests made against the fewest the API forces (see benchmarks/minimal.py), on a full run
and on an incremental run after changing some conversations through the fake's write API."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from ..child import pipeline_spec, run_child
from ..common import UNLIMITED_RPM, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess
from ..minimal import Directories, describe, difference, minimal_requests, report_pages

NAME = "efficiency"
CONVERSATIONS = 5000
CHANGED = 50
REPORT_DAYS = 31  # start_date is 30 days before the account's today...
HISTORY_DAYS = 30  # ...and the account's activity spans 30 days, so every conversation loads


def change_conversations(fake: FakeProcess, count: int) -> list[str]:
    """Resolves `count` conversations spread over the account, over HTTP."""
    ids = fake.conversation_ids()
    chosen = ids[:: max(1, len(ids) // count)][:count]
    for conversationid in chosen:
        fake.put(f"conversations/{conversationid}/status", status="R")
    return chosen


def judge(result: ScenarioResult, label: str, stats: dict[str, Any], minimal: Counter[str],
          outcome: dict[str, Any]) -> None:
    made, need = stats["total"], sum(minimal.values())
    excess = difference(stats["by_path"], minimal)
    result.add(f"{label}: requests / minimal", f"{ratio(made, need)} ({made} / {need})",
               "1.00", outcome["ok"] and made == need)
    result.add(f"{label}: excess by path", describe(excess))
    result.details[label] = {"run": outcome, "fake_stats": stats, "minimal": dict(minimal),
                             "excess": excess}


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    workdir = context.path(NAME)
    config = FakeConfig(CONVERSATIONS, days=HISTORY_DAYS)
    with FakeProcess(config, context.path(NAME, "fake.log")) as fake:
        before = Directories.of(fake)
        today = fake.today()
        start = today - timedelta(days=REPORT_DAYS - 1)
        listed = len(fake.conversation_ids(datechanged=f"gte:{start.isoformat()} 00:00:00"))
        fake.reset_stats()
        say(f"{NAME}: full run of {CONVERSATIONS} conversations, reports from {start}")
        full = run_child(pipeline_spec(fake, workdir, NAME, start_date=start.isoformat(),
                                       requests_per_minute=UNLIMITED_RPM))
        stats = fake.stats()
        minimal = minimal_requests(before, report_pages(fake, start, today),
                                   conversations=listed, kb_entries=before.kb_entries)
        judge(result, "full", stats, minimal, full)

        change_conversations(fake, CHANGED)
        after = Directories.of(fake)
        fake.reset_stats()
        say(f"{NAME}: incremental run after changing {CHANGED} conversations")
        incremental = run_child(pipeline_spec(fake, workdir, NAME,
                                              requests_per_minute=UNLIMITED_RPM))
        stats = fake.stats()
        # the full run closed every day before `today`
        minimal = minimal_requests(after, report_pages(fake, today, fake.today()),
                                   conversations=CHANGED, kb_entries=0, before=before,
                                   kb_reconciliation=True)
        judge(result, "incremental", stats, minimal, incremental)
    result.details.update(directories=before.summary(), changed=CHANGED,
                          report_days=REPORT_DAYS, conversations_since_start=listed)
    return result
