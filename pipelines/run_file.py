"""What a running run says about itself: which process, since when, in which step, how far.

`<pipelines dir>/<pipeline>.run.json`, beside the run lock: written when a run takes the lock,
rewritten every few seconds while it runs and at each step, removed when it ends. `status`
reads it to say whether a run is going and how far it is, without taking the lock (which would
hold up the run), and a second run that finds the target busy names the first from it. A file
left by a killed run names a process that is gone, and is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

Snapshot = Callable[[], Mapping[str, Any]]


def run_file_path(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f"{pipeline_name}.run.json"


class RunFile:
    """The file of one run, while it holds its target."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self._snapshot: Snapshot | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, **changes: Any) -> None:
        """Records `changes` (and what the followed snapshot says now), replacing the file
        whole, so a reader never finds half of it."""
        with self._lock:
            self.fields.update(changes)
            if self._snapshot is not None:
                self.fields.update(self._snapshot())
            self.fields["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            staged = self.path.with_name(self.path.name + ".tmp")
            staged.write_text(json.dumps(self.fields, default=str))
            os.replace(staged, self.path)

    def follow(self, snapshot: Snapshot, period: float = 2.0) -> None:
        """Writes what `snapshot` returns every `period` seconds until `close`."""
        self._snapshot = snapshot
        self._ticker = threading.Thread(target=self._tick, args=(period,), name="run-file",
                                        daemon=True)
        self._ticker.start()

    def _tick(self, period: float) -> None:
        while not self._stop.wait(period):
            # a full disk fails the run elsewhere, with its own message
            with contextlib.suppress(OSError):
                self.write()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.path.unlink(missing_ok=True)


def read_run_file(path: Path) -> dict[str, Any] | None:
    """What the run that holds the target says, or None when no run is going (no file, or
    the file of a process that is gone)."""
    try:
        fields: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return fields if _alive(fields.get("pid")) else None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
