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
from dlt.common.exceptions import PipelineStateNotAvailable
from dlt.common.typing import TSecretStrValue, TSecretValue
from dlt.extract import DltResource

from .backfill import STATE_KEY as BACKFILL_KEY
from .business_hours import checked_business_hours
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
    messages_to_load,
)
from .deletions import DeletePolicy, Deletions
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
    kb_entry_retries,
    knowledgebases,
    suggestion_categories,
    tags,
)
from .exceptions import ConfigurationError
from .forgotten import hider_for, hiding_forgotten
from .history import OpenVersions, conversation_status_changes
from .isolation import Failures, Group, Isolation
from .labels import labels
from .privacy import Privacy, checked_privacy
from .reading import Reading, shared_map, table_variant
from .rejections import Rereads, rejected_rows, rejected_rows_hints
from .reports import ReportPlan, report_history_days, report_resources
from .settings import (
    AGENT_ONLINE_STATUS,
    DEFAULT_CONVERSATIONS_PER_LOAD,
    DEFAULT_DETAILS_REFRESH_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_DELETED_SHARE,
    DEFAULT_MAX_WORKERS,
    DEFAULT_PRIORITY_DAYS,
    DEFAULT_RECONCILE_DAYS,
    DEFAULT_REPORT_LOOKBACK_DAYS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_REREADS_PER_RUN,
    DEFAULT_SHORT_MESSAGE_READS,
    DEFAULT_TIMEZONE,
    DELETE_MODES,
    KB_ENTRIES,
    PERFORMANCE_GROUP_BY,
    REJECTED_ROWS,
    Table,
)
from .timebox import reports_reserve
from .transforms import UTC, AccountTime, dedup_columns, parse_start_date

# feed other resources and load no table of their own (`conversation_retries` and
# `conversation_reconciliation` load into the family's tables and are selected with it,
# `kb_entry_deletions` and `kb_entry_retries` with kb_entries)
INTERNAL_RESOURCES = ("company_list", "company_fetches", "agent_list", "agent_fetches",
                      "conversation_messages", "conversation_detail_fetches",
                      "conversation_retries", "conversation_reconciliation",
                      "kb_entry_deletions", "kb_entry_retries")
# resources that load into a table of another and go wherever it goes
SELECTED_WITH = {"kb_entries": ("kb_entry_deletions", "kb_entry_retries")}
# loaded with any selection of tables: `rejected_rows` exists (empty) after every run
ALWAYS_SELECTED = (REJECTED_ROWS.name,)
# tables that get a snapshot every run by design: their rows say a run happened, not that
# something changed in the account
SNAPSHOT_TABLES = (AGENT_ONLINE_STATUS.name,)
# resources whose reads fail together (isolation.py): they share state, or one feeds the
# others; every other resource is a group of its own
FAILING_TOGETHER = {
    "conversations": (*CONVERSATION_FAMILY, "conversation_messages", "conversation_details",
                      "conversation_detail_fetches"),
    "companies": ("company_list", "company_fetches", "companies"),
    "agents": ("agent_list", "agent_fetches", "agents", AGENT_ONLINE_STATUS.name),
    "kb_entries": ("kb_entries", "kb_entry_deletions"),
}
__all__ = ["ALWAYS_SELECTED", "CONVERSATION_FAMILY", "FAILING_TOGETHER", "INTERNAL_RESOURCES",
           "SELECTED_WITH", "SNAPSHOT_TABLES", "Failures", "liveagent_source"]


def _selected(resource: DltResource, selected: bool) -> DltResource:
    resource.selected = selected
    return resource


def _failure_groups(conversation_details: bool) -> list[Group]:
    """`FAILING_TOGETHER` as groups: their tables are those of their resources that load a
    table of their own (named after it); the family also owns the backfill record."""
    return [Group(name, resources,
                  tuple(r for r in resources if r not in INTERNAL_RESOURCES
                        and (conversation_details or r != "conversation_details")),
                  (BACKFILL_KEY,) if name == "conversations" else ())
            for name, resources in FAILING_TOGETHER.items()]


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


