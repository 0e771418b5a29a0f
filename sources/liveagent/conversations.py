"""The conversation family: conversations, their tags, message groups and messages (and the
opt-in details). They share the conversations' incremental state, so they are selected together.

Rows a resource cannot load go to `rejected_rows` (see rejections.py) and travel down the pipe
of the resource that found them, so every transformer here first lets such pages pass by.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from time import monotonic
from typing import Any

import dlt
from dlt.extract import DltResource

from .backfill import Backfill
from .client import RequestMetrics
from .exceptions import AnswerError
from .paginators import CursorPaginator
from .reading import (
    Reading,
    ReadUnit,
    merge_hints,
    newest_wins,
    rewritten_per_conversation,
    settle,
    table_variant,
)
from .rejections import for_table, is_rejections, unit
from .settings import (
    CONVERSATION_DETAILS,
    CONVERSATION_TAGS,
    CONVERSATIONS,
    CONVERSATIONS_PAGE_SIZE,
    MESSAGE_GROUPS,
    MESSAGES,
)
from .timebox import conversation_rows_in
from .transforms import (
    ConversationMessages,
    Rejected,
    Row,
    conversation_tags,
    convert_each,
    message_rows,
)
from .windows import History, Incremental, read_range

# resources of the family; `conversation_retries` reads again what earlier loads rejected,
# `conversation_reconciliation` finds purged conversations
CONVERSATION_FAMILY = ("conversations", "conversation_tags", "message_groups", "messages",
                       "conversation_retries", "conversation_reconciliation",
                       "conversation_status_history")


@dataclass(frozen=True)
class ConversationPlan:
    """What one load of the conversation family may do."""

    start: datetime | None  # the start date (history goes down to it)
    end: datetime | None  # an end date: a bounded re-read that leaves the backfill as it is
    per_load: int  # conversations per load (catch-up chunks and history windows); 0: no limit
    priority_days: int  # the first load reads this many days back; history follows
    requests_per_row: int = 1  # requests per conversation beyond the listing (messages, ...)
    time_budget: float | None = None  # seconds this load may take (time-boxed runs)
    requests_per_second: float = 3.0  # the client's limit, to turn the time budget into rows
    reserved_requests: int = 0  # of the time budget, what the other tables' reads need


@dlt.resource(**newest_wins(CONVERSATIONS, "datechanged"))
def conversations(reading: Reading, plan: ConversationPlan) -> Iterator[Any]:
    """Conversations changed since the high-water mark (the incremental part), then, once that
    has caught up, at most one window of history, newest first (see backfill.py).

    The incremental part asks `gte:` the high-water mark; rows read again at that second are
    dropped unless they changed. Rows changed after this load's snapshot (the account's clock
    at its first request) wait for the next load, so the mark never passes a change a listing
    still under way could have missed. At most `per_load` conversations (the earliest changed,
    with all that share the last second) go into one load; the listing that finds more notes
    where each following load ends (`catch_up`), so those loads list only their own rows."""
    if plan.end is not None:  # a bounded re-read keeps no state
        yield from read_range(reading, plan.start, plan.end)
        reading.client.metrics.finish_listing()
        return
    state = dlt.current.source_state()
    backfill = Backfill.of(state)
    started = monotonic()
    snapshot = reading.snapshot()
    if not backfill.started:
        begin(backfill, plan, snapshot, reading)
    reading.refuse_a_future_start(backfill.high_water_time(), None)
    incremental = Incremental(reading, backfill, plan, snapshot)
    yield from incremental.read()
    if not backfill.catching_up and backfill.history_left:
        budget = _history_rows(plan, started, len(incremental.ids))
        if budget > 0:
            yield from History(reading, backfill, plan, skip=incremental.ids).read(budget)
    backfill.save(state)
    reading.client.metrics.finish_listing()


def begin(backfill: Backfill, plan: ConversationPlan, snapshot: datetime | None,
          reading: Reading) -> None:
    """The first load on a target: the incremental part starts `priority_days` back (or at
    the start date, if later); the history below it is read later, newest first."""
    reading.refuse_a_future_start(plan.start, plan.start)
    now = snapshot or datetime.now(timezone.utc)
    priority = now - timedelta(days=plan.priority_days)
    if plan.start is not None and plan.start >= priority:
        backfill.high_water = plan.start.isoformat()
        return
    backfill.high_water = priority.isoformat()
    backfill.history_to = priority.isoformat()
    backfill.history_from = None if plan.start is None else plan.start.isoformat()


def _history_rows(plan: ConversationPlan, started: float, incremental_rows: int) -> int:
    """How many history conversations fit this load: `per_load`, or what the time budget
    leaves after the incremental part's and the reports' requests (timebox.py)."""
    if plan.time_budget is None:
        return plan.per_load or 10**12
    return conversation_rows_in(
        plan.time_budget - (monotonic() - started), plan.requests_per_second,
        plan.requests_per_row, plan.per_load,
        plan.reserved_requests + incremental_rows * plan.requests_per_row)


@dlt.transformer(name="conversation_tags", **rewritten_per_conversation(CONVERSATION_TAGS))
def conversation_tag_rows(page: list[Row], reading: Reading) -> Iterator[list[Row]]:
    """Tags from each conversation's `tags` field: no extra request. A conversation without
    tags sends a row that only deletes its old ones (counted apart: it is no table row)."""
    if not is_rejections(page):
        rows = [tag for conversation in page for tag in conversation_tags(conversation)]
        reading.client.metrics.add_delete_markers(
            CONVERSATION_TAGS.name, sum(1 for row in rows if row.get("deleted")))
        yield rows


Check = Callable[[Row], None]


def read_messages(reading: Reading, conversationid: str, checks: tuple[Check, Check]
                  ) -> ConversationMessages | None:
    """GET /conversations/{id}/messages as rows; a request that kept failing becomes the
    rejection of this conversation's messages; None when the conversation is gone."""
    try:
        response = reading.get_if_exists("conversations", conversationid, "messages")
    except AnswerError as error:
        failed = Rejected(MESSAGES.name, None, f"GET conversations/{conversationid}/messages: "
                          f"{error}", None)
        return ConversationMessages(conversationid, [], [], [failed])
    if response is None:
        return None
    groups = response.get("groups") or []
    return message_rows(conversationid, groups if isinstance(groups, list) else [groups],
                        reading.time, *checks)


