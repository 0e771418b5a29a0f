"""LiveAgent API v1 source: wires the client, the resources and their incremental state."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.extract import DltResource

from .batching import EarliestChanged
from .client import LiveAgentClient
from .details import select_for_details
from .exceptions import ConfigurationError, NotFoundError
from .paginators import CursorPaginator, ShortPageOffsetPaginator
from .reports import report_resources
from .settings import (
    AGENT_ONLINE_STATUS,
    AGENTS,
    COMPANIES,
    CONVERSATION_DETAILS,
    CONVERSATION_TAGS,
    CONVERSATIONS,
    CONVERSATIONS_PAGE_SIZE,
    CUSTOMER_GROUPS,
    DEFAULT_CONVERSATIONS_PER_LOAD,
    DEFAULT_DETAILS_REFRESH_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_WORKERS,
    DEFAULT_REPORT_HISTORY_DAYS,
    DEFAULT_REPORT_LOOKBACK_DAYS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEZONE,
    KB_ENTRIES,
    KB_PAGE_SIZE,
    KNOWLEDGEBASES,
    MESSAGE_GROUPS,
    MESSAGES,
    PERFORMANCE_GROUP_BY,
    SUGGESTION_CATEGORIES,
    TAGS,
    Table,
)
from .transforms import (
    UTC,
    AccountTime,
    Row,
    agent_row,
    column_hints,
    company_row,
    conversation_tags,
    convert,
    dedup_columns,
    message_rows,
    online_status_row,
    parse_start_date,
)

log = logging.getLogger(__name__)

# resources of the conversation family share the conversations' incremental state, so they
# are always selected together (see pipelines/liveagent_pipeline.py)
CONVERSATION_FAMILY = ("conversations", "conversation_tags", "message_groups", "messages")
# feed other resources and load no table of their own
INTERNAL_RESOURCES = ("company_list", "agent_list", "conversation_messages")
_DELETE_INSERT: Any = {"disposition": "merge", "strategy": "delete-insert"}


def _merge_hints(table: Table) -> dict[str, Any]:
    return {"name": table.name, "primary_key": table.primary_key, "write_disposition": "merge",
            "columns": column_hints(table)}


def _newest_wins(table: Table, cursor: str) -> dict[str, Any]:
    """Merge hints where, of two rows with one key in a load, the later `cursor` is kept."""
    hints = _merge_hints(table)
    hints["columns"][cursor]["dedup_sort"] = "desc"
    return hints


def _rewritten_per_conversation(table: Table) -> dict[str, Any]:
    """Hints of a table whose rows are replaced whenever their conversation is read."""
    return {"primary_key": table.primary_key, "merge_key": "conversationid",
            "write_disposition": _DELETE_INSERT, "columns": column_hints(table)}


# -- conversations and what hangs off them ---------------------------------------------------
@dlt.resource(**_newest_wins(CONVERSATIONS, "datechanged"))
def conversations(
    client: LiveAgentClient, time: AccountTime, per_load: int,
    datechanged: dlt.sources.incremental[datetime] = dlt.sources.incremental("datechanged"),
) -> Iterator[list[Row]]:
    """Conversations changed since the last run; the API is asked with `gte:` on the last
    high-water mark, and rows re-read at that boundary are dropped unless they changed.

    At most `per_load` conversations (the earliest changed, with all that share the last
    second) go into one load, so a long backfill commits in chunks; the resource state says
    whether more are pending. The listing that finds more than one load's worth also notes
    where each following load ends (`cuts`), so those loads list only their own rows
    (`btw:`) instead of every remaining change again; changes made meanwhile land after the
    last cut and are read by the open listing that ends the backfill."""
    state = dlt.current.resource_state()
    low, high = datechanged.start_value, datechanged.end_value
    chunked = per_load > 0 and high is None  # a backfill to an end date keeps no state
    cuts = [datetime.fromisoformat(cut) for cut in state.get("cuts", [])] if chunked else []
    windowed = bool(cuts)
    if windowed:
        high = cuts[0] + timedelta(seconds=1)
    params = {}
    if low is not None and high is not None:
        bound = high - timedelta(seconds=1)  # end_value is exclusive, btw is inclusive
        params["datechanged"] = (f"btw:{time.render_lower_bound(low)},"
                                 f"{time.render_upper_bound(bound)}")
    elif low is not None:
        params["datechanged"] = f"gte:{time.render_lower_bound(low)}"
    pages = client.paginate("conversations", "conversations",
                            CursorPaginator(CONVERSATIONS_PAGE_SIZE), params)
    rows = (convert(raw, CONVERSATIONS, time) for page in pages for raw in page)
    batch = EarliestChanged(per_load if chunked else 0, floor=low)
    for row in rows:
        full = batch.add(row)
        if full:
            yield full
    last_pages = batch.finish()  # decides whether rows are left for the next load
    if windowed and not batch.truncated:
        cuts = cuts[1:]  # this window is done; the open listing comes after the last cut
    elif not windowed and batch.truncated:
        cuts = batch.later_cuts(max(row["datechanged"] for row in last_pages[-1]))
    if chunked:
        state["cuts"] = [cut.isoformat() for cut in cuts]
    state["pending"] = windowed or batch.truncated
    yield from last_pages


@dlt.transformer(name="conversation_tags", primary_key=CONVERSATION_TAGS.primary_key,
                 merge_key="conversationid", write_disposition=_DELETE_INSERT,
                 columns={**column_hints(CONVERSATION_TAGS),
                          "deleted": {"data_type": "bool", "hard_delete": True}})
def conversation_tag_rows(page: list[Row]) -> Iterator[list[Row]]:
    """Tags from each conversation's `tags` field: no extra request."""
    yield [tag for conversation in page for tag in conversation_tags(conversation)]


