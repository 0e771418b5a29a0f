"""What every scenario shares: figures for the table, the run context, small helpers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-api-key"
UNLIMITED_RPM = 1_000_000.0  # the connector's limiter out of the way


@dataclass
class Figure:
    """One row of the results table."""

    scenario: str
    figure: str
    value: Any
    target: str = ""
    met: bool | None = None  # None: informational, no target

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScenarioResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, value: Any, target: str = "", met: bool | None = None
            ) -> None:
        self.figures.append(Figure(self.name, figure, value, target, met))


@dataclass
class Context:
    quick: bool
    workdir: Path  # a temporary directory, removed at the end
    sizes: tuple[int, ...] | None = None  # throughput: account sizes instead of the defaults
    format_size: int | None = None  # throughput: format comparison size, 0 skips it
    postgres_dsn: str | None = None  # started on demand by the throughput scenario
    # saves a long scenario's partial result with the finished ones
    checkpoint: Callable[[ScenarioResult], None] = lambda partial: None

    def path(self, *parts: str) -> Path:
        target = self.workdir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a fake or pipeline subprocess: no telemetry, the project importable."""
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def say(message: str) -> None:
    """Progress on stderr, time-stamped (the table goes to stdout)."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")
