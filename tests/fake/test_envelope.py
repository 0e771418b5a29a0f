"""The fake against the reference: error envelope, auth, status codes, documented fields."""

from __future__ import annotations

import pytest

from liveagent_fake.models import Account
from tests.support import Api, assert_error

# the field tables of the reference, endpoint by endpoint
CONVERSATION_LIST_FIELDS = {
    "conversationid", "code", "datecreated", "datechanged", "datedue", "departmentname",
    "departmentid", "status", "ownername", "owneremail", "subject", "preview", "publicurlcode",
    "tags", "channel_type", "messagegroupsin", "messagegroupsout", "cursor",
}
CONVERSATION_DETAIL_FIELDS = CONVERSATION_LIST_FIELDS | {"ownernote", "assignedto", "customfields"}
GROUP_FIELDS = {"messagegroupid", "userid", "rtype", "rstatus", "datecreated", "datefinished",
                "messages"}
MESSAGE_FIELDS = {"messageid", "userid", "rtype", "datecreated", "message"}
COMPANY_LIST_FIELDS = {"id", "name", "emails", "datecreated", "ip"}
COMPANY_FIELDS = {"id", "name", "datecreated", "language", "ip", "emails", "phones", "groups",
                  "custom_fields", "unique_fields"}
KB_ENTRY_FIELDS = {
    "kb_id", "kb_entry_id", "parent_entry_id", "rtype", "rstatus", "access", "access_inherited",
    "urlcode", "treepath", "rorder", "title", "metadescription", "keywords", "content",
    "conversationid", "departmentid", "views", "votes", "datecreated", "datechanged", "deleted",
    "description",
}
AGENT_FIELDS = {"contactid", "userid", "email", "firstname", "lastname", "systemname",
                "authtoken", "browsercookiename", "gender", "role"}
ONLINE_FIELDS = {"id", "contactid", "username", "firstname", "lastname", "avatar_url",
                 "presetStatus", "onlineStatus"}


class TestAuth:
    def test_missing_key_is_401(self, api: Api) -> None:
        response = api.session.get(api.fake.url + "/api/conversations", timeout=10)
        assert "API key" in assert_error(response, 401)["errormessage"]

    def test_wrong_key_is_401_on_every_kind_of_endpoint(self, api: Api) -> None:
        for method, path in [("GET", "/api/conversations"), ("GET", "/api/tags"),
                             ("GET", "/api/reports/agents"), ("GET", "/api/no/such/thing"),
                             ("PUT", "/api/conversations/x/status")]:
            response = api.session.request(method, api.fake.url + path,
                                           params={"apikey": "wrong"}, timeout=10)
            assert_error(response, 401)

    def test_a_v3_key_is_403_on_v1_endpoints(self, api: Api, account) -> None:
        account.v3_api_key = "v3-key-of-the-same-account"
        ref = account.conversation_id(0)
        for method, path in [("GET", "/api/conversations"), ("GET", "/api/tags"),
                             ("GET", "/api/no/such/thing"),
                             ("PUT", f"/api/conversations/{ref}/status")]:
            response = api.session.request(method, api.fake.url + path,
                                           params={"apikey": account.v3_api_key}, timeout=10)
            error = assert_error(response, 403)
            assert error["errormessage"] == "API key is not valid for API v1"
        assert api.get("/api/tags")["tags"]  # the v1 key still works

    def test_no_v3_key_by_default(self, account) -> None:
        assert account.v3_api_key is None

    def test_v3_key_must_differ_from_the_v1_key(self) -> None:
        with pytest.raises(ValueError, match="v3_api_key"):
            Account(api_key="same", v3_api_key="same")
        assert Account(api_key="v1", v3_api_key="v3").v3_api_key == "v3"

    def test_key_in_form_body_is_accepted_for_writes(self, api: Api, account) -> None:
        ref = account.conversation_id(0)
        response = api.session.put(f"{api.fake.url}/api/conversations/{ref}/status",
                                   data={"apikey": api.fake.api_key, "status": "C"}, timeout=10)
        assert response.json() == {"response": {"status": "OK", "statuscode": 0}}


class TestErrors:
    def test_unknown_route_is_404(self, api: Api) -> None:
        assert_error(api.call("GET", "/api/nothing/here"), 404)
        assert_error(api.call("POST", "/api/tags/abc"), 404)

    @pytest.mark.parametrize("path", [
        "/api/conversations/zzzzzzzz", "/api/conversations/zzzzzzzz/messages",
        "/api/conversations/ZZZ-ZZZ-ZZZ/tags", "/api/companies/nope", "/api/tags/none",
        "/api/agents/nobody@example.com", "/api/customersgroups/none",
    ])
    def test_unknown_id_is_404(self, api: Api, path: str) -> None:
        assert_error(api.call("GET", path), 404)

    @pytest.mark.parametrize("params", [
        {"limit": "abc"}, {"limit": 0}, {"limit": 1001}, {"datechanged": "yesterday"},
        {"datechanged": "gt:2025-10-01"}, {"datechanged": "btw:2025-10-01 00:00:00"},
        {"status": "Z"}, {"status": "R,,TT"}, {"channel_type": "E,9"}, {"cursor": "bogus"},
        {"datefrom": "2025/10/01"},
    ])
    def test_bad_conversation_parameters_are_400(self, api: Api, params: dict) -> None:
        error = assert_error(api.call("GET", "/api/conversations", **params), 400)
        assert next(iter(params)) in error["errormessage"]

    def test_bad_write_parameters_are_400(self, api: Api, account) -> None:
        ref = account.conversation_id(1)
        assert_error(api.call("PUT", f"/api/conversations/{ref}/status", status="X"), 400)
        assert_error(api.call("PUT", f"/api/conversations/{ref}/status"), 400)
        assert_error(api.call("POST", f"/api/conversations/{ref}/messages"), 400)
        assert_error(api.call("POST", f"/api/conversations/{ref}/tags"), 400)

    def test_kb_limits_are_400_past_the_documented_maximum(self, api: Api) -> None:
        assert_error(api.call("GET", "/api/knowledgebase/entries", limit=501), 400)
        assert_error(api.call("GET", "/api/knowledgebase/knowledgebases", limit=501), 400)
        assert_error(api.call("GET", "/api/knowledgebase/entries", offset=-1), 400)


