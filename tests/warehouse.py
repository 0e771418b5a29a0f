"""What the fake says the warehouse must hold, built from its HTTP answers without the source's
code, and readers of what a warehouse holds."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import psycopg2

from sources.liveagent.settings import DELETED_AT
from tests.support import ZONE, Api

UTC = timezone.utc
# the columns of `conversations` the fake can be compared on
CONVERSATION_COLUMNS = [
    "conversationid", "code", "status", "datecreated", "datechanged", "datedue", "departmentid",
    "departmentname", "ownername", "owneremail", "subject", "preview", "publicurlcode", "tags",
    "channel_type", "messagegroupsin", "messagegroupsout",
]


def utc(value: str | None, zone: str) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))\
        .astimezone(UTC)


def count(value: str) -> int | None:
    return int(value) if value != "" else None


def blank_is_null(value: str | None) -> str | None:
    return value if value else None


class Expected:
    """The fake account's current data, shaped like the warehouse tables."""

    def __init__(self, api: Api, zone: str) -> None:
        self.api, self.zone = api, zone
        self.conversations = {r["conversationid"]: r for r in api.all_conversations()}

    def conversation_rows(self) -> dict[str, dict[str, Any]]:
        """Every "" is NULL in the warehouse; datetimes are UTC; counts are numbers."""
        texts = ("code", "status", "departmentid", "departmentname", "ownername", "owneremail",
                 "subject", "preview", "publicurlcode", "tags", "channel_type")
        rows = {}
        for cid, r in self.conversations.items():
            row: dict[str, Any] = {"conversationid": cid}
            row.update({name: blank_is_null(r[name]) for name in texts})
            row.update({name: utc(r[name], self.zone)
                        for name in ("datecreated", "datechanged", "datedue")})
            row.update({name: count(r[name]) for name in ("messagegroupsin", "messagegroupsout")})
            rows[cid] = row
        return rows

    def tag_rows(self) -> set[tuple[str, str]]:
        return {(cid, tag) for cid, r in self.conversations.items()
                for tag in r["tags"].split(",") if tag}

    def message_tables(self) -> tuple[dict[str, dict], dict[str, dict]]:
        groups, messages = {}, {}
        for cid in self.conversations:
            response = self.api.get(f"/api/conversations/{cid}/messages")
            for g in response["groups"]:
                groups[g["messagegroupid"]] = {
                    "messagegroupid": g["messagegroupid"], "conversationid": cid,
                    "userid": blank_is_null(g["userid"]), "rtype": blank_is_null(g["rtype"]),
                    "rstatus": blank_is_null(g["rstatus"]),
                    "datecreated": utc(g["datecreated"], self.zone),
                    "datefinished": utc(g["datefinished"], self.zone),
                }
                for m in g["messages"]:
                    messages[m["messageid"]] = {
                        "messageid": m["messageid"], "messagegroupid": g["messagegroupid"],
                        "conversationid": cid, "userid": blank_is_null(m["userid"]),
                        "rtype": blank_is_null(m["rtype"]),
                        "datecreated": utc(m["datecreated"], self.zone),
                        "message": blank_is_null(m["message"]),
                    }
        return groups, messages


class Warehouse:
    """Read-only view of a DuckDB file a run wrote."""

    def __init__(self, path: str, dataset: str = "liveagent") -> None:
        self.path, self.dataset = path, dataset

    def rows(self, table: str, columns: str = "*", where: str = "") -> list[dict[str, Any]]:
        with duckdb.connect(self.path, read_only=True) as db:
            db.execute("SET TimeZone = 'UTC'")
            result = db.execute(f"SELECT {columns} FROM {self.dataset}.{table} {where}")
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def keyed(self, table: str, key: str, columns: list[str]) -> dict[str, dict[str, Any]]:
        rows = self.rows(table, ", ".join(columns))
        keyed = {r[key]: r for r in rows}
        assert len(keyed) == len(rows), f"duplicate {key} in {table}"
        return keyed

    def tables(self) -> set[str]:
        if not Path(self.path).exists():  # a failed first run removes the file it created
            return set()
        with duckdb.connect(self.path, read_only=True) as db:
            found = db.execute("SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = ?", [self.dataset]).fetchall()
        return {name for (name,) in found}

    def column_types(self) -> dict[tuple[str, str], str]:
        with duckdb.connect(self.path, read_only=True) as db:
            found = db.execute("SELECT table_name, column_name, data_type FROM "
                               "information_schema.columns WHERE table_schema = ?",
                               [self.dataset]).fetchall()
        return {(table, column): kind for table, column, kind in found}

    def scalar(self, sql: str) -> Any:
        with duckdb.connect(self.path, read_only=True) as db:
            db.execute("SET TimeZone = 'UTC'")
            return db.execute(sql.replace("{ds}", self.dataset)).fetchone()[0]


def local_day(value: datetime, zone: str) -> date:
    return value.astimezone(ZoneInfo(zone)).date()


