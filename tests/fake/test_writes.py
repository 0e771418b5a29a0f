"""Write endpoints and the Python API change data the way a LiveAgent user would."""

from __future__ import annotations

from tests.support import Api, assert_error

OK = {"status": "OK", "statuscode": 0}


def row(api: Api, ref: str) -> dict:
    return api.get(f"/api/conversations/{ref}")


def message_ids(api: Api, ref: str) -> list[str]:
    groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
    return [m["messageid"] for g in groups for m in g["messages"]]


def test_status_change_moves_datechanged_and_resolving_adds_a_group(api: Api, account) -> None:
    ref = account.conversation_id(2)
    account.clock.advance(120)
    now = account.time.render(account.clock.now())
    before = api.get(f"/api/conversations/{ref}/messages")["groups"]
    response = api.call("PUT", f"/api/conversations/{ref}/status", status="C")
    assert response.json()["response"] == OK
    assert row(api, ref)["status"] == "C" and row(api, ref)["datechanged"] == now
    api.call("PUT", f"/api/conversations/{ref}/status", status="R", note="done")
    after = api.get(f"/api/conversations/{ref}/messages")["groups"]
    assert [g["rtype"] for g in after[len(before):]] == ["I", "R"]
    assert row(api, ref)["status"] == "R"
    changed = api.all_conversations(datechanged=f"gte:{now}")
    assert [r["conversationid"] for r in changed] == [ref]


def test_posted_message_is_listed_and_answers_the_conversation(api: Api, account) -> None:
    ref = account.conversation_id(5)
    agent = account.entities.agents[1]
    before = message_ids(api, ref)
    account.clock.advance(30)
    response = api.call("POST", f"/api/conversations/{ref}/messages", message="Hi ✓ 🚀",
                        useridentifier=agent.email)
    assert response.json()["response"] == OK
    groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
    new = [m for g in groups for m in g["messages"] if m["messageid"] not in before]
    assert len(new) == 1
    assert new[0]["message"] == "Hi ✓ 🚀" and new[0]["userid"] == agent.userid
    assert row(api, ref)["status"] == "A"
    assert row(api, ref)["datechanged"] == account.time.render(account.clock.now())


def test_note_without_user_is_written_by_system(api: Api, account) -> None:
    ref = account.conversation_id(6)
    api.call("POST", f"/api/conversations/{ref}/messages", message="internal", type="N")
    last = api.get(f"/api/conversations/{ref}/messages")["groups"][-1]
    assert last["rtype"] == "I" and last["messages"][0]["rtype"] == "N"
    assert last["userid"] == "system00"


def test_delete_trashes_then_purges(api: Api, account) -> None:
    ref = account.conversation_id(7)
    if row(api, ref)["status"] == "X":
        ref = account.conversation_id(8)
    assert api.call("DELETE", f"/api/conversations/{ref}").json()["response"] == OK
    assert row(api, ref)["status"] == "X"
    assert ref in [r["conversationid"] for r in api.all_conversations(status="X")]
    api.call("DELETE", f"/api/conversations/{ref}")
    assert_error(api.call("GET", f"/api/conversations/{ref}"), 404)
    assert_error(api.call("GET", f"/api/conversations/{ref}/messages"), 404)
    assert ref not in [r["conversationid"] for r in api.all_conversations()]
    assert len(api.all_conversations()) == 59 == account.conversation_count


def test_tags_assign_and_unassign_by_id_or_name(api: Api, account) -> None:
    ref = account.conversation_id(9)
    tags = api.get("/api/tags")["tags"]
    for tag in api.get(f"/api/conversations/{ref}/tags")["tags"]:
        api.call("DELETE", f"/api/conversations/{ref}/tags", id=tag["id"])
    assert row(api, ref)["tags"] == ""
    account.clock.advance(10)
    api.call("POST", f"/api/conversations/{ref}/tags", id=tags[3]["id"])
    api.call("POST", f"/api/conversations/{ref}/tags", name=tags[1]["name"])
    assert api.get(f"/api/conversations/{ref}/tags")["tags"] == [tags[1], tags[3]]
    assert row(api, ref)["tags"] == f"{tags[1]['id']},{tags[3]['id']}"
    assert row(api, ref)["datechanged"] == account.time.render(account.clock.now())
    assert_error(api.call("POST", f"/api/conversations/{ref}/tags", id="nope"), 404)


def test_a_tag_changed_by_put_is_listed_changed_and_its_conversations_are_not(
    api: Api, account
) -> None:
    tag = api.get("/api/tags")["tags"][4]
    tagged = next(i for i in range(59) if 4 in account.record(i).tags)
    before = row(api, account.conversation_id(tagged))
    account.clock.advance(60)
    response = api.call("PUT", f"/api/tags/{tag['id']}", name="Renamed", bg_color="00FF00")
    assert response.json() == {"response": OK}
    assert api.get("/api/tags")["tags"][4] == {"id": tag["id"], "name": "Renamed"}
    detail = api.get(f"/api/tags/{tag['id']}")
    assert (detail["name"], detail["bg_color"]) == ("Renamed", "00FF00")
    assert row(api, account.conversation_id(tagged)) == before
    assert_error(api.call("PUT", "/api/tags/nope", name="x"), 404)


def test_python_api_creates_and_changes_conversations(api: Api, account) -> None:
    account.clock.advance(60)
    new = account.create_conversation("Printer on fire", "Help!", channel="M")
    rows = api.all_conversations()
    assert rows[-1]["conversationid"] == new and rows[-1]["status"] == "N"
    assert rows[-1]["datecreated"] == account.time.render(account.clock.now())
    account.add_message(new, "It is out", from_customer=True, at=account.clock.now() + 5)
    assert row(api, new)["status"] == "C"
    assert len(message_ids(api, new)) == 2
    assert row(api, new)["messagegroupsin"] == "2"


def test_unchanged_conversations_keep_their_rows(api: Api, account) -> None:
    before = api.all_conversations()
    account.set_status(account.conversation_id(11), "R")
    after = api.all_conversations()
    changed = [b["conversationid"] for a, b in zip(after, before, strict=True) if a != b]
    assert changed == [account.conversation_id(11)]
