"""A benchmark-sized account: paging 100k conversations returns each exactly once, and the
fake's memory does not grow with the number of requests it serves."""

from __future__ import annotations

import gc

import pytest

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import NOW, Api

CONVERSATIONS = 100_000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def big_fake():
    account = Account(DatasetConfig(conversations=CONVERSATIONS, days=365, end=NOW),
                      clock=Clock(NOW))
    with FakeLiveAgent(account) as fake:
        yield fake


def test_paging_100k_conversations_returns_each_once_with_flat_memory(big_fake) -> None:
    api = Api(big_fake)
    seen: set[str] = set()
    cursor, pages, rss_after_warmup = None, 0, 0.0
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        rows = api.get("/api/conversations", **params)["conversations"]
        seen.update(r["conversationid"] for r in rows)
        pages += 1
        if pages == 10:
            gc.collect()
            rss_after_warmup = rss_mb()
        if len(rows) < 1000:
            break
        cursor = rows[-1]["cursor"]
    gc.collect()
    growth = rss_mb() - rss_after_warmup
    assert pages == 101 and len(seen) == CONVERSATIONS
    assert growth < 25, f"RSS grew {growth:.1f} MB over 91 pages"


def test_messages_of_many_conversations_keep_memory_flat(big_fake) -> None:
    api = Api(big_fake)
    account = big_fake.account
    step = CONVERSATIONS // 3000
    total = 0
    for n, index in enumerate(range(0, CONVERSATIONS, step)):
        groups = api.get(f"/api/conversations/{account.conversation_id(index)}/messages")
        total += sum(len(g["messages"]) for g in groups["groups"])
        if n == 500:
            gc.collect()
            baseline = rss_mb()
    gc.collect()
    assert rss_mb() - baseline < 25
    assert 4.5 <= total / 3000 <= 5.5  # the configured five messages per conversation