# -- comparing whole warehouses -------------------------------------------------------
def canonical(value: Any) -> Any:
    """One representation per value, whichever database returned it."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# about runs, not the account: they differ between any two targets by nature
RUN_TABLES = frozenset({"run_history", "run_history_tables", "table_freshness"})


def account_tables(names: set[str]) -> list[str]:
    """The tables that copy the account (dlt's and the run history apart)."""
    return sorted(name for name in names if not name.startswith("_dlt")
                  and name not in RUN_TABLES)


def duckdb_tables(warehouse: Warehouse) -> dict[str, Counter]:
    types = warehouse.column_types()
    tables = {}
    for name in account_tables(warehouse.tables()):
        rows = warehouse.rows(name)
        columns = list(rows[0]) if rows else []
        parsed = [tuple(json.loads(v) if v is not None and types[(name, c)] == "JSON" else v
                        for c, v in r.items()) for r in rows]
        tables[name] = rows_of(columns, parsed, name)
    return tables


def rows_of(columns: list[str], rows: list[tuple], table: str) -> Counter:
    """Rows without dlt's bookkeeping ids (they differ per load), as a multiset; the run time
    of the online-status snapshot differs between the two runs by nature."""
    keep = [i for i, c in enumerate(columns)
            if not (c.startswith("_dlt") and c != "_dlt_list_idx")
            and not (table == "agent_online_status" and c == "snapshot_at")]
    # when a run noticed a delete differs between two runs too: only whether it did counts
    return Counter(tuple((columns[i], row[i] is not None if columns[i] == DELETED_AT
                          else canonical(row[i])) for i in keep) for row in rows)


def postgres_tables(dsn: str, schema: str) -> dict[str, Counter]:
    """Every table of `schema` (dlt's own apart) as `rows_of` multisets."""
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                       (schema,))
        names = account_tables({name for (name,) in cursor.fetchall()})
        tables = {}
        for name in names:
            cursor.execute(f'SELECT * FROM "{schema}"."{name}"')
            columns = [d[0] for d in cursor.description]
            tables[name] = rows_of(columns, cursor.fetchall(), name)
    return tables


def same_in_both(warehouse: Warehouse, dsn: str, schema: str) -> None:
    """The DuckDB warehouse and the Postgres schema hold the same rows, table by table."""
    in_duckdb, in_postgres = duckdb_tables(warehouse), postgres_tables(dsn, schema)
    assert set(in_postgres) == set(in_duckdb)
    for table in sorted(in_duckdb):
        assert in_postgres[table] == in_duckdb[table], table


def assert_conversation_family_equal(api: Api, warehouse: Warehouse, zone: str = ZONE) -> None:
    """The conversation family in the warehouse equals the fake's, row by row."""
    expected = Expected(api, zone)
    assert warehouse.keyed("conversations", "conversationid", CONVERSATION_COLUMNS) == \
        expected.conversation_rows()
    tags = warehouse.rows("conversation_tags", "conversationid, tag_id")
    assert sorted((r["conversationid"], r["tag_id"]) for r in tags) == \
        sorted(expected.tag_rows())
    groups, messages = expected.message_tables()
    assert warehouse.keyed("message_groups", "messagegroupid", list(next(iter(groups.values()))))\
        == groups
    assert warehouse.keyed("messages", "messageid", list(next(iter(messages.values())))) == \
        messages


def postgres_scalar(dsn: str, sql: str) -> Any:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def query_rows(destination: str, location: str, sql: str) -> list[dict[str, Any]]:
    """The rows of `sql` on a DuckDB file (read-only) or a Postgres DSN, times in UTC."""
    with connected(destination, location) as query:
        return query(sql)


@contextmanager
def connected(destination: str, location: str
              ) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """What runs SQL on one connection to a DuckDB file (read-only) or a Postgres DSN: the
    rows of a statement, times in UTC."""
    if destination == "duckdb":
        with duckdb.connect(location, read_only=True) as db:
            db.execute("SET TimeZone = 'UTC'")

            def query(sql: str) -> list[dict[str, Any]]:
                result = db.execute(sql)
                names = [d[0] for d in result.description]
                return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
            yield query
        return
    with psycopg2.connect(location) as connection, connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")

        def query_postgres(sql: str) -> list[dict[str, Any]]:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        yield query_postgres


def drop_postgres_schemas(dsn: str, prefix: str) -> None:
    """Drops every schema whose name starts with `prefix` (a test's datasets and their staging)."""
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                       (prefix,))
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')


@dataclass(frozen=True)
class Target:
    """Where the CLI loads: a DuckDB file or a Postgres schema, with what it holds."""

    destination: str  # duckdb or postgres
    location: str  # the DuckDB file, or the Postgres DSN
    dataset: str = "liveagent"

    @property
    def args(self) -> tuple[str, ...]:
        if self.destination == "duckdb":
            return ("--duckdb-path", self.location, "--dataset", self.dataset)
        return ("--destination", "postgres", "--dataset", self.dataset)

    def tables(self) -> dict[str, Counter]:
        if self.destination == "duckdb":
            return duckdb_tables(Warehouse(self.location, self.dataset))
        return postgres_tables(self.location, self.dataset)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """The rows of `sql` ({ds} is the dataset), times in UTC."""
        return query_rows(self.destination, self.location, sql.replace("{ds}", self.dataset))

    def other(self, name: str) -> Target:
        """A second target of the same kind, e.g. for a clean run to compare with."""
        if self.destination == "duckdb":
            return Target("duckdb", self.location.replace(".duckdb", f"_{name}.duckdb"))
        return Target("postgres", self.location, f"{self.dataset}_{name}")


