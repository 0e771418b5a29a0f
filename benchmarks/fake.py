"""The fake LiveAgent API in a subprocess, so the pipeline's CPU and memory are its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import requests

from .common import API_KEY, ROOT, child_env

_BANNER = re.compile(r"(http://[^/\s]+)/api")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class FakeConfig:
    conversations: int
    requests_per_minute: float | None = None
    burst: float | None = None
    latency: float = 0.0
    timezone: str = "GMT"
    days: int = 90
    seed: int = 7
    api_keys: tuple[str, ...] = (API_KEY,)
    limit_per_key: bool = False  # requests_per_minute for each key apart, as LiveAgent's
    messages_per_conversation: float = 5.0
    frozen: bool = False  # the account's clock stopped: runs at different times see the same


    def argv(self) -> list[str]:
        args = ["--port", "0", "--conversations", str(self.conversations),
                "--timezone", self.timezone, "--days", str(self.days), "--seed", str(self.seed),
                "--api-key", ",".join(self.api_keys), "--latency", str(self.latency),
                "--messages-per-conversation", str(self.messages_per_conversation)]
        if self.limit_per_key:
            args.append("--limit-per-key")
        if self.frozen:
            args.append("--frozen")
        if self.requests_per_minute:
            args += ["--requests-per-minute", str(self.requests_per_minute)]
        if self.burst:
            args += ["--burst", str(self.burst)]
        return args


class FakeProcess:
    """`python -m liveagent_fake` on a free loopback port; a context manager."""

    def __init__(self, config: FakeConfig, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self.session = requests.Session()

    def __enter__(self) -> FakeProcess:
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "liveagent_fake", *self.config.argv()],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT, env=child_env(),
        )
        assert self._process.stdout is not None
        banner = self._process.stdout.readline()
        found = _BANNER.search(banner)
        if found is None:
            self.__exit__()
            raise RuntimeError(f"the fake did not start: {banner!r}; see {self.log_path}")
        self.url = found.group(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    # -- the fake's own counters ---------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return self.session.get(f"{self.url}/_fake/stats", timeout=30).json()

    def reset_stats(self) -> None:
        self.session.post(f"{self.url}/_fake/stats/reset", timeout=30).raise_for_status()

    def revoke_key(self, key: str) -> None:
        """An admin deletes `key`: the fake answers it 401 from now on."""
        self.session.post(f"{self.url}/_fake/keys/revoke", data={"key": key},
                          timeout=30).raise_for_status()

    def cpu_seconds(self) -> float:
        """User plus system CPU time the fake has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    # -- the API, as a client outside the connector --------------------------------------
    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/api/{path}",
                                    params={"apikey": API_KEY, **params}, timeout=60)
        response.raise_for_status()
        return response.json()["response"]

    def put(self, path: str, **form: Any) -> None:
        response = self.session.put(f"{self.url}/api/{path}", data={"apikey": API_KEY, **form},
                                    timeout=60)
        response.raise_for_status()

    def delete(self, path: str) -> None:
        response = self.session.delete(f"{self.url}/api/{path}", params={"apikey": API_KEY},
                                       timeout=60)
        response.raise_for_status()

    def conversation_ids(self, **filters: Any) -> list[str]:
        """Every conversation id (matching `filters`), following the per-row cursor."""
        ids: list[str] = []
        params: dict[str, Any] = {"limit": 1000, **filters}
        while True:
            page = self.get("conversations", **params)["conversations"]
            ids += [row["conversationid"] for row in page]
            if len(page) < 1000:
                return ids
            params["cursor"] = page[-1]["cursor"]

    def today(self) -> date:
        """The account's date (its clock in its time zone), as the connector sees it."""
        now = self.get("application/status")["current_server_time"]
        return date.fromisoformat(now[:10])
