"""`liveagent-pipeline forget`: what the warehouse holds about one contact, hashed (issue 21).

The contact is found by e-mail (the owner e-mail of their conversations, or its keyed hash
where the privacy setting hashes `conversations.owneremail`) or by contact id (the author of
the first message group of their conversations). Their identity is then their contact ids
(the author ids of their conversations' message groups that are no agent's, and the SLA log's
requester ids), their e-mails, their names, and what they wrote (the bodies of their messages,
their conversations' subjects and previews). Every text and JSON value of the dataset that
holds one of these is replaced by its keyed hash (privacy.keyed_hash, the account's salt):

- anywhere in the dataset: their e-mail addresses (inside any text) and contact ids (a value
  that is the id, or the id as a JSON string);
- in the rows of their conversations (any table with a `conversationid` of one of them, and a
  rejected row whose raw JSON holds their e-mail or id): also their names, what they wrote
  (inside other messages too: a reply that quotes them), and the requester's first and last
  name of the SLA log.

Nothing else is touched: a row is changed only where one of these values occurs in it, and
only that value; a value the privacy setting hashed is never hashed again. All changes commit
in one transaction. Before them, the contact's hashed ids, e-mails and conversation ids go
into the source state (`sources/liveagent/forgotten.py`), so later runs hash them before
anything is written, until LiveAgent itself forgets the person.
After them the analyst layer, when the target has one, is built again (the dbt run of
`--transform`: its marts are copies of the rows), every loaded load package of the pipeline is
deleted (whatever `--keep-load-packages` keeps after runs), the DuckDB file is rewritten
(CHECKPOINT leaves old values in free blocks) and its bytes checked for the clear values,
Postgres is VACUUMed, and the run history gets a row (the keyed hash of the contact, never the
address).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt
from dlt.destinations.sql_client import SqlClientBase

from pipelines import duckdb_file, history
from pipelines.accounts import Account
from pipelines.configuration import check_dataset
from pipelines.options import RunOptions, UsageError
from pipelines.runner import build_analyst_layer, configured_privacy, source_state
from pipelines.targets import (
    describe_target,
    exclusive,
    make_pipeline,
    prepare_duckdb_file,
    prune_loaded_packages,
    published,
    wait_for_duckdb_file,
)
from pipelines.transform import TransformResult, has_analyst_layer
from pipelines.transform import summary as transform_summary
from sources.liveagent.forgotten import (
    MIN_QUOTED,
    Entries,
    email_key,
    forgotten_entries,
    hash_emails,
    longest_first,
    remember,
    replace_quoted,
)
from sources.liveagent.privacy import SALT_SETTING, is_keyed_hash, keyed_hash

DLT_TABLES = ("_dlt_loads", "_dlt_version", "_dlt_pipeline_state")
DLT_COLUMNS = ("_dlt_id", "_dlt_load_id")
TEXT_TYPES = ("varchar", "text", "character varying", "json", "jsonb")
SYSTEM_USER = "system00"  # LiveAgent's own author id (seen on real accounts): nobody's
# what the command cannot reach, said after every forget
NOT_REACHED = (
    "not reached: report aggregates (report_* tables count this contact's conversations; they "
    "name no one), copies and exports users made, backups and snapshots of the warehouse, "
    "files deleted or replaced on disk (a reader that still has the old DuckDB file open "
    "keeps it until it closes it), and Postgres' WAL and base backups")


@dataclass
class Person:
    """What identifies the contact, in clear, for this command's run only."""

    ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    # their owner e-mails as the privacy setting hashed them (`conversations.owneremail`)
    hashed_emails: set[str] = field(default_factory=set)
    conversations: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # full names (owner names)
    name_parts: set[str] = field(default_factory=set)  # the SLA log's first and last names
    texts: set[str] = field(default_factory=set)  # bodies, subjects, previews

    @property
    def empty(self) -> bool:
        return not (self.ids or self.emails or self.hashed_emails)


