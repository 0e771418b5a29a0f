"""Deletes: DELETE /tags/{id}, /customersgroups/{id}, /knowledgebase/entries/{id}, and the
model's removals the API v1 has no endpoint for. Each test compares every listing and details
answer before and after, so an effect beyond the documented ones shows up as a difference."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from liveagent_fake import dataset as ds
from liveagent_fake.exceptions import NotFound
from liveagent_fake.models import Account
from tests.support import Api, make_account

OK = {"status": "OK", "statuscode": 0}
RANGE = {"date_from": "2025-09-01", "date_to": "2025-10-09"}  # the whole generated history
TODAY = {"date_from": "2025-10-09", "date_to": "2025-10-09"}
Snapshot = dict[str, Any]


def assert_not_found(response: requests.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["response"]["statuscode"] == 404


def everything(api: Api) -> Snapshot:
    """Every listing, every details answer of what is listed, and each conversation's
    details, tags and messages, by path."""
    seen: Snapshot = {"/api/conversations": api.all_conversations()}
    for path in ("/api/knowledgebase/knowledgebases", "/api/knowledgebase/entries",
                 "/api/knowledgebase/articles"):
        seen[path] = api.get(path, limit=500)
    seen["/api/suggestioncategories"] = api.get("/api/suggestioncategories")
    for path, key, field in (("/api/tags", "tags", "id"), ("/api/customersgroups", "groups", "id"),
                             ("/api/companies", "companies", "id")):
        listed = seen[path] = api.get(path)[key]
        for row in listed:
            seen[f"{path}/{row[field]}"] = api.get(f"{path}/{row[field]}")
    agents = seen["/api/onlinestatus/agents"] = api.get("/api/onlinestatus/agents")
    for row in agents["agentsOnlineStates"]:
        seen[f"/api/agents/{row['id']}"] = api.get(f"/api/agents/{row['id']}")
    for row in seen["/api/conversations"]:
        path = f"/api/conversations/{row['conversationid']}"
        for suffix in ("", "/tags", "/messages"):
            seen[path + suffix] = api.get(path + suffix)
    return seen


def changed(before: Snapshot, after: Snapshot) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def ids(rows: list[dict], field: str = "id") -> list[str]:
    return [row[field] for row in rows]


def entry_ids(snapshot: Snapshot, path: str = "/api/knowledgebase/entries") -> list[str]:
    key = "articles" if path.endswith("articles") else "entries"
    return ids(snapshot[path][key], "kb_entry_id")


def carriers(snapshot: Snapshot, tag_id: str) -> list[str]:
    rows = snapshot["/api/conversations"]
    return [r["conversationid"] for r in rows if tag_id in (r["tags"] or "").split(",")]


class TestDeleteTag:
    def test_over_http_the_tag_goes_and_conversations_keep_its_id(self, api: Api) -> None:
        before = everything(api)
        tag = before["/api/tags"][8]
        tagged = carriers(before, tag["id"])
        assert len(tagged) == 8
        assert api.call("DELETE", f"/api/tags/{tag['id']}").json() == {"response": OK}
        after = everything(api)
        assert_not_found(api.call("GET", f"/api/tags/{tag['id']}"))
        assert_not_found(api.call("DELETE", f"/api/tags/{tag['id']}"))
        assert ids(after["/api/tags"]) == [t for t in ids(before["/api/tags"]) if t != tag["id"]]
        # the rows keep the dangling id and their datechanged; the join leaves the tag out
        assert after["/api/conversations"] == before["/api/conversations"]
        assert carriers(after, tag["id"]) == tagged
        for ref in tagged:
            path = f"/api/conversations/{ref}/tags"
            assert after[path]["tags"] == [t for t in before[path]["tags"] if t != tag]
        assert changed(before, after) == {
            "/api/tags", f"/api/tags/{tag['id']}",
            *(f"/api/conversations/{ref}/tags" for ref in tagged)}

    def test_through_the_model_it_can_no_longer_be_assigned(
        self, api: Api, account: Account
    ) -> None:
        tag = account.entities.tags[8]
        index = next(i for i in range(60) if 8 in account.record(i).tags)
        ref = account.conversation_id(index)
        other = account.entities.tags[next(n for n in range(12)
                                           if n not in account.record(index).tags)]
        account.tag_conversation(ref, tag_id=other.id)  # a written (copied) record too
        account.delete_tag(tag.id)
        with pytest.raises(NotFound):
            account.delete_tag(tag.id)
        for params in ({"id": tag.id}, {"name": tag.name}):
            assert_not_found(api.call("POST", f"/api/conversations/{ref}/tags", **params))
            assert_not_found(api.call("DELETE", f"/api/conversations/{ref}/tags", **params))
        assert tag.id in api.get(f"/api/conversations/{ref}")["tags"].split(",")
        on_conversation = ids(api.get(f"/api/conversations/{ref}/tags")["tags"])
        assert tag.id not in on_conversation and other.id in on_conversation

    def test_the_tags_report_has_no_row_for_it(self, api: Api, account: Account) -> None:
        before = api.get("/api/reports/tags", **RANGE)["tags"]
        gone = account.entities.tags[8].id
        account.delete_tag(gone)
        after = api.get("/api/reports/tags", **RANGE)["tags"]
        assert after == [row for row in before if row["id"] != gone]
        assert len(after) == len(before) - 1


class TestDeleteCustomerGroup:
    @pytest.fixture
    def account(self) -> Account:
        return make_account(companies=8)

    def test_over_http_the_group_leaves_the_list_and_its_companies(self, api: Api) -> None:
        before = everything(api)
        groups = {c: ids(before[f"/api/companies/{c}"]["groups"], "groupid")
                  for c in ids(before["/api/companies"])}
        gone = groups[ids(before["/api/companies"])[1]][0]
        members = [c for c, listed in groups.items() if gone in listed]
        assert len(members) == 2 and all(len(groups[c]) == 2 for c in members)
        response = api.call("DELETE", f"/api/customersgroups/{gone}")
        assert response.json() == {"response": OK}
        after = everything(api)
        assert_not_found(api.call("GET", f"/api/customersgroups/{gone}"))
        assert_not_found(api.call("DELETE", f"/api/customersgroups/{gone}"))
        assert ids(after["/api/customersgroups"]) == \
            [g for g in ids(before["/api/customersgroups"]) if g != gone]
        for company in members:
            details = after[f"/api/companies/{company}"]
            assert ids(details["groups"], "groupid") == \
                [g for g in groups[company] if g != gone]
        assert changed(before, after) == {"/api/customersgroups", f"/api/customersgroups/{gone}",
                                          *(f"/api/companies/{c}" for c in members)}

    def test_companies_read_only_after_the_delete_lose_it_too(
        self, api: Api, account: Account
    ) -> None:
        twin = make_account(companies=8)  # the same data, never changed
        gone = account.entities.customer_groups[0]
        api.get(f"/api/companies/{account.company(1).id}")  # one read before, the rest after
        account.delete_customer_group(gone.id)
        groups = account.entities.customer_groups
        lost = 0
        for index in range(8):
            detail = api.get(f"/api/companies/{twin.company(index).id}")
            expected = [groups[g].id for g in twin.company(index).groups if groups[g] is not gone]
            assert ids(detail["groups"], "groupid") == expected
            lost += len(twin.company(index).groups) - len(expected)
        assert lost == 2


class TestDeleteKbEntry:
    def test_over_http_an_article_goes_and_nothing_else_changes(self, api: Api) -> None:
        before = everything(api)
        assert entry_ids(before)[:10] == [str(n) for n in range(1, 11)]
        response = api.call("DELETE", "/api/knowledgebase/entries/7")
        assert response.json() == {"response": OK}
        after = everything(api)
        for path in ("/api/knowledgebase/entries", "/api/knowledgebase/articles"):
            assert entry_ids(after, path) == [e for e in entry_ids(before, path) if e != "7"]
        assert changed(before, after) == {"/api/knowledgebase/entries",
                                          "/api/knowledgebase/articles"}
        for ref in ("7", "41", "nope", "%20"):
            assert_not_found(api.call("DELETE", f"/api/knowledgebase/entries/{ref}"))
        assert api.get("/api/knowledgebase/entries", entry_id=7)["entries"] == []

    def test_the_deleted_flag_of_the_others_stays(self, api: Api, account: Account) -> None:
        flagged = [e.kb_entry_id for e in account.directory.kb_entries() if e.deleted == "Y"]
        assert flagged == [10, 19, 37]
        account.delete_kb_entry(19)
        rows = api.get("/api/knowledgebase/entries", limit=500)["entries"]
        assert [r["kb_entry_id"] for r in rows if r["deleted"] == "Y"] == ["10", "37"]
        assert "19" not in [r["kb_entry_id"] for r in rows]

    def test_a_suggestion_category_goes_with_its_suggestions(
        self, api: Api, account: Account
    ) -> None:
        before = everything(api)
        assert ids(before["/api/suggestioncategories"]["suggestioncategories"]) == ["11", "26"]
        assert account.delete_kb_entry("11") == [11, 12, 15, 19, 23, 27]
        after = everything(api)
        assert ids(after["/api/suggestioncategories"]["suggestioncategories"]) == ["26"]
        gone = {"11", "12", "15", "19", "23", "27"}
        assert entry_ids(after) == [e for e in entry_ids(before) if e not in gone]
        assert api.get("/api/knowledgebase/entries", parent_entry_id=11)["entries"] == []
        assert changed(before, after) == {"/api/knowledgebase/entries",
                                          "/api/knowledgebase/articles",
                                          "/api/suggestioncategories"}
        for entry_id in (11, 12):
            with pytest.raises(NotFound):
                account.touch_kb_entry(entry_id, title="Too late")


class TestRemovals:
    """What the API v1 cannot delete, but a user of the web app can."""

    def test_remove_company(self, api: Api, account: Account) -> None:
        before = everything(api)
        gone = account.company(1).id
        account.remove_company(gone)
        after = everything(api)
        assert_not_found(api.call("GET", f"/api/companies/{gone}"))
        assert ids(after["/api/companies"]) == [c for c in ids(before["/api/companies"])
                                                if c != gone]
        assert changed(before, after) == {"/api/companies", f"/api/companies/{gone}"}
        for again in (account.remove_company, lambda c: account.rename_company(c, "Back")):
            with pytest.raises(NotFound):
                again(gone)

    def test_remove_agent_keeps_its_history(self, api: Api, account: Account) -> None:
        before = everything(api)
        online = [a for a in before["/api/onlinestatus/agents"]["agentsOnlineStates"]
                  if a["onlineStatus"] != "F"]
        gone = online[0]
        wrote = [path for path, answer in before.items() if path.endswith("/messages")
                 and gone["id"] in str(answer)]
        assert wrote  # its past messages, unchanged below
        account.remove_agent(gone["username"])  # by e-mail, as /agents/{id} takes too
        after = everything(api)
        for ref in (gone["id"], gone["username"]):
            assert_not_found(api.call("GET", f"/api/agents/{ref}"))
        assert after["/api/onlinestatus/agents"] == {"agentsOnlineStates": [
            a for a in before["/api/onlinestatus/agents"]["agentsOnlineStates"]
            if a["id"] != gone["id"]]}
        assert changed(before, after) == {"/api/onlinestatus/agents", f"/api/agents/{gone['id']}"}
        ref = account.conversation_id(0)
        assert_not_found(api.call("POST", f"/api/conversations/{ref}/messages", message="Hi",
                                  useridentifier=gone["id"]))
        with pytest.raises(NotFound):
            account.remove_agent(gone["id"])

    def test_a_removed_agent_is_in_past_reports_and_offline_after(
        self, api: Api, account: Account
    ) -> None:
        userid = next(a["id"] for a in api.get("/api/onlinestatus/agents")["agentsOnlineStates"]
                      if a["onlineStatus"] != "F")
        history = api.get("/api/reports/agents", **RANGE)["agents"]
        sessions = api.get("/api/reports/tickets/agentsavailability",
                           **TODAY)["agentsavailability"]
        running = [s for s in sessions if s["userid"] == userid and s["to_date"] == "now"]
        assert len(running) == 1
        account.remove_agent(userid)
        assert api.get("/api/reports/agents", **RANGE)["agents"] == history
        now = account.time.render(account.clock.now())
        assert api.get("/api/reports/tickets/agentsavailability",
                       **TODAY)["agentsavailability"] == [
            {**s, "to_date": now} if s in running else s for s in sessions]
        account.clock.advance(2 * ds.DAY)
        later = {"date_from": "2025-10-10", "date_to": "2025-10-11"}
        agents = api.get("/api/reports/agents", **later)["agents"]
        assert len(agents) == len(account.entities.agents) - 1
        assert userid not in ids(agents)
        available = api.get("/api/reports/tickets/agentsavailability", **later)
        assert available["agentsavailability"]
        assert userid not in ids(available["agentsavailability"], "userid")

    def test_remove_knowledgebase(self, api: Api, account: Account) -> None:
        before = everything(api)
        kb_id = account.entities.knowledgebases[1][0]
        account.remove_knowledgebase(kb_id)
        after = everything(api)
        assert after["/api/knowledgebase/knowledgebases"] == {
            "knowledgebases": [{"kb_id": "kb_defa", "name": "Knowledgebase 1"}]}
        for path in ("/api/knowledgebase/entries", "/api/knowledgebase/articles"):
            key = path.rsplit("/", 1)[1]
            rows = before[path][key]
            assert after[path][key] == [r for r in rows if r["kb_id"] != kb_id]
        assert ids(after["/api/suggestioncategories"]["suggestioncategories"]) == ["11"]
        assert api.get("/api/knowledgebase/entries", kb_id=kb_id)["entries"] == []
        assert changed(before, after) == {
            "/api/knowledgebase/knowledgebases", "/api/knowledgebase/entries",
            "/api/knowledgebase/articles", "/api/suggestioncategories"}
        with pytest.raises(NotFound):
            account.remove_knowledgebase(kb_id)
        with pytest.raises(NotFound):
            account.delete_kb_entry(6)  # an entry of the removed knowledge base

    def test_purge_conversation_from_the_trash_or_not(self, api: Api, account: Account) -> None:
        trashed = next(i for i in range(60) if account.record(i).status == "X")
        live = next(i for i in range(60) if account.record(i).status != "X")
        before = api.all_conversations()
        for index in (trashed, live):
            account.purge_conversation(account.conversation_id(index))
            assert account.is_purged(index)
            ref = account.conversation_id(index)
            assert_not_found(api.call("GET", f"/api/conversations/{ref}"))
        gone = {account.conversation_id(trashed), account.conversation_id(live)}
        assert api.all_conversations() == [r for r in before if r["conversationid"] not in gone]
        assert account.conversation_count == 58
        with pytest.raises(NotFound):
            account.purge_conversation(account.conversation_id(live))


def _deletes(account: Account) -> list[Callable[[], object]]:
    return [
        lambda: account.delete_tag(account.entities.tags[0].id),
        lambda: account.delete_customer_group(account.entities.customer_groups[0].id),
        lambda: account.delete_kb_entry(2),
        lambda: account.remove_company(account.company(0).id),
        lambda: account.remove_agent(account.entities.agents[0].userid),
        lambda: account.remove_knowledgebase("kb_defa"),
        lambda: account.purge_conversation(account.conversation_id(0)),
    ]


@pytest.mark.parametrize("which", range(7))
def test_each_delete_waits_for_the_account_lock(account: Account, which: int) -> None:
    errors: list[Exception] = []

    def run() -> None:
        try:
            _deletes(account)[which]()
        except Exception as error:  # the thread's failure is the test's
            errors.append(error)

    delete = threading.Thread(target=run)
    with account.lock:  # as the server holds it while a handler runs
        delete.start()
        delete.join(timeout=0.2)
        assert delete.is_alive()
    delete.join(timeout=5)
    assert not delete.is_alive() and errors == []


def test_deletes_are_logged_and_counted(api: Api, account: Account) -> None:
    tag, group = account.entities.tags[0].id, account.entities.customer_groups[0].id
    paths = [f"/api/tags/{tag}", f"/api/customersgroups/{group}", "/api/knowledgebase/entries/3",
             f"/api/tags/{tag}"]
    for path in paths:
        api.call("DELETE", path)
    api.get("/api/tags")
    logged = [(e.method, e.path, e.status) for e in api.fake.log.select(method="DELETE")]
    statuses = (200, 200, 200, 404)
    assert logged == [("DELETE", p, s) for p, s in zip(paths, statuses, strict=True)]
    stats = api.session.get(api.fake.url + "/_fake/stats", timeout=10).json()
    assert stats["by_method"] == {"DELETE": 4, "GET": 1}
    assert stats["by_status"] == {"200": 4, "404": 1}
    assert stats["by_path"][f"/api/tags/{tag}"] == 2