def _read_gone_ok(client: LiveAgentClient, path: str) -> dict[str, Any] | None:
    """GET `path`; None when its object was deleted after it was listed (logged, not a failed
    run: the next listing no longer has it)."""
    try:
        return client.get(path)
    except NotFoundError:
        log.warning("%s was deleted after it was listed; skipped", path)
        return None


@dlt.defer
def _messages_of(conversation: Row, client: LiveAgentClient, time: AccountTime) -> list[Row]:
    """Message groups (with their messages) of one conversation; runs in dlt's worker pool."""
    conversationid = conversation["conversationid"]
    response = _read_gone_ok(client, f"conversations/{conversationid}/messages")
    if response is None:
        return []
    groups, messages = message_rows(conversationid, response.get("groups") or [], time)
    by_group: dict[str, list[Row]] = {}
    for message in messages:
        by_group.setdefault(message["messagegroupid"], []).append(message)
    return [{**group, "messages": by_group.get(group["messagegroupid"], [])} for group in groups]


@dlt.transformer(name="conversation_messages", selected=False)
def conversation_messages(page: list[Row], client: LiveAgentClient, time: AccountTime) -> Any:
    """One request per new or changed conversation, concurrently (dlt's extract workers)."""
    for conversation in page:
        yield _messages_of(conversation, client, time)


@dlt.transformer(name=MESSAGE_GROUPS.name, **_rewritten_per_conversation(MESSAGE_GROUPS))
def message_groups(groups: list[Row]) -> Iterator[list[Row]]:
    yield [{k: v for k, v in group.items() if k != "messages"} for group in groups]


@dlt.transformer(name=MESSAGES.name, **_rewritten_per_conversation(MESSAGES))
def messages(groups: list[Row]) -> Iterator[list[Row]]:
    yield [message for group in groups for message in group["messages"]]


@dlt.defer
def _details_of(conversation: Row, client: LiveAgentClient, time: AccountTime) -> list[Row]:
    detail = _read_gone_ok(client, f"conversations/{conversation['conversationid']}")
    return [] if detail is None else [convert(detail, CONVERSATION_DETAILS, time)]


