"""Fault kinds seen on the real API: empty bodies, PHP warnings, error envelopes under 200."""

from __future__ import annotations

import json

import pytest

from liveagent_fake.faults import FaultRule
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
