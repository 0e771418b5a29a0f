"""A real Postgres server for tests: pgserver, else Debian's binaries, else a DSN from the env.

`LIVEAGENT_TEST_POSTGRES_DSN` wins when set. When nothing is available the tests that need
Postgres skip with the reasons, unless `LIVEAGENT_REQUIRE_POSTGRES=1` (CI sets it): then
they fail.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

DSN_ENV = "LIVEAGENT_TEST_POSTGRES_DSN"
REQUIRE_ENV = "LIVEAGENT_REQUIRE_POSTGRES"
# in the DSN of a test's own server (which trusts local connections) and nowhere else
OWN_POSTGRES_PASSWORD = "pw-only-in-the-dsn-4711"


class PostgresUnavailable(Exception):
    pass


def socket_dsn(socket_dir: str, port: int = 5432) -> str:
    """The URI dlt and psycopg2 accept for a server listening on a unix socket directory."""
    return f"postgresql://postgres:postgres@localhost:{port}/postgres?host={socket_dir}"


@contextmanager
def _pgserver(workdir: Path) -> Iterator[str]:
    import pgserver  # type: ignore[import-not-found]

    server = pgserver.get_server(str(workdir / "pgserver"), cleanup_mode="stop")
    try:
        yield socket_dsn(str(server.pgdata))
    finally:
        server.cleanup()


def _debian_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise PostgresUnavailable("no Debian postgresql binaries (/usr/lib/postgresql/*/bin)")
    return Path(found[-1]).parent


@contextmanager
def _debian(workdir: Path) -> Iterator[str]:
    bindir = _debian_bin()
    data, sock = workdir / "pgdata", workdir / "pgsock"
    sock.mkdir(parents=True, exist_ok=True)
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
    run = [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
           "--auth=trust", "--no-sync"]
    subprocess.run(run, check=True, capture_output=True)
    ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-s"]
    options = f"-k {sock} -c listen_addresses='' -c fsync=off"
    subprocess.run([*ctl, "-o", options, "-l", str(workdir / "pg.log"), "start"], check=True,
                   capture_output=True)
    try:
        yield socket_dsn(str(sock))
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], capture_output=True)


@contextmanager
def postgres_server(own: bool = False) -> Iterator[str]:
    """Yields a DSN of a running Postgres; raises PostgresUnavailable with every reason.
    `own`: a server started for the caller alone, never the one `LIVEAGENT_TEST_POSTGRES_DSN`
    names (for tests that stop it)."""
    dsn = None if own else os.environ.get(DSN_ENV)
    if dsn:
        yield dsn
        return
    reasons = []
    workdir = Path(tempfile.mkdtemp(prefix="liveagent-pg-"))
    os.chmod(workdir, 0o755)
    try:
        for name, start in (("pgserver", _pgserver), ("debian", _debian)):
            with ExitStack() as stack:
                try:
                    dsn = stack.enter_context(start(workdir))
                except Exception as error:  # try the next way, remember why this one failed
                    reasons.append(f"{name}: {type(error).__name__}: {error}")
                    continue
                yield dsn
                return
        raise PostgresUnavailable("; ".join(reasons) + f"; or set {DSN_ENV}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