@dlt.transformer(selected=False, **_merge_hints(CONVERSATION_DETAILS))
def conversation_detail_rows(page: list[Row], client: LiveAgentClient, time: AccountTime) -> Any:
    """Opt-in: GET /conversations/{id} per changed conversation, custom fields included."""
    for conversation in page:
        yield _details_of(conversation, client, time)


# -- directory-like lists --------------------------------------------------------------------
@dlt.resource(name="company_list", selected=False)
def company_list(client: LiveAgentClient) -> Iterator[list[Row]]:
    yield client.get("companies").get("companies") or []


@dlt.defer
def _company(company: Row, client: LiveAgentClient, time: AccountTime, details: bool
             ) -> list[Row]:
    detail = _read_gone_ok(client, f"companies/{company['id']}") if details else {}
    return [] if detail is None else [company_row(company, detail or None, time)]


@dlt.transformer(**_merge_hints(COMPANIES))
def companies(listed: list[Row], client: LiveAgentClient, time: AccountTime, details: bool,
              refresh_days: int) -> Any:
    """Companies new or changed in the list (the API has no change filter), with their details
    read concurrently; every company's details again every `refresh_days`."""
    state = dlt.current.resource_state()
    today = client.account_today(time)
    for company in select_for_details(listed, state, "id", today, refresh_days):
        yield _company(company, client, time, details)


@dlt.resource(**_merge_hints(KNOWLEDGEBASES))
def knowledgebases(client: LiveAgentClient, time: AccountTime) -> Iterator[list[Row]]:
    paginator = ShortPageOffsetPaginator(KB_PAGE_SIZE, "offset", "limit")
    for page in client.paginate("knowledgebase/knowledgebases", "knowledgebases", paginator):
        yield [convert(row, KNOWLEDGEBASES, time) for row in page]


@dlt.resource(**_newest_wins(KB_ENTRIES, "datechanged"))
def kb_entries(
    client: LiveAgentClient, time: AccountTime,
    datechanged: dlt.sources.incremental[datetime] = dlt.sources.incremental("datechanged"),
) -> Iterator[list[Row]]:
    """Entries changed since the last run. `date_changed` means strictly after, so the request
    starts a second before the high-water mark and the boundary is deduplicated."""
    params = {}
    if datechanged.start_value is not None:
        before = datechanged.start_value - timedelta(seconds=1)
        params["date_changed"] = time.render_lower_bound(before)
    paginator = ShortPageOffsetPaginator(KB_PAGE_SIZE, "offset", "limit")
    for page in client.paginate("knowledgebase/entries", "entries", paginator, params):
        yield [convert(row, KB_ENTRIES, time) for row in page]


def _selected(resource: DltResource, selected: bool) -> DltResource:
    resource.selected = selected
    return resource


def _simple_list(table: Table, path: str, data_key: str) -> Any:
    @dlt.resource(**_merge_hints(table))
    def rows(client: LiveAgentClient, time: AccountTime) -> Iterator[list[Row]]:
        yield [convert(row, table, time) for row in client.get(path).get(data_key) or []]

    return rows


tags = _simple_list(TAGS, "tags", "tags")
customer_groups = _simple_list(CUSTOMER_GROUPS, "customersgroups", "groups")
suggestion_categories = _simple_list(SUGGESTION_CATEGORIES, "suggestioncategories",
                                     "suggestioncategories")


# -- agents ----------------------------------------------------------------------------------
@dlt.resource(name="agent_list", selected=False)
def agent_list(client: LiveAgentClient) -> Iterator[list[Row]]:
    yield client.get("onlinestatus/agents").get("agentsOnlineStates") or []


