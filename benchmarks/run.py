"""The benchmark suite: `python -m benchmarks.run [--quick] [--only NAME[,NAME]] [--json PATH]`.

Prints a table (scenario, figure, value, target, met?) and writes every measurement as JSON,
after each scenario, so a long run leaves what it has measured so far.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .common import ROOT, Context, Figure, ScenarioResult, say
from .scenarios import (
    agreement,
    concurrency,
    efficiency,
    first_sync_plan,
    freshness,
    key_pool,
    nothing_changed,
    readers,
    reconciliation,
    saturation,
    storage,
    throughput,
    time_box,
)

Scenario = Callable[[Context], ScenarioResult]
SCENARIOS: dict[str, Scenario] = {
    "saturation": saturation.run,
    "key_pool": key_pool.run,
    "first_sync_plan": first_sync_plan.run,
    "concurrency": concurrency.run,
    "efficiency": efficiency.run,
    "nothing_changed": nothing_changed.run,
    "reconciliation": reconciliation.run,
    "freshness": freshness.run,
    "readers": readers.run,
    "time_box": time_box.run,
    "agreement": agreement.run,
    "storage": storage.run,
    "throughput": throughput.run,  # the long one last
}
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"
COLUMNS = ("scenario", "figure", "value", "target", "met?")
VALUE_WIDTH = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller accounts in throughput, one run per side in concurrency")
    parser.add_argument("--sizes", default="",
                        help="throughput: comma-separated account sizes (default 100000,200000)")
    parser.add_argument("--format-size", type=int, default=None,
                        help="throughput: conversations in the loader format comparison "
                             "(default 100000; 0 skips it)")
    parser.add_argument("--only", default="",
                        help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (DuckDB files, fake logs)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.only.split(",") if n and n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    return args


def run_scenario(name: str, scenario: Scenario, context: Context) -> ScenarioResult:
    """A failing scenario becomes one failed row; the others still run."""
    started = time.monotonic()
    try:
        result = scenario(context)
    except Exception as error:
        result = ScenarioResult(name)
        result.add("scenario error", f"{type(error).__name__}: {error}"[:160], "runs", False)
        result.details["traceback"] = traceback.format_exc()
    result.details["scenario_seconds"] = round(time.monotonic() - started, 1)
    say(f"{name}: finished in {result.details['scenario_seconds']}s")
    return result


def met_text(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "NO")


def format_value(value: Any) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def table(figures: list[Figure]) -> str:
    rows: list[tuple[str, ...]] = [COLUMNS]
    for f in figures:  # long values continue on lines of their own
        value = textwrap.wrap(format_value(f.value), VALUE_WIDTH) or [""]
        rows.append((f.scenario, f.figure, value[0], f.target, met_text(f.met)))
        rows += [("", "", more, "", "") for more in value[1:]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def environment(quick: bool) -> dict[str, Any]:
    return {"started": datetime.now().isoformat(timespec="seconds"), "quick": quick,
            "python": platform.python_version(), "dlt": version("dlt"),
            "duckdb": version("duckdb"), "cpus": os.cpu_count(), "machine": platform.machine()}


def write_json(path: Path, header: dict[str, Any], results: list[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**header, "scenarios": [
        {"name": r.name, "figures": [f.as_dict() for f in r.figures], "notes": r.notes,
         "details": r.details} for r in results]}
    path.write_text(json.dumps(payload, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    chosen = [n for n in SCENARIOS if not args.only or n in args.only.split(",")]
    # a SIGTERM unwinds like Ctrl+C: the fakes, pipelines and Postgres are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with nohup
    workdir = Path(tempfile.mkdtemp(prefix="liveagent-bench-"))
    header = environment(args.quick)
    results: list[ScenarioResult] = []
    sizes = tuple(int(size) for size in args.sizes.split(",") if size) or None
    context = Context(quick=args.quick, workdir=workdir, sizes=sizes,
                      format_size=args.format_size, checkpoint=lambda partial: write_json(
        args.json, header, [*results, partial]))
    try:
        for name in chosen:
            say(f"{name}: starting")
            results.append(run_scenario(name, SCENARIOS[name], context))
            write_json(args.json, header, results)
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table([f for r in results for f in r.figures]))
    for result in results:
        for note in result.notes:
            print(f"note ({result.name}): {note}")
    print(f"results: {args.json}")
    return 0 if all(f.met is not False for r in results for f in r.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
