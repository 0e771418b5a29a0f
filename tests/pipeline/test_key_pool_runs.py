"""Runs with a pool of API keys: a key revoked mid-run costs one warning line and no data;
all keys refused is the usual one-line error; no key anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.errors import failure_line, known_secrets
from tests.support import NOW, ZONE, Api, assert_nowhere
from tests.warehouse import Warehouse, assert_conversation_family_equal

KEYS = ("run-pool-key-one-5f4e3d2c1b0a", "run-pool-key-two-5f4e3d2c1b0a",
        "run-pool-key-three-5f4e3d2c1b0a")
REVOKED_AFTER = 60  # requests the fake answered before the admin deletes the second key


@pytest.fixture
def account() -> Account:
    return Account(DatasetConfig(conversations=120, days=30, end=NOW), clock=Clock(NOW),
                   timezone=ZONE, api_key=KEYS[0], more_api_keys=KEYS[1:])


def revoke_when_answered(fake: FakeLiveAgent, key: str, requests: int) -> threading.Event:
    """Deletes `key` once the fake has answered `requests` requests (set when done)."""
    done = threading.Event()

    def watch() -> None:
        while fake.stats.snapshot()["total"] < requests and not done.wait(0.001):
            pass
        fake.account.revoke_api_key(key)
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    return done


def cli(work: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`liveagent-pipeline run` in a process of its own, its stderr as a terminal shows it."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.liveagent_pipeline", "run", "--progress-every", "0",
         "--pipelines-dir", str(work / "pipelines"), *args],
        cwd=work, capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def test_a_key_revoked_mid_run_costs_one_line_and_no_data(
        fake: FakeLiveAgent, configured: Path, warehouse: Warehouse) -> None:
    revoked = revoke_when_answered(fake, KEYS[1], REVOKED_AFTER)
    result = cli(configured, SOURCES__LIVEAGENT__API_KEY=",".join(KEYS))
    assert result.returncode == 0, result.stderr[-2000:]
    assert revoked.is_set()
    by_key = fake.stats.snapshot()["by_key"]
    assert by_key["key 2"]["200"] > 0 and by_key["key 2"]["401"] == 1  # used, then refused
    assert set(by_key["key 1"]) == set(by_key["key 3"]) == {"200"}
    assert result.stderr.splitlines() == [
        "LiveAgent refused the API key key 2 of 3 (...1b0a) (HTTP 401); it leaves the pool, "
        "the run goes on with 2 other keys"]
    assert_conversation_family_equal(Api(fake), warehouse)
    history = warehouse.rows("run_history")
    assert [row["outcome"] for row in history] == ["loaded"]
    assert_nowhere(list(KEYS), configured, result.stdout, result.stderr, str(history))


def test_all_keys_refused_is_one_line_and_exit_2(fake: FakeLiveAgent, configured: Path) -> None:
    (configured / ".dlt").mkdir()  # read by a new process: dlt keeps a process's first reading
    (configured / ".dlt" / "secrets.toml").write_text(
        f'[liveagent.accounts.acme]\napi_key = ["{KEYS[1]}", "not-one-of-its-keys-4d3c2b1a"]\n')
    fake.account.revoke_api_key(KEYS[1])
    result = cli(configured, "--account", "acme")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "liveagent-pipeline: LiveAgent rejected the API key (401 Invalid API key); check "
        "liveagent.accounts.acme.api_key (LIVEAGENT__ACCOUNTS__ACME__API_KEY)"]
    # (the keys are in .dlt/secrets.toml, where the user put them)
    assert_nowhere([*KEYS, "not-one-of-its-keys-4d3c2b1a"], configured / "pipelines",
                   result.stdout)


def test_every_key_of_a_pool_is_a_known_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__API_KEY", ",".join(KEYS[:2]))
    assert known_secrets() == list(KEYS[:2])
    error = RuntimeError(f"keys {KEYS[0]}, {KEYS[1]} and {KEYS[2]} echoed")  # no apikey=
    line = failure_line(error, api_key=[KEYS[2]])
    assert not any(key in line for key in KEYS), line
