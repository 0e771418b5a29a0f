from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.postgres_server import (
    OWN_POSTGRES_PASSWORD,
    REQUIRE_ENV,
    PostgresUnavailable,
    postgres_server,
)
from tests.support import Api
from tests.warehouse import Target, drop_postgres_schemas

# dlt's anonymous usage telemetry would try the network from every test run
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def fake(account: Account) -> Iterator[FakeLiveAgent]:
    """The fake served over HTTP; each test package defines the `account` it serves."""
    with FakeLiveAgent(account) as server:
        yield server


@pytest.fixture
def api(fake: FakeLiveAgent) -> Api:
    return Api(fake)


def _serve_postgres(own: bool) -> Iterator[str]:
    try:
        with postgres_server(own) as dsn:
            yield dsn
    except PostgresUnavailable as error:
        message = f"no Postgres server available: {error}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}")
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A real Postgres server for the session (see tests/postgres_server.py)."""
    yield from _serve_postgres(own=False)


@pytest.fixture
def own_postgres_dsn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Postgres server of this test's own (it may kill it), with credentials set the dlt
    way; the password is one nothing else contains (the server trusts local connections)."""
    for dsn in _serve_postgres(own=True):
        dsn = dsn.replace("postgres:postgres@", f"postgres:{OWN_POSTGRES_PASSWORD}@")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
        yield dsn


@pytest.fixture
def postgres_schema(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A schema name no other test uses (the server is shared by the session: a name used
    twice would hand the second test the first one's state), with the credentials set the
    dlt way; its schemas are dropped afterwards."""
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn)
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    drop_postgres_schemas(postgres_dsn, name)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, configured: Path) -> Target:
    """Where a CLI test loads, once per destination (`configured`: each package's own)."""
    if request.param == "duckdb":
        return Target("duckdb", str(configured / "warehouse.duckdb"))
    return Target("postgres", request.getfixturevalue("postgres_dsn"),
                  request.getfixturevalue("postgres_schema"))