def assert_equal_to_a_clean_run(run_cli: Callable[..., int], target: Target, *args: str,
                                exit_code: int = 0) -> None:
    """Every table of `target` equals what one run (with `args`, ending with `exit_code`) into
    a fresh target of its kind loads."""
    clean = target.other("clean")
    assert run_cli("--progress-every", "0", *clean.args, *args) == exit_code
    expected, recovered = clean.tables(), target.tables()
    assert set(recovered) == set(expected)
    for table in expected:  # snapshots: one per finished run in each target
        if table == "conversation_status_history":  # what each target observed, by design
            assert current_versions(recovered[table]) == current_versions(expected[table])
        elif table == "rejected_rows":  # the same rows kept, each read as often as its target did
            assert unit_keys(recovered[table]) == unit_keys(expected[table])
        elif table != "agent_online_status":
            assert recovered[table] == expected[table], table


def unit_keys(rejected: Counter) -> set[tuple[Any, ...]]:
    """The (table, key) of each `rejected_rows` row, without when and how often it was read."""
    return {(row["table_name"], row["row_key"]) for row in (dict(r) for r in rejected)}


def current_versions(history: Counter) -> Counter:
    """The open versions of `conversation_status_history` rows, without `valid_from`: a
    target that watched changes happen holds more (and later-starting) versions than one
    that read the account once, but the current status, department and channel agree."""
    tracked = ("conversationid", "status", "departmentid", "channel_type")
    current: Counter = Counter()
    for row, count in history.items():
        values = dict(row)
        if values.get("valid_to") is None:
            current[tuple(values.get(name) for name in tracked)] += count
    return current


def dataset_tables(pipeline_name: str, pipelines_dir: str) -> dict[str, Counter]:
    """Every table a pipeline loaded, read through dlt's dataset (any destination), as
    `rows_of` multisets; JSON columns parsed, as DuckDB's are by `duckdb_tables`."""
    import dlt

    dataset = dlt.attach(pipeline_name=pipeline_name, pipelines_dir=pipelines_dir).dataset()
    tables = {}
    for name in account_tables(set(dataset.schema.tables)):
        table = dataset.schema.tables[name]
        if not table.get("columns"):
            continue
        try:
            relation = dataset[name]
            columns, rows = list(relation.columns), relation.fetchall()
        except Exception:  # declared in the schema, never created
            continue
        kinds = {c: hint.get("data_type") for c, hint in table["columns"].items()}
        parsed = [tuple(_typed(v, kinds.get(c)) for c, v in zip(columns, row, strict=True))
                  for row in rows]
        tables[name] = rows_of(columns, parsed, name)
    return tables


def _typed(value: Any, kind: str | None) -> Any:
    """A value as DuckDB returns it, from a destination that keeps JSON and timestamps as
    text (SQLite)."""
    if not isinstance(value, str):
        return value
    if kind == "json":
        return json.loads(value)
    if kind == "timestamp":
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind == "date":
        return date.fromisoformat(value)
    return value


# per table that marks deletes, the column a deletion test compares: the key, or the
# conversation for the tables rewritten per conversation
DELETE_KEYS = {"tags": "id", "customer_groups": "id", "suggestion_categories": "id",
               "knowledgebases": "kb_id", "companies": "id", "agents": "id",
               "kb_entries": "kb_entry_id", "conversations": "conversationid",
               "conversation_tags": "conversationid", "message_groups": "conversationid",
               "messages": "conversationid"}


def delete_marks(target: Target, marked: bool = True) -> dict[str, set[str]]:
    """Per table of DELETE_KEYS, the values of the rows with (or without) a deletion mark."""
    if target.destination == "duckdb" and not Path(target.location).exists():
        return {table: set() for table in DELETE_KEYS}
    found = {row["table_name"] for row in target.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = '{ds}'")}
    test = "IS NOT NULL" if marked else "IS NULL"
    return {table: {str(row["k"]) for row in target.query(
        f"SELECT {key} AS k FROM {{ds}}.{table} WHERE {DELETED_AT} {test}")}
        if table in found else set() for table, key in DELETE_KEYS.items()}


def column_comments(target: Target, schema: str) -> dict[tuple[str, str], str | None]:
    """The comment of every column of the tables and views of `schema`, in DuckDB or
    Postgres, by (relation, column)."""
    sql = (f"SELECT table_name, column_name, comment FROM duckdb_columns() "
           f"WHERE schema_name = '{schema}'") if target.destination == "duckdb" else (
        "SELECT c.relname AS table_name, a.attname AS column_name, "
        "col_description(c.oid, a.attnum) AS comment FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'v') AND a.attnum > 0 "
        "AND NOT a.attisdropped")
    return {(row["table_name"], row["column_name"]): row["comment"]
            for row in query_rows(target.destination, target.location, sql)}
