"""GET /reports/{name}: the nine documented reports, computed from the account's conversations.

Every figure is derived from the same conversations, message groups and messages that the
conversation endpoints serve, so report totals can be cross-checked against them.

Windows
    `date_from`/`date_to` are read in the account time zone in either documented format; a bare
    `date_from` is the first second of that day, a bare `date_to` its last (23:59:59). Bounds are
    inclusive: an event at `t` is in the window when `date_from <= t <= date_to`. Missing
    mandatory dates, a malformed date or `date_from` after `date_to` answer 400. Where the dates
    are optional (agentsavailability, load, slacompliance) the window defaults to the 30 days
    ending now; slacompliance then honours `datetime` (L30D = that default, TM = the start of
    this month until now, LM = the whole last month, YYYY-MM = that whole month).

Metrics (agents, channels, departments, performance, tags)
    answers            messages of type M written by an agent in groups of any type but I.
    i_messages         messages of type M written by a non-agent (the customer).
    notes              messages of type N.
    created_tickets    conversations created in the window.
    resolved_tickets   message groups of type R (resolve) created in the window.
    rewards            messages of type P; punishments: messages of type W.
    not_ranked         resolve groups in the window holding no P or W message.
    *_p                100 * x / resolved_tickets, "%.2f" ("0.00" without resolved tickets).
    chats / calls      distinct conversations of a chat (dataset.CHAT_CHANNELS) / call
                       (dataset.CALL_CHANNELS) channel with at least one answer in the window.
    chat_answers       answers in conversations of a chat channel.
    missed_chats / missed_calls  chat / call conversations created in the window that have no
                       answer at all (as of now).
    newAnswerAvgTime   mean of (first answer - created) over the conversations whose first
                       answer (Account.first_answer_at; of two on one second, the lower userid's)
                       is in the window. All means are of whole seconds, floored, "0" without
                       any.
    firstResolveAvgTime the same with the conversation's first resolve group.
    nextAnswerAvgTime  mean over the answers in the window that are not their conversation's
                       first and follow at least one customer message (type M by a non-agent)
                       since the previous answer, of (answer - the earliest of those messages).
                       Messages are ordered by time, a customer message before an answer of the
                       same second.
    *Sla               newAnswerAvgTimeSla, firstResolveAvgTimeSla, nextAnswerAvgTimeSla: the
                       same spans in business seconds, by the schedule of the conversation's
                       (current) department (Account.business_hours, see business_hours.py);
                       without a schedule they equal the calendar figures.
    chat_pickup        chat conversations whose first answer is in the window.
    chatPickupAvgTime / call_pickup_avg_time  newAnswerAvgTime of those chat / call
                       conversations only.
    chatAvgTime / call_avg_time  mean (last message of the conversation, of any type, as of now
                       - created) of the same chat / call conversations; call_seconds is the
                       sum of those calls' durations.
    firstAssignAvgTime(Sla)  "0": API v1 gives no assignment times.
    worktime           (agents) minutes of the agent's online sessions inside the window, not
                       counting time after now; whole minutes, floored.
    *_ph               (agents) x / (worktime / 60), "%.2f" ("0.00" when worktime is 0), for x in
                       reports.columns.PER_HOUR.
    any other column   "0" ("0.00" for the text columns ending in _p or _ph).
    Events count at their own timestamps (a message at its `created`, a resolve at its group's);
    a conversation's pickup and duration figures at its first answer, a missed one at its
    creation.

Dimensions
    agents       the event's author: the answer's, note's or resolve group's writer; ratings
                 go to the writer of the resolve group holding them; created_tickets and
                 missed_* go to the assigned agent; newAnswerAvgTime and the pickup and duration
                 figures to the author of the first answer, firstResolveAvgTime to that of the
                 first resolve, nextAnswerAvgTime to the answer's. One row per agent (the system
                 user has none), ordered by first name, last name, id; a removed agent only
                 where it has figures in the window.
    departments  the conversation's department; one row per department, by name then id.
    channels     the conversation's channel; id = 1-based position in dataset.CHANNEL_TYPES,
                 one row per channel of dataset.CHANNEL_WEIGHTS (plus any other channel with
                 figures), ordered by id.
    tags         every tag currently on the conversation (a conversation with two tags counts
                 in both rows); one row per existing tag, by name then id.
    performance  time buckets of `group_by` (hour, day (default), week from Monday, month) in
                 the account time zone, clipped to the window, one row per bucket, empty ones
                 too. `datetime` is the (clipped) bucket start, a date except for hour buckets;
                 `dateto` is the bucket's last second, clipped to the window.

Ticket reports
    load               one row per hour of the window up to now; queue = Account.open_tickets_at,
                       service = Account.in_service_at, slots = agents online (a session with
                       start <= t < end), each sampled at the hour's first and last second inside
                       the window; min/max and the "%.2f" mean of the two samples.
                       `departmentid` (the session's department) and `agentid` narrow the slots
                       only: queue and service always describe the whole account.
    slacompliance      one row per account-local day of the window for the conversations whose
                       due time (datedue) falls in that day (and in the window). Fulfilled: first
                       answer <= datedue, time = datedue - first answer. Unfulfilled: answered
                       after datedue (time = answer - datedue), or unanswered with datedue
                       already past (time = now - datedue); unanswered conversations not yet due
                       count in neither. avg (floored) / max / min in seconds, "0" when empty.
                       Filters: departmentid, userid (the assigned agent), slalevelid (the
                       department's SLA level).
    slalog             one row per conversation with a due time created in the window, ordered
                       by id = conversation index + 1. sla = datedue - first answer (datedue -
                       now while unanswered) as [-]HH:MM:SS, negative when late. server_* dates
                       are the same instants in UTC. Filters: departmentid, agentid, requesterid
                       (the customer's contact id), slalevelid.
    agentsavailability one row per online session overlapping the window, ordered by start;
                       hours_online is the session's length up to now; to_date is "now" while the
                       session runs. Filters: departmentid (the session's), agentid.

Deleted and removed entities
    Reports count what happened, so the events of a removed agent (Account.remove_agent) stay
    in every figure and in past rows: its agents row where it has figures in the window, its
    agentsavailability sessions up to its removal (one running then ends then; none later),
    its slots in load, its assignments in slalog. A deleted tag has no tags row at all: the
    row names the tag, and like GET /conversations/{id}/tags it joins the tag table, though
    conversations keep the dangling id. Customer groups, companies and the knowledge base are
    in no report.

Unknown filter values match nothing. `columns` (where documented) keeps the listed columns in
the documented order (an unknown one answers 400); `limitcount`/`limitfrom` page the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .. import params as p
from ..exceptions import BadRequest, NotFound
from ..models import Account
from ..paging import REPORTS
from . import activity, tickets
from .columns import (
    AGENT_COLUMNS,
    AVAILABILITY_COLUMNS,
    CHANNEL_COLUMNS,
    DEPARTMENT_COLUMNS,
    FIGURE_COLUMNS,
    LOAD_COLUMNS,
    PERFORMANCE_COLUMNS,
    SLA_COMPLIANCE_COLUMNS,
    SLA_LOG_COLUMNS,
    TAG_COLUMNS,
)
from .windows import Params, Row


@dataclass(frozen=True)
class ReportSpec:
    key: str
    columns: tuple[str, ...]
    build: Callable[[Account, Params], list[Row]]
    selectable: bool = True  # whether `columns` is documented


SPECS: dict[str, ReportSpec] = {
    "agents": ReportSpec("agents", AGENT_COLUMNS, activity.agents_report),
    "channels": ReportSpec("channels", CHANNEL_COLUMNS, activity.channels_report),
    "departments": ReportSpec("departments", DEPARTMENT_COLUMNS, activity.departments_report),
    "performance": ReportSpec("performance", PERFORMANCE_COLUMNS, activity.performance_report),
    "tags": ReportSpec("tags", TAG_COLUMNS, activity.tags_report),
    "tickets/agentsavailability": ReportSpec("agentsavailability", AVAILABILITY_COLUMNS,
                                             tickets.availability_report),
    "tickets/load": ReportSpec("loads", LOAD_COLUMNS, tickets.load_report, selectable=False),
    "tickets/slacompliance": ReportSpec("slacompliances", SLA_COMPLIANCE_COLUMNS,
                                        tickets.slacompliance_report, selectable=False),
    "tickets/slalog": ReportSpec("slalogs", SLA_LOG_COLUMNS, tickets.slalog_report),
}
REPORT_NAMES: tuple[str, ...] = tuple(SPECS)


def selected_columns(params: Params, documented: tuple[str, ...]) -> tuple[str, ...] | None:
    """The `columns` asked for, in documented order; None for all of them."""
    raw = p.optional(params, "columns")
    if raw is None:
        return None
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(wanted.difference(documented))
    if unknown:
        raise BadRequest(f"Invalid value of parameter 'columns': unknown column(s) "
                         f"{', '.join(unknown)}")
    return tuple(name for name in documented if name in wanted) or None


def report(account: Account, name: str, params: Mapping[str, str]) -> dict:
    """The inner `response` object of GET /reports/{name}, e.g. {"agents": [...]}."""
    spec = SPECS.get(name)
    if spec is None:
        raise NotFound(f"Report '{name}' not found")
    REPORTS.window(params)  # a bad limitcount/limitfrom answers 400 before any work
    columns = selected_columns(params, spec.columns) if spec.selectable else None
    with account.lock:
        rows = spec.build(account, params)
    page = REPORTS.page(params, rows)
    if columns is not None:
        page = [{column: row[column] for column in columns} for row in page]
    if account.real_world.numeric_counts:
        return {spec.key: [figures_as_numbers(row) for row in page]}
    return {spec.key: page}


def figures_as_numbers(row: Row) -> dict[str, object]:
    """RealWorld.numeric_counts: the row's figures as JSON numbers ("12" -> 12, "0.50" -> 0.5)."""
    return {column: _number(value) if column in FIGURE_COLUMNS else value
            for column, value in row.items()}


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    return float(text) if "." in text else int(text)
