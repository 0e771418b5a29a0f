"""Masks secrets in any text that may leave the process: messages, tracebacks, log records.

A key can reach a text in many forms: raw, URL-encoded by requests (`quote_plus`) or by hand
(`quote`, either case of hex, even twice), JSON-escaped by PHP (`\\/`, `\\u0026`) or by Python,
HTML-escaped in an error page, or mixed (a server that echoes a query string half-decoded).
A known secret is matched character by character in any of those forms; an `apikey=` parameter
of a key nobody told us about is masked up to the end of its value; so is the user:password of
a URL.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "***"
# the value of an `apikey` parameter: in a URL up to the next `&` (a literal `&` inside an
# encoded key is `%26`); in a URL that was itself encoded, up to `%26`; in a dict or JSON, up
# to the closing quote
_APIKEY_VALUES = (
    re.compile(r"(apikey=)[^&\s'\"<>\\]*", re.IGNORECASE),
    re.compile(r"(apikey%3D)(?:(?!%26)[^&\s'\"<>\\])*", re.IGNORECASE),
    re.compile(r"(apikey\\?['\"]\s*[:,]\s*\\?['\"])[^'\"\\]*", re.IGNORECASE),
)
# scheme://user:password@host: both parts, since the user name may be a secret too
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/?#\s'\"<>]+@", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret (in any encoding), every `apikey` value and every
    user:password of a URL masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = secret_pattern(secret).sub(MASK, text)
    for pattern in _APIKEY_VALUES:
        text = pattern.sub(rf"\g<1>{MASK}", text)
    return _URL_USERINFO.sub(rf"\g<1>{MASK}@", text)


@lru_cache(maxsize=32)
def secret_pattern(secret: str) -> re.Pattern[str]:
    """Matches `secret` with each character in any of the forms it can take in a text."""
    return re.compile("".join(_character_forms(char) for char in secret), re.IGNORECASE)


def _character_forms(char: str) -> str:
    percent = "".join(f"%{byte:02X}" for byte in char.encode())
    forms = {re.escape(char), re.escape(percent), re.escape(percent.replace("%", "%25")),
             re.escape(html.escape(char)), re.escape(f"&#{ord(char)};")}
    if char == " ":
        forms |= {r"\+", "%2B"}
    # escape sequences, possibly escaped again (JSON inside a repr, a repr inside JSON)
    escapes = {json.dumps(char)[1:-1], json.dumps(char, ensure_ascii=False)[1:-1],
               repr(char)[1:-1], f"\\u{ord(char):04x}" if ord(char) < 0x10000 else "",
               "\\/" if char == "/" else ""}
    forms |= {r"\\{1,4}" + re.escape(e[1:]) for e in escapes if e.startswith("\\")}
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


SHOWN_KEY_END = 4  # characters of a key's end a message may show to tell keys apart...
SHOWN_KEY_MIN_LENGTH = 16  # ...when the key is at least this long (a quarter of it at most)


def masked_key(key: str, position: int, count: int) -> str:
    """How messages name one of `count` configured keys: 'key 2 of 3 (...x7Qa)', the end
    left out of a short key (LiveAgent's are 32 characters)."""
    end = f" (...{key[-SHOWN_KEY_END:]})" if len(key) >= SHOWN_KEY_MIN_LENGTH else ""
    return f"key {position} of {count}{end}"
