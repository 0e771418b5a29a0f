"""The account's small entities as the API lists them now: tags, agents, customer groups,
companies and the knowledge base, less the ones deleted or removed since.

Every entity is generated once (`dataset.build_entities`) and stays in `Entities` for good:
records refer to them by list index (`Conversation.tags`, `Conversation.agent`,
`Company.groups`, `Session.agent`), and conversations and sessions are regenerated from the
full lists, so taking an entity out of a list would shift those indexes and change what is
regenerated. A deletion is recorded here instead, by index or id, and every listing and
lookup the API serves leaves the deleted ones out. Nothing here locks; `Account` does.
"""

from __future__ import annotations

from . import dataset as ds
from .exceptions import NotFound


class Directory:
    """What exists now, over the generated `entities`; lookups of a deleted one answer 404."""

    def __init__(
        self, entities: ds.Entities, config: ds.DatasetConfig, codecs: ds.Codecs, start: int
    ) -> None:
        self.entities = entities
        self._config, self._codecs, self._start = config, codecs, start
        self._companies: dict[int, ds.Company] = {}
        self._deleted_tags: set[int] = set()
        self._deleted_groups: set[int] = set()
        self._removed_companies: set[int] = set()
        self._removed_agents: dict[int, int] = {}  # agent index -> when it was removed
        self._removed_kbs: set[str] = set()
        self._deleted_entries: set[int] = set()  # kb_entry_id

    # -- tags --------------------------------------------------------------------------------
    def tags(self) -> list[ds.Tag]:
        return [t for n, t in enumerate(self.entities.tags) if n not in self._deleted_tags]

    def find_tag(self, tag_id: str | None = None, name: str | None = None) -> int:
        """Index of an existing tag by id or name; 404 when there is none."""
        for n, tag in enumerate(self.entities.tags):
            if n not in self._deleted_tags and (tag.id == tag_id or tag.name == name):
                return n
        raise NotFound(f"Tag '{tag_id if tag_id is not None else name}' not found")

    def existing_tags(self, indexes: list[int]) -> list[ds.Tag]:
        """The tags at `indexes` that were not deleted (the join with the tag table)."""
        return [self.entities.tags[n] for n in indexes if n not in self._deleted_tags]

    def delete_tag(self, tag_id: str) -> None:
        self._deleted_tags.add(self.find_tag(tag_id=tag_id))

    # -- agents ------------------------------------------------------------------------------
    def agents(self) -> list[ds.Agent]:
        return [a for a in self.entities.agents if a.index not in self._removed_agents]

    def agent(self, identifier: str) -> ds.Agent:
        """An existing agent by userid or e-mail; 404 when there is none."""
        for agent in self.agents():
            if identifier in (agent.userid, agent.email):
                return agent
        raise NotFound(f"Agent '{identifier}' not found")

    def remove_agent(self, identifier: str, at: int) -> None:
        self._removed_agents[self.agent(identifier).index] = at

    def online(self, sessions: list[ds.Session]) -> list[ds.Session]:
        """`sessions` without what a removed agent would have had after its removal: a session
        running then ends then, a later one never was."""
        kept = []
        for session in sessions:
            removed = self._removed_agents.get(session.agent)
            if removed is None or session.end <= removed:
                kept.append(session)
            elif session.start < removed:
                kept.append(ds.Session(session.id, session.agent, session.department,
                                       session.start, removed))
        return kept

    def is_removed_agent(self, index: int) -> bool:
        return index in self._removed_agents

    # -- customer groups and companies ----------------------------------------------------------
    def customer_groups(self) -> list[ds.CustomerGroup]:
        return [g for n, g in enumerate(self.entities.customer_groups)
                if n not in self._deleted_groups]

    def find_customer_group(self, group_id: str) -> int:
        for n, group in enumerate(self.entities.customer_groups):
            if n not in self._deleted_groups and group.id == group_id:
                return n
        raise NotFound(f"Customers group '{group_id}' not found")

    def delete_customer_group(self, group_id: str) -> None:
        """The group leaves every company that was in it (those materialised so far here, the
        others when they are)."""
        gone = self.find_customer_group(group_id)
        self._deleted_groups.add(gone)
        for company in self._companies.values():
            company.groups = [g for g in company.groups if g != gone]

    def company(self, index: int) -> ds.Company:
        """Company `index`, materialised on first use (without deleted groups) and kept."""
        if index not in self._companies:
            company = ds.make_company(self._codecs, self._config, self._start, index)
            company.groups = [g for g in company.groups if g not in self._deleted_groups]
            self._companies[index] = company
        return self._companies[index]

    def company_indexes(self) -> list[int]:
        return [n for n in range(self._config.company_count) if n not in self._removed_companies]

    def find_company(self, company_id: str) -> ds.Company:
        index = self._codecs.company.decode(company_id)
        if index is None or index >= self._config.company_count \
                or index in self._removed_companies:
            raise NotFound(f"Company '{company_id}' not found")
        return self.company(index)

    def remove_company(self, company_id: str) -> None:
        self._removed_companies.add(self.find_company(company_id).index)

    # -- knowledge base ----------------------------------------------------------------------
    def knowledgebases(self) -> list[tuple[str, str]]:
        return [kb for kb in self.entities.knowledgebases if kb[0] not in self._removed_kbs]

    def kb_entries(self) -> list[ds.KbEntry]:
        """Existing entries, by kb_entry_id; those of a removed knowledge base are gone too."""
        return [e for e in self.entities.kb_entries
                if e.kb_entry_id not in self._deleted_entries and e.kb_id not in self._removed_kbs]

    def find_kb_entry(self, entry_id: int | str) -> ds.KbEntry:
        for entry in self.kb_entries():
            if str(entry.kb_entry_id) == str(entry_id):
                return entry
        raise NotFound(f"Knowledgebase entry '{entry_id}' not found")

    def delete_kb_entry(self, entry_id: int | str) -> list[int]:
        """Deletes the entry and the entries under it; returns their kb_entry_ids."""
        top = str(self.find_kb_entry(entry_id).kb_entry_id)
        gone = [e.kb_entry_id for e in self.kb_entries()
                if str(e.kb_entry_id) == top or top in e.treepath.split("|")]
        self._deleted_entries.update(gone)
        return gone

    def remove_knowledgebase(self, kb_id: str) -> None:
        if kb_id not in {kb for kb, _ in self.knowledgebases()}:
            raise NotFound(f"Knowledgebase '{kb_id}' not found")
        self._removed_kbs.add(kb_id)
