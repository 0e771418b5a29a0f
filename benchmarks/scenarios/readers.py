"""Scheduled loads and readers side by side: what the read copy (pipelines/read_copy.py) costs
against loading the DuckDB file in place, and what a reader does to each.

A first sync in several loads (`conversations_per_load`), then incremental runs with a few
changes each, four ways in one process each after the other: in place and with the read copy,
each without and with two readers querying the file in a loop (benchmarks/reader.py: one
reconnecting for every query, one holding its connection). Figures: wall time and time spent
publishing, as a ratio of the in-place runs; disk after the runs (the writer's copy and the
published file against the one file); failed runs and failed or incomplete reader queries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..child import pipeline_spec, run_child
from ..common import ROOT, UNLIMITED_RPM, Context, ScenarioResult, child_env, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "readers"
SIZES = {True: 10_000, False: 50_000}  # by --quick
LOADS = 5  # the first sync commits in about this many loads
INCREMENTAL_RUNS = 3
CHANGED_PER_RUN = 20
WAYS = (("in place", False, False), ("read copy", True, False),
        ("in place, readers", False, True), ("read copy, readers", True, True))


def disk_mb(directory: Path) -> float:
    """Every DuckDB file (and WAL) under `directory`, the writer's copy included."""
    files = [p for p in directory.rglob("*.duckdb*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1e6, 1)


def start_readers(path: Path, stop: Path) -> list[subprocess.Popen[str]]:
    readers = [subprocess.Popen(
        [sys.executable, "-m", "benchmarks.reader", str(path), "--dataset", NAME,
         "--until", str(stop), "--pause", "0.05", *hold], cwd=ROOT, env=child_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for hold in ([], ["--hold"])]
    for reader in readers:
        assert reader.stdout is not None and reader.stdout.readline() == "reading\n"
    return readers


def stop_readers(readers: list[subprocess.Popen[str]], stop: Path) -> list[dict[str, Any]]:
    stop.touch()
    reports = []
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        reports.append(json.loads(out) if reader.returncode == 0 else {"error": err[-500:]})
    return reports


def one_way(context: Context, fake: FakeProcess, label: str, read_copy: bool, readers: bool,
            changed: list[str]) -> dict[str, Any]:
    workdir = context.path(NAME, label.replace(" ", "_").replace(",", ""))
    workdir.mkdir(parents=True, exist_ok=True)
    spec = pipeline_spec(fake, workdir, NAME, requests_per_minute=UNLIMITED_RPM,
                         conversations_per_load=fake.config.conversations // LOADS,
                         read_copy=read_copy)
    published = Path(spec["options"]["duckdb_path"])
    stop = workdir / "stop"
    running = start_readers(published, stop) if readers else []
    runs, started = [], time.monotonic()
    try:
        for index in range(1 + INCREMENTAL_RUNS):
            for conversationid in changed[index * CHANGED_PER_RUN:(index + 1) * CHANGED_PER_RUN]:
                fake.put(f"conversations/{conversationid}/status", status="R")
            runs.append(run_child(spec))
            say(f"{NAME}: {label}: run {index + 1} ok={runs[-1]['ok']} "
                f"{runs[-1].get('wall', '-')}s {runs[-1].get('error', '')[:200]}")
    finally:
        reports = stop_readers(running, stop) if readers else []
    publications = [p for run in runs for p in run.get("publications", [])]
    return {"label": label, "wall": round(time.monotonic() - started, 2),
            "failed_runs": sum(not run["ok"] for run in runs), "runs": len(runs),
            "load_seconds": round(sum(run.get("steps", {}).get("load", 0) for run in runs), 2),
            "publish_seconds": round(sum(p["seconds"] for p in publications), 2),
            "publications": len(publications),
            "published_mb": max((p["bytes"] / 1e6 for p in publications), default=0.0),
            "disk_mb": disk_mb(workdir), "readers": reports,
            "errors": [run.get("error", "")[:300] for run in runs if not run["ok"]]}


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    size = SIZES[context.quick]
    outcomes: dict[str, dict[str, Any]] = {}
    with FakeProcess(FakeConfig(size), context.path(NAME, "fake.log")) as fake:
        ids = fake.conversation_ids()
        for label, read_copy, readers in WAYS:
            say(f"{NAME}: {label}, {size} conversations in about {LOADS} loads, then "
                f"{INCREMENTAL_RUNS} incremental runs")
            # each way changes other conversations: every incremental run has work to do
            offset = len(outcomes) * (1 + INCREMENTAL_RUNS) * CHANGED_PER_RUN
            outcomes[label] = one_way(context, fake, label, read_copy, readers, ids[offset:])
    base, copy = outcomes["in place"], outcomes["read copy"]
    result.add("wall time, read copy / in place (no readers)",
               f"{ratio(copy['wall'], base['wall'])} ({copy['wall']}s / {base['wall']}s)")
    result.add("time publishing the read copy",
               f"{copy['publish_seconds']}s in {copy['publications']} publications of up to "
               f"{copy['published_mb']:.0f} MB")
    result.add("disk, read copy / in place",
               f"{ratio(copy['disk_mb'], base['disk_mb'])} ({copy['disk_mb']} MB / "
               f"{base['disk_mb']} MB)")
    for label in ("in place, readers", "read copy, readers"):
        way = outcomes[label]
        failures = sum(len(r.get("failures", [])) for r in way["readers"])
        incomplete = sum(len(r.get("incomplete", [])) for r in way["readers"])
        queries = sum(r.get("queries", 0) for r in way["readers"])
        chosen = label.startswith("read copy")
        result.add(f"{label}: failed runs", f"{way['failed_runs']} of {way['runs']}",
                   "0" if chosen else "", way["failed_runs"] == 0 if chosen else None)
        result.add(f"{label}: failed / incomplete reader queries",
                   f"{failures} / {incomplete} of {queries}", "0 / 0" if chosen else "",
                   failures == incomplete == 0 if chosen else None)
    result.details = {"size": size, "ways": outcomes}
    return result
