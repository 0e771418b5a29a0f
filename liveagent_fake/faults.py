"""Fault injection: rules that make matching requests fail the way real networks and servers do.

Kinds:
- ``status``: the documented error envelope with `status` (500, 503, 429 with Retry-After, ...)
- ``html``: an HTML error page, as a proxy or load balancer in front of LiveAgent sends
- ``slow``: wait `delay` seconds, then answer normally (past a client's timeout)
- ``trickle``: the normal answer, its body sent one byte every `delay` seconds (each read
  comes in time, the whole body does not)
- ``truncate``: send the headers and only half of the body, then close the connection
- ``drop``: close the connection without answering
- ``malformed``: a 200 whose body is not valid JSON (complete, with a correct length)
- ``mutate``: the normal answer, rewritten by `transform(payload) -> payload` before sending
  (fields of unexpected types, missing fields, duplicated rows, odd values); not applied to
  the verbatim bodies of RealWorld.documented_examples
- ``empty``: HTTP 200 with an empty body (seen on /messages and /conversations by
  kamko/ladesk-fetcher: "Expecting value: line 1 column 1")
- ``not_json``: HTTP 200 with a short text/html body, a PHP warning instead of JSON
- ``error_envelope``: the documented error envelope with `statuscode` = `status` (500, 503,
  429, 404, 400, ...) under HTTP `http_status` (default 200: some clients treat
  `"status": "ERROR"` under 200 as an error, dianhailu/cs--center)
- ``redirect``: HTTP `status` (a 3xx; 301 unless one is given) with an empty body (PHP's
  `header("Location: ...")`) and `Location` = `location` followed by the request's path and
  query string, as a server sends when an account moved host or to https: the query string
  carries the API key along

Options: `path` (a regular expression searched in the request path), `method`, `probability`,
`times` (fire at most that often), `skip` (let that many matching requests through first),
`status` (status, html, error_envelope, redirect), `http_status` (error_envelope), `delay`
(slow, trickle), `transform` (mutate), `location` (redirect: scheme and host, e.g.
"https://acme.ladesk.com").
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .exceptions import TooManyRequests, error_for_status
from .wire import Reply, encode_json

KINDS = ("status", "html", "slow", "trickle", "truncate", "drop", "malformed", "mutate",
         "empty", "not_json", "error_envelope", "redirect")
HTML_ERROR_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
PHP_WARNING = (
    "<br />\n<b>Warning</b>:  mysqli_connect(): (HY000/2002): Connection refused in "
    "<b>/var/www/liveagent/include/Gpf/DbEngine/Driver/Mysql.class.php</b> on line "
    "<b>86</b><br />\n"
)
MALFORMED_JSON = b'{"response":{"conversations":[{"conversationid":"a1"'


@dataclass
class FaultRule:
    kind: str
    path: str | None = None  # regular expression searched in the request path
    method: str | None = None
    probability: float = 1.0
    times: int | None = None  # fire at most this many times
    skip: int = 0  # let this many matching requests through first
    status: int = 500
    http_status: int = 200  # error_envelope only
    delay: float = 0.0
    transform: Callable[[dict], dict] | None = None
    location: str = "https://moved.example"  # redirect only
    fired: int = 0
    _seen: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "redirect" and not 300 <= self.status < 400:
            self.status = 301

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


class FaultInjector:
    """Holds the rules; `pick` decides, deterministically for a seed, which fault a request gets."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def add(self, kind: str, **options: object) -> FaultRule:
        rule = FaultRule(kind, **options)  # type: ignore[arg-type]
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                rule._seen += 1
                if rule._seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if self._random.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None


# -- replies of the kinds that answer without asking the account ----------------------------
def _html_page(rule: FaultRule) -> Reply:
    return Reply(rule.status, HTML_ERROR_PAGE.encode(), "text/html")


def _error_status(rule: FaultRule) -> Reply:
    error = error_for_status(rule.status, f"Injected error {rule.status}")
    headers = {"Retry-After": "1"} if isinstance(error, TooManyRequests) else {}
    return Reply(rule.status, encode_json(error.envelope()), headers=headers)


def _malformed(rule: FaultRule) -> Reply:
    return Reply(200, MALFORMED_JSON)


def _empty(rule: FaultRule) -> Reply:
    return Reply(200, b"")


def _php_warning(rule: FaultRule) -> Reply:
    return Reply(200, PHP_WARNING.encode(), "text/html")


def _error_envelope(rule: FaultRule) -> Reply:
    error = error_for_status(rule.status, f"Injected error {rule.status}")
    return Reply(rule.http_status, encode_json(error.envelope()))


CANNED: dict[str, Callable[[FaultRule], Reply]] = {
    "html": _html_page,
    "status": _error_status,
    "malformed": _malformed,
    "empty": _empty,
    "not_json": _php_warning,
    "error_envelope": _error_envelope,
}


def redirect_reply(rule: FaultRule, target: str) -> Reply:
    """The redirect of `rule` for a request of `target` (its path and query string)."""
    return Reply(rule.status, b"", "text/html", {"Location": rule.location.rstrip("/") + target})


def canned_reply(rule: FaultRule | None) -> Reply | None:
    """The whole answer for a rule of a kind that replaces it; None for the other kinds."""
    make = None if rule is None else CANNED.get(rule.kind)
    return None if make is None or rule is None else make(rule)