@dataclass
class ForgetResult:
    subject: str  # the keyed hash of the e-mail or id given
    by_table: dict[str, int]
    already: bool = False  # nothing left, and already forgotten before
    pruned_packages: int = 0
    dropped_pending: bool = False
    duckdb_clear_left: int | None = None  # clear values still in the DuckDB files' bytes
    vacuumed: list[str] = field(default_factory=list)
    transformed: TransformResult | None = None  # the analyst layer, rebuilt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the contact's e-mail address (case does not matter)")
    who.add_argument("--contact-id", help="the contact's LiveAgent id (messages' userid)")


def salt(account: Account | None = None) -> str:
    """The salt of the keyed hash: the account's own, else the shared one."""
    own = account.settings.get("privacy_salt") if account is not None else None
    value = own or dlt.secrets.get(SALT_SETTING, str)
    if not value:
        env = SALT_SETTING.replace(".", "__").upper()
        where = account.where_to_set("privacy_salt") if account is not None else \
            f"{SALT_SETTING} (env {env})"
        raise UsageError(f"forget needs {where}, the secret salt of the keyed hash: set it in "
                         ".dlt/secrets.toml and keep it")
    return str(value)


def forget(options: RunOptions, email: str | None = None, contact_id: str | None = None,
           say: Callable[[str], None] = lambda _: None,
           source_options: dict[str, Any] | None = None) -> ForgetResult:
    """Forgets the contact of `email` or `contact_id` in the target of `options`;
    `source_options`: the account's own settings, if any (its salt, zone, business hours and
    privacy settings for the analyst layer)."""
    source_options = source_options or {}
    key = salt(options.account)
    check_dataset(options.dataset)
    if options.destination not in ("duckdb", "postgres"):
        raise UsageError(f"forget works on DuckDB and Postgres, not on {options.destination}: "
                         "its tables are changed by SQL in one transaction")
    given = email_key(email) if email is not None else (contact_id or "").strip()
    if not given:
        raise UsageError("forget needs a non-empty --email or --contact-id")
    if options.destination == "duckdb" and not options.duckdb_file.exists() \
            and not options.writer_file.exists():
        raise UsageError(f"no warehouse at {options.duckdb_file}: nothing to forget")
    started_at = datetime.now(timezone.utc)
    pipeline = make_pipeline(options, say=say)
    with exclusive(pipeline, options, say), published(options) as copy:
        prepare_duckdb_file(options, say)
        wait_for_duckdb_file(options, say)
        dropped = bool(pipeline.has_pending_data)
        if dropped:  # a package not loaded yet holds what it read in clear: read it again
            pipeline.drop()
            pipeline = make_pipeline(options, say=say)
        pipeline.sync_destination()
        with pipeline.sql_client() as client:
            person = find(client, key, email=email, contact_id=given if email is None else None)
            planned = plan(client, person, key) if not person.empty else {}
        subject = keyed_hash(given, key)
        known = forgotten_entries(source_state(pipeline))
        if not planned and subject in known.ids | known.emails:
            return ForgetResult(subject, {}, already=True)
        if not planned and not person.conversations:
            what = "e-mail" if email is not None else "contact id"
            hint = "; the privacy setting hashes conversations.owneremail: the address as " \
                "LiveAgent has it, case included, or --contact-id" \
                if email is not None and ("conversations", "owneremail") in \
                configured_privacy(source_options).hash else ""
            raise UsageError(f"no contact with this {what} in {describe_target(options)}: "
                             f"nothing changed (check the address, --dataset and --account"
                             f"{hint})")
        # first the state: should the rewrite fail, later runs already hash the contact (found
        # but hashed everywhere already: later runs still have to)
        _remember(pipeline, Entries(
            {keyed_hash(i, key) for i in person.ids},
            {keyed_hash(email_key(e), key) for e in person.emails} | person.hashed_emails,
            {keyed_hash(c, key) for c in person.conversations}))
        copy.changed()
        with pipeline.sql_client() as client:
            with client.begin_transaction():
                by_table = apply(client, plan(client, person, key))
            vacuumed = reclaim(client, options, by_table)
        result = ForgetResult(subject, by_table, dropped_pending=dropped, vacuumed=vacuumed)
        if has_analyst_layer(pipeline):  # its marts are copies: built again from the hashes
            result.transformed = build_analyst_layer(pipeline, source_options)
        _record(pipeline, started_at, result)
        result.pruned_packages = len(pipeline.list_completed_load_packages())
        prune_loaded_packages(pipeline, keep=0)
        if options.destination == "duckdb":
            compact(options.writer_file)
        copy.changed()
    if options.destination == "duckdb":
        result.duckdb_clear_left = clear_bytes_left(
            {options.writer_file, options.duckdb_file}, person)
    return result


