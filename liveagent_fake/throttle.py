"""LiveAgent's request limit (180 requests/minute per key) as a token bucket."""

from __future__ import annotations

import math
import threading
import time


class TokenBucket:
    """`rate` requests per minute, bursts of up to `burst` (default: one minute's worth)."""

    def __init__(self, requests_per_minute: float, burst: float | None = None) -> None:
        if requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self.per_second = requests_per_minute / 60.0
        self.capacity = float(burst if burst is not None else requests_per_minute)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self.rejected = 0

    def take(self) -> int:
        """0 when the request may proceed, else whole seconds to wait (the Retry-After)."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.per_second)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0
            self.rejected += 1
            return max(1, math.ceil((1.0 - self._tokens) / self.per_second))


class Throttle:
    """LiveAgent's limits: `requests_per_minute` for all requests together (the fake's
    default), or for each API key apart (`per_key`, as LiveAgent counts them); and, when
    given, `ip_requests_per_second` for each client address (LiveAgent's 300)."""

    def __init__(self, requests_per_minute: float | None = None, burst: float | None = None,
                 per_key: bool = False, ip_requests_per_second: float | None = None) -> None:
        self.requests_per_minute = requests_per_minute
        self.burst = burst
        self.per_key = per_key
        self.ip_requests_per_second = ip_requests_per_second
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.requests_per_minute or self.ip_requests_per_second)

    def take(self, key: str | None, address: str) -> int:
        """0 when the request may proceed, else whole seconds to wait (the Retry-After)."""
        if self.ip_requests_per_second:
            per_second = self.ip_requests_per_second
            wait = self._bucket(("ip", address), per_second * 60, per_second).take()
            if wait:
                return wait
        if self.requests_per_minute:
            scope = ("key", key or "") if self.per_key else ("all", "")
            return self._bucket(scope, self.requests_per_minute, self.burst).take()
        return 0

    def _bucket(self, scope: tuple[str, str], per_minute: float, burst: float | None
                ) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(scope)
            if bucket is None:
                bucket = self._buckets[scope] = TokenBucket(per_minute, burst)
            return bucket
