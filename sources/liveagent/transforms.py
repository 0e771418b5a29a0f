"""Pure record transforms: API rows (all text, account-local datetimes) into typed rows.

Rules, the same for every table:
- datetimes are read in the account time zone and stored as timezone-aware UTC;
- a value that comes as "" is NULL, whatever the field (LiveAgent sends "" for absent values,
  and no destination could keep both: Postgres' CSV loading turns "" into NULL);
- constlist codes (status, rtype, ...) are kept as delivered;
- secret fields (agent auth tokens, cookie names) are dropped before anything else sees them;
- text is cleaned for every destination: NUL characters are removed (Postgres refuses them) and
  lone UTF-16 surrogates become U+FFFD (no UTF-8 encoder accepts them);
- a row that breaks these rules raises `BadRowError`; `convert_each` turns that into a
  `Rejected` record, so one bad row costs that row.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pendulum
from dlt.common.schema.typing import TColumnSchema

from .dictionary import described_columns
from .exceptions import BadRowError, ConfigurationError
from .settings import (
    AGENTS,
    COMPANIES,
    DELETED_AT,
    MESSAGE_GROUPS,
    MESSAGES,
    SECRET_FIELDS,
    UNCOUNTED_GROUP_TYPES,
    Kind,
    Report,
    Table,
)

Row = dict[str, Any]
UTC = timezone.utc
DATA_TYPES: dict[Kind, str] = {
    "id": "text", "text": "text", "int": "bigint", "float": "double", "datetime": "timestamp",
    "utc_datetime": "timestamp", "date": "date", "bool": "bool",
}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# MySQL's "zero date", which PHP applications emit for "no date"
_ZERO_DATE = "0000-00-00"


def clean_text(value: str) -> str:
    """`value` as every destination accepts it: without NUL, lone surrogates as U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def clean(value: Any) -> Any:
    """`clean_text` applied to every string inside `value` (lists and objects too); "" -> None
    at the top level only, since "" inside a list is data."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Rejected:
    """A row kept out of its table: which table, its key when it has one, why, and the row as
    LiveAgent sent it (secrets removed)."""

    table: str
    key: str | None
    reason: str
    raw: Any


class AccountTime:
    """The account time zone: the one datetime parser of the source, and local-day arithmetic."""

    def __init__(self, name: str) -> None:
        try:
            self.zone = pendulum.timezone(name)
        except Exception:
            raise ConfigurationError(
                f"Unknown time zone '{name}' in sources.liveagent.timezone "
                "(SOURCES__LIVEAGENT__TIMEZONE); use an IANA name such as Europe/Bratislava"
            ) from None
        self.name = name

    def parse(self, value: str | None, utc: bool = False) -> datetime | None:
        """'YYYY-MM-DD HH:MM:SS' (or a bare date) in the account zone -> aware UTC."""
        if value is None or value == "" or value == "now" or str(value).startswith(_ZERO_DATE):
            return None
        try:
            naive = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise BadRowError(f"LiveAgent sent a malformed datetime: {value!r}") from None
        if naive.tzinfo is not None:
            return naive.astimezone(UTC)
        return naive.replace(tzinfo=UTC if utc else self.zone).astimezone(UTC)

    def latest_reading(self, moment: datetime) -> datetime:
        """The latest instant the wall time of `moment` can mean: in the hour a DST change
        repeats, a LiveAgent datetime is ambiguous (it carries no offset), and `parse` reads
        its first pass; this is its second."""
        wall = moment.astimezone(self.zone).replace(tzinfo=None)
        second = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        return max(moment, second)

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def zone_mismatch(self, server_time: Any, utc_now: datetime) -> str | None:
        """Why the account's clock (`current_server_time`, local wall time) says this zone
        cannot be the account's, or None. Compared with this machine's UTC clock to the
        quarter hour; clocks further apart than any zone offset tell nothing."""
        try:
            wall = datetime.fromisoformat(str(server_time))
        except ValueError:
            return None
        quarter = timedelta(minutes=15)
        seen = round((wall - utc_now.replace(tzinfo=None)) / quarter) * quarter
        expected = utc_now.astimezone(self.zone).utcoffset()
        if abs(seen) > MAX_ZONE_OFFSET or seen == expected or expected is None:
            return None
        off = abs(seen - expected).total_seconds() / 3600
        return (
            f"LiveAgent's clock reads {server_time}, which is UTC{_offset(seen)} by this "
            f"machine's clock, but sources.liveagent.timezone is {self.name} "
            f"(UTC{_offset(expected)} now): every datetime would load {off:g} h off. Set it to "
            f"the account's zone (UTC{_offset(seen)} now: {zones_at(seen, utc_now)}), or set "
            "sources.liveagent.check_timezone = false if the account's clock is known to be off"
        )

    def day_start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(UTC)

    def to_local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def render_lower_bound(self, moment: datetime) -> str:
        """Wall time for a `>=` filter: never later than `moment`, even in the repeated hour
        of a DST change, whichever occurrence the server picks."""
        return self._render(moment, -1)

    def render_upper_bound(self, moment: datetime) -> str:
        """Wall time for a `<=` filter: never earlier than `moment`."""
        return self._render(moment, +1)

    def _render(self, moment: datetime, direction: int) -> str:
        local = moment.astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        first = wall.replace(tzinfo=self.zone, fold=0).utcoffset()
        second = wall.replace(tzinfo=self.zone, fold=1).utcoffset()
        if first is not None and second is not None and first != second:
            local = (moment + direction * abs(first - second)).astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M:%S")


def after_the_mark(rows: list[Row], low: datetime | None, time: AccountTime) -> list[Row]:
    """`rows`, a change whose wall time falls in the hour a DST change repeats read as its
    second pass when its first would put it before the high-water mark `low`: the server
    may have meant either, and dlt's incremental drops rows before the mark. (A change of
    the first pass read again at the boundary is then merged once more, an hour late.)"""
    if low is not None:
        for row in rows:
            if row["datechanged"] < low:
                row["datechanged"] = time.latest_reading(row["datechanged"])
    return rows


MAX_ZONE_OFFSET = timedelta(hours=14)


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zones_at(offset: timedelta, utc_now: datetime) -> str:
    """A few IANA zones at `offset` now, two per region, and how many there are."""
    matching = sorted(name for name in available_timezones()
                      if "/" in name and name.split("/")[0] in _REGIONS
                      and utc_now.astimezone(ZoneInfo(name)).utcoffset() == offset)
    shown: list[str] = []
    for region in _REGIONS:
        shown += [name for name in matching if name.startswith(region + "/")][:2]
    return ", ".join(shown[:8]) + (f" and {len(matching) - len(shown[:8])} more"
                                   if len(matching) > 8 else "")


_REGIONS = ("Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic",
            "Indian", "Antarctica")


def parse_start_date(
    value: str | date | datetime | None, time: AccountTime, exclusive_end: bool = False
) -> datetime | None:
    """A start/end date from config or the CLI: 'YYYY-MM-DD' (account-local midnight) or an
    ISO datetime (account-local unless it carries an offset). With `exclusive_end`, a bare
    date means the end of that day (the next day's midnight)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=time.zone)
        return aware.astimezone(UTC)
    if isinstance(value, date):
        return time.day_start(value + timedelta(days=1 if exclusive_end else 0))
    parsed = parse_date_text(value)
    if isinstance(parsed, datetime):
        return parse_start_date(parsed, time)
    return parse_start_date(parsed, time, exclusive_end)


def parse_date_text(value: str) -> date | datetime:
    """'YYYY-MM-DD' as a date, an ISO datetime (a trailing Z is UTC) as a datetime: the one
    reading of a date a user typed (config, CLI, Dagster). Raises `ConfigurationError`."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            f"Malformed date {value!r}: use YYYY-MM-DD or an ISO datetime like "
            "2025-01-31T08:00:00"
        ) from None
    return parsed.date() if len(text) == 10 else parsed


def convert(row: Mapping[str, Any], table: Table, time: AccountTime) -> Row:
    """Typed copy of an API row with every known field (missing ones NULL); unknown fields
    pass through (cleaned), secrets and `drop` never do. Raises `BadRowError`."""
    check_required(row, table)
    out: Row = dict.fromkeys(table.fields)  # a known field LiveAgent did not send is NULL
    for name, value in row.items():
        if name in SECRET_FIELDS or name in table.drop:
            continue
        kind = table.fields.get(name)
        if kind is not None:
            out[name] = convert_value(value, kind, name, time)
        else:
            out[name] = None if value == "" else clean(value)
    return out


def convert_each(
    rows: Iterable[Any], table: Table, time: AccountTime,
    check: Callable[[Row], None] | None = None, key_fields: Sequence[str] | None = None,
) -> tuple[list[Row], list[Rejected]]:
    """The rows that convert (and pass `check`), and the others as `Rejected` records keyed by
    `key_fields` (default: the table's primary key)."""
    converted: list[Row] = []
    rejected: list[Rejected] = []
    for raw in rows:
        try:
            row = convert(raw, table, time)
            if check is not None:
                check(row)
        except BadRowError as error:
            rejected.append(rejected_row(table.name, raw, key_fields or table.primary_key,
                                         error))
        else:
            converted.append(row)
    return converted, rejected


def rejected_row(table: str, raw: Any, key_fields: Iterable[str], error: Exception) -> Rejected:
    return Rejected(table, row_key(raw, key_fields), str(error), without_secrets(raw))


def row_key(raw: Any, key_fields: Iterable[str]) -> str | None:
    """The row's key as one text ('a|b' for two fields), None when a part is missing."""
    if not isinstance(raw, Mapping):
        return None
    parts = [raw.get(name) for name in key_fields]
    if not parts or any(part in (None, "") or isinstance(part, (dict, list)) for part in parts):
        return None
    return "|".join(str(part) for part in parts)


def without_secrets(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {k: without_secrets(v) for k, v in raw.items() if k not in SECRET_FIELDS}
    if isinstance(raw, list):
        return [without_secrets(item) for item in raw]
    return raw


def check_required(row: Mapping[str, Any], table: Table) -> None:
    if not isinstance(row, Mapping):
        raise BadRowError(f"LiveAgent sent {type(row).__name__} where a {table.name} row "
                          "belongs")
    for name in table.required:
        if row.get(name) in (None, ""):
            raise BadRowError(f"LiveAgent sent a {table.name} row without '{name}': "
                              f"{_preview(row)}")


def _preview(row: Mapping[str, Any]) -> str:
    text = repr(dict(row))
    return text if len(text) <= 120 else text[:117] + "..."


def convert_value(value: Any, kind: Kind, name: str, time: AccountTime) -> Any:
    if isinstance(value, (dict, list)):
        raise BadRowError(
            f"LiveAgent sent a {type(value).__name__} for the {kind} field '{name}'"
        )
    if value is None or value == "":
        return None
    if kind in ("text", "id"):
        return clean_text(value if isinstance(value, str) else str(value))
    if kind in ("datetime", "utc_datetime"):
        try:
            return time.parse(value, utc=kind == "utc_datetime")
        except BadRowError:
            raise BadRowError(f"LiveAgent sent a malformed datetime in '{name}': {value!r}"
                              ) from None
    try:
        if kind == "int":
            return _integer(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        raise BadRowError(
            f"LiveAgent sent {value!r} for the numeric field '{name}'"
        ) from None
    return value


def _integer(value: Any) -> int:
    """A count as LiveAgent sends it: 3, "3", 3.0 or "3.0" (never True or "3.5")."""
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return value
    number = float(value)
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def column_hints(table: Table) -> dict[str, TColumnSchema]:
    """dlt column schema for the table's known fields (keys are API field names)."""
    hints: dict[str, TColumnSchema] = {}
    for name, kind in table.fields.items():
        column: TColumnSchema = {"data_type": DATA_TYPES[kind], "nullable": True}  # type: ignore[typeddict-item]
        if kind in ("datetime", "utc_datetime"):
            column["timezone"] = True
        if name in table.primary_key:
            column["nullable"] = False
        hints[name] = column
    if table.marks_deletes:
        hints[DELETED_AT] = {"data_type": "timestamp", "timezone": True, "nullable": True}
        hints[table.hard_delete_column] = {"data_type": "bool", "hard_delete": True}
    return described_columns(table.name, hints)


# -- conversations ---------------------------------------------------------------------------
def dedup_columns(table: Table) -> tuple[str, ...]:
    """Incremental dedup key for rows at the high-water mark: every loaded field, so a row
    re-read at the boundary is dropped only when nothing in it changed."""
    return tuple(sorted(table.fields))


def conversation_tags(conversation: Mapping[str, Any]) -> list[Row]:
    """One row per tag id in the comma-separated `tags` field; a conversation without tags gets
    a tombstone row that only deletes its previous tag rows (see the `deleted` hard-delete hint).
    """
    conversationid = conversation["conversationid"]
    tag_ids = sorted({t.strip() for t in (conversation.get("tags") or "").split(",") if t.strip()})
    if not tag_ids:
        return [{"conversationid": conversationid, "tag_id": "", "deleted": True}]
    return [{"conversationid": conversationid, "tag_id": tag_id} for tag_id in tag_ids]


@dataclass
class ConversationMessages:
    """What one GET /conversations/{id}/messages gave: its rows and the rows kept out, how many
    groups the answer and the listing count (see `counted_groups`, `listed_groups`)."""

    conversationid: str
    groups: list[Row]
    messages: list[Row]
    rejected: list[Rejected]
    answered: int | None = None  # counted groups of the answer; None: no answer (404, failed)
    listed: int | None = None  # counted groups by the listed row; None: it does not say


def message_rows(
    conversationid: str, groups: Iterable[Any], time: AccountTime,
    check_group: Callable[[Row], None] | None = None,
    check_message: Callable[[Row], None] | None = None,
) -> ConversationMessages:
    """Message groups and messages of one conversation, each row carrying its parents' ids.
    A group without `messagegroupid` (the reference's own example has none) gets a derived
    key (`derived_group_key`); its messages point to it. A bad group or message costs itself."""
    result = ConversationMessages(conversationid, [], [], [])
    seen: Counter[str] = Counter()
    for group in groups:
        if not isinstance(group, Mapping):
            result.rejected.append(rejected_row(MESSAGE_GROUPS.name, group, (), BadRowError(
                f"LiveAgent sent {type(group).__name__} where a message group belongs")))
            continue
        if group.get("messagegroupid") in (None, ""):
            group = {**group, "messagegroupid": derived_group_key(conversationid, group, seen)}
        groups_ok, rejected = convert_each([group], MESSAGE_GROUPS, time, check_group,
                                           ("messagegroupid",))
        for row in groups_ok:
            row["conversationid"] = conversationid
        raw_messages = group.get("messages") or []
        messages, rejected_messages = convert_each(
            raw_messages if isinstance(raw_messages, list) else [raw_messages], MESSAGES, time,
            check_message, ("messageid",))
        for row in messages:
            row["conversationid"] = conversationid
            row["messagegroupid"] = str(group["messagegroupid"])
        result.groups.extend(groups_ok)
        result.messages.extend(messages)
        result.rejected.extend(
            Rejected(r.table, f"{conversationid}|{r.key}" if r.key else None, r.reason, r.raw)
            for r in (*rejected, *rejected_messages))
    return result


def listed_groups(conversation: Mapping[str, Any]) -> int | None:
    """The message groups a converted conversation row counts (`messagegroupsin` +
    `messagegroupsout`); None when it does not say."""
    counts = [conversation.get(name) for name in ("messagegroupsin", "messagegroupsout")]
    if any(not isinstance(count, int) for count in counts):
        return None
    return sum(counts)  # type: ignore[arg-type]


def counted_groups(groups: Iterable[Any]) -> int:
    """The groups of a /messages answer the listing's counts count: all but the types of
    `UNCOUNTED_GROUP_TYPES` (notes and events)."""
    return sum(1 for group in groups
               if isinstance(group, Mapping) and group.get("rtype") not in UNCOUNTED_GROUP_TYPES)


def derived_group_key(conversationid: str, group: Mapping[str, Any], seen: Counter[str]) -> str:
    """A stable key for a message group LiveAgent sent without `messagegroupid`: '~' and a
    digest of its conversation, author, type, creation time and first message id, so the
    same group gets the same key on every read; '~...-2' for an identical second group."""
    listed = group.get("messages")
    messages = listed if isinstance(listed, list) else []
    first = next((str(m.get("messageid")) for m in messages
                  if isinstance(m, Mapping) and m.get("messageid")), "")
    basis = [conversationid, *(str(group.get(f) or "") for f in DERIVED_KEY_FIELDS), first]
    digest = hashlib.sha1(json.dumps(basis).encode()).hexdigest()[:16]
    seen[digest] += 1
    return f"~{digest}" if seen[digest] == 1 else f"~{digest}-{seen[digest]}"


DERIVED_KEY_FIELDS = ("userid", "rtype", "datecreated")


# -- companies, agents -----------------------------------------------------------------------
def company_row(listed: Mapping[str, Any], detail: Mapping[str, Any] | None, time: AccountTime
                ) -> Row:
    """The list row enriched with its details; `emails` is always a list."""
    merged = {**listed, **(detail or {})}
    emails = merged.get("emails")
    if isinstance(emails, str):
        merged["emails"] = [e.strip() for e in emails.split(",") if e.strip()]
    return convert(merged, COMPANIES, time)


def agent_row(online: Mapping[str, Any], detail: Mapping[str, Any] | None, time: AccountTime
              ) -> Row:
    """An agent from the online-status list plus its details, without secrets."""
    merged: Row = {
        "id": online["id"], "contactid": online.get("contactid"),
        "email": online.get("username"), "firstname": online.get("firstname"),
        "lastname": online.get("lastname"), "avatar_url": online.get("avatar_url"),
        "preset_status": online.get("presetStatus"),
    }
    for name, value in (detail or {}).items():
        if name not in SECRET_FIELDS and name not in ("userid",):
            merged[name] = value
    return convert(merged, AGENTS, time)


def online_status_row(online: Mapping[str, Any], snapshot_at: datetime) -> Row:
    return {"id": online["id"], "snapshot_at": snapshot_at,
            "online_status": online.get("onlineStatus"),
            "preset_status": online.get("presetStatus")}


# -- reports ---------------------------------------------------------------------------------
def report_kind(report: Report, column: str) -> Kind:
    """Documented kind of a report column: ids, names and datetimes as listed; rates, shares
    and averages sent as "0.00" are doubles; every other column is a count (bigint)."""
    known = report.table.fields.get(column)
    if known is not None:
        return known
    if column in report.text_columns:
        return "text"
    if column.endswith(("_p", "_ph")) or column.startswith("avg"):
        return "float"
    return "int"


def report_rows(
    report: Report, rows: Iterable[Any], report_date: date, time: AccountTime,
    check: Callable[[Row], None] | None = None,
) -> tuple[list[Row], list[Rejected]]:
    """Typed rows of one report day, each carrying `report_date`; bad rows as `Rejected`."""
    converted: list[Row] = []
    rejected: list[Rejected] = []
    key_fields = report.table.required
    for row in rows:
        try:
            check_required(row, report.table)
            out: Row = {name: convert_value(value, report_kind(report, name), name, time)
                        for name, value in row.items() if name not in SECRET_FIELDS}
            if check is not None:
                check(out)
        except BadRowError as error:
            found = rejected_row(report.table.name, row, key_fields, error)
            key = f"{report_date.isoformat()}|{found.key}" if found.key else None
            rejected.append(Rejected(found.table, key, found.reason, found.raw))
            continue
        out["report_date"] = report_date
        converted.append(out)
    return converted, rejected


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
