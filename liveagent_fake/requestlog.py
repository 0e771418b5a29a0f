"""What the fake was asked: a bounded log of recent requests plus running totals."""

from __future__ import annotations

import re
import threading
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    params: dict[str, str]  # without the API key
    status: int  # 0 when the connection was dropped without an answer
    started: float  # epoch seconds
    duration: float  # seconds
    fault: str | None


class RequestLog:
    """Keeps the last `size` requests (memory stays flat) and totals over all of them."""

    def __init__(self, size: int = 100_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.total = 0
        self.by_status: Counter[int] = Counter()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self.total += 1
            self.by_status[entry.status] += 1

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.total = 0
            self.by_status.clear()

    def select(
        self, path: str | None = None, method: str | None = None, status: int | None = None
    ) -> list[LoggedRequest]:
        """Logged requests whose path matches the regular expression `path` (searched)."""
        pattern = re.compile(path) if path is not None else None
        return [
            e for e in self.entries()
            if (pattern is None or pattern.search(e.path))
            and (method is None or e.method == method)
            and (status is None or e.status == status)
        ]
