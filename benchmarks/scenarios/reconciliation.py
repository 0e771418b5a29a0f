"""Finding purged conversations: a reconciliation (every conversation id listed) on a large
account after a few conversations were purged from LiveAgent's trash."""

from __future__ import annotations

import contextlib
from collections import Counter

import duckdb
from requests import HTTPError

from ..child import pipeline_spec, run_child
from ..common import UNLIMITED_RPM, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess
from ..minimal import Directories, describe, difference, minimal_requests

NAME = "reconciliation"
SIZES = {True: 20_000, False: 100_000}  # by --quick
PURGED = 50
LIMIT_PER_SECOND = 180 / 60  # LiveAgent's budget


def purge(fake: FakeProcess, count: int) -> list[str]:
    """Purges `count` conversations spread over the account: deleted twice, over HTTP."""
    ids = fake.conversation_ids()
    chosen = ids[:: max(1, len(ids) // count)][:count]
    for conversationid in chosen:
        fake.delete(f"conversations/{conversationid}")  # to the trash, or purged if there
        with contextlib.suppress(HTTPError):  # 404: it was in the trash already
            fake.delete(f"conversations/{conversationid}")  # purged
    return chosen


def at_the_mark(path: str, dataset: str, purged: list[str]) -> int:
    """Conversations whose `datechanged` is the newest second loaded (the next run's
    incremental listing re-reads them), but the purged ones. The fake caps generated change
    times at its clock's end, so many share that second: 1,750 of 100,000 (more than a page),
    fewer than a page of 20,000."""
    with duckdb.connect(path, read_only=True) as db:
        ids = db.execute(f"SELECT conversationid FROM {dataset}.conversations WHERE "
                         f"datechanged = (SELECT max(datechanged) FROM {dataset}.conversations)"
                         ).fetchall()
    return len({conversationid for (conversationid,) in ids} - set(purged))


def marked(path: str, dataset: str) -> int:
    with duckdb.connect(path, read_only=True) as db:
        row = db.execute(f"SELECT count(*) FROM {dataset}.conversations "
                         "WHERE _liveagent_deleted_at IS NOT NULL").fetchone()
    return int(row[0]) if row else 0


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    workdir = context.path(NAME)
    conversations = SIZES[context.quick]
    with FakeProcess(FakeConfig(conversations), context.path(NAME, "fake.log")) as fake:
        say(f"{NAME}: loading the conversations of a {conversations}-conversation account")
        spec = pipeline_spec(fake, workdir, NAME, resources=["conversations"],
                             requests_per_minute=UNLIMITED_RPM)
        full = run_child(spec)
        purged = purge(fake, PURGED)
        relisted = at_the_mark(spec["options"]["duckdb_path"], NAME, purged) if full["ok"] \
            else 0
        directories = Directories.of(fake)
        fake.reset_stats()
        say(f"{NAME}: reconciliation after purging {PURGED} conversations")
        reconciling = run_child({**spec, "options": {**spec["options"], "reconcile": True}})
        stats = fake.stats()
    listed = conversations - len(purged)
    minimal = minimal_requests(directories, Counter(), conversations=0, kb_entries=0,
                               before=directories, conversation_ids=listed,
                               at_the_mark=relisted)
    for group in list(minimal):  # this run reads the conversation family only
        if group not in ("/api/application/status", "/api/conversations"):
            del minimal[group]
    made, need = stats["total"], sum(minimal.values())
    ok = full["ok"] and reconciling["ok"]
    found = marked(spec["options"]["duckdb_path"], NAME) if ok else -1
    result.add("runs succeeded", f"full={full['ok']} reconcile={reconciling['ok']}", "True",
               ok)
    result.add("purged conversations marked", f"{found} of {len(purged)}", str(len(purged)),
               found == len(purged))
    result.add("requests / minimal", f"{ratio(made, need)} ({made} / {need})", "1.00",
               ok and made == need)
    result.add("excess by path", describe(difference(stats["by_path"], minimal)))
    result.add("time at 180/min (requests / 3 per s)", f"{made / LIMIT_PER_SECOND:.0f} s")
    result.add("wall s, unthrottled", reconciling.get("elapsed", "-"))
    result.details = {"conversations": conversations, "purged": len(purged), "full": full,
                      "reconcile": reconciling, "fake_stats": stats, "minimal": dict(minimal),
                      "at_the_mark": relisted}
    return result
