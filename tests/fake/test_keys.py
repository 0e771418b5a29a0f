"""The fake's API keys: several per account, limits per key and per client address, and the
hook that revokes a key mid-run."""

from __future__ import annotations

import requests

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import REVOKE_PATH, FakeLiveAgent
from tests.support import NOW

KEYS = ("first-key", "second-key")


def account() -> Account:
    return Account(DatasetConfig(conversations=3, days=7, end=NOW), clock=Clock(NOW),
                   api_key=KEYS[0], more_api_keys=KEYS[1:])


def statuses(fake: FakeLiveAgent, key: str, times: int) -> list[int]:
    session = requests.Session()
    return [session.get(f"{fake.url}/api/tags", params={"apikey": key}, timeout=10).status_code
            for _ in range(times)]


def test_each_key_has_its_own_limit() -> None:
    with FakeLiveAgent(account(), requests_per_minute=60, burst=3, limit_per_key=True) as fake:
        assert statuses(fake, KEYS[0], 4) == [200, 200, 200, 429]
        assert statuses(fake, KEYS[1], 4) == [200, 200, 200, 429]
        assert fake.stats.snapshot()["by_key"] == {"key 1": {"200": 3, "429": 1},
                                                   "key 2": {"200": 3, "429": 1}}


def test_by_default_the_limit_is_shared_by_all_keys() -> None:
    with FakeLiveAgent(account(), requests_per_minute=60, burst=3) as fake:
        assert statuses(fake, KEYS[0], 2) + statuses(fake, KEYS[1], 2) == [200, 200, 200, 429]


def test_the_limit_per_client_address_holds_whatever_the_keys() -> None:
    with FakeLiveAgent(account(), ip_requests_per_second=2) as fake:
        assert statuses(fake, KEYS[0], 2) + statuses(fake, KEYS[1], 1) == [200, 200, 429]


def test_a_revoked_key_is_refused_from_then_on() -> None:
    with FakeLiveAgent(account()) as fake:
        revoke = f"{fake.url}{REVOKE_PATH}"
        assert requests.post(revoke, data={"key": KEYS[1]}, timeout=10).status_code == 200
        assert requests.post(revoke, data={"key": KEYS[1]}, timeout=10).status_code == 404
        assert statuses(fake, KEYS[1], 1) == [401]
        assert statuses(fake, KEYS[0], 1) == [200]
        assert fake.stats.snapshot()["total"] == 2  # the hook itself is not counted
