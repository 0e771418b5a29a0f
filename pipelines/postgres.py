"""dlt's Postgres destination with two additions: a load job resumed after a crash never
copies its file twice, and no statement waits for a lock without bound.

Resuming: dlt records a job as done in the local package only after the destination committed
it (`RunnableLoadJob.run_managed` -> `_release` -> `save_pending_transition`). A process killed
between `PostgresCsvCopyJob.run`'s commit and that record leaves the job in `started_jobs`, and
`Load.resume_started_jobs` runs it again. Staging tables are truncated once per package
(`init_client`, only while the package's schema update is pending), so the second COPY lands
next to the first: with `create_indexes` (the default) `_dlt_id`'s unique index refuses it on
every later run (measured: `UniqueViolation` on `<table>__dlt_id_key`, the package never
loads); without it an appended table such as `_dlt_pipeline_state` would keep both copies.
Here every COPY (and dlt's INSERT of the pipeline state) commits together with a row naming
its job in `_dlt_committed_jobs`, in the same transaction, and a job whose row exists is done:
a repeated job is a no-op whatever the indexes, the write disposition or the staging. A
package's rows are deleted when dlt completes it.

Lock waits: `lock_timeout_seconds` (`destination.postgres.lock_timeout_seconds`, default 60)
becomes Postgres' `lock_timeout` on every session of the run, so a schema change that waits
behind a reader's open transaction fails the run instead of blocking it (and every later run
behind its file lock) indefinitely.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, cast

from dlt.common import logger
from dlt.common.configuration import configspec
from dlt.common.destination import DestinationCapabilitiesContext
from dlt.common.destination.client import LoadJob, PreparedTableSchema, RunnableLoadJob
from dlt.common.schema import Schema
from dlt.destinations import postgres as dlt_postgres
from dlt.destinations.exceptions import DatabaseTerminalException, DatabaseUndefinedRelation
from dlt.destinations.impl.postgres.configuration import (
    PostgresClientConfiguration,
    PostgresCredentials,
)
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresCsvCopyJob
from dlt.destinations.impl.postgres.sql_client import Psycopg2SqlClient
from dlt.destinations.insert_job_client import InsertValuesLoadJob

COMMITTED_JOBS_TABLE = "_dlt_committed_jobs"
DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0


@configspec
class PostgresConfiguration(PostgresClientConfiguration):
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    """Longest wait for a lock of any one statement; 0 waits without bound (Postgres' own
    default)."""


def with_lock_timeout(credentials: PostgresCredentials, seconds: float) -> PostgresCredentials:
    """A copy of `credentials` whose sessions start with `lock_timeout` set. A startup option,
    not a SET: dlt resets its connections (`RESET ALL`) after an error, which keeps it."""
    timed = copy.copy(credentials)
    query = dict(credentials.query or {})
    # the user's own options come last, so a lock_timeout given there wins
    query["options"] = f"-clock_timeout={round(seconds * 1000)} {query.get('options', '')}"
    timed.query = query
    return timed


class CommitRecordingSqlClient(Psycopg2SqlClient):
    """dlt's psycopg2 client that can add statements to the transactions it commits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_commit: list[tuple[str, tuple[Any, ...]]] = []

    @contextmanager
    def also_on_commit(self, sql: str, *args: Any) -> Iterator[None]:
        """Runs `sql` just before each commit inside this context, in the same transaction
        (for jobs that commit once)."""
        self._on_commit.append((sql, args))
        try:
            yield
        finally:
            self._on_commit.pop()

    def commit_transaction(self) -> None:
        for sql, args in self._on_commit:
            self.execute_sql(sql, *args)
        super().commit_transaction()