def _remember(pipeline: dlt.Pipeline, found: Entries) -> None:
    """Adds the contact's hashes to the source state and commits it to the destination with a
    load of the state alone (dlt extracts a changed state into a package of its own)."""
    with pipeline.managed_state(extract_state=True) as state:
        remember(state.setdefault("sources", {}).setdefault("liveagent", {}), found)
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()


# -- finding the contact ----------------------------------------------------------------------
class Catalog:
    """The dataset's tables and their text and JSON columns (views and dlt's tables apart)."""

    def __init__(self, client: SqlClientBase[Any]) -> None:
        rows = client.execute_sql(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name WHERE c.table_schema = %s "
            "AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position",
            client.dataset_name) or []
        self.columns: dict[str, dict[str, str]] = {}
        for table, column, data_type in rows:
            if table not in DLT_TABLES:
                self.columns.setdefault(table, {})[column] = str(data_type)

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in columns)

    def text_columns(self, table: str) -> dict[str, str]:
        return {column: kind for column, kind in self.columns[table].items()
                if kind.lower() in TEXT_TYPES and column not in DLT_COLUMNS}


def _all_values(client: SqlClientBase[Any], sql: str, *args: Any) -> set[str]:
    return {str(row[0]) for row in client.execute_sql(sql, *args) or [] if row[0] not in (None, "")}


def _values(client: SqlClientBase[Any], sql: str, *args: Any) -> set[str]:
    """The non-empty values of the first column of `sql`'s rows, but keyed hashes: what the
    privacy setting hashed is not the contact's clear value, and is never hashed again."""
    return {value for value in _all_values(client, sql, *args) if not is_keyed_hash(value)}


def _in(values: Iterable[str]) -> tuple[str, list[str]]:
    """`IN (%s, ...)` and its parameters; `IN (NULL)` for none."""
    items = sorted(values)
    return ("(" + ", ".join(["%s"] * len(items)) + ")" if items else "(NULL)"), items


