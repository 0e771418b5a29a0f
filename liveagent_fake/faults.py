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
- ``empty_list``: the normal answer with every list under `response` emptied: a listing that
  once says "nothing" (a replica that lost its data, a search index being rebuilt)
- ``no_list``: the normal answer without its lists (`{"response": {}}` for GET /tags)
- ``cut_list``: the normal answer with every list under `response` cut to its first `keep`
  rows (a page cut short, as a lagging replica or a timed-out query answers)
- ``ignore_paging``: answered as if the request carried no `cursor`, `offset` or `limitfrom`:
  the first page again, whatever page was asked for (a page that does not follow its cursor)
- ``empty_groups``, ``no_groups_key``, ``lagging_replica``: a GET
  /conversations/{id}/messages answer that falls short of what the listing counts: an empty
  `groups` list, no `groups` key at all, or every group but the newest (by `datecreated`, the
  last of equals), as a read replica that lags behind the listing would answer
- ``redirect``: HTTP `status` (a 3xx; 301 unless one is given) with an empty body (PHP's
  `header("Location: ...")`) and `Location` = `location` followed by the request's path and
  query string, as a server sends when an account moved host or to https: the query string
  carries the API key along

Options: `path` (a regular expression searched in the request path), `method`, `probability`,
`times` (fire at most that often), `skip` (let that many matching requests through first),
`status` (status, html, error_envelope, redirect), `http_status` (error_envelope), `delay`
(slow, trickle), `transform` (mutate), `keep` (cut_list), `location` (redirect: scheme and
host, e.g. "https://acme.ladesk.com").
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
         "empty", "not_json", "error_envelope", "empty_list", "no_list", "cut_list",
         "ignore_paging", "empty_groups", "no_groups_key", "lagging_replica", "redirect")
PAGING_PARAMS = ("cursor", "offset", "limitfrom")  # what ignore_paging drops
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
    keep: int = 0  # cut_list: rows each list keeps
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


# -- answers rewritten on their way out -------------------------------------------------------
def _groups(payload: dict) -> dict | None:
    """The `response` of a /messages answer, None for any other answer."""
    response = payload.get("response")
    return response if isinstance(response, dict) and "groups" in response else None


def _empty_groups(payload: dict) -> dict:
    response = _groups(payload)
    if response is not None:
        response["groups"] = []
    return payload


def _no_groups_key(payload: dict) -> dict:
    response = _groups(payload)
    if response is not None:
        del response["groups"]
    return payload


def _lagging_replica(payload: dict) -> dict:
    response = _groups(payload)
    if response is not None and response["groups"]:
        groups = response["groups"]
        newest = max(range(len(groups)), key=lambda i: (groups[i]["datecreated"], i))
        del groups[newest]
    return payload


def redirect_reply(rule: FaultRule, target: str) -> Reply:
    """The redirect of `rule` for a request of `target` (its path and query string)."""
    return Reply(rule.status, b"", "text/html", {"Location": rule.location.rstrip("/") + target})


def canned_reply(rule: FaultRule | None) -> Reply | None:
    """The whole answer for a rule of a kind that replaces it; None for the other kinds."""
    make = None if rule is None else CANNED.get(rule.kind)
    return None if make is None or rule is None else make(rule)


# -- answers of the account, changed ---------------------------------------------------------
def request_params(rule: FaultRule | None, params: dict[str, str]) -> dict[str, str]:
    """The parameters the account answers: without the paging ones for `ignore_paging`."""
    if rule is None or rule.kind != "ignore_paging":
        return params
    return {name: value for name, value in params.items() if name not in PAGING_PARAMS}


def _lists_changed(payload: dict, change: Callable[[list], list | None]) -> dict:
    """`payload` with each list under `response` replaced by `change(list)` (None: dropped)."""
    answer: dict = {}
    for key, value in payload["response"].items():
        changed = change(value) if isinstance(value, list) else value
        if changed is not None:
            answer[key] = changed
    return {**payload, "response": answer}


REWRITES: dict[str, Callable[[FaultRule, dict], dict]] = {
    "mutate": lambda rule, payload: rule.transform(payload) if rule.transform else payload,
    "empty_list": lambda rule, payload: _lists_changed(payload, lambda rows: []),
    "no_list": lambda rule, payload: _lists_changed(payload, lambda rows: None),
    "cut_list": lambda rule, payload: _lists_changed(payload, lambda rows: rows[:rule.keep]),
    "empty_groups": lambda rule, payload: _empty_groups(payload),
    "no_groups_key": lambda rule, payload: _no_groups_key(payload),
    "lagging_replica": lambda rule, payload: _lagging_replica(payload),
}


def rewritten(rule: FaultRule | None, payload: dict) -> dict:
    """A successful answer of the account as a rule of a rewriting kind sends it."""
    rewrite = None if rule is None else REWRITES.get(rule.kind)
    return payload if rewrite is None or rule is None else rewrite(rule, payload)
