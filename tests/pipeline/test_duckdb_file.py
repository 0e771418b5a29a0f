"""The DuckDB file a run writes opens in DuckDB 1.4 (the LTS line most BI tools ship), the newest
format on request, converting a file, and the query hint of the summary."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.duckdb_file import file_storage_version
from pipelines.liveagent_pipeline import main
from tests.warehouse import Warehouse

LTS = "duckdb==1.4.*"
# every table of the file, every column decoded: rows and a digest of their values per table
READ_EVERY_TABLE = textwrap.dedent("""
    import hashlib, json, sys
    import duckdb
    db = duckdb.connect(sys.argv[1], read_only=True)
    db.execute("SET TimeZone = 'UTC'")
    tables = {}
    for schema, name in db.execute("SELECT table_schema, table_name "
                                   "FROM information_schema.tables ORDER BY ALL").fetchall():
        rows = db.execute(f'SELECT * FROM "{schema}"."{name}" ORDER BY ALL').fetchall()
        text = [[v.isoformat() if hasattr(v, "isoformat") else repr(v) for v in row]
                for row in rows]
        tables[f"{schema}.{name}"] = [len(rows), hashlib.sha256(repr(text).encode()).hexdigest()]
    print(json.dumps({"version": duckdb.__version__, "tables": tables}))
""")


@pytest.fixture(scope="session")
def duckdb_lts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the DuckDB 1.4 Python package, installed from PyPI once a session;
    put first on PYTHONPATH, it stands in for this venv's DuckDB."""
    target = tmp_path_factory.mktemp("duckdb-lts")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(target), LTS], capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        pytest.fail(f"could not install {LTS} (the test needs PyPI): {installed.stderr[-2000:]}")
    return target


def read_every_table(path: Path, duckdb_dir: Path | None = None) -> dict:
    env = dict(os.environ)
    if duckdb_dir:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(duckdb_dir),
                                                           env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", READ_EVERY_TABLE, str(path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_duckdb_1_4_client_reads_every_table_the_run_wrote(
    run_cli, warehouse: Warehouse, duckdb_lts: Path
) -> None:
    assert run_cli() == 0
    assert run_cli() == 0  # a second run opens the file again and merges into it
    path = Path(warehouse.path)
    assert file_storage_version(path) == "v1.4.0+"
    lts, current = read_every_table(path, duckdb_lts), read_every_table(path)
    assert lts["version"].startswith("1.4.") and current["version"].startswith("2.")
    assert "liveagent.messages" in lts["tables"] and "liveagent._dlt_loads" in lts["tables"]
    assert lts["tables"] == current["tables"]


def test_latest_format_from_configuration_and_converting_it_back(
    run_cli, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture, duckdb_lts: Path
) -> None:
    monkeypatch.setenv("DESTINATION__DUCKDB__STORAGE_VERSION", "latest")
    assert run_cli("--resources", "tags") == 0
    path = Path(warehouse.path)
    assert file_storage_version(path) == "v2.0.0+"
    monkeypatch.delenv("DESTINATION__DUCKDB__STORAGE_VERSION")
    capsys.readouterr()
    # the file keeps its format; the run says so and how to convert it
    assert run_cli("--resources", "tags") == 0
    out = capsys.readouterr().out
    assert f"{path} keeps the storage format it was created in (v2.0.0+)" in out
    convert = out.split("; `")[1].split("` rewrites it")[0]
    assert convert.endswith(f"convert-duckdb --duckdb-path {path} --storage-version v1.4.0")
    tables_before = read_every_table(path)["tables"]
    assert main(shlex.split(convert)[1:]) == 0
    assert f"the original is kept as {path}.v2.0.0.bak" in capsys.readouterr().out
    assert file_storage_version(path) == "v1.4.0+"
    assert file_storage_version(Path(f"{path}.v2.0.0.bak")) == "v2.0.0+"
    assert read_every_table(path, duckdb_lts)["tables"] == tables_before
    # later runs load into the converted file as before, without the notice
    assert run_cli("--resources", "tags,conversations") == 0
    out = capsys.readouterr().out
    assert "keeps the storage format" not in out and "conversations" in out
    assert file_storage_version(path) == "v1.4.0+"
    assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120


