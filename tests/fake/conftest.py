from __future__ import annotations

import pytest

from liveagent_fake.models import Account
from tests.support import make_account


@pytest.fixture
def account() -> Account:
    return make_account()
