"""Turns a failed run into one line a person can act on, with an exit code; never the API key."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dlt
import psycopg2
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
    LookupTraces,
)
from dlt.common.destination.exceptions import DestinationHasFailedJobs
from dlt.common.schema.exceptions import DataValidationError
from dlt.pipeline.exceptions import PipelineStepFailed

from sources.liveagent.exceptions import AuthenticationError, ConfigurationError, LiveAgentError
from sources.liveagent.key_pool import api_keys
from sources.liveagent.redaction import redact

from .accounts import SECRETS, Account, shared_setting
from .dashboard import DashboardError
from .file_errors import system_error
from .options import BusyError, LoadsCommitted, UsageError
from .postgres import DEFAULT_LOCK_TIMEOUT_SECONDS, configured, server_address
from .transform import TransformError

EXIT_OK = 0
EXIT_FAILED = 1  # the run did not complete: nothing loaded, state not advanced
EXIT_USAGE = 2  # the command line or the configuration needs fixing
EXIT_REJECTED = 3  # loaded, but some rows are kept in rejected_rows instead of their tables
EXIT_TABLES_FAILED = 4  # loaded, but some tables could not be read: their state did not advance
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

_DUCKDB_LOCK = re.compile(r'Could not set lock on file "([^"]+)".*?\(PID (\d+)\)', re.DOTALL)


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything that caused it, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # dlt's loader carries a failed job's exception as `client_exception`
        current = current.__cause__ or current.__context__ \
            or getattr(current, "client_exception", None)


def explain(error: BaseException, account: Account | None = None) -> tuple[str, int]:
    """(one-line message, exit code) for a failed run; a run of a configured `account` is told
    the account's names of the settings it sets (`Account.renamed`)."""
    chain = list(causes(error))
    if any(isinstance(cause, KeyboardInterrupt) for cause in chain):
        return interrupted(chain), EXIT_INTERRUPTED
    message, code = _explain(chain, account)
    if account is not None:
        message = account.renamed(message)
    committed = next((c.loads for c in chain if isinstance(c, LoadsCommitted)), 0)
    if committed:
        message += (f" ({_loads(committed)} of this run committed before; the next run goes on "
                    "after them)")
    return message, code


def _explain(chain: list[BaseException], account: Account | None) -> tuple[str, int]:
    for cause in chain:
        if isinstance(cause, UsageError):
            return str(cause), EXIT_USAGE
        if isinstance(cause, (BusyError, TransformError, DashboardError)):
            return str(cause), EXIT_FAILED
        if isinstance(cause, ConfigFieldMissingException):
            return missing_configuration(cause, account), EXIT_USAGE
        if isinstance(cause, ConfigValueCannotBeCoercedException):
            return (f"the configured value of {cause.field_name} cannot be read as "
                    f"{getattr(cause.hint, '__name__', cause.hint)}: fix it in .dlt/config.toml, "
                    ".dlt/secrets.toml or the environment", EXIT_USAGE)
        if isinstance(cause, (ConfigurationError, AuthenticationError)):
            return str(cause), EXIT_USAGE
        if isinstance(cause, LiveAgentError):
            return str(cause), EXIT_FAILED
        locked = _DUCKDB_LOCK.search(str(cause))
        if locked:
            return (f"the DuckDB file {locked.group(1)} is in use by another process "
                    f"(PID {locked.group(2)}); close it or choose another --duckdb-path",
                    EXIT_FAILED)
        if isinstance(cause, DestinationHasFailedJobs):
            return failed_jobs(cause), EXIT_FAILED
        postgres = postgres_failure(cause)
        if postgres:
            return postgres
        if isinstance(cause, DataValidationError):
            column = str(cause.column_name).split("__v_")[0]
            return (f"LiveAgent sent '{column}' of {cause.table_name} as a new type "
                    "of value; refused rather than loaded into a second column (nothing from "
                    "this run was loaded)", EXIT_FAILED)
    system = system_error(chain)
    if system:
        return system, EXIT_FAILED
    first_line = str(chain[-1]).strip().splitlines()[0] if str(chain[-1]).strip() else ""
    return (f"unexpected error: {type(chain[-1]).__name__}: {first_line} "
            "(run with --debug for the traceback)", EXIT_FAILED)


