"""The docs' commands for an account, run as written against the fake (one for the module):
the README's "Connecting your account", dlt's pipeline commands and the diagram, the DuckDB
file's commands, "Forget a person" and the cron line, in that order on one warehouse."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.support import (
    ZONE,
    DocBlock,
    doc_block,
    doc_blocks,
    doc_env,
    make_account,
    run_doc_block,
)

SALT = "docs-test-salt"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLiveAgent]:
    with FakeLiveAgent(make_account(conversations=20, timezone=ZONE)) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("operating")


@pytest.fixture(scope="module")
def env(workdir: Path) -> dict[str, str]:
    # the fake's data ends on 2025-10-09 (tests/support.py's NOW); no rate limit, for speed;
    # the salt forget needs
    return doc_env(workdir / "dlt", SOURCES__LIVEAGENT__START_DATE="2025-09-09",
                   SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE="1000000",
                   SOURCES__LIVEAGENT__PRIVACY_SALT=SALT)


@pytest.fixture(scope="module")
def account_settings(fake: FakeLiveAgent) -> dict[str, str]:
    """The docs' example account and key, as the fake's."""
    return {"https://acme.ladesk.com": fake.url, "your-api-v1-key": fake.api_key}


@pytest.fixture(scope="module")
def connected(workdir: Path, env: dict[str, str], account_settings: dict[str, str]) -> str:
    done = run_doc_block(doc_block("connect"), workdir, env, account_settings)
    assert done.returncode == 0, done.stdout
    return done.stdout


def test_connecting_an_account_loads_it_and_status_says_so(connected: str) -> None:
    assert re.search(r"^liveagent-pipeline: loaded \d+ rows", connected, re.MULTILINE)
    assert "dlt pipeline: liveagent in " in connected
    assert "liveagent-pipeline status of " in connected and "backfill complete" in connected


def test_dlt_pipeline_commands_work_on_the_run(connected: str, workdir: Path,
                                               env: dict[str, str]) -> None:
    done = run_doc_block(doc_block("dlt-pipeline"), workdir, env)
    assert done.returncode == 0, done.stdout
    assert "Found pipeline liveagent in" in done.stdout
    assert "is LOADED and contains no failed jobs" in done.stdout  # trace
    assert "No failed jobs found" in done.stdout  # failed-jobs


def test_the_diagram_is_valid_mermaid(connected: str, workdir: Path,
                                      env: dict[str, str]) -> None:
    done = run_doc_block(doc_block("mermaid"), workdir, env)
    assert done.returncode == 0, done.stdout
    first, *lines = (workdir / "liveagent.mmd").read_text().splitlines()
    assert first == "erDiagram"
    entity, column = re.compile(r"    \w+\{"), re.compile(r'    \w+ \w+( [PFU]K)*( "[^"]*")?')
    relation = re.compile(r'    \w+ [}|][|o]--[|o][|{] \w+ : "[^"]*"')
    odd = [line for line in lines if line.strip() and line != "}" and not any(
        pattern.fullmatch(line) for pattern in (entity, column, relation))]
    assert odd == []
    assert '    messages }|--|| conversations : "of"' in lines


def test_query_and_convert_duckdb(connected: str, workdir: Path, env: dict[str, str]) -> None:
    done = run_doc_block(doc_block("duckdb-file"), workdir, env)
    assert done.returncode == 0, done.stdout
    assert re.search(r"^agents\s+\d+", done.stdout, re.MULTILINE)
    assert (workdir / "warehouse.duckdb.v1.4.0.bak").exists()  # kept by the first conversion


def forget_section() -> tuple[DocBlock, DocBlock]:
    """The command and the printout of docs/privacy.md's "Forget a person" (moved there
    verbatim, so found by its heading rather than by a marker)."""
    page = Path(doc_block("connect").path).parent / "docs" / "privacy.md"
    start = page.read_text().splitlines().index("### Forget a person")
    commands, printed = [block for block in doc_blocks()
                         if block.path == page and block.line > start][:2]
    return commands, printed


def test_forget_a_person_as_the_docs_say(connected: str, workdir: Path, env: dict[str, str],
                                         fake: FakeLiveAgent) -> None:
    commands, printed = forget_section()
    customer = fake.account.customer(fake.account.record(0).owner)
    done = run_doc_block(commands, workdir, env, {"quinn.tanaka@example.org": customer.email,
                                                  "uqy3rm8g": customer.contactid})
    assert done.returncode == 0, done.stdout

    def shape(text: str) -> list[str]:
        """Without the per-table lines (which tables hold the contact varies), the figures
        and paths."""
        return [re.sub(r"\d+|/\S+duckdb|contact [0-9a-f]+", "N",
                       line.replace("packages", "package"))
                for line in text.splitlines() if not line.startswith("  ")]
    first_forget = done.stdout.split("nothing left to forget")[0]
    assert shape(first_forget)[:len(shape(printed.text))] == shape(printed.text)
    assert "nothing left to forget" in done.stdout  # the contact id names the same person


def test_the_cron_line_runs_as_cron_would(connected: str, workdir: Path, env: dict[str, str],
                                          fake: FakeLiveAgent) -> None:
    """The crontab line's command, run by `sh` in cron's bare environment, on the warehouse the
    connecting run loaded (an incremental run, as every tick after the first)."""
    cron = doc_block("cron")
    assert doc_block("cron-readme").text == cron.text  # the README quotes the same line
    command = cron.text.strip().split(None, 5)[5]  # after the five time fields
    (workdir / ".venv").symlink_to(Path(env["PATH"].split(os.pathsep)[0]).parent)
    (workdir / ".env").write_text(f"SOURCES__LIVEAGENT__BASE_URL={fake.url}\n"
                                  f"SOURCES__LIVEAGENT__API_KEY={fake.api_key}\n"
                                  f"SOURCES__LIVEAGENT__TIMEZONE={ZONE}\n"
                                  "SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE=1000000\n"
                                  f"SOURCES__LIVEAGENT__PRIVACY_SALT={SALT}\n")
    command = command.replace("/srv/liveagent", str(workdir))
    # cron's environment: a bare PATH; dlt's data directory as the other commands had it
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir),
                "DLT_DATA_DIR": env["DLT_DATA_DIR"], "RUNTIME__DLTHUB_TELEMETRY": "false"}
    assert subprocess.run(["sh", "-c", command], env=cron_env, timeout=240).returncode == 0
    log = (workdir / "liveagent.log").read_text()
    assert re.search(r"^liveagent-pipeline: (loaded \d+ rows|no new or changed rows)", log,
                     re.MULTILINE), log