def find(client: SqlClientBase[Any], salt: str, email: str | None = None,
         contact_id: str | None = None) -> Person:
    """The contact of `email` (any case) or `contact_id`, as the warehouse knows them. Where
    the privacy setting hashed the conversations' owner e-mail, their conversations are found
    by its keyed hash: of the address in lower case or as given (the setting hashes it as
    LiveAgent has it, case included)."""
    catalog, person = Catalog(client), Person()
    table = client.make_qualified_table_name
    has_conversations = catalog.has("conversations", "conversationid", "owneremail")
    has_groups = catalog.has("message_groups", "conversationid", "userid", "datecreated")
    hashes: set[str] = set()
    if email is not None:
        person.emails.add(email_key(email))
        hashes = {keyed_hash(email_key(email), salt), keyed_hash(email.strip(), salt)}
    else:
        assert contact_id is not None
        person.ids.add(contact_id)
        if has_groups and has_conversations:  # the conversations they opened
            owners = _all_values(
                client, f"SELECT DISTINCT c.owneremail FROM {table('conversations')} c "
                f"WHERE c.conversationid IN (SELECT g.conversationid FROM {table('message_groups')}"
                " g WHERE g.userid = %s AND g.datecreated = (SELECT min(f.datecreated) FROM "
                f"{table('message_groups')} f WHERE f.conversationid = g.conversationid))",
                contact_id)
            person.emails |= {email_key(owner) for owner in owners if not is_keyed_hash(owner)}
            hashes = {owner for owner in owners if is_keyed_hash(owner)}
    if has_conversations and (person.emails or hashes):
        clear, clear_args = _in(person.emails)
        hashed, hashed_args = _in(hashes)
        theirs = (f"FROM {table('conversations')} WHERE lower(owneremail) IN {clear} "
                  f"OR owneremail IN {hashed}")
        args = [*clear_args, *hashed_args]
        person.conversations = _values(client, f"SELECT conversationid {theirs}", *args)
        # the e-mails as written (case included), for replacing them inside text
        owners = _all_values(client, f"SELECT DISTINCT owneremail {theirs}", *args)
        person.emails |= {owner for owner in owners if not is_keyed_hash(owner)}
        person.hashed_emails = {owner for owner in owners if is_keyed_hash(owner)}
        if catalog.has("conversations", "ownername"):
            person.names = _values(client, f"SELECT DISTINCT ownername {theirs}", *args)
        for column in ("subject", "preview"):
            if catalog.has("conversations", column):
                person.texts |= _values(client, f"SELECT {column} {theirs}", *args)
    conversations, conversation_args = _in(person.conversations)
    if email is not None and has_groups and person.conversations:
        # their author id: in their conversations, the authors that are no agent, nor
        # LiveAgent's system user (a reply sent without an agent, a transfer)
        agents = f"SELECT id FROM {table('agents')}" if catalog.has("agents", "id") \
            else "SELECT NULL"
        person.ids |= _values(
            client, f"SELECT DISTINCT userid FROM {table('message_groups')} WHERE conversationid"
            f" IN {conversations} AND userid NOT IN ({agents} WHERE id IS NOT NULL) "
            "AND userid <> %s", *conversation_args, SYSTEM_USER)
    if catalog.has("report_sla_log", "conversationid", "req_contactid"):
        person.ids |= _values(client, f"SELECT DISTINCT req_contactid FROM "
                              f"{table('report_sla_log')} WHERE conversationid IN "
                              f"{conversations}", *conversation_args)
    ids, id_args = _in(person.ids)
    if catalog.has("messages", "userid", "message"):
        person.texts |= _values(client, f"SELECT message FROM {table('messages')} WHERE userid "
                                f"IN {ids}", *id_args)
    if catalog.has("report_sla_log", "req_contactid", "req_firstname", "req_lastname"):
        for column in ("req_firstname", "req_lastname"):
            person.name_parts |= _values(client, f"SELECT DISTINCT {column} FROM "
                                         f"{table('report_sla_log')} WHERE req_contactid IN "
                                         f"{ids}", *id_args)
    return person


# -- hashing what the warehouse holds ---------------------------------------------------------
class Hider:
    """Replaces the contact's values in one text by their keyed hashes."""

    def __init__(self, person: Person, salt: str) -> None:
        self.salt = salt
        self.ids = person.ids
        self.emails = longest_first(person.emails)
        self.email_keys = {email_key(email) for email in person.emails}
        quotable = person.names | {t for t in person.texts if len(t) >= MIN_QUOTED}
        self.quoted = longest_first(quotable)
        self.whole = person.texts | person.names
        self.name_parts = person.name_parts

    def _hash(self, value: str) -> str:
        return keyed_hash(value, self.salt)

    def _theirs(self, email: str) -> bool:
        return email_key(email) in self.email_keys

    def text(self, value: str, column: str, json_column: bool, tied: bool) -> str:
        """`value` of `column` with the contact's values hashed; `tied`: a row of one of their
        conversations."""
        if value in self.ids or (tied and value in self.whole) or \
                (tied and column.startswith("req_") and value in self.name_parts):
            return self._hash(value)
        for email in self.emails:
            value = replace_quoted(value, email, self._hash(email), json_column)
        value = hash_emails(value, self._theirs, self.salt)  # in another case
        if json_column:
            for contact in self.ids:
                value = value.replace(json.dumps(contact), json.dumps(self._hash(contact)))
        if tied:
            for quoted in self.quoted:
                value = replace_quoted(value, quoted, self._hash(quoted), True)
        return value


