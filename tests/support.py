"""Helpers shared by the tests: an HTTP client of the fake, account factories, scans of a
folder's files for secrets, and the fenced blocks of the documentation (README.md and
docs/*.md) that the tests in tests/docs/ run."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
import requests

from liveagent_fake.clock import Clock
from liveagent_fake.dataset import DatasetConfig
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent

ZONE = "Europe/Bratislava"  # the time zone of the accounts the pipeline tests load
NOW = 1_760_000_000  # 2025-10-09 08:53:20 UTC, 10:53:20 in Europe/Bratislava (CEST)


class Api:
    """Calls the fake over HTTP with the API key, as a client of the real API would."""

    def __init__(self, fake: FakeLiveAgent) -> None:
        self.fake = fake
        self.session = requests.Session()

    def call(self, method: str, path: str, **params: object) -> requests.Response:
        params = {"apikey": self.fake.api_key, **params}
        url = self.fake.url + path
        if method == "GET":
            return self.session.get(url, params=params, timeout=30)
        return self.session.request(method, url, data=params, timeout=30)

    def get(self, path: str, **params: object) -> dict:
        response = self.call("GET", path, **params)
        assert response.status_code == 200, response.text
        return response.json()["response"]

    def all_conversations(self, limit: int = 1000, **filters: object) -> list[dict]:
        """Every row, following the per-row cursor to the end."""
        rows: list[dict] = []
        cursor = None
        while True:
            params = {"limit": limit, **filters}
            if cursor:
                params["cursor"] = cursor
            page = self.get("/api/conversations", **params)["conversations"]
            rows.extend(page)
            if len(page) < limit:
                return rows
            cursor = page[-1]["cursor"]

    def all_conversations_by_offset(self, limit: int = 1000, **filters: object) -> list[dict]:
        """Every row, paging with `limit` + `offset` as the public clients do."""
        rows: list[dict] = []
        while True:
            page = self.get("/api/conversations", limit=limit, offset=len(rows), **filters)
            rows.extend(page["conversations"])
            if len(page["conversations"]) < limit:
                return rows


def make_account(conversations: int = 60, timezone: str = "Europe/Bratislava", days: int = 30,
                 business_hours: dict | None = None, **config) -> Account:
    return Account(DatasetConfig(conversations=conversations, days=days, end=NOW, **config),
                   clock=Clock(NOW), timezone=timezone, business_hours=business_hours)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def walked_business_seconds(schedule: dict | None, timezone: str, start: int, end: int,
                            department_id: str | None = None) -> int:
    """Business seconds in [start, end), found the slow obvious way: walking the clock minute by
    minute, an instant is open when its local date is no holiday and its local time of day lies
    in one of its weekday's "HH:MM-HH:MM" ranges. (The same as the schedule's own reading for
    ranges whose ends avoid the hour a DST change skips or repeats.)"""
    schedule = schedule or {}
    spec = {key: value for key, value in schedule.items() if key != "departments"}
    spec.update(schedule.get("departments", {}).get(department_id, {}))
    zone = ZoneInfo(spec.get("timezone", timezone))
    holidays = set(spec.get("holidays", []))
    total, at = 0, start
    while at < end:
        step = min(60 - at % 60, end - at)  # to the next whole minute
        local = datetime.fromtimestamp(at, zone)
        ranges = spec["hours"].get(WEEKDAYS[local.weekday()], []) if "hours" in spec \
            else ["00:00-24:00"]
        clock = local.strftime("%H:%M")
        if local.date().isoformat() not in holidays and \
                any(r[:5] <= clock < r[6:] for r in ranges):
            total += step
        at += step
    return total


# the tables the data contract covers (the API's own; not dlt's, labels or histories)
CONTRACT_TABLES = {
    "conversations", "conversation_tags", "message_groups", "messages", "companies",
    "knowledgebases", "kb_entries", "tags", "customer_groups", "suggestion_categories", "agents",
    "agent_online_status", "report_agents", "report_channels", "report_departments",
    "report_tags", "report_performance", "report_tickets_load", "report_sla_compliance",
    "report_sla_log", "report_agents_availability",
}


def configure(env: pytest.MonkeyPatch, fake: FakeLiveAgent, work: Path) -> Path:
    """The environment as a user would set it for the fake's account, run in `work`; returns
    `work`."""
    env.chdir(work)
    env.setenv("SOURCES__LIVEAGENT__BASE_URL", fake.url + "/api/")
    env.setenv("SOURCES__LIVEAGENT__API_KEY", fake.api_key)
    env.setenv("SOURCES__LIVEAGENT__TIMEZONE", ZONE)
    env.setenv("SOURCES__LIVEAGENT__START_DATE", "2025-09-09")
    env.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1000000")
    return work


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"response"}
    error = body["response"]
    assert set(error) == {"status", "statuscode", "errormessage", "debugmessage"}
    assert error["status"] == "ERROR"
    assert error["statuscode"] == status
    assert error["errormessage"]
    return error


ROOT = Path(__file__).parents[1]
# a fenced block, with the HTML comment right before it (its doc-test marker), if any
_FENCED = re.compile(r"(?:^<!-- (?P<marker>.*?) -->\n)?^```(?P<lang>[^\n`]*)\n(?P<text>.*?)^```$",
                     re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class DocBlock:
    """A fenced block of the documentation. `marker` is the HTML comment before it:
    `doc-test: NAME` (a block a test in tests/docs/ runs, or a transcript it compares, by that
    name), `doc-test: not run: REASON`, `doc-test: not compared: REASON`, or another tool's
    (`test-command`: .ci/run; `analyst-query`: tests/analytics/test_demo_queries.py)."""

    path: Path
    line: int
    lang: str
    marker: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def name(self) -> str:
        """The NAME of a `doc-test: NAME` marker, else ''."""
        found = re.fullmatch(r"doc-test: ([a-z0-9-]+)", self.marker)
        return found.group(1) if found else ""

    def commands(self) -> list[str]:
        """The block's shell lines without their comments and blank lines."""
        lines = (re.sub(r"\s+#\s.*$", "", line).strip() for line in self.text.splitlines())
        return [line for line in lines if line and not line.startswith("#")]


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def doc_blocks() -> list[DocBlock]:
    blocks = []
    for path in doc_pages():
        text = path.read_text(encoding="utf-8")
        for found in _FENCED.finditer(text):
            blocks.append(DocBlock(path, text.count("\n", 0, found.start("lang")) + 1,
                                   found["lang"].strip(), found["marker"] or "", found["text"]))
    return blocks


