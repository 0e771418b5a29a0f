"""The one HTTP client of the source: dlt's RESTClient on dlt's retrying requests session.

- The API key travels as the `apikey` query parameter (API v1 allows nothing else), so every
  URL or exception text that leaves this module is redacted first.
- A rate limiter per API key, shared by all threads, is applied per HTTP attempt (retries
  included) by a transport adapter, so concurrency never exceeds the account's request budget;
  with several keys the adapter sends each attempt with a key that has room (key_pool.py).
- Errors come out as the small `LiveAgentError` hierarchy with one-line messages.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from dlt.common import jsonpath
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.requests.retry import DEFAULT_RETRY_EXCEPTIONS
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from requests import PreparedRequest, ReadTimeout, RequestException, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ContentDecodingError
from requests.exceptions import ConnectionError as RequestsConnectionError
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from .answers import BadAnswer, Problem, RetryableAnswer, answer_problem, check_answer, envelope
from .exceptions import (
    AuthenticationError,
    ConfigurationError,
    KeptFailingError,
    LiveAgentError,
    NotFoundError,
    RefusedError,
    RequestError,
    UnavailableError,
)
from .key_pool import KeyPool, PooledKey, api_keys
from .redaction import redact
from .transforms import AccountTime

log = logging.getLogger(__name__)


class RedactApiKey(logging.Filter):
    """Masks `apikey=...` in log records: urllib3 logs every request URL at DEBUG level, and
    orchestrators often capture DEBUG logs of every library."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "apikey=" in message.lower():
            record.msg, record.args = redact(message), None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactApiKey())


_API_VERSION_PATH = re.compile(r"/api/v(\d+)$", re.IGNORECASE)
INSECURE_HTTP_SETTING = "sources.liveagent.allow_insecure_http"


def api_url(base_url: str, allow_insecure_http: bool = False) -> str:
    """'https://acme.ladesk.com', '.../', '.../api' or '.../api/' -> 'https://acme.ladesk.com/api'

    A URL with a user name or password is refused without being echoed: LiveAgent
    authenticates with the API key, and a password in the URL would reach messages and dlt's
    trace. `http://` is refused unless the host is a loopback one or `allow_insecure_http`:
    the key travels in the query string, in clear text over plain HTTP."""
    url = (base_url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if "@" in parts.netloc or "@" in url.split("/")[0]:
        raise ConfigurationError(
            "sources.liveagent.base_url must not contain a user name or password (LiveAgent "
            "authenticates with sources.liveagent.api_key): use the account URL like "
            "https://acme.ladesk.com"
        )
    version = _API_VERSION_PATH.search(parts.path)
    if version and parts.scheme and parts.netloc:
        other = version.group(1) != "1"
        raise ConfigurationError(
            f"sources.liveagent.base_url ends in {version.group(0)}"
            + (", but this connector reads LiveAgent's API v1" if other else "")
            + ": give the account URL without the API path, like https://acme.ladesk.com "
            f"(here {parts.scheme}://{parts.netloc})"
            + (", and an API v1 key" if other else "; the connector adds the API v1 path")
        )
    if url.endswith("/api"):
        url = url[: -len("/api")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"sources.liveagent.base_url must be the account URL like https://acme.ladesk.com, "
            f"got {base_url!r}"
        )
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"sources.liveagent.base_url is plain http:// to {parts.netloc}: the API key would "
            "cross the network in clear text (API v1 sends it in the URL); use "
            f"https://{parts.netloc}, or set {INSECURE_HTTP_SETTING} = true "
            "(env SOURCES__LIVEAGENT__ALLOW_INSECURE_HTTP) if the way to it is trusted"
        )
    return url + "/api"


