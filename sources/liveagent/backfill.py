"""The backfill of the conversation family: newest first, history behind, in bounded windows.

The first load on a new target reads what changed in the last `priority_days` (the incremental
part, which every later load continues from its high-water mark); once that is caught up,
each load also reads at most one window of history, newest first, down to the start date.
A conversation that changes while its old window is unread leaves that window (the windows
are ranges of `datechanged`) and is read once, by the incremental part.

`Backfill` is the one record of this progress, kept in the source state (key `backfill`) so
that it commits with each load; the runner, the status command and the reports read it
through `Backfill.of(...)`, never by path.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

STATE_KEY = "backfill"


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Backfill:
    """Where the conversation family stands. Times are UTC `datechanged` values."""

    high_water: str | None = None  # the newest change loaded; the incremental part reads on
    boundary: list[str] = field(default_factory=list)  # digests of rows loaded at high_water
    catch_up: list[str] = field(default_factory=list)  # where following catch-up loads end
    catching_up: bool = False  # the incremental part has more than one load's worth left
    history_to: str | None = None  # history changed before this is not loaded yet
    history_from: str | None = None  # ...down to this (the start date; None: the beginning)
    history_planned: bool = False  # the first history listing has planned the windows
    history_cuts: list[str] = field(default_factory=list)  # lower edges of windows left
    history_rows: int = 0  # rows planned in the windows left (an estimate: rows move)
    earliest_created: str | None = None  # the oldest conversation seen (bounds report days)

    @classmethod
    def of(cls, source_state: Mapping[str, Any]) -> Backfill:
        saved = source_state.get(STATE_KEY)
        if saved:
            return cls(**saved)
        return cls._from_older_state(source_state)

    @classmethod
    def _from_older_state(cls, source_state: Mapping[str, Any]) -> Backfill:
        """Picks up a target loaded before this record existed: dlt's incremental state of
        `conversations` (its last value) and the earliest-first backfill's cuts."""
        resource = source_state.get("resources", {}).get("conversations", {})
        last = resource.get("incremental", {}).get("datechanged", {}).get("last_value")
        return cls(high_water=_text(last) if isinstance(last, datetime) else last,
                   catch_up=list(resource.get("cuts", [])),
                   catching_up=bool(resource.get("pending")))

    def save(self, source_state: MutableMapping[str, Any]) -> None:
        source_state[STATE_KEY] = asdict(self)

    # -- named readings ------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self.high_water is not None

    @property
    def history_left(self) -> bool:
        return self.history_to is not None

    @property
    def counted(self) -> bool:
        """Whether the history's conversations were counted (the first history window lists
        them all and plans the windows); before that, what is left is not known."""
        return self.history_planned or not self.history_left

    @property
    def windows_left(self) -> int | None:
        if not self.history_left:
            return 0
        return len(self.history_cuts) + 1 if self.history_planned else None

    @property
    def conversations_left(self) -> int | None:
        """About how many conversations the history still holds (an estimate: rows move);
        None while not counted yet."""
        if not self.history_left:
            return 0
        return self.history_rows if self.history_planned else None

    @property
    def pending(self) -> bool:
        """Whether another load has conversation work left (catch-up or history)."""
        return self.catching_up or self.history_left

    def high_water_time(self) -> datetime | None:
        return _time(self.high_water)

    def history_range(self) -> tuple[datetime | None, datetime | None]:
        return _time(self.history_from), _time(self.history_to)

    def requests_left(self, requests_per_row: int) -> int | None:
        """About how many requests the history left costs: each conversation's own requests
        and the windows' listing pages (None while not counted)."""
        rows, windows = self.conversations_left, self.windows_left
        if rows is None or windows is None:
            return None
        if not self.history_left:
            return 0
        return rows * requests_per_row + rows // 1000 + windows

    def saw_created(self, earliest: datetime | None) -> None:
        if earliest is not None and (self.earliest_created is None
                                     or earliest < datetime.fromisoformat(self.earliest_created)):
            self.earliest_created = earliest.isoformat()
