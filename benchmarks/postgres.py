"""A throwaway Postgres server for the throughput scenario (pgserver, as the tests use)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """Yields the DSN of a Postgres listening on a unix socket in `workdir`; stopped after."""
    import pgserver  # type: ignore[import-not-found]

    server = pgserver.get_server(str(workdir / "pgserver"), cleanup_mode="stop")
    try:
        yield f"postgresql://postgres:postgres@localhost:5432/postgres?host={server.pgdata}"
    finally:
        server.cleanup()


def terminate_sessions(dsn: str) -> None:
    """Ends every other session: a pipeline killed on a timeout leaves its query running."""
    import psycopg2

    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")
    finally:
        connection.close()
