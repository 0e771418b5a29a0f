"""The opt-in behaviours of the real API (liveagent_fake.realworld), seen on the wire, and the
undocumented `offset` of GET /conversations."""

from __future__ import annotations

import json

import pytest

from liveagent_fake.dataset import GENERATED_SERIAL_LIMIT
from liveagent_fake.models import Account
from liveagent_fake.realworld import RealWorld
from liveagent_fake.server import FakeLiveAgent
from tests.support import Api, make_account

DATES = {"date_from": "2025-09-10", "date_to": "2025-10-09"}


def conversation_ids(rows: list[dict]) -> list[str]:
    return [row["conversationid"] for row in rows]


def all_groups(api: Api) -> list[dict]:
    """Every message group of every conversation, in listing order."""
    return [group for row in api.all_conversations()
            for group in api.get(f"/api/conversations/{row['conversationid']}/messages")["groups"]]


class TestTheRecord:
    def test_everything_is_off_by_default(self, account: Account) -> None:
        assert account.real_world == RealWorld()
        assert account.real_world.enabled() == ()

    def test_constructor_takes_a_record(self) -> None:
        account = Account(real_world=RealWorld(no_cursor=True, null_tags=True))
        assert account.real_world.enabled() == ("no_cursor", "null_tags")

    def test_from_names(self) -> None:
        assert RealWorld.from_names(" no_cursor, nul_in_text ,") == \
            RealWorld(no_cursor=True, nul_in_text=True)
        assert RealWorld.from_names("") == RealWorld()

    def test_unknown_names_are_refused_with_the_known_ones(self) -> None:
        with pytest.raises(ValueError, match=r"cursorless.*no_cursor, groups_without_id"):
            RealWorld.from_names("no_cursor,cursorless")


class TestOffsetWithModes:
    def test_offset_pages_whatever_the_modes(self, api: Api, account: Account) -> None:
        account.real_world = RealWorld(no_cursor=True, null_tags=True)
        rows = api.all_conversations_by_offset(7)
        assert conversation_ids(rows) == [account.conversation_id(i) for i in range(60)]


class TestConversationShape:
    def test_no_cursor(self, api: Api, account: Account) -> None:
        assert all("cursor" in row for row in api.get("/api/conversations")["conversations"])
        account.real_world.no_cursor = True
        rows = api.get("/api/conversations")["conversations"]
        assert rows and all("cursor" not in row for row in rows)
        detail = api.get(f"/api/conversations/{rows[0]['conversationid']}")
        assert detail["cursor"] is None

    def test_null_tags(self, api: Api, account: Account) -> None:
        assert not any(row["tags"] is None for row in api.all_conversations())
        account.real_world.null_tags = True
        rows = api.all_conversations()
        untagged = [row for row in rows if not account.record(
            account.find_conversation(row["conversationid"])).tags]
        assert untagged and all(row["tags"] is None for row in untagged)
        assert all(row["tags"] for row in rows if row not in untagged)
        detail = api.get(f"/api/conversations/{untagged[0]['conversationid']}")
        assert detail["tags"] is None
        assert '"tags":null' in api.call("GET", "/api/conversations").text

    def test_dangling_tags(self, api: Api, account: Account) -> None:
        listed = {tag["id"] for tag in api.get("/api/tags")["tags"]}
        assert all(set(filter(None, row["tags"].split(","))) <= listed
                   for row in api.all_conversations())
        account.real_world.dangling_tags = True
        dangling = {row["conversationid"]: row["tags"].split(",")[-1]
                    for row in api.all_conversations()
                    if row["tags"] and row["tags"].split(",")[-1] not in listed}
        assert len(dangling) == 15  # every 4th of 60
        assert set(dangling) == {account.conversation_id(i) for i in range(1, 60, 4)}
        assert set(dangling.values()) == set(account.deleted_tag_ids)
        ref, tag_id = next(iter(dangling.items()))
        assert api.call("GET", f"/api/tags/{tag_id}").status_code == 404
        on_conversation = api.get(f"/api/conversations/{ref}/tags")["tags"]
        assert tag_id not in {tag["id"] for tag in on_conversation}

    def test_numeric_counts_in_conversations(self, api: Api, account: Account) -> None:
        row = api.get("/api/conversations", limit=1)["conversations"][0]
        assert isinstance(row["messagegroupsin"], str)
        account.real_world.numeric_counts = True
        counted = api.get("/api/conversations", limit=1)["conversations"][0]
        assert counted["messagegroupsin"] == int(row["messagegroupsin"])
        assert counted["messagegroupsout"] == int(row["messagegroupsout"])
        assert '"messagegroupsin":' + row["messagegroupsin"] + "," in \
            api.call("GET", "/api/conversations", limit=1).text

    def test_numeric_counts_in_knowledge_base(self, api: Api, account: Account) -> None:
        entries = api.get("/api/knowledgebase/entries", limit=500)["entries"]
        account.real_world.numeric_counts = True
        counted = api.get("/api/knowledgebase/entries", limit=500)["entries"]
        for before, after in zip(entries, counted, strict=True):
            for name in ("rorder", "views", "votes"):
                assert after[name] == int(before[name])
            assert after["kb_entry_id"] == before["kb_entry_id"]  # ids stay text
        assert api.get("/api/knowledgebase/articles", limit=500)["articles"] == counted

    def test_numeric_counts_in_reports(self, api: Api, account: Account) -> None:
        agents = api.get("/api/reports/agents", **DATES)["agents"]
        account.real_world.numeric_counts = True
        counted = api.get("/api/reports/agents", **DATES)["agents"]
        for before, after in zip(agents, counted, strict=True):
            assert after["id"] == before["id"] and after["firstname"] == before["firstname"]
            assert after["answers"] == int(before["answers"])
            assert after["answers_ph"] == float(before["answers_ph"])
        loads = api.get("/api/reports/tickets/load", **DATES)["loads"]
        assert isinstance(loads[0]["date"], str) and isinstance(loads[0]["maxQueue"], int)

    def test_extra_fields(self, api: Api, account: Account) -> None:
        row = api.get("/api/conversations", limit=1)["conversations"][0]
        assert "priority" not in row
        account.real_world.extra_fields = True
        rows = api.all_conversations()
        assert {row["priority"] for row in rows} == {"0", "1"}
        assert rows[0]["priority"] == "1"  # index 0: every 7th is high
        detail = api.get(f"/api/conversations/{rows[0]['conversationid']}")
        assert detail["priority"] == "1"
        groups = api.get(f"/api/conversations/{rows[0]['conversationid']}/messages")["groups"]
        expected = "H" if rows[0]["channel_type"] == "E" else "T"
        assert {m["format"] for g in groups for m in g["messages"]} == {expected}

    def test_status_extra_fields(self, api: Api, account: Account) -> None:
        assert set(api.get("/api/application/status")) == {"liveagentversion",
                                                           "current_server_time"}
        account.real_world.status_extra_fields = True
        status = api.get("/api/application/status")
        assert status == {
            "liveagentversion": status["liveagentversion"],
            "current_server_time": "2025-10-09 10:53:20",
            "gpfversion": "1.3.76.0",
            "dateinstalled": "2025-09-09 10:53:20",
            "datelatestupdate": "2025-10-02 10:53:20",
        }


