"""LiveAgent API v1 source: wires the client and the resources.

The resources live in `conversations.py` (the conversation family), `directories.py`
(companies, agents, lists, knowledge base) and `reports.py`; what they share in
`reading.py`; rows kept out of their tables in `rejections.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.extract import DltResource

from .client import LiveAgentClient, RequestMetrics
from .conversations import (
    CONVERSATION_FAMILY,
    ConversationPlan,
    announce_reads,
    conversation_detail_fetches,
    conversation_detail_rows,
    conversation_messages,
    conversation_reconciliation_resource,
    conversation_retries_resource,
    conversation_tag_rows,
    conversations,
    message_groups,
    messages,
)
from .deletions import Deletions
from .dictionary import describe
from .directories import (
    agent_fetches,
    agent_list,
    agent_online_status,
    agents,
    companies,
    company_fetches,
    company_list,
    customer_groups,
    kb_entries,
    kb_entry_deletions,
    knowledgebases,
    suggestion_categories,
    tags,
)
from .exceptions import ConfigurationError
from .history import OpenVersions, conversation_status_changes
from .labels import labels
from .reading import Reading, table_variant
from .rejections import rejected_rows_hints
from .reports import ReportPlan, report_history_days, report_resources
from .settings import (
    AGENT_ONLINE_STATUS,
    DEFAULT_CONVERSATIONS_PER_LOAD,
    DEFAULT_DETAILS_REFRESH_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_WORKERS,
    DEFAULT_PRIORITY_DAYS,
    DEFAULT_RECONCILE_DAYS,
    DEFAULT_REPORT_LOOKBACK_DAYS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEZONE,
    DELETE_MODES,
    KB_ENTRIES,
    PERFORMANCE_GROUP_BY,
    REPORTS,
    Table,
)
from .transforms import UTC, AccountTime, dedup_columns, parse_start_date

# feed other resources and load no table of their own (`conversation_retries` and
# `conversation_reconciliation` load into the family's tables and are selected with it,
# `kb_entry_deletions` with kb_entries)
INTERNAL_RESOURCES = ("company_list", "company_fetches", "agent_list", "agent_fetches",
                      "conversation_messages", "conversation_detail_fetches",
                      "conversation_retries", "conversation_reconciliation",
                      "kb_entry_deletions")
# resources that load into a table of another and go wherever it goes
SELECTED_WITH = {"kb_entries": ("kb_entry_deletions",)}
# tables that get a snapshot every run by design: their rows say a run happened, not that
# something changed in the account
SNAPSHOT_TABLES = (AGENT_ONLINE_STATUS.name,)
__all__ = ["CONVERSATION_FAMILY", "INTERNAL_RESOURCES", "SELECTED_WITH", "SNAPSHOT_TABLES",
           "liveagent_source"]


def _selected(resource: DltResource, selected: bool) -> DltResource:
    resource.selected = selected
    return resource


def _zone_check(time: AccountTime) -> Callable[[dict[str, Any]], None]:
    """Refuses a configured time zone the account's clock contradicts: with a wrong zone every
    timestamp would load hours off, silently."""
    def check(status: dict[str, Any]) -> None:
        problem = time.zone_mismatch(status.get("current_server_time"), datetime.now(UTC))
        if problem:
            raise ConfigurationError(problem)

    return check


def _changed_since(start: datetime | None, end: datetime | None, table: Table
                   ) -> dlt.sources.incremental[datetime]:
    """The incremental of a listing by change time. Rows without the cursor pass: those are
    the `rejected_rows` rows the listing found (a row without `datechanged` is one of them)."""
    return dlt.sources.incremental("datechanged", initial_value=start, end_value=end,
                                   primary_key=dedup_columns(table),
                                   on_cursor_value_missing="include")


# -- the source ------------------------------------------------------------------------------
@dlt.source(name="liveagent", schema_contract={"data_type": "freeze"}, max_table_nesting=0)
def liveagent_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    timezone: str = DEFAULT_TIMEZONE,
    start_date: str | None = None,
    end_date: str | None = None,
    requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
    max_workers: int = DEFAULT_MAX_WORKERS,
    report_lookback_days: int = DEFAULT_REPORT_LOOKBACK_DAYS,
    performance_group_by: str = "day",
    company_details: bool = True,
    conversation_details: bool = False,
    conversations_per_load: int = DEFAULT_CONVERSATIONS_PER_LOAD,
    priority_days: int = DEFAULT_PRIORITY_DAYS,
    time_budget: float | None = None,
    details_refresh_days: int = DEFAULT_DETAILS_REFRESH_DAYS,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    check_timezone: bool = True,
    allow_insecure_http: bool = False,
    deletes: str = "mark",
    reconcile_days: int = DEFAULT_RECONCILE_DAYS,
    reconcile: bool = False,
    history_only: bool = False,
    metrics: RequestMetrics | None = None,
) -> Sequence[DltResource]:
    """Every table of a LiveAgent account. `start_date`/`end_date` are account-local dates
    (or ISO datetimes); an `end_date` makes the run a backfill that leaves incremental state
    untouched. `time_budget` (seconds) bounds the history this load reads (the runner's
    time box); `history_only` makes the reports read history days only (a run's later loads,
    after its first read today's); `metrics` counts this source's requests into a run's
    counters. See .dlt/config.toml for every option."""
    # unknown fields load as sent: dlt would read a text that looks like a datetime as UTC,
    # but LiveAgent's datetimes are in the account's zone (known ones are converted)
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
    time = AccountTime(timezone)
    start = parse_start_date(start_date, time)
    end = parse_start_date(end_date, time, exclusive_end=True)
    if deletes not in DELETE_MODES:
        raise ConfigurationError(f"sources.liveagent.deletes must be one of "
                                 f"{', '.join(DELETE_MODES)}, got {deletes!r}")
    if performance_group_by not in PERFORMANCE_GROUP_BY:
        raise ConfigurationError(
            f"sources.liveagent.performance_group_by must be one of "
            f"{', '.join(PERFORMANCE_GROUP_BY)}, got {performance_group_by!r}")
    client = LiveAgentClient(base_url, api_key, requests_per_minute, request_timeout,
                             max_attempts, max_connections=max_workers + 2,
                             check_status=_zone_check(time) if check_timezone else None,
                             metrics=metrics, allow_insecure_http=allow_insecure_http)
    now = datetime.now(UTC)
    reading = Reading(client, time, now, Deletions(deletes, now.replace(microsecond=0),
                                                   count_markers=client.metrics.add_delete_markers))
    report_days = report_history_days(time_budget, requests_per_minute / 60)
    reports = ReportPlan(
        time.to_local_date(start) if start else None,
        time.to_local_date(end - timedelta(seconds=1)) if end else None,
        report_lookback_days, performance_group_by, priority_days, report_days, history_only)
    # pages, not rows, pass the incremental step: its boundary dedup costs per item
    plan = ConversationPlan(start, end, conversations_per_load, priority_days,
                            requests_per_row=2 if conversation_details else 1,
                            time_budget=time_budget,
                            requests_per_second=requests_per_minute / 60,
                            reserved_requests=len(REPORTS) * (report_days + 1))
    changed = conversations(reading, plan).add_map(
        announce_reads(client.metrics, conversation_details))
    fetched = changed | conversation_messages(reading)
    listed_agents = agent_list(reading)
    resources = [
        changed,
        changed | conversation_tag_rows(reading),
        changed | conversation_status_changes(OpenVersions()),
        fetched,
        fetched | message_groups(reading),
        fetched | messages,
        conversation_retries_resource(reading),
        conversation_reconciliation_resource(reading, reconcile_days, reconcile),
        _selected(changed | conversation_detail_fetches(reading)
                  | conversation_detail_rows(reading), conversation_details),
        company_list(reading) | company_fetches(reading, company_details, details_refresh_days)
        | companies(reading),
        knowledgebases(reading),
        kb_entries(reading, datechanged=_changed_since(start, end, KB_ENTRIES)),
        kb_entry_deletions(reading, reconcile),
        tags(reading),
        customer_groups(reading),
        suggestion_categories(reading),
        listed_agents | agent_fetches(reading, details_refresh_days) | agents(reading),
        listed_agents | agent_online_status(snapshot_at=now.replace(microsecond=0)),
        *report_resources(reading, reports),
        labels(),
    ]
    return [describe(table_variant(resource, rejected_rows_hints())) for resource in resources]
