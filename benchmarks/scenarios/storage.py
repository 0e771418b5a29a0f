"""What writing the DuckDB file in DuckDB 1.4's storage format (the default, so that BI tools
with DuckDB 1.x drivers open it) costs against the newest format: full runs of the whole source
into a new file each, alternating the two, then the demo's analyst queries on each file; then
the last warehouse rewritten into a new file of each format (COPY FROM DATABASE, what
`convert-duckdb` does), which isolates DuckDB's write and compression work from the pipeline's.

No throttling, no latency: the load step is where the format shows; extract (the fake's work
and HTTP) is the same for both.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines.demo import QUERIES

from ..child import pipeline_spec, run_child
from ..common import UNLIMITED_RPM, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "storage"
CONVERSATIONS = 20_000
VERSIONS = ("v1.4.0", "latest")
ROUNDS = {True: 2, False: 3}  # runs per format, alternating which goes first
QUERY_REPEATS = 3  # best of
REWRITES = 5  # per format, alternating


def file_mb(path: Path) -> float:
    wal = path.with_name(path.name + ".wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return round(size / 1e6, 1)


def query_seconds(path: Path, dataset: str) -> float:
    """The demo's analyst queries, each the best of QUERY_REPEATS, summed."""
    total = 0.0
    with duckdb.connect(str(path), read_only=True) as db:
        for _title, sql in QUERIES:
            query = sql.replace("{ds}", dataset)
            best = float("inf")
            for _ in range(QUERY_REPEATS):
                started = time.perf_counter()
                db.execute(query).fetchall()
                best = min(best, time.perf_counter() - started)
            total += best
    return round(total, 4)


def one_run(context: Context, fake: FakeProcess, version: str, round_: int) -> dict[str, Any]:
    name = f"storage_{version.replace('.', '_')}_{round_}"
    say(f"{NAME}: {version} round {round_ + 1}, {CONVERSATIONS} conversations")
    spec = pipeline_spec(fake, context.path(NAME, name), name, duckdb_storage_version=version,
                         requests_per_minute=UNLIMITED_RPM)
    outcome = run_child(spec)
    if outcome["ok"]:
        path = Path(spec["options"]["duckdb_path"])
        outcome.update(file_mb=file_mb(path), query_seconds=query_seconds(path, name),
                       file_format=duckdb_storage_tag(path), duckdb_path=str(path))
    say(f"{NAME}: done in {outcome.get('wall', '-')}s ok={outcome['ok']} "
        f"load {outcome.get('steps', {}).get('load')}s {outcome.get('error', '')}")
    return outcome


def duckdb_storage_tag(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as db:
        row = db.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                         "WHERE database_name = current_database()").fetchone()
    return str(row[0]) if row else "unknown"


def rewrite_seconds(source: Path, workdir: Path) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds (this process, DuckDB's threads included) to copy every schema of
    `source` into a new file of each format, REWRITES times each, alternating."""
    seconds: dict[str, dict[str, list[float]]] = {v: {"wall": [], "cpu": []} for v in VERSIONS}
    for i in range(REWRITES):
        for version in VERSIONS if i % 2 == 0 else tuple(reversed(VERSIONS)):
            target = workdir / f"rewrite_{i}_{version}.duckdb"
            with duckdb.connect(":memory:") as db:
                db.execute(f"ATTACH '{source}' AS rewrite_source (READ_ONLY)")
                wall, cpu = time.perf_counter(), time.process_time()
                db.execute(f"ATTACH '{target}' AS rewrite_target (STORAGE_VERSION '{version}')")
                db.execute("COPY FROM DATABASE rewrite_source TO rewrite_target")
                db.execute("DETACH rewrite_target")  # the checkpoint: compression happens here
                seconds[version]["wall"].append(round(time.perf_counter() - wall, 3))
                seconds[version]["cpu"].append(round(time.process_time() - cpu, 3))
            target.unlink()
    return seconds


def report_rewrites(result: ScenarioResult, seconds: dict[str, dict[str, list[float]]]
                    ) -> None:
    wall = {v: statistics.median(s["wall"]) for v, s in seconds.items()}
    cpu = {v: statistics.median(s["cpu"]) for v, s in seconds.items()}
    for version in VERSIONS:
        result.add(f"rewrite of the warehouse into {version}: wall s | CPU s",
                   f"{wall[version]:.2f} | {cpu[version]:.2f} (median of {REWRITES})")
    result.add("rewrite v1.4.0 / latest: wall | CPU",
               f"{ratio(wall['v1.4.0'], wall['latest'])} | {ratio(cpu['v1.4.0'], cpu['latest'])}")


def median(runs: list[dict[str, Any]], pick: Any) -> float:
    return round(statistics.median(pick(run) for run in runs), 3)


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    runs: dict[str, list[dict[str, Any]]] = {version: [] for version in VERSIONS}
    result.details.update(conversations=CONVERSATIONS, runs=runs,
                          load_average_before=os.getloadavg())
    with FakeProcess(FakeConfig(CONVERSATIONS), context.path(NAME, "fake.log")) as fake:
        for round_ in range(ROUNDS[context.quick]):
            order = VERSIONS if round_ % 2 == 0 else tuple(reversed(VERSIONS))
            for version in order:
                runs[version].append(one_run(context, fake, version, round_))
                context.checkpoint(result)
    failed = [f"{v}: {r.get('error', 'failed')[:100]}" for v in VERSIONS for r in runs[v]
              if not r["ok"]]
    result.add("runs succeeded", "; ".join(failed) or "all", "all", not failed)
    if failed:
        return result
    medians = {}
    for version, done in runs.items():
        medians[version] = {
            "load": median(done, lambda r: r["steps"]["load"]),
            "wall": median(done, lambda r: r["wall"]),
            "queries": median(done, lambda r: r["query_seconds"]),
            "file_mb": median(done, lambda r: r["file_mb"]),
        }
        m = medians[version]
        result.add(f"{version} ({done[0]['file_format']}): load s | wall s | file MB | "
                   "demo queries ms",
                   f"{m['load']:.2f} | {m['wall']:.1f} | {m['file_mb']:.1f} | "
                   f"{m['queries'] * 1000:.0f} (median of {len(done)}; loads each: "
                   f"{', '.join(str(r['steps']['load']) for r in done)})")
    compat, latest = medians["v1.4.0"], medians["latest"]
    result.add("v1.4.0 / latest: load | wall | file size | queries",
               f"{ratio(compat['load'], latest['load'])} | {ratio(compat['wall'], latest['wall'])}"
               f" | {ratio(compat['file_mb'], latest['file_mb'])} | "
               f"{ratio(compat['queries'], latest['queries'])}")
    result.details["medians"] = medians
    last = Path(runs["v1.4.0"][-1]["duckdb_path"])
    result.details["rewrites"] = seconds = rewrite_seconds(last, context.path(NAME))
    report_rewrites(result, seconds)
    result.details["load_average_after"] = os.getloadavg()
    result.notes.append(f"{CONVERSATIONS} conversations, the whole source with the connector's "
                        "defaults (chunked loads), a new file per run")
    return result
