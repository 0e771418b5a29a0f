"""One bad /messages answer costs nothing: a conversation whose messages fall short of what its
listed row counts (`messagegroupsin` + `messagegroupsout`), or answer 404 while it is listed, is
kept in `rejected_rows` and read again by later runs until its messages are whole; one that
stays short for `short_message_reads` reads is loaded as LiveAgent gives it, with a line saying
so. In DuckDB and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import main
from tests.support import Api
from tests.warehouse import Target

REPLIED = 60
CONVERSATIONS = ("--resources", "conversations", "--progress-every", "0")
# each answers /messages short once: a conversation deleted meanwhile (as a replica that lags
# sees it), an empty group list, no `groups` key, every group but the newest
SHORT_ANSWERS = {
    "404": {"kind": "status", "status": 404},
    "empty group list": {"kind": "empty_groups"},
    "no groups key": {"kind": "no_groups_key"},
    "all but the newest group": {"kind": "lagging_replica"},
}


def run(run_cli: Callable[..., int], target: Target, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, str]:
    code = run_cli(*target.args, *CONVERSATIONS)
    return code, capsys.readouterr().out


def reply(account: Account, count: int) -> list[str]:
    """A reply by an agent to each of the first `count` conversations."""
    account.clock.advance(600)
    agent = account.entities.agents[0].email
    replied = [account.conversation_id(index) for index in range(count)]
    for ref in replied:
        account.add_message(ref, f"a reply to {ref}", useridentifier=agent)
    return replied


def served(api: Api) -> tuple[set[str], set[str]]:
    """(message group ids, message ids) the fake serves for every listed conversation."""
    groups, messages = set(), set()
    for row in api.all_conversations():
        for group in api.get(f"/api/conversations/{row['conversationid']}/messages")["groups"]:
            groups.add(group["messagegroupid"])
            messages.update(message["messageid"] for message in group["messages"])
    return groups, messages


def loaded(target: Target) -> tuple[set[str], set[str]]:
    groups = {row["messagegroupid"] for row in
              target.query("SELECT messagegroupid FROM {ds}.message_groups")}
    messages = {row["messageid"] for row in target.query("SELECT messageid FROM {ds}.messages")}
    return groups, messages


def kept(target: Target) -> list[dict[str, Any]]:
    return target.query("SELECT table_name, conversationid, reason FROM {ds}.rejected_rows "
                        "ORDER BY conversationid")


@pytest.mark.parametrize("answer", SHORT_ANSWERS)
def test_replies_a_short_answer_missed_are_loaded_by_the_next_run(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, api: Api,
    target: Target, configured: Path, capsys: pytest.CaptureFixture[str], answer: str,
) -> None:
    assert run(run_cli, target, capsys)[0] == 0
    replied = reply(account, REPLIED)
    fake.faults.add(path=r"/messages$", times=REPLIED, **SHORT_ANSWERS[answer])
    code, out = run(run_cli, target, capsys)
    assert code == 3, out  # not 0: 60 conversations' messages are not whole
    assert f"{REPLIED} rows could not be loaded ({REPLIED} new this run)" in out
    assert f"{REPLIED} conversations' messages read again by id" in out
    rows = kept(target)
    assert [row["conversationid"] for row in rows] == sorted(replied)
    assert all(row["table_name"] == "messages" for row in rows)
    groups, messages = served(api)
    have_groups, have_messages = loaded(target)
    assert len(groups - have_groups) == REPLIED and len(messages - have_messages) == REPLIED
    # the conversations themselves loaded as listed: the high-water mark moved on
    listed = {row["conversationid"]: int(row["messagegroupsout"])
              for row in api.all_conversations()}
    assert {row["conversationid"]: row["messagegroupsout"] for row in target.query(
        "SELECT conversationid, messagegroupsout FROM {ds}.conversations")} == listed

    status = ["status", "--pipelines-dir", str(configured / "pipelines"), *target.args]
    assert main(status) == 0
    assert f"{REPLIED} conversations' messages read again by id" in capsys.readouterr().out

    fake.log.clear()
    code, out = run(run_cli, target, capsys)
    assert code == 0, out
    assert loaded(target) == (groups, messages)
    assert kept(target) == []
    asked = {entry.path.split("/")[3] for entry in fake.log.select(path=r"/messages$")}
    assert asked == set(replied)  # read again by id, nothing else


def test_a_conversation_that_stays_short_is_loaded_as_given_after_its_reads(
    run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, api: Api,
    target: Target, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(run_cli, target, capsys)[0] == 0
    [ref] = reply(account, 1)
    fake.faults.add("lagging_replica", path=f"/{ref}/messages$")  # for good (deleted groups)
    for read in (1, 2):
        code, out = run(run_cli, target, capsys)
        assert code == 3, out
        [row] = kept(target)
        assert row["conversationid"] == ref and f"(read {read} of 3)" in row["reason"]
        assert f"GET conversations/{ref}/messages answered" in row["reason"]
    code, out = run(run_cli, target, capsys)
    assert code == 0, out
    assert "1 conversation's messages loaded as LiveAgent gives them after 3 short reads" \
        in out
    assert kept(target) == []
    expected = api.get(f"/api/conversations/{ref}/messages")["groups"]
    fake.faults.clear()
    whole = api.get(f"/api/conversations/{ref}/messages")["groups"]
    assert len(expected) == len(whole) - 1
    loaded_groups = {row["messagegroupid"] for row in target.query(
        f"SELECT messagegroupid FROM {{ds}}.message_groups WHERE conversationid = '{ref}'")}
    assert loaded_groups == {group["messagegroupid"] for group in expected}
