"""Several API keys of one account, each with its own request budget.

LiveAgent limits requests per API key (180 a minute) and per IP address (300 a second), and an
account admin can create several keys: a pool of N keys reads N times as fast. Each key has
its own limiter at `requests_per_minute`; a request takes a permit from a key with room, the
next key first (round robin), so the load spreads evenly. A key that answers 429 rests for its
Retry-After while the others go on; a key LiveAgent refuses (401/403) leaves the pool with one
warning line that names it by its masked form, unless it is the last one: then its refusal is
the run's error, as with a single key. With more than one key, a limiter shared by the pool
keeps the total under the per-IP cap.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pyrate_limiter import Duration, Limiter, Rate

from .exceptions import ConfigurationError
from .redaction import masked_key
from .settings import IP_REQUESTS_PER_SECOND, LIMITER_BUFFER_MS

log = logging.getLogger(__name__)

KEY_SEPARATOR = ","  # SOURCES__LIVEAGENT__API_KEY="key1,key2": LiveAgent's keys hold no commas
POLL_SECONDS = 0.005  # how often a request waiting for a key with room looks again
EMPTY_KEY_MESSAGE = "sources.liveagent.api_key is empty; set SOURCES__LIVEAGENT__API_KEY"


def api_keys(value: Any) -> tuple[str, ...]:
    """The keys of an `api_key` setting: one key, a TOML list of keys, or keys separated by
    commas (an environment variable; a JSON list there is read too). Duplicates count once."""
    if isinstance(value, str):
        text = value.strip()
        items: Any = _json_list(text) if text.startswith("[") else text.split(KEY_SEPARATOR)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        items = [] if value is None else [value]
    keys = [str(item).strip() for item in items if item is not None and str(item).strip()]
    return tuple(dict.fromkeys(keys))


def _json_list(text: str) -> list[Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return text.split(KEY_SEPARATOR)
    return found if isinstance(found, list) else [found]


def pool_per_minute(keys: int, requests_per_minute: float,
                    ip_requests_per_second: float | None = IP_REQUESTS_PER_SECOND) -> int:
    """The requests a minute `keys` keys make together at `requests_per_minute` each, held to
    the per-IP cap when there are several (one key's own rate, set by hand, is not: a lone key
    far above 180/min is a test's or a benchmark's)."""
    total = max(1, int(requests_per_minute)) * max(1, keys)
    if keys > 1 and ip_requests_per_second:
        return min(total, int(60 * ip_requests_per_second))
    return total


def key_limiter(requests_per_minute: float) -> Limiter:
    """One key's budget: the minute's requests spread over its seconds."""
    per_minute = max(1, int(requests_per_minute))
    per_second = max(1, -(-per_minute // 60))
    return Limiter([Rate(per_second, Duration.SECOND), Rate(per_minute, Duration.MINUTE)],
                   buffer_ms=LIMITER_BUFFER_MS)


@dataclass(eq=False)
class PooledKey:
    value: str = field(repr=False)
    name: str  # the masked form, for messages
    limiter: Limiter = field(repr=False)
    resting_until: float = 0.0  # monotonic time before which it takes no request (a 429)


class KeyPool:
    """The keys a client sends its requests with. `acquire` blocks until a key has room.

    `refused` holds the keys LiveAgent refused earlier in the run (a run makes a client per
    load): they are left out from the start, and a key refused here joins them, so that a
    revoked key costs a run one request and one line, not one per load."""

    def __init__(self, keys: tuple[str, ...], requests_per_minute: float,
                 ip_requests_per_second: float | None = IP_REQUESTS_PER_SECOND,
                 refused: set[str] | None = None) -> None:
        if not keys:
            raise ConfigurationError(EMPTY_KEY_MESSAGE)
        self._refused = refused if refused is not None else set()
        named = [PooledKey(key, masked_key(key, n, len(keys)), key_limiter(
            requests_per_minute)) for n, key in enumerate(keys, 1)]
        # all refused before: all are tried again, and the last refusal is the run's error
        self._keys = [key for key in named if key.value not in self._refused] or named
        self.all_keys = keys  # every configured key, refused ones too: all are secrets
        self.per_minute = pool_per_minute(len(keys), requests_per_minute, ip_requests_per_second)
        capped = self.per_minute < max(1, int(requests_per_minute)) * len(keys)
        self._ip_limiter = Limiter(Rate(self.per_minute // 60, Duration.SECOND),
                                   buffer_ms=LIMITER_BUFFER_MS) if capped else None
        self._lock = threading.Lock()
        self._next = 0
        self._untold: list[str] = []  # refusals to tell once another key is accepted

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._keys)

    def acquire(self) -> PooledKey:
        """A key with room for one more request (its permit taken)."""
        if len(self._keys) == 1 and self._ip_limiter is None:  # one key: wait on its limiter
            only = self._keys[0]
            self._wait_rest(only)
            only.limiter.try_acquire("liveagent")
            return only
        while True:
            key = self._try_each()
            if key is not None:
                if self._ip_limiter is not None:
                    self._ip_limiter.try_acquire("ip")
                return key
            time.sleep(POLL_SECONDS)

    def _try_each(self) -> PooledKey | None:
        with self._lock:
            keys, start = list(self._keys), self._next
        now = time.monotonic()
        for offset in range(len(keys)):
            key = keys[(start + offset) % len(keys)]
            if key.resting_until <= now and key.limiter.try_acquire("liveagent", blocking=False):
                with self._lock:
                    self._next = (start + offset + 1) % max(1, len(self._keys))
                return key
        return None

    def _wait_rest(self, key: PooledKey) -> None:
        pause = key.resting_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def rest(self, key: PooledKey, seconds: float) -> bool:
        """`key` was answered 429: it takes no request for `seconds`. Whether another key can
        take the request now (else the caller's retry waits, as with one key)."""
        with self._lock:
            key.resting_until = max(key.resting_until, time.monotonic() + seconds)
            now = time.monotonic()
            return any(other.resting_until <= now for other in self._keys if other is not key)

    def refuse(self, key: PooledKey, reason: str) -> bool:
        """LiveAgent refused `key`: it leaves the pool unless it is the last key (a warning
        line, once another key is accepted: `tell_refusals`). Whether other keys remain to
        send the request with."""
        with self._lock:
            if key in self._keys and len(self._keys) > 1:
                self._keys.remove(key)
                self._refused.add(key.value)
                left = len(self._keys)
                self._untold.append(
                    f"LiveAgent refused the API key {key.name} ({reason}); it leaves the pool, "
                    f"the run goes on with {left} other key{'' if left == 1 else 's'}")
            return key not in self._keys

    @property
    def refusals_untold(self) -> bool:
        return bool(self._untold)

    def tell_refusals(self) -> None:
        """A key was accepted: the refused ones are told, a warning line each. Not before:
        when every key is refused, the run's one-line error says it all."""
        with self._lock:
            lines, self._untold = self._untold, []
        for line in lines:
            log.warning(line)
