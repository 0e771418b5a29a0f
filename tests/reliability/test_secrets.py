"""The API key never appears in stdout, stderr, logs, exception text, load packages, pipeline
state or any table, including on errors; agents' auth tokens are never loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import NOW, ZONE, assert_nowhere
from tests.warehouse import Warehouse

KEY = "SECRET-KEY-9f8e7d6c5b4a"
LOGGED_RUN = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
              "from pipelines.liveagent_pipeline import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture
def account() -> Account:
    return Account(DatasetConfig(conversations=40, days=30, end=NOW), clock=Clock(NOW),
                   timezone=ZONE, api_key=KEY)


def logged_run(configured: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The CLI with every logger at DEBUG, as an orchestrator capturing all logs would run it."""
    environment = {**os.environ, "SOURCES__LIVEAGENT__API_KEY": KEY,
                   "RUNTIME__LOG_LEVEL": "DEBUG", **env}
    return subprocess.run(
        [sys.executable, "-c", LOGGED_RUN, "run", "--progress-every", "1", "--debug",
         "--pipelines-dir", str(configured / "pipelines"), *args],
        cwd=configured, env=environment, capture_output=True, text=True, timeout=300,
    )


def warehouse_text(warehouse: Warehouse) -> str:
    return "".join(str(warehouse.rows(table)) for table in sorted(warehouse.tables()))


def test_a_logged_run_and_its_files_never_show_the_key_or_agent_tokens(
    fake: FakeLiveAgent, account: Account, configured: Path, warehouse: Warehouse
) -> None:
    result = logged_run(configured)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "urllib3.connectionpool" in result.stderr and "apikey=***" in result.stderr
    assert "extract done in" in result.stderr  # the debug log and progress were captured
    tokens = [agent.authtoken for agent in account.entities.agents]
    assert_nowhere([KEY, *tokens], configured, result.stdout, result.stderr)
    loaded = warehouse_text(warehouse)
    assert "conversations" in warehouse.tables() and account.conversation_id(0) in loaded
    for secret in (KEY, *tokens):
        assert secret not in loaded


@pytest.mark.parametrize("case", ["server keeps failing", "wrong key", "unreachable",
                                  "redirected with the key"])
def test_failures_never_show_the_key(
    fake: FakeLiveAgent, configured: Path, case: str
) -> None:
    env, args = {}, ()
    if case == "server keeps failing":  # the only table read: the run fails (not exit 4)
        fake.faults.add("status", status=500, path="/api/conversations$")
        env, args = {"SOURCES__LIVEAGENT__MAX_ATTEMPTS": "2"}, ("--resources", "conversations")
    elif case == "wrong key":
        env = {"SOURCES__LIVEAGENT__API_KEY": "WRONG-KEY-0a1b2c3d"}
    elif case == "redirected with the key":  # Location carries the query string, key and all
        fake.faults.add("redirect", location="https://acme.ladesk.example")
    else:
        env = {"SOURCES__LIVEAGENT__BASE_URL": "http://127.0.0.1:9"}
    result = logged_run(configured, *args, **env)
    assert result.returncode in (1, 2)
    assert "Traceback" in result.stderr  # --debug: the traceback is shown, redacted
    assert any(line.startswith("liveagent-pipeline: ") for line in result.stderr.splitlines())
    assert_nowhere([KEY, "WRONG-KEY-0a1b2c3d"], configured, result.stdout, result.stderr)


# URL metacharacters between distinctive fragments: any fragment left anywhere is a leak
FRAGMENTS = ("Qx7Wp2", "Zr4pLm", "Mv8kTy", "Tn2bQs", "Hy6cVw", "Ld3fGh", "Jk5sNe")
METACHARACTER_KEY = 'Qx7Wp2&Zr4pLm=Mv8kTy/ Tn2bQs+Hy6cVw%Ld3fGh"Jk5sNe'


def echoed_forms(key: str) -> list[str]:
    """The key as a server may echo it: raw, URL-encoded either way, JSON- and PHP-escaped."""
    return [key, quote(key), quote(key, safe=""), quote_plus(key), json.dumps(key)[1:-1],
            json.dumps(key)[1:-1].replace("/", "\\/").replace("&", "\\u0026")]


def test_a_key_with_url_metacharacters_echoed_back_in_an_error_is_masked(
    fake: FakeLiveAgent, configured: Path
) -> None:
    fake.account.api_key = METACHARACTER_KEY  # the fake accepts any key string
    echo = " ".join(f"GET /api/conversations?apikey={form}&limit=1000"
                    for form in echoed_forms(METACHARACTER_KEY))
    fake.faults.add("mutate", path="/api/conversations$", transform=lambda payload: {
        "response": {"status": "ERROR", "statuscode": 400, "errormessage": f"Bad request {echo}"}})
    result = logged_run(configured, "--resources", "conversations",
                        SOURCES__LIVEAGENT__API_KEY=METACHARACTER_KEY)
    assert result.returncode == 1, result.stderr[-2000:]
    # the only table read failed: "no table could be read: conversations, ...: LiveAgent ..."
    assert "liveagent-pipeline: no table could be read: " in result.stderr
    assert ": LiveAgent refused conversations (error 400 under HTTP 200: Bad " \
        "request GET /api/conversations?apikey=***&limit=1000 GET" in result.stderr
    assert fake.log.select(path="/api/application/status")  # the key itself was accepted
    assert_nowhere(list(FRAGMENTS), configured, result.stdout, result.stderr)


def test_a_base_url_with_a_password_is_refused_and_shown_nowhere(
    fake: FakeLiveAgent, configured: Path
) -> None:
    url = fake.url.replace("http://", "http://loader:Pw-3e5f7a9c@")
    result = logged_run(configured, SOURCES__LIVEAGENT__BASE_URL=url)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "liveagent-pipeline: sources.liveagent.base_url must not contain a user name or " \
        "password" in result.stderr
    assert fake.log.total == 0
    assert_nowhere(["Pw-3e5f7a9c", "loader:"], configured, result.stdout, result.stderr)
