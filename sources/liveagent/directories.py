"""Directory-like tables: companies, agents (and their online status), tags, customer groups,
suggestion categories, knowledge bases and their entries.

Lists without a change filter are read whole each run, and only their rows new or changed
since the last load are written; company and agent details are read only for those rows
(`details.py`). A bad row, or a detail request that kept failing, costs that row (see
rejections.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import dlt

from .deletions import every_row
from .details import new_or_changed, select_for_details
from .exceptions import AnswerError, BadRowError
from .isolation import fails_alone
from .paginators import AnchoredOffsetPaginator, CompleteOffsetPaginator, without_repeats
from .reading import Reading, ReadUnit, merge_hints, newest_wins, settle
from .rejections import RejectedRows, for_table, unit
from .settings import (
    AGENT_ONLINE_STATUS,
    AGENTS,
    COMPANIES,
    CUSTOMER_GROUPS,
    KB_ENTRIES,
    KB_PAGE_SIZE,
    KNOWLEDGEBASES,
    SUGGESTION_CATEGORIES,
    TAGS,
    Table,
)
from .transforms import (
    Rejected,
    Row,
    after_the_mark,
    agent_row,
    check_required,
    company_row,
    convert_each,
    online_status_row,
    rejected_row,
)

log = logging.getLogger(__name__)
Detailed = Callable[[Mapping[str, Any], Mapping[str, Any] | None], Row]


def _listed_with_keys(table: Table, listed: Any) -> tuple[list[Row], list[Rejected]]:
    """The list rows that carry their key, and the others as `Rejected`."""
    keyed, rejected = [], []
    for row in listed if isinstance(listed, list) else [listed]:
        try:
            check_required(row, table)
            keyed.append(row)
        except BadRowError as error:
            rejected.append(rejected_row(table.name, row, table.primary_key, error))
    return keyed, rejected


def _read_detailed(reading: Reading, table: Table, listed: Row, path: str | None,
                   combine: Detailed, check: Callable[[Row], None]) -> ReadUnit | None:
    """One list row with its details (GET `path`, unless None) as a `ReadUnit`."""
    key = str(listed["id"])
    read = ReadUnit(unit(table.name, key), [], [])
    try:
        detail = reading.get_if_exists(path, key) if path else {}
    except AnswerError as error:
        read.rejected.append(Rejected(table.name, key, str(error), listed))
        return read
    if detail is None:
        return None
    try:
        row = combine(listed, detail or None)
        check(row)
    except BadRowError as error:
        read.rejected.append(rejected_row(table.name, {**listed, **detail}, ("id",), error))
    else:
        read.rows.append(row)
    return read


@dlt.defer
def _read_detailed_deferred(reading: Reading, table: Table, listed: Row, path: str | None,
                            combine: Detailed, check: Callable[[Row], None]) -> ReadUnit | None:
    """Runs in dlt's worker pool."""
    return _read_detailed(reading, table, listed, path, combine, check)


def _fetch_details(reading: Reading, table: Table, listed: Any, path: str | None,
                   combine: Detailed, refresh_days: int, ignore: tuple[str, ...] = ()) -> Any:
    """Deferred reads of the list rows new or changed since the last run (or whose last read
    failed); for rows gone from the list, their deletion (and the end of their rejections)."""
    rows, keyless = _listed_with_keys(table, listed)
    yield ReadUnit(unit(table.name, "#"), [], keyless)
    failed = reading.rejections().open_ids(table.name)
    listed_ids = {str(row["id"]) for row in rows}
    state = dlt.current.resource_state()
    found = reading.deletions.compare(table, "id", listed_ids, state)
    recorded = {str(row["id"]): row for row in reading.deletions.rows(table, "id", found.gone)}
    for key in sorted(set(found.gone) | (set(failed) - listed_ids)):
        yield ReadUnit(unit(table.name, key), [recorded[key]] if key in recorded else [], [])
    today = reading.client.account_today(reading.time)
    check = reading.contracts.check(table)  # made here: worker threads lack dlt's context
    # the rows marked deleted that are listed again are read again, and so written unmarked
    for row in select_for_details(rows, state, "id", today, refresh_days, ignore=ignore,
                                  again={*failed, *found.back}):
        yield _read_detailed_deferred(reading, table, row, path, combine, check)


# -- companies -------------------------------------------------------------------------------
@dlt.resource(name="company_list", selected=False)
@fails_alone
def company_list(reading: Reading) -> Iterator[Any]:
    yield reading.client.listing("companies", "companies")


@dlt.transformer(name="company_fetches", selected=False)
@fails_alone  # the listing is checked here, against the loaded keys
def company_fetches(listed: Any, reading: Reading, details: bool, refresh_days: int) -> Any:
    """Companies new or changed in the list (the API has no change filter), with their details
    read concurrently; every company's details again every `refresh_days`."""
    def combine(row: Mapping[str, Any], detail: Mapping[str, Any] | None) -> Row:
        return company_row(row, detail, reading.time)

    yield from _fetch_details(reading, COMPANIES, listed, "companies" if details else None,
                              combine, refresh_days)


