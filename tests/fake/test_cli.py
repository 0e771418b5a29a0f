"""`python -m liveagent_fake` serves a standalone fake until it is stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from liveagent_fake.__main__ import parse_args


@contextmanager
def standalone_fake(*args: str) -> Iterator[str]:
    """The fake's base URL while `python -m liveagent_fake --port 0 ARGS` runs; it must exit
    cleanly on SIGTERM."""
    process = subprocess.Popen([sys.executable, "-m", "liveagent_fake", "--port", "0", *args],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        found = re.search(r"(http://127\.0\.0\.1:\d+)/api", process.stdout.readline())
        assert found is not None
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_standalone_fake_serves_and_stops_on_sigterm() -> None:
    with standalone_fake("--conversations", "250", "--timezone", "America/New_York",
                         "--api-key", "k-123") as url:
        rows = requests.get(f"{url}/api/conversations", params={"apikey": "k-123", "limit": 1000},
                            timeout=10).json()["response"]["conversations"]
        assert len(rows) == 250
        assert requests.get(f"{url}/api/tags", params={"apikey": "other"}, timeout=10) \
            .status_code == 401


def test_standalone_fake_takes_a_rate_limit_and_burst() -> None:
    with standalone_fake("--conversations", "10", "--requests-per-minute", "60",
                         "--burst", "2") as url:
        statuses = [requests.get(f"{url}/api/tags", params={"apikey": "test-api-key"},
                                 timeout=10).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert requests.get(f"{url}/_fake/stats", timeout=10).json()["by_status"] == \
            {"200": 2, "429": 1}


def test_standalone_fake_takes_several_keys_each_limited_and_revoked_by_the_hook() -> None:
    with standalone_fake("--conversations", "10", "--api-key", "k-1,k-2,k-3",
                         "--requests-per-minute", "60", "--burst", "1", "--limit-per-key") as url:
        statuses = [requests.get(f"{url}/api/tags", params={"apikey": key}, timeout=10)
                    .status_code for key in ("k-1", "k-1", "k-2")]
        assert statuses == [200, 429, 200]  # k-1's one request is spent, not k-2's
        requests.post(f"{url}/_fake/keys/revoke", data={"key": "k-3"}, timeout=10)
        assert requests.get(f"{url}/api/tags", params={"apikey": "k-3"}, timeout=10) \
            .status_code == 401


def test_standalone_fake_with_a_frozen_clock() -> None:
    with standalone_fake("--conversations", "10", "--frozen") as url:
        times = []
        for _ in range(2):
            times.append(requests.get(f"{url}/api/application/status",
                                      params={"apikey": "test-api-key"}, timeout=10)
                         .json()["response"]["current_server_time"])
            time.sleep(1.1)
        assert times[0] == times[1]


def test_standalone_fake_takes_real_world_behaviours() -> None:
    with standalone_fake("--conversations", "10", "--real-world", "no_cursor,null_tags") as url:
        rows = requests.get(f"{url}/api/conversations", params={"apikey": "test-api-key"},
                            timeout=10).json()["response"]["conversations"]
        assert len(rows) == 10
        assert not any("cursor" in row for row in rows)
        assert any(row["tags"] is None for row in rows)
        assert "" not in {row["tags"] for row in rows}


def test_unknown_real_world_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--real-world", "no_cursor,no_such_thing"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "unknown real-world behaviour(s) no_such_thing" in error
    assert "documented_examples" in error  # the valid names are listed


def test_standalone_fake_takes_a_business_hours_file(tmp_path) -> None:
    schedule = tmp_path / "hours.json"
    schedule.write_text(json.dumps({"hours": {"mon": ["09:00-17:00"]}}), encoding="utf-8")
    args = ["--conversations", "20", "--timezone", "Australia/Sydney"]
    assert parse_args([*args, "--business-hours", str(schedule)]).business_hours == \
        {"hours": {"mon": ["09:00-17:00"]}}
    with standalone_fake(*args, "--business-hours", str(schedule)) as url:
        params = {"apikey": "test-api-key", "date_from": "2000-01-01", "date_to": "2100-01-01"}
        rows = requests.get(f"{url}/api/reports/departments", params=params,
                            timeout=10).json()["response"]["departments"]
        assert sum(int(row["created_tickets"]) for row in rows) == 20
        # business time is a part of calendar time, and with Mondays only a small one
        assert all(int(row["newAnswerAvgTimeSla"]) <= int(row["newAnswerAvgTime"])
                   for row in rows)
        assert sum(int(row["newAnswerAvgTimeSla"]) for row in rows) < \
            sum(int(row["newAnswerAvgTime"]) for row in rows)


@pytest.mark.parametrize(("content", "message"), [
    ('{"hours": {"mon": ["9-17"]}}', "--business-hours: business_hours.hours.mon[0]: '9-17'"),
    ('{"timezone": "Nowhere/Else"}', "unknown time zone 'Nowhere/Else'"),
    ('["mon"]', "holds no JSON object"),
    ("{not json", "cannot read"),
])
def test_a_bad_business_hours_file_is_a_usage_error(
    tmp_path, capsys: pytest.CaptureFixture[str], content: str, message: str,
) -> None:
    schedule = tmp_path / "hours.json"
    schedule.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--business-hours", str(schedule)])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--business-hours", str(tmp_path / "missing.json")])
    assert "cannot read" in capsys.readouterr().err
