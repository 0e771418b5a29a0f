"""Fault kinds seen on the real API: empty bodies, PHP warnings, error envelopes under 200."""

from __future__ import annotations

import json

import pytest

from liveagent_fake.faults import FaultRule
from liveagent_fake.models import UNCOUNTED_GROUP_TYPES
from tests.support import Api


class TestEmpty:
    def test_a_200_with_an_empty_body(self, api: Api, account) -> None:
        ref = account.conversation_id(0)
        api.fake.faults.add("empty", path=r"/messages$", times=1)
        response = api.call("GET", f"/api/conversations/{ref}/messages")
        assert response.status_code == 200
        assert response.content == b"" and response.headers["Content-Length"] == "0"
        with pytest.raises(ValueError):  # "Expecting value: line 1 column 1 (char 0)"
            response.json()
        assert api.get(f"/api/conversations/{ref}/messages")["groups"]
        assert [e.fault for e in api.fake.log.entries()] == ["empty", None]


class TestNotJson:
    def test_a_200_with_a_php_warning(self, api: Api) -> None:
        api.fake.faults.add("not_json", path=r"/api/conversations$", times=1)
        response = api.call("GET", "/api/conversations", limit=500, offset=0)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.startswith("<br />\n<b>Warning</b>:")
        assert len(response.content) < 300
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
        assert api.call("GET", "/api/conversations").status_code == 200


class TestErrorEnvelope:
    @pytest.mark.parametrize("status", [500, 503, 429, 404, 400])
    def test_the_envelope_under_http_200_by_default(self, api: Api, status: int) -> None:
        api.fake.faults.add("error_envelope", status=status, times=1)
        response = api.call("GET", "/api/tags")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        error = response.json()["response"]
        assert set(error) == {"status", "statuscode", "errormessage", "debugmessage"}
        assert error["status"] == "ERROR" and error["statuscode"] == status
        assert error["errormessage"]
        assert api.call("GET", "/api/tags").json()["response"]["tags"]

    def test_the_http_status_is_an_option(self, api: Api) -> None:
        api.fake.faults.add("error_envelope", status=503, http_status=400, times=1)
        response = api.call("GET", "/api/tags")
        assert response.status_code == 400
        assert response.json()["response"]["statuscode"] == 503

    def test_statuscode_is_a_json_integer(self, api: Api) -> None:
        api.fake.faults.add("error_envelope", status=500, times=1)
        assert '"statuscode":500,' in api.call("GET", "/api/tags").text


class TestListings:
    """Answers of the account, rewritten: a listing that says "nothing", lacks its list, is
    cut short, or does not follow its cursor; each fires once, then the account answers."""

    def test_an_empty_list(self, api: Api) -> None:
        api.fake.faults.add("empty_list", path=r"/api/tags$", times=1)
        assert api.get("/api/tags") == {"tags": []}
        assert len(api.get("/api/tags")["tags"]) == 12

    def test_no_list_key(self, api: Api) -> None:
        api.fake.faults.add("no_list", path=r"/api/knowledgebase/entries$", times=1)
        assert api.get("/api/knowledgebase/entries", limit=500) == {}
        assert api.get("/api/knowledgebase/entries", limit=500)["entries"]

    def test_a_cut_page_keeps_its_first_rows(self, api: Api) -> None:
        whole = api.get("/api/conversations", limit=50)["conversations"]
        api.fake.faults.add("cut_list", path=r"/api/conversations$", keep=20, times=1)
        assert api.get("/api/conversations", limit=50)["conversations"] == whole[:20]
        assert len(api.get("/api/conversations", limit=50)["conversations"]) == 50

    def test_a_page_that_does_not_follow_its_cursor(self, api: Api) -> None:
        first = api.get("/api/conversations", limit=20)["conversations"]
        after = {"limit": 20, "cursor": first[-1]["cursor"]}
        second = api.get("/api/conversations", **after)["conversations"]
        assert {row["conversationid"] for row in first}.isdisjoint(
            row["conversationid"] for row in second)
        api.fake.faults.add("ignore_paging", path=r"/api/conversations$", times=1)
        assert api.get("/api/conversations", **after)["conversations"] == first
        assert api.get("/api/conversations", **after)["conversations"] == second

    def test_offsets_are_ignored_too(self, api: Api) -> None:
        first = api.get("/api/knowledgebase/entries", limit=5)["entries"]
        api.fake.faults.add("ignore_paging", times=1)
        assert api.get("/api/knowledgebase/entries", limit=5, offset=5)["entries"] == first

    def test_errors_and_writes_pass_unchanged(self, api: Api) -> None:
        api.fake.faults.add("no_list")
        assert api.call("GET", "/api/tags/nope").json()["response"]["statuscode"] == 404
        assert api.get("/api/tags") == {}
        tag = api.fake.account.directory.tags()[0].id
        assert api.call("DELETE", f"/api/tags/{tag}").json()["response"]["status"] == "OK"


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="error_envelope"):
        FaultRule("envelope")


class TestShortMessages:
    """/messages answers that fall short of the listing's counts (a read replica that lags)."""

    @staticmethod
    def counted(groups: list[dict]) -> int:
        return sum(1 for group in groups if group["rtype"] not in UNCOUNTED_GROUP_TYPES)

    def test_the_counts_are_the_counted_groups_of_the_answer(self, api: Api) -> None:
        for row in api.all_conversations():
            groups = api.get(f"/api/conversations/{row['conversationid']}/messages")["groups"]
            assert int(row["messagegroupsin"]) + int(row["messagegroupsout"]) == \
                self.counted(groups)

    @pytest.mark.parametrize("kind, expected", [
        ("empty_groups", lambda groups: {"groups": []}),
        ("no_groups_key", lambda groups: {}),
        ("lagging_replica", lambda groups: {"groups": groups[:-1]}),
    ])
    def test_one_short_answer(self, api: Api, account, kind: str, expected) -> None:
        ref = account.conversation_id(1)
        agent = account.entities.agents[0].email
        account.add_message(ref, "the newest reply", useridentifier=agent)
        whole = api.get(f"/api/conversations/{ref}/messages")
        assert whole["groups"][-1]["messages"][0]["message"] == "the newest reply"
        api.fake.faults.add(kind, path=r"/messages$", times=1)
        assert api.get(f"/api/conversations/{ref}/messages") == expected(whole["groups"])
        assert api.get(f"/api/conversations/{ref}/messages") == whole  # once only


class TestRedirect:
    def test_a_301_to_another_host_with_the_path_and_the_key(self, api: Api) -> None:
        api.fake.faults.add("redirect", location="https://acme.ladesk.example/", times=1)
        response = api.session.get(f"{api.fake.url}/api/tags", params={"apikey": "k 1"},
                                   timeout=10, allow_redirects=False)
        assert response.status_code == 301 and response.content == b""
        assert response.headers["Location"] == \
            "https://acme.ladesk.example/api/tags?apikey=k+1"
        assert api.call("GET", "/api/tags").status_code == 200

    def test_the_status_is_an_option_and_a_3xx(self, api: Api) -> None:
        api.fake.faults.add("redirect", status=302, times=1)
        api.fake.faults.add("redirect", status=500, times=1)  # not a redirect: 301
        statuses = [api.session.get(f"{api.fake.url}/api/tags", timeout=10,
                                    allow_redirects=False).status_code for _ in range(2)]
        assert statuses == [302, 301]
