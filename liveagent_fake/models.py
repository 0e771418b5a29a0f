"""The fake account's state and rules, without HTTP (moto's `models.py`).

Conversations live as compact column arrays for filtering; a full record (with message groups)
is regenerated from the seed when needed and copied on first write, so memory grows with the
number of writes, never with the number of requests.
"""

from __future__ import annotations

import bisect
import copy
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import dataset as ds
from .business_hours import BusinessHours
from .clock import Clock
from .directory import Directory
from .exceptions import BadRequest, NotFound
from .ids import BASE62, codec
from .realworld import RealWorld
from .timefmt import AccountTime

SYSTEM_USERID = "system00"
API_STATUSES = "ARC"  # what PUT /conversations/{id}/status accepts
_CACHE_SIZE = 4096
# RealWorld choices: which rows a data-changing behaviour touches (see realworld.py)
DANGLING_TAG_EVERY, DANGLING_TAG_AT = 4, 1
EMPTY_GROUP_EVERY = 5
# group types `messagegroupsin`/`messagegroupsout` leave out, as the README documents it:
# internal notes and calls (I, Z, U, 1) and events (resolve R, postpone J, transfer T, tag G,
# start info S, delete X, split L, merged 2); every other group is a message in or out
UNCOUNTED_GROUP_TYPES = frozenset("IZU1RJTGSXL2")
EMPTY_GROUP_SLOT = 63  # generated group serials are index * 64 + (0..59)
NUL_MESSAGE_EVERY = 10
DELETED_TAG_COUNT = 2


@dataclass(frozen=True)
class ConversationFilter:
    """The documented filters of GET /conversations, already parsed."""

    datechanged: tuple[str, int, int | None] | None = None
    datefrom: int | None = None
    dateto: int | None = None
    statuses: str | None = None
    department: str | None = None
    agent: str | None = None
    owner: str | None = None
    channel_types: str | None = None
    subject: str | None = None


