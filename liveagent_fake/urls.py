"""The route table: (method, path pattern, handler). Unknown routes answer 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from . import responses as r
from .models import Account
from .reports import REPORT_NAMES

Handler = Callable[[Account, r.Request], dict]

_ID = r"(?P<{}>[^/]+)"
_CONVERSATION = "/api/conversations/" + _ID.format("conversation")
_REPORT = "(?P<report>" + "|".join(re.escape(name) for name in REPORT_NAMES) + ")"

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/api/agents/" + _ID.format("agent"), r.get_agent),
    ("GET", "/api/application/status", r.application_status),
    ("GET", "/api/companies", r.list_companies),
    ("GET", "/api/companies/" + _ID.format("company"), r.get_company),
    ("GET", "/api/conversations", r.list_conversations),
    ("GET", _CONVERSATION, r.get_conversation),
    ("DELETE", _CONVERSATION, r.delete_conversation),
    ("GET", _CONVERSATION + "/messages", r.get_messages),
    ("POST", _CONVERSATION + "/messages", r.post_message),
    ("PUT", _CONVERSATION + "/status", r.put_status),
    ("GET", _CONVERSATION + "/tags", r.get_conversation_tags),
    ("POST", _CONVERSATION + "/tags", r.post_conversation_tag),
    ("DELETE", _CONVERSATION + "/tags", r.delete_conversation_tag),
    ("GET", "/api/customersgroups", r.list_customer_groups),
    ("GET", "/api/customersgroups/" + _ID.format("group"), r.get_customer_group),
    ("DELETE", "/api/customersgroups/" + _ID.format("group"), r.delete_customer_group),
    ("GET", "/api/knowledgebase/knowledgebases", r.list_knowledgebases),
    ("GET", "/api/knowledgebase/entries", r.list_kb_entries),
    ("DELETE", "/api/knowledgebase/entries/" + _ID.format("entry"), r.delete_kb_entry),
    ("GET", "/api/knowledgebase/articles", r.list_kb_articles),
    ("GET", "/api/onlinestatus/agents", r.online_agents),
    ("GET", "/api/reports/" + _REPORT, r.get_report),
    ("GET", "/api/suggestioncategories", r.list_suggestion_categories),
    ("GET", "/api/tags", r.list_tags),
    ("GET", "/api/tags/" + _ID.format("tag"), r.get_tag),
    ("PUT", "/api/tags/" + _ID.format("tag"), r.put_tag),
    ("DELETE", "/api/tags/" + _ID.format("tag"), r.delete_tag),
]

_COMPILED = [(method, re.compile(pattern + "/?"), handler) for method, pattern, handler in ROUTES]


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler and route arguments for a request, or None when no route matches."""
    for route_method, pattern, handler in _COMPILED:
        if route_method == method:
            match = pattern.fullmatch(path)
            if match:  # an id is one path segment, percent-decoded like any server does
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}
    return None
