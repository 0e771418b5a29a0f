"""Real HTTP on a loopback port: faults, throttling, auth and routing around the model.

The order a request goes through is: fault rules, the rate limit, the API key, the route.
Every `ApiError` is rendered here, once, into the documented envelope.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import documented_examples
from .dataset import DatasetConfig
from .exceptions import (
    ApiError,
    Forbidden,
    Forbidden403,
    NotFound,
    ServerError,
    TooManyRequests,
)
from .faults import (
    FaultInjector,
    FaultRule,
    canned_reply,
    redirect_reply,
    request_params,
    rewritten,
)
from .models import Account
from .requestlog import LoggedRequest, RequestLog
from .responses import Request
from .throttle import Throttle
from .urls import resolve
from .wire import Reply, encode_json

log = logging.getLogger(__name__)
# an answer: a payload to encode, or (RealWorld.documented_examples) a body to send as it is
Payload = dict | str


STATS_PATH = "/_fake/stats"
REVOKE_PATH = "/_fake/keys/revoke"  # POST key=...: a test hook, as an admin deleting a key
# per-id paths are counted under one name each, so the counters stay bounded
GROUPED_PATHS = (
    (re.compile(r"/api/conversations/[^/]+/messages/?"), "messages"),
    (re.compile(r"/api/conversations/[^/]+/?"), "conversation_details"),
    (re.compile(r"/api/companies/[^/]+/?"), "company_details"),
    (re.compile(r"/api/agents/[^/]+/?"), "agent_details"),
)
MAX_PATH_KEYS = 200  # other paths beyond this many distinct ones count as "other"


class RequestStats:
    """Running totals for `GET /_fake/stats`: requests by method, by status, by grouped
    path and by API key (`Account.key_label`: 'key 1', ...; a key's status counts too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_path: Counter[str] = Counter()
        self.by_key: Counter[tuple[str, int]] = Counter()

    def add(self, method: str, path: str, status: int, key: str = "unknown") -> None:
        name = next((n for pattern, n in GROUPED_PATHS if pattern.fullmatch(path)), path)
        with self._lock:
            if name not in self.by_path and len(self.by_path) >= MAX_PATH_KEYS:
                name = "other"
            self.total += 1
            self.by_method[method] += 1
            self.by_status[status] += 1
            self.by_path[name] += 1
            self.by_key[key, status] += 1

    def snapshot(self) -> dict:
        with self._lock:
            by_key: dict[str, dict[str, int]] = {}
            for (key, status), count in sorted(self.by_key.items()):
                by_key.setdefault(key, {})[str(status)] = count
            return {"total": self.total, "by_method": dict(sorted(self.by_method.items())),
                    "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                    "by_path": dict(sorted(self.by_path.items())), "by_key": by_key}

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_method.clear()
            self.by_status.clear()
            self.by_path.clear()
            self.by_key.clear()


class FakeLiveAgent:
    """A fake LiveAgent API v1 account served over HTTP; use as a context manager or
    call `start()`/`stop()`. `account` is the model tests change directly.

    `requests_per_minute` limits all requests together, or each API key apart with
    `limit_per_key` (LiveAgent's way); `ip_requests_per_second` limits each client address."""

    def __init__(
        self,
        account: Account | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        requests_per_minute: float | None = None,
        burst: float | None = None,
        latency: float = 0.0,
        log_size: int = 100_000,
        fault_seed: int = 0,
        limit_per_key: bool = False,
        ip_requests_per_second: float | None = None,
    ) -> None:
        self.account = account or Account(DatasetConfig())
        self.throttle = Throttle(requests_per_minute, burst, limit_per_key, ip_requests_per_second)
        self.latency = latency
        self.faults = FaultInjector(fault_seed)
        self.log = RequestLog(log_size)
        self.stats = RequestStats()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_key(self) -> str:
        return self.account.api_key

    def set_rate_limit(self, requests_per_minute: float | None, burst: float | None = None,
                       limit_per_key: bool = False,
                       ip_requests_per_second: float | None = None) -> None:
        self.throttle = Throttle(requests_per_minute, burst, limit_per_key, ip_requests_per_second)

    def start(self) -> FakeLiveAgent:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="fake-liveagent",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLiveAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request processing ----------------------------------------------------------------
    def answer(
        self, method: str, path: str, params: dict[str, str], address: str = "127.0.0.1"
    ) -> tuple[int, Payload, dict]:
        """(status, payload, extra headers) for a request from `address` that got past the
        fault rules."""
        try:
            if self.throttle.active:
                wait = self.throttle.take(params.get("apikey"), address)
                if wait:
                    raise TooManyRequests(wait)
            self._authenticate(params.get("apikey"))
            route = resolve(method, path)
            if route is None:
                raise NotFound(f"Unknown API method: {method} {path}")
            example = self._documented_example(method, path)
            if example is not None:
                return 200, example.answer(params), {}
            handler, args = route
            with self.account.lock:
                payload = handler(self.account, Request(method, path, params, args))
            return 200, {"response": payload}, {}
        except TooManyRequests as error:
            return error.status, error.envelope(), {"Retry-After": str(error.retry_after)}
        except ApiError as error:
            return error.status, error.envelope(), {}
        except Exception:  # a bug in the fake must still look like the API's 500
            log.exception("fake LiveAgent failed on %s %s", method, path)
            internal = ServerError("Internal server error")
            return internal.status, internal.envelope(), {}

    def _authenticate(self, key: str | None) -> None:
        if key is not None and key == self.account.v3_api_key:
            raise Forbidden403("API key is not valid for API v1")
        if key not in self.account.api_keys:
            raise Forbidden("Invalid API key" if key else "Missing API key")

    def _documented_example(self, method: str, path: str) -> documented_examples.Example | None:
        if method != "GET" or not self.account.real_world.documented_examples:
            return None
        return documented_examples.find(path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeLiveAgent


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one buffered write per response and no Nagle: keep-alive clients otherwise stall ~40 ms
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "Apache"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        pass  # the RequestLog is the fake's log

    def _params(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update(parse_qsl(body, keep_blank_values=True))
        return parts.path, params

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        started, clock = time.time(), time.monotonic()
        path, params = self._params()
        if path.rstrip("/") in (STATS_PATH, STATS_PATH + "/reset"):
            self._serve_stats(fake, method, path.rstrip("/"))
            return
        if path.rstrip("/") == REVOKE_PATH:
            self._revoke(fake, method, params.get("key", ""))
            return
        rule = fake.faults.pick(method, path)
        status = self._respond(fake, rule, method, path, params)
        logged = {k: v for k, v in params.items() if k != "apikey"}
        fake.log.add(LoggedRequest(method, path, logged, status, started,
                                   time.monotonic() - clock, rule.kind if rule else None))
        fake.stats.add(method, path, status, fake.account.key_label(params.get("apikey")))

    def _revoke(self, fake: FakeLiveAgent, method: str, key: str) -> None:
        """The test hook that deletes an API key mid-run (not counted, like the stats)."""
        if method != "POST":
            self._send(405, b'{"error":"POST key=..."}', "application/json", {})
            return
        try:
            fake.account.revoke_api_key(key)
        except KeyError:
            self._send(404, b'{"error":"no such API key"}', "application/json", {})
            return
        self._send(200, b'{"revoked":true}', "application/json", {})

    def _serve_stats(self, fake: FakeLiveAgent, method: str, path: str) -> None:
        """The fake's own counters: before faults, throttle and auth, and not counted."""
        if path == STATS_PATH + "/reset" and method == "POST":
            fake.stats.reset()
        elif path != STATS_PATH or method != "GET":
            self._send(405, b'{"error":"GET /_fake/stats or POST /_fake/stats/reset"}',
                       "application/json", {})
            return
        self._send(200, json.dumps(fake.stats.snapshot()).encode(), "application/json", {})

    def _respond(
        self, fake: FakeLiveAgent, rule: FaultRule | None, method: str, path: str,
        params: dict[str, str],
    ) -> int:
        if rule is not None and rule.kind == "drop":
            self.close_connection = True
            return 0
        if rule is not None and rule.kind == "slow":
            time.sleep(rule.delay)
        if fake.latency:
            time.sleep(fake.latency)
        if rule is not None and rule.kind == "redirect":
            return self._send_reply(redirect_reply(rule, self.path))
        canned = canned_reply(rule)
        if canned is not None:
            return self._send_reply(canned)
        status, payload, headers = fake.answer(method, path, request_params(rule, params),
                                               self.client_address[0])
        if status == 200 and isinstance(payload, dict):
            payload = rewritten(rule, payload)
        body = payload.encode() if isinstance(payload, str) else encode_json(payload)
        if rule is not None and rule.kind == "truncate":
            self._send(status, body, "application/json", headers, cut=len(body) // 2)
            return status
        if rule is not None and rule.kind == "trickle":
            self._send(status, body, "application/json", headers, byte_every=rule.delay)
            return status
        self._send(status, body, "application/json", headers)
        return status

    def _trickle(self, body: bytes, byte_every: float) -> None:
        """`body` one byte at a time, until the client hangs up."""
        try:
            for position in range(len(body)):
                self.wfile.write(body[position:position + 1])
                self.wfile.flush()
                time.sleep(byte_every)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_reply(self, reply: Reply) -> int:
        self._send(reply.status, reply.body, reply.content_type, reply.headers)
        return reply.status

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str],
        cut: int | None = None, byte_every: float = 0.0,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if cut is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if byte_every:
            self._trickle(body, byte_every)
            return
        self.wfile.write(body if cut is None else body[:cut])
