"""A deterministic LiveAgent account: the same seed and size always give the same data.

Small entities (departments, agents, tags, ...) are materialised once. Conversations and their
messages are generated on demand from `(seed, index)`, so a 100k-conversation account costs a
few compact arrays, not 500k message objects. Times are epoch seconds in UTC.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, field

from .ids import BASE36, BASE62, UPPER36, IdCodec, codec

DAY = 86400
MAX_CONVERSATION_SPAN = 3 * DAY  # generated activity of one conversation stays within this
GENERATED_SERIAL_LIMIT = 1 << 40  # ids of generated rows stay below; ids made by writes above

CONVERSATION_STATUSES = "APTXBICRNWL"
CHANNEL_TYPES = "EBMICWFATQSGVR1"
CHANNEL_NAMES = {
    "E": "Email", "B": "Contact button", "M": "Contact form", "I": "Invitation", "C": "Call",
    "W": "Call button", "F": "Facebook", "A": "Facebook message", "T": "Twitter", "Q": "Forum",
    "S": "Suggestion", "G": "Instagram", "V": "Viber", "R": "Instagram mention", "1": "Whatsapp",
}
CHAT_CHANNELS = "BI"
CALL_CHANNELS = "CW"
# the channel mix of generated conversations
CHANNEL_WEIGHTS = {
    "E": 50, "B": 15, "M": 10, "I": 5, "C": 6, "W": 2, "F": 5, "A": 3, "T": 2, "1": 2,
}
# group type of a customer's first contact, by channel
INCOMING_GROUP_TYPE = {"E": "3", "M": "5", "B": "C", "I": "C", "C": "P", "W": "P", "F": "F",
                       "A": "F", "T": "W", "1": "6"}
REPLY_GROUP_TYPE = {"E": "4", "M": "4", "C": "P", "W": "P", "F": "F", "A": "F", "T": "W",
                    "1": "6"}

FIRST_NAMES = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas",
               "Kai", "Lena", "Mateo", "Nora", "Omar", "Petra", "Quinn", "Rosa", "Sven", "Tara"]
LAST_NAMES = ["Novák", "Smith", "Müller", "Tanaka", "García", "Kowalski", "O'Brien", "Rossi",
              "Dubois", "Jensen", "Silva", "Horvath", "Ivanova", "Lee", "Okafor", "Berg"]
SUBJECT_WORDS = ["invoice", "login", "refund", "shipping", "password", "upgrade", "bug", "API",
                 "export", "billing", "account", "delivery", "license", "question", "error"]
BODY_WORDS = ["hello", "please", "thanks", "order", "help", "issue", "today", "again", "still",
              "works", "broken", "check", "attached", "update", "soon", "regards", "😀", "€"]
TAG_NAMES = ["VIP", "Support", "Urgent", "Billing", "Bug", "Feature", "Sales", "Churn risk",
             "Refund", "Partner", "Press", "Legal", "Beta", "Spam suspect", "Escalated", "Docs"]
SLA_LEVELS = [("Urgent", 4 * 3600), ("Standard", 24 * 3600)]


@dataclass(frozen=True)
class DatasetConfig:
    seed: int = 7
    conversations: int = 50
    messages_per_conversation: float = 5.0
    agents: int = 8
    departments: int = 4
    tags: int = 12
    customer_groups: int = 5
    companies: int | None = None  # default: one per 50 conversations, at least 3
    kb_entries: int = 40
    days: int = 90  # generated activity spans this many days before `end`
    end: int | None = None  # epoch seconds; default: the clock's now when the account starts

    @property
    def company_count(self) -> int:
        return self.companies if self.companies is not None else max(3, self.conversations // 50)


@dataclass(slots=True)
class Department:
    id: str
    name: str
    sla_level_id: str | None
    sla_level_name: str | None
    sla_seconds: int | None


@dataclass(slots=True)
class Agent:
    index: int
    userid: str
    contactid: str
    email: str
    firstname: str
    lastname: str
    systemname: str
    authtoken: str
    browsercookiename: str
    gender: str
    role: str
    preset_status: str
    department: int


@dataclass(slots=True)
class Tag:
    id: str
    name: str
    color: str
    bg_color: str
    is_archived: str | None


@dataclass(slots=True)
class CustomerGroup:
    id: str
    name: str
    color: str
    bg_color: str


@dataclass(slots=True)
class Customer:
    contactid: str
    firstname: str
    lastname: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass(slots=True)
class Message:
    serial: int
    userid: str
    rtype: str
    created: int
    text: str


@dataclass(slots=True)
class MessageGroup:
    serial: int
    userid: str
    rtype: str
    rstatus: str
    created: int
    finished: int
    messages: list[Message]


@dataclass(slots=True)
class Conversation:
    index: int
    created: int
    changed: int
    status: str
    department: int
    channel: str
    owner: int
    agent: int | None
    subject: str
    preview: str
    tags: list[int]
    datedue: int | None
    ownernote: str | None
    customfields: list[tuple[str, str]]
    groups: list[MessageGroup]
    purged: bool = False


@dataclass(slots=True)
class Company:
    index: int
    id: str
    name: str
    emails: list[str]
    phones: list[str]
    created: int
    language: str
    ip: str
    groups: list[int]
    custom_fields: list[tuple[str, str]]


@dataclass(slots=True)
class KbEntry:
    kb_id: str
    kb_entry_id: int
    parent_entry_id: int | None
    rtype: str
    rstatus: str
    access: str
    access_inherited: str
    urlcode: str
    treepath: str
    rorder: int
    title: str
    metadescription: str
    keywords: str
    content: str
    conversationid: str
    departmentid: str
    views: int
    votes: int
    created: int
    changed: int
    deleted: str
    description: str


@dataclass(slots=True)
class Session:
    """One stretch of an agent being online, the source of availability and worktime."""

    id: int
    agent: int
    department: int
    start: int
    end: int


@dataclass
class Codecs:
    conversation: IdCodec
    code: IdCodec
    public: IdCodec
    group: IdCodec
    message: IdCodec
    customer: IdCodec
    company: IdCodec

    @classmethod
    def for_seed(cls, seed: int) -> Codecs:
        return cls(
            conversation=codec(BASE36, 8, seed, 1),
            code=codec(UPPER36, 9, seed, 2),
            public=codec(BASE62, 8, seed, 3),
            group=codec(BASE36, 8, seed, 4),
            message=codec(BASE36, 8, seed, 5),
            customer=codec(BASE36, 8, seed, 6),
            company=codec(BASE36, 8, seed, 7),
        )


def secret_hex(*parts: object, length: int = 32) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:length]


def short_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(BASE36) for _ in range(length))


@dataclass
class Entities:
    """Every entity the account was generated with; the lists never shrink, since records
    index into them. Deletions are recorded in `directory.Directory`."""

    departments: list[Department] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    customer_groups: list[CustomerGroup] = field(default_factory=list)
    knowledgebases: list[tuple[str, str]] = field(default_factory=list)
    kb_entries: list[KbEntry] = field(default_factory=list)


def build_entities(config: DatasetConfig, start: int, end: int) -> Entities:
    rng = random.Random(f"entities:{config.seed}")
    entities = Entities()
    for d in range(config.departments):
        level = SLA_LEVELS[d % len(SLA_LEVELS)] if d % 3 != 2 else None
        entities.departments.append(Department(
            id=short_id(rng, 8),
            name=["General", "Sales", "Technical", "Billing", "Partners", "Returns"][d % 6]
            + ("" if d < 6 else f" {d // 6}"),
            sla_level_id=short_id(rng, 8) if level else None,
            sla_level_name=level[0] if level else None,
            sla_seconds=level[1] if level else None,
        ))
    for a in range(config.agents):
        first, last = FIRST_NAMES[a % len(FIRST_NAMES)], LAST_NAMES[(a * 7) % len(LAST_NAMES)]
        userid = short_id(rng, 8)
        entities.agents.append(Agent(
            index=a, userid=userid, contactid=short_id(rng, 8),
            email=f"{ascii_slug(first)}.{a}@agents.example.com",
            firstname=first, lastname=last, systemname=f"system{a:03d}",
            authtoken=secret_hex("authtoken", config.seed, userid),
            browsercookiename="A_auth", gender="MFO"[a % 3], role="O" if a == 0 else "DA"[a % 2],
            preset_status=["MPRT", "MT", "M", "MRT"][a % 4], department=a % config.departments,
        ))
    for t in range(config.tags):
        entities.tags.append(Tag(
            id=short_id(rng, 4), name=TAG_NAMES[t % len(TAG_NAMES)] + ("" if t < 16 else f" {t}"),
            color="FFFFFF", bg_color=f"{rng.randrange(1 << 24):06X}",
            is_archived="Y" if t % 11 == 10 else None,
        ))
    for g in range(config.customer_groups):
        entities.customer_groups.append(CustomerGroup(
            id=short_id(rng, 4), name=["VIP", "Premium", "Trial", "Partner", "Reseller"][g % 5]
            + ("" if g < 5 else f" {g}"),
            color="000000", bg_color=f"{rng.randrange(1 << 24):06X}",
        ))
    entities.knowledgebases = [("kb_defa", "Knowledgebase 1"), (short_id(rng, 8), "Internal KB")]
    entities.kb_entries = build_kb_entries(config, entities, rng, start, end)
    return entities


def build_kb_entries(
    config: DatasetConfig, entities: Entities, rng: random.Random, start: int, end: int
) -> list[KbEntry]:
    """A tree per knowledge base: categories with articles, a forum with topics, and a
    suggestion category with suggestions (the kinds the API can mark deleted)."""
    entries: list[KbEntry] = []
    kinds = [("C", "A"), ("Q", "R"), ("G", "S")]
    next_id = 1
    parents: list[KbEntry] = []
    for n in range(config.kb_entries):
        kb_id = entities.knowledgebases[n % len(entities.knowledgebases)][0]
        is_container = not parents or n % 5 == 0
        if is_container:
            kind = kinds[(len(parents)) % len(kinds)][0]
            parent, treepath = None, "0"
        else:
            parent = parents[n % len(parents)]
            kind = dict(kinds)[parent.rtype]
            kb_id = parent.kb_id
            treepath = f"{parent.treepath}|{parent.kb_entry_id}"
        created = start + rng.randrange(max(1, end - start) // 2)
        changed = min(end, created + rng.randrange(max(1, end - created)))
        entry = KbEntry(
            kb_id=kb_id, kb_entry_id=next_id,
            parent_entry_id=parent.kb_entry_id if parent else None,
            rtype=kind, rstatus="P" if kind in "CAQG" else rng.choice("NCPLSX"),
            access="P" if n % 7 else "I", access_inherited="P" if n % 7 else "I",
            urlcode=str(300000 + rng.randrange(100000)), treepath=treepath, rorder=n % 10,
            title=f"{rng.choice(SUBJECT_WORDS).capitalize()} {kind}-{next_id}",
            metadescription="" if n % 2 else f"About {rng.choice(SUBJECT_WORDS)}",
            keywords=", ".join(rng.sample(SUBJECT_WORDS, 2)),
            content="" if is_container else f"<p>{' '.join(rng.choices(BODY_WORDS, k=12))}</p>",
            conversationid="", departmentid=entities.departments[n % len(entities.departments)].id
            if kind in "QG" else "",
            views=rng.randrange(5000), votes=rng.randrange(50), created=created, changed=changed,
            deleted="Y" if kind in "RS" and n % 9 == 0 else "N",
            description=f"Description of {kind}-{next_id}" if is_container else "",
        )
        entries.append(entry)
        if is_container:
            parents.append(entry)
        next_id += 1
    return entries


def ascii_slug(text: str) -> str:
    """'Chloé O'Brien' -> 'chloeobrien', for generated e-mail addresses."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def make_customer(codecs: Codecs, seed: int, index: int) -> Customer:
    rng = random.Random(seed * 7919 + index * 104729 + 11)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    contactid = codecs.customer.encode(index)
    email = f"{ascii_slug(first)}.{ascii_slug(last)}.{contactid}@customers.example.org"
    return Customer(contactid=contactid, firstname=first, lastname=last, email=email)


