"""One pipeline run in its own process: `python -m benchmarks._pipeline_child SPEC_JSON`.

SPEC_JSON: {"mode": "liveagent" | "rest_api", "options": RunOptions fields,
"source": source options, "loader_file_format": optional override, "max_workers": optional}.
Prints one line `BENCH_RESULT {json}` with the outcome, per-step seconds (summed over the
loads of a chunked run), peak RSS of this process and row counts.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

MARKER = "BENCH_RESULT "
STEPS = ("extract", "normalize", "load")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class StepTimer:
    """Wraps dlt.Pipeline's extract/normalize/load to sum their seconds and note the peak RSS
    after each; dlt's trace holds only the last step when steps are called one by one."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STEPS, 0.0)
        self.each: dict[str, list[float]] = {step: [] for step in STEPS}  # per call
        self.calls = dict.fromkeys(STEPS, 0)
        self.rss_after = dict.fromkeys(STEPS, 0.0)
        self.first_started: dict[str, float] = {}

    def install(self) -> None:
        import dlt

        for step in STEPS:
            setattr(dlt.Pipeline, step, self._wrap(step, getattr(dlt.Pipeline, step)))

    def _wrap(self, step: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(pipeline: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            self.first_started.setdefault(step, started)
            try:
                info = method(pipeline, *args, **kwargs)
            finally:
                elapsed = time.monotonic() - started
                self.seconds[step] += elapsed
                self.each[step].append(round(elapsed, 3))
                self.calls[step] += 1
                self.rss_after[step] = peak_rss_mb()
            return info

        return timed


def run_liveagent(spec: dict[str, Any]) -> dict[str, Any]:
    from pipelines import runner

    options = runner.RunOptions(**spec["options"],
                                loader_file_format=spec.get("loader_file_format"))
    result = runner.run_pipeline(options, **spec["source"])
    return {"row_counts": result.row_counts, "requests": result.requests,
            "rate_limit_wait": round(result.rate_limit_wait, 2),
            "elapsed": round(result.elapsed, 3), "notices": result.notices,
            "publications": [{"bytes": p.bytes, "seconds": round(p.seconds, 3)}
                             for p in result.publications]}


def rest_api_config(base_url: str, api_key: str) -> dict[str, Any]:
    """dlt's declarative REST API source for conversations and their messages, configured
    the obvious way: no parallelism flags."""
    return {
        "client": {
            "base_url": base_url.rstrip("/") + "/api/",
            "auth": {"type": "api_key", "name": "apikey", "api_key": api_key,
                     "location": "query"},
        },
        "resources": [
            {"name": "conversations", "endpoint": {
                "path": "conversations", "data_selector": "response.conversations",
                "params": {"limit": 1000},
                "paginator": {"type": "cursor", "cursor_path": "response.conversations[-1].cursor",
                              "cursor_param": "cursor"},
            }},
            {"name": "messages", "endpoint": {
                "path": "conversations/{resources.conversations.conversationid}/messages",
                "data_selector": "response.groups",
            }},
        ],
    }


def run_rest_api(spec: dict[str, Any]) -> dict[str, Any]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    options = spec["options"]
    pipeline = dlt.pipeline(
        pipeline_name="bench_rest_api", pipelines_dir=options["pipelines_dir"],
        destination=dlt.destinations.duckdb(options["duckdb_path"]),
        dataset_name=options["dataset"],
    )
    started = time.monotonic()
    source = rest_api_source(rest_api_config(spec["source"]["base_url"],
                                             spec["source"]["api_key"]))  # type: ignore[arg-type]
    pipeline.extract(source)
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()
    return {"elapsed": round(time.monotonic() - started, 3)}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    if spec.get("max_workers"):  # the runner reads it from config for dlt's extract workers
        os.environ["SOURCES__LIVEAGENT__MAX_WORKERS"] = str(spec["max_workers"])
    rest_api = spec.get("mode") == "rest_api"
    # imports happen before the clock starts: both sides pay them alike, outside the figure
    importlib.import_module("dlt.sources.rest_api" if rest_api else "pipelines.runner")
    timer = StepTimer()
    timer.install()
    started = time.monotonic()
    outcome: dict[str, Any] = {"ok": True}
    try:
        outcome.update(run_rest_api(spec) if rest_api else run_liveagent(spec))
    except Exception as error:  # reported to the parent, which marks the scenario failed
        outcome = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000],
                   "traceback": traceback.format_exc()[-4000:]}
    outcome.update({
        "wall": round(time.monotonic() - started, 3),
        "steps": {k: round(v, 3) for k, v in timer.seconds.items()},
        "step_calls": timer.calls,
        "step_seconds_each": timer.each,
        "step_started": {k: round(v - started, 3) for k, v in timer.first_started.items()},
        "rss_after_step_mb": timer.rss_after,
        "peak_rss_mb": peak_rss_mb(),
    })
    print(MARKER + json.dumps(outcome, default=str), flush=True)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
