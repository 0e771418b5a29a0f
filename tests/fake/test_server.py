"""Request log, throttling and fault injection of the fake's HTTP layer."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support import Api, assert_error


class TestRequestLog:
    def test_logs_path_params_status_and_time_without_the_key(self, api: Api) -> None:
        started = time.time()
        api.get("/api/conversations", limit=5, status="R")
        api.call("GET", "/api/conversations/nope")
        api.session.get(api.fake.url + "/api/tags", params={"apikey": "wrong"}, timeout=10)
        entries = api.fake.log.entries()
        assert [(e.method, e.path, e.params, e.status) for e in entries] == [
            ("GET", "/api/conversations", {"limit": "5", "status": "R"}, 200),
            ("GET", "/api/conversations/nope", {}, 404),
            ("GET", "/api/tags", {}, 401),
        ]
        assert all(started <= e.started <= time.time() and e.duration >= 0 for e in entries)
        assert api.fake.api_key not in repr(entries)

    def test_log_is_bounded_but_totals_count_everything(self, account) -> None:
        from liveagent_fake.server import FakeLiveAgent

        with FakeLiveAgent(account, log_size=5) as fake:
            api = Api(fake)
            for _ in range(12):
                api.get("/api/tags")
            assert len(fake.log.entries()) == 5
            assert fake.log.total == 12 and fake.log.by_status[200] == 12

    def test_select_filters_by_path_pattern(self, api: Api, account) -> None:
        ref = account.conversation_id(0)
        api.get("/api/conversations")
        api.get(f"/api/conversations/{ref}/messages")
        assert len(api.fake.log.select(path=r"/messages$")) == 1
        assert len(api.fake.log.select(status=200)) == 2


class TestThrottle:
    def test_429_with_retry_after_past_the_limit_then_recovers(self, api: Api) -> None:
        api.fake.set_rate_limit(60, burst=3)  # one request a second, bursts of three
        statuses = [api.call("GET", "/api/tags").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = api.call("GET", "/api/tags")
        assert_error(throttled, 429)
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert api.call("GET", "/api/tags").status_code == 200
        assert api.fake.log.by_status[429] == 2

    def test_sustained_rate_is_the_configured_one(self, api: Api) -> None:
        api.fake.set_rate_limit(600, burst=1)  # ten a second
        started = time.monotonic()
        ok = 0
        while time.monotonic() - started < 1.5:
            ok += api.call("GET", "/api/tags").status_code == 200
        assert 14 <= ok <= 17  # 1 burst token + 10/s over 1.5 s


class TestFaults:
    def test_status_faults_use_the_envelope(self, api: Api) -> None:
        api.fake.faults.add("status", status=503, path="/api/tags$", times=1)
        api.fake.faults.add("status", status=500, path="/api/tags$", times=1)
        assert_error(api.call("GET", "/api/tags"), 503)
        assert_error(api.call("GET", "/api/tags"), 500)
        assert api.call("GET", "/api/tags").status_code == 200
        assert [e.fault for e in api.fake.log.entries()] == ["status", "status", None]

    def test_injected_429_carries_retry_after(self, api: Api) -> None:
        api.fake.faults.add("status", status=429, times=1)
        response = api.call("GET", "/api/tags")
        assert_error(response, 429)
        assert response.headers["Retry-After"] == "1"

    def test_html_error_page(self, api: Api) -> None:
        api.fake.faults.add("html", status=502, times=1)
        response = api.call("GET", "/api/tags")
        assert response.status_code == 502
        assert response.headers["Content-Type"].startswith("text/html")
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)

    def test_slow_response_trips_a_client_timeout(self, api: Api) -> None:
        api.fake.faults.add("slow", delay=1.0, times=1)
        with pytest.raises(requests.exceptions.ReadTimeout):
            api.session.get(api.fake.url + "/api/tags", params={"apikey": api.fake.api_key},
                            timeout=0.3)
        time.sleep(0.8)
        assert api.call("GET", "/api/tags").status_code == 200

    def test_truncated_body(self, api: Api) -> None:
        api.fake.faults.add("truncate", path="/api/conversations$", times=1)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            api.call("GET", "/api/conversations")
        assert api.call("GET", "/api/conversations").status_code == 200

    def test_dropped_connection(self, api: Api) -> None:
        api.fake.faults.add("drop", times=1)
        with pytest.raises(requests.exceptions.ConnectionError):
            api.call("GET", "/api/tags")
        assert api.call("GET", "/api/tags").status_code == 200
        assert api.fake.log.entries()[0].status == 0

    def test_probability_and_skip(self, api: Api) -> None:
        rule = api.fake.faults.add("status", status=500, probability=0.5, skip=2)
        statuses = [api.call("GET", "/api/tags").status_code for _ in range(60)]
        assert statuses[:2] == [200, 200]
        assert 15 <= statuses.count(500) <= 45 and rule.fired == statuses.count(500)

    def test_rules_match_method_and_path(self, api: Api, account) -> None:
        api.fake.faults.add("status", status=500, method="PUT")
        assert api.call("GET", "/api/tags").status_code == 200
        ref = account.conversation_id(0)
        assert_error(api.call("PUT", f"/api/conversations/{ref}/status", status="C"), 500)

    def test_latency_applies_to_every_request(self, api: Api) -> None:
        api.fake.latency = 0.2
        started = time.monotonic()
        api.get("/api/tags")
        assert time.monotonic() - started >= 0.2


class TestOddAnswers:
    def test_malformed_json_with_a_correct_length(self, api: Api) -> None:
        api.fake.faults.add("malformed", times=1)
        response = api.call("GET", "/api/conversations")
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(response.content)
        with pytest.raises(ValueError):  # json's or simplejson's decode error
            response.json()

    def test_mutate_rewrites_the_payload(self, api: Api) -> None:
        def twice(payload: dict) -> dict:
            rows = payload["response"]["conversations"]
            payload["response"]["conversations"] = rows + rows[:1]
            return payload

        api.fake.faults.add("mutate", path="/api/conversations$", transform=twice, times=1)
        rows = api.get("/api/conversations", limit=5)["conversations"]
        assert len(rows) == 6 and rows[0] == rows[5]
        assert len(api.get("/api/conversations", limit=5)["conversations"]) == 5
