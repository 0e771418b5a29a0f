"""`GET /_fake/stats` and `POST /_fake/stats/reset`: the fake's request counters over HTTP."""

from __future__ import annotations

from liveagent_fake.server import MAX_PATH_KEYS
from tests.support import Api


def stats(api: Api) -> dict:
    response = api.session.get(api.fake.url + "/_fake/stats", timeout=10)
    assert response.status_code == 200
    return response.json()


class TestStats:
    def test_counts_by_status_and_grouped_path(self, api: Api, account) -> None:
        ref = account.conversation_id(0)
        api.get("/api/conversations", limit=5)
        api.get(f"/api/conversations/{ref}/messages")
        api.get(f"/api/conversations/{ref}")
        api.call("GET", "/api/conversations/nope/messages")
        company = api.get("/api/companies")["companies"][0]["id"]
        api.get(f"/api/companies/{company}")
        agent = api.get("/api/onlinestatus/agents")["agentsOnlineStates"][0]["id"]
        api.get(f"/api/agents/{agent}")
        api.session.get(api.fake.url + "/api/tags", params={"apikey": "wrong"}, timeout=10)
        assert stats(api) == {
            "total": 9,
            "by_method": {"GET": 9},
            "by_status": {"200": 7, "401": 1, "404": 1},
            "by_path": {
                "/api/companies": 1, "/api/conversations": 1, "/api/onlinestatus/agents": 1,
                "/api/tags": 1, "agent_details": 1, "company_details": 1,
                "conversation_details": 1, "messages": 2,
            },
            "by_key": {"key 1": {"200": 7, "404": 1}, "unknown": {"401": 1}},
        }

    def test_answered_before_throttle_and_auth_and_not_logged(self, api: Api) -> None:
        api.fake.set_rate_limit(60, burst=1)
        assert api.call("GET", "/api/tags").status_code == 200
        assert api.call("GET", "/api/tags").status_code == 429
        for _ in range(3):  # no key, throttle exhausted: still answered
            assert stats(api)["by_status"] == {"200": 1, "429": 1}
        assert [e.path for e in api.fake.log.entries()] == ["/api/tags", "/api/tags"]
        assert api.fake.log.total == 2

    def test_reset_zeroes_the_counters(self, api: Api) -> None:
        api.get("/api/tags")
        response = api.session.post(api.fake.url + "/_fake/stats/reset", timeout=10)
        assert response.status_code == 200
        assert stats(api) == {"total": 0, "by_method": {}, "by_status": {}, "by_path": {},
                              "by_key": {}}
        api.get("/api/tags")
        assert stats(api)["by_path"] == {"/api/tags": 1}
        assert len(api.fake.log.entries()) == 2  # the request log is not the stats' to clear

    def test_wrong_method_is_refused(self, api: Api) -> None:
        assert api.session.post(api.fake.url + "/_fake/stats", timeout=10).status_code == 405
        assert api.session.get(api.fake.url + "/_fake/stats/reset", timeout=10) \
            .status_code == 405

    def test_path_counters_are_bounded(self, api: Api) -> None:
        for index in range(MAX_PATH_KEYS + 5):
            api.call("GET", f"/api/unknown/{index}")
        by_path = stats(api)["by_path"]
        assert len(by_path) == MAX_PATH_KEYS + 1
        assert by_path["other"] == 5

