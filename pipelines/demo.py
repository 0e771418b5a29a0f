"""`liveagent-pipeline demo`: the real pipeline against the bundled fake account, no login needed.

Starts the fake LiveAgent API on a free loopback port with generated data, runs one full ELT
run into a DuckDB file and prints the summary (each table with what it holds) and a few
analyst queries with their results, codes shown as their labels.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.duckdb_file import format_table
from pipelines.runner import RunContext, RunOptions, run_pipeline, summary

if TYPE_CHECKING:
    from liveagent_fake.server import FakeLiveAgent

DEMO_TIMEZONE = "Europe/Bratislava"
DEMO_DAYS = 30
# the demo account's business hours (in its zone), so that business-hours figures differ from
# calendar time (without a schedule they are equal). Every day, as the fake's traffic comes
# every day at any hour: with weekdays 08:00-17:00 most first answers fall outside and the
# median first response in business hours would be 0
DEMO_BUSINESS_HOURS = {"hours": {day: ["07:00-22:00"] for day in ("mon", "tue", "wed", "thu",
                                                                   "fri", "sat", "sun")}}

QUERIES: list[tuple[str, str]] = [
    # codes read through the labels table (channel E is Email, status C is Open)
    ("Conversations by channel and status",
     """SELECT coalesce(ch.label, c.channel_type) AS channel,
               coalesce(st.label, c.status) AS status, count(*) AS conversations
        FROM {ds}.conversations c
        LEFT JOIN {ds}.labels ch ON ch.table_name = 'conversations'
         AND ch.column_name = 'channel_type' AND ch.code = c.channel_type
        LEFT JOIN {ds}.labels st ON st.table_name = 'conversations'
         AND st.column_name = 'status' AND st.code = c.status
        GROUP BY ALL ORDER BY conversations DESC, channel, status LIMIT 8"""),
    ("First agent reply per department (minutes)",
     """WITH first_reply AS (
            SELECT m.conversationid, min(m.datecreated) AS replied
            FROM {ds}.messages m JOIN {ds}.agents a ON a.id = m.userid
            WHERE m.rtype = 'M' GROUP BY ALL)
        SELECT c.departmentname AS department, count(*) AS answered,
               round(median(epoch(f.replied - c.datecreated)) / 60, 1) AS median_minutes
        FROM {ds}.conversations c JOIN first_reply f USING (conversationid)
        GROUP BY ALL ORDER BY median_minutes"""),
    ("Agents by answers over the last 7 days (report_agents)",
     """SELECT firstname || ' ' || lastname AS agent, sum(answers) AS answers,
               sum(resolved_tickets) AS resolved, round(sum(worktime) / 60.0, 1) AS hours_online
        FROM {ds}.report_agents
        WHERE report_date > (SELECT max(report_date) FROM {ds}.report_agents) - 7
        GROUP BY ALL ORDER BY answers DESC LIMIT 5"""),
]
# with --transform: the analyst layer's marts, as the README's "Analyst layer" gives them
MART_QUERIES: list[tuple[str, str]] = [
    ("Median first response time by channel, last week (minutes)",
     """SELECT channel_label, count(*) AS conversations,
               round(median(first_response_seconds) / 60, 1) AS median_minutes
        FROM {ds}_analytics.liveagent__conversation_metrics
        WHERE first_response_date > current_date - 7
        GROUP BY ALL ORDER BY median_minutes"""),
    ("Backlog by day: open conversations at each day's end",
     """SELECT date_day, open_conversations
        FROM {ds}_analytics.liveagent__daily_backlog ORDER BY date_day"""),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversations", type=int, default=2000,
                        help="size of the generated account (default 2000)")
    parser.add_argument("--duckdb-path", default="demo.duckdb",
                        help="DuckDB file to write (default ./demo.duckdb)")
    parser.add_argument("--dataset", default="liveagent")


def run(args: argparse.Namespace, context: RunContext | None = None) -> str:
    """Serve a generated account, load all of it into a fresh DuckDB file, query it."""
    print(f"liveagent-pipeline demo: starting a fake LiveAgent account with "
          f"{args.conversations} conversations on a loopback port ...", flush=True)
    options = RunOptions(destination="duckdb", dataset=args.dataset,
                         duckdb_path=args.duckdb_path, full_refresh=True,
                         pipelines_dir=args.pipelines_dir, transform=args.transform)
    with fake_account(args.conversations) as fake:
        result = run_pipeline(options, context=context, **source_options(fake))
    queries = QUERIES + (MART_QUERIES if args.transform else [])
    return (f"{summary(options, result, describe_tables=True)}\n\n"
            f"{example_queries(options.duckdb_file, args.dataset, queries)}")


def fake_account(conversations: int) -> FakeLiveAgent:
    # imported here: the CLI imports this module for its arguments, and only the demo itself
    # needs the fake (a production `run` never loads it)
    from liveagent_fake.dataset import DatasetConfig
    from liveagent_fake.models import Account
    from liveagent_fake.server import FakeLiveAgent

    # the fake's reports compute their *Sla figures with the schedule the analyst layer gets
    account = Account(DatasetConfig(conversations=conversations, days=DEMO_DAYS),
                      timezone=DEMO_TIMEZONE, business_hours=DEMO_BUSINESS_HOURS)
    return FakeLiveAgent(account)


def source_options(fake: FakeLiveAgent) -> dict[str, Any]:
    start = datetime.now(timezone.utc) - timedelta(days=DEMO_DAYS)
    return {"base_url": fake.url, "api_key": fake.api_key, "timezone": DEMO_TIMEZONE,
            "start_date": start.date().isoformat(), "requests_per_minute": 1_000_000,
            "business_hours": DEMO_BUSINESS_HOURS}


def example_queries(path: Path, dataset: str,
                    queries: list[tuple[str, str]] | None = None) -> str:
    """The demo's analyst queries, each with its SQL and its result as a small table."""
    blocks = []
    with duckdb.connect(str(path), read_only=True) as db:
        for title, sql in QUERIES if queries is None else queries:
            query = sql.replace("{ds}", dataset)
            result = db.execute(query)
            names = [d[0] for d in result.description]
            rows = [[str(v) for v in row] for row in result.fetchall()]
            blocks.append(f"-- {title}\n{_dedent(query)}\n{format_table(names, rows)}")
    return "\n\n".join(blocks)


def _dedent(sql: str) -> str:
    return "\n".join(line.strip() for line in sql.strip().splitlines())
