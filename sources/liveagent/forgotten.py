"""People forgotten on request (`liveagent-pipeline forget`, issue 21): later runs do not load
them again in clear text.

`forget` keeps each forgotten contact in the source state under `forgotten`, as the keyed hashes
(privacy.keyed_hash, the account's salt) of their contact ids and e-mail addresses, never in
clear; the state travels with the warehouse (dlt restores it from `_dlt_pipeline_state`). The
map `hiding_forgotten`, added to every resource in `liveagent_source`, replaces what a row holds
of such a contact with its keyed hash before anything is written (load packages included):
a conversation they own (owner name and e-mail, subject, preview), a message or message group
of theirs (author id, body), an SLA log row they requested (id and names), a company's e-mail
entries, and the same inside a rejected row's raw JSON.

An entry is kept for good: the connector lists no contacts, so it cannot tell when LiveAgent
itself has forgotten a person; the entries are keyed hashes, which identify nobody without the
salt, and once LiveAgent has forgotten the person nothing matches them any more.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dlt.extract import DltResource

from .exceptions import ConfigurationError
from .privacy import SALT_SETTING, keyed_hash
from .reading import shared_map

STATE_KEY = "forgotten"  # in the source state: {"ids": [hash, ...], "emails": [hash, ...]}
# the columns of a contact's own rows that hold what they wrote or who they are
OWNED_BY_EMAIL = ("ownername", "owneremail", "subject", "preview")
OWNED_BY_ID = {"userid": ("userid", "message"),
               "req_contactid": ("req_contactid", "req_firstname", "req_lastname")}


def email_key(email: str) -> str:
    """An e-mail address as it is compared: without surrounding blanks, in lower case."""
    return email.strip().lower()


def forgotten_entries(state: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(hashed ids, hashed e-mails) of the forgotten contacts in a source state."""
    entry = state.get(STATE_KEY) or {}
    return set(entry.get("ids", ())), set(entry.get("emails", ()))


def remember(state: dict[str, Any], ids: set[str], emails: set[str]) -> None:
    """Adds hashed `ids` and `emails` to the forgotten contacts of a source state."""
    known_ids, known_emails = forgotten_entries(state)
    state[STATE_KEY] = {"ids": sorted(known_ids | ids), "emails": sorted(known_emails | emails)}


class Forgotten:
    """Hides the forgotten contacts' values in rows, by the hashes of their ids and e-mails."""

    def __init__(self, ids: set[str], emails: set[str], salt: str) -> None:
        self.ids, self.emails, self.salt = ids, emails, salt

    def _hash(self, value: Any) -> Any:
        return keyed_hash(value, self.salt) if value not in (None, "") else value

    def _is_id(self, value: Any) -> bool:
        return isinstance(value, str) and value != "" and keyed_hash(value, self.salt) in self.ids

    def _is_email(self, value: Any) -> bool:
        return isinstance(value, str) and value.strip() != "" and \
            keyed_hash(email_key(value), self.salt) in self.emails

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        """`row` with what it holds of a forgotten contact hashed (in place)."""
        if self._is_email(row.get("owneremail")):
            for column in OWNED_BY_EMAIL:
                if column in row:
                    row[column] = self._hash(row[column])
        for key, columns in OWNED_BY_ID.items():
            if self._is_id(row.get(key)):
                for column in columns:
                    if column in row:
                        row[column] = self._hash(row[column])
        if isinstance(row.get("emails"), list):
            row["emails"] = [self._hash(e) if self._is_email(e) else e for e in row["emails"]]
        if isinstance(row.get("unique_fields"), list):
            for field in row["unique_fields"]:
                if isinstance(field, dict) and self._is_email(field.get("value")):
                    field["value"] = self._hash(field["value"])
        raw = row.get("raw_json")
        if isinstance(raw, str) and raw:
            row["raw_json"] = self._raw(raw)
        return row

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
    ids, emails = forgotten_entries(state)
    if (ids or emails) and not salt:
        raise ConfigurationError(
            f"{SALT_SETTING} (env {SALT_SETTING.replace('.', '__').upper()}) is not set, but "
            f"this warehouse has forgotten contacts: without the salt the pipeline cannot keep "
            "them out; set it in .dlt/secrets.toml as when they were forgotten")


def hider_for(state: Mapping[str, Any], salt: str | None) -> Forgotten | None:
    """What hides the contacts `state` lists as forgotten; None when it lists none."""
    check_salt(state, salt)
    ids, emails = forgotten_entries(state)
    return Forgotten(ids, emails, str(salt)) if ids or emails else None


def hiding_forgotten(resource: DltResource, hider: Forgotten | None) -> DltResource:
    """`resource` with the map that hashes what a row holds of a forgotten contact, as the
    source built last says (one step per resource: `reading.shared_map`)."""
    if hider is None:
        return shared_map(resource, "_hide_forgotten", None)

    def hide(item: Any, meta: Any = None) -> Any:
        return hider.row(item) if isinstance(item, dict) else item
    return shared_map(resource, "_hide_forgotten", hide)
