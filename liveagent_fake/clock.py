"""The fake account's clock: real time by default, frozen or shifted by tests."""

from __future__ import annotations

import threading
import time


class Clock:
    """Epoch seconds (UTC). `freeze` pins it, `advance` moves it, `unfreeze` lets it run."""

    def __init__(self, now: float | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: float | None = now
        self._offset = 0.0

    def now(self) -> int:
        with self._lock:
            if self._frozen is not None:
                return int(self._frozen)
            return int(time.time() + self._offset)

    def freeze(self, at: float | None = None) -> None:
        with self._lock:
            self._frozen = time.time() + self._offset if at is None else float(at)

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
            self._frozen = None

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds
