"""Rows LiveAgent sent without a creation time (MySQL's zero date `0000-00-00 00:00:00`, or an
empty value) load with NULL there (README: Odd data), and the analyst layer builds and passes
its tests on them, in DuckDB and Postgres, counting them as the README's "Rows without a
creation time" says: in every per-conversation figure that needs no creation time, on no day
for what does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.runner import make_pipeline, run_pipeline
from pipelines.transform import TransformResult, transform
from tests.analytics.conftest import ZONE, analyst_target
from tests.analytics.oracle import Target
from tests.support import NOW, make_account

UNDATED = {0: "0000-00-00 00:00:00", 1: ""}  # conversation index: the datecreated it is sent
ANSWERED_UNDATED = 2  # a conversation whose first message is sent without its datecreated
Built = tuple[Target, TransformResult, Account]


def undated_conversations(account: Account):
    sent = {account.conversation_id(index): value for index, value in UNDATED.items()}

    def transform(payload: dict) -> dict:
        for row in payload["response"].get("conversations") or []:
            if row["conversationid"] in sent:
                row["datecreated"] = sent[row["conversationid"]]
        return payload
    return transform


def undated_first_message(payload: dict) -> dict:
    payload["response"]["groups"][0]["messages"][0]["datecreated"] = "0000-00-00 00:00:00"
    return payload


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Built]:
    destination, dataset = request.param, "liveagent_undated"
    with analyst_target(request, tmp_path_factory, dataset) as (options, locate):
        account = make_account(conversations=40, timezone=ZONE)
        with FakeLiveAgent(account) as fake:
            fake.faults.add("mutate", path="/api/conversations$",
                            transform=undated_conversations(account))
            fake.faults.add("mutate", transform=undated_first_message,
                            path=f"/{account.conversation_id(ANSWERED_UNDATED)}/messages$")
            run_pipeline(options, base_url=fake.url, api_key=fake.api_key, timezone=ZONE,
                         start_date="2025-09-09", requests_per_minute=1e6)
        result = transform(make_pipeline(options), ZONE, strict_codes=True,
                           as_of=datetime.fromtimestamp(NOW + 60, timezone.utc).isoformat())
        yield Target(destination, dataset, locate), result, account


def test_the_layer_builds_and_its_tests_pass_with_one_warning(built: Built) -> None:
    target, result, _ = built
    assert target.sql("SELECT count(*) AS n FROM {ds}.conversations "
                      "WHERE datecreated IS NULL") == [{"n": len(UNDATED)}]
    assert result.models == 23
    # the not_null test of created_at says how many there are, without failing the build
    assert result.warnings == ["not_null_stg_liveagent__conversations_created_at"]


def first_dated_answers(target: Target) -> dict[str, datetime]:
    """Each conversation's first answer with a time, from the raw tables."""
    rows = target.sql(
        "SELECT m.conversationid, min(m.datecreated) AS first FROM {ds}.messages AS m "
        "JOIN {ds}.agents AS a ON a.id = m.userid JOIN {ds}.message_groups AS g "
        "ON g.messagegroupid = m.messagegroupid AND g.conversationid = m.conversationid "
        "WHERE m.rtype = 'M' AND g.rtype <> 'I' AND m.datecreated IS NOT NULL GROUP BY 1")
    return {row["conversationid"]: row["first"] for row in rows}


def test_an_undated_conversation_has_its_row_without_the_times_that_need_creation(
        built: Built) -> None:
    target, _, account = built
    metrics = {r["conversation_id"]: r for r in target.sql(
        "SELECT * FROM {marts}.liveagent__conversation_metrics")}
    answered = first_dated_answers(target)
    assert len(metrics) == 40
    for index in UNDATED:
        row = metrics[account.conversation_id(index)]
        assert (row["created_at"], row["created_date"], row["first_response_seconds"],
                row["full_resolution_seconds"]) == (None, None, None, None)
        assert row["first_response_at"] == answered.get(account.conversation_id(index))
    undated_message = metrics[account.conversation_id(ANSWERED_UNDATED)]
    assert undated_message["first_response_at"] == \
        answered.get(account.conversation_id(ANSWERED_UNDATED))


def test_days_count_only_what_has_a_time(built: Built) -> None:
    target, _, _ = built
    days = target.sql("SELECT * FROM {marts}.liveagent__daily_kpis")
    assert all(day["date_day"] is not None for day in days)
    assert sum(day["new_conversations"] for day in days) == 40 - len(UNDATED)
    dated_answers = target.sql("SELECT count(*) AS n FROM {stg}.stg_liveagent__messages "
                               "WHERE is_answer AND created_at IS NOT NULL")[0]["n"]
    assert sum(day["answers"] for day in days) == dated_answers
    backlog = target.sql("SELECT * FROM {marts}.liveagent__daily_backlog ORDER BY date_day")
    assert all(day["open_conversations"] is not None for day in backlog)
    open_now = target.sql("SELECT count(*) AS n FROM {ds}.conversations "
                          "WHERE status NOT IN ('R', 'L', 'X', 'B')")[0]["n"]
    assert backlog[-1]["open_conversations"] == open_now  # undated ones as observed
