"""Odd or hostile API data is loaded faithfully or refused with a clear error, never dropped
silently, and never splits a column into variants."""

from __future__ import annotations

import json
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
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    return code, err[-1] if err else captured.out


def no_variants(warehouse: Warehouse) -> None:
    assert [c for (_, c) in warehouse.column_types() if "__v_" in c] == []


def rejected(warehouse: Warehouse) -> list[dict]:
    return warehouse.rows("rejected_rows", "table_name, row_key, reason, raw_json")


@pytest.mark.parametrize("change, message, keyed", [
    (first_row(lambda r: r.__setitem__("subject", ["a", "b"])),
     "LiveAgent sent a list for the text field 'subject'", True),
    (first_row(lambda r: r.__setitem__("messagegroupsin", "many")),
     "LiveAgent sent 'many' for the numeric field 'messagegroupsin'", True),
    (first_row(lambda r: r.pop("datechanged")),
     "LiveAgent sent a conversations row without 'datechanged'", True),
    (first_row(lambda r: r.pop("conversationid")),
     "LiveAgent sent a conversations row without 'conversationid'", False),
    (first_row(lambda r: r.__setitem__("datecreated", "09/10/2025")),
     "LiveAgent sent a malformed datetime in 'datecreated': '09/10/2025'", True),
])
def test_a_bad_row_costs_that_row_and_is_read_again_until_it_loads(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys, change,
    message: str, keyed: bool,
) -> None:
    first = account.conversation_id(0)
    fake.faults.add("mutate", path="/api/conversations$", transform=change, times=1)
    code, output = run(run_cli, capsys)
    assert code == 3 and "1 rows could not be loaded (1 new this run)" in output
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 119
    assert warehouse.scalar(f"SELECT count(*) FROM {{ds}}.messages "
                            f"WHERE conversationid = '{first}'") == 0  # it waits with its row
    [kept] = rejected(warehouse)
    assert kept["table_name"] == "conversations" and message in kept["reason"]
    assert kept["row_key"] == (first if keyed else None)
    owner = account.customer(account.record(0).owner).name
    assert json.loads(kept["raw_json"])["ownername"] == owner  # kept as LiveAgent sent it
    code, output = run(run_cli, capsys)  # the next run reads the row again, by its id
    if keyed:
        assert code == 0, output
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
        assert warehouse.scalar(f"SELECT count(*) FROM {{ds}}.messages "
                                f"WHERE conversationid = '{first}'") > 0
        assert rejected(warehouse) == []
    else:  # without its id it cannot be asked for again: it stays where analysts see it
        assert code == 3 and len(rejected(warehouse)) == 1
    no_variants(warehouse)


def test_malformed_json_is_retried_and_counted(run_cli, fake: FakeLiveAgent, capsys,
                                               warehouse: Warehouse) -> None:
    fake.faults.add("malformed", path="/api/conversations$", times=1)
    code, output = run(run_cli, capsys)
    assert code == 0 and "LiveAgent sent 1 bad answers, each retried: 1 x malformed JSON" \
        in output
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


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


def test_new_fields_are_columns_and_a_type_change_costs_the_row(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys
) -> None:
    fake.faults.add("mutate", path="/api/conversations$", times=1,
                    transform=every_row(lambda r: r.__setitem__("priority", 3)))
    assert run(run_cli, capsys)[0] == 0
    assert warehouse.scalar("SELECT sum(priority) FROM {ds}.conversations") == 360
    account.clock.advance(60)
    changed = account.conversation_id(1)
    account.set_status(changed, "R")
    fake.faults.add("mutate", path="/api/conversations$", times=1,
                    transform=every_row(lambda r: r.__setitem__("priority", "high")))
    code, output = run(run_cli, capsys)
    assert code == 3, output
    kept = rejected(warehouse)  # the changed row, and the boundary second's rows read again
    assert changed in {row["row_key"] for row in kept}
    assert all("LiveAgent sent 'priority' of conversations as text ('high') where the column "
               "holds bigint" in row["reason"] for row in kept)
    no_variants(warehouse)
    again = run(run_cli, capsys)
    assert again[0] == 0, again  # the change was not lost: read again by id next time
    assert warehouse.scalar("SELECT status FROM {ds}.conversations WHERE conversationid = "
                            f"'{changed}'") == "R"
    assert rejected(warehouse) == []


def test_fields_whose_column_names_collide_keep_both_values(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys
) -> None:
    def twins(row: dict) -> None:
        row.update(Status="shouted", newAnswerAvgTime=5, new_answer_avg_time=6)

    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=every_row(twins))
    assert run(run_cli, capsys)[0] == 0
    row = warehouse.rows("conversations", "status, status_2, new_answer_avg_time, "
                         "new_answer_avg_time_2",
                         f"WHERE conversationid = '{account.conversation_id(0)}'")[0]
    assert row == {"status": account.record(0).status, "status_2": "shouted",
                   "new_answer_avg_time": 6, "new_answer_avg_time_2": 5}


def test_mysql_zero_dates_load_as_null(
    run_cli, fake: FakeLiveAgent, account: Account, warehouse: Warehouse, capsys
) -> None:
    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=first_row(
        lambda r: r.update(datedue="0000-00-00 00:00:00", datecreated="0000-00-00")))
    assert run(run_cli, capsys)[0] == 0
    row = warehouse.rows("conversations", "datedue, datecreated",
                         f"WHERE conversationid = '{account.conversation_id(0)}'")[0]
    assert row == {"datedue": None, "datecreated": None}
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
