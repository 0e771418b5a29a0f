"""The fewest requests the API forces for a run, by the fake's path groups (`/_fake/stats`).

- probe: 1 (`GET /application/status`, which also tells the account's date)
- conversations listing: `n // 1000 + 1` pages for n new or changed conversations (the API
  sends no total, so only a short page ends the listing: an exact multiple of 1000 costs one
  empty page more), and one messages request per new or changed conversation
- directories, listed in full each run (the API has no change filter): companies, agents
  (`onlinestatus/agents`), knowledge bases and changed KB entries in pages of 500, tags,
  customer groups, suggestion categories
- details: one request per company (when `company_details` is on) and per agent that is new or
  whose list row changed, so every one on a first run; the list is the only change signal the
  API gives (an agent's `onlineStatus` changes all day and does not count)
- reports: each of the 9 report endpoints once per day not yet loaded as closed, in pages of
  1000 rows: `start_date`..today on a first run, the day after the last closed day..today
  afterwards (today is always read: it is still open). Pages are counted by reading the same
  days from the fake (`report_pages`), or taken as one per day (`one_page_per_day`) where a
  report never reaches 1000 rows a day.

- deletes (the API lists none): once per account day after KB entries were loaded, every
  entry (`kb_reconciliation`, pages of 500); and every `reconcile_days` or on demand, every
  conversation id (`conversation_ids`, pages of 1000)

Re-reads a connector does by policy (report lookback days, periodic detail refreshes) are not
forced by the API: they show up as excess, by path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from liveagent_fake.reports import REPORT_NAMES, SPECS

from .fake import FakeProcess

CONVERSATIONS_PAGE = 1000
KB_PAGE = 500
REPORT_PAGE = 1000
VOLATILE_AGENT_FIELDS = ("onlineStatus",)

Row = Mapping[str, Any]


def pages(rows: int, page_size: int) -> int:
    """Requests to list `rows` rows when only a short page ends a listing."""
    return rows // page_size + 1


@dataclass(frozen=True)
class Directories:
    """The directory lists of an account, read from the API outside the connector."""

    companies: list[Row] = field(default_factory=list)
    agents: list[Row] = field(default_factory=list)
    knowledgebases: int = 0
    kb_entries: int = 0

    @classmethod
    def of(cls, fake: FakeProcess) -> Directories:
        """Asks the fake (reset its stats afterwards: these requests are counted too)."""
        agents = fake.get("onlinestatus/agents")["agentsOnlineStates"]
        return cls(
            companies=fake.get("companies")["companies"],
            agents=[{k: v for k, v in a.items() if k not in VOLATILE_AGENT_FIELDS}
                    for a in agents],
            knowledgebases=len(fake.get("knowledgebase/knowledgebases", limit=KB_PAGE)
                               ["knowledgebases"]),
            kb_entries=len(fake.get("knowledgebase/entries", limit=KB_PAGE)["entries"]),
        )

    def changed_since(self, before: Directories | None) -> tuple[int, int]:
        """(companies, agents) new or with a changed list row; all of them without `before`."""
        if before is None:
            return len(self.companies), len(self.agents)
        return (_changed(self.companies, before.companies),
                _changed(self.agents, before.agents))

    def summary(self) -> dict[str, int]:
        return {"companies": len(self.companies), "agents": len(self.agents),
                "knowledgebases": self.knowledgebases, "kb_entries": self.kb_entries}


def _changed(rows: list[Row], before: list[Row]) -> int:
    known = {str(row["id"]): row for row in before}
    return sum(known.get(str(row["id"])) != row for row in rows)


def one_page_per_day(days: int) -> Counter[str]:
    return Counter({f"/api/reports/{name}": days for name in REPORT_NAMES})


def report_pages(fake: FakeProcess, first: date, last: date) -> Counter[str]:
    """Report requests for the days `first`..`last`, by reading them (reset the fake's stats
    afterwards); the performance report grouped by day, as the connector's default."""
    need: Counter[str] = Counter()
    day = first
    while day <= last:
        for name, spec in SPECS.items():
            rows = _report_rows(fake, name, spec.key, day)
            need[f"/api/reports/{name}"] += pages(rows, REPORT_PAGE)
        day += timedelta(days=1)
    return need


def _report_rows(fake: FakeProcess, name: str, key: str, day: date) -> int:
    params: dict[str, object] = {"date_from": day.isoformat(), "date_to": day.isoformat(),
                                 "limitcount": REPORT_PAGE}
    if name == "performance":
        params["group_by"] = "day"
    rows = 0
    while True:
        page = fake.get(f"reports/{name}", limitfrom=rows, **params)[key]
        rows += len(page)
        if len(page) < REPORT_PAGE:
            return rows


def minimal_requests(
    directories: Directories, reports: Counter[str], *, conversations: int, kb_entries: int,
    before: Directories | None = None, company_details: bool = True,
    kb_reconciliation: bool = False, conversation_ids: int | None = None,
    at_the_mark: int = 0,
) -> Counter[str]:
    """By path group: the requests a run cannot avoid that reads `conversations` new or
    changed conversations, `kb_entries` changed KB entries and the `reports` pages, after a
    run that saw the directories `before` (None: a first run); with `kb_reconciliation`, every
    KB entry listed to find deletes; with `conversation_ids`, that many conversation ids.
    `at_the_mark`: conversations last changed in the very second of the previous run's
    high-water mark. The API filters `datechanged` by whole seconds, so an incremental listing
    that cannot miss a change made later in that second lists them again (no messages)."""
    companies, agents = directories.changed_since(before)
    need: Counter[str] = Counter({
        "/api/application/status": 1,
        "/api/conversations": pages(conversations + at_the_mark, CONVERSATIONS_PAGE),
        "messages": conversations,
        "/api/companies": 1,
        "company_details": companies if company_details else 0,
        "/api/onlinestatus/agents": 1,
        "agent_details": agents,
        "/api/knowledgebase/knowledgebases": pages(directories.knowledgebases, KB_PAGE),
        "/api/knowledgebase/entries": pages(kb_entries, KB_PAGE),
        "/api/tags": 1,
        "/api/customersgroups": 1,
        "/api/suggestioncategories": 1,
    })
    if kb_reconciliation:
        need["/api/knowledgebase/entries"] += pages(directories.kb_entries, KB_PAGE)
    if conversation_ids is not None:
        need["/api/conversations"] += pages(conversation_ids, CONVERSATIONS_PAGE)
    need.update(reports)
    return +need


def difference(actual: dict[str, int], minimal: Counter[str]) -> dict[str, int]:
    """Requests made beyond (positive) or short of (negative) the minimal, by path group."""
    paths = sorted(set(actual) | set(minimal))
    return {p: actual.get(p, 0) - minimal.get(p, 0) for p in paths
            if actual.get(p, 0) != minimal.get(p, 0)}


def describe(excess: dict[str, int]) -> str:
    return ", ".join(f"{path} {n:+d}" for path, n in excess.items()) or "none"


def compact(by_path: dict[str, int]) -> str:
    """'application/status 1, ..., reports/* 9' for a table cell."""
    reports = sum(n for p, n in by_path.items() if p.startswith("/api/reports/"))
    parts = [f"{p.removeprefix('/api/')} {n}" for p, n in by_path.items()
             if not p.startswith("/api/reports/")]
    return ", ".join([*parts, f"reports/* {reports}"] if reports else parts)
