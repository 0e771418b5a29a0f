"""A run's time box (`--max-duration`): the first load brings the warehouse up to date, whatever
it takes; the history follows in loads sized to the seconds left when each starts (the
source counts every kind of history request: sources/liveagent/timebox.py), and no load starts
that could not read any of it. A box too small for any history says so, with one that fits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sources.liveagent.coverage import Coverage
from sources.liveagent.key_pool import api_keys, pool_per_minute
from sources.liveagent.settings import CONVERSATIONS
from sources.liveagent.timebox import catch_up_load, smallest_history_load


@dataclass
class TimeBox:
    """The box of one run, from its start (`time.monotonic()`), and what the source's settings
    make a history load cost."""

    seconds: float
    started: float
    requests_per_minute: float
    requests_per_row: int  # a history conversation's requests (messages; details when on)
    per_load: int  # conversations per load
    up_to_date: float | None = None  # seconds the first load took
    first: Coverage | None = None  # the history as the first load left it

    @classmethod
    def of(cls, seconds: float, started: float, settings: Mapping[str, Any]) -> TimeBox:
        """The box of a run whose source resolves `settings` (configuration.source_settings)."""
        keys = len(api_keys(settings["api_key"]))
        return cls(seconds, started,
                   float(pool_per_minute(keys, float(settings["requests_per_minute"]))),
                   2 if settings["conversation_details"] else 1,
                   int(settings["conversations_per_load"]))

    @property
    def deadline(self) -> float:
        return self.started + self.seconds

    def budget(self, loads: int, after_extract: float) -> float:
        """The seconds the next load's extract may take: none for history in the first load
        (whose up-to-date part is not cut short, and takes what it takes: history sized
        before it ran overran the box), else what is left but its own normalize and load,
        taken to last as long as the last load's (`after_extract`)."""
        if loads == 0:
            return 0.0
        return self.deadline - time.monotonic() - after_extract

    def loaded(self, loads: int, coverage: Coverage) -> None:
        """Notes how far the first load went (`loads`: how many the run committed)."""
        if loads == 1:
            self.up_to_date, self.first = time.monotonic() - self.started, coverage

    def spent(self, pending: list[str], coverage: Coverage, after_extract: float) -> str | None:
        """None while a history load of the `pending` tables fits in what is left, else what
        the run says: that the box is spent, or, when it read no history, that it is too
        small, and which box would read some."""
        rate = self.requests_per_minute / 60
        needed = smallest_history_load(
            rate, self.requests_per_row, self.per_load, CONVERSATIONS.name in pending,
            any(name != CONVERSATIONS.name for name in pending))
        catching_up = coverage.conversations.catching_up
        if catching_up:  # the next load reads a whole chunk of changes: it must fit
            needed = max(needed, catch_up_load(rate, self.requests_per_row, self.per_load))
        if self.budget(1, after_extract) >= needed:
            return None
        if coverage != self.first or catching_up:
            return f"the time box of {self.seconds:.0f}s is spent: the backfill goes on in " \
                "the next run"
        up_to_date = self.up_to_date or 0.0
        fits = _rounded_up(up_to_date + after_extract + needed)
        return (f"the time box of {self.seconds:.0f}s is too small for any history: bringing "
                f"the warehouse up to date took {up_to_date:.0f}s of it, and the smallest "
                f"history load {needed + after_extract:.0f}s more at "
                f"{self.requests_per_minute:g} requests/min; with this box the backfill makes "
                f"no progress: give --max-duration {fits} or more")


def _rounded_up(seconds: float) -> str:
    """A box a little above `seconds` (a fifth more, for the up-to-date part's ups and
    downs), as --max-duration takes it: 45s, 2m."""
    seconds *= 1.2
    if seconds < 60:
        return f"{5 * math.ceil(seconds / 5):.0f}s"
    return f"{math.ceil(seconds / 60):.0f}m"
