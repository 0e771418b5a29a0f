"""The activity reports (agents, channels, departments, tags, performance): one scan of the
conversations with events in the window, tallied per row."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from .. import dataset as ds
from .. import params as p
from ..models import Account
from .columns import (
    AGENT_COLUMNS,
    CHANNEL_COLUMNS,
    DEPARTMENT_COLUMNS,
    GROUP_BY,
    PER_HOUR,
    PERFORMANCE_COLUMNS,
    TAG_COLUMNS,
)
from .windows import Params, Row, Window, bucket_starts, required_window


@dataclass(slots=True)
class Tally:
    """Raw figures of one report row (delays and durations in seconds)."""

    answers: int = 0
    chat_answers: int = 0
    i_messages: int = 0
    notes: int = 0
    created_tickets: int = 0
    resolved_tickets: int = 0
    rewards: int = 0
    punishments: int = 0
    not_ranked: int = 0
    missed_chats: int = 0
    missed_calls: int = 0
    chats: set[int] = field(default_factory=set)
    calls: set[int] = field(default_factory=set)
    answer_delays: list[int] = field(default_factory=list)
    answer_business_delays: list[int] = field(default_factory=list)
    resolve_delays: list[int] = field(default_factory=list)
    resolve_business_delays: list[int] = field(default_factory=list)
    next_answer_delays: list[int] = field(default_factory=list)
    next_answer_business_delays: list[int] = field(default_factory=list)
    # of the chats / calls first answered in the window: first answer - created, and
    # last message - created
    chat_pickups: list[int] = field(default_factory=list)
    chat_durations: list[int] = field(default_factory=list)
    call_pickups: list[int] = field(default_factory=list)
    call_durations: list[int] = field(default_factory=list)


# (conversation, the event's actor userid or None, event time) -> the row keys it counts in
KeysOf = Callable[[ds.Conversation, "str | None", int], Iterable[Hashable]]
First = tuple[int, str]  # (time, author)
# an answer or a customer message: (time, is an answer, author); sorted, a customer message
# comes before an answer of the same second
Exchange = tuple[int, bool, str]


class Scan:
    """One pass over the conversations with activity in a window, tallied per row key."""

    def __init__(self, account: Account, window: Window, keys_of: KeysOf) -> None:
        self.account = account
        self.window = window
        self.keys_of = keys_of
        self.tallies: defaultdict[Hashable, Tally] = defaultdict(Tally)
        self._agents: dict[str, bool] = {}

    def run(self) -> dict[Hashable, Tally]:
        for conv in self.account.conversations_with_activity(self.window.low, self.window.high):
            self._conversation(conv)
        return dict(self.tallies)

    def _hits(self, conv: ds.Conversation, actor: str | None, ts: int) -> list[Tally]:
        return [self.tallies[key] for key in self.keys_of(conv, actor, ts)]

    def _is_agent(self, userid: str) -> bool:
        known = self._agents.get(userid)
        if known is None:
            known = self._agents[userid] = self.account.is_agent(userid)
        return known

    def _conversation(self, conv: ds.Conversation) -> None:
        first_answer: First | None = None
        first_resolve: First | None = None
        last_message: int | None = None
        exchanges: list[Exchange] = []
        for group in conv.groups:
            if group.rtype == "R":
                self._resolve(conv, group)
                first_resolve = min(first_resolve or (group.created, group.userid),
                                    (group.created, group.userid))
            for message in group.messages:
                last_message = message.created if last_message is None \
                    else max(last_message, message.created)
                if self._is_answer(group, message):
                    first_answer = min(first_answer or (message.created, message.userid),
                                       (message.created, message.userid))
                    exchanges.append((message.created, True, message.userid))
                elif message.rtype == "M" and not self._is_agent(message.userid):
                    exchanges.append((message.created, False, message.userid))
                if message.created in self.window:
                    self._message(conv, group, message)
        if conv.created in self.window:
            self._created(conv, answered=first_answer is not None)
        if first_answer is not None and last_message is not None:
            self._first_answer(conv, first_answer, last_message)
        self._first_resolve(conv, first_resolve)
        self._next_answers(conv, sorted(exchanges))

    def _created(self, conv: ds.Conversation, answered: bool) -> None:
        agents = self.account.entities.agents
        assignee = None if conv.agent is None else agents[conv.agent].userid
        chat, call = conv.channel in ds.CHAT_CHANNELS, conv.channel in ds.CALL_CHANNELS
        for tally in self._hits(conv, assignee, conv.created):
            tally.created_tickets += 1
            if not answered:
                tally.missed_chats += chat
                tally.missed_calls += call

    def _is_answer(self, group: ds.MessageGroup, message: ds.Message) -> bool:
        return message.rtype == "M" and group.rtype != "I" and self._is_agent(message.userid)

    def _message(self, conv: ds.Conversation, group: ds.MessageGroup, message: ds.Message) -> None:
        if self._is_answer(group, message):
            self._answer(conv, message)
            return
        kind, at = message.rtype, message.created
        if kind == "M" and not self._is_agent(message.userid):
            for tally in self._hits(conv, message.userid, at):
                tally.i_messages += 1
        elif kind == "N":
            for tally in self._hits(conv, message.userid, at):
                tally.notes += 1
        elif kind in ("P", "W"):
            for tally in self._hits(conv, group.userid, at):
                if kind == "P":
                    tally.rewards += 1
                else:
                    tally.punishments += 1

    def _answer(self, conv: ds.Conversation, message: ds.Message) -> None:
        for tally in self._hits(conv, message.userid, message.created):
            tally.answers += 1
            if conv.channel in ds.CHAT_CHANNELS:
                tally.chat_answers += 1
                tally.chats.add(conv.index)
            elif conv.channel in ds.CALL_CHANNELS:
                tally.calls.add(conv.index)

    def _resolve(self, conv: ds.Conversation, group: ds.MessageGroup) -> None:
        if group.created not in self.window:
            return
        rated = any(m.rtype in ("P", "W") for m in group.messages)
        for tally in self._hits(conv, group.userid, group.created):
            tally.resolved_tickets += 1
            tally.not_ranked += 0 if rated else 1

    def _first_answer(self, conv: ds.Conversation, first: First, last_message: int) -> None:
        at, author = first
        if at not in self.window:
            return
        delay, duration = at - conv.created, last_message - conv.created
        business = self.account.business_seconds(conv, conv.created, at)
        for tally in self._hits(conv, author, at):
            tally.answer_delays.append(delay)
            tally.answer_business_delays.append(business)
            if conv.channel in ds.CHAT_CHANNELS:
                tally.chat_pickups.append(delay)
                tally.chat_durations.append(duration)
            elif conv.channel in ds.CALL_CHANNELS:
                tally.call_pickups.append(delay)
                tally.call_durations.append(duration)

    def _first_resolve(self, conv: ds.Conversation, first: First | None) -> None:
        if first is None or first[0] not in self.window:
            return
        at, author = first
        business = self.account.business_seconds(conv, conv.created, at)
        for tally in self._hits(conv, author, at):
            tally.resolve_delays.append(at - conv.created)
            tally.resolve_business_delays.append(business)

    def _next_answers(self, conv: ds.Conversation, exchanges: list[Exchange]) -> None:
        """Each later answer after customer messages: the wait since the earliest of them."""
        answered = False
        waiting_since: int | None = None  # the first customer message since the last answer
        for at, is_answer, author in exchanges:
            if not is_answer:
                waiting_since = at if waiting_since is None else waiting_since
                continue
            if answered and waiting_since is not None and at in self.window:
                business = self.account.business_seconds(conv, waiting_since, at)
                for tally in self._hits(conv, author, at):
                    tally.next_answer_delays.append(at - waiting_since)
                    tally.next_answer_business_delays.append(business)
            answered, waiting_since = True, None


def mean_seconds(values: list[int]) -> int:
    return sum(values) // len(values) if values else 0


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.2f}" if whole else "0.00"


def _zero(column: str) -> str:
    return "0.00" if column.endswith(("_p", "_ph")) else "0"


def metrics(tally: Tally, worktime: int | None = None) -> dict[str, str]:
    """The computed columns of a row; worktime (minutes) only for agents."""
    counts = {
        "answers": tally.answers, "chat_answers": tally.chat_answers, "chats": len(tally.chats),
        "calls": len(tally.calls), "i_messages": tally.i_messages, "notes": tally.notes,
        "created_tickets": tally.created_tickets, "resolved_tickets": tally.resolved_tickets,
        "rewards": tally.rewards, "punishments": tally.punishments,
        "not_ranked": tally.not_ranked, "missed_chats": tally.missed_chats,
        "missed_calls": tally.missed_calls, "chat_pickup": len(tally.chat_pickups),
        "call_seconds": sum(tally.call_durations),
    }
    values = {name: str(value) for name, value in counts.items()}
    means = {
        "newAnswerAvgTime": tally.answer_delays,
        "newAnswerAvgTimeSla": tally.answer_business_delays,
        "firstResolveAvgTime": tally.resolve_delays,
        "firstResolveAvgTimeSla": tally.resolve_business_delays,
        "nextAnswerAvgTime": tally.next_answer_delays,
        "nextAnswerAvgTimeSla": tally.next_answer_business_delays,
        "chatPickupAvgTime": tally.chat_pickups, "chatAvgTime": tally.chat_durations,
        "call_pickup_avg_time": tally.call_pickups, "call_avg_time": tally.call_durations,
    }
    values.update({name: str(mean_seconds(seconds)) for name, seconds in means.items()})
    for name in ("not_ranked", "rewards", "punishments"):
        values[f"{name}_p"] = _ratio(100 * counts[name], tally.resolved_tickets)
    if worktime is not None:
        values["worktime"] = str(worktime)
        for name in PER_HOUR:
            values[f"{name}_ph"] = _ratio(counts[name] * 60, worktime)
    return values


def build_row(columns: tuple[str, ...], identity: Row, values: Mapping[str, str]) -> Row:
    return {c: identity[c] if c in identity else values.get(c, _zero(c)) for c in columns}


# -- activity reports ---------------------------------------------------------------------------
def _tally(tallies: Mapping[Hashable, Tally], key: Hashable) -> Tally:
    return tallies.get(key) or Tally()


def worktime_minutes(account: Account, window: Window) -> dict[int, int]:
    """Minutes online per agent index inside the window and before now."""
    now = account.clock.now()
    seconds: defaultdict[int, int] = defaultdict(int)
    for session in account.sessions(window.low, window.high):
        end = min(session.end, now, window.high + 1)
        seconds[session.agent] += max(0, end - max(session.start, window.low))
    return {agent: total // 60 for agent, total in seconds.items()}


def agents_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    agents = account.entities.agents
    userids = {agent.userid for agent in agents}
    tallies = Scan(account, window,
                   lambda conv, actor, ts: (actor,) if actor in userids else ()).run()
    worktime = worktime_minutes(account, window)
    rows = []
    for agent in sorted(agents, key=lambda a: (a.firstname, a.lastname, a.userid)):
        if account.directory.is_removed_agent(agent.index) and agent.userid not in tallies \
                and not worktime.get(agent.index):
            continue  # a removed agent keeps a row only where it has figures
        identity: Row = {"id": agent.userid, "contactid": agent.contactid,
                         "firstname": agent.firstname, "lastname": agent.lastname}
        values = metrics(_tally(tallies, agent.userid), worktime.get(agent.index, 0))
        rows.append(build_row(AGENT_COLUMNS, identity, values))
    return rows


def departments_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    tallies = Scan(account, window, lambda conv, actor, ts: (conv.department,)).run()
    departments = sorted(enumerate(account.entities.departments),
                         key=lambda item: (item[1].name, item[1].id))
    return [build_row(DEPARTMENT_COLUMNS, {"id": dept.id, "departmentName": dept.name},
                 metrics(_tally(tallies, n)))
            for n, dept in departments]


def channel_id(code: str) -> str:
    return str(ds.CHANNEL_TYPES.index(code) + 1)


def channels_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    tallies = Scan(account, window, lambda conv, actor, ts: (conv.channel,)).run()
    codes = {*ds.CHANNEL_WEIGHTS, *(str(code) for code in tallies)} & set(ds.CHANNEL_TYPES)
    return [build_row(CHANNEL_COLUMNS,
                      {"id": channel_id(code), "channelName": ds.CHANNEL_NAMES[code]},
                      metrics(_tally(tallies, code)))
            for code in sorted(codes, key=ds.CHANNEL_TYPES.index)]


def tags_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    tallies = Scan(account, window, lambda conv, actor, ts: conv.tags).run()
    existing = {tag.id for tag in account.directory.tags()}  # a deleted tag has no row
    tags = sorted(((n, tag) for n, tag in enumerate(account.entities.tags) if tag.id in existing),
                  key=lambda item: (item[1].name, item[1].id))
    return [build_row(TAG_COLUMNS, {"id": tag.id, "tagName": tag.name}, metrics(_tally(tallies, n)))
            for n, tag in tags]


def performance_report(account: Account, params: Params) -> list[Row]:
    window = required_window(account, params)
    unit = p.choice(params, "group_by", GROUP_BY, "day")
    starts = bucket_starts(account, window, unit)
    tallies = Scan(account, window,
                   lambda conv, actor, ts: (bisect.bisect_right(starts, ts) - 1,)).run()
    rows = []
    for n, start in enumerate(starts):
        end = starts[n + 1] - 1 if n + 1 < len(starts) else window.high
        label = account.time.render(start) if unit == "hour" else account.time.render_date(start)
        identity: Row = {"datetime": label, "dateto": account.time.render(end)}
        rows.append(build_row(PERFORMANCE_COLUMNS, identity, metrics(_tally(tallies, n))))
    return rows
