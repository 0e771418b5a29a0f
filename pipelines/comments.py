"""The data dictionary as comments in the warehouse (`COMMENT ON TABLE/COLUMN`).

dlt 1.31 keeps table and column descriptions in its schema (they reach its Mermaid, DBML and
dot exports) but writes none of them to DuckDB or Postgres, so the runner does after each
load: every described table and column of the dataset whose comment differs from its
description gets it, in one transaction. On the demo's tables that is 454 statements the first
time (0.1 s in DuckDB) and none afterwards (one catalog query, 0.02 s), until the schema or
the tables change.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

import dlt

# (relation, column or "" for the relation) -> (comment, TABLE or VIEW), read from the catalog
_COMMENTS = {
    "duckdb": "SELECT table_name, '', comment, 'TABLE' FROM duckdb_tables() "
              "WHERE schema_name = %s "
              "UNION ALL SELECT view_name, '', comment, 'VIEW' FROM duckdb_views() "
              "WHERE schema_name = %s "
              "UNION ALL SELECT table_name, column_name, comment, '' FROM duckdb_columns() "
              "WHERE schema_name = %s",
    "postgres": "SELECT c.relname, '', obj_description(c.oid, 'pg_class'), "
                "CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'v') "
                "UNION ALL SELECT c.relname, a.attname, col_description(c.oid, a.attnum), '' "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                "AND NOT a.attisdropped WHERE n.nspname = %s AND c.relkind IN ('r', 'v')",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _catalog(client: Any, destination: str) -> dict[tuple[str, str], tuple[str | None, str]]:
    """Every table, view and column of the dataset with its comment (None: none) and, for a
    relation, its kind (Postgres comments a view only as a VIEW)."""
    sql = _COMMENTS[destination]
    rows = client.execute_sql(sql, *[client.dataset_name] * sql.count("%s")) or []
    return {(table, column): (comment, kind) for table, column, comment, kind in rows}


def write_comments(pipeline: dlt.Pipeline, views: Mapping[str, Mapping[str, Any]] = {}) -> int:
    """Comments the dataset's tables and columns from the pipeline's schema, and `views`
    (described like a schema's tables: description, columns with theirs), where they differ;
    returns how many statements it ran (none for a destination it cannot comment)."""
    return comment_relations(pipeline, {**pipeline.default_schema.tables, **views})


def comment_relations(pipeline: dlt.Pipeline, relations: Mapping[str, Mapping[str, Any]],
                      dataset: str | None = None) -> int:
    """Comments `relations` (described like a schema's tables) of the pipeline's dataset, or
    of `dataset` on its destination (the analyst layer's schemas), where they differ."""
    destination = pipeline.destination.destination_name
    if destination not in _COMMENTS:
        return 0
    with pipeline.sql_client() as client, (client.with_alternative_dataset_name(dataset)
                                           if dataset else nullcontext(client)):
        catalog = _catalog(client, destination)
        statements = []
        for name, table in relations.items():
            if (name, "") not in catalog:
                continue  # not created (yet)
            qualified = client.make_qualified_table_name(name)
            text = table.get("description")
            comment, kind = catalog[(name, "")]
            if text and comment != text:
                statements.append(f"COMMENT ON {kind} {qualified} IS {_literal(text)}")
            for column_name, column in table.get("columns", {}).items():
                text, key = column.get("description"), (name, column_name)
                if text and key in catalog and catalog[key][0] != text:
                    statements.append(
                        f"COMMENT ON COLUMN {qualified}."
                        f"{client.escape_column_name(column_name)} IS {_literal(text)}")
        if statements:
            with client.begin_transaction():  # one commit: 0.1 s instead of 0.25 s in DuckDB
                client.execute_many(statements)
    return len(statements)