@dlt.transformer(**merge_hints(COMPANIES))
def companies(read: ReadUnit | None, reading: Reading) -> Iterator[Any]:
    yield from settle(reading, read)


# -- agents ----------------------------------------------------------------------------------
@dlt.resource(name="agent_list", selected=False)
@fails_alone
def agent_list(reading: Reading) -> Iterator[Any]:
    yield reading.client.listing("onlinestatus/agents", "agentsOnlineStates")


@dlt.transformer(name="agent_fetches", selected=False)
@fails_alone  # the listing is checked here, against the loaded keys
def agent_fetches(listed: Any, reading: Reading, refresh_days: int) -> Any:
    """Agents new or changed in the online-status list, with their details (`authtoken` and
    `browsercookiename` dropped on read); every agent's details again every `refresh_days`."""
    def combine(row: Mapping[str, Any], detail: Mapping[str, Any] | None) -> Row:
        return agent_row(row, detail, reading.time)

    # onlineStatus changes all day: it is not agent data
    yield from _fetch_details(reading, AGENTS, listed, "agents", combine, refresh_days,
                              ignore=("onlineStatus",))


@dlt.transformer(**merge_hints(AGENTS))
def agents(read: ReadUnit | None, reading: Reading) -> Iterator[Any]:
    yield from settle(reading, read)


# merge, not append: a load resumed after a crash must not write a snapshot twice
@dlt.transformer(**merge_hints(AGENT_ONLINE_STATUS))
def agent_online_status(listed: Any, snapshot_at: datetime) -> Iterator[list[Row]]:
    """One row per agent and run: the online status when the run started (rows without an id
    are rejected by `agents`)."""
    rows = listed if isinstance(listed, list) else [listed]
    yield [online_status_row(agent, snapshot_at) for agent in rows
           if isinstance(agent, Mapping) and agent.get("id") not in (None, "")]


# -- full lists ------------------------------------------------------------------------------
def _whole_list(reading: Reading, table: Table, raw: Any) -> Iterator[Any]:
    """A list read in full: its rows new or changed since the last load, its rejections
    settled as one unit, and the deletion of the rows it no longer has."""
    rows, rejected = convert_each(raw if isinstance(raw, list) else [raw], table, reading.time,
                                  reading.contracts.check(table))
    settled = reading.rejections().settle(unit(table.name), rejected)
    if settled:
        yield for_table(settled)
    key = table.primary_key[0]
    listed = {str(row[key]) for row in rows} | {found.key for found in rejected if found.key}
    state = dlt.current.resource_state()
    found = reading.deletions.compare(table, key, listed, state)
    changed = new_or_changed(rows, state, key)
    written = {str(row[key]) for row in changed}
    back = [row for row in rows if str(row[key]) in found.back and str(row[key]) not in written]
    # an empty list too: it creates the table on a first load and costs dlt nothing later
    yield changed + back + reading.deletions.rows(table, key, found.gone)


def _simple_list(table: Table, path: str, data_key: str) -> Any:
    @dlt.resource(**merge_hints(table))
    @fails_alone
    def rows(reading: Reading) -> Iterator[Any]:
        yield from _whole_list(reading, table, reading.client.listing(path, data_key))

    return rows


tags = _simple_list(TAGS, "tags", "tags")
customer_groups = _simple_list(CUSTOMER_GROUPS, "customersgroups", "groups")
suggestion_categories = _simple_list(SUGGESTION_CATEGORIES, "suggestioncategories",
                                     "suggestioncategories")


@dlt.resource(**merge_hints(KNOWLEDGEBASES))
@fails_alone
def knowledgebases(reading: Reading) -> Iterator[Any]:
    paginator = CompleteOffsetPaginator(KB_PAGE_SIZE)
    pages = reading.client.paginate("knowledgebase/knowledgebases", "knowledgebases", paginator)
    yield from _whole_list(reading, KNOWLEDGEBASES, [
        row for page in without_repeats(every_row(KNOWLEDGEBASES, pages)) for row in page])


