"""RealWorld.documented_examples: every documented GET endpoint answers the reference's example
body verbatim; later pages of a listing are empty."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from liveagent_fake import documented_examples
from liveagent_fake.documented_examples import EXAMPLES, Example, bodies
from liveagent_fake.urls import resolve
from tests.support import Api

REFERENCE = Path("/work/shared/liveagent-api-v1-reference.txt")
DOCUMENTED_GETS = {
    "agents/{agentidentifier}", "application/status", "companies", "companies/{companyid}",
    "conversations", "conversations/{conversationid}", "conversations/{conversationid}/messages",
    "conversations/{conversationid}/tags", "customersgroups", "customersgroups/{groupid}",
    "knowledgebase/knowledgebases", "knowledgebase/entries", "knowledgebase/articles",
    "onlinestatus/agents", "reports/agents", "reports/channels", "reports/departments",
    "reports/performance", "reports/tags", "reports/tickets/agentsavailability",
    "reports/tickets/load", "reports/tickets/slacompliance", "reports/tickets/slalog",
    "suggestioncategories", "tags", "tags/{tagid}",
}
CALL_LINE = re.compile(r"^(GET|POST|PUT|DELETE) http://example\.com/api/(\S+)$", re.MULTILINE)


def documented_route(text: str, at: int) -> str | None:
    """The GET endpoint whose example starts at `at` in the reference: the last call example
    before it (None for another method), its [placeholders] written as {placeholders}."""
    assert text[:at].rstrip().endswith("</response>")  # right after the XML example
    method, path = list(CALL_LINE.finditer(text, 0, at))[-1].groups()
    return re.sub(r"\[(\w+)\]", r"{\1}", path.split("?")[0]) if method == "GET" else None


def request_path(route: str) -> str:
    return "/api/" + re.sub(r"\{\w+\}", "x1y2z3w4", route)


@pytest.fixture
def examples_on(api: Api, account) -> Api:
    account.real_world.documented_examples = True
    return api


class TestStoredBodies:
    def test_one_body_per_documented_get(self) -> None:
        assert set(bodies()) == DOCUMENTED_GETS
        assert len(EXAMPLES) == len(DOCUMENTED_GETS)

    def test_the_fake_routes_every_one(self) -> None:
        for route in DOCUMENTED_GETS:
            assert resolve("GET", request_path(route)) is not None, route
            example = documented_examples.find(request_path(route))
            assert example is not None and example.route == route

    def test_bodies_are_json_but_for_the_raw_line_breaks(self) -> None:
        broken = set()
        for route, body in bodies().items():
            assert body.startswith("{\n") and body.endswith("\n}")
            try:
                json.loads(body)
            except json.JSONDecodeError:
                broken.add(route)
            assert set(json.loads(body, strict=False)) == {"response"}
        # strings broken over lines in the reference (tags, preview, message, keywords...)
        assert broken == {"conversations", "conversations/{conversationid}",
                          "conversations/{conversationid}/messages", "knowledgebase/entries",
                          "knowledgebase/articles"}
        assert '"tags":"tagid1,\n        tagid2"' in bodies()["conversations"]

    @pytest.mark.skipif(not REFERENCE.exists(), reason="the reference is not in this checkout")
    def test_bodies_are_the_references_examples(self) -> None:
        text = REFERENCE.read_text(encoding="utf-8")
        for route, body in bodies().items():
            found = [m.start() for m in re.finditer(re.escape("\n" + body + "\n"), text)]
            assert found, f"{route}: not verbatim in the reference"
            # the same body may be printed for two endpoints (GET /tags and a conversation's)
            assert route in {documented_route(text, at) for at in found}


class TestServed:
    def test_every_route_answers_its_body_verbatim(self, examples_on: Api) -> None:
        for route, body in bodies().items():
            response = examples_on.call("GET", request_path(route), date_from="2025-10-01",
                                        date_to="2025-10-02")
            assert response.status_code == 200, route
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.content == body.encode("utf-8"), route

    def test_off_by_default(self, api: Api) -> None:
        for route in ("conversations", "tags", "application/status"):
            assert api.call("GET", request_path(route)).text != bodies()[route]

    def test_first_page_is_the_example(self, examples_on: Api) -> None:
        for params in ({}, {"offset": 0}, {"limit": 5}):
            response = examples_on.call("GET", "/api/conversations", **params)
            assert response.text == bodies()["conversations"]

    @pytest.mark.parametrize("path, params, key", [
        ("/api/conversations", {"offset": 100}, "conversations"),
        ("/api/conversations", {"cursor": "abc"}, "conversations"),
        ("/api/knowledgebase/entries", {"offset": 50}, "entries"),
        ("/api/knowledgebase/articles", {"offset": 10}, "articles"),
        ("/api/knowledgebase/knowledgebases", {"offset": 10}, "knowledgebases"),
        ("/api/reports/agents", {"limitfrom": 100}, "agents"),
        ("/api/reports/tickets/slalog", {"limitfrom": 1}, "slalogs"),
    ])
    def test_later_pages_are_empty(self, examples_on: Api, path: str, params: dict,
                                   key: str) -> None:
        response = examples_on.call("GET", path, **params)
        assert response.status_code == 200
        assert response.json() == {"response": {key: []}}

    def test_auth_and_unknown_routes_still_apply(self, examples_on: Api) -> None:
        fake = examples_on.fake
        assert examples_on.session.get(fake.url + "/api/tags", params={"apikey": "wrong"},
                                       timeout=10).status_code == 401
        assert examples_on.call("GET", "/api/customers/abc/groups").status_code == 404

    def test_writes_still_change_the_account(self, examples_on: Api, account) -> None:
        ref = account.conversation_id(0)
        response = examples_on.call("PUT", f"/api/conversations/{ref}/status", status="C")
        assert response.json() == {"response": {"status": "OK", "statuscode": 0}}
        account.real_world.documented_examples = False
        assert examples_on.get(f"/api/conversations/{ref}")["status"] == "C"


def test_example_matches_only_its_own_route() -> None:
    example = Example("conversations/{conversationid}")
    assert example.matches("conversations/abc") and example.matches("conversations/abc/")
    assert not example.matches("conversations/abc/messages")
    assert not example.matches("conversations")
