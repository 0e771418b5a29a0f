"""Random server faults at a set rate: every request eventually succeeds through retries and the
warehouse ends exactly equal to the fake (and to a run that saw no fault at all)."""

from __future__ import annotations

from collections import Counter

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import Api
from tests.warehouse import Warehouse, assert_conversation_family_equal, duckdb_tables

FAULTS = [("status", {"status": 500}), ("status", {"status": 503}), ("status", {"status": 429}),
          ("html", {"status": 502}), ("truncate", {}), ("slow", {"delay": 2.0}), ("drop", {})]


def test_random_faults_leave_the_warehouse_exact(
    run_cli, fake: FakeLiveAgent, account: Account, api: Api, warehouse: Warehouse,
    configured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs with faults, each beside a run without faults into another file at the same
    moment: the two warehouses end equal, and the conversations equal the fake."""
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "0.5")
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUEST_TIMEOUT", "1")  # "slow" is past it
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "10")
    faulted: Counter = Counter()

    def both_runs() -> None:
        for kind, options in FAULTS:
            fake.faults.add(kind, probability=0.03, **options)
        assert run_cli("--progress-every", "0") == 0
        faulted.update(e.fault for e in fake.log.entries() if e.fault)
        fake.faults.clear()
        assert run_cli("--progress-every", "0", "--duckdb-path", "clean.duckdb") == 0

    both_runs()
    ref = account.conversation_id
    account.clock.advance(120)
    account.set_status(ref(1), "R")
    agent = account.entities.agents[0].email
    account.add_message(ref(2), "after the first run", useridentifier=agent)
    account.create_conversation("Another", "Hi", owner=2)
    both_runs()

    assert sum(faulted.values()) >= 40 and set(faulted) == {kind for kind, _ in FAULTS}
    assert_conversation_family_equal(api, warehouse)
    clean = duckdb_tables(Warehouse(str(configured / "clean.duckdb")))
    faulty = duckdb_tables(warehouse)
    assert set(faulty) == set(clean)
    for table in clean:
        if table == "agent_online_status":  # snapshot times differ between the two pipelines
            assert set(faulty[table]) == set(clean[table])
        else:
            assert faulty[table] == clean[table], table