Change = tuple[str, dict[str, tuple[str, str]]]  # (_dlt_id, {column: (new value, type)})


def plan(client: SqlClientBase[Any], person: Person, salt: str) -> dict[str, list[Change]]:
    """Per table, the rows that hold something of the contact and their new values."""
    catalog, hider = Catalog(client), Hider(person, salt)
    # compared in lower case (an e-mail in any case); the hider tells theirs apart
    probes = sorted({probe.lower() for probe in (*person.emails, *person.ids)})
    tied_in, tied_args = _in(person.conversations)
    changes: dict[str, list[Change]] = {}
    for table, columns in catalog.columns.items():
        texts = catalog.text_columns(table)
        if "_dlt_id" not in columns or not texts:
            continue
        tied, tied_with = (f"conversationid IN {tied_in}", tied_args) \
            if "conversationid" in columns else ("1 = 0", [])
        if "raw_json" in columns and probes:  # a rejected row of theirs, as it was read
            tied = " OR ".join(["strpos(lower(CAST(raw_json AS TEXT)), %s) > 0"] * len(probes))
            tied_with = probes
        anywhere = " OR ".join(
            f"strpos(lower(CAST({client.escape_column_name(c)} AS TEXT)), %s) > 0"
            for c in texts for _ in probes) or "1 = 0"
        args = [p for _ in texts for p in probes]
        selected = ", ".join(f"CAST({client.escape_column_name(c)} AS TEXT)" for c in texts)
        rows = client.execute_sql(
            f"SELECT _dlt_id, CASE WHEN {tied} THEN 1 ELSE 0 END, {selected} FROM "
            f"{client.make_qualified_table_name(table)} WHERE {tied} OR {anywhere}",
            *tied_with, *tied_with, *args) or []
        for row_id, in_conversation, *values in rows:
            new: dict[str, tuple[str, str]] = {}
            for (column, kind), value in zip(texts.items(), values, strict=True):
                if value is None:
                    continue
                json_column = kind.lower() in ("json", "jsonb")
                hidden = hider.text(str(value), column, json_column, bool(in_conversation))
                if hidden != value:
                    if json_column:
                        json.loads(hidden)  # still JSON, or the transaction rolls back
                    new[column] = (hidden, kind)
            if new:
                changes.setdefault(table, []).append((row_id, new))
    return changes


def apply(client: SqlClientBase[Any], changes: dict[str, list[Change]]) -> dict[str, int]:
    """Writes the planned values (in the caller's transaction); rows changed per table."""
    counts: Counter[str] = Counter()
    for table, rows in changes.items():
        for row_id, new in rows:
            sets = ", ".join(f"{client.escape_column_name(c)} = CAST(%s AS {kind})"
                             for c, (_, kind) in new.items())
            client.execute_sql(f"UPDATE {client.make_qualified_table_name(table)} SET {sets} "
                               "WHERE _dlt_id = %s", *[v for v, _ in new.values()], row_id)
            counts[table] += 1
    return dict(sorted(counts.items()))