def is_loopback(host: str | None) -> bool:
    """`localhost` (RFC 6761: `*.localhost` too) or a loopback address: traffic that never
    leaves the machine (the bundled fake listens there)."""
    name = (host or "").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RequestMetrics:
    """HTTP attempts made (in all and by kind), the wall time during which the rate limiter
    held back at least one of them (`waited`: with 16 threads waiting at once, a second of
    waiting is one second, not sixteen), and bad answers by kind (each retried while attempts
    were left), across threads. Also the plan: requests the source knows are to come (`due`),
    whether the conversation listing that adds to it has finished, and the limiter's rate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.by_kind: Counter[str] = Counter()
        self._waited = 0.0
        self._due: Counter[str] = Counter()  # planned and not made yet, by kind
        self.listings_done = 0  # conversation listings finished: their requests are all planned
        self.per_minute: float | None = None  # the limiter's rate, set by the client
        self.bad_answers: Counter[str] = Counter()
        # rows extracted only to delete (hard-delete markers), by table: not rows of the table
        self.delete_markers: Counter[str] = Counter()
        # rows the listings found gone or back, by (what was done, table): "marked" deleted,
        # "removed", "unmarked" (listed again), "pending" (remove mode: removed when the next
        # listing agrees; keys, not rows)
        self.deletes: Counter[tuple[str, str]] = Counter()
        self.taken_short = 0  # conversations whose messages were loaded short, as given
        # API keys LiveAgent refused in this run: the run's later clients leave them out
        # (key_pool.py; in memory only, never reported)
        self.refused_keys: set[str] = set()
        self._waiting = 0
        self._waiting_since = 0.0

    @property
    def waited(self) -> float:
        """Seconds during which at least one request was held back, the wait under way
        included: threads waiting in turn at the limit keep one wait going for the whole
        run, and the progress line reads this in the middle of it."""
        with self._lock:
            ongoing = time.monotonic() - self._waiting_since if self._waiting else 0.0
            return self._waited + ongoing

    def start_waiting(self) -> None:
        with self._lock:
            if self._waiting == 0:
                self._waiting_since = time.monotonic()
            self._waiting += 1

    def stop_waiting(self, kind: str) -> None:
        """A request got its permit and goes out."""
        with self._lock:
            self._waiting -= 1
            if self._waiting == 0:
                self._waited += time.monotonic() - self._waiting_since
            self.requests += 1
            self.by_kind[kind] += 1
            if self._due[kind] > 0:
                self._due[kind] -= 1

    def plan(self, kind: str, count: int) -> None:
        """`count` requests of `kind` are to come, announced before any of them goes out."""
        with self._lock:
            self._due[kind] += count

    @property
    def due(self) -> int:
        """Requests planned and not made yet (a retried one counts each attempt as made)."""
        with self._lock:
            return sum(self._due.values())

    def finish_listing(self) -> None:
        with self._lock:
            self.listings_done += 1

    def add_delete_markers(self, table: str, count: int) -> None:
        if count:
            with self._lock:
                self.delete_markers[table] += count

    def add_deletes(self, action: str, table: str, count: int) -> None:
        if count:
            with self._lock:
                self.deletes[action, table] += count

    def add_taken_short(self) -> None:
        """A conversation's messages stayed short for all their reads: loaded as given."""
        with self._lock:
            self.taken_short += 1

    def add_bad_answer(self, kind: str) -> None:
        with self._lock:
            self.bad_answers[kind] += 1



class RateLimitedAdapter(HTTPAdapter):
    """Sends every attempt with a key of the pool that has room (its permit taken) and counts
    attempts. A key answered 429 rests and the attempt goes again with another key, if one is
    free; a key LiveAgent refuses leaves the pool and the attempt goes again with another
    (key_pool.py). Otherwise the answer goes back to dlt's retrying session as it came.

    requests' timeout bounds each read, so an answer trickled a byte at a time never times
    out; this adapter reads the body itself and gives up (a `ReadTimeout`, retried like any
    timeout) when the whole body took longer than the read timeout."""

    def __init__(self, keys: KeyPool, pool_maxsize: int, metrics: RequestMetrics) -> None:
        super().__init__(pool_maxsize=pool_maxsize, pool_connections=1)
        self.keys = keys
        self.metrics = metrics

    def send(self, request: PreparedRequest, stream: bool = False, timeout: Any = None,
             *args: Any, **kwargs: Any) -> Response:
        while True:
            self.metrics.start_waiting()
            key = self.keys.acquire()
            self.metrics.stop_waiting(request_kind(request.path_url))
            request.url = with_key(request.url or "", key.value)
            response = super().send(request, True, timeout, *args, **kwargs)
            limit = timeout[-1] if isinstance(timeout, tuple) else timeout
            if not stream and limit:
                _read_body_within(response, float(limit))
            if not self._another_key(key, response):
                if self.keys.refusals_untold and _accepted(response):
                    self.keys.tell_refusals()
                return response

    def _another_key(self, key: PooledKey, response: Response) -> bool:
        """Whether the attempt goes again with another key: `key` was refused or rests."""
        if response.status_code not in (200, 401, 403, 429) or self.keys.size == 1:
            return False
        problem = answer_problem(response)
        if problem is None or problem.status not in (401, 403, 429):
            return False
        if problem.status == 429:
            again = self.keys.rest(key, _retry_after(response))
        else:
            again = self.keys.refuse(key, problem.kind)
        if again:
            self.metrics.add_bad_answer(problem.kind)
            response.close()
        return again


