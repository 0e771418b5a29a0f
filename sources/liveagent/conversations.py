"""The conversation family: conversations, their tags, message groups and messages (and the
opt-in details). They share the conversations' incremental state, so they are selected together.

Rows a resource cannot load go to `rejected_rows` (see rejections.py) and travel down the pipe
of the resource that found them, so every transformer here first lets such pages pass by.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from time import monotonic
from typing import Any

import dlt
from dlt.extract import DltResource

from .backfill import Backfill
from .client import RequestMetrics
from .deletions import every_row
from .exceptions import AnswerError
from .isolation import fails_alone
from .paginators import CompleteCursorPaginator
from .reading import (
    Reading,
    ReadUnit,
    merge_hints,
    newest_wins,
    rewritten_per_conversation,
    settle,
    table_variant,
)
from .rejections import CONVERSATION_SCOPES, for_table, is_rejections, unit
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
    counted_groups,
    listed_groups,
    message_rows,
)
from .windows import History, Incremental, read_range

log = logging.getLogger(__name__)

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
@fails_alone
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
SHORT_READS = "short_reads"  # notes of a messages unit: its reads that fell short so far
LISTED = "listed_groups"  # ...and the message groups its listed row counted


def read_messages(reading: Reading, conversationid: str, checks: tuple[Check, Check],
                  listed: int | None) -> ConversationMessages:
    """GET /conversations/{id}/messages as rows, with the groups the listing counted
    (`listed`); a request that kept failing becomes the rejection of this conversation's
    messages; a 404 leaves `answered` None and no rejection."""
    try:
        response = reading.get_found("conversations", conversationid, "messages")
    except AnswerError as error:
        failed = Rejected(MESSAGES.name, None, f"GET conversations/{conversationid}/messages: "
                          f"{error}", None)
        return ConversationMessages(conversationid, [], [], [failed], listed=listed)
    if response is None:
        return ConversationMessages(conversationid, [], [], [], listed=listed)
    groups = response.get("groups") or []
    groups = groups if isinstance(groups, list) else [groups]
    fetched = message_rows(conversationid, groups, reading.time, *checks)
    fetched.answered, fetched.listed = counted_groups(groups), listed
    return fetched


def shortfall(fetched: ConversationMessages) -> str | None:
    """Why an answer is not all of a listed conversation's messages (None: it is): a 404, or
    fewer groups than its listed row counts."""
    path = f"GET conversations/{fetched.conversationid}/messages"
    if fetched.answered is None:
        return None if fetched.rejected else f"{path} answered 404 for a listed conversation"
    if fetched.listed is not None and fetched.answered < fetched.listed:
        return (f"{path} answered {fetched.answered} of the {fetched.listed} message groups "
                "its listed row counts (messagegroupsin + messagegroupsout)")
    return None


@dataclass
class MessagesToLoad:
    """What loads of one conversation's messages: its groups and messages (none while they
    are kept for a re-read) and the `rejected_rows` changes."""

    conversationid: str
    groups: list[Row]
    messages: list[Row]
    rejections: list[Row]


def to_load(reading: Reading, fetched: ConversationMessages) -> MessagesToLoad:
    """Messages that fall short are kept for a re-read (their unit stays in `rejected_rows`,
    nothing of them loads: the warehouse keeps what it had) until they are whole, or have
    fallen short `short_message_reads` times: then they load as LiveAgent gives them."""
    rejections, cid = reading.rejections(), fetched.conversationid
    read = unit("messages", cid)
    if not rejections.first_answer(read):  # read by the listing and by id: the first decides
        return MessagesToLoad(cid, [], [], [])
    notes = {} if fetched.listed is None else {LISTED: fetched.listed}
    if fetched.answered is None and fetched.rejected:  # the request kept failing
        return MessagesToLoad(cid, [], [], rejections.keep(read, fetched.rejected, cid, notes))
    short = shortfall(fetched)
    if short is not None:
        reads, limit = int(rejections.notes(read).get(SHORT_READS, 0)) + 1, \
            reading.rereads.short_message_reads
        if reads < limit:
            kept = Rejected(MESSAGES.name, None, f"{short}; kept, read again by the next run "
                            f"(read {reads} of {limit})", None)
            notes[SHORT_READS] = reads
            return MessagesToLoad(cid, [], [], rejections.keep(read, [kept], cid, notes))
        log.warning("%s; loaded as LiveAgent gives them after %d short reads", short, reads)
        reading.client.metrics.add_taken_short()
    return MessagesToLoad(cid, fetched.groups, fetched.messages,
                          rejections.settle(read, fetched.rejected, cid))


def messages_to_load(reading: Reading) -> Callable[[ConversationMessages], MessagesToLoad]:
    """`to_load` as a map step of `conversation_messages`: it runs in the extracting thread
    (where the source state is), once for both tables that take the result."""
    def step(fetched: ConversationMessages) -> MessagesToLoad:
        return to_load(reading, fetched)

    return step


def message_checks(reading: Reading) -> tuple[Check, Check]:
    """The type checks of groups and messages, made in the extracting thread (worker threads
    lack dlt's context, and with it the stored schema)."""
    return reading.contracts.check(MESSAGE_GROUPS), reading.contracts.check(MESSAGES)


@dlt.defer
def _messages_of(conversation: Row, reading: Reading, checks: tuple[Check, Check]
                 ) -> ConversationMessages:
    """Runs in dlt's worker pool."""
    return read_messages(reading, conversation["conversationid"], checks,
                         listed_groups(conversation))


@dlt.transformer(name="conversation_messages", selected=False)
def conversation_messages(page: list[Row], reading: Reading) -> Any:
    """One request per new or changed conversation, concurrently (dlt's extract workers)."""
    if is_rejections(page):
        return
    checks = message_checks(reading)
    for conversation in page:
        yield _messages_of(conversation, reading, checks)
    # rows whose messages an earlier run could not read are read again by conversation_retries


@dlt.transformer(name=MESSAGE_GROUPS.name, **rewritten_per_conversation(MESSAGE_GROUPS))
def message_groups(loaded: MessagesToLoad) -> Iterator[Any]:
    """The groups of one conversation; this transformer also writes its rejections."""
    if loaded.rejections:
        yield for_table(loaded.rejections)
    if loaded.groups:
        yield loaded.groups


@dlt.transformer(name=MESSAGES.name, **rewritten_per_conversation(MESSAGES))
def messages(loaded: MessagesToLoad) -> Iterator[list[Row]]:
    if loaded.messages:
        yield loaded.messages


@dlt.resource(**newest_wins(CONVERSATIONS, "datechanged", resource="conversation_retries"))
@fails_alone
def conversation_retries(reading: Reading, first_load: bool) -> Iterator[Any]:
    """Conversations an earlier run rejected (their row, or their messages) are read again by
    id until they load, by the first load of each run, at most `rereads.per_run` of them
    (least recently read first): GET /conversations/{id} for a rejected row, then its
    messages. Their rows go to the family's tables with those tables' own hints; the
    listing's incremental filter would drop them, as they are older than its high-water
    mark."""
    if not first_load:
        return
    checks = message_checks(reading)
    for conversationid in reading.rejections().conversations_to_reread(reading.rereads.per_run):
        yield from _read_again(reading, conversationid, checks)


def _read_again(reading: Reading, conversationid: str, checks: tuple[Check, Check]
                ) -> Iterator[Any]:
    """One rejected conversation read again; a 404 for it (not for its messages only: a
    conversation that answers keeps its messages kept) is LiveAgent saying it is gone."""
    rejections = reading.rejections()
    listed = rejections.notes(unit("messages", conversationid)).get(LISTED)
    row_unit = unit("conversations", conversationid)
    if rejections.has_open(row_unit):
        if not rejections.first_answer(row_unit):
            return  # the listing read it in this load
        read = _read_conversation_again(reading, conversationid)
        if read is None:
            yield from _gone(reading, conversationid)
            return
        out, row = read
        yield from out
        if row is None:
            return  # rejected again: its messages wait with it
        listed = listed_groups(row)
    fetched = read_messages(reading, conversationid, checks, listed)
    if fetched.answered is None and not fetched.rejected and \
            reading.get_found("conversations", conversationid) is None:
        yield from _gone(reading, conversationid)
        return
    yield from _as_family_tables(to_load(reading, fetched))


def _read_conversation_again(reading: Reading, conversationid: str
                             ) -> tuple[list[Any], Row | None] | None:
    """What GET /conversations/{id} loads (its row, tags and rejected_rows changes) and its
    row when it converts; None on a 404."""
    detail = reading.get_found("conversations", conversationid)
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
    if not rows:
        return out, None
    tags = conversation_tags(rows[0])
    return [*out, rows, dlt.mark.with_table_name(tags, CONVERSATION_TAGS.name)], rows[0]


def _as_family_tables(loaded: MessagesToLoad) -> Iterator[Any]:
    if loaded.rejections:
        yield for_table(loaded.rejections)
    for table, rows in ((MESSAGE_GROUPS, loaded.groups), (MESSAGES, loaded.messages)):
        if rows:
            yield dlt.mark.with_table_name(rows, table.name)


def _gone(reading: Reading, conversationid: str) -> Iterator[Any]:
    """LiveAgent answered 404 for the conversation: its rejections leave the table when a
    later run hears that again (`RejectedRows.confirm_gone`)."""
    rejections = reading.rejections()
    settled = [row for scope in CONVERSATION_SCOPES
               for row in rejections.confirm_gone(unit(scope, conversationid))]
    if settled:
        yield for_table(settled)
    else:
        log.warning("conversation %s answered 404 once; kept in rejected_rows until a later "
                    "run hears it again", conversationid)


def _forget(reading: Reading, conversationid: str) -> Iterator[Any]:
    """The conversation is gone from LiveAgent: its rejections leave the table."""
    rejections = reading.rejections()
    settled = [row for scope in CONVERSATION_SCOPES
               for row in rejections.settle(unit(scope, conversationid), [])]
    if settled:
        yield for_table(settled)


def conversation_retries_resource(reading: Reading, first_load: bool) -> DltResource:
    """`conversation_retries` with the hints of the family tables it writes besides its own."""
    resource = conversation_retries(reading, first_load)
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
@fails_alone
def conversation_reconciliation(reading: Reading, every_days: int, now: bool) -> Iterator[Any]:
    """Conversations purged from LiveAgent's trash leave the listing without a trace a change
    filter could show. Every `every_days` (or `now`), every conversation is listed (cursor
    paging, a request per 1,000: 1M conversations cost 1,001 requests, about 6 minutes at
    180/min), and the conversations loaded before that are no longer listed are recorded as
    deleted with their tags, message groups, messages and details; those marked deleted
    before that are listed again are written again unmarked. Nothing is recorded unless the
    listing completed and is plausible (deletions.py); a run that fails before its load
    repeats the reconciliation."""
    state = dlt.current.resource_state()
    today = reading.client.account_today(reading.time)
    last = state.get(RECONCILED_ON)
    if not now and last is not None and \
            date.fromisoformat(last) > today - timedelta(days=every_days):
        return
    live, marked = reading.deletions.loaded.keys(CONVERSATIONS, "conversationid")
    if live or marked:
        listed, back = _every_conversation(reading, keep=marked)
        found = reading.deletions.compare(CONVERSATIONS, "conversationid", listed, state)
        for start in range(0, len(found.gone), RECONCILE_BATCH):
            yield from _record_deleted(reading, found.gone[start:start + RECONCILE_BATCH])
        for start in range(0, len(found.back), RECONCILE_BATCH):
            batch = found.back[start:start + RECONCILE_BATCH]
            yield from _record_back(reading, {key: back[key] for key in batch})
    state[RECONCILED_ON] = today.isoformat()


RECONCILE_BATCH = 500


def _every_conversation(reading: Reading, keep: set[str]) -> tuple[set[str], dict[str, Row]]:
    """The ids of every conversation LiveAgent lists, and the rows of those in `keep` (only
    those: a million listed rows would not fit in memory)."""
    pages = reading.client.paginate(
        "conversations", "conversations",
        CompleteCursorPaginator(CONVERSATIONS_PAGE_SIZE, "conversationid"))
    listed: set[str] = set()
    kept: dict[str, Row] = {}
    for page in every_row(CONVERSATIONS, pages):
        for row in page:
            key = str(row.get("conversationid") or "") if isinstance(row, Mapping) else ""
            if key:
                listed.add(key)
                if key in keep:
                    kept[key] = dict(row)
    return listed, kept


def _record_deleted(reading: Reading, gone: list[str]) -> Iterator[Any]:
    deletions = reading.deletions
    yield deletions.rows(CONVERSATIONS, "conversationid", gone)
    for table in (CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES, CONVERSATION_DETAILS):
        rows = deletions.rows(table, "conversationid", gone, _REMOVAL_KEYS.get(table.name))
        if rows:
            yield dlt.mark.with_table_name(rows, table.name)
    for conversationid in gone:
        yield from _forget(reading, conversationid)


def _record_back(reading: Reading, listed: dict[str, Row]) -> Iterator[Any]:
    """Conversations marked deleted that are listed again: their row as listed, the rows of
    the tables rewritten per conversation as loaded, all without the mark."""
    deletions, check = reading.deletions, reading.contracts.check(CONVERSATIONS)

    def convert(rows: list[Row]) -> list[Row]:
        return convert_each(rows, CONVERSATIONS, reading.time, check)[0]

    yield deletions.as_listed(CONVERSATIONS, "conversationid", listed, convert)
    for table in (CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES, CONVERSATION_DETAILS):
        rows = deletions.restored(table, "conversationid", list(listed))
        if rows:
            yield dlt.mark.with_table_name(rows, table.name)


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