def message_checks(reading: Reading) -> tuple[Check, Check]:
    """The type checks of groups and messages, made in the extracting thread (worker threads
    lack dlt's context, and with it the stored schema)."""
    return reading.contracts.check(MESSAGE_GROUPS), reading.contracts.check(MESSAGES)


@dlt.defer
def _messages_of(conversationid: str, reading: Reading, checks: tuple[Check, Check]
                 ) -> ConversationMessages | None:
    """Runs in dlt's worker pool."""
    return read_messages(reading, conversationid, checks)


@dlt.transformer(name="conversation_messages", selected=False)
def conversation_messages(page: list[Row], reading: Reading) -> Any:
    """One request per new or changed conversation, concurrently (dlt's extract workers)."""
    if is_rejections(page):
        return
    checks = message_checks(reading)
    for conversation in page:
        yield _messages_of(conversation["conversationid"], reading, checks)
    # rows whose messages an earlier run could not read are read again by conversation_retries


def settled_messages(reading: Reading, fetched: ConversationMessages) -> list[Row]:
    """`rejected_rows` rows after a conversation's messages were read (or failed again)."""
    return reading.rejections().settle(unit("messages", fetched.conversationid),
                                       fetched.rejected, conversationid=fetched.conversationid)


@dlt.transformer(name=MESSAGE_GROUPS.name, **rewritten_per_conversation(MESSAGE_GROUPS))
def message_groups(fetched: ConversationMessages | None, reading: Reading) -> Iterator[Any]:
    """The groups of one conversation; this transformer also settles its rejections."""
    if fetched is None:
        return
    settled = settled_messages(reading, fetched)
    if settled:
        yield for_table(settled)
    if fetched.groups:
        yield fetched.groups


