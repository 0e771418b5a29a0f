"""Run, change the account the way users do, run again: every table equals the fake exactly,
and a run with nothing changed asks for no messages."""

from __future__ import annotations

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import Api
from tests.warehouse import Warehouse, assert_conversation_family_equal


def high_water_mark(account: Account) -> tuple[int, int]:
    """(index, datechanged) of the most recently changed conversation."""
    index = max(range(account.config.conversations), key=lambda i: account.record(i).changed)
    return index, account.record(index).changed


def test_changes_between_runs_are_all_picked_up(
    run_cli, fake: FakeLiveAgent, account: Account, api: Api, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    boundary_index, boundary = high_water_mark(account)
    agent = account.entities.agents[2].email
    ref = account.conversation_id

    # a change stamped in the very second of the high-water mark, on another conversation
    other = next(i for i in range(60, 120) if account.record(i).changed < boundary
                 and account.record(i).status != "X")
    account.add_message(ref(other), "same second", useridentifier=agent, at=boundary)
    # and the ordinary kinds of change, later
    account.clock.advance(600)
    account.set_status(ref(1), "R", useridentifier=agent)
    account.add_message(ref(2), "a reply", useridentifier=agent)
    account.add_message(ref(3), "a note", kind="N")
    account.add_message(ref(4), "customer again", from_customer=True)
    created = account.create_conversation("New one", "Hello there", channel="E", owner=3)
    deleted = next(i for i in range(10, 30) if account.record(i).status != "X")
    account.delete_conversation(ref(deleted))
    untagged = next(i for i in range(30, 60) if account.record(i).tags)
    for tag in list(account.record(untagged).tags):
        account.tag_conversation(ref(untagged), tag_id=account.entities.tags[tag].id, add=False)
    account.tag_conversation(ref(5), name=account.entities.tags[0].name, add=True)
    touched = (other, 1, 2, 3, 4, deleted, untagged, 5)
    assert len(set(touched)) == len(touched)
    changed = {ref(i) for i in touched} | {created}

    fake.log.clear()
    assert run_cli() == 0
    asked = {e.path.split("/")[3] for e in fake.log.select(path=r"/messages$")}
    assert changed <= asked
    assert asked - changed <= {ref(boundary_index)}  # at most the boundary row changed too
    assert_conversation_family_equal(api, warehouse)
    assert warehouse.scalar(
        f"SELECT count(*) FROM {{ds}}.conversation_tags WHERE conversationid = '{ref(untagged)}'"
    ) == 0

    fake.log.clear()
    assert run_cli() == 0
    assert fake.log.select(path=r"/messages$") == []
    listing = fake.log.select(path=r"/api/conversations$")
    assert len(listing) == 1 and listing[0].params["datechanged"].startswith("gte:")
    assert_conversation_family_equal(api, warehouse)


def test_a_conversation_deleted_before_its_messages_are_read_leaves_after_two_404s(
    run_cli, fake: FakeLiveAgent, account: Account, api: Api, warehouse: Warehouse
) -> None:
    """Listed, then purged before its messages were read: kept in rejected_rows (a 404 for a
    listed conversation may be a replica that lags), and it leaves once LiveAgent answered 404
    for it in two later runs."""
    victim = account.conversation_id(7)
    fake.faults.add("status", status=404, path=f"/api/conversations/{victim}/messages$",
                    times=1)
    assert run_cli() == 3
    assert warehouse.scalar("SELECT count(DISTINCT conversationid) FROM {ds}.messages") == 119
    [kept] = warehouse.rows("rejected_rows", "table_name, conversationid")
    assert kept == {"table_name": "messages", "conversationid": victim}
    if account.record(7).status != "X":
        account.delete_conversation(victim)  # to the trash...
    account.delete_conversation(victim)  # ...and purged: every endpoint answers 404
    assert run_cli() == 3  # the first 404 by id: kept
    assert len(warehouse.rows("rejected_rows")) == 1
    assert run_cli() == 0  # the second, in a later run: gone
    assert warehouse.rows("rejected_rows") == []
    assert warehouse.scalar(
        f"SELECT count(*) FROM {{ds}}.messages WHERE conversationid = '{victim}'") == 0


def test_kb_entries_are_incremental(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    account.clock.advance(60)
    account.touch_kb_entry(5, title="Renamed entry")
    fake.log.clear()
    assert run_cli() == 0
    changed, *everything = sorted(fake.log.select(path="/knowledgebase/entries$"),
                                  key=lambda call: "date_changed" not in call.params)
    assert "date_changed" in changed.params
    # the day's listing of every entry (deletes): one page, and the empty one after it
    assert [call.params for call in everything] == [{"limit": "500", "offset": str(offset)}
                                                    for offset in (0, 40)]
    assert warehouse.scalar("SELECT title FROM {ds}.kb_entries WHERE kb_entry_id = '5'") == \
        "Renamed entry"
    assert warehouse.scalar("SELECT count(*) FROM {ds}.kb_entries") == 40


def test_a_same_second_change_to_the_boundary_conversation_itself(
    run_cli, fake: FakeLiveAgent, account: Account, api: Api, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    index, boundary = high_water_mark(account)
    ref = account.conversation_id(index)
    new_status = "C" if account.record(index).status != "C" else "A"
    account.set_status(ref, new_status, at=boundary)  # same datechanged, different row
    fake.log.clear()
    assert run_cli() == 0
    assert [e.path for e in fake.log.select(path=r"/messages$")] == \
        [f"/api/conversations/{ref}/messages"]
    assert warehouse.scalar(
        f"SELECT status FROM {{ds}}.conversations WHERE conversationid = '{ref}'") == new_status
    assert_conversation_family_equal(api, warehouse)


def test_company_and_agent_details_only_when_listed_rows_change(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    assert run_cli() == 0
    fake.log.clear()
    assert run_cli() == 0
    assert fake.log.select(path=r"/api/companies/") == []
    assert fake.log.select(path=r"/api/agents/") == []
    company = account.company(1)
    account.rename_company(company.id, "Renamed & Co.")
    fake.log.clear()
    assert run_cli() == 0
    assert [e.path for e in fake.log.select(path=r"/api/companies/")] == \
        [f"/api/companies/{company.id}"]
    assert warehouse.scalar(f"SELECT name FROM {{ds}}.companies WHERE id = '{company.id}'") == \
        "Renamed & Co."
    account.clock.advance(7 * 86400)  # a week later every company's details are read again
    fake.log.clear()
    assert run_cli() == 0
    assert len(fake.log.select(path=r"/api/companies/")) == account.config.company_count
    assert len(fake.log.select(path=r"/api/agents/")) == len(account.entities.agents)


def test_a_company_or_agent_deleted_before_its_details_is_skipped(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    gone_company, gone_agent = account.company(0).id, account.entities.agents[0].userid
    fake.faults.add("status", status=404, path=f"/api/companies/{gone_company}$")
    fake.faults.add("status", status=404, path=f"/api/agents/{gone_agent}$")
    assert run_cli("--progress-every", "0") == 0
    ids = {r["id"] for r in warehouse.rows("companies", "id")}
    assert gone_company not in ids and len(ids) == account.config.company_count - 1
    assert gone_agent not in {r["id"] for r in warehouse.rows("agents", "id")}
