"""`liveagent-pipeline plan`: what the first sync of an account will cost, from a few cheap
requests, before it starts.

The requests (about ten, whatever the account's size):
- GET /application/status: the account's clock (today, and the newest `priority_days`);
- the performance report by month since 2000 (one request), then by day for the month of the
  first conversation: `created_tickets` counts the conversations created in each bucket, so
  their sum is the history's conversations (those changed since the start date, with one), and
  the first bucket with any tells where the reports' history begins;
- GET /conversations changed in the newest `priority_days`, up to `RECENT_PAGES` pages: what
  the first load reads (exact up to 10,000; past that, at least that many);
- GET /companies and GET /onlinestatus/agents: a details request each.

The first sync's requests are then counted the way the source makes them (a load per
conversation window and per fortnight of report history; each load's probe, a request per
conversation, two with conversation details, the listing's pages, the directories, a request
per report and day), and the time is those requests at the pool's rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pipelines.configuration import source_settings
from pipelines.progress import clock
from sources.liveagent.client import LiveAgentClient
from sources.liveagent.key_pool import api_keys
from sources.liveagent.paginators import CursorPaginator
from sources.liveagent.reports import HISTORY_DAYS_PER_LOAD
from sources.liveagent.settings import (
    CONVERSATIONS_PAGE_SIZE,
    DEFAULT_REPORT_HISTORY_DAYS,
    REPORTS,
)
from sources.liveagent.transforms import UTC, AccountTime, parse_start_date

RECENT_PAGES = 10  # pages of the newest days' listing the plan reads at most
FIRST_MONTH = "2000-01-01"  # the performance report's buckets start here
# lists read in one request each: tags, customer groups, suggestion categories, knowledge
# bases (twice: the bases and the entries' deletions), knowledge-base entries
DIRECTORY_LISTS = 6


@dataclass(frozen=True)
class Found:
    """What the plan's requests found in the account."""

    today: date
    conversations: int  # in the history the first sync lists
    first_created: date | None  # the day of the oldest conversation
    recent: int  # changed in the newest priority_days (at least, when not `recent_complete`)
    recent_complete: bool
    companies: int
    agents: int
    requests: int  # the plan's own


@dataclass(frozen=True)
class Estimate:
    requests: int
    loads: int
    first_load_requests: int  # after which the newest priority_days are queryable
    report_days: int


def estimate(found: Found, settings: Mapping[str, Any], start: date | None) -> Estimate:
    """The first sync's requests, counted as the source makes them."""
    per_row = 2 if settings["conversation_details"] else 1
    per_load = int(settings["conversations_per_load"]) or 10**12
    default = found.today - timedelta(days=DEFAULT_REPORT_HISTORY_DAYS)  # reports.report_floor
    floor = start or (max(default, found.first_created) if found.first_created else default)
    report_days = (found.today - floor).days + 1
    recent_days = min(report_days, int(settings["priority_days"]) + 1)
    # the listing reads conversations changed since the start: at least those created since
    conversations = max(found.conversations, found.recent)
    history = conversations - found.recent
    windows = math.ceil(history / per_load)
    loads = 1 + max(math.ceil((report_days - recent_days) / HISTORY_DAYS_PER_LOAD),
                    windows - 1)
    directories = DIRECTORY_LISTS + 2 + found.agents + \
        (found.companies if settings["company_details"] else 0)
    listing = _pages(found.recent) + (_pages(history) + windows - 1 if history else 0)
    first_rows = found.recent + min(history, per_load)
    first = 1 + _pages(found.recent) + (1 if history else 0) + first_rows * per_row + \
        directories + len(REPORTS) * recent_days
    total = loads + listing + conversations * per_row + directories + \
        len(REPORTS) * report_days
    return Estimate(total, loads, first, report_days)


def _pages(rows: int) -> int:
    return rows // CONVERSATIONS_PAGE_SIZE + 1


