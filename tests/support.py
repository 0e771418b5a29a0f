"""Helpers shared by the tests: an HTTP client of the fake and account factories."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
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