def interrupted(chain: list[BaseException]) -> str:
    committed = next((c.loads for c in chain if isinstance(c, LoadsCommitted)), 0)
    if any(isinstance(c, PipelineStepFailed) and c.step == "load" for c in chain):
        before = f" ({_loads(committed)} of this run committed before)" if committed else ""
        return f"interrupted while loading{before}; the next run finishes this load"
    if committed:
        return (f"interrupted after {_loads(committed)} of this run committed; the rest was not "
                "loaded, and the next run goes on after them")
    return "interrupted; nothing of this run was loaded, state unchanged"


def _loads(count: int) -> str:
    return f"{count} load" if count == 1 else f"{count} loads"


def missing_configuration(error: ConfigFieldMissingException,
                          account: Account | None = None) -> str:
    missing = []
    for field, traces in error.traces.items():
        nested = [t for t in traces if isinstance(t, LookupTraces)]
        if nested:  # e.g. destination credentials
            destination = getattr(error.config, "destination_type", None) or "postgres"
            key = f"destination.{destination}.{field}"
            if nested[0].resolved_fields_set:
                return incomplete_configuration(key, list(nested[0].traces))
            missing.append(f"{key} (env {_env(key)})")
            continue
        key, env = _config_key(field, traces)
        if account is not None and (key, env) == shared_setting(field):
            missing.append(account.where_to_set(field))
        else:
            missing.append(f"{key} (env {env})")
    return ("missing configuration: set " + ", ".join(missing)
            + " in .dlt/config.toml or .dlt/secrets.toml, or in the environment")


def incomplete_configuration(key: str, fields: list[str]) -> str:
    """A setting that is there, but without fields dlt needs: dlt's reason, never its value."""
    names = ", ".join(fields)
    message = (f"{key} is set, but dlt could not resolve its {names} from it: add {names} to "
               f"it or set {', '.join(_env(f'{key}.{field}') for field in fields)}")
    if key == "destination.postgres.credentials" and "host" in fields:
        message += ("; for a Unix socket, give localhost as the host and the socket directory "
                    "as a parameter: ...@localhost/DATABASE?host=/run/postgresql")
    return message


def _env(key: str) -> str:
    return key.replace(".", "__").upper()


def _config_key(field: str, traces: Iterable) -> tuple[str, str]:
    """The documented key of a field: two sections deep, e.g. sources.liveagent.base_url."""
    for trace in traces:
        key = "__".join([*trace.sections, field]).upper()
        # skip the pipeline-scoped variants dlt also tries (PIPELINE_NAME__SOURCES__...)
        if trace.provider == "Environment Variables" and len(trace.sections) == 2 \
                and trace.key == key:
            return ".".join([*trace.sections, field]), trace.key
    return field, field.upper()


def failed_jobs(error: DestinationHasFailedJobs) -> str:
    jobs = error.failed_jobs
    first = jobs[0].failed_message.strip().splitlines()[0] if jobs and jobs[0].failed_message \
        else "no message"
    return f"{len(jobs)} load job(s) failed at the destination: {first}"


# what a lost or refused connection looks like: libpq's own errors have no SQLSTATE; 08 is the
# connection class, 57P01-57P03 a server shutting down, crashed or starting
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
_LOGIN_REFUSED = re.compile(r"authentication failed|does not exist|no pg_hba\.conf entry")
_LIBPQ_PREFIX = re.compile(r"^connection to server .*? failed: (FATAL:\s+)?")
# dlt commits a load's state only with the load (`_dlt_loads`); a package it could not finish
# stays pending and the next run loads it first
_NOT_LOADED = ("this run's load did not complete and state did not advance (the next run "
               "loads what this one read)")


