"""Progress of a long run on stderr: rows per table, API requests, rate-limit waits."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from dlt.common.runtime.collector_base import Collector

from sources.liveagent.client import RequestMetrics, process_metrics

_STEP_COUNTERS = {"normalize": "Items", "load": "Jobs"}  # what dlt counts in later steps


class Progress(Collector):
    """A dlt progress collector printing one line every `period` seconds while a step runs,
    and one when it ends; a ticker keeps lines coming while the run waits for the API."""

    def __init__(self, stream: TextIO | None = None, period: float = 10.0,
                 metrics: RequestMetrics = process_metrics) -> None:
        self.stream = stream or sys.stderr
        self.period = period
        self.metrics = metrics
        self.step = ""
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop_ticker = threading.Event()
        self._ticker: threading.Thread | None = None
        self._started = 0.0
        self._failed = False
        self._requests_at_start = 0
        self._waited_at_start = 0.0

    def update(self, name: str, inc: int = 1, total: int | None = None,
               inc_total: int | None = None, message: str | None = None,
               label: str | None = None) -> None:
        if label or name == "Resources" or name.startswith("_dlt"):
            return
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + inc

    def _start(self, step: str) -> None:
        self._counts = {}
        self._started = time.monotonic()
        self._requests_at_start = self.metrics.requests
        self._waited_at_start = self.metrics.waited
        self._stop_ticker.clear()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self._failed = exc_type is not None  # a failed step ends with the error line instead
        super().__exit__(exc_type, exc_val, exc_tb)

    def _stop(self) -> None:
        self._stop_ticker.set()
        if self._ticker is not None:
            self._ticker.join()
        if not self._failed:
            self.write(final=True)

    def _tick(self) -> None:
        while not self._stop_ticker.wait(self.period):
            self.write()

    def line(self, final: bool = False) -> str | None:
        """The progress line, or None when the step did nothing worth a line (dlt also runs
        a small extract of its own state)."""
        step = self.step.split()[0].lower() if self.step else "run"
        with self._lock:
            counts = dict(self._counts)
        if step in _STEP_COUNTERS:
            counts = {k: v for k, v in counts.items() if k == _STEP_COUNTERS[step]}
        parts = [f"{step} {'done in' if final else 'running'} "
                 f"{time.monotonic() - self._started:.0f}s"]
        if counts:
            parts.append(" · ".join(f"{name} {count:,}" for name, count in sorted(counts.items())))
        if step == "extract":
            requests = self.metrics.requests - self._requests_at_start
            if not counts and not requests:
                return None
            waited = self.metrics.waited - self._waited_at_start
            parts.append(f"{requests:,} API requests, {waited:.0f}s waiting for the rate limit")
        return " | ".join(parts)

    def write(self, final: bool = False) -> None:
        line = self.line(final)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()
