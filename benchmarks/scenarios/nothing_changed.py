"""An incremental run right after a full run, nothing changed, at LiveAgent's real limit."""

from __future__ import annotations

from datetime import timedelta

from ..child import pipeline_spec, run_child
from ..common import Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess
from ..minimal import (
    Directories,
    compact,
    describe,
    difference,
    minimal_requests,
    one_page_per_day,
)

NAME = "nothing_changed"
CONVERSATIONS = 100
REAL_LIMIT = 180  # requests per minute per key; the fake's default burst is a minute's worth
FULL_RUN_LIMIT = 600  # the initial load may go faster: the fake's burst of 180 absorbs it
REPORT_DAYS = 7
HANDFUL = 10
TARGET_SECONDS = 10.0


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    workdir = context.path(NAME)
    # activity within the reports' days, so the start date leaves out no conversation
    config = FakeConfig(CONVERSATIONS, requests_per_minute=REAL_LIMIT, days=REPORT_DAYS - 1)
    with FakeProcess(config, context.path(NAME, "fake.log")) as fake:
        directories = Directories.of(fake)
        today = fake.today()
        start = today - timedelta(days=REPORT_DAYS - 1)
        say(f"{NAME}: full run of {CONVERSATIONS} conversations")
        full = run_child(pipeline_spec(fake, workdir, NAME, start_date=start.isoformat(),
                                       requests_per_minute=FULL_RUN_LIMIT))
        fake.reset_stats()
        say(f"{NAME}: incremental run with nothing changed at {REAL_LIMIT}/min")
        incremental = run_child(pipeline_spec(fake, workdir, NAME,
                                              requests_per_minute=REAL_LIMIT))
        stats = fake.stats()
        later = fake.today()
    # the full run closed every day before `today`; counting report pages by reading them
    # would spend the fake's budget, and 100 conversations never make 1000 report rows a day
    reports = one_page_per_day((later - today).days + 1)
    minimal = minimal_requests(directories, reports, conversations=0, kb_entries=0,
                               before=directories, kb_reconciliation=True)
    wall = incremental.get("elapsed", incremental.get("wall", 0.0))
    ok = full["ok"] and incremental["ok"]
    result.add("runs succeeded", f"full={full['ok']} incremental={incremental['ok']}", "True",
               ok)
    result.add("wall s", round(wall, 1), f"< {TARGET_SECONDS:.0f}", ok and wall < TARGET_SECONDS)
    result.add("of which waiting for the client's limiter s",
               incremental.get("rate_limit_wait", "-"))
    result.add("requests", stats["total"], f"<= {HANDFUL} (a handful)",
               ok and stats["total"] <= HANDFUL)
    result.add("requests / API-forced minimal",
               f"{ratio(stats['total'], sum(minimal.values()))} "
               f"({stats['total']} / {sum(minimal.values())})", "1.00")
    result.add("429 answers", stats["by_status"].get("429", 0), "0",
               stats["by_status"].get("429", 0) == 0)
    result.add("requests by path", compact(stats["by_path"]))
    result.add("excess over minimal by path", describe(difference(stats["by_path"], minimal)))
    result.details = {"full": full, "incremental": incremental, "fake_stats": stats,
                      "minimal": dict(minimal), "excess": difference(stats["by_path"], minimal),
                      "directories": directories.summary()}
    return result
