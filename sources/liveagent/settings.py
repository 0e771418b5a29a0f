"""Constants of the LiveAgent source: endpoints, page sizes, and the type of every known field.

No logic lives here. A field's kind decides both how its text value is converted and the
column type dlt creates, so conversion and schema cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "text", "int", "float", "datetime", "utc_datetime", "date", "bool"]

DEFAULT_TIMEZONE = "GMT"
DEFAULT_REQUESTS_PER_MINUTE = 180.0
DEFAULT_MAX_WORKERS = 16
DEFAULT_REPORT_LOOKBACK_DAYS = 3
DEFAULT_REPORT_HISTORY_DAYS = 90  # reports start this many days back when start_date is unset
DEFAULT_REQUEST_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_CONVERSATIONS_PER_LOAD = 10_000  # a long backfill commits after each such chunk
DEFAULT_PRIORITY_DAYS = 30  # the first load reads this many days back; history follows
# pyrate-limiter sleeps this long past each freed slot; its default of 50 ms stretches every
# one-second window to 1.05 s, leaving 5% of the budget unused (measured: 0.949 of the limit)
LIMITER_BUFFER_MS = 5
# LiveAgent's cap per IP address, whatever the keys (its support article on request limits);
# a pool of keys whose limits add up to more is held to it
IP_REQUESTS_PER_SECOND = 300.0
DEFAULT_DETAILS_REFRESH_DAYS = 7  # company/agent details of unchanged list rows re-read after
# rejected units (a conversation, its messages, a report day, a knowledge-base entry) each
# resource reads again per run, least recently read first: 100 conversations cost at most 200
# requests (66 s at 180/min), 100 days of one report 100
DEFAULT_REREADS_PER_RUN = 100
DEFAULT_SHORT_MESSAGE_READS = 3  # reads that fall short before messages are taken as given
# message group types `messagegroupsin`/`messagegroupsout` do not count (see the README): notes
# and internal calls (I, Z, U, 1) and events (resolve R, postpone J, transfer T, tag G, start
# info S, delete X, split L, merged 2); every other group is a message in or out
UNCOUNTED_GROUP_TYPES = frozenset("IZU1RJTGSXL2")

CONVERSATIONS_PAGE_SIZE = 1000  # documented maximum of GET /conversations
KB_PAGE_SIZE = 500  # documented maximum of the knowledge base lists
REPORT_PAGE_SIZE = 1000  # documented maximum of limitcount
PERFORMANCE_GROUP_BY = ("hour", "day", "week", "month")

# never loaded, whatever endpoint returns them
SECRET_FIELDS = frozenset({"authtoken", "browsercookiename", "apikey"})


# when the pipeline noticed that a row left LiveAgent (UTC); NULL while it is there
DELETED_AT = "_liveagent_deleted_at"
# the hard-delete column of deletes = "remove": a row with it true removes its key's rows
REMOVED = "_liveagent_removed"
DELETE_MODES = ("mark", "remove")
DEFAULT_RECONCILE_DAYS = 7  # all conversation ids are listed this often to find purged ones
# a listing that lacks more of a table's live keys than this share, or than the few rows
# always allowed (at most half a table: real deletions in a short list, like a knowledge-base
# category with its 6 articles of 40 entries), whichever is more, is a wrong answer
DEFAULT_MAX_DELETED_SHARE = 0.05
DELETES_ALWAYS_ALLOWED = 10


@dataclass(frozen=True)
class Table:
    """A warehouse table: its name, key and the kinds of the API fields it holds."""

    name: str
    primary_key: tuple[str, ...]
    fields: dict[str, Kind]
    drop: frozenset[str] = field(default_factory=frozenset)  # API fields not loaded
    required: tuple[str, ...] = ()  # API fields a row is refused without (key, cursor)
    marks_deletes: bool = True  # rows that leave LiveAgent get DELETED_AT (see deletions.py)
    hard_delete_column: str = REMOVED  # true in a row that only removes its key's rows


CONVERSATIONS = Table(
    "conversations", ("conversationid",),
    {
        "conversationid": "id", "code": "id", "publicurlcode": "id", "departmentid": "id",
        "datecreated": "datetime", "datechanged": "datetime", "datedue": "datetime",
        "departmentname": "text", "status": "text", "ownername": "text", "owneremail": "text",
        "subject": "text", "preview": "text", "tags": "text", "channel_type": "text",
        "messagegroupsin": "int", "messagegroupsout": "int",
    },
    drop=frozenset({"cursor"}),  # opaque paging token, not data
    required=("conversationid", "datechanged"),
)
CONVERSATION_DETAILS = Table(
    "conversation_details", ("conversationid",),
    {**CONVERSATIONS.fields, "ownernote": "text", "assignedto": "id"},
    drop=frozenset({"cursor"}), required=("conversationid",),
)
CONVERSATION_TAGS = Table(
    "conversation_tags", ("conversationid", "tag_id"),
    {"conversationid": "id", "tag_id": "id"},
    hard_delete_column="deleted",  # dlt honours one hard-delete column; this one came first
)
# Keys of the tables rewritten per conversation start with conversationid: dlt deletes their
# old rows with `primary key OR merge key`, which no database can hash-join (DuckDB 92 s vs
# 0.2 s, Postgres > 120 s vs 0.05 s on 500k rows); with the conversation in the key the
# condition reduces to the merge key. The ids alone stay unique.
MESSAGE_GROUPS = Table(
    "message_groups", ("conversationid", "messagegroupid"),
    {
        "messagegroupid": "id", "conversationid": "id", "userid": "id", "rtype": "text",
        "rstatus": "text", "datecreated": "datetime", "datefinished": "datetime",
    },
    drop=frozenset({"messages"}), required=("messagegroupid",),
)
MESSAGES = Table(
    "messages", ("conversationid", "messageid"),
    {
        "messageid": "id", "messagegroupid": "id", "conversationid": "id", "userid": "id",
        "rtype": "text", "datecreated": "datetime", "message": "text",
    },
    required=("messageid",),
)
COMPANIES = Table(
    "companies", ("id",),
    {"id": "id", "name": "text", "datecreated": "datetime", "language": "text", "ip": "text"},
    required=("id",),
)
KNOWLEDGEBASES = Table("knowledgebases", ("kb_id",), {"kb_id": "id", "name": "text"},
                       required=("kb_id",))
KB_ENTRIES = Table(
    "kb_entries", ("kb_entry_id",),
    {
        "kb_id": "id", "kb_entry_id": "id", "parent_entry_id": "id", "conversationid": "id",
        "departmentid": "id", "rtype": "text", "rstatus": "text", "access": "text",
        "access_inherited": "text", "urlcode": "text", "treepath": "text", "title": "text",
        "metadescription": "text", "keywords": "text", "content": "text", "deleted": "text",
        "description": "text", "rorder": "int", "views": "int", "votes": "int",
        "datecreated": "datetime", "datechanged": "datetime",
    },
    required=("kb_entry_id", "datechanged"),
)
TAGS = Table("tags", ("id",), {"id": "id", "name": "text"}, required=("id",))
CUSTOMER_GROUPS = Table("customer_groups", ("id",), {"id": "id", "name": "text"},
                        required=("id",))
SUGGESTION_CATEGORIES = Table(
    "suggestion_categories", ("id",), {"id": "id", "title": "text", "path": "text"},
    required=("id",),
)
AGENTS = Table(
    "agents", ("id",),
    {
        "id": "id", "contactid": "id", "email": "text", "firstname": "text", "lastname": "text",
        "systemname": "text", "gender": "text", "role": "text", "avatar_url": "text",
        "preset_status": "text",
    },
    drop=SECRET_FIELDS | {"userid", "username", "presetStatus", "onlineStatus"},
    required=("id",),
)
# a history: a removed agent's snapshots stay as they were
AGENT_ONLINE_STATUS = Table(
    "agent_online_status", ("id", "snapshot_at"),
    {"id": "id", "snapshot_at": "utc_datetime", "online_status": "text", "preset_status": "text"},
    marks_deletes=False,
)

# rows kept out of their tables (see rejections.py); `raw_json` is the row as LiveAgent sent it,
# secrets removed, as ASCII-escaped JSON text (a NUL stays visible as \u0000)
REJECTED_ROWS = Table(
    "rejected_rows", ("rejection_id",),
    {"rejection_id": "id", "table_name": "text", "row_key": "text", "conversationid": "id",
     "reason": "text", "raw_json": "text", "first_seen_at": "utc_datetime",
     "last_seen_at": "utc_datetime"},
    marks_deletes=False,
)


@dataclass(frozen=True)
class Report:
    """One of the nine report endpoints and the table it loads."""

    endpoint: str  # under /api/reports/
    data_key: str
    table: Table
    text_columns: frozenset[str] = frozenset()  # everything else numeric, see `report_kind`


def _report(
    endpoint: str, data_key: str, table: str, primary_key: tuple[str, ...],
    fields: dict[str, Kind], text: frozenset[str] = frozenset(),
) -> Report:
    required = tuple(k for k in primary_key if k != "report_date")  # the day is ours
    # reports are point-in-time aggregates: a deleted agent's past figures stay true
    return Report(endpoint, data_key, Table(table, primary_key, fields, required=required,
                                            marks_deletes=False), text)


_PER_DAY_KEY = ("report_date", "id")
_NAMES = frozenset({"firstname", "lastname", "channelName", "departmentName", "tagName"})
REPORTS: tuple[Report, ...] = (
    _report("agents", "agents", "report_agents", _PER_DAY_KEY,
            {"id": "id", "contactid": "id", "report_date": "date"}, _NAMES),
    _report("channels", "channels", "report_channels", _PER_DAY_KEY,
            {"id": "id", "report_date": "date"}, _NAMES),
    _report("departments", "departments", "report_departments", _PER_DAY_KEY,
            {"id": "id", "report_date": "date"}, _NAMES),
    _report("tags", "tags", "report_tags", _PER_DAY_KEY,
            {"id": "id", "report_date": "date"}, _NAMES),
    _report("performance", "performance", "report_performance", ("datetime",),
            {"datetime": "datetime", "dateto": "datetime", "report_date": "date"}),
    _report("tickets/load", "loads", "report_tickets_load", ("date",),
            {"date": "datetime", "report_date": "date"}),
    _report("tickets/slacompliance", "slacompliances", "report_sla_compliance", ("date",),
            {"date": "datetime", "report_date": "date"}),
    _report("tickets/slalog", "slalogs", "report_sla_log", ("id",),
            {"id": "id", "conversationid": "id", "code": "id", "departmentid": "id",
             "levelid": "id", "sla_level_id": "id", "agentid": "id", "req_contactid": "id",
             "date_created": "datetime", "date_closed": "datetime", "date_due": "datetime",
             "server_date_closed": "utc_datetime", "server_date_due": "utc_datetime",
             "report_date": "date"},
            frozenset({"department_name", "sla_level_name", "sla", "agent_firstname",
                       "agent_lastname", "req_firstname", "req_lastname"})),
    _report("tickets/agentsavailability", "agentsavailability", "report_agents_availability",
            ("id",),
            {"id": "id", "userid": "id", "contactid": "id", "departmentid": "id",
             "from_date": "datetime", "to_date": "datetime", "report_date": "date"},
            frozenset({"firstname", "lastname", "department_name", "hours_online"})),
)
