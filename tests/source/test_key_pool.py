"""A pool of API keys: each key's own budget, 429s and refusals per key, against the fake over
real HTTP with LiveAgent's per-key limit."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.client import LiveAgentClient, RequestMetrics, with_key
from sources.liveagent.exceptions import AuthenticationError, ConfigurationError
from sources.liveagent.key_pool import KeyPool, api_keys, pool_per_minute
from sources.liveagent.redaction import masked_key
from tests.support import NOW

KEYS = ("pool-key-one-0123456789abcdef", "pool-key-two-0123456789abcdef",
        "pool-key-three-0123456789abcdef")
PER_KEY = 1200.0  # the fake's limit per key and the client's: 20 a second
REQUESTS = 60


@pytest.fixture
def account() -> Account:
    return Account(DatasetConfig(conversations=5, days=30, end=NOW), clock=Clock(NOW),
                   api_key=KEYS[0], more_api_keys=KEYS[1:])


@pytest.fixture
def limited(account: Account) -> FakeLiveAgent:
    with FakeLiveAgent(account, requests_per_minute=PER_KEY, burst=PER_KEY / 60,
                       limit_per_key=True) as fake:
        yield fake


def client(fake: FakeLiveAgent, keys: tuple[str, ...] | str, per_minute: float = PER_KEY,
           metrics: RequestMetrics | None = None) -> LiveAgentClient:
    return LiveAgentClient(fake.url, keys, per_minute, request_timeout=10, max_attempts=4,
                           max_connections=8, metrics=metrics)


def read_tags(pool: LiveAgentClient, times: int = REQUESTS) -> float:
    """Seconds `times` reads of /tags took over 8 threads."""
    pool.get("tags")  # the probe and a first read
    started = time.monotonic()
    with ThreadPoolExecutor(8) as threads:
        list(threads.map(lambda _: pool.get("tags"), range(times)))
    return time.monotonic() - started


def by_key(fake: FakeLiveAgent) -> dict[str, dict[str, int]]:
    return fake.stats.snapshot()["by_key"]


def test_the_keys_of_a_setting() -> None:
    assert api_keys("one") == ("one",)
    assert api_keys(" one, two ,,three ") == ("one", "two", "three")
    assert api_keys(["one", "two", "one"]) == ("one", "two")
    assert api_keys('["one", "two"]') == ("one", "two")  # dlt's way of a list in a variable
    assert api_keys(None) == api_keys("") == api_keys(" , ") == ()
    with pytest.raises(ConfigurationError, match="api_key is empty"):
        KeyPool(api_keys(" , "), 180)


def test_a_key_is_named_by_its_masked_form() -> None:
    assert masked_key(KEYS[1], 2, 3) == "key 2 of 3 (...cdef)"
    assert masked_key("short-key", 1, 2) == "key 1 of 2"  # a short key shows nothing of it


def test_the_key_replaces_any_in_the_url() -> None:
    assert with_key("http://h/api/tags", "a b") == "http://h/api/tags?apikey=a+b"
    assert with_key("http://h/api/tags?apikey=x&limit=1", "k") == \
        "http://h/api/tags?limit=1&apikey=k"
    assert with_key("http://h/api/tags?limit=1&apikey=x", "k") == \
        "http://h/api/tags?limit=1&apikey=k"


def test_the_pool_spreads_requests_over_its_keys_at_the_sum_of_their_limits(
        limited: FakeLiveAgent) -> None:
    one = read_tags(client(limited, KEYS[0]))
    assert by_key(limited) == {"key 1": {"200": REQUESTS + 2}}
    time.sleep(1.0)  # the fake's bucket of key 1 fills up again (a second's worth)
    limited.stats.reset()
    three = read_tags(client(limited, KEYS))
    counts = by_key(limited)
    assert {key: set(statuses) for key, statuses in counts.items()} == \
        {"key 1": {"200"}, "key 2": {"200"}, "key 3": {"200"}}  # no 429 on any key
    served = sorted(statuses["200"] for statuses in counts.values())
    assert sum(served) == REQUESTS + 2 and served[-1] - served[0] <= 2  # the probe, a read
    # 60 reads at 20/s take ~2 s on one key (after its burst of 20), ~0.5 s on three
    assert three < one / 2


def test_a_429_rests_that_key_only(account: Account) -> None:
    with FakeLiveAgent(account, requests_per_minute=PER_KEY, burst=PER_KEY / 60,
                       limit_per_key=True) as fake:
        session = requests.Session()
        # another program spends the second key's budget: the fake answers it 429 for a while
        while session.get(f"{fake.url}/api/tags", params={"apikey": KEYS[1]},
                          timeout=10).status_code != 429:
            pass
        fake.stats.reset()
        pool = client(fake, KEYS[:2])
        read_tags(pool, 20)
        counts = by_key(fake)
    assert counts["key 2"].get("429", 0) == 1  # it rested instead of being asked again
    assert counts["key 1"].get("429", 0) == 0
    assert counts["key 1"]["200"] + counts["key 2"].get("200", 0) == 22
    assert pool.metrics.bad_answers == {"HTTP 429": 1}


def test_a_refused_key_leaves_the_pool_with_one_warning(
        limited: FakeLiveAgent, account: Account, caplog: pytest.LogCaptureFixture) -> None:
    account.revoke_api_key(KEYS[1])
    run = RequestMetrics()  # a run's counters, shared by the client of each of its loads
    with caplog.at_level(logging.WARNING, logger="sources.liveagent.key_pool"):
        pool = client(limited, KEYS, metrics=run)
        read_tags(pool, 20)
        next_load = client(limited, KEYS, metrics=run)  # leaves the refused key out
        read_tags(next_load, 20)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("LiveAgent refused the API key key 2 of 3 (...cdef) (HTTP 401)")
    assert "goes on with 2 other keys" in warning and KEYS[1] not in warning
    assert pool.keys.size == next_load.keys.size == 2
    assert by_key(limited)["key 2"] == {"401": 1}


def test_all_keys_refused_is_the_usual_error(
        limited: FakeLiveAgent, account: Account, caplog: pytest.LogCaptureFixture) -> None:
    for key in KEYS[1:]:
        account.revoke_api_key(key)
    pool = client(limited, ("not-a-key-of-this-account", *KEYS[1:]))
    with pytest.raises(AuthenticationError, match="rejected the API key") as raised:
        pool.get("tags")
    assert not any(key in str(raised.value) for key in KEYS)
    assert caplog.records == []  # the error says it all: no line per refused key


def test_several_keys_are_held_to_the_per_ip_cap() -> None:
    assert pool_per_minute(3, 180) == 540
    assert pool_per_minute(2, 600_000) == 300 * 60  # LiveAgent's 300 a second per address
    assert pool_per_minute(1, 1_000_000) == 1_000_000  # one key: the rate it was given
    pool = KeyPool(KEYS, 60_000, ip_requests_per_second=20)
    started = time.monotonic()
    for _ in range(30):
        pool.acquire()
    assert time.monotonic() - started >= 0.9  # 20 a second, not the keys' 3,000
