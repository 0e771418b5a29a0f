from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.runner import RunOptions, make_pipeline, run_pipeline
from pipelines.transform import TransformResult, transform
from tests.analytics.oracle import Target
from tests.support import NOW, make_account

ZONE = "Europe/Bratislava"
UNRECORDED = range(100, 110)  # conversations whose history rows the tests remove
UNREPORTED_DAY = "2025-09-20"  # a day whose report rows the tests remove
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
HOLIDAYS = ["2025-09-15", "2025-09-29"]  # two Mondays of the loaded month


def business_hours(departments: list[str]) -> dict:
    """Three schedules: the account's office hours with holidays; the second department in
    Sydney, across the change to daylight-saving time on Sunday 2025-10-05 (02:00 -> 03:00:
    that night's 00:00-06:00 lasts five hours); the third open around the clock."""
    return {
        "hours": {day: ["08:00-12:00", "13:00-17:00"] for day in WEEKDAYS},
        "holidays": HOLIDAYS,
        "departments": {
            departments[1]: {"timezone": "Australia/Sydney", "holidays": [],
                             "hours": {"mon": ["09:00-18:00"], "wed": ["09:00-18:00"],
                                       "sat": ["10:00-14:00"], "sun": ["00:00-06:00"]}},
            departments[2]: {"hours": {day: ["00:00-24:00"] for day in
                                       (*WEEKDAYS, "sat", "sun")}, "holidays": []},
        },
    }
AS_OF = datetime.fromtimestamp(NOW + 420, timezone.utc)  # the fake's clock after the changes


@contextmanager
def analyst_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   dataset: str) -> Iterator[tuple[RunOptions, str]]:
    """The run options of a module's target (the destination `request.param`), and its DuckDB
    path or Postgres DSN, with the environment Postgres needs set meanwhile."""
    destination = request.param
    work: Path = tmp_path_factory.mktemp(destination)
    with pytest.MonkeyPatch.context() as env:
        locate = str(work / "warehouse.duckdb")
        if destination == "postgres":
            locate = request.getfixturevalue("postgres_dsn")
            env.setenv("DESTINATION__POSTGRES__CREDENTIALS", locate)
        # the tests change the warehouse between the load and dbt, so DuckDB is loaded in
        # place (a read copy would be published before they change it)
        yield RunOptions(destination=destination, dataset=dataset, duckdb_path=locate,
                         pipelines_dir=str(work / "pipelines"), full_refresh=True,
                         read_copy=False), locate


def change_the_account(account: Account) -> None:
    """What agents and customers do between two runs: resolve, reopen, move, trash."""
    ref, agent = account.conversation_id, account.entities.agents[0].email
    account.clock.advance(300)
    open_ones = [i for i in range(100) if account.record(i).status in "NCA"]
    account.set_status(ref(open_ones[0]), "R", useridentifier=agent)
    account.set_status(ref(open_ones[1]), "R", useridentifier=agent)
    account.clock.advance(60)
    account.add_message(ref(open_ones[1]), "still broken", from_customer=True)
    account.set_status(ref(open_ones[1]), "C")  # reopened
    account.set_status(ref(open_ones[2]), "X")  # to the trash
    account.clock.advance(60)


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Target, TransformResult]]:
    """The fake account loaded twice (the second run sees the changes above) and the analyst
    layer built on it, as of the fake's clock."""
    destination, dataset = request.param, "liveagent_marts"
    with analyst_target(request, tmp_path_factory, dataset) as (options, locate):
        departments = [d.id for d in make_account(conversations=120).entities.departments]
        schedule = business_hours(departments)
        account = make_account(conversations=120, timezone=ZONE, business_hours=schedule)
        with FakeLiveAgent(account) as fake:
            source = {"base_url": fake.url, "api_key": fake.api_key, "timezone": ZONE,
                      "start_date": "2025-09-09", "requests_per_minute": 1e6}
            run_pipeline(options, **source)
            change_the_account(account)
            options.full_refresh = False
            run_pipeline(options, **source)
        target = Target(destination, dataset, locate)
        # as if the history had started after these conversations' last change
        target.execute("DELETE FROM {ds}.conversation_status_history WHERE conversationid IN "
                       f"({', '.join(repr(account.conversation_id(i)) for i in UNRECORDED)})")
        # as if the reports of one day had never been loaded
        for table in ("report_performance", "report_agents"):
            target.execute(f"DELETE FROM {{ds}}.{table} WHERE report_date = '{UNREPORTED_DAY}'")
        result = transform(make_pipeline(options), ZONE, as_of=AS_OF.isoformat(),
                           strict_codes=True, business_hours=schedule)
        yield target, result