@dlt.resource(**newest_wins(KB_ENTRIES, "datechanged"))
@fails_alone
def kb_entries(
    reading: Reading,
    datechanged: dlt.sources.incremental[datetime] = dlt.sources.incremental("datechanged"),
) -> Iterator[Any]:
    """Entries changed since the last run. `date_changed` means strictly after, so the request
    starts a second before the high-water mark and the boundary is deduplicated. Entries
    changed after this load's snapshot wait for the next run (as conversations do)."""
    params = {}
    reading.refuse_a_future_start(datechanged.start_value, datechanged.initial_value)
    if datechanged.start_value is not None:
        before = datechanged.start_value - timedelta(seconds=1)
        params["date_changed"] = reading.time.render_lower_bound(before)
    snapshot = reading.snapshot()
    rejections, check = reading.rejections(), reading.contracts.check(KB_ENTRIES)
    paginator = AnchoredOffsetPaginator(KB_PAGE_SIZE)
    pages = reading.client.paginate("knowledgebase/entries", "entries", paginator, params)
    end = datechanged.end_value
    for page in without_repeats(pages):
        rows, rejected = convert_each(page, KB_ENTRIES, reading.time, check)
        # rows at or past a bounded re-read's end: dlt's incremental drops them, so they
        # neither load nor end a rejection
        rows = [row for row in after_the_mark(rows, datechanged.start_value, reading.time)
                if (snapshot is None or row["datechanged"] <= snapshot)
                and (end is None or row["datechanged"] < end)]
        settled = [change for found in rejected for change in _kb_rejection(rejections, found)]
        settled += [change for row in rows
                    if rejections.has_open(unit(KB_ENTRIES.name, row["kb_entry_id"]))
                    for change in rejections.settle(unit(KB_ENTRIES.name, row["kb_entry_id"]),
                                                    [])]
        if settled:
            yield for_table(settled)
        if rows:
            yield rows


def _kb_rejection(rejections: RejectedRows, found: Rejected) -> list[Row]:
    """A rejected entry is the rejection of its own unit; the keyless ones share one, which
    nothing reads again whole (one does not end another)."""
    if found.key:
        return rejections.settle(unit(KB_ENTRIES.name, found.key), [found])
    return rejections.keep(unit(KB_ENTRIES.name, "#"), [found])


@dlt.resource(**newest_wins(KB_ENTRIES, "datechanged", resource="kb_entry_retries"))
def kb_entry_retries(reading: Reading, first_load: bool) -> Iterator[Any]:
    """Entries an earlier run rejected are read again by id until they load, by the first
    load of each run: `GET /knowledgebase/entries?entry_id=...`, a request each, at most
    `rereads.per_run` a run (least recently read first). An entry that does not change is
    never listed again by the `date_changed` filter, and its own resource's incremental
    would drop it as older than the high-water mark. An entry not in the answer leaves when
    a later run finds it missing again; a request that kept failing keeps it as it is."""
    if not first_load:
        return
    rejections, check = reading.rejections(), reading.contracts.check(KB_ENTRIES)
    for entry_id in rejections.to_reread((KB_ENTRIES.name,), reading.rereads.per_run):
        try:
            answer = reading.client.get("knowledgebase/entries", {"entry_id": entry_id})
        except AnswerError as error:
            log.warning("knowledge-base entry %s was not read again (%s); kept", entry_id, error)
            continue
        listed = answer.get("entries") or []
        found = [row for row in (listed if isinstance(listed, list) else [listed])
                 if isinstance(row, Mapping) and str(row.get("kb_entry_id")) == entry_id]
        read = unit(KB_ENTRIES.name, entry_id)
        if not found:
            changes = rejections.confirm_gone(read)
        else:
            rows, rejected = convert_each(found[:1], KB_ENTRIES, reading.time, check)
            changes = rejections.settle(read, rejected)
            if rows:
                yield rows
        if changes:
            yield for_table(changes)


@dlt.resource(**newest_wins(KB_ENTRIES, "datechanged", resource="kb_entry_deletions"))
@fails_alone
def kb_entry_deletions(reading: Reading, now: bool) -> Iterator[Any]:
    """Entries deleted outright (not through their `deleted` flag) leave the listing without a
    trace the `date_changed` filter could show: once per account day (or `now`), every entry
    is listed (a request per 500, and one that confirms the end), those no longer there are
    recorded as deleted, and those marked deleted before that are listed again are written
    again as listed. Before the first entries are loaded there is nothing to compare, and no
    request is made."""
    state = dlt.current.resource_state()
    today = reading.client.account_today(reading.time).isoformat()
    if state.get(RECONCILED_ON) == today and not now:
        return
    live, marked = reading.deletions.loaded.keys(KB_ENTRIES, "kb_entry_id")
    if not (live or marked):
        return
    pages = reading.client.paginate("knowledgebase/entries", "entries",
                                    CompleteOffsetPaginator(KB_PAGE_SIZE))
    rows = {str(row.get("kb_entry_id")): dict(row)
            for page in without_repeats(every_row(KB_ENTRIES, pages)) for row in page
            if isinstance(row, Mapping) and row.get("kb_entry_id") not in (None, "")}
    found = reading.deletions.compare(KB_ENTRIES, "kb_entry_id", rows, state)
    check = reading.contracts.check(KB_ENTRIES)

    def convert(listed: list[Row]) -> list[Row]:
        return convert_each(listed, KB_ENTRIES, reading.time, check)[0]

    yield reading.deletions.rows(KB_ENTRIES, "kb_entry_id", found.gone) + \
        reading.deletions.as_listed(KB_ENTRIES, "kb_entry_id",
                                    {key: rows[key] for key in found.back}, convert)
    state[RECONCILED_ON] = today


RECONCILED_ON = "reconciled_on"