@dlt.transformer(name=MESSAGES.name, **rewritten_per_conversation(MESSAGES))
def messages(fetched: ConversationMessages | None) -> Iterator[list[Row]]:
    if fetched is not None and fetched.messages:
        yield fetched.messages


@dlt.resource(**newest_wins(CONVERSATIONS, "datechanged", resource="conversation_retries"))
def conversation_retries(reading: Reading) -> Iterator[Any]:
    """Conversations an earlier run rejected (their row, or their messages) are read again by
    id until they load: GET /conversations/{id}, then its messages. Their rows go to the
    family's tables with those tables' own hints; the listing's incremental filter would drop
    them, as they are older than its high-water mark."""
    rejections = reading.rejections()
    for conversationid in rejections.conversations_to_reread():
        if rejections.has_open(unit("conversations", conversationid)):
            row = _read_conversation_again(reading, conversationid)
            if row is None:
                yield from _forget(reading, conversationid)
                continue
            yield from row
        fetched = read_messages(reading, conversationid, message_checks(reading))
        if fetched is None:
            yield from _forget(reading, conversationid)
            continue
        yield from _as_family_tables(reading, fetched)


def _read_conversation_again(reading: Reading, conversationid: str) -> list[Any] | None:
    detail = reading.get_if_exists("conversations", conversationid)
    if detail is None:
        return None
    listed = {k: v for k, v in detail.items()
              if k not in CONVERSATION_DETAILS.fields or k in CONVERSATIONS.fields}
    listed.pop("customfields", None)
    rows, rejected = convert_each([listed], CONVERSATIONS, reading.time,
                                  reading.contracts.check(CONVERSATIONS))
    settled = reading.rejections().settle(unit("conversations", conversationid), rejected,
                                          conversationid=conversationid)
    out: list[Any] = [for_table(settled)] if settled else []
    if rows:
        tags = conversation_tags(rows[0])
        out += [rows, dlt.mark.with_table_name(tags, CONVERSATION_TAGS.name)]
    return out


def _as_family_tables(reading: Reading, fetched: ConversationMessages) -> Iterator[Any]:
    settled = settled_messages(reading, fetched)
    if settled:
        yield for_table(settled)
    for table, rows in ((MESSAGE_GROUPS, fetched.groups), (MESSAGES, fetched.messages)):
        if rows:
            yield dlt.mark.with_table_name(rows, table.name)


def _forget(reading: Reading, conversationid: str) -> Iterator[Any]:
    """The conversation is gone from LiveAgent: its rejections leave the table."""
    rejections = reading.rejections()
    settled = [row for scope in ("conversations", "messages")
               for row in rejections.settle(unit(scope, conversationid), [])]
    if settled:
        yield for_table(settled)


def conversation_retries_resource(reading: Reading) -> DltResource:
    """`conversation_retries` with the hints of the family tables it writes besides its own."""
    resource = conversation_retries(reading)
    for table in (CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES):
        table_variant(resource, rewritten_per_conversation(table))
    return resource


@dlt.defer
def _details_of(conversationid: str, reading: Reading, check: Check) -> ReadUnit | None:
    read = ReadUnit(unit("conversation_details", conversationid), [], [], conversationid)
    try:
        detail = reading.get_if_exists("conversations", conversationid)
    except AnswerError as error:
        read.rejected.append(Rejected(CONVERSATION_DETAILS.name, conversationid, str(error), None))
        return read
    if detail is None:
        return None
    read.rows, read.rejected = convert_each([detail], CONVERSATION_DETAILS, reading.time, check)
    return read


