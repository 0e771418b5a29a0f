"""Personal data under the user's control (issue 21): columns excluded or hashed before
anything is written, and people forgotten on request.

`keyed_hash` is the one hash both use: HMAC-SHA256 keyed with the account's salt
(`sources.liveagent.privacy_salt`, a secret), so a hashed value is the same in every run and
every table (joins on it still work) and cannot be looked up without the salt.

`[sources.liveagent.privacy]` names warehouse columns as `table.column` (the data dictionary's
tables, dlt's snake_case column names):

    exclude = ["conversations.owneremail", "companies.phones"]  # never requested or written
    hash = ["conversations.ownername", "agents.email"]           # keyed_hash(value) instead
    message_bodies = false    # messages.message and the conversations' preview excluded

An excluded column is left out of the `columns` parameter of the endpoints that take one (the
reports, `REPORT_COLUMNS`) and dropped from every row before dlt sees it elsewhere; it stays in
its table, always NULL. A hashed value is replaced by its keyed hash (NULL stays NULL; each
element of a JSON list is hashed on its own). `rejected_rows` rows are treated by the rules of
the table they belong in (`raw_json`, and the values quoted in `reason`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.extract import DltResource
from dlt.extract.items import TableNameMeta

from .deletions import LoadedRow
from .dictionary import COLUMNS, column_description
from .exceptions import ConfigurationError
from .redaction import MASK, redact
from .settings import (
    AGENT_ONLINE_STATUS,
    AGENTS,
    COMPANIES,
    CONVERSATION_DETAILS,
    CONVERSATION_TAGS,
    CONVERSATIONS,
    CUSTOMER_GROUPS,
    KB_ENTRIES,
    KNOWLEDGEBASES,
    MESSAGE_GROUPS,
    MESSAGES,
    REJECTED_ROWS,
    REPORTS,
    SUGGESTION_CATEGORIES,
    TAGS,
    Table,
)
from .transforms import DATA_TYPES, report_kind

SALT_SETTING = "sources.liveagent.privacy_salt"
SETTING = "sources.liveagent.privacy"
EXCLUDED_NOTE = "Excluded by sources.liveagent.privacy: always NULL"
HASHED_NOTE = "Hashed by sources.liveagent.privacy (HMAC-SHA256 with the privacy salt)"
_KEYS = ("exclude", "hash", "message_bodies")
# what message_bodies = false leaves out: the bodies, and the conversations' preview (the start
# of their latest message)
MESSAGE_BODIES = (("messages", "message"), ("conversations", "preview"),
                  ("conversation_details", "preview"))
_TABLES: dict[str, Table] = {table.name: table for table in (
    CONVERSATIONS, CONVERSATION_DETAILS, CONVERSATION_TAGS, MESSAGE_GROUPS, MESSAGES, COMPANIES,
    KNOWLEDGEBASES, KB_ENTRIES, TAGS, CUSTOMER_GROUPS, SUGGESTION_CATEGORIES, AGENTS,
    AGENT_ONLINE_STATUS, *(report.table for report in REPORTS))}
# the conversations' fields other tables are made from (conversation_tags, the status
# history, the messages' completeness check): the transformers that make them are piped from
# `conversations` and see its rows after the privacy step, so these must stay as they are
_NEEDED = {"conversations": ("tags", "status", "departmentid", "channel_type", "datechanged",
                             "messagegroupsin", "messagegroupsout")}
# documented columns that hold JSON (lists, objects)
_JSON = {"companies": ("emails", "phones", "groups", "custom_fields", "unique_fields"),
         "conversation_details": ("customfields",)}
# the report endpoints that take a `columns` parameter (the reference; the others answer
# every column whatever is asked), by table
REPORT_COLUMNS = frozenset(report.table.name for report in REPORTS
                           if report.endpoint not in ("tickets/load", "tickets/slacompliance"))
# what `keyed_hash` writes: 64 lower-case hex digits
_KEYED_HASH = re.compile(r"[0-9a-f]{64}")


def keyed_hash(value: object, salt: str) -> str:
    """The hex HMAC-SHA256 of `value` as text, keyed with `salt`."""
    text = str(value).encode("utf-8", "surrogatepass")
    return hmac.new(salt.encode("utf-8"), text, hashlib.sha256).hexdigest()


def is_keyed_hash(value: object) -> bool:
    """Whether `value` is what `keyed_hash` writes: a value hashed already (by this setting or
    by `forget`), which is never hashed again. (A clear name, e-mail, id or message of exactly
    64 lower-case hex digits would be taken for one.)"""
    return isinstance(value, str) and _KEYED_HASH.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def column_name(field_name: str) -> str:
    """The warehouse column of an API field (dlt's snake_case: newAnswerAvgTime ->
    new_answer_avg_time)."""
    return NamingConvention().normalize_identifier(field_name)


def _fields(table: str) -> dict[str, str]:
    """The documented fields of `table`, by warehouse column name."""
    names = [*_TABLES[table].fields, *COLUMNS.get(table, {})]
    return {column_name(name): name for name in names if name != "report_date"}


def _data_type(table: str, field_name: str) -> str:
    kind = _TABLES[table].fields.get(field_name)
    if kind is not None:
        return DATA_TYPES[kind]
    if field_name in _JSON.get(table, ()):
        return "json"
    report = next((r for r in REPORTS if r.table.name == table), None)
    if report is not None:
        return DATA_TYPES[report_kind(report, field_name)]
    return "text"


@dataclass(frozen=True)
class Privacy:
    """The checked settings: excluded and hashed columns as (table, warehouse column)."""

    exclude: frozenset[tuple[str, str]] = frozenset()
    hash: frozenset[tuple[str, str]] = frozenset()
    salt: str | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return bool(self.exclude or self.hash)

    def excluded(self, table: str) -> frozenset[str]:
        return frozenset(column for name, column in self.exclude if name == table)

    def hashed(self, table: str) -> frozenset[str]:
        return frozenset(column for name, column in self.hash if name == table)

    # -- the schema --------------------------------------------------------------------------
    def column_hints(self, table: str) -> dict[str, Any]:
        """dlt column hints (keyed by API field name, as the resources' own) of the excluded
        and hashed columns of `table`: typed, so an excluded column exists with no value, and
        described as such."""
        hints: dict[str, Any] = {}
        if table not in _TABLES:
            return hints
        fields = _fields(table)
        for column in sorted(self.excluded(table)):
            name = fields[column]
            hints[name] = {"data_type": _data_type(table, name), "nullable": True,
                           "description": _described(table, name, EXCLUDED_NOTE)}
        for column in sorted(self.hashed(table)):
            name = fields[column]
            kind = "json" if _data_type(table, name) == "json" else "text"
            hints[name] = {"data_type": kind, "nullable": True,
                           "description": _described(table, name, HASHED_NOTE)}
        return hints

    def apply_hints(self, resource: DltResource) -> DltResource:
        """The column hints of every table `resource` writes: its own and the variants of the
        tables it routes rows to (dlt keeps those per table name, `_hints_variants`, which
        `reading.table_variant` made)."""
        own = resource.table_name if isinstance(resource.table_name, str) else None
        if own and (hints := self.column_hints(own)):
            resource.apply_hints(columns=hints)
        for table in list(getattr(resource, "_hints_variants", {})):
            if hints := self.column_hints(table):
                resource.apply_hints(table_name=table, columns=hints,
                                     create_table_variant=True)
        return resource

    def note(self, made_from: Iterable[str]) -> str | None:
        """What a column made from the warehouse columns `made_from` (`table.column`, the
        analyst layer's lineage) says of this setting: the column's own note when it is one
        excluded or hashed column, else which of them are; None when none is."""
        columns = [tuple(name.split(".", 1)) for name in made_from]
        excluded = [".".join(c) for c in columns if c in self.exclude]
        hashed = [".".join(c) for c in columns if c in self.hash]
        if len(columns) == 1 and (excluded or hashed):
            return EXCLUDED_NOTE if excluded else HASHED_NOTE
        said = [f"{verb} ({', '.join(names)})" for verb, names in
                (("excludes", excluded), ("hashes", hashed)) if names]
        return f"Made from columns sources.liveagent.privacy {' and '.join(said)}" \
            if said else None

    # -- the rows ----------------------------------------------------------------------------
    def requested_columns(self, table: str) -> str | None:
        """The `columns` parameter of a report endpoint that takes one: every documented column
        but the excluded ones; None (every column) when none is excluded."""
        excluded = self.excluded(table)
        if table not in REPORT_COLUMNS or not excluded:
            return None
        return ",".join(name for name in COLUMNS[table]
                        if name != "report_date" and column_name(name) not in excluded)

    def row_map(self, table: str | None) -> Callable[[Any, Any], Any]:
        """A dlt map step (`resource.add_map`) for a resource whose own table is `table`:
        each row as its table (the routed one, when it carries dlt's table name meta) may
        hold it."""
        def scrub(item: Any, meta: Any = None) -> Any:
            if not isinstance(item, dict):
                return item
            name = meta.table_name if isinstance(meta, TableNameMeta) else table
            if name == REJECTED_ROWS.name:
                return self.scrub_rejection(item)
            if isinstance(item, LoadedRow):  # as loaded: hashed already, perhaps by this salt
                return self.scrub_row(name, dict(item), hashing=False)
            return self.scrub_row(name, item)

        return scrub

    def scrub_row(self, table: str | None, row: dict[str, Any], hashing: bool = True
                  ) -> dict[str, Any]:
        """`row` (API field names) without its excluded values and with its hashed ones."""
        excluded, hashed = self.excluded(table or ""), self.hashed(table or "")
        if not excluded and not hashed:
            return row
        out = dict(row)
        for name, value in row.items():
            column = column_name(name)
            if column in excluded:
                out[name] = None
            elif column in hashed and hashing and value is not None:
                out[name] = self._hashed(value)
        return out

    def scrub_rejection(self, row: dict[str, Any]) -> dict[str, Any]:
        """A `rejected_rows` row with its raw row scrubbed by its table's rules, and the
        values those rules hide masked in its reason."""
        raw_json = row.get("raw_json")
        if not isinstance(raw_json, str):
            return row
        table = str(row.get("table_name") or "")
        raw = json.loads(raw_json)
        hidden: list[str] = []
        scrubbed = self._scrub_raw(table, raw, hidden)
        if not hidden:
            return row
        out = {**row, "raw_json": json.dumps(scrubbed, ensure_ascii=True, sort_keys=True,
                                             default=str)}
        if isinstance(row.get("reason"), str):
            out["reason"] = _masked(row["reason"], hidden)
        return out

    def _scrub_raw(self, table: str, raw: Any, hidden: list[str]) -> Any:
        if isinstance(raw, list):
            return [self._scrub_raw(table, item, hidden) for item in raw]
        if not isinstance(raw, dict):
            return raw
        excluded, hashed = self.excluded(table), self.hashed(table)
        out = {}
        for name, value in raw.items():
            column = column_name(name)
            if table == MESSAGE_GROUPS.name and name == "messages":
                out[name] = self._scrub_raw(MESSAGES.name, value, hidden)
            elif column in excluded or column in hashed:
                hidden.extend(_texts(value))
                out[name] = None if column in excluded or value is None \
                    else self._hashed(value)
            else:
                out[name] = value
        return out

    def _hashed(self, value: Any) -> Any:
        assert self.salt is not None  # checked_privacy refuses hashing without a salt
        if isinstance(value, list):
            return [self._hashed(item) for item in value]
        if isinstance(value, dict):
            return {key: self._hashed(item) for key, item in value.items()}
        return None if value is None else keyed_hash(value, self.salt)


def _described(table: str, name: str, note: str) -> str:
    text = column_description(table, name)
    return f"{text}. {note}" if text else note


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif value is not None and str(value):
        yield str(value)


def _masked(text: str, values: list[str]) -> str:
    """`text` with every one of `values` masked in any encoding (redaction.py), and the start
    of one cut off by a preview's `...` too."""
    text = redact(text, values)
    for value in values:
        for end in range(len(value) - 1, 2, -1):
            cut = value[:end] + "..."
            if cut in text:
                text = text.replace(cut, MASK + "...")
                break
    return text


# -- the settings ----------------------------------------------------------------------------
def checked_privacy(settings: Mapping[str, Any] | None, salt: str | None) -> Privacy:
    """The privacy settings, checked: a `ConfigurationError` (one line) names the setting and
    what is wrong."""
    if not settings:
        return Privacy()
    if not isinstance(settings, Mapping):
        raise ConfigurationError(f"{SETTING} must be a table (exclude, hash, message_bodies)")
    unknown = sorted(set(settings).difference(_KEYS))
    if unknown:
        raise ConfigurationError(f"{SETTING}: unknown key {unknown[0]!r} (known: "
                                 f"{', '.join(_KEYS)})")
    exclude = _columns(settings.get("exclude"), "exclude")
    hashed = _columns(settings.get("hash"), "hash")
    bodies = settings.get("message_bodies", True)
    if not isinstance(bodies, bool):
        raise ConfigurationError(f"{SETTING}.message_bodies must be true or false, got "
                                 f"{bodies!r}")
    if not bodies:
        exclude |= frozenset(MESSAGE_BODIES)
    both = sorted(exclude & hashed)
    if both:
        raise ConfigurationError(f"{SETTING}: {'.'.join(both[0])} is both excluded and hashed "
                                 "(excluded columns are not loaded at all)")
    for table, column in sorted(hashed):
        name = _fields(table)[column]
        if _data_type(table, name) not in ("text", "json"):
            raise ConfigurationError(f"{SETTING}.hash: {table}.{column} holds "
                                     f"{_data_type(table, name)} values: only text columns "
                                     "can be hashed (exclude it instead)")
    if hashed and not salt:
        raise ConfigurationError(
            f"{SETTING}.hash needs the secret {SALT_SETTING} (in .dlt/secrets.toml or env "
            "SOURCES__LIVEAGENT__PRIVACY_SALT): a long random text, kept for good (a new salt "
            "gives every hashed value a new hash)")
    return Privacy(exclude, hashed, salt or None)


def _columns(value: Any, key: str) -> frozenset[tuple[str, str]]:
    where = f"{SETTING}.{key}"
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigurationError(f"{where} must be a list like [\"conversations.owneremail\"]")
    found = set()
    for entry in value:
        table, dot, column = str(entry).strip().partition(".")
        if not dot or not table or not column:
            raise ConfigurationError(f"{where}: {entry!r} is not table.column (e.g. "
                                     "conversations.owneremail)")
        if table not in _TABLES:
            raise ConfigurationError(f"{where}: unknown table {table!r} in {entry!r} (tables: "
                                     f"{', '.join(sorted(_TABLES))})")
        fields = _fields(table)
        if column not in fields:
            raise ConfigurationError(f"{where}: {table} has no column {column!r} (its columns: "
                                     f"{', '.join(sorted(fields))})")
        definition = _TABLES[table]
        needed = {column_name(name) for name in (*definition.primary_key, *definition.required,
                                                 *_NEEDED.get(table, ()))}
        if column in needed:
            raise ConfigurationError(f"{where}: {table}.{column} is a key or a field other "
                                     "tables are made from; it cannot be excluded or hashed")
        found.add((table, column))
    return frozenset(found)