def customer_pool_size(config: DatasetConfig) -> int:
    return max(5, config.conversations // 4)


def make_company(codecs: Codecs, config: DatasetConfig, start: int, index: int) -> Company:
    rng = random.Random(config.seed * 31337 + index)
    name = f"{rng.choice(LAST_NAMES)} {rng.choice(['Ltd.', 'GmbH', 'Co.', 's.r.o.', 'Inc.'])}"
    domain = f"company{index}.example.net"
    return Company(
        index=index, id=codecs.company.encode(index), name=name,
        emails=[f"support@{domain}"] + ([f"boss@{domain}"] if index % 2 else []),
        phones=[f"+421{rng.randrange(10**8, 10**9)}"] if index % 3 else [],
        created=start + rng.randrange(config.days * DAY), language=rng.choice(["en", "de", "sk"]),
        ip=f"10.{index % 250}.{rng.randrange(250)}.{rng.randrange(1, 250)}",
        groups=sorted(rng.sample(range(config.customer_groups), min(2, config.customer_groups)))
        if config.customer_groups and index % 2 else [],
        custom_fields=[("n. of people", str(rng.randrange(1, 500)))] if index % 4 else [],
    )


def _words(rng: random.Random, pool: list[str], count: int) -> str:
    return " ".join(rng.choices(pool, k=count))


def generate_conversation(
    config: DatasetConfig, entities: Entities, codecs: Codecs, start: int, end: int, index: int,
) -> Conversation:
    """Conversation `index` with its message groups, deterministic in (seed, index)."""
    rng = random.Random(config.seed * 1_000_003 + index)
    span = max(1, end - start)
    # creation follows the internal id roughly, with jitter, as imports and clock skew allow
    created = start + int(span * (index + rng.random() * 3) / (config.conversations + 3))
    created = min(created, end)
    department = rng.randrange(len(entities.departments))
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    owner = rng.randrange(customer_pool_size(config))
    candidates = [a for a in entities.agents if a.department == department] or entities.agents
    agent = rng.choice(candidates).index if rng.random() < 0.85 else None
    customer_id = codecs.customer.encode(owner)
    # resolve and rating messages add about half a message on average
    budget = max(1, round(rng.uniform(1, 2 * config.messages_per_conversation - 2)))
    groups = _generate_groups(rng, entities, index, channel, agent, customer_id, created,
                              min(end, created + MAX_CONVERSATION_SPAN), budget)
    last_event = max(g.finished for g in groups)
    resolved = any(g.rtype == "R" for g in groups)
    status = _status(rng, groups, resolved, customer_id)
    changed = min(end, last_event)  # nothing changes after the account's now
    if rng.random() < 0.1:  # touched later (a tag, a field): datechanged is not creation order
        changed = min(end, last_event + rng.randrange(30 * DAY))
    dept = entities.departments[department]
    tag_count = rng.choice([0, 0, 1, 1, 2, 3]) if entities.tags else 0
    return Conversation(
        index=index, created=created, changed=changed, status=status, department=department,
        channel=channel, owner=owner, agent=agent,
        subject="" if rng.random() < 0.02 else
        f"{rng.choice(SUBJECT_WORDS).capitalize()} {_words(rng, SUBJECT_WORDS, 2)}",
        preview=groups[0].messages[0].text[:100],
        tags=sorted(rng.sample(range(len(entities.tags)), tag_count)),
        datedue=created + dept.sla_seconds if dept.sla_seconds and status != "B" else None,
        ownernote=None if rng.random() < 0.9 else "Prefers email",
        customfields=[("varsymbol", str(rng.randrange(10**8, 10**9)))] if index % 3 == 0 else [],
        groups=groups,
    )


def _generate_groups(
    rng: random.Random, entities: Entities, index: int, channel: str, agent: int | None,
    customer_id: str, created: int, limit: int, budget: int,
) -> list[MessageGroup]:
    group_no = 0
    message_no = 0
    groups: list[MessageGroup] = []

    def new_group(userid: str, rtype: str, at: int) -> MessageGroup:
        nonlocal group_no
        group = MessageGroup(index * 64 + group_no, userid, rtype, "V", at, at, [])
        group_no += 1
        groups.append(group)
        return group

    def add(group: MessageGroup, userid: str, rtype: str, at: int, text: str) -> None:
        nonlocal message_no, budget
        group.messages.append(Message(index * 256 + message_no, userid, rtype, at, text))
        group.finished = max(group.finished, at)
        message_no += 1
        budget -= 1

    def replier() -> str:
        if agent is not None and rng.random() < 0.8:
            return entities.agents[agent].userid
        return rng.choice(entities.agents).userid

    now = created
    chat = channel in CHAT_CHANNELS
    first = new_group(customer_id, INCOMING_GROUP_TYPE.get(channel, "3"), now)
    add(first, customer_id, "M", now, _words(rng, BODY_WORDS, rng.randrange(3, 20)))
    from_customer = True
    while budget > 0 and group_no < 60 and message_no < 250:
        gap = 30 + int(rng.expovariate(1 / (90 if chat else 4 * 3600)))
        if now + gap > limit:
            break
        now += gap
        if not chat and rng.random() < 0.08:  # an internal note between replies
            note = new_group(replier(), "I", now)
            add(note, note.userid, "N", now, _words(rng, BODY_WORDS, 6))
            continue
        from_customer = not from_customer
        author = customer_id if from_customer else replier()
        if chat:
            add(first, author, "M", now, _words(rng, BODY_WORDS, rng.randrange(2, 12)))
        else:
            rtype = INCOMING_GROUP_TYPE.get(channel, "3") if from_customer else \
                REPLY_GROUP_TYPE.get(channel, "4")
            group = new_group(author, rtype, now)
            add(group, author, "M", now, _words(rng, BODY_WORDS, rng.randrange(3, 30)))
    if not from_customer and rng.random() < 0.7 and now + 600 <= limit:
        now += 60 + rng.randrange(600)
        resolver = replier()
        resolve = new_group(resolver, "R", now)
        add(resolve, resolver, "J", now, "Resolved")
        rating = rng.random()
        if rating < 0.4:
            add(resolve, customer_id, "P" if rating < 0.3 else "W", now, "")
    return groups


def _status(rng: random.Random, groups: list[MessageGroup], resolved: bool, customer: str) -> str:
    roll = rng.random()
    if roll < 0.02:
        return "B"
    if roll < 0.04:
        return "X"
    if resolved:
        return "L" if roll < 0.1 else "R"
    if roll < 0.09:
        return "W"
    last = max(groups, key=lambda g: g.finished)
    last_author = last.messages[-1].userid if last.messages else last.userid
    if last_author == customer:
        return "N" if len(groups) == 1 and len(groups[0].messages) == 1 else "C"
    return "A"


def sessions_for_day(
    config: DatasetConfig, entities: Entities, day_start: int, weekday: int
) -> list[Session]:
    """Agents' online sessions that start on the account-local day beginning at `day_start`."""
    day_no = day_start // DAY
    rng = random.Random(config.seed * 65537 + day_no)
    sessions = []
    for agent in entities.agents:
        if rng.random() > (0.85 if weekday < 5 else 0.3):
            continue
        start = day_start + 7 * 3600 + rng.randrange(3 * 3600)
        length = 3 * 3600 + rng.randrange(6 * 3600)
        sessions.append(Session(day_no * 1000 + agent.index, agent.index, agent.department,
                                start, start + length))
    return sessions