def postgres_failure(error: BaseException) -> tuple[str, int] | None:
    """A lock wait that timed out, a server out of reach, or one that refused the login."""
    if isinstance(error, psycopg2.errors.LockNotAvailable):
        return lock_timeout_message(*postgres_server()), EXIT_FAILED
    if not isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError)) or \
            (error.pgcode is not None and not error.pgcode.startswith(_CONNECTION_STATES)):
        return None
    reason = _LIBPQ_PREFIX.sub("", str(error).strip().splitlines()[0]).strip()
    where, _ = postgres_server()
    if _LOGIN_REFUSED.search(reason):
        return (f"Postgres at {where} refused the login ({reason}); check "
                "destination.postgres.credentials (env DESTINATION__POSTGRES__CREDENTIALS)",
                EXIT_USAGE)
    return (f"Postgres at {where} is unreachable ({reason}); {_NOT_LOADED}; check that the "
            "server is up and destination.postgres.credentials", EXIT_FAILED)


def lock_timeout_message(where: str, lock_timeout: float) -> str:
    return (f"Postgres at {where}: a statement of the load waited more than {lock_timeout:g} s "
            "for a lock another session holds on a table of the dataset (a reader's open "
            f"transaction, say, while new columns had to be added); {_NOT_LOADED}; end that "
            "session's transaction (pg_stat_activity shows it 'idle in transaction') or raise "
            "destination.postgres.lock_timeout_seconds, then run again")


def postgres_server() -> tuple[str, float]:
    """The configured server's address (host, port and database: never the password, which
    libpq's messages do not repeat either) and lock timeout."""
    config = configured()
    if config is None or config.credentials is None:
        return "the configured server", DEFAULT_LOCK_TIMEOUT_SECONDS
    return server_address(config.credentials), config.lock_timeout_seconds


def known_secrets(account: Account | None = None) -> list[str]:
    """The configured API keys (each key of a pool) and privacy salts: the shared ones, every
    account's in a TOML table, and `account`'s (which may come from its environment variables
    alone), to mask wherever a message may carry them."""
    try:
        tables: list[Any] = [{key: dlt.secrets.get(f"sources.liveagent.{key}")
                              for key in SECRETS}]
        if account is not None:
            tables.append(account.settings)
        accounts: Any = dlt.secrets.get("liveagent.accounts") or {}
        tables += [settings for settings in accounts.values() if isinstance(settings, dict)]
        return [secret for settings in tables for secret in _secrets_of(settings)]
    except Exception:  # secrets that cannot even be read cannot leak either
        return []


def _secrets_of(settings: Mapping[str, Any]) -> list[str]:
    """A settings table's secrets: each key of its API key pool, and its salt whole (a salt
    may hold a comma, the keys' separator)."""
    salt = settings.get("privacy_salt")
    return [*api_keys(settings.get("api_key")), *([str(salt)] if salt else [])]


def tables_and_reasons(failed: Mapping[str, str]) -> str:
    """'tags: why; conversations, messages: why': the tables that failed, those that failed
    for one reason together (the conversation family fails as a whole)."""
    by_reason: dict[str, list[str]] = {}
    for table, reason in failed.items():
        by_reason.setdefault(reason, []).append(table)
    return "; ".join(f"{', '.join(tables)}: {reason}" for reason, tables in by_reason.items())


def failed_tables_line(failed: Mapping[str, str], account: Account | None = None) -> str:
    """The line of a run that loaded but could not read some tables, keys masked."""
    count = len(failed)
    these = "1 table failed and kept its state (the next run reads it again)" if count == 1 \
        else f"{count} tables failed and kept their state (the next run reads them again)"
    return redact(f"loaded, but {these}: {tables_and_reasons(failed)}", known_secrets(account))


def failure_line(error: BaseException, api_key: Any = None,
                 account: Account | None = None) -> str:
    """The one-line reason for a failed run, every configured key masked, and `api_key` too
    (a key given in code, not in configuration): what orchestrators and the run history show.
    A run of `account` is told that account's settings (see `explain`)."""
    return redact(explain(error, account)[0], [*known_secrets(account), *api_keys(api_key)])
