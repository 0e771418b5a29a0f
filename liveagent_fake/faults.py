"""Fault injection: rules that make matching requests fail the way real networks and servers do.

Kinds:
- ``status``: the documented error envelope with `status` (500, 503, 429 with Retry-After, ...)
- ``html``: an HTML error page, as a proxy or load balancer in front of LiveAgent sends
- ``slow``: wait `delay` seconds, then answer normally (past a client's timeout)
- ``truncate``: send the headers and only half of the body, then close the connection
- ``drop``: close the connection without answering
- ``malformed``: a 200 whose body is not valid JSON (complete, with a correct length)
- ``mutate``: the normal answer, rewritten by `transform(payload) -> payload` before sending
  (fields of unexpected types, missing fields, duplicated rows, odd values)
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = ("status", "html", "slow", "truncate", "drop", "malformed", "mutate")


@dataclass
class FaultRule:
    kind: str
    path: str | None = None  # regular expression searched in the request path
    method: str | None = None
    probability: float = 1.0
    times: int | None = None  # fire at most this many times
    skip: int = 0  # let this many matching requests through first
    status: int = 500
    delay: float = 0.0
    transform: Callable[[dict], dict] | None = None
    fired: int = 0
    _seen: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")

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