def _accepted(response: Response) -> bool:
    """Whether LiveAgent answered with what was asked (and so took the key)."""
    return answer_problem(response) is None


_APIKEY_PARAMETER = re.compile(r"([?&])apikey=[^&#]*&?")
DEFAULT_REST_SECONDS = 1.0  # a 429 without Retry-After


def with_key(url: str, key: str) -> str:
    """`url` with `key` as its `apikey` parameter (in place of any it had)."""
    url = _APIKEY_PARAMETER.sub(r"\1", url).rstrip("?&")
    return f"{url}{'&' if '?' in url else '?'}apikey={quote_plus(key)}"


def _retry_after(response: Response) -> float:
    try:
        return max(DEFAULT_REST_SECONDS, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_REST_SECONDS


_KINDS = ((re.compile(r"/conversations/[^/?]+/messages"), "messages"),
          (re.compile(r"/conversations\?|/conversations$"), "listing"),
          (re.compile(r"/conversations/[^/?]+(?:\?|$)"), "details"),
          (re.compile(r"/reports/"), "reports"))


def request_kind(path: str) -> str:
    """A coarse name of what a request reads, e.g. 'messages' or 'reports'."""
    return next((kind for pattern, kind in _KINDS if pattern.search(path)), "other")


BODY_CHUNK = 64 * 1024


def _read_body_within(response: Response, seconds: float) -> None:
    """Reads the whole body into `response.content`, or raises `ReadTimeout` past `seconds`.
    One socket read at a time (`read1`): requests' own reading fills whole chunks, so a
    trickle would never get back to the clock."""
    deadline = time.monotonic() + seconds
    chunks = []
    try:
        while chunk := response.raw.read1(BODY_CHUNK, decode_content=True):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                response.close()
                raise ReadTimeout(f"the answer took longer than {seconds:g} s to arrive",
                                  request=response.request)
    except ProtocolError as error:  # as requests maps them when it reads the body
        raise ChunkedEncodingError(error) from None
    except ReadTimeoutError as error:
        raise RequestsConnectionError(error) from None
    except DecodeError as error:
        raise ContentDecodingError(error) from None
    response._content = b"".join(chunks)


class EnvelopeRESTClient(RESTClient):
    """dlt's RESTClient reading the body the response hook has already parsed leniently
    (`answers.envelope`) instead of parsing it strictly again."""

    def extract_response(self, response: Response, data_selector: Any) -> list[Any]:
        found = jsonpath.find_values(data_selector, {"response": envelope(response)})
        data = found[0] if len(found) == 1 else found
        if data is None:
            return []
        return data if isinstance(data, list) else [data]


PROBE_PATH = "application/status"
PROBE_ATTEMPTS = 2
PROBE_TIMEOUT = 20.0


class LiveAgentClient:
    """GET requests against one LiveAgent account, paged or not.

    The first request of a client is preceded by a probe (GET /application/status with two
    attempts and a short timeout): a wrong URL or key fails in seconds with a clear message
    instead of after the full retry budget. Its answer carries the account's clock, which
    `check_status` may hold against the configuration.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Any,
        requests_per_minute: float,
        request_timeout: float,
        max_attempts: int,
        max_connections: int,
        check_status: Callable[[dict[str, Any]], None] | None = None,
        metrics: RequestMetrics | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if requests_per_minute <= 0:
            raise ConfigurationError("sources.liveagent.requests_per_minute must be positive")
        self.base_url = api_url(base_url, allow_insecure_http)
        # the run's counters when it passes them (a run makes a client per load), else its own
        metrics = metrics or RequestMetrics()
        self.keys = KeyPool(api_keys(api_key), requests_per_minute,
                            refused=metrics.refused_keys)
        self.max_attempts = max_attempts
        self._adapter = RateLimitedAdapter(self.keys, max_connections, metrics)
        self.metrics.per_minute = self.keys.per_minute  # what bounds the time the plan takes
        self._rest = self._rest_client(request_timeout, max_attempts)
        self._probe_rest = self._rest_client(min(request_timeout, PROBE_TIMEOUT), PROBE_ATTEMPTS)
        self._probe_lock = threading.Lock()
        self._status: dict[str, Any] | None = None
        self._check_status = check_status

    def _rest_client(self, timeout: float, attempts: int) -> RESTClient:
        """dlt's RESTClient on dlt's retrying session, through the rate-limited adapter.
        The response hook raises for every bad answer; the session retries the retryable ones
        (`RetryableAnswer`, besides dropped connections and timeouts). Backoff between attempts
        is dlt's runtime setting (runtime.request_backoff_factor, runtime.request_max_retry_delay);
        a Retry-After header takes precedence."""
        runtime = resolve_configuration(RuntimeConfiguration())
        session = Client(
            request_timeout=timeout, request_max_attempts=attempts, raise_for_status=False,
            status_codes=(), exceptions=(*DEFAULT_RETRY_EXCEPTIONS, RetryableAnswer),
            respect_retry_after_header=True,
            request_backoff_factor=runtime.request_backoff_factor,
            request_max_retry_delay=runtime.request_max_retry_delay,
        ).session
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        # no auth here: the adapter adds the `apikey` parameter of the key it sends with
        return EnvelopeRESTClient(base_url=self.base_url, session=session)

    @property
    def metrics(self) -> RequestMetrics:
        return self._adapter.metrics

    @property
    def reached(self) -> bool:
        """Whether the account answered the probe: a request failing before is the account's
        failure (a wrong URL, an account out of reach), not one endpoint's."""
        return self._status is not None

    def server_status(self) -> dict[str, Any]:
        """GET /application/status as the probe received it (version, account's clock)."""
        self._ensure_probed()
        assert self._status is not None
        return self._status

    def server_now(self, time: AccountTime) -> datetime | None:
        """The account's clock when this client first reached it (None if it did not say)."""
        return time.parse(self.server_status().get("current_server_time"))

    def account_today(self, time: AccountTime) -> date:
        """Today in the account, from the server's clock: the machine's may differ."""
        now = self.server_now(time)
        return time.to_local_date(now) if now is not None else time.today()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The `response` object of a single GET."""
        self._ensure_probed()
        return self._get(self._rest, path, params, self.max_attempts)

    def paginate(
        self, path: str, data_key: str | None, paginator: BasePaginator,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows under `response.<data_key>` (the whole `response` when None). An answer
        without `data_key` is a bad answer (retried), not an empty page: every listing the
        reference documents has its key, an empty one too."""
        self._ensure_probed()
        return self._paginate(self._rest, path, data_key, paginator, params, self.max_attempts)

    def listing(self, path: str, data_key: str) -> list[dict[str, Any]]:
        """The rows under `response.<data_key>` of a list read in one request."""
        return [row for page in self.paginate(path, data_key, SinglePagePaginator())
                for row in page]

    def _ensure_probed(self) -> None:
        with self._probe_lock:
            if self._status is None:
                status = self._get(self._probe_rest, PROBE_PATH, None, PROBE_ATTEMPTS)
                if self._check_status is not None:
                    self._check_status(status)  # raises: the next request probes again
                self._status = status

    def _get(self, rest: RESTClient, path: str, params: Mapping[str, Any] | None,
             attempts: int) -> dict[str, Any]:
        pages = self._paginate(rest, path, None, SinglePagePaginator(), params, attempts)
        return next(iter(pages), [{}])[0]

    def _paginate(
        self, rest: RESTClient, path: str, data_key: str | None, paginator: BasePaginator,
        params: Mapping[str, Any] | None, attempts: int,
    ) -> Iterator[list[dict[str, Any]]]:
        selector = "response" if data_key is None else f"response.{data_key}"
        checks: list[Callable[..., None]] = [self._check]
        if data_key is not None:
            checks.append(self._has(data_key))
        pages = rest.paginate(
            path, params=dict(params or {}), paginator=paginator, data_selector=selector,
            hooks={"response": checks}, allow_redirects=False,  # see _redirect_error
        )
        failure: LiveAgentError | None = None
        try:
            for page in pages:
                yield list(page)
        except BadAnswer as error:
            failure = self._answer_error(path, error.problem, attempts)
        except RequestException as error:
            failure = UnavailableError(self._unreachable(path, attempts, error))
        if failure is not None:
            # raised outside the except block: the original error, whose text carries the
            # URL with the key, must not ride along as __context__ (dlt's trace stores it)
            raise failure

    def _unreachable(self, path: str, attempts: int, error: RequestException) -> str:
        reason = self.redact(_reason(error))
        if self.reached:  # the account answered before: this endpoint did not
            return (f"LiveAgent at {self.base_url} did not answer {path} after {attempts} "
                    f"attempts ({reason})")
        return (f"LiveAgent at {self.base_url} could not be reached for {path} after "
                f"{attempts} attempts ({reason}); check sources.liveagent.base_url and the "
                "network")

    def redact(self, text: str) -> str:
        """`text` without any of the API keys, however they got there."""
        return redact(text, self.keys.all_keys)

    def _check(self, response: Response, *args: Any, **kwargs: Any) -> None:
        """Response hook, inside the retrying send: counts bad answers and raises for them."""
        problem = answer_problem(response)
        if problem is not None:
            self.metrics.add_bad_answer(problem.kind)
            check_answer(response)

    def _has(self, data_key: str) -> Callable[..., None]:
        """Response hook after `_check`: raises (retryably) for an answer without its list."""
        def check(response: Response, *args: Any, **kwargs: Any) -> None:
            if envelope(response).get(data_key) is None:
                problem = Problem(response.status_code, f"an answer without its '{data_key}' "
                                  "list", bad_body=True)
                self.metrics.add_bad_answer(problem.kind)
                raise RetryableAnswer(problem, response)

        return check

    def _answer_error(self, path: str, problem: Problem, attempts: int) -> LiveAgentError:
        detail = self.redact(problem.reason)
        if problem.redirect:
            return self._redirect_error(path, problem)
        if problem.status == 401:
            return AuthenticationError(
                f"LiveAgent rejected the API key ({detail}); check sources.liveagent.api_key "
                "(SOURCES__LIVEAGENT__API_KEY)"
            )
        if problem.status == 403:
            return AuthenticationError(
                f"LiveAgent refused the API key for API v1 ({detail}): a key of API v3 is "
                "refused by v1; set sources.liveagent.api_key to an API v1 key"
            )
        if path == PROBE_PATH and (problem.status == 404 or problem.bad_body):
            found = "does not exist (404)" if problem.status == 404 else \
                f"answered with {detail}, not JSON"
            return RequestError(
                f"{self.base_url}/{path} {found}: is sources.liveagent.base_url the URL of a "
                "LiveAgent account?"
            )
        if problem.status == 404:
            return NotFoundError(f"LiveAgent has no {path} ({detail})")
        if problem.retryable:
            return KeptFailingError(
                f"LiveAgent kept failing on {path} after {attempts} attempts (last: {detail})"
            )
        return RefusedError(f"LiveAgent refused {path} ({detail})")


    def _redirect_error(self, path: str, problem: Problem) -> LiveAgentError:
        """A redirect is not followed: the key is in the URL, and requests would carry it to
        wherever the redirect points, another host included. On the first request it means
        the account is elsewhere (a configuration error); later, the request fails."""
        detail = self.redact(problem.reason)
        if path != PROBE_PATH:
            return RefusedError(f"LiveAgent answered {path} with {detail} which is not followed: "
                                "the API key travels in the URL")
        target = urlsplit(problem.location)
        moved = f"{target.scheme}://{target.netloc}" if target.scheme and target.netloc \
            else "the address it points to"
        return ConfigurationError(
            f"{self.base_url}/{path} answered with {detail} which is not followed: the API key "
            f"travels in the URL; if the account moved, set sources.liveagent.base_url to {moved}")


_REASONS = (
    re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)"),
    re.compile(r"(Read timed out|Remote end closed connection without response|"
               r"Connection (?:aborted|reset by peer)|IncompleteRead\([^)]*\)|"
               r"the answer took longer than [\d.]+ s to arrive)"),
)


def _reason(error: RequestException) -> str:
    """The innermost cause of a connection failure, e.g. 'Connection refused'."""
    text = str(error)
    for pattern in _REASONS:
        found = pattern.search(text)
        if found:
            return found.group(1).strip()
    return type(error).__name__
