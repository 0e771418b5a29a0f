from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.liveagent_pipeline import main
from tests.support import ZONE, configure, make_account
from tests.warehouse import Warehouse


@pytest.fixture
def account() -> Account:
    return make_account(conversations=120, timezone=ZONE)


@pytest.fixture
def configured(fake: FakeLiveAgent, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Environment as a user would set it for this fake account; returns the work dir."""
    return configure(monkeypatch, fake, tmp_path)


@pytest.fixture
def run_cli(configured: Path) -> Callable[..., int]:
    def run(*args: str) -> int:
        return main(["run", "--pipelines-dir", str(configured / "pipelines"), *args])
    return run


@pytest.fixture
def warehouse(configured: Path) -> Warehouse:
    return Warehouse(str(configured / "warehouse.duckdb"))
