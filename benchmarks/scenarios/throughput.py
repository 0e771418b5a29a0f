"""Full runs at 1x and 2x size into DuckDB and Postgres: rows/s per step and peak RSS; then the
loader file formats compared on the conversation tables.

No throttling, no latency: the fake (one core) and the pipeline (the other) are the limits.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from ..child import pipeline_spec, run_child
from ..common import UNLIMITED_RPM, Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess
from ..minimal import Directories, describe, difference, minimal_requests, report_pages
from ..postgres import postgres_server, terminate_sessions

NAME = "throughput"
SIZES = {True: (20_000, 40_000), False: (100_000, 200_000)}  # by --quick
FORMAT_SIZE = {True: 50_000, False: 100_000}
RUN_TIMEOUT = {True: 30 * 60.0, False: 45 * 60.0}  # seconds per pipeline run
DESTINATIONS = ("duckdb", "postgres")
FORMATS = {"duckdb": ("parquet", "jsonl", "insert_values"), "postgres": ("insert_values", "csv")}
MAIN_RESOURCES: list[str] = []  # the full source
FORMAT_RESOURCES = ["conversations"]  # conversations, tags, message groups, messages
# the format runs load in one package, so the formats, not the chunked merges, are compared
FORMAT_SOURCE_OPTIONS = {"conversations_per_load": 0}
REPORT_DAYS = 91  # no start_date: reports start 90 days back, through today
RSS_LIMIT_MB = 1024.0
RSS_GROWTH_LIMIT = 1.25  # chunked loads should keep memory flat as the account doubles
STEPS = ("extract", "normalize", "load")


def label(destination: str, conversations: int) -> str:
    return f"{destination} {conversations // 1000}k"


def per_step_rates(outcome: dict[str, Any]) -> dict[str, float]:
    rows = sum(outcome.get("row_counts", {}).values())
    return {step: round(rows / seconds) if seconds else 0.0
            for step, seconds in outcome.get("steps", {}).items()}


def one_run(context: Context, fake: FakeProcess, destination: str, conversations: int,
            resources: list[str], loader_file_format: str | None = None,
            **source: Any) -> dict[str, Any]:
    name = f"{destination}_{conversations // 1000}k_{loader_file_format or 'default'}"
    dsn = context.postgres_dsn or ""
    fake.reset_stats()
    cpu_before = fake.cpu_seconds()
    say(f"{NAME}: {label(destination, conversations)} {loader_file_format or ''} "
        f"resources={resources or 'all'}")
    spec = pipeline_spec(fake, context.path(NAME, name), name, destination=destination,
                         resources=resources, loader_file_format=loader_file_format,
                         requests_per_minute=UNLIMITED_RPM, **source)
    outcome = run_child(spec, env={"DESTINATION__POSTGRES__CREDENTIALS": dsn},
                        timeout=RUN_TIMEOUT[context.quick])
    if not outcome["ok"] and destination == "postgres" and dsn:
        terminate_sessions(dsn)  # a killed pipeline's statement would run on
    outcome.update(fake_stats=fake.stats(), fake_cpu_seconds=fake.cpu_seconds() - cpu_before,
                   rates=per_step_rates(outcome))
    say(f"{NAME}: done in {outcome.get('wall', '-')}s ok={outcome['ok']} "
        f"peak {outcome.get('peak_rss_mb')} MB {outcome.get('error', '')}")
    return outcome


def report_main_run(result: ScenarioResult, what: str, outcome: dict[str, Any],
                    minimal: Counter[str]) -> None:
    if not outcome["ok"]:
        result.add(f"{what}: run", outcome.get("error", "failed")[:120], "succeeds", False)
        return
    rates, steps = outcome["rates"], outcome["steps"]
    rows = sum(outcome["row_counts"].values())
    result.add(f"{what}: rows, wall s", f"{rows:,} in {outcome['wall']:.0f}s "
               f"({outcome['step_calls']['load']} loads)")
    result.add(f"{what}: rows/s extract|normalize|load",
               " | ".join(f"{rates[s]:,.0f} ({steps[s]:.0f}s)" for s in STEPS))
    loads = outcome.get("step_seconds_each", {}).get("load", [])
    if len(loads) > 1:
        result.add(f"{what}: load s, first / last chunk", f"{loads[0]:.1f} / {loads[-1]:.1f}")
    peak = outcome["peak_rss_mb"]
    result.add(f"{what}: peak RSS MB", peak, f"< {RSS_LIMIT_MB:.0f}", peak < RSS_LIMIT_MB)
    made = outcome["fake_stats"]["total"]
    excess = difference(outcome["fake_stats"]["by_path"], minimal)
    outcome.update(minimal=dict(minimal), excess=excess)
    result.add(f"{what}: requests / minimal",
               f"{ratio(made, sum(minimal.values()))} (excess: {describe(excess)})")


def api_minimal(fake: FakeProcess, conversations: int) -> Counter[str]:
    """What a full run of the whole source must ask (no start date: reports from 90 days
    back through today)."""
    today = fake.today()
    reports = report_pages(fake, today - timedelta(days=REPORT_DAYS - 1), today)
    directories = Directories.of(fake)
    return minimal_requests(directories, reports, conversations=conversations,
                            kb_entries=directories.kb_entries)


def sizes(context: Context) -> tuple[int, ...]:
    return context.sizes or SIZES[context.quick]


def main_runs(context: Context, result: ScenarioResult) -> dict[str, dict[int, Any]]:
    runs: dict[str, dict[int, Any]] = {d: {} for d in DESTINATIONS}
    result.details["main"] = runs  # filled as runs finish, for the checkpoints
    small = sizes(context)[0]
    for conversations in sizes(context):
        with FakeProcess(FakeConfig(conversations),
                         context.path(NAME, f"fake_{conversations}.log")) as fake:
            minimal = api_minimal(fake, conversations)
            for destination in DESTINATIONS:
                what = label(destination, conversations)
                if conversations != small and not runs[destination][small]["ok"]:
                    result.add(f"{what}: run", "skipped: the 1x run did not finish",
                               "succeeds", False)
                    continue
                outcome = one_run(context, fake, destination, conversations, MAIN_RESOURCES)
                runs[destination][conversations] = outcome
                report_main_run(result, what, outcome, minimal)
                context.checkpoint(result)
    return runs


def report_growth(result: ScenarioResult, runs: dict[str, dict[int, Any]],
                  measured: tuple[int, ...]) -> None:
    if len(measured) < 2:
        return
    small, large = measured[0], measured[-1]
    for destination in DESTINATIONS:
        first, second = runs[destination].get(small), runs[destination].get(large)
        if first and second and first["ok"] and second["ok"]:
            growth = ratio(second["peak_rss_mb"], first["peak_rss_mb"])
            result.add(f"{destination}: peak RSS growth {large // small}x size", growth,
                       f"<= {RSS_GROWTH_LIMIT}", growth <= RSS_GROWTH_LIMIT)
            wall = ratio(second["wall"], first["wall"])
            result.add(f"{destination}: wall time growth {large // small}x size", wall)


def format_runs(context: Context, result: ScenarioResult) -> dict[str, Any]:
    conversations = FORMAT_SIZE[context.quick] if context.format_size is None \
        else context.format_size
    runs: dict[str, Any] = {}
    result.details["formats"] = runs
    if not conversations:
        return runs
    with FakeProcess(FakeConfig(conversations),
                     context.path(NAME, f"fake_formats_{conversations}.log")) as fake:
        for destination, formats in FORMATS.items():
            for loader_format in formats:
                outcome = one_run(context, fake, destination, conversations, FORMAT_RESOURCES,
                                  loader_format, **FORMAT_SOURCE_OPTIONS)
                runs[f"{destination}/{loader_format}"] = outcome
                what = f"{label(destination, conversations)} {loader_format}"
                if not outcome["ok"]:
                    result.add(f"{what}: run", outcome.get("error", "failed")[:120],
                               "succeeds", False)
                    continue
                steps = outcome["steps"]
                result.add(f"{what}: normalize s | load s | peak RSS MB",
                           f"{steps['normalize']:.1f} | {steps['load']:.1f} | "
                           f"{outcome['peak_rss_mb']:.0f}")
                context.checkpoint(result)
    return runs


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    result.notes.append(
        "main runs: the full source (every table), connector defaults; format comparison: "
        f"resources={FORMAT_RESOURCES} (conversations, tags, message groups, messages) in one "
        "load (conversations_per_load=0)")
    pgdir = context.path("postgres")
    pgdir.mkdir(exist_ok=True)
    with postgres_server(pgdir) as dsn:
        context.postgres_dsn = dsn
        report_growth(result, main_runs(context, result), sizes(context))
        format_runs(context, result)
    context.postgres_dsn = None
    result.details.update(sizes=sizes(context), format_size=context.format_size
                          if context.format_size is not None else FORMAT_SIZE[context.quick],
                          report_days=REPORT_DAYS)
    return result
