"""Odd or hostile API data is loaded faithfully or refused with a clear error, never dropped
silently, and never splits a column into variants."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.warehouse import Warehouse

Transform = Callable[[dict], dict]


def first_row(change: Callable[[dict], object]) -> Transform:
    def transform(payload: dict) -> dict:
        change(payload["response"]["conversations"][0])
        return payload
    return transform


def every_row(change: Callable[[dict], object]) -> Transform:
    def transform(payload: dict) -> dict:
        for row in payload["response"]["conversations"]:
            change(row)
        return payload
    return transform


def run(run_cli, capsys) -> tuple[int, str]:
    code = run_cli("--resources", "conversations", "--progress-every", "0")
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def no_variants(warehouse: Warehouse) -> None:
    assert [c for (_, c) in warehouse.column_types() if "__v_" in c] == []


@pytest.mark.parametrize("change, message", [
    (first_row(lambda r: r.__setitem__("subject", ["a", "b"])),
     "LiveAgent sent a list for the text field 'subject'"),
    (first_row(lambda r: r.__setitem__("messagegroupsin", "many")),
     "LiveAgent sent 'many' for the numeric field 'messagegroupsin'"),
    (first_row(lambda r: r.pop("datechanged")),
     "LiveAgent sent a conversations row without 'datechanged'"),
    (first_row(lambda r: r.pop("conversationid")),
     "LiveAgent sent a conversations row without 'conversationid'"),
    (first_row(lambda r: r.__setitem__("datecreated", "09/10/2025")),
     "LiveAgent sent a malformed datetime: '09/10/2025'"),
])
def test_refused_with_a_clear_error_and_nothing_lost(
    run_cli, fake: FakeLiveAgent, warehouse: Warehouse, capsys, change, message: str
) -> None:
    fake.faults.add("mutate", path="/api/conversations$", transform=change, times=1)
    code, line = run(run_cli, capsys)
    assert code == 1 and message in line
    assert "conversations" not in warehouse.tables()  # nothing of the run was loaded
    assert run(run_cli, capsys)[0] == 0  # the next run, with sane data, loads everything
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    no_variants(warehouse)


def test_malformed_json_is_refused(run_cli, fake: FakeLiveAgent, capsys) -> None:
    fake.faults.add("malformed", path="/api/conversations$", times=1)
    code, line = run(run_cli, capsys)
    assert code == 1 and "malformed JSON for /api/conversations" in line


def test_odd_values_are_loaded_faithfully(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys
) -> None:
    long_text = "🚀" + "x" * 200_000 + "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
    account.add_message(account.conversation_id(5), long_text,
                        useridentifier=account.entities.agents[0].email)
    first = account.conversation_id(0)
    def odd(payload: dict) -> dict:
        rows = payload["response"]["conversations"]
        rows[0].update(subject=12345, status="Q", channel_type="9", preview=None)
        for row in rows:
            row.pop("ownername")  # a field LiveAgent stopped sending
        return payload

    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=odd)
    result = run(run_cli, capsys)
    assert result[0] == 0, result
    row = warehouse.rows("conversations", "subject, status, channel_type, preview, ownername",
                         f"WHERE conversationid = '{first}'")[0]
    assert row == {"subject": "12345", "status": "Q", "channel_type": "9", "preview": None,
                   "ownername": None}
    stored = warehouse.scalar("SELECT message FROM {ds}.messages WHERE length(message) > 1000")
    assert stored == long_text
    no_variants(warehouse)


def test_a_row_listed_twice_is_loaded_and_fetched_once(
    run_cli, fake: FakeLiveAgent, warehouse: Warehouse, capsys
) -> None:
    def duplicate(payload: dict) -> dict:
        rows = payload["response"]["conversations"]
        rows.insert(50, dict(rows[3]))
        return payload

    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=duplicate)
    assert run(run_cli, capsys)[0] == 0
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    assert len(fake.log.select(path="/messages$")) == 120


def test_new_fields_are_columns_but_a_type_change_is_refused(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys
) -> None:
    fake.faults.add("mutate", path="/api/conversations$", times=1,
                    transform=every_row(lambda r: r.__setitem__("priority", 3)))
    assert run(run_cli, capsys)[0] == 0
    assert warehouse.scalar("SELECT sum(priority) FROM {ds}.conversations") == 360
    account.clock.advance(60)
    account.set_status(account.conversation_id(1), "R")
    fake.faults.add("mutate", path="/api/conversations$", times=1,
                    transform=every_row(lambda r: r.__setitem__("priority", "high")))
    code, line = run(run_cli, capsys)
    assert code == 1
    assert "LiveAgent sent 'priority' of conversations as a new type of value" in line
    no_variants(warehouse)
    again = run(run_cli, capsys)
    assert again[0] == 0, again  # the change was not lost: read again next time
    assert warehouse.scalar("SELECT status FROM {ds}.conversations WHERE conversationid = "
                            f"'{account.conversation_id(1)}'") == "R"