@dlt.transformer(name="conversation_detail_fetches", selected=False)
def conversation_detail_fetches(page: list[Row], reading: Reading) -> Any:
    """Opt-in: GET /conversations/{id} per changed conversation, custom fields included."""
    if is_rejections(page):
        return
    check = reading.contracts.check(CONVERSATION_DETAILS)
    for conversation in page:
        yield _details_of(conversation["conversationid"], reading, check)


@dlt.transformer(**merge_hints(CONVERSATION_DETAILS))
def conversation_detail_rows(read: ReadUnit | None, reading: Reading) -> Iterator[Any]:
    yield from settle(reading, read)


# the other key parts a row that removes a conversation's rows needs (deletes = "remove")
_REMOVAL_KEYS = {CONVERSATION_TAGS.name: {"tag_id": ""},
                 MESSAGE_GROUPS.name: {"messagegroupid": ""}, MESSAGES.name: {"messageid": ""}}
RECONCILED_ON = "reconciled_on"


@dlt.resource(**newest_wins(CONVERSATIONS, "datechanged", resource="conversation_reconciliation"))
def conversation_reconciliation(reading: Reading, every_days: int, now: bool) -> Iterator[Any]:
    """Conversations purged from LiveAgent's trash leave the listing without a trace a change
    filter could show. Every `every_days` (or `now`), every conversation id is listed (cursor
    paging, a request per 1,000: 1M conversations cost 1,000 requests, about 6 minutes at
    180/min), and the conversations loaded before that are no longer listed are recorded as
    deleted with their tags, message groups, messages and details. Nothing is recorded unless
    the listing completed; a run that fails before its load repeats the reconciliation."""
    state = dlt.current.resource_state()
    today = reading.client.account_today(reading.time)
    last = state.get(RECONCILED_ON)
    if not now and last is not None and \
            date.fromisoformat(last) > today - timedelta(days=every_days):
        return
    if reading.deletions.loaded.live_keys(CONVERSATIONS, "conversationid"):
        pages = reading.client.paginate("conversations", "conversations",
                                        CursorPaginator(CONVERSATIONS_PAGE_SIZE))
        listed = {str(row["conversationid"]) for page in pages for row in page
                  if isinstance(row, Mapping) and row.get("conversationid")}
        gone = reading.deletions.gone(CONVERSATIONS, "conversationid", listed)
        for start in range(0, len(gone), RECONCILE_BATCH):
            yield from _record_deleted(reading, gone[start:start + RECONCILE_BATCH])
    state[RECONCILED_ON] = today.isoformat()


RECONCILE_BATCH = 500


def _record_deleted(reading: Reading, gone: list[str]) -> Iterator[Any]:
    deletions = reading.deletions
    yield deletions.rows(CONVERSATIONS, "conversationid", gone)
    for table in (CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES, CONVERSATION_DETAILS):
        rows = deletions.rows(table, "conversationid", gone, _REMOVAL_KEYS.get(table.name))
        if rows:
            yield dlt.mark.with_table_name(rows, table.name)
    for conversationid in gone:
        yield from _forget(reading, conversationid)


def conversation_reconciliation_resource(reading: Reading, every_days: int, now: bool
                                         ) -> DltResource:
    """`conversation_reconciliation` with the hints of the family tables it writes."""
    resource = conversation_reconciliation(reading, every_days, now)
    for table in (CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES):
        table_variant(resource, rewritten_per_conversation(table))
    details = merge_hints(CONVERSATION_DETAILS)
    details.pop("name")
    return table_variant(resource, details)


def announce_reads(metrics: RequestMetrics, details: bool) -> Callable[[Row], Row]:
    """A map step of `conversations` (dlt maps each row of a page): each conversation it
    yields is planned as the requests read for it later (messages, and details when on),
    before the transformers make any of them (RequestMetrics.plan; the progress line's ETA)."""
    def announce(row: Row) -> Row:
        if not is_rejections([row]):
            metrics.plan("messages", 1)
            if details:
                metrics.plan("details", 1)
        return row

    return announce