@dlt.defer
def _agent(agent: Row, client: LiveAgentClient, time: AccountTime) -> list[Row]:
    detail = _read_gone_ok(client, f"agents/{agent['id']}")
    return [] if detail is None else [agent_row(agent, detail, time)]


@dlt.transformer(**_merge_hints(AGENTS))
def agents(listed: list[Row], client: LiveAgentClient, time: AccountTime, refresh_days: int
           ) -> Any:
    """Agents new or changed in the online-status list, with their details (`authtoken` and
    `browsercookiename` dropped on read); every agent's details again every `refresh_days`."""
    state = dlt.current.resource_state()
    chosen = select_for_details(listed, state, "id", client.account_today(time), refresh_days,
                                ignore=("onlineStatus",))  # changes all day, not agent data
    for agent in chosen:
        yield _agent(agent, client, time)


# merge, not append: a load resumed after a crash must not write a snapshot twice
@dlt.transformer(**_merge_hints(AGENT_ONLINE_STATUS))
def agent_online_status(listed: list[Row], snapshot_at: datetime) -> Iterator[list[Row]]:
    """One row per agent and run: the online status when the run started."""
    yield [online_status_row(agent, snapshot_at) for agent in listed]


# -- the source ------------------------------------------------------------------------------
# A field whose values change type is refused, never split into a variant column. Lists (a
# company's emails, custom fields) stay in their row as JSON: a merge into a table with nested
# child tables selects rows by `_dlt_id`, and a load resumed after a crash can stage the same
# rows twice (dlt-hub/dlt#3023); a table without children is deduplicated by its key instead.
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
    details_refresh_days: int = DEFAULT_DETAILS_REFRESH_DAYS,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Sequence[DltResource]:
    """Every table of a LiveAgent account. `start_date`/`end_date` are account-local dates
    (or ISO datetimes); an `end_date` makes the run a backfill that leaves incremental state
    untouched. See .dlt/config.toml for every option."""
    time = AccountTime(timezone)
    start = parse_start_date(start_date, time)
    end = parse_start_date(end_date, time, exclusive_end=True)
    if performance_group_by not in PERFORMANCE_GROUP_BY:
        raise ConfigurationError(
            f"sources.liveagent.performance_group_by must be one of "
            f"{', '.join(PERFORMANCE_GROUP_BY)}, got {performance_group_by!r}")
    client = LiveAgentClient(base_url, api_key, requests_per_minute, request_timeout,
                             max_attempts, max_connections=max_workers + 2)
    # pages, not rows, pass the incremental step: its boundary dedup costs per item
    conversations_changed = dlt.sources.incremental(
        "datechanged", initial_value=start, end_value=end,
        primary_key=dedup_columns(CONVERSATIONS))
    changed = conversations(client, time, conversations_per_load,
                            datechanged=conversations_changed)
    fetched = changed | conversation_messages(client, time)
    kb_changed = dlt.sources.incremental("datechanged", initial_value=start, end_value=end,
                                         primary_key=dedup_columns(KB_ENTRIES))
    listed_agents = agent_list(client)
    report_start = time.to_local_date(start) if start else \
        time.today() - timedelta(days=DEFAULT_REPORT_HISTORY_DAYS)
    report_end = time.to_local_date(end - timedelta(seconds=1)) if end else None
    return [
        changed,
        changed | conversation_tag_rows,
        fetched,
        fetched | message_groups,
        fetched | messages,
        _selected(changed | conversation_detail_rows(client, time), conversation_details),
        company_list(client) | companies(client, time, company_details, details_refresh_days),
        knowledgebases(client, time),
        kb_entries(client, time, datechanged=kb_changed),
        tags(client, time),
        customer_groups(client, time),
        suggestion_categories(client, time),
        listed_agents | agents(client, time, details_refresh_days),
        listed_agents | agent_online_status(snapshot_at=datetime.now(UTC).replace(microsecond=0)),
        *report_resources(client, time, report_start, report_end, report_lookback_days,
                          performance_group_by),
    ]

