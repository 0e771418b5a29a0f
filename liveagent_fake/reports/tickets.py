"""The ticket reports: agents availability, load, SLA compliance and SLA log."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime, timezone

from .. import dataset as ds
from .. import params as p
from ..models import Account
from ..timefmt import DATETIME_FORMAT
from .activity import build_row, mean_seconds
from .columns import HOUR, LOAD_COLUMNS
from .windows import (
    Params,
    Row,
    bucket_starts,
    compliance_window,
    default_window,
    hour_floor,
    required_window,
)


def _session_filter(account: Account, params: Params) -> Callable[[ds.Session], bool]:
    department = p.optional(params, "departmentid")
    agent = p.optional(params, "agentid")
    departments, agents = account.entities.departments, account.entities.agents

    def keep(session: ds.Session) -> bool:
        if department is not None and departments[session.department].id != department:
            return False
        return agent is None or agent in (agents[session.agent].userid,
                                          agents[session.agent].email)
    return keep


def _duration(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), HOUR)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def availability_report(account: Account, params: Params) -> list[Row]:
    window = default_window(account, params)
    keep = _session_filter(account, params)
    now = account.clock.now()
    sessions = sorted((s for s in account.sessions(window.low, window.high) if keep(s)),
                      key=lambda s: (s.start, s.id))
    rows = []
    for session in sessions:
        agent = account.entities.agents[session.agent]
        dept = account.entities.departments[session.department]
        rows.append({
            "id": str(session.id), "userid": agent.userid, "firstname": agent.firstname,
            "lastname": agent.lastname, "contactid": agent.contactid, "departmentid": dept.id,
            "department_name": dept.name,
            "hours_online": _duration(max(0, min(session.end, now) - session.start)),
            "from_date": account.time.render(session.start),
            "to_date": "now" if session.end > now else account.time.render(session.end),
        })
    return rows


def _stats(samples: list[int], prefix: str) -> Row:
    return {f"avg{prefix}": f"{sum(samples) / len(samples):.2f}",
            f"max{prefix}": str(max(samples)), f"min{prefix}": str(min(samples))}


def load_report(account: Account, params: Params) -> list[Row]:
    window = default_window(account, params)
    keep = _session_filter(account, params)
    high = min(window.high, account.clock.now())
    if window.low > high:
        return []
    sessions = [s for s in account.sessions(window.low, high) if keep(s)]
    rows = []
    for hour in range(hour_floor(account, window.low), high + 1, HOUR):
        samples = (max(hour, window.low), min(hour + HOUR - 1, high))
        slots = [len({s.agent for s in sessions if s.start <= t < s.end}) for t in samples]
        rows.append({
            "date": account.time.render(hour),
            **_stats([account.open_tickets_at(t) for t in samples], "Queue"),
            **_stats(slots, "Slots"),
            **_stats([account.in_service_at(t) for t in samples], "Service"),
        })
    return [build_row(LOAD_COLUMNS, row, {}) for row in rows]


def _sla_filter(
    account: Account, params: Params, agent_param: str, requester: bool = False
) -> Callable[[ds.Conversation], bool]:
    department = p.optional(params, "departmentid")
    level = p.optional(params, "slalevelid")
    agent = p.optional(params, agent_param)
    contact = p.optional(params, "requesterid") if requester else None
    departments, agents = account.entities.departments, account.entities.agents

    def keep(conv: ds.Conversation) -> bool:
        dept = departments[conv.department]
        if department is not None and dept.id != department:
            return False
        if level is not None and dept.sla_level_id != level:
            return False
        if agent is not None and (conv.agent is None or agent not in
                                  (agents[conv.agent].userid, agents[conv.agent].email)):
            return False
        return contact is None or account.customer(conv.owner).contactid == contact
    return keep


def _spread(values: list[int], name: str) -> Row:
    if not values:
        return {f"avg{name}Time": "0", f"max{name}Time": "0", f"min{name}Time": "0"}
    return {f"avg{name}Time": str(mean_seconds(values)), f"max{name}Time": str(max(values)),
            f"min{name}Time": str(min(values))}


def slacompliance_report(account: Account, params: Params) -> list[Row]:
    window = compliance_window(account, params)
    keep = _sla_filter(account, params, "userid")
    now = account.clock.now()
    days = bucket_starts(account, window, "day")
    met: list[list[int]] = [[] for _ in days]
    late: list[list[int]] = [[] for _ in days]
    longest = max((d.sla_seconds or 0 for d in account.entities.departments), default=0)
    for conv in account.conversations_with_activity(window.low - longest, window.high):
        if conv.datedue is None or conv.datedue not in window or not keep(conv):
            continue
        day = bisect.bisect_right(days, conv.datedue) - 1
        answered = account.first_answer_at(conv)
        if answered is not None and answered <= conv.datedue:
            met[day].append(conv.datedue - answered)
        elif answered is not None or conv.datedue < now:
            late[day].append((answered if answered is not None else now) - conv.datedue)
    return [{"date": account.time.render_date(start) + " 00:00:00",
             "fulfilled": str(len(met[n])), **_spread(met[n], "Fulfilled"),
             "unfulfilled": str(len(late[n])), **_spread(late[n], "Unfulfilled")}
            for n, start in enumerate(days)]


def _render_utc(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime(DATETIME_FORMAT)


def _slalog_row(account: Account, conv: ds.Conversation, now: int) -> Row:
    assert conv.datedue is not None
    dept = account.entities.departments[conv.department]
    answered = account.first_answer_at(conv)
    closed = account.resolved_at(conv)
    agent = None if conv.agent is None else account.entities.agents[conv.agent]
    customer = account.customer(conv.owner)
    return {
        "id": str(conv.index + 1), "conversationid": account.conversation_id(conv.index),
        "code": account.conversation_code(conv.index), "departmentid": dept.id,
        "department_name": dept.name, "levelid": dept.sla_level_id or "",
        "sla_level_name": dept.sla_level_name or "",
        "sla": _duration(conv.datedue - (answered if answered is not None else now)),
        "date_created": account.time.render(conv.created),
        "date_closed": account.time.render(closed), "server_date_closed": _render_utc(closed),
        "date_due": account.time.render(conv.datedue),
        "server_date_due": _render_utc(conv.datedue), "sla_level_id": dept.sla_level_id or "",
        "agentid": agent.userid if agent else "", "agent_firstname": agent.firstname if agent
        else "", "agent_lastname": agent.lastname if agent else "",
        "req_contactid": customer.contactid, "req_firstname": customer.firstname,
        "req_lastname": customer.lastname,
    }


def slalog_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    keep = _sla_filter(account, params, "agentid", requester=True)
    now = account.clock.now()
    found = [conv for conv in account.conversations_with_activity(window.low, window.high)
             if conv.datedue is not None and conv.created in window and keep(conv)]
    return [_slalog_row(account, conv, now) for conv in sorted(found, key=lambda c: c.index)]
