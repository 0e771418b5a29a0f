"""Progress of a long run on stderr: one short line per period with the step, the
conversations read of those listed, API requests made and known to be left with the time they
take at the rate limit, and the share of time the limit held the run back; a load's jobs. The
rows per table are in the summary at the end."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from dlt.common.runtime.collector_base import Collector

from sources.liveagent.client import RequestMetrics

JOBS = "Jobs"  # dlt's load step counts its jobs under this name
# an extract that went at least at this share of the rate limit is held to it, and its
# requests left take their number over the rate (measured at 2,400/min: the pace was the rate
# with 32% of the time held back, as the extracting thread's reads come about as fast as
# permits); slower, it waits for the account, and the rate tells nothing of the time left
AT_THE_RATE = 0.5


class Progress(Collector):
    """A dlt progress collector printing one line every `period` seconds while a step runs,
    and one when it ends; a ticker keeps lines coming while the run waits for the API."""

    def __init__(self, stream: TextIO | None = None, period: float = 10.0,
                 metrics: RequestMetrics | None = None) -> None:
        self.stream = stream or sys.stderr
        self.period = period
        self.metrics = metrics or RequestMetrics()  # the run's (RunContext.metrics)
        self.step = ""
        self._counts: dict[str, int] = {}
        self._totals: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop_ticker = threading.Event()
        self._ticker: threading.Thread | None = None
        self._started = 0.0
        self._failed = False
        self._requests_at_start = 0
        self._messages_at_start = 0
        self._waited_at_start = 0.0
        self._listings_at_start = 0

    def update(self, name: str, inc: int = 1, total: int | None = None,
               inc_total: int | None = None, message: str | None = None,
               label: str | None = None) -> None:
        if label or name == "Resources" or name.startswith("_dlt"):
            return
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + inc
            if total is not None:
                self._totals[name] = total
            if inc_total:  # dlt 1.31 adds a package's merge jobs as its tables complete
                # (Load.create_followup_jobs, load.py:465): 24 jobs grew to 46 (22 merges)
                self._totals[name] = self._totals.get(name, 0) + inc_total

    def _start(self, step: str) -> None:
        self._counts, self._totals = {}, {}
        self._started = time.monotonic()
        self._requests_at_start = self.metrics.requests
        self._messages_at_start = self.metrics.by_kind["messages"]
        self._waited_at_start = self.metrics.waited
        self._listings_at_start = self.metrics.listings_done
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
        """The progress line (under 120 characters up to 10,000 conversations a load), or None
        when the step did nothing worth a line (dlt also runs a small extract of its own
        state)."""
        step = self.step.split()[0].lower() if self.step else "run"
        elapsed = time.monotonic() - self._started
        with self._lock:
            counts, totals = dict(self._counts), dict(self._totals)
        head = f"{step} {'done in' if final else 'running'} {clock(elapsed)}"
        if step == "load" and counts.get(JOBS):
            return f"{head} · {_jobs(counts[JOBS], totals.get(JOBS, 0), final)}"
        if step != "extract":
            return head
        requests = self.metrics.requests - self._requests_at_start
        if not counts and not requests:
            return None
        parts = [head]
        listed = counts.get("conversations", 0)
        if listed:  # each listed conversation costs one messages request
            read = min(listed, self.metrics.by_kind["messages"] - self._messages_at_start)
            parts.append(f"{read:,}/{listed:,} conversations read")
        throttled = (self.metrics.waited - self._waited_at_start) / elapsed if elapsed else 0
        left = "" if final else self._left(requests / elapsed if elapsed else 0.0)
        parts.append(f"{requests:,} requests{left}")
        parts.append(f"throttled {throttled:.0%}")
        return " · ".join(parts)

    def _left(self, pace: float) -> str:
        """', 1,597+ left, ETA ≥8m52s': the requests the source planned and has not made yet
        ('+' and '≥' while this extract's conversation listing may plan more), and the time
        they take at the rate limit when the extract goes at it (`pace`, requests a second;
        AT_THE_RATE). Not rows read per second: an extract reads reports and lists
        conversations before it reads messages."""
        left, rate = self.metrics.due, (self.metrics.per_minute or 0) / 60
        if not left:
            return ""
        more = "+" if self.metrics.listings_done == self._listings_at_start else ""
        if not rate or pace < AT_THE_RATE * rate:
            return f", {left:,}{more} left"
        return f", {left:,}{more} left, ETA {'≥' if more else ''}{clock(left / rate)}"

    def write(self, final: bool = False) -> None:
        line = self.line(final)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()


def clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m" if hours else f"{minute}m{second:02d}s" if minute \
        else f"{second}s"


def _jobs(done: int, total: int, final: bool) -> str:
    """'46/46 jobs' at the end of a load; while it runs, the total is what dlt knows so far
    (merge jobs join it as tables complete), so no share or ETA is made of it."""
    return f"{done:,}/{total:,} jobs{'' if final else ' so far'}"

