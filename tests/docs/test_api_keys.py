"""docs/api-keys.md as written: a pool of keys given in the environment, then `plan`, against
the fake with three keys; and the page's plan transcript against what `plan` prints with one
key (its figures taken out: the page shows the benchmark's year-long account)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import NOW, ZONE, doc_block, doc_env, run_doc_block

KEYS = ("docs-pool-key-one-7a6b5c4d", "docs-pool-key-two-7a6b5c4d", "docs-pool-key-3-7a6b5c4d")
PAGE_KEYS = "first-api-v1-key,second-api-v1-key,third-api-v1-key"
OPTIONS = " [--account NAME] [--start-date D]"  # the synopsis' optional part


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLiveAgent]:
    account = Account(DatasetConfig(conversations=120, days=60, end=NOW), clock=Clock(NOW),
                      timezone=ZONE, api_key=KEYS[0], more_api_keys=KEYS[1:])
    with FakeLiveAgent(account) as fake:
        yield fake


def plan_env(fake: FakeLiveAgent, tmp_path: Path, **variables: str) -> dict[str, str]:
    return doc_env(tmp_path / "dlt", SOURCES__LIVEAGENT__BASE_URL=fake.url,
                   SOURCES__LIVEAGENT__TIMEZONE=ZONE, **variables)


def shape(transcript: str) -> list[str]:
    """The lines with every figure (counts, dates, the URL's address) and duration taken out."""
    lines = (re.sub(r"\d[\d,.:]*", "N", line) for line in transcript.splitlines())
    return [" ".join(re.sub(r"~(N[hms])+", "~T", line).split()) for line in lines]


def test_a_pool_given_in_the_environment_plans_at_the_pools_rate(
        fake: FakeLiveAgent, tmp_path: Path) -> None:
    pool, plan = doc_block("key-pool-env"), doc_block("plan")
    script = dataclasses.replace(pool, text=pool.text + plan.text.replace(OPTIONS, ""))
    done = run_doc_block(script, tmp_path, plan_env(fake, tmp_path),
                         {PAGE_KEYS: ",".join(KEYS)})
    assert done.returncode == 0, done.stdout
    assert "at 540/min (3 keys at 180/min)" in done.stdout, done.stdout
    assert not any(key in done.stdout for key in KEYS)
    assert set(fake.stats.snapshot()["by_key"]) == {"key 1", "key 2", "key 3"}  # all used


def test_the_plan_prints_what_the_page_shows(fake: FakeLiveAgent, tmp_path: Path) -> None:
    plan = doc_block("plan").text.replace(OPTIONS, "")
    done = run_doc_block(dataclasses.replace(doc_block("plan"), text=plan), tmp_path,
                         plan_env(fake, tmp_path, SOURCES__LIVEAGENT__API_KEY=KEYS[0]))
    assert done.returncode == 0, done.stdout
    assert shape(done.stdout) == shape(doc_block("plan-transcript").text)
