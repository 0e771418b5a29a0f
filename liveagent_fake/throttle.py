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