class TestDocumentedShapes:
    def test_conversation_list_and_detail_fields(self, api: Api) -> None:
        rows = api.get("/api/conversations", limit=5)["conversations"]
        assert len(rows) == 5
        for row in rows:
            assert set(row) == CONVERSATION_LIST_FIELDS
            # every scalar is text or null, as in the reference's examples
            assert all(v is None or isinstance(v, str) for v in row.values())
            assert row["cursor"]
            detail = api.get(f"/api/conversations/{row['conversationid']}")
            assert set(detail) == CONVERSATION_DETAIL_FIELDS
            assert detail["cursor"] is None
            assert {k: detail[k] for k in row if k != "cursor"} == \
                {k: v for k, v in row.items() if k != "cursor"}

    def test_conversation_found_by_id_code_and_public_url_code(self, api: Api) -> None:
        row = api.get("/api/conversations", limit=1)["conversations"][0]
        for ref in (row["conversationid"], row["code"], row["publicurlcode"]):
            assert api.get(f"/api/conversations/{ref}")["conversationid"] == row["conversationid"]

    def test_messages_fields(self, api: Api) -> None:
        row = api.get("/api/conversations", limit=1)["conversations"][0]
        groups = api.get(f"/api/conversations/{row['conversationid']}/messages")["groups"]
        assert groups
        for group in groups:
            assert set(group) == GROUP_FIELDS
            for message in group["messages"]:
                assert set(message) == MESSAGE_FIELDS

    def test_tags_field_is_comma_separated_ids(self, api: Api) -> None:
        tag_ids = {t["id"] for t in api.get("/api/tags")["tags"]}
        rows = api.all_conversations()
        tagged = [r for r in rows if r["tags"]]
        assert tagged and any(r["tags"] == "" for r in rows)
        for row in tagged:
            ids = row["tags"].split(",")
            assert set(ids) <= tag_ids
            listed = api.get(f"/api/conversations/{row['conversationid']}/tags")["tags"]
            assert [t["id"] for t in listed] == ids

    def test_companies(self, api: Api) -> None:
        companies = api.get("/api/companies")["companies"]
        assert companies
        for company in companies:
            assert set(company) == COMPANY_LIST_FIELDS
            detail = api.get(f"/api/companies/{company['id']}")
            assert set(detail) == COMPANY_FIELDS
            assert detail["name"] == company["name"]
            assert ",".join(detail["emails"]) == company["emails"]

    def test_small_lists(self, api: Api) -> None:
        tags = api.get("/api/tags")["tags"]
        assert tags and all(set(t) == {"id", "name"} for t in tags)
        detail = api.get(f"/api/tags/{tags[0]['id']}")
        assert set(detail) == {"id", "name", "is_archived", "color", "bg_color"}
        groups = api.get("/api/customersgroups")["groups"]
        assert groups and all(set(g) == {"id", "name"} for g in groups)
        assert set(api.get(f"/api/customersgroups/{groups[0]['id']}")) == \
            {"id", "name", "color", "bg_color"}
        categories = api.get("/api/suggestioncategories")["suggestioncategories"]
        assert categories and all(set(c) == {"id", "title", "path"} for c in categories)

    def test_agents_and_online_status(self, api: Api) -> None:
        states = api.get("/api/onlinestatus/agents")["agentsOnlineStates"]
        assert states
        for state in states:
            assert set(state) == ONLINE_FIELDS
            for identifier in (state["id"], state["username"]):
                agent = api.get(f"/api/agents/{identifier}")
                assert set(agent) == AGENT_FIELDS
                assert agent["userid"] == state["id"]
                assert len(agent["authtoken"]) == 32

    def test_knowledge_base(self, api: Api) -> None:
        kbs = api.get("/api/knowledgebase/knowledgebases")["knowledgebases"]
        assert kbs[0] == {"kb_id": "kb_defa", "name": "Knowledgebase 1"}
        entries = api.get("/api/knowledgebase/entries", limit=500)["entries"]
        assert len(entries) == 40
        assert all(set(e) == KB_ENTRY_FIELDS for e in entries)
        articles = api.get("/api/knowledgebase/articles", limit=500)["articles"]
        assert articles == entries

    def test_application_status(self, api: Api) -> None:
        status = api.get("/api/application/status")
        assert set(status) == {"liveagentversion", "current_server_time"}

    def test_json_is_escaped_like_php(self, api: Api) -> None:
        raw = api.call("GET", "/api/onlinestatus/agents").text
        assert "\\/" in raw and raw.isascii()
