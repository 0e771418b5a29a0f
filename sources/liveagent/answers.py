"""What a LiveAgent answer means, read from its body as much as from its HTTP status.

Seen on real accounts: error envelopes (`{"response": {"status": "ERROR", "statuscode": 500}}`)
under HTTP 200, and empty or non-JSON bodies with HTTP 200 that a second attempt cures. So:
- an envelope with `status: ERROR` is an error whatever the HTTP status says; its `statuscode`
  decides like an HTTP status would (429 and 5xx are retried, anything else is final);
- a body that is not the JSON envelope (empty, HTML, malformed, cut short) is retried;
- the body is parsed leniently: raw line breaks inside strings (the reference's own examples
  have them) are accepted, and bytes that are not UTF-8 become U+FFFD;
- a redirect (3xx) is a problem of its own, named with its target: it is never followed, since
  the API key travels in the URL and would go wherever the redirect points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from requests import HTTPError, Response

_PARSED = "_liveagent_body"  # the parsed body, kept on the response so it is parsed once


@dataclass(frozen=True)
class Problem:
    """Why an answer is not usable: `status` is the HTTP status, or the envelope's statuscode
    for an error envelope under HTTP 200 (0 when it has none)."""

    status: int
    reason: str
    message: str = ""  # the envelope's errormessage, when there is one
    bad_body: bool = False  # not the JSON envelope at all
    in_envelope: bool = False  # an error envelope under a success status
    location: str = ""  # where a redirect points (absolute; it may carry the API key)

    @property
    def redirect(self) -> bool:
        return 300 <= self.status < 400 and not self.in_envelope

    @property
    def kind(self) -> str:
        """A short name to count answers of this kind by, e.g. 'HTTP 503' or 'an empty body'."""
        if self.bad_body:
            return self.reason
        return f"error {self.status} under HTTP 200" if self.in_envelope else \
            f"HTTP {self.status}"

    @property
    def retryable(self) -> bool:
        return self.bad_body or self.status == 429 or 500 <= self.status < 600


class BadAnswer(HTTPError):
    """Raised by the response hook inside the retrying session; dlt's session retries it when
    the problem is retryable and honours Retry-After, as for an HTTP 429 or 5xx."""

    def __init__(self, problem: Problem, response: Response) -> None:
        super().__init__(problem.reason, response=response)
        self.problem = problem


class RetryableAnswer(BadAnswer):
    """A bad answer another attempt may cure."""


def check_answer(response: Response) -> None:
    """Raises `RetryableAnswer` or `BadAnswer` unless `response` carries a usable envelope."""
    problem = answer_problem(response)
    if problem is not None:
        raise (RetryableAnswer if problem.retryable else BadAnswer)(problem, response)


def envelope(response: Response) -> dict[str, Any]:
    """The `response` object of an answer that passed `check_answer`."""
    body = _parsed(response)
    assert isinstance(body, dict)
    return body["response"]


def answer_problem(response: Response) -> Problem | None:
    if 300 <= response.status_code < 400:
        location = urljoin(response.url or "", response.headers.get("Location", ""))
        return Problem(response.status_code, f"a redirect ({response.status_code} "
                       f"{response.reason or ''}".strip() + f") to {location or 'nowhere'}",
                       location=location)
    body = _parsed(response)
    inner = body.get("response") if isinstance(body, dict) else None
    if isinstance(inner, dict) and str(inner.get("status", "")).upper() == "ERROR":
        message = str(inner.get("errormessage") or "")
        if response.status_code >= 400:
            return Problem(response.status_code, f"{response.status_code} {message}".strip(),
                           message)
        code = _int(inner.get("statuscode"))
        return Problem(code, f"error {code} under HTTP {response.status_code}: {message}",
                       message, in_envelope=True)
    if response.status_code >= 400:
        return Problem(response.status_code, f"{response.status_code} "
                       f"{response.reason or ''}".strip())
    if not isinstance(inner, dict):
        return Problem(response.status_code, _describe_bad_body(response, body), bad_body=True)
    return None


def _parsed(response: Response) -> Any:
    """The JSON body, or None when the body is not JSON."""
    if _PARSED not in response.__dict__:
        text = response.content.decode("utf-8", "replace")
        try:
            response.__dict__[_PARSED] = json.loads(text, strict=False) if text.strip() else None
        except ValueError:
            response.__dict__[_PARSED] = None
    return response.__dict__[_PARSED]


def _describe_bad_body(response: Response, body: Any) -> str:
    text = response.content.strip()
    if not text:
        return "an empty body"
    if body is not None:
        return "JSON without the response envelope"
    if text[:1] == b"<":
        return "an HTML page"
    if text[:1] in (b"{", b"["):
        return "malformed JSON"
    return "a body that is not JSON"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
