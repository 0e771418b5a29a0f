"""A run against an account with 5,000 conversations loads every table completely."""

from __future__ import annotations

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import CONTRACT_TABLES, ZONE, make_account
from tests.warehouse import Warehouse


@pytest.fixture
def account() -> Account:
    return make_account(conversations=5000, timezone=ZONE)


def test_5000_conversations(run_cli, fake: FakeLiveAgent, account: Account,
                            warehouse: Warehouse) -> None:
    assert run_cli() == 0
    assert warehouse.tables() >= CONTRACT_TABLES
    groups = sum(len(account.record(i).groups) for i in range(5000))
    messages = sum(len(g.messages) for i in range(5000) for g in account.record(i).groups)
    assert warehouse.scalar("SELECT count(DISTINCT conversationid) FROM {ds}.conversations") \
        == 5000
    assert warehouse.scalar("SELECT count(DISTINCT messagegroupid) FROM {ds}.message_groups") \
        == groups
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages") == messages
    assert len(fake.log.select(path=r"/messages$")) == 5000  # one request per conversation
    conversation_pages = fake.log.select(path=r"/api/conversations$")
    # the last 30 days: 5,000 is a multiple of the page size, so the sixth, empty page is how
    # the API says "done"; then one page of history (the start date's first hours)
    assert len(conversation_pages) == 7 and {e.params["limit"] for e in conversation_pages} == \
        {"1000"}
    for table in CONTRACT_TABLES:
        assert warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table}") > 0, table


def test_one_bad_message_in_5000_conversations_costs_that_message(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse
) -> None:
    broken = account.conversation_id(2500)

    def bad_date(payload: dict) -> dict:
        payload["response"]["groups"][0]["messages"][0]["datecreated"] = "0"
        return payload

    fake.faults.add("mutate", path=f"/{broken}/messages$", transform=bad_date)
    messages = sum(len(g.messages) for i in range(5000) for g in account.record(i).groups)
    assert run_cli("--resources", "conversations") == 3
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 5000
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages") == messages - 1
    [kept] = warehouse.rows("rejected_rows", "table_name, conversationid, reason")
    assert kept == {"table_name": "messages", "conversationid": broken,
                    "reason": "LiveAgent sent a malformed datetime in 'datecreated': '0'"}
    fake.faults.clear()
    assert run_cli("--resources", "conversations") == 0  # its messages are read again
    assert warehouse.scalar("SELECT count(*) FROM {ds}.messages") == messages
    assert warehouse.rows("rejected_rows") == []