def _rereads(per_run: int, short_message_reads: int) -> Rereads:
    for name, value in (("rereads_per_run", per_run),
                        ("short_message_reads", short_message_reads)):
        if value < 1:
            raise ConfigurationError(f"sources.liveagent.{name} must be at least 1, got {value}")
    return Rereads(per_run, short_message_reads)


def _source_state() -> dict[str, Any]:
    """The source state the last load committed (read only here); empty when the source is
    built outside a pipeline, or while the active pipeline's local state cannot be read (the
    runner builds a source to check the settings before it sets such a state aside and restores
    it from the destination, and builds the one it extracts after)."""
    try:
        return dlt.current.source_state()
    except (PipelineStateNotAvailable, ValueError):  # JSON decoders' errors are ValueErrors
        return {}


# -- the source ------------------------------------------------------------------------------
@dlt.source(name="liveagent", schema_contract={"data_type": "freeze"}, max_table_nesting=0)
def liveagent_source(
    base_url: str = dlt.config.value,
    api_key: TSecretValue = dlt.secrets.value,
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
    max_deleted_share: float = DEFAULT_MAX_DELETED_SHARE,
    confirm_deletes: bool = False,
    reconcile_days: int = DEFAULT_RECONCILE_DAYS,
    reconcile: bool = False,
    history_only: bool = False,
    rereads_per_run: int = DEFAULT_REREADS_PER_RUN,
    short_message_reads: int = DEFAULT_SHORT_MESSAGE_READS,
    business_hours: dict[str, Any] | None = None,
    privacy: dict[str, Any] | None = None,
    privacy_salt: TSecretStrValue | None = None,
    metrics: RequestMetrics | None = None,
    failures: Failures | None = None,
) -> Sequence[DltResource]:
    """Every table of a LiveAgent account. `start_date`/`end_date` are account-local dates
    (or ISO datetimes); an `end_date` makes the run a backfill that leaves incremental state
    untouched. `time_budget` (seconds) bounds the history this load reads (the runner's
    time box); `history_only` makes the reports read history days only (a run's later loads,
    after its first read today's); `metrics` counts this source's requests into a run's
    counters. `business_hours` is checked here and used by the analyst layer (business_hours.py).
    `privacy` excludes or hashes columns (with the secret `privacy_salt`) before anything is
    written (privacy.py). `api_key` is one key or several (a list, or keys separated by
    commas): each gets `requests_per_minute` of its own (key_pool.py).
    With `failures`, a resource whose reads keep failing costs only its tables and
    is reported there (isolation.py); without, it fails the extract. See .dlt/config.toml for
    every option."""
    # unknown fields load as sent: dlt would read a text that looks like a datetime as UTC,
    # but LiveAgent's datetimes are in the account's zone (known ones are converted)
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
    time = AccountTime(timezone)
    start = parse_start_date(start_date, time)
    end = parse_start_date(end_date, time, exclusive_end=True)
    if deletes not in DELETE_MODES:
        raise ConfigurationError(f"sources.liveagent.deletes must be one of "
                                 f"{', '.join(DELETE_MODES)}, got {deletes!r}")
    if not 0 <= max_deleted_share <= 1:
        raise ConfigurationError(
            "sources.liveagent.max_deleted_share (env SOURCES__LIVEAGENT__MAX_DELETED_SHARE) must "
            f"be a share from 0 to 1 (0.05 is 5%), got {max_deleted_share!r}")
    if performance_group_by not in PERFORMANCE_GROUP_BY:
        raise ConfigurationError(
            f"sources.liveagent.performance_group_by must be one of "
            f"{', '.join(PERFORMANCE_GROUP_BY)}, got {performance_group_by!r}")
    rereads = _rereads(rereads_per_run, short_message_reads)
    checked_business_hours(business_hours, timezone)  # used by the analyst layer only
    private = checked_privacy(privacy, privacy_salt)
    client = LiveAgentClient(base_url, api_key, requests_per_minute, request_timeout,
                             max_attempts, max_connections=max_workers + 2,
                             check_status=_zone_check(time) if check_timezone else None,
                             metrics=metrics, allow_insecure_http=allow_insecure_http)
    now = datetime.now(UTC)
    policy = DeletePolicy(deletes, max_deleted_share, confirm_deletes)
    reading = Reading(client, time, now,
                      Deletions(policy, now.replace(microsecond=0), client.metrics),
                      isolation=Isolation(_failure_groups(conversation_details), failures, now),
                      rereads=rereads)
    pool_per_minute = client.keys.per_minute  # what the run's requests may take, all keys
    report_days = report_history_days(time_budget, pool_per_minute / 60)
    # a time-boxed run reads the closed days before the lookback as history, sized to its box
    # (the newest 30 days of nine reports, read first, took 93 s of a 60 s box at 180/min)
    report_priority = priority_days if time_budget is None else \
        min(priority_days, report_lookback_days)
    reports = ReportPlan(
        time.to_local_date(start) if start else None,
        time.to_local_date(end - timedelta(seconds=1)) if end else None,
        report_lookback_days, performance_group_by, report_priority, report_days, history_only,
        private)
    # pages, not rows, pass the incremental step: its boundary dedup costs per item
    plan = ConversationPlan(start, end, conversations_per_load, priority_days,
                            requests_per_row=2 if conversation_details else 1,
                            time_budget=time_budget,
                            requests_per_second=pool_per_minute / 60,
                            reserved_requests=reports_reserve(report_days))
    changed = conversations(reading, plan).add_map(
        announce_reads(client.metrics, conversation_details))
    fetched = changed | conversation_messages(reading).add_map(messages_to_load(reading))
    listed_agents = agent_list(reading)
    resources = [
        changed,
        changed | conversation_tag_rows(reading),
        changed | conversation_status_changes(OpenVersions()),
        fetched,
        fetched | message_groups,
        fetched | messages,
        conversation_retries_resource(reading, first_load=not history_only),
        conversation_reconciliation_resource(reading, reconcile_days, reconcile),
        _selected(changed | conversation_detail_fetches(reading)
                  | conversation_detail_rows(reading), conversation_details),
        company_list(reading) | company_fetches(reading, company_details, details_refresh_days)
        | companies(reading),
        knowledgebases(reading),
        kb_entries(reading, datechanged=_changed_since(start, end, KB_ENTRIES)),
        kb_entry_deletions(reading, reconcile),
        kb_entry_retries(reading, first_load=not history_only),
        tags(reading),
        customer_groups(reading),
        suggestion_categories(reading),
        listed_agents | agent_fetches(reading, details_refresh_days) | agents(reading),
        listed_agents | agent_online_status(snapshot_at=now.replace(microsecond=0)),
        *report_resources(reading, reports),
        labels(),
        rejected_rows(),
    ]
    # columns excluded or hashed first, then contacts `forget` forgot: hashed in every row
    # before anything is written (forgotten.py); a value privacy hashed is not hashed again
    hider = hider_for(_source_state(), privacy_salt)
    return [hiding_forgotten(_private(describe(table_variant(resource, rejected_rows_hints())),
                                      private), hider)
            for resource in resources]


def _private(resource: DltResource, privacy: Privacy) -> DltResource:
    """`resource` with the privacy step as its last step, so what it writes (to its own
    table, or routed to another, `rejected_rows` too) lacks excluded values and has hashed
    ones; its tables' excluded and hashed columns typed and described as such. (What it
    gives the transformers piped from it passes the step too: the columns they are made from
    cannot be excluded or hashed, see privacy._NEEDED.)"""
    if not privacy:
        return shared_map(resource, "_privacy", None)
    own = resource.table_name if isinstance(resource.table_name, str) else None
    return shared_map(privacy.apply_hints(resource), "_privacy", privacy.row_map(own))
