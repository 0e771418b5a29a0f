"""Secrets are masked in every form they can take in a text; base URLs that would carry a
password or the wrong API version are refused with a message that says how to write them."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, quote_plus, urlencode

import pytest

from sources.liveagent.client import api_url
from sources.liveagent.exceptions import ConfigurationError
from sources.liveagent.redaction import redact

# URL metacharacters between distinctive fragments: a fragment left in a text is a leak
FRAGMENTS = ("q7Wx", "Zr4p", "Mv8k", "Tn2b", "Hy6c", "Ld3f", "Jk5s")
METACHARACTER_KEY = "q7Wx&Zr4p=Mv8k/ Tn2b+Hy6c%Ld3f\"Jk5s"


def key_forms(key: str) -> dict[str, str]:
    return {
        "raw": key,
        "quote": quote(key),
        "quote safe=''": quote(key, safe=""),
        "quote_plus": quote_plus(key),
        "lower-case hex": re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote_plus(key)),
        "encoded twice": quote(quote_plus(key), safe=""),
        "JSON": json.dumps(key)[1:-1],
        "PHP JSON": json.dumps(key)[1:-1].replace("/", "\\/").replace("&", "\\u0026"),
        "repr": repr(key)[1:-1],
        "repr of JSON": repr(json.dumps(key)[1:-1])[1:-1],
        "HTML": html.escape(key),
        "half decoded": f"{quote_plus(key).replace('%2F', '/').replace('%25', '%')}",
    }


@pytest.mark.parametrize("form", list(key_forms(METACHARACTER_KEY)))
def test_a_known_key_is_masked_in_every_form(form: str) -> None:
    shown = key_forms(METACHARACTER_KEY)[form]
    text = f"GET /api/conversations?limit=10&apikey={shown}&offset=0 failed: {shown}."
    masked = redact(text, [METACHARACTER_KEY])
    assert not [f for f in FRAGMENTS if f in masked], masked
    assert masked.startswith("GET /api/conversations?limit=10&apikey=***") \
        and masked.endswith("failed: ***.")


def test_the_apikey_parameter_is_masked_to_the_end_of_its_value() -> None:
    query = urlencode({"apikey": METACHARACTER_KEY, "limit": 10})
    assert redact(f"https://acme.ladesk.com/api/tags?{query}") == \
        "https://acme.ladesk.com/api/tags?apikey=***&limit=10"
    nested = quote(f"/api/tags?{query}", safe="")  # a URL inside a URL
    assert not [f for f in FRAGMENTS if f in redact(f"next={nested}")]
    assert redact("{'apikey': 'Zr4p-Mv8k', 'limit': 10}") == "{'apikey': '***', 'limit': 10}"
    assert redact('{"apikey": "Zr4p-Mv8k"}') == '{"apikey": "***"}'


def test_a_url_user_and_password_are_masked() -> None:
    assert redact("could not connect to postgresql://loader:pa@ss:w0rd@db.local/dw") == \
        "could not connect to postgresql://***@db.local/dw"
    assert redact("see https://acme.ladesk.com/api/tags") == "see https://acme.ladesk.com/api/tags"


def test_ordinary_text_is_left_alone() -> None:
    text = "LiveAgent refused conversations (400 Bad request); 12 rows kept"
    assert redact(text, ["key-that-is-not-there"]) == text


@pytest.mark.parametrize("url", ["https://me:hunter2@acme.ladesk.com",
                                 "me:hunter2@acme.ladesk.com/api", "https://me@acme.ladesk.com"])
def test_a_base_url_with_user_or_password_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        api_url(url)
    message = str(raised.value)
    assert "must not contain a user name or password" in message and "api_key" in message
    assert "hunter2" not in message and "me@" not in message


@pytest.mark.parametrize("url, expected", [
    ("https://acme.ladesk.com/api/v1", "ends in /api/v1: give the account URL without the API "
     "path, like https://acme.ladesk.com (here https://acme.ladesk.com)"),
    ("https://acme.ladesk.com/api/v3/", "ends in /api/v3, but this connector reads LiveAgent's "
     "API v1: give the account URL"),
])
def test_a_base_url_with_an_api_version_says_how_to_write_it(url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        api_url(url)
    message = str(raised.value)
    assert message.startswith("sources.liveagent.base_url ") and expected in message
