"""Opt-in behaviours of the real LiveAgent API v1 that the reference does not describe.

Each field of `RealWorld` switches on one behaviour that people outside the project observed on
real accounts (or that the reference's own examples show). All are off by default, so the fake
answers as the reference's tables say; `Account.real_world` holds the record, and tests may
change it between requests. Behaviours that alter generated data pick their rows from the
conversation or message index, so the same account always answers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class RealWorld:
    no_cursor: bool = False
    """Conversation list rows carry no `cursor` key at all (the reference's list example has
    none; every public client pages by `offset`). The details row keeps `"cursor": null`, as
    in the reference's details example, and a `cursor` parameter is still accepted."""

    groups_without_id: bool = False
    """Message groups of GET /conversations/{id}/messages have no `messagegroupid` key (the
    reference's /messages example)."""

    group_without_messages: bool = False
    """A message group without messages has no `messages` key at all (LADesk-Export guards
    for it). Every 5th generated conversation (index % 5 == 0) also gets such a group: a
    transfer group (rtype T) one second after its first group, by the assigned agent (or the
    system user). It is not counted in `messagegroupsin`/`messagegroupsout`."""

    nul_in_text: bool = False
    """Every 10th message of the generated conversations (message serial % 10 == 0) has a NUL
    (U+0000) in the middle of its text and ends with a lone high surrogate (U+D83D, an emoji
    cut in half); both go out as JSON escapes. LADesk-Export strips the NULs."""

    null_tags: bool = False
    """`tags` is `null`, not "", on a conversation without tags (list and details rows)."""

    dangling_tags: bool = False
    """Every 4th conversation (index % 4 == 1) also carries, last in its `tags` field, the id
    of a deleted tag: GET /tags does not list it, GET /tags/{id} answers 404 and
    GET /conversations/{id}/tags leaves it out (it joins the tag table)."""

    numeric_counts: bool = False
    """Counts are JSON numbers instead of strings: `messagegroupsin`/`messagegroupsout` of
    conversations; `rorder`, `views`, `votes` of knowledge-base entries and articles; and the
    figures of the reports (whole numbers as integers, the "%.2f" ones as floats; ids, names,
    dates and `hours_online`/`sla` stay text)."""

    status_extra_fields: bool = False
    """GET /application/status adds `gpfversion` (the fake's own value "1.3.76.0"),
    `dateinstalled` (the start of the generated history) and `datelatestupdate` (7 days before
    now), all strings, datetimes in the API's format (Passhico/ApiGator)."""

    extra_fields: bool = False
    """Rows carry fields the reference does not list: conversations (list and details) a
    `priority` ("0" normal; "1" high on every 7th conversation, index % 7 == 0), messages a
    `format` ("H" html on the email channel, "T" text elsewhere)."""

    documented_examples: bool = False
    """Every GET endpoint the reference documents answers with the reference's example body,
    verbatim (see `liveagent_fake.documented_examples`); writes still change the account."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_names(cls, names: str) -> RealWorld:
        """The record with the comma-separated `names` on, e.g. "no_cursor,null_tags"."""
        wanted = [name.strip() for name in names.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in cls.names()]
        if unknown:
            raise ValueError(f"unknown real-world behaviour(s) {', '.join(unknown)}; "
                             f"expected some of {', '.join(cls.names())}")
        return cls(**dict.fromkeys(wanted, True))

    def enabled(self) -> tuple[str, ...]:
        """Names of the behaviours that are on."""
        return tuple(name for name in self.names() if getattr(self, name))
