"""Clocks: the hours DST changes repeat or skip, an account clock far from the machine's, a
start date in the future, and a configured time zone the account's clock contradicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone

import pytest

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from tests.support import ZONE
from tests.warehouse import Warehouse

UTC = timezone.utc
# 2025-10-26 in Europe/Bratislava: 03:00 CEST goes back to 02:00 CET; 02:00-02:59 happens twice
FIRST_PASS = int(datetime(2025, 10, 26, 0, 45, tzinfo=UTC).timestamp())  # 02:45 CEST
SECOND_PASS = int(datetime(2025, 10, 26, 1, 10, tzinfo=UTC).timestamp())  # 02:10 CET
# 2025-03-30: 02:00 CET jumps to 03:00 CEST; 02:00-02:59 never happens
BEFORE_JUMP = int(datetime(2025, 3, 30, 0, 59, 30, tzinfo=UTC).timestamp())  # 01:59:30 CET
AFTER_JUMP = int(datetime(2025, 3, 30, 1, 0, 10, tzinfo=UTC).timestamp())  # 03:00:10 CEST


def account_at(now: int, conversations: int = 40) -> Account:
    return Account(DatasetConfig(conversations=conversations, days=10, end=now - 3600),
                   clock=Clock(now), timezone=ZONE)


def status_of(warehouse: Warehouse, conversationid: str) -> str:
    return warehouse.scalar("SELECT status FROM {ds}.conversations "
                            f"WHERE conversationid = '{conversationid}'")


class TestTheRepeatedHour:
    @pytest.fixture
    def account(self) -> Account:
        return account_at(FIRST_PASS)

    def test_a_change_in_the_second_pass_is_not_lost(
        self, run_cli: Callable[..., int], account: Account, warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("SOURCES__LIVEAGENT__START_DATE", "2025-10-01")
        ref = account.conversation_id
        account.set_status(ref(1), "R", at=FIRST_PASS)  # the high-water mark: 02:45, first pass
        assert run_cli("--resources", "conversations") == 0
        assert status_of(warehouse, ref(1)) == "R"
        account.clock.advance(SECOND_PASS - FIRST_PASS)
        account.set_status(ref(2), "A", at=SECOND_PASS)  # listed as 02:10: before 02:45?
        assert run_cli("--resources", "conversations") == 0
        assert status_of(warehouse, ref(2)) == "A"
        account.clock.advance(3600)  # an hour later, past the repeated hour
        account.set_status(ref(3), "R")
        assert run_cli("--resources", "conversations") == 0
        assert status_of(warehouse, ref(3)) == "R" and status_of(warehouse, ref(2)) == "A"


class TestTheSkippedHour:
    @pytest.fixture
    def account(self) -> Account:
        return account_at(BEFORE_JUMP)

    def test_changes_across_the_jump_are_read_once_each(
        self, run_cli: Callable[..., int], fake, account: Account, warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("SOURCES__LIVEAGENT__START_DATE", "2025-03-25")
        ref = account.conversation_id
        account.set_status(ref(1), "R", at=BEFORE_JUMP)
        assert run_cli("--resources", "conversations") == 0
        account.clock.advance(AFTER_JUMP - BEFORE_JUMP)
        account.set_status(ref(2), "A", at=AFTER_JUMP)  # 03:00:10, forty seconds later
        fake.log.clear()
        assert run_cli("--resources", "conversations") == 0
        assert status_of(warehouse, ref(2)) == "A"
        assert len(fake.log.select(path="/messages$")) == 1  # nothing else read again


class TestTheAccountClock:
    def test_report_history_counts_back_from_the_accounts_today(
        self, run_cli: Callable[..., int], account: Account, warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The fake's clock stands in 2025 while this machine's is later."""
        monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
        for _ in range(6):  # the newest 30 days, then 14 older days a run
            assert run_cli("--resources", "report_tags") == 0
        days = warehouse.rows("report_tags", "min(report_date) AS first, "
                              "max(report_date) AS last")[0]
        assert days == {"first": date(2025, 7, 11), "last": date(2025, 10, 9)}

    @pytest.mark.parametrize("option", ["--start-date", "--end-date"])
    def test_a_start_date_after_the_accounts_clock_is_refused_and_stores_nothing(
        self, run_cli: Callable[..., int], warehouse: Warehouse, option: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        future = ("--start-date", "2025-12-01") if option == "--start-date" else \
            ("--start-date", "2025-12-01", "--end-date", "2025-12-05")
        assert run_cli(*future) == 2
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert "the start date 2025-12-01" in line and "after the account's" in line
        assert run_cli("--resources", "conversations") == 0  # nothing was poisoned
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


class TestTheTimeZone:
    @pytest.fixture
    def account(self) -> Account:
        return Account(DatasetConfig(conversations=20, days=5), clock=Clock(),
                       timezone="Europe/Bratislava")  # the account's clock runs in real time

    def test_a_zone_the_accounts_clock_contradicts_is_refused(
        self, run_cli: Callable[..., int], warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
        monkeypatch.setenv("SOURCES__LIVEAGENT__TIMEZONE", "GMT")
        assert run_cli("--resources", "tags") == 2
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert "sources.liveagent.timezone is GMT (UTC+00:00 now)" in line
        assert "Europe/Bratislava" in line or " more" in line
        assert "tags" not in warehouse.tables()
        monkeypatch.setenv("SOURCES__LIVEAGENT__CHECK_TIMEZONE", "false")  # clock known off
        assert run_cli("--resources", "tags") == 0

    def test_the_right_zone_passes(
        self, run_cli: Callable[..., int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("SOURCES__LIVEAGENT__START_DATE")
        assert run_cli("--resources", "tags") == 0