def look(client: LiveAgentClient, time: AccountTime, priority_days: int,
         start: datetime | None) -> Found:
    """The plan's requests."""
    now = client.server_now(time) or datetime.now(UTC)
    today = time.to_local_date(now)
    since = start.date().isoformat() if start else FIRST_MONTH
    months = _created(client, since, today, "month")
    first = next((bucket for bucket, count in months if count), None)
    days = _created(client, max(first, since), min(today, _month_end(first)), "day") \
        if first else []
    first_created = next((date.fromisoformat(day) for day, count in days if count), None)
    priority = now - timedelta(days=priority_days)  # the first load's part (backfill.begin)
    recent, complete = _recent(client, time, max(priority, start) if start else priority)
    return Found(today, sum(count for _, count in months), first_created, recent, complete,
                 len(client.listing("companies", "companies")),
                 len(client.listing("onlinestatus/agents", "agentsOnlineStates")),
                 client.metrics.requests)


def _created(client: LiveAgentClient, since: str, today: date, group_by: str
             ) -> list[tuple[str, int]]:
    """(bucket's first day, conversations created in it), oldest first."""
    rows = client.get("reports/performance", {
        "date_from": since, "date_to": today.isoformat(), "group_by": group_by,
        "columns": "datetime,created_tickets", "limitcount": 1000}).get("performance") or []
    return sorted((str(row["datetime"])[:10], int(row.get("created_tickets") or 0))
                  for row in rows)


def _month_end(first_day: str) -> date:
    day = date.fromisoformat(first_day)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _recent(client: LiveAgentClient, time: AccountTime, since: datetime) -> tuple[int, bool]:
    pages = client.paginate("conversations", "conversations",
                            CursorPaginator(CONVERSATIONS_PAGE_SIZE),
                            {"datechanged": f"gte:{time.render_lower_bound(since)}"})
    rows = 0
    for number, page in enumerate(pages, 1):
        rows += len(page)
        if number == RECENT_PAGES and len(page) == CONVERSATIONS_PAGE_SIZE:
            return rows, False
    return rows, True


def plan(explicit: Mapping[str, Any]) -> list[str]:
    """The plan's lines, for the source as `explicit` values and configuration set it."""
    settings = source_settings(explicit)
    time = AccountTime(settings["timezone"])
    start = parse_start_date(settings["start_date"], time)
    client = LiveAgentClient(settings["base_url"], settings["api_key"],
                             settings["requests_per_minute"], settings["request_timeout"],
                             settings["max_attempts"], max_connections=2,
                             allow_insecure_http=settings["allow_insecure_http"])
    found = look(client, time, int(settings["priority_days"]), start)
    guess = estimate(found, settings, time.to_local_date(start) if start else None)
    return lines(found, guess, settings, client.keys.per_minute)


def lines(found: Found, guess: Estimate, settings: Mapping[str, Any], per_minute: int
          ) -> list[str]:
    keys = len(api_keys(settings["api_key"]))
    rate = f"{per_minute:,}/min ({keys} key{'s' if keys > 1 else ''} at " \
        f"{settings['requests_per_minute']:g}/min)"
    priority = int(settings["priority_days"])
    recent = f"{found.recent:,}" if found.recent_complete else f"more than {found.recent:,}"
    since = f"created since {found.first_created}" if found.first_created else "none yet"
    return [
        f"liveagent-pipeline plan of a first sync of {settings['base_url']} "
        f"({found.requests} requests made to plan it):",
        f"  conversations: about {found.conversations:,} in the history ({since}), {recent} "
        f"changed in the newest {priority} days; {found.companies:,} companies, "
        f"{found.agents:,} agents; {guess.report_days} days of {len(REPORTS)} reports",
        f"  first sync: about {guess.requests:,} requests in {guess.loads} "
        f"load{'s' if guess.loads > 1 else ''}, ~{clock(guess.requests / per_minute * 60)} at "
        f"{rate}, plus normalizing and loading",
        f"  the newest {priority} days queryable after the first load: about "
        f"{guess.first_load_requests:,} requests, ~"
        f"{clock(guess.first_load_requests / per_minute * 60)}",
    ]