class Account:
    """A LiveAgent account: entities, conversations, and the writes a user can make.

    `entities` holds every entity the account was generated with, for good: records index
    into its lists. What exists now, as the API lists it, is `directory` (tags(), agents(),
    customer_groups(), knowledgebases(), kb_entries(), company_indexes()).
    """

    def __init__(
        self,
        config: ds.DatasetConfig | None = None,
        clock: Clock | None = None,
        timezone: str = "GMT",
        api_key: str = "test-api-key",
        real_world: RealWorld | None = None,
        v3_api_key: str | None = None,
        business_hours: Mapping[str, object] | None = None,
        more_api_keys: Sequence[str] = (),
    ) -> None:
        if v3_api_key is not None and v3_api_key in (api_key, *more_api_keys):
            raise ValueError("v3_api_key must differ from api_key")
        self.config = config or ds.DatasetConfig()
        self.clock = clock or Clock()
        self.time = AccountTime(timezone)
        # the schedule of the `*Sla` report figures (see business_hours.py); None = calendar time
        self.business_hours = BusinessHours(business_hours, timezone)
        self._api_key = api_key
        # every API v1 key of the account (an admin can create several), in the order given;
        # `revoke_api_key` takes one away
        self.api_keys = list(dict.fromkeys([api_key, *more_api_keys]))
        self._key_order = tuple(self.api_keys)
        self.v3_api_key = v3_api_key  # a key of API v3: v1 endpoints answer it 403
        self.real_world = real_world or RealWorld()
        self.lock = threading.RLock()
        self.end = self.config.end if self.config.end is not None else self.clock.now()
        self.start = self.end - self.config.days * ds.DAY
        self.codecs = ds.Codecs.for_seed(self.config.seed)
        self._cursor_codec = codec(BASE62, 10, self.config.seed, 9)
        self.entities = ds.build_entities(self.config, self.start, self.end)
        self.directory = Directory(self.entities, self.config, self.codecs, self.start)
        self._tag_index = {t.id: n for n, t in enumerate(self.entities.tags)}
        self.deleted_tag_ids = self._make_deleted_tag_ids()
        self._mutated: dict[int, ds.Conversation] = {}
        self._cache: OrderedDict[int, ds.Conversation] = OrderedDict()
        self._next_serial = ds.GENERATED_SERIAL_LIMIT
        self._build_columns()

    # -- API keys --------------------------------------------------------------------------
    @property
    def api_key(self) -> str:
        """The account's first key (what a test's client of the fake sends)."""
        return self._api_key

    @api_key.setter
    def api_key(self, key: str) -> None:
        """Replaces the first key (a test that needs a key of its own)."""
        with self.lock:
            self.api_keys = [key if k == self._api_key else k for k in self.api_keys]
            self._key_order = tuple(key if k == self._api_key else k for k in self._key_order)
            self._api_key = key

    def revoke_api_key(self, key: str) -> None:
        """An admin deletes `key`: from now on it is answered 401, like any unknown key."""
        with self.lock:
            if key not in self.api_keys:
                raise KeyError("no such API key")
            self.api_keys.remove(key)

    def key_label(self, key: str | None) -> str:
        """A key as the fake's counters name it: 'key 2' (its place among the keys the
        account was made with), or 'unknown'; never the key itself."""
        return f"key {self._key_order.index(key) + 1}" if key in self._key_order else "unknown"

    # -- columns ---------------------------------------------------------------------------
    def _build_columns(self) -> None:
        self._created = array("q")
        self._changed = array("q")
        self._status = bytearray()
        self._department = array("H")
        self._channel = bytearray()
        self._owner = array("L")
        self._agent = array("h")
        self._purged = bytearray()
        self._resolved_at: dict[int, int] = {}
        self._answered_at: dict[int, int] = {}
        for index in range(self.config.conversations):
            self._append_columns(self._generate(index))
        self._created_sorted = sorted(self._created)
        self._by_created = sorted(range(len(self._created)), key=self._created.__getitem__)
        self._resolved_sorted = sorted(self._resolved_at.values())
        self._answered_sorted = sorted(self._answered_at.values())

    def _append_columns(self, conv: ds.Conversation) -> None:
        self._created.append(conv.created)
        self._changed.append(conv.changed)
        self._status.append(ord(conv.status))
        self._department.append(conv.department)
        self._channel.append(ord(conv.channel))
        self._owner.append(conv.owner)
        self._agent.append(-1 if conv.agent is None else conv.agent)
        self._purged.append(0)
        self._index_milestones(conv)

    def _index_milestones(self, conv: ds.Conversation) -> None:
        """Remember when the conversation was first answered and when it was resolved."""
        resolved = self.resolved_at(conv)
        if resolved is not None:
            self._resolved_at[conv.index] = resolved
        answered = self.first_answer_at(conv)
        if answered is not None:
            self._answered_at[conv.index] = answered

    def _reindex_milestones(self, conv: ds.Conversation) -> None:
        for table, ordered in ((self._resolved_at, self._resolved_sorted),
                               (self._answered_at, self._answered_sorted)):
            old = table.pop(conv.index, None)
            if old is not None:
                del ordered[bisect.bisect_left(ordered, old)]
        self._index_milestones(conv)
        for table, ordered in ((self._resolved_at, self._resolved_sorted),
                               (self._answered_at, self._answered_sorted)):
            if conv.index in table:
                bisect.insort(ordered, table[conv.index])

    def is_purged(self, index: int) -> bool:
        """Whether conversation `index` was deleted from the trash (gone from every endpoint)."""
        return bool(self._purged[index])

    @property
    def conversation_count(self) -> int:
        """Conversations that exist (purged ones excluded)."""
        return len(self._purged) - sum(self._purged)

    # -- records ---------------------------------------------------------------------------
    def _generate(self, index: int) -> ds.Conversation:
        return ds.generate_conversation(
            self.config, self.entities, self.codecs, self.start, self.end, index
        )

    def record(self, index: int) -> ds.Conversation:
        """The current conversation `index`; callers must not modify it."""
        mutated = self._mutated.get(index)
        if mutated is not None:
            return mutated
        cached = self._cache.get(index)
        if cached is None:
            cached = self._generate(index)
            self._cache[index] = cached
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(index)
        return cached

    def _writable(self, index: int) -> ds.Conversation:
        if index not in self._mutated:
            self._mutated[index] = copy.deepcopy(self.record(index))
            self._cache.pop(index, None)
        return self._mutated[index]

    def find_conversation(self, ref: str) -> int:
        """Index of a conversation by id, code or public url code; 404 when there is none."""
        for decode in (self._decode_id, self._decode_code, self._decode_public):
            index = decode(ref)
            if index is not None and index < len(self._purged) and not self._purged[index]:
                return index
        raise NotFound(f"Conversation '{ref}' not found")

    def _decode_id(self, ref: str) -> int | None:
        return self.codecs.conversation.decode(ref)

    def _decode_code(self, ref: str) -> int | None:
        return self.codecs.code.decode(ref.replace("-", "")) if len(ref) == 11 else None

    def _decode_public(self, ref: str) -> int | None:
        if len(ref) != 16:
            return None
        index = self.codecs.public.decode(ref[:8])
        if index is None or index >= len(self._purged) or self.public_code(index) != ref:
            return None
        return index

    def conversation_id(self, index: int) -> str:
        return self.codecs.conversation.encode(index)

    def conversation_code(self, index: int) -> str:
        raw = self.codecs.code.encode(index)
        return f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"

    def public_code(self, index: int) -> str:
        suffix = ds.secret_hex("public", self.config.seed, index, length=8)
        return self.codecs.public.encode(index) + suffix

    def cursor(self, index: int) -> str:
        return self._cursor_codec.encode(index)

    def cursor_position(self, cursor: str) -> int:
        index = self._cursor_codec.decode(cursor)
        if index is None or index >= len(self._purged):
            raise BadRequest(f"Invalid value of parameter 'cursor': '{cursor}'")
        return index

    def customer(self, owner: int) -> ds.Customer:
        return ds.make_customer(self.codecs, self.config.seed, owner)

    def agent(self, identifier: str) -> ds.Agent:
        """An existing agent by userid or e-mail; 404 when there is none (or it was removed)."""
        return self.directory.agent(identifier)

    def is_agent(self, userid: str) -> bool:
        """Whether `userid` wrote as an agent: the system user and every agent the account had,
        removed ones too (their past messages stay agents' messages)."""
        return userid == SYSTEM_USERID or any(a.userid == userid for a in self.entities.agents)

    # -- queries ---------------------------------------------------------------------------
    def list_conversations(
        self, where: ConversationFilter, after: int | None, limit: int, skip: int = 0
    ) -> list[int]:
        """Up to `limit` matching conversations after position `after`, in internal id order,
        leaving out the first `skip` of them."""
        keep = self._predicate(where)
        found: list[int] = []
        for index in range(0 if after is None else after + 1, len(self._purged)):
            if not self._purged[index] and keep(index):
                if skip:
                    skip -= 1
                    continue
                found.append(index)
                if len(found) == limit:
                    break
        return found

    def _predicate(self, where: ConversationFilter) -> Callable[[int], bool]:
        from .timefmt import op_matches

        checks: list[Callable[[int], bool]] = []
        if where.datechanged is not None:
            op = where.datechanged
            checks.append(lambda i: op_matches(self._changed[i], op))
        if where.datefrom is not None:
            low = where.datefrom
            checks.append(lambda i: self._created[i] >= low)
        if where.dateto is not None:
            high = where.dateto
            checks.append(lambda i: self._created[i] <= high)
        if where.statuses is not None:
            wanted = {ord(s) for s in where.statuses}
            checks.append(lambda i: self._status[i] in wanted)
        if where.channel_types is not None:
            channels = {ord(c) for c in where.channel_types}
            checks.append(lambda i: self._channel[i] in channels)
        if where.department is not None:
            depts = {n for n, d in enumerate(self.entities.departments) if d.id == where.department}
            checks.append(lambda i: self._department[i] in depts)
        if where.agent is not None:
            agents = {a.index for a in self.entities.agents if where.agent in (a.userid, a.email)}
            checks.append(lambda i: self._agent[i] in agents)
        if where.owner is not None:
            owner = where.owner
            checks.append(lambda i: owner in self._owner_identifiers(self._owner[i]))
        if where.subject is not None:
            subject = where.subject
            checks.append(lambda i: self.record(i).subject == subject)
        return lambda i: all(check(i) for check in checks)

    def _owner_identifiers(self, owner: int) -> tuple[str, str]:
        customer = self.customer(owner)
        return customer.email, customer.contactid

    def groups(
        self, index: int, datefrom: int | None = None, dateto: int | None = None
    ) -> list[ds.MessageGroup]:
        """Message groups of a conversation; with bounds, only messages created within them
        (and a message-less group only when it was created within them)."""
        groups = self._served_groups(self.record(index))
        if datefrom is None and dateto is None:
            return groups
        low = datefrom if datefrom is not None else -(1 << 62)
        high = dateto if dateto is not None else 1 << 62
        kept = []
        for group in groups:
            messages = [m for m in group.messages if low <= m.created <= high]
            if messages or (not group.messages and low <= group.created <= high):
                kept.append(ds.MessageGroup(group.serial, group.userid, group.rtype,
                                            group.rstatus, group.created, group.finished,
                                            messages))
        return kept

    def _served_groups(self, conv: ds.Conversation) -> list[ds.MessageGroup]:
        """The stored groups, plus the message-less transfer group of
        RealWorld.group_without_messages where it applies."""
        if not self.real_world.group_without_messages or conv.index % EMPTY_GROUP_EVERY:
            return conv.groups
        first = conv.groups[0]
        agent = None if conv.agent is None else self.entities.agents[conv.agent].userid
        transfer = ds.MessageGroup(conv.index * 64 + EMPTY_GROUP_SLOT, agent or SYSTEM_USERID,
                                   "T", "V", first.created + 1, first.created + 1, [])
        return [first, transfer, *conv.groups[1:]]

    def message_text(self, message: ds.Message) -> str:
        """The text as served: with RealWorld.nul_in_text, every 10th generated message has a
        NUL inside and a lone high surrogate at its end."""
        if (not self.real_world.nul_in_text or message.serial >= ds.GENERATED_SERIAL_LIMIT
                or message.serial % NUL_MESSAGE_EVERY):
            return message.text
        middle = len(message.text) // 2
        return f"{message.text[:middle]}\u0000{message.text[middle:]}\ud83d"

    def tag_ids(self, conv: ds.Conversation) -> list[str]:
        """Ids in the conversation's `tags` field: its tags, then (RealWorld.dangling_tags) the
        id of a deleted tag on every 4th conversation."""
        ids = [self.entities.tags[t].id for t in conv.tags]
        if self.real_world.dangling_tags and conv.index % DANGLING_TAG_EVERY == DANGLING_TAG_AT:
            ids.append(self.deleted_tag_ids[conv.index // DANGLING_TAG_EVERY % DELETED_TAG_COUNT])
        return ids

    def _make_deleted_tag_ids(self) -> tuple[str, ...]:
        """Ids of tags that no longer exist: never one of the account's tags."""
        existing = {t.id for t in self.entities.tags}
        found: list[str] = []
        attempt = 0
        while len(found) < DELETED_TAG_COUNT:
            candidate = ds.secret_hex("deleted-tag", self.config.seed, attempt, length=4)
            if candidate not in existing:
                found.append(candidate)
            attempt += 1
        return tuple(found)

    def group_counts(self, conv: ds.Conversation) -> tuple[int, int]:
        """(messagegroupsin, messagegroupsout): the groups GET /conversations/{id}/messages
        answers, but those of `UNCOUNTED_GROUP_TYPES`, by whether an agent wrote them."""
        incoming = outgoing = 0
        for group in self._served_groups(conv):
            if group.rtype in UNCOUNTED_GROUP_TYPES:
                continue
            if self.is_agent(group.userid):
                outgoing += 1
            else:
                incoming += 1
        return incoming, outgoing

    def resolved_at(self, conv: ds.Conversation) -> int | None:
        if conv.status not in "RL":
            return None
        resolves = [g.created for g in conv.groups if g.rtype == "R"]
        return max(resolves) if resolves else conv.changed

    def business_seconds(self, conv: ds.Conversation, start: int, end: int) -> int:
        """Business seconds in [start, end) by the schedule of the conversation's department."""
        department_id = self.entities.departments[conv.department].id
        return self.business_hours.seconds(start, end, department_id)

    def first_answer_at(self, conv: ds.Conversation) -> int | None:
        answers = [m.created for g in conv.groups if g.rtype != "I" for m in g.messages
                   if m.rtype == "M" and self.is_agent(m.userid)]
        return min(answers) if answers else None

    def conversations_with_activity(self, low: int, high: int) -> Iterator[ds.Conversation]:
        """Every existing conversation that may have an event in [low, high]."""
        first = bisect.bisect_left(self._created_sorted, low - ds.MAX_CONVERSATION_SPAN)
        last = bisect.bisect_right(self._created_sorted, high)
        seen = set()
        for position in range(first, last):
            index = self._by_created[position]
            if not self._purged[index]:
                seen.add(index)
                yield self.record(index)
        for index in list(self._mutated):
            if index not in seen and not self._purged[index]:
                yield self._mutated[index]

    def open_tickets_at(self, ts: int) -> int:
        """Conversations created by `ts` and not resolved by then (current state)."""
        created = bisect.bisect_right(self._created_sorted, ts)
        return created - bisect.bisect_right(self._resolved_sorted, ts)

    def in_service_at(self, ts: int) -> int:
        """Answered but not yet resolved conversations at `ts`."""
        answered = bisect.bisect_right(self._answered_sorted, ts)
        return max(0, answered - bisect.bisect_right(self._resolved_sorted, ts))

    def sessions(self, low: int, high: int) -> list[ds.Session]:
        """Agents' online sessions overlapping [low, high] that have started by now (a removed
        agent's only until its removal)."""
        now = self.clock.now()
        found: list[ds.Session] = []
        day = self.time.local(low).date() - timedelta(days=1)
        while True:
            day_start = self.time.timestamp(datetime(day.year, day.month, day.day))
            if day_start > min(high, now):
                return found
            day_sessions = ds.sessions_for_day(self.config, self.entities, day_start,
                                               day.weekday())
            for session in self.directory.online(day_sessions):
                if session.start <= min(high, now) and session.end >= low:
                    found.append(session)
            day += timedelta(days=1)

    def company(self, index: int) -> ds.Company:
        return self.directory.company(index)

    def company_indexes(self) -> list[int]:
        """Indexes of the companies that exist (removed ones left out)."""
        return self.directory.company_indexes()

    def find_company(self, company_id: str) -> ds.Company:
        return self.directory.find_company(company_id)

    def find_tag(self, tag_id: str | None = None, name: str | None = None) -> int:
        """Index (in `entities.tags`) of an existing tag by id or name; 404 when there is none."""
        return self.directory.find_tag(tag_id, name)

    # -- writes (the HTTP write endpoints and tests both use these) ------------------------
    def _serial(self) -> int:
        self._next_serial += 1
        return self._next_serial

    def _touch(self, conv: ds.Conversation, at: int) -> None:
        conv.changed = at
        self._changed[conv.index] = at
        self._status[conv.index] = ord(conv.status)
        self._reindex_milestones(conv)

    def _author(self, useridentifier: str | None) -> str:
        return SYSTEM_USERID if not useridentifier else self.agent(useridentifier).userid

    def set_status(
        self, ref: str, status: str, useridentifier: str | None = None,
        note: str | None = None, at: int | None = None,
    ) -> None:
        """Change a conversation's status; resolving adds a resolve group, a note a note group."""
        with self.lock:
            if status not in ds.CONVERSATION_STATUSES:
                raise BadRequest(f"Invalid value of parameter 'status': '{status}'")
            at = self.clock.now() if at is None else at
            conv = self._writable(self.find_conversation(ref))
            author = self._author(useridentifier)
            if note:
                self._add_group(conv, author, "I", "N", note, at)
            if status == "R" and conv.status != "R":
                self._add_group(conv, author, "R", "J", "Resolved", at)
            conv.status = status
            self._touch(conv, at)

    def add_message(
        self, ref: str, message: str, useridentifier: str | None = None, kind: str = "M",
        from_customer: bool = False, at: int | None = None,
    ) -> None:
        """Post a message: an agent reply (status becomes Answered), a note, or a customer reply
        (tests only; status becomes Open)."""
        with self.lock:
            if kind not in "MN":
                raise BadRequest(f"Invalid value of parameter 'type': '{kind}'")
            at = self.clock.now() if at is None else at
            conv = self._writable(self.find_conversation(ref))
            if from_customer:
                customer = self.customer(conv.owner).contactid
                rtype = ds.INCOMING_GROUP_TYPE.get(conv.channel, "3")
                self._add_group(conv, customer, rtype, "M", message, at)
                conv.status = "C"
            elif kind == "N":
                self._add_group(conv, self._author(useridentifier), "I", "N", message, at)
            else:
                rtype = ds.REPLY_GROUP_TYPE.get(conv.channel, "4")
                self._add_group(conv, self._author(useridentifier), rtype, "M", message, at)
                conv.status = "A"
            self._touch(conv, at)

    def _add_group(
        self, conv: ds.Conversation, userid: str, rtype: str, message_type: str, text: str,
        at: int,
    ) -> None:
        message = ds.Message(self._serial(), userid, message_type, at, text)
        conv.groups.append(ds.MessageGroup(self._serial(), userid, rtype, "V", at, at, [message]))

    def delete_conversation(self, ref: str, at: int | None = None) -> None:
        """First delete moves to the trash (status X, datechanged moves); deleting a trashed
        conversation purges it: it leaves the list and every endpoint answers 404."""
        with self.lock:
            at = self.clock.now() if at is None else at
            index = self.find_conversation(ref)
            conv = self._writable(index)
            if conv.status == "X":
                conv.purged = True
                self._purged[index] = 1
                self._touch(conv, at)
                return
            conv.status = "X"
            self._touch(conv, at)

    def purge_conversation(self, ref: str, at: int | None = None) -> None:
        """Deletes the conversation until it is purged: twice, or once when it is in the trash
        already (the trash step moves `datechanged`, as `delete_conversation` does)."""
        with self.lock:
            if self.record(self.find_conversation(ref)).status != "X":
                self.delete_conversation(ref, at)
            self.delete_conversation(ref, at)

    def tag_conversation(
        self, ref: str, tag_id: str | None = None, name: str | None = None, add: bool = True,
        at: int | None = None,
    ) -> None:
        with self.lock:
            if not tag_id and not name:
                raise BadRequest("Either 'id' or 'name' of the tag must be specified")
            at = self.clock.now() if at is None else at
            tag = self.find_tag(tag_id or None, name or None)
            index = self.find_conversation(ref)
            has = tag in self.record(index).tags
            if has == add:
                return
            conv = self._writable(index)
            conv.tags = sorted({*conv.tags, tag}) if add else [t for t in conv.tags if t != tag]
            self._touch(conv, at)

    def create_conversation(
        self, subject: str, message: str, channel: str = "E", department: int = 0,
        owner: int = 0, agent: int | None = None, at: int | None = None,
    ) -> str:
        """A new conversation from a customer (tests only; the API v1 has no such endpoint).
        Returns its conversationid."""
        with self.lock:
            at = self.clock.now() if at is None else at
            index = len(self._purged)
            customer = self.customer(owner).contactid
            first = ds.Message(self._serial(), customer, "M", at, message)
            group = ds.MessageGroup(self._serial(), customer,
                                    ds.INCOMING_GROUP_TYPE.get(channel, "3"), "V", at, at, [first])
            dept = self.entities.departments[department]
            conv = ds.Conversation(
                index=index, created=at, changed=at, status="N", department=department,
                channel=channel, owner=owner, agent=agent, subject=subject,
                preview=message[:100], tags=[],
                datedue=at + dept.sla_seconds if dept.sla_seconds else None, ownernote=None,
                customfields=[], groups=[group],
            )
            self._mutated[index] = conv
            self._append_columns(conv)
            self._by_created.insert(bisect.bisect_right(self._created_sorted, at), index)
            bisect.insort(self._created_sorted, at)
            return self.conversation_id(index)

    def touch_kb_entry(
        self, entry_id: int, title: str | None = None, at: int | None = None
    ) -> None:
        with self.lock:
            entry = self.directory.find_kb_entry(entry_id)
            entry.changed = self.clock.now() if at is None else at
            if title is not None:
                entry.title = title

    def rename_company(self, company_id: str, name: str) -> None:
        with self.lock:
            self.find_company(company_id).name = name

    def update_tag(self, tag_id: str, name: str | None = None, color: str | None = None,
                   bg_color: str | None = None) -> None:
        """PUT /tags/{id}: the given fields change. Conversations carrying the tag keep their
        `tags` field (ids) and their `datechanged`."""
        with self.lock:
            tag = self.entities.tags[self.directory.find_tag(tag_id=tag_id)]
            tag.name = tag.name if name is None else name
            tag.color = tag.color if color is None else color
            tag.bg_color = tag.bg_color if bg_color is None else bg_color

    # -- deletes (DELETE /tags, /customersgroups, /knowledgebase/entries) and removals ---------
    def delete_tag(self, tag_id: str) -> None:
        """The tag leaves GET /tags, GET /tags/{id} (404) and GET /conversations/{id}/tags.
        Conversations that carried it keep its id in their `tags` field, dangling, and their
        `datechanged` does not move: what RealWorld.dangling_tags shows real accounts doing."""
        with self.lock:
            self.directory.delete_tag(tag_id)

    def delete_customer_group(self, group_id: str) -> None:
        """The group leaves GET /customersgroups, GET /customersgroups/{id} (404) and the
        `groups` of every company that was in it (companies have no datechanged to move)."""
        with self.lock:
            self.directory.delete_customer_group(group_id)

    def delete_kb_entry(self, entry_id: int | str) -> list[int]:
        """Deletes the knowledge-base entry outright, with the entries under it (a category's
        articles, a forum's topics, a suggestion category's suggestions): they leave
        GET /knowledgebase/entries and /articles, and a suggestion category ('G') leaves
        GET /suggestioncategories. The `deleted` flag of other entries stays as it is.
        Returns the kb_entry_ids deleted."""
        with self.lock:
            return self.directory.delete_kb_entry(entry_id)

    def remove_company(self, company_id: str) -> None:
        """The company leaves GET /companies; GET /companies/{id} answers 404 (no API v1
        endpoint deletes companies; tests use this)."""
        with self.lock:
            self.directory.remove_company(company_id)

    def remove_agent(self, agent_userid: str, at: int | None = None) -> None:
        """The agent (userid or e-mail) leaves GET /onlinestatus/agents; GET /agents/{id}, and
        writes naming it, answer 404. History stays: its messages keep its userid (and count as
        an agent's), conversations assigned to it keep `assignedto` and `datechanged`; its
        online session running at `at` (default now) ends then and it has none later."""
        with self.lock:
            self.directory.remove_agent(agent_userid, self.clock.now() if at is None else at)

    def remove_knowledgebase(self, kb_id: str) -> None:
        """The knowledge base leaves GET /knowledgebase/knowledgebases; its entries leave the
        entry listings and GET /suggestioncategories."""
        with self.lock:
            self.directory.remove_knowledgebase(kb_id)
