"""People forgotten on request (`liveagent-pipeline forget`, issue 21): later runs do not load
them again in clear text.

`forget` keeps each forgotten contact in the source state under `forgotten`, as the keyed hashes
(privacy.keyed_hash, the account's salt) of their contact ids, e-mail addresses and
conversation ids, never in clear; the state travels with the warehouse (dlt restores it from
`_dlt_pipeline_state`). The map `hiding_forgotten`, added to every resource in
`liveagent_source`, replaces what a row holds of such a contact with its keyed hash before
anything is written (load packages included), as `forget` does in the warehouse:

- a conversation they own (owner name and e-mail, subject, preview), a message or message
  group of theirs (author id, body), an SLA log row they requested (id and names), a
  company's e-mail entries, and the same inside a rejected row's raw JSON;
- their e-mail address inside any text (a message that mentions it);
- in the rows of their conversations, also what others write there that quotes them: their
  name, and the text of their messages (20 characters or more) read in the same run. A
  conversation is re-read whole when it changes, its messages in order, so a reply quoting
  them comes after what it quotes; those clear values stay in this process's memory only.

An entry is kept for good: the connector lists no contacts, so it cannot tell when LiveAgent
itself has forgotten a person; the entries are keyed hashes, which identify nobody without the
salt, and once LiveAgent has forgotten the person nothing matches them any more.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from dlt.extract import DltResource

from .exceptions import ConfigurationError
from .privacy import SALT_SETTING, is_keyed_hash, keyed_hash
from .reading import shared_map

# in the source state: {"ids": [hash, ...], "emails": [hash, ...], "conversations": [...]}
STATE_KEY = "forgotten"
# shorter texts are replaced only where they are a whole value: inside other text they would
# hash parts of unrelated words
MIN_QUOTED = 20
# an e-mail address inside text, to compare by its keyed hash
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# the columns of a contact's own rows that hold what they wrote or who they are
OWNED_BY_EMAIL = ("ownername", "owneremail", "subject", "preview")
OWNED_BY_ID = {"userid": ("userid", "message"),
               "req_contactid": ("req_contactid", "req_firstname", "req_lastname")}


def email_key(email: str) -> str:
    """An e-mail address as it is compared: without surrounding blanks, in lower case."""
    return email.strip().lower()


class Entries(NamedTuple):
    """The forgotten contacts of a source state, as keyed hashes."""

    ids: set[str]
    emails: set[str]
    conversations: set[str]

    def __bool__(self) -> bool:
        return bool(self.ids or self.emails)


def forgotten_entries(state: Mapping[str, Any]) -> Entries:
    """The forgotten contacts' hashed ids, e-mails and conversation ids in a source state."""
    entry = state.get(STATE_KEY) or {}
    return Entries(set(entry.get("ids", ())), set(entry.get("emails", ())),
                   set(entry.get("conversations", ())))


def remember(state: dict[str, Any], found: Entries) -> None:
    """Adds the hashed ids, e-mails and conversation ids of `found` to a source state."""
    known = forgotten_entries(state)
    state[STATE_KEY] = {"ids": sorted(known.ids | found.ids),
                        "emails": sorted(known.emails | found.emails),
                        "conversations": sorted(known.conversations | found.conversations)}


def hash_emails(text: str, theirs: Callable[[str], bool], salt: str) -> str:
    """`text` with each e-mail address in it that `theirs` (any case) replaced by its keyed
    hash, as written."""
    for email in set(EMAIL.findall(text)):
        if theirs(email):
            text = text.replace(email, keyed_hash(email, salt))
    return text


def longest_first(values: Iterable[str]) -> list[str]:
    return sorted(values, key=lambda v: (-len(v), v))


def replace_quoted(text: str, value: str, hashed: str, escaped_forms: bool) -> str:
    """`text` with `value` replaced by `hashed`, also as JSON writes it (escaped, ASCII or not)
    when `escaped_forms`."""
    text = text.replace(value, hashed)
    if escaped_forms:
        for ascii_only in (True, False):
            form = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
            if form != value:
                text = text.replace(form, hashed)
    return text


