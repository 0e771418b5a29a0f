"""The example responses of LiveAgent's public API v1 documentation, served verbatim.

The `*.txt` files beside this module hold the JSON example bodies that LiveAgent's API v1
reference (https://support.liveagent.com/, the API v1 documentation of Quality Unit's
LiveAgent) prints for its GET endpoints, byte for byte: indentation, `\\/` escapes and the raw
line breaks some strings have there (`"tags":"tagid1,<newline>        tagid2"`), which make
several of them invalid strict JSON. They are `.txt`, not `.json`, for that reason. A file
holds one body plus a final newline that is not part of it.

With `RealWorld.documented_examples` on, the fake answers each of these routes with its body
(HTTP 200, application/json) whatever the ids and filters. A listing's example is its first
page: a request for a later page (a cursor, a non-zero offset/limitfrom) gets the same data key
with an empty list, as valid JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from .. import params as p
from ..paging import KB_ENTRIES, REPORTS

CONVERSATION_PAGE_PARAMS = ("cursor", "offset")
KB_PAGE_PARAMS = (KB_ENTRIES.offset_param,)
REPORT_PAGE_PARAMS = (REPORTS.offset_param,)


@dataclass(frozen=True)
class Example:
    """One documented GET endpoint: its path below /api, as the reference writes it."""

    route: str
    later_page_params: tuple[str, ...] = ()  # any of these, not empty or 0: a later page

    @property
    def file_name(self) -> str:
        return re.sub(r"[{}]", "", self.route.replace("/", ".")) + ".txt"

    def matches(self, api_path: str) -> bool:
        pattern = re.sub(r"\{\w+\}", "[^/]+", self.route) + "/?"
        return re.fullmatch(pattern, api_path) is not None

    def body(self) -> str:
        text = resources.files(__name__).joinpath(self.file_name).read_text(encoding="utf-8")
        return text.removesuffix("\n")

    def is_later_page(self, params: Mapping[str, str]) -> bool:
        return any(p.optional(params, name) not in (None, "0") for name in self.later_page_params)

    def later_page(self) -> dict:
        """The body of any page after the example's: its data key with no rows."""
        list_key = next(iter(json.loads(self.body(), strict=False)["response"]))
        return {"response": {list_key: []}}

    def answer(self, params: Mapping[str, str]) -> str | dict:
        """The raw example body, or the empty later page (a dict to encode)."""
        return self.later_page() if self.is_later_page(params) else self.body()


def _reports(*names: str) -> tuple[Example, ...]:
    return tuple(Example(f"reports/{name}", REPORT_PAGE_PARAMS) for name in names)


EXAMPLES: tuple[Example, ...] = (
    Example("agents/{agentidentifier}"),
    Example("application/status"),
    Example("companies"),
    Example("companies/{companyid}"),
    Example("conversations", CONVERSATION_PAGE_PARAMS),
    Example("conversations/{conversationid}"),
    Example("conversations/{conversationid}/messages"),
    Example("conversations/{conversationid}/tags"),
    Example("customersgroups"),
    Example("customersgroups/{groupid}"),
    Example("knowledgebase/knowledgebases", KB_PAGE_PARAMS),
    Example("knowledgebase/entries", KB_PAGE_PARAMS),
    Example("knowledgebase/articles", KB_PAGE_PARAMS),
    Example("onlinestatus/agents"),
    *_reports("agents", "channels", "departments", "performance", "tags",
              "tickets/agentsavailability", "tickets/load", "tickets/slacompliance",
              "tickets/slalog"),
    Example("suggestioncategories"),
    Example("tags"),
    Example("tags/{tagid}"),
)


def find(path: str) -> Example | None:
    """The documented example of a request path such as /api/conversations/abc/messages."""
    api_path = path.removeprefix("/api/")
    return next((example for example in EXAMPLES if example.matches(api_path)), None)


def bodies() -> dict[str, str]:
    """Route (as the reference writes it, e.g. "tags/{tagid}") -> the raw example body."""
    return {example.route: example.body() for example in EXAMPLES}
