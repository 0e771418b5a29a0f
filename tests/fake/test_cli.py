"""`python -m liveagent_fake` serves a standalone fake until it is stopped."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests


def test_standalone_fake_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "liveagent_fake", "--port", "0", "--conversations", "250",
         "--timezone", "America/New_York", "--api-key", "k-123"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/api", banner).group(1)
        rows = requests.get(f"{url}/api/conversations", params={"apikey": "k-123", "limit": 1000},
                            timeout=10).json()["response"]["conversations"]
        assert len(rows) == 250
        assert requests.get(f"{url}/api/tags", params={"apikey": "other"}, timeout=10) \
            .status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