class CommittedJobs:
    """`_dlt_committed_jobs`: (load id, job id) of every job committed by a package that dlt
    has not completed yet. It lives in the dataset, whichever dataset (staging or not) a job
    loads."""

    def __init__(self, sql_client: CommitRecordingSqlClient) -> None:
        self.sql_client = sql_client
        # named now, while the client is on the dataset, not on its staging dataset
        self.table = sql_client.make_qualified_table_name(COMMITTED_JOBS_TABLE)

    def create(self) -> None:
        self.sql_client.execute_sql(
            f"CREATE TABLE IF NOT EXISTS {self.table} (load_id varchar NOT NULL, "
            "job_id varchar NOT NULL, PRIMARY KEY (load_id, job_id))")

    def holds(self, load_id: str, job_id: str) -> bool:
        try:
            found = self.sql_client.execute_sql(
                f"SELECT 1 FROM {self.table} WHERE load_id = %s AND job_id = %s", load_id, job_id)
        except DatabaseUndefinedRelation:  # a package begun before this table existed
            with suppress(DatabaseTerminalException):  # another job created it meanwhile
                self.create()
            return False
        return bool(found)

    def recording(self, load_id: str, job_id: str) -> Any:
        """Context in which the job's commit also records it."""
        return self.sql_client.also_on_commit(
            f"INSERT INTO {self.table} (load_id, job_id) VALUES (%s, %s)", load_id, job_id)

    def forget(self, load_id: str) -> None:
        self.sql_client.execute_sql(f"DELETE FROM {self.table} WHERE load_id = %s", load_id)


class ResumableJob(RunnableLoadJob):
    """Mixin for a dlt job that writes in one transaction: the commit also records the job in
    `_dlt_committed_jobs`; run again after a crash, the job finds its record and does
    nothing."""

    def run(self) -> None:
        committed = cast(ResumablePostgresClient, self._job_client).committed_jobs
        if committed.holds(self._load_id, self.job_id()):
            logger.info(f"{self.job_id()} was committed before the last run ended; not again")
            return
        with committed.recording(self._load_id, self.job_id()):
            super().run()  # type: ignore[safe-super]


class ResumableCsvCopyJob(ResumableJob, PostgresCsvCopyJob):
    pass


class ResumableInsertValuesJob(ResumableJob, InsertValuesLoadJob):
    """dlt writes `_dlt_pipeline_state` in insert_values whatever the loader file format."""


# dlt's jobs that write one file in one transaction. Not the merge jobs (SqlLoadJob): they
# may run outside a transaction, and run again they delete and insert the same rows, as the
# staging tables they read stay as they are until the next package.
RESUMABLE_JOBS: dict[type[LoadJob], type[ResumableJob]] = {
    PostgresCsvCopyJob: ResumableCsvCopyJob, InsertValuesLoadJob: ResumableInsertValuesJob}


class ResumablePostgresClient(PostgresClient):
    def __init__(self, schema: Schema, config: PostgresConfiguration,
                 capabilities: DestinationCapabilitiesContext) -> None:
        super().__init__(schema, config, capabilities)
        credentials = with_lock_timeout(config.credentials, config.lock_timeout_seconds)
        self.sql_client = CommitRecordingSqlClient(
            self.sql_client.dataset_name, self.sql_client.staging_dataset_name, credentials,
            capabilities)
        self.committed_jobs = CommittedJobs(self.sql_client)

    def create_load_job(self, table: PreparedTableSchema, file_path: str, load_id: str,
                        restore: bool = False) -> LoadJob:
        job = super().create_load_job(table, file_path, load_id, restore)
        resumable = RESUMABLE_JOBS.get(type(job))
        return resumable(file_path) if resumable else job

    def initialize_storage(self, truncate_tables: Iterable[str] | None = None) -> None:
        super().initialize_storage(truncate_tables or ())
        if not truncate_tables:  # once per package, before its first job
            self.committed_jobs.create()

    def complete_load(self, load_id: str) -> None:
        # every job of the package is recorded as done locally: none of them runs again
        self.committed_jobs.forget(load_id)
        super().complete_load(load_id)


class ResumablePostgres(dlt_postgres):
    """The destination: `ResumablePostgres()` where dlt has `dlt.destinations.postgres()`."""

    spec = PostgresConfiguration

    @property
    def destination_type(self) -> str:
        # dlt's own, so configuration sections and the pipeline's stored state are unchanged
        return "dlt.destinations.postgres"

    @property
    def client_class(self) -> type[PostgresClient]:
        return ResumablePostgresClient


def configured() -> PostgresConfiguration | None:
    """The Postgres configuration a run would use (for messages), None if it cannot be read."""
    try:
        return cast(PostgresConfiguration, ResumablePostgres().configuration(
            None, accept_partial=True))  # type: ignore[arg-type]  # None: from the config
    except Exception:  # a message about the server must not fail for want of its address
        return None


def server_address(credentials: PostgresCredentials) -> str:
    """host:port/database, with the socket directory as the host when `host` is a query
    parameter (as libpq reads it); never the password."""
    host = (credentials.query or {}).get("host") or credentials.host
    return f"{host}:{credentials.port}/{credentials.database}"