class TestMessages:
    def test_groups_without_id(self, api: Api, account: Account) -> None:
        ref = account.conversation_id(3)
        assert all("messagegroupid" in g for g in api.get(f"/api/conversations/{ref}/messages")
                   ["groups"])
        account.real_world.groups_without_id = True
        groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
        assert groups and all("messagegroupid" not in g for g in groups)
        assert all(g["messages"] for g in groups)

    def test_group_without_messages(self, api: Api, account: Account) -> None:
        assert all("messages" in g and g["messages"] for g in all_groups(api))
        account.real_world.group_without_messages = True
        for index in range(60):
            ref = account.conversation_id(index)
            groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
            bare = [g for g in groups if "messages" not in g]
            if index % 5:
                assert bare == []
                continue
            assert len(bare) == 1 and groups.index(bare[0]) == 1
            assert bare[0]["rtype"] == "T"
            assert bare[0]["datecreated"] > groups[0]["datecreated"]

    def test_group_without_messages_does_not_change_the_counts(
        self, api: Api, account: Account
    ) -> None:
        before = api.all_conversations()
        account.real_world.group_without_messages = True
        assert api.all_conversations() == before

    def test_nul_in_text(self, api: Api, account: Account) -> None:
        def texts() -> dict[str, str]:
            return {m["messageid"]: m["message"] for g in all_groups(api) for m in g["messages"]}

        plain = texts()
        assert not any("\x00" in text or "\ud83d" in text for text in plain.values())
        account.real_world.nul_in_text = True
        changed = {k: v for k, v in texts().items() if v != plain[k]}
        serials = {account.codecs.message.encode(m.serial): m.serial
                   for i in range(60) for g in account.record(i).groups for m in g.messages}
        assert set(changed) == {k for k, s in serials.items() if s % 10 == 0}
        for key, text in changed.items():
            assert text.replace("\x00", "").removesuffix("\ud83d") == plain[key]
            assert text.count("\x00") == 1 and text.endswith("\ud83d")

    def test_nul_in_text_goes_out_as_json_escapes(self, api: Api, account: Account) -> None:
        account.real_world.nul_in_text = True
        index = next(i for i in range(60)
                     if any(m.serial % 10 == 0 for g in account.record(i).groups
                            for m in g.messages))
        raw = api.call("GET", f"/api/conversations/{account.conversation_id(index)}/messages")
        assert raw.content.isascii()
        assert "\\u0000" in raw.text and "\\ud83d" in raw.text
        json.loads(raw.text)  # still valid JSON

    def test_a_written_text_with_nul_round_trips(self, api: Api, account: Account) -> None:
        ref = account.conversation_id(4)
        text = "before\x00after \ud83d"
        account.add_message(ref, text, useridentifier=account.entities.agents[0].userid)
        groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
        assert groups[-1]["messages"][-1]["message"] == text
        written = account.record(account.find_conversation(ref)).groups[-1].messages[-1]
        assert written.serial >= GENERATED_SERIAL_LIMIT


class TestModesCombine:
    def test_all_modes_but_the_examples_keep_every_endpoint_answering(self) -> None:
        names = [name for name in RealWorld.names() if name != "documented_examples"]
        account = make_account()
        account.real_world = RealWorld.from_names(",".join(names))
        with FakeLiveAgent(account) as fake:
            api = Api(fake)
            rows = api.all_conversations_by_offset(25)
            assert len(rows) == 60
            for row in rows[:5]:
                api.get(f"/api/conversations/{row['conversationid']}")
                api.get(f"/api/conversations/{row['conversationid']}/messages")
                api.get(f"/api/conversations/{row['conversationid']}/tags")
            for name in ("agents", "channels", "departments", "performance", "tags",
                         "tickets/slalog", "tickets/slacompliance", "tickets/agentsavailability"):
                api.get(f"/api/reports/{name}", **DATES)
