"""Starts `benchmarks._pipeline_child` for one pipeline run and reads its result line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._pipeline_child import MARKER
from .common import API_KEY, ROOT, child_env
from .fake import FakeProcess

DEFAULT_TIMEOUT = 3 * 3600.0
# a run above this is stopped, so that a memory-hungry loader cannot starve the machine
RSS_LIMIT_MB = 10_240.0
POLL_SECONDS = 1.0


def pipeline_spec(
    fake: FakeProcess, workdir: Path, name: str, *, destination: str = "duckdb",
    resources: list[str] | None = None, start_date: str | None = None,
    loader_file_format: str | None = None, reconcile: bool = False,
    max_duration: float | None = None, duckdb_storage_version: str | None = None,
    read_copy: bool | None = None, **source: Any,
) -> dict[str, Any]:
    """A run of our source into `workdir/<name>_data.duckdb` (or a Postgres schema `name`)
    with its own pipelines directory, so no two runs share state unless they share
    `workdir`."""
    options: dict[str, Any] = {
        "destination": destination, "dataset": name,
        "duckdb_path": str(workdir / f"{name}_data.duckdb"),
        "resources": resources or [], "start_date": start_date,
        "pipelines_dir": str(workdir / "pipelines"), "reconcile": reconcile,
        "max_duration": max_duration,
        "duckdb_storage_version": duckdb_storage_version, "read_copy": read_copy,
    }
    return {
        "mode": "liveagent", "options": options, "loader_file_format": loader_file_format,
        "max_workers": source.get("max_workers"),
        "source": {"base_url": fake.base_url, "api_key": API_KEY, **source},
    }


def rss_mb(pid: int) -> float:
    """Current resident set size of a process, 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_child(spec: dict[str, Any], env: dict[str, str] | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The child's result dict; `ok` False with the reason when it failed, said nothing, ran
    out of time or grew above RSS_LIMIT_MB."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._pipeline_child", json.dumps(spec)],
        cwd=ROOT, env=child_env(**(env or {})), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        stdout, stderr = _wait(process, time.monotonic() + timeout)
    except _Stopped as stopped:
        return {"ok": False, "error": str(stopped)}
    finally:  # also on Ctrl+C or SIGTERM: no pipeline outlives the suite
        if process.poll() is None:
            process.kill()
            process.communicate()
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            return {**json.loads(line[len(MARKER):]), "stderr": stderr[-4000:]}
    return {"ok": False, "error": f"no result (exit {process.returncode}): {stderr[-2000:]}"}


class _Stopped(Exception):
    pass


def _wait(process: subprocess.Popen[str], deadline: float) -> tuple[str, str]:
    """(stdout, stderr) once the process ends; _Stopped past the deadline or the RSS limit."""
    started = time.monotonic()
    while True:
        try:
            return process.communicate(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise _Stopped(f"timed out after {time.monotonic() - started:.0f}s") from None
            if rss_mb(process.pid) > RSS_LIMIT_MB:
                raise _Stopped(f"stopped: RSS above {RSS_LIMIT_MB:.0f} MB") from None
