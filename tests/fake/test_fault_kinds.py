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