def reclaim(client: SqlClientBase[Any], options: RunOptions, by_table: dict[str, int]
            ) -> list[str]:
    """The old values' space: DuckDB checkpointed (the file is rewritten after, `compact`);
    Postgres' changed tables VACUUMed (outside a transaction), so their dead tuples are reused."""
    if options.destination == "duckdb":
        client.execute_sql("CHECKPOINT")
        return []
    if options.destination != "postgres":
        return []
    for table in by_table:
        client.execute_sql(f"VACUUM {client.make_qualified_table_name(table)}")
    return list(by_table)


def compact(path: Path) -> None:
    """Rewrites the DuckDB file (COPY FROM DATABASE, in its own storage format): after an
    UPDATE the old values stay in the file's free blocks (measured with DuckDB 2.0.1: an updated
    e-mail was still in the file's bytes after CHECKPOINT, after VACUUM and CHECKPOINT, and
    after closing it; not after this rewrite). The original is not kept: it holds what was
    forgotten."""
    version = duckdb_file.file_storage_version(path).rstrip("+")
    duckdb_file.convert(path, version).unlink(missing_ok=True)


def clear_bytes_left(paths: Iterable[Path], person: Person) -> int:
    """How many of the contact's clear e-mails and ids still occur in the files' bytes (not
    their names: another contact may have the same name)."""
    needles = {value.encode() for value in person.emails | person.ids if value}
    found = 0
    for path in paths:
        if path.exists():
            data = path.read_bytes()
            found += sum(1 for needle in needles if needle in data)
    return found


def _record(pipeline: dlt.Pipeline, started_at: datetime, result: ForgetResult) -> None:
    """The run history's row of this forget: rows changed, the contact as its keyed hash."""
    rows = sum(result.by_table.values())
    tables = ", ".join(f"{table} {n}" for table, n in result.by_table.items())
    run, _ = history.run_rows(
        f"{pipeline.pipeline_name}@{started_at.isoformat(timespec='microseconds')}",
        started_at, datetime.now(timezone.utc), FORGOT,
        f"contact {result.subject}: rows hashed: {tables}",
        {"rows_written": rows, "pipeline_name": pipeline.pipeline_name}, {})
    history.record(pipeline, run, [])


FORGOT = "forgot a contact"


def summary(options: RunOptions, result: ForgetResult) -> str:
    """What forget did, for its terminal."""
    head = (f"liveagent-pipeline: forget in {describe_target(options)} "
            f"(contact {result.subject[:16]}):")
    if result.already:
        return (f"{head} nothing left to forget: this contact was forgotten before, and later "
                "runs keep hashing them")
    width = max((len(t) for t in result.by_table), default=0)
    lines = [f"{head} {sum(result.by_table.values())} rows hashed",
             *(f"  {table:<{width}}  {rows:>6} rows hashed"
               for table, rows in result.by_table.items()),
             "later runs hash this contact before anything is written (kept in the pipeline "
             "state as keyed hashes) until LiveAgent itself forgets them"]
    if result.dropped_pending:
        lines.append("a load package not loaded yet was dropped: the next run reads it again")
    packages = "1 loaded load package" if result.pruned_packages == 1 else \
        f"{result.pruned_packages} loaded load packages"
    lines.append(f"pipelines directory: {packages} deleted (every one, whatever "
                 "--keep-load-packages keeps after runs: they hold the rows as loaded)")
    if result.transformed is not None:
        lines.append(f"{transform_summary(result.transformed)}: rebuilt from the hashed rows")
    if result.duckdb_clear_left is not None:
        lines.append("DuckDB file rewritten: its free blocks held the old values; "
                     + ("no clear e-mail or contact id of the contact is left in its bytes"
                        if result.duckdb_clear_left == 0 else
                        f"{result.duckdb_clear_left} clear values still found in its bytes"))
    if result.vacuumed:
        lines.append(f"Postgres: VACUUM ran on {', '.join(result.vacuumed)}, so the old row "
                     "versions' space is reused (their bytes stay on disk until overwritten; "
                     "VACUUM FULL rewrites a table)")
    lines.append(NOT_REACHED)
    return "\n".join(lines)
