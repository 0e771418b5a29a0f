"""The README's quick start, run as written: `liveagent-pipeline demo` once for the module, its
printout compared with the README's transcript, and every SQL query of the docs run on the
warehouse it loaded."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.support import doc_block, doc_blocks, doc_env, run_doc_block

# queries that find nothing in a healthy warehouse after one run: rejected rows, and
# conversations whose status changed between two runs
EMPTY_AFTER_ONE_RUN = ("FROM liveagent.rejected_rows", "WHERE valid_to IS NOT NULL")
# what the README's transcript was taken in
DOC_DIR = "/tmp/demo-run"


@dataclass
class Demo:
    workdir: Path
    printed: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    workdir = tmp_path_factory.mktemp("demo-run")
    (workdir / ".venv").symlink_to(Path(sys.executable).parents[1])  # the venv "installed"
    env = doc_env(workdir / "dlt", scripts=None)  # the README runs .venv/bin/...
    done = run_doc_block(doc_block("demo"), workdir, env)
    assert done.returncode == 0, done.stdout
    return Demo(workdir, done.stdout, env)


def shape(transcript: str, workdir: str) -> list[str]:
    """The transcript with what varies by day and machine taken out: paths, every figure
    (counts, durations, dates), column widths, the rows of query results (how many stay),
    and the lines progress prints while a step runs (every 10 s: as many as the step takes)."""
    lines = []
    in_result = False
    for line in transcript.replace(workdir, DOC_DIR).splitlines():
        if re.match(r"(extract|normalize|load) running ", line):
            continue
        if re.fullmatch(r"[- ]*-[- ]*", line):  # the rule under a result's header
            in_result = True
        elif not line.strip():
            in_result = False
        elif in_result:
            line = "<row>"
        lines.append(" ".join(re.sub(r"\d[\d,.:]*", "N", line).split()))
    return lines


def test_the_demo_prints_what_the_readme_shows(demo: Demo) -> None:
    printed = demo.printed.replace(str(Path(sys.executable).parent), f"{DOC_DIR}/.venv/bin")
    assert shape(printed, str(demo.workdir)) == \
        shape(doc_block("demo-transcript").text, DOC_DIR)


def test_the_query_command_runs_on_the_demo_file(demo: Demo) -> None:
    done = run_doc_block(doc_block("demo-query"), demo.workdir, demo.env)
    assert done.returncode == 0, done.stdout
    statuses = duckdb.connect(str(demo.workdir / "demo.duckdb"), read_only=True).sql(
        "SELECT DISTINCT status FROM liveagent.conversations").fetchall()
    header, _rule, *rows = done.stdout.splitlines()
    assert header.split() == ["status", "count_star()"] and len(rows) == len(statuses)


def docs_queries() -> list[tuple[str, str]]:
    """Every SQL block of the docs on the raw tables (the marts' are run by
    tests/analytics/test_demo_queries.py)."""
    return [(block.where, block.text) for block in doc_blocks()
            if block.lang == "sql" and not block.marker]


def test_every_documented_query_runs_on_the_demo_warehouse(demo: Demo) -> None:
    queries = docs_queries()
    assert len(queries) >= 10
    with duckdb.connect(str(demo.workdir / "demo.duckdb"), read_only=True) as connection:
        for where, sql in queries:
            try:
                rows = connection.sql(sql).fetchall()
            except duckdb.Error as error:
                pytest.fail(f"{where}: {error}")
            assert rows or any(empty in sql for empty in EMPTY_AFTER_ONE_RUN), \
                f"{where} found nothing"


def test_the_shell_runs_nothing_after_a_failing_line(tmp_path: Path) -> None:
    """How a block is run: `set -e`, so a documented command that fails fails its block."""
    block = doc_block("demo-query")
    failing = type(block)(block.path, block.line, "sh", block.marker, "false\necho after\n")
    done = run_doc_block(failing, tmp_path, doc_env(tmp_path))
    assert done.returncode == 1 and "after" not in done.stdout
