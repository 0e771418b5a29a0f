"""A first run loads every table of the contract, and each equals the fake account."""

from __future__ import annotations

import json

from tests.support import CONTRACT_TABLES, ZONE, Api
from tests.warehouse import CONVERSATION_COLUMNS, Expected, Warehouse, utc


def test_every_table_equals_the_fake(run_cli, api: Api, warehouse: Warehouse) -> None:
    assert run_cli() == 0
    assert warehouse.tables() >= CONTRACT_TABLES
    expected = Expected(api, ZONE)

    assert warehouse.keyed("conversations", "conversationid", CONVERSATION_COLUMNS) == \
        expected.conversation_rows()
    tags = warehouse.rows("conversation_tags", "conversationid, tag_id")
    assert len(tags) == len(expected.tag_rows())
    assert {(r["conversationid"], r["tag_id"]) for r in tags} == expected.tag_rows()

    groups, messages = expected.message_tables()
    assert warehouse.keyed("message_groups", "messagegroupid", list(next(iter(groups.values()))))\
        == groups
    assert warehouse.keyed("messages", "messageid", list(next(iter(messages.values())))) == \
        messages


def test_directory_tables_equal_the_fake(run_cli, api: Api, warehouse: Warehouse) -> None:
    assert run_cli() == 0
    listed = api.get("/api/companies")["companies"]
    companies = warehouse.keyed("companies", "id", ["id", "name", "language", "datecreated"])
    assert set(companies) == {c["id"] for c in listed}
    for company in listed:
        detail = api.get(f"/api/companies/{company['id']}")
        assert companies[company["id"]] == {"id": company["id"], "name": detail["name"],
                                            "language": detail["language"],
                                            "datecreated": utc(detail["datecreated"], ZONE)}
    for company in listed:  # lists stay with their row, as JSON
        detail = api.get(f"/api/companies/{company['id']}")
        loaded = warehouse.rows("companies", "emails, phones, custom_fields",
                                f"WHERE id = '{company['id']}'")[0]
        assert json.loads(loaded["emails"]) == detail["emails"]
        assert json.loads(loaded["phones"]) == detail["phones"]
        assert json.loads(loaded["custom_fields"]) == detail["custom_fields"]

    entries = api.get("/api/knowledgebase/entries", limit=500)["entries"]
    loaded = warehouse.keyed("kb_entries", "kb_entry_id",
                             ["kb_entry_id", "parent_entry_id", "views", "datechanged", "title"])
    assert loaded == {e["kb_entry_id"]: {
        "kb_entry_id": e["kb_entry_id"], "parent_entry_id": e["parent_entry_id"] or None,
        "views": int(e["views"]), "datechanged": utc(e["datechanged"], ZONE),
        "title": e["title"]} for e in entries}

    for table, path, key, fields in [
        ("tags", "/api/tags", "tags", ["id", "name"]),
        ("customer_groups", "/api/customersgroups", "groups", ["id", "name"]),
        ("suggestion_categories", "/api/suggestioncategories", "suggestioncategories",
         ["id", "title", "path"]),
        ("knowledgebases", "/api/knowledgebase/knowledgebases", "knowledgebases",
         ["kb_id", "name"]),
    ]:
        rows = warehouse.rows(table, ", ".join(fields))
        assert sorted(rows, key=str) == sorted(api.get(path)[key], key=str), table


def test_agents_without_secrets(run_cli, api: Api, warehouse: Warehouse) -> None:
    assert run_cli() == 0
    states = api.get("/api/onlinestatus/agents")["agentsOnlineStates"]
    agents = warehouse.rows("agents")
    assert {a["id"] for a in agents} == {s["id"] for s in states}
    assert not {"authtoken", "browsercookiename"} & set(agents[0])
    for state in states:
        detail = api.get(f"/api/agents/{state['id']}")
        row = next(a for a in agents if a["id"] == state["id"])
        assert (row["email"], row["role"], row["systemname"], row["preset_status"]) == \
            (detail["email"], detail["role"], detail["systemname"], state["presetStatus"])
        assert detail["authtoken"] not in repr(warehouse.rows("agents"))
    snapshots = warehouse.rows("agent_online_status")
    assert sorted((s["id"], s["online_status"]) for s in snapshots) == \
        sorted((s["id"], s["onlineStatus"]) for s in states)
    assert len({s["snapshot_at"] for s in snapshots}) == 1


def test_column_types(run_cli, warehouse: Warehouse) -> None:
    assert run_cli() == 0
    types = warehouse.column_types()
    assert types[("conversations", "datechanged")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("conversations", "messagegroupsin")] == "BIGINT"
    assert types[("conversations", "conversationid")] == "VARCHAR"
    assert types[("kb_entries", "kb_entry_id")] == "VARCHAR"
    assert types[("report_agents", "answers")] == "BIGINT"
    assert types[("report_agents", "answers_ph")] == "DOUBLE"
    assert types[("report_agents", "report_date")] == "DATE"
    assert types[("report_tickets_load", "avg_queue")] == "DOUBLE"
    assert types[("report_sla_log", "server_date_due")] == "TIMESTAMP WITH TIME ZONE"
    variants = [c for (_, c) in types if "__v_" in c]
    assert variants == []


def test_conversation_details_are_opt_in(run_cli, api: Api, fake, warehouse: Warehouse) -> None:
    assert run_cli() == 0
    assert "conversation_details" not in warehouse.tables()
    assert all(e.path.count("/") != 3 for e in fake.log.select(path="/api/conversations/"))
    fake.log.clear()
    assert run_cli("--resources", "conversation_details", "--full-refresh") == 0
    details = {r["conversationid"]: r for r in warehouse.rows(
        "conversation_details", "conversationid, assignedto, ownernote, customfields")}
    assert len(details) == 120
    assert len(fake.log.select(path=r"/api/conversations/[^/]+$")) == 120
    assert {"conversations", "messages"} <= warehouse.tables()  # the family came along
    for cid in list(details)[:30]:
        detail = api.get(f"/api/conversations/{cid}")
        assert (details[cid]["assignedto"], details[cid]["ownernote"]) == \
            (detail["assignedto"], detail["ownernote"])
        loaded = details[cid]["customfields"]
        assert (json.loads(loaded) if loaded else []) == detail["customfields"]
