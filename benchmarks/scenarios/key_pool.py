"""Does a pool of API keys multiply the request budget, as LiveAgent counts it per key?

The same first sync of the whole source with 1, 2 and 3 keys against a fake that limits each
key apart at R requests/minute (a burst of one second's worth, strict) and whose clock stands
still (so that the runs, minutes apart, read the same account); the connector gets R per key.
Then the 3-key sync again, with the second key revoked a third of the way through.
Achieved rate = successful requests / extract seconds, against the sum of the keys' limits.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import duckdb

from ..child import pipeline_spec, run_child
from ..common import API_KEY, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "key_pool"
PER_KEY = 600  # 10/s a key, 30/s for three (LiveAgent: 3/s a key): ~4 min for one key
CONVERSATIONS = 1500
KEYS = tuple(f"{API_KEY}-{n}-0123456789abcdef" for n in (1, 2, 3))
REVOKE_SHARE = 1 / 3  # of the one-key run's requests, answered before the revocation
# tables whose rows say when the run happened, not what the account holds
RUN_TABLES = ("agent_online_status", "run_history", "run_history_tables", "table_freshness")


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    config = FakeConfig(CONVERSATIONS, requests_per_minute=PER_KEY, burst=PER_KEY / 60,
                        api_keys=KEYS, limit_per_key=True, frozen=True)
    runs: dict[str, dict[str, Any]] = {}
    with FakeProcess(config, context.path(NAME, "fake.log")) as fake:
        for count in (1, 2, 3):
            say(f"{NAME}: first sync of {CONVERSATIONS} conversations with {count} key(s) at "
                f"{PER_KEY}/min each")
            runs[f"{count} keys"] = measured(fake, context, f"keys{count}", KEYS[:count])
        total = runs["1 keys"]["fake_stats"]["total"]
        say(f"{NAME}: 3 keys, the second revoked after {int(total * REVOKE_SHARE)} requests")
        runs["revoked"] = measured(fake, context, "revoked", KEYS,
                                   revoke=(KEYS[1], int(total * REVOKE_SHARE)))
    figures(result, runs)
    result.details = {"per_key_limit": PER_KEY, "conversations": CONVERSATIONS, "runs": runs}
    return result


def measured(fake: FakeProcess, context: Context, name: str, keys: tuple[str, ...],
             revoke: tuple[str, int] | None = None) -> dict[str, Any]:
    """A first sync with `keys`; with `revoke`, that key is revoked once the fake has
    answered that many requests."""
    fake.reset_stats()
    # the fake's clock stands still: minutes into the scenario it is behind this machine's,
    # which the time-zone check would take for a wrong zone
    spec = pipeline_spec(fake, context.path(NAME, name), name, requests_per_minute=PER_KEY,
                         check_timezone=False)
    spec["source"]["api_key"] = list(keys)
    finished = threading.Event()  # a run that ends first (a failure) leaves the key alone
    revoker = threading.Thread(target=revoke_after, args=(fake, *revoke, finished)) \
        if revoke else None
    if revoker is not None:
        revoker.start()
    outcome = run_child(spec)
    finished.set()
    if revoker is not None:
        revoker.join()
    stats = fake.stats()
    extract = outcome.get("steps", {}).get("extract", 0.0)
    answered = stats["by_status"].get("200", 0)
    path = Path(spec["options"]["duckdb_path"])
    return {"ok": outcome["ok"], "error": outcome.get("error"), "wall": outcome.get("wall"),
            "extract": extract, "answered": answered,
            "rate": answered / extract * 60 if extract else 0.0,
            "limit": PER_KEY * len(keys), "throttled": stats["by_status"].get("429", 0),
            "by_key": stats["by_key"], "fake_stats": stats,
            "pool_lines": [line for line in outcome.get("stderr", "").splitlines()
                           if "leaves the pool" in line],
            "warehouse": warehouse_digest(path, name) if outcome["ok"] else {}}


def revoke_after(fake: FakeProcess, key: str, requests: int, finished: threading.Event
                 ) -> None:
    while fake.stats()["total"] < requests:
        if finished.wait(0.05):
            return
    fake.revoke_key(key)


def warehouse_digest(path: Path, dataset: str) -> dict[str, str]:
    """Each account table's rows (without dlt's load columns) as a digest, order aside."""
    with duckdb.connect(str(path), read_only=True) as db:
        tables = [row[0] for row in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [dataset]).fetchall() if not row[0].startswith("_dlt") and row[0] not in RUN_TABLES]
        digests = {}
        for table in sorted(tables):
            columns = [row[0] for row in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY column_name", [dataset, table]).fetchall()
                if not row[0].startswith("_dlt")]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(repr(row) for row in db.execute(
                f'SELECT {listed} FROM "{dataset}"."{table}"').fetchall())
            digests[table] = f"{len(rows)} rows, " + hashlib.sha1(
                "\n".join(rows).encode()).hexdigest()[:12]
    return digests


def figures(result: ScenarioResult, runs: dict[str, dict[str, Any]]) -> None:
    one = runs["1 keys"]
    for name, measurement in runs.items():
        share = ratio(measurement["rate"], measurement["limit"])
        per_key = ", ".join(f"{key} {statuses.get('200', 0)}"
                            + (f" (+{statuses['401']} refused)" if "401" in statuses else "")
                            for key, statuses in sorted(measurement["by_key"].items()))
        if name == "revoked":  # a third of the run on three keys, the rest on two
            result.add(f"{name}: achieved rate / sum of limits", share)
        else:
            result.add(f"{name}: achieved rate / sum of limits", share, ">= 0.9", share >= 0.9)
        result.add(f"{name}: requests per key", per_key)
        result.add(f"{name}: 429 answers", measurement["throttled"], "0",
                   measurement["throttled"] == 0)
        result.add(f"{name}: wall / extract seconds",
                   f"{measurement['wall']} / {measurement['extract']:.1f}")
        if name != "1 keys":
            same = bool(measurement["ok"]) and measurement["warehouse"] == one["warehouse"]
            result.add(f"{name}: warehouse equal to the one-key run's", same, "True", same)
    speedup = ratio(runs["3 keys"]["rate"], one["rate"])
    result.add("3 keys: throughput / one key's", speedup, ">= 2.8", speedup >= 2.8)
    lines = runs["revoked"]["pool_lines"]
    result.add("revoked: lines about the key", len(lines), "1", len(lines) == 1)
    result.add("revoked: run succeeded", runs["revoked"]["ok"], "True",
               bool(runs["revoked"]["ok"]))