def test_the_option_overrides_configuration(
    run_cli, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__DUCKDB__STORAGE_VERSION", "v1.2.0")
    assert run_cli("--resources", "tags", "--duckdb-storage-version", "latest") == 0
    assert file_storage_version(Path(warehouse.path)) == "v2.0.0+"


def test_an_unknown_storage_version_is_a_usage_error(
    run_cli, warehouse: Warehouse, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("--duckdb-storage-version", "1.4") == 2
    assert capsys.readouterr().err.startswith(
        "liveagent-pipeline: '1.4' is not a DuckDB storage version: use a release like v1.4.0")
    assert not Path(warehouse.path).exists()


def hint(out: str) -> str:
    """The command on the line after "query it with"."""
    lines = out.splitlines()
    where = next(i for i, line in enumerate(lines) if line.endswith("query it with"))
    return lines[where + 1].strip()


def test_the_query_hint_runs_verbatim_in_a_shell(
    run_cli, warehouse: Warehouse, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli() == 0
    command = hint(capsys.readouterr().out)
    expected = warehouse.scalar("SELECT count(DISTINCT status) FROM {ds}.conversations")
    shown = subprocess.run(command, shell=True, cwd="/", capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0, shown.stderr
    header, rule, *rows = shown.stdout.splitlines()
    assert header.split() == ["status", "count_star()"] and set(rule) == {"-", " "}
    counts = {status: int(n) for status, n in (row.split() for row in rows)}
    assert len(counts) == expected and sum(counts.values()) == 120
    # on PATH (an activated venv), the hint names the command without its directory
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert run_cli("--resources", "tags") == 0
    assert hint(capsys.readouterr().out).startswith("liveagent-pipeline query --duckdb-path ")


def test_query_mistakes_are_usage_errors(
    run_cli, warehouse: Warehouse, capsys: pytest.CaptureFixture
) -> None:
    assert run_cli("--resources", "tags") == 0
    path = warehouse.path
    assert main(["query", "--duckdb-path", path, "SELECT * FROM liveagent.tickets"]) == 2
    assert "the query failed: Catalog Error" in capsys.readouterr().err
    assert main(["query", "--duckdb-path", path, "DELETE FROM liveagent.tags"]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["query", "--duckdb-path", "nowhere.duckdb", "SELECT 1"]) == 2
    assert "no DuckDB file at" in capsys.readouterr().err
    assert main(["query", "--duckdb-path", path, "--max-rows", "2",
                 "SELECT id FROM liveagent.tags ORDER BY id"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        "(more than 2 rows; --max-rows N shows more)"


def a_sqlite_database(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")


@pytest.mark.parametrize("make, what", [
    (lambda path: path.write_bytes(b""), "an empty file"),
    (lambda path: path.write_text("id,name\n1,acme\n" * 400), "a file of another kind"),
    # DuckDB would try to download its SQLite extension to open this one
    (a_sqlite_database, "a SQLite database"),
])
@pytest.mark.parametrize("read_copy", ["true", "false"])
def test_a_file_that_is_no_duckdb_database_is_named_and_left_alone(
    run_cli, warehouse: Warehouse, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, make, what: str, read_copy: str,
) -> None:
    monkeypatch.setenv("DESTINATION__DUCKDB__READ_COPY", read_copy)
    path = Path(warehouse.path)
    make(path)
    before = path.read_bytes()
    commands = [lambda: run_cli("--resources", "tags", "--progress-every", "0"),
                lambda: main(["status", "--duckdb-path", str(path)]),
                lambda: main(["query", "--duckdb-path", str(path), "SELECT 1"])]
    for command in commands:
        assert command() == 2
        err = capsys.readouterr().err
        assert err == f"liveagent-pipeline: {path} is {what}, not a DuckDB database: choose " \
            "another --duckdb-path, or move the file away to start a new warehouse there\n"
    assert path.read_bytes() == before
    assert not (path.parent / ".liveagent" / path.name).exists()