class Forgotten:
    """Hides the forgotten contacts' values in rows, by the hashes of their ids, e-mails and
    conversation ids."""

    def __init__(self, entries: Entries, salt: str) -> None:
        self.ids, self.emails, self.salt = entries.ids, entries.emails, salt
        self.conversations = set(entries.conversations)  # theirs, hashed; grows as rows pass
        self._quoted: set[str] = set()  # their names and texts seen in this run, in clear
        self._lock = threading.Lock()

    def _hash(self, value: Any) -> Any:
        """The keyed hash of `value`; a hash already (the privacy setting's) as it is."""
        return value if value in (None, "") or is_keyed_hash(value) else \
            keyed_hash(value, self.salt)

    def _is_id(self, value: Any) -> bool:
        return isinstance(value, str) and value != "" and keyed_hash(value, self.salt) in self.ids

    def _is_email(self, value: Any) -> bool:
        """`value` is one of their e-mails, or its keyed hash (the privacy setting hashed it)."""
        return isinstance(value, str) and value.strip() != "" and (
            value in self.emails or keyed_hash(email_key(value), self.salt) in self.emails)

    def _learn(self, row: dict[str, Any], conversation: Any, texts: Iterable[str]) -> None:
        """The row is theirs: its conversation is tied to them, and its names and long texts
        are what others may quote."""
        quoted = {row[c] for c in texts if isinstance(row.get(c), str) and row[c]
                  and not is_keyed_hash(row[c])
                  and (c in ("ownername",) or len(row[c]) >= MIN_QUOTED)}
        with self._lock:
            if isinstance(conversation, str) and conversation:
                self.conversations.add(keyed_hash(conversation, self.salt))
            self._quoted |= quoted

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        """`row` with what it holds of a forgotten contact hashed (in place)."""
        hashed: set[str] = set()
        conversation = row.get("conversationid")
        if self._is_email(row.get("owneremail")):
            self._learn(row, conversation, OWNED_BY_EMAIL)
            hashed |= self._hash_columns(row, OWNED_BY_EMAIL)
        for key, columns in OWNED_BY_ID.items():
            if self._is_id(row.get(key)):
                self._learn(row, conversation if key == "userid" else None, columns)
                hashed |= self._hash_columns(row, columns)
        if isinstance(row.get("emails"), list):
            row["emails"] = [self._hash(e) if self._is_email(e) else e for e in row["emails"]]
        if isinstance(row.get("unique_fields"), list):
            for field in row["unique_fields"]:
                if isinstance(field, dict) and self._is_email(field.get("value")):
                    field["value"] = self._hash(field["value"])
        raw = row.get("raw_json")
        if isinstance(raw, str) and raw:
            row["raw_json"] = self._raw(raw)
            hashed.add("raw_json")
        tied = isinstance(conversation, str) and conversation != "" and \
            keyed_hash(conversation, self.salt) in self.conversations
        for column, value in row.items():
            if isinstance(value, str) and column not in hashed:
                row[column] = self._text(value, tied)
        return row

    def _hash_columns(self, row: dict[str, Any], columns: Iterable[str]) -> set[str]:
        present = {column for column in columns if column in row}
        for column in present:
            row[column] = self._hash(row[column])
        return present

    def _text(self, value: str, tied: bool) -> str:
        """`value` with their e-mails hashed, and in a row of their conversations what it
        quotes of them (as `forget` does, pipelines/forget.py)."""
        value = hash_emails(value, self._is_email, self.salt)
        if tied:
            with self._lock:
                quoted = longest_first(self._quoted)
            for text in quoted:
                value = replace_quoted(value, text, self._hash(text), True)
        return value

    def _raw(self, text: str) -> str:
        """A rejected row's raw JSON with the same values hashed (and its nested rows')."""
        try:
            found = json.loads(text)
        except ValueError:
            return text
        hidden = self._nested(found)
        return json.dumps(hidden, ensure_ascii=True, sort_keys=True, default=str)

    def _nested(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.row({key: self._nested(item) for key, item in value.items()})
        if isinstance(value, list):
            return [self._nested(item) for item in value]
        return value


def check_salt(state: Mapping[str, Any], salt: str | None) -> None:
    """Refuses a run without the salt when the source state lists forgotten contacts: without
    it no row of theirs could be recognised."""
    if forgotten_entries(state) and not salt:
        raise ConfigurationError(
            f"{SALT_SETTING} (env {SALT_SETTING.replace('.', '__').upper()}) is not set, but "
            f"this warehouse has forgotten contacts: without the salt the pipeline cannot keep "
            "them out; set it in .dlt/secrets.toml as when they were forgotten")


def hider_for(state: Mapping[str, Any], salt: str | None) -> Forgotten | None:
    """What hides the contacts `state` lists as forgotten; None when it lists none."""
    check_salt(state, salt)
    entries = forgotten_entries(state)
    return Forgotten(entries, str(salt)) if entries else None


def hiding_forgotten(resource: DltResource, hider: Forgotten | None) -> DltResource:
    """`resource` with the map that hashes what a row holds of a forgotten contact, as the
    source built last says (one step per resource: `reading.shared_map`)."""
    if hider is None:
        return shared_map(resource, "_hide_forgotten", None)

    def hide(item: Any, meta: Any = None) -> Any:
        return hider.row(item) if isinstance(item, dict) else item
    return shared_map(resource, "_hide_forgotten", hide)
