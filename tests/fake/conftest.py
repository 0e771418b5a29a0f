from __future__ import annotations

from collections.abc import Iterator

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from tests.support import Api, make_account


@pytest.fixture
def account() -> Account:
    return make_account()


@pytest.fixture
def fake(account: Account) -> Iterator[FakeLiveAgent]:
    with FakeLiveAgent(account) as server:
        yield server


@pytest.fixture
def api(fake: FakeLiveAgent) -> Api:
    return Api(fake)