def doc_block(name: str) -> DocBlock:
    """The one block marked `<!-- doc-test: NAME -->`."""
    [block] = [block for block in doc_blocks() if block.name == name]
    return block


# lines that install the project: CI's own install (the README's test command) runs them
_INSTALL = re.compile(r"^(python3\.11 -m venv |\S*pip install )")


def run_doc_block(block: DocBlock, cwd: Path, env: dict[str, str],
                  substitutions: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs a shell block as one bash script (`set -e`, so its `export`s hold for the lines
    after them) in `cwd`, with every `substitutions` key replaced by its value (the docs'
    account URL by the fake's, ...); stdout and stderr together, as a terminal shows them."""
    lines = [line for line in block.text.splitlines() if not _INSTALL.match(line)]
    script = "\n".join(lines)
    for placeholder, value in (substitutions or {}).items():
        script = script.replace(placeholder, value)
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=240)


def doc_env(data_dir: Path, scripts: Path | None = Path(sys.executable).parent,
            **variables: str) -> dict[str, str]:
    """The environment a doc block runs in: a venv's `scripts` on PATH (this one's unless
    told), dlt's data directory (the default pipelines directory) in `data_dir`, no LiveAgent
    settings but `variables`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SOURCES__", "LIVEAGENT__", "DESTINATION__"))}
    if scripts:
        env["PATH"] = f"{scripts}{os.pathsep}{env.get('PATH', '')}"
    env.update(DLT_DATA_DIR=str(data_dir), RUNTIME__DLTHUB_TELEMETRY="false", **variables)
    return env


def texts_under(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every file below `folder` as text: gzip unpacked, parquet read, the rest as bytes."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        if raw[:4] == b"PAR1":
            yield path, str(pq.read_table(path).to_pylist())
        else:
            yield path, raw.decode("utf-8", "replace")


def assert_nowhere(secrets: list[str], configured: Path, *outputs: str) -> None:
    for output in outputs:
        for secret in secrets:
            assert secret not in output
    for path, text in texts_under(configured):
        for secret in secrets:
            assert secret not in text, path
