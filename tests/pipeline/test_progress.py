"""The progress lines on stderr tell the truth: the jobs of each load add up, and the ETA
of a throttled extract is the requests known to be left at the rate."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from pipelines.progress import Progress
from pipelines.runner import RunContext, RunOptions, run_pipeline
from sources.liveagent.client import LiveAgentClient, RequestMetrics

ETA = re.compile(r"ETA ≥?(?:(\d+)m)?(\d+)s")


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


def extract_line(fake: FakeLiveAgent, per_minute: float, reads: int, planned: int,
                 listed: bool) -> str | None:
    """The running line of an extract that planned `planned` message reads and made `reads`
    of them through a real client at `per_minute`."""
    metrics = RequestMetrics()
    client = LiveAgentClient(fake.url, fake.api_key, per_minute, 5, 3, 4, metrics=metrics)
    progress = Progress(stream=io.StringIO(), period=3600, metrics=metrics)
    with progress("Extract liveagent"):
        metrics.plan("messages", planned)
        for index in range(reads):
            client.get(f"conversations/{fake.account.conversation_id(index)}/messages")
        if listed:
            metrics.finish_listing()
        return progress.line()


def test_the_eta_is_the_requests_left_at_the_rate(fake: FakeLiveAgent) -> None:
    """Eight reads (and the probe) at three a second: the 352 reads left take 352 / 180
    minutes; more may come while the listing runs."""
    line = extract_line(fake, 180, reads=8, planned=360, listed=False)
    assert line is not None and " · 9 requests, 352+ left, ETA ≥1m57s · throttled " in line
    line = extract_line(fake, 180, reads=8, planned=360, listed=True)
    assert line is not None and " · 9 requests, 352 left, ETA 1m57s · throttled " in line


def test_no_eta_when_the_extract_goes_slower_than_the_rate(fake: FakeLiveAgent) -> None:
    """At 1,000,000 a minute the reads left would take no time; answered a tenth of a second
    each, one at a time, the rate says nothing of the time they take."""
    fake.latency = 0.1
    line = extract_line(fake, 1_000_000, reads=8, planned=360, listed=True)
    assert line is not None and " · 9 requests, 352 left · throttled " in line, line


class Stamped:
    """A stream that keeps each line with the time it was written."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> None:
        self.lines.append((time.monotonic(), text.strip()))

    def flush(self) -> None:
        pass


def test_a_throttled_extracts_eta_is_near_the_time_it_takes(
    configured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports are read first (dlt starts every resource at once, and each report day is a
    request of the extracting thread): conversations read per second said 29 s where 8 s
    were left; the requests left at the rate say about 8 s."""
    monkeypatch.setenv("SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE", "1200")  # 20 a second
    stream, metrics = Stamped(), RequestMetrics()
    options = RunOptions(duckdb_path=str(configured / "warehouse.duckdb"),
                         pipelines_dir=str(configured / "pipelines"),
                         resources=["conversations", "report_agents", "report_channels"])
    run_pipeline(options, context=RunContext(metrics=metrics, progress=Progress(
        stream=stream, period=0.5, metrics=metrics)))
    ended = next(at for at, line in stream.lines if line.startswith("extract done in"))
    etas = [(ended - at, found) for at, line in stream.lines
            if line.startswith("extract running") and (found := ETA.search(line))]
    assert len(etas) >= 4, stream.lines
    assert metrics.due == 0  # every request planned was made, none before its plan
    for left, found in etas:
        eta = int(found.group(1) or 0) * 60 + int(found.group(2))
        assert left / 2 - 1 <= eta <= 2 * left + 1, (left, found.group(0))
