"""The progress lines on stderr tell the truth: the jobs of each load add up, and the ETA
of a throttled extract is the requests known to be left at the rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_each_load_line_counts_every_job_of_its_package(
    run_cli, configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """dlt adds the merge jobs of a package as its tables complete (`Load.create_followup_jobs`
    reports them as `inc_total`): the count must take them in, load after load."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD", "60")
    assert run_cli("--resources", "conversations", "--progress-every", "60",
                   "--keep-load-packages", "100") == 0
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("load done in")]
    counts = [re.search(r"· ([\d,]+)/([\d,]+) jobs$", line) for line in lines]
    loaded = sorted((configured / "pipelines").glob("liveagent/load/loaded/*/completed_jobs"),
                    key=lambda path: float(path.parent.name))
    jobs = [str(len(list(path.iterdir()))) for path in loaded]
    assert len(lines) == len(loaded) >= 2, lines
    assert [(found.group(1), found.group(2)) for found in counts if found] == \
        [(n, n) for n in jobs]
