"""The Postgres fixture gives a real server that dlt can load into."""

from __future__ import annotations

import dlt
import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.support import Api, make_account

pytestmark = pytest.mark.postgres


def test_dlt_merges_fake_conversations_into_postgres(postgres_dsn: str, tmp_path) -> None:
    account = make_account(conversations=40)
    with FakeLiveAgent(account) as fake:
        rows = Api(fake).all_conversations(limit=15)
    pipeline = dlt.pipeline(
        pipeline_name="postgres_fixture_check", pipelines_dir=str(tmp_path),
        destination=dlt.destinations.postgres(postgres_dsn), dataset_name="fixture_check",
    )
    for _ in range(2):  # merging the same rows twice must not duplicate them
        pipeline.run(rows, table_name="conversations", primary_key="conversationid",
                     write_disposition="merge").raise_on_failed_jobs()
    with pipeline.sql_client() as client:
        (count, distinct), = client.execute_sql(
            "SELECT count(*), count(DISTINCT conversationid) FROM conversations")
        (version,), = client.execute_sql("SELECT version()")
    assert count == distinct == 40
    assert version.startswith("PostgreSQL")
