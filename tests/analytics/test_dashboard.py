"""`liveagent-pipeline demo --dashboard` serves the starter dashboard; headless Chromium loads
it, and every number it shows, in its tiles, tables and charts (read from their SVG), equals the
marts queried directly; a request under any name but a loopback one is refused. The demo runs
under privacy settings (`[sources.liveagent.privacy]`: the agents' last names excluded, the
customers' columns of the README's example), and the page shows none of what they exclude.

The page's tests need Debian's `chromium` (CI installs it); skipped without it, unless
LIVEAGENT_REQUIRE_BROWSER=1. With LIVEAGENT_DASHBOARD_SCREENSHOT=FILE it also saves the page
as the README's screenshot.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pytest

from pipelines.demo import fake_account
from tests.analytics.oracle import Target

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "LIVEAGENT_REQUIRE_BROWSER"
SCREENSHOT_ENV = "LIVEAGENT_DASHBOARD_SCREENSHOT"
# as root and with the network closed, Chromium hangs on connection attempts without these
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
DAYS = 30  # the dashboard's default period
CLI = [sys.executable, "-m", "pipelines.liveagent_pipeline"]
# the demo's privacy settings: agents named by first name only, and the customers' columns of
# the README's example excluded or hashed
PRIVACY = {"exclude": ["agents.lastname", "report_agents.lastname",
                       "report_agents_availability.lastname", "report_sla_log.agent_lastname",
                       "conversations.ownername", "report_sla_log.req_firstname",
                       "report_sla_log.req_lastname"],
           "hash": ["conversations.owneremail", "agents.email"],
           "message_bodies": False}


def chromium() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {message}")
    pytest.skip(message)


def cli_env() -> dict[str, str]:
    """This environment without a real account's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__LIVEAGENT__")} \
        | {"RUNTIME__DLTHUB_TELEMETRY": "false"}


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    target: Target


@contextmanager
def serving(command: list[str], cwd: Path, **env: str
            ) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The process of a command that serves the dashboard (`env` added to its environment),
    and the URL it printed; killed at the end if it still runs."""
    process = subprocess.Popen(command, cwd=cwd, env=cli_env() | env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # (the demo's summary and queries), then the URL
            found = re.match(r"liveagent-pipeline: dashboard at (http://127\.0\.0\.1:\d+) ",
                             line)
            if found:
                break
        else:
            pytest.fail(f"{command[3]} exited with {process.wait()} before serving")
        yield process, found.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`demo --dashboard` running: the demo loaded under the privacy settings and transformed,
    the dashboard up."""
    work = tmp_path_factory.mktemp("dashboard")
    with serving([*CLI, "demo", "--conversations", "300", "--dashboard", "--progress-every",
                  "0", "--pipelines-dir", str(work / "pipelines")], work,
                 SOURCES__LIVEAGENT__PRIVACY=json.dumps(PRIVACY),
                 SOURCES__LIVEAGENT__PRIVACY_SALT="dashboard-test-salt") as (process, url):
        yield Served(process, url, Target("duckdb", "liveagent", str(work / "demo.duckdb")))


@dataclass
class Page:
    metrics: dict[str, str]  # label: value as shown
    deltas: dict[str, str]  # label: the line under the value, where a tile has one
    tables: dict[str, list[list[str]]]  # container key: rows of cells, header first
    # container key: the chart's SVG as {"axes": {title: [tick labels]}, "marks": [{"kind":
    # "text mark container", "items": [{"label": aria-label, "text", "fill", "opacity",
    # "dash"}]}]}; Vega's aria-labels name each drawn item's fields
    charts: dict[str, dict[str, Any]]
    captions: list[str]
    text: str  # the whole page's text


CHARTS = ("daily_volume", "daily_backlog", "channels", "departments")
CHART_SVG = """svg => ({
    axes: Object.fromEntries([...svg.querySelectorAll('g.role-axis')].map(axis => [
        axis.querySelector('.role-axis-title text')?.textContent ?? '',
        [...axis.querySelectorAll('.role-axis-label text')].map(t => t.textContent)])),
    marks: [...svg.querySelectorAll('g.role-mark')].map(group => ({
        kind: group.getAttribute('aria-roledescription'),
        items: [...group.children].map(item => ({
            label: item.getAttribute('aria-label') ?? '', text: item.textContent,
            fill: item.getAttribute('fill'), opacity: item.getAttribute('opacity'),
            dash: item.getAttribute('stroke-dasharray')}))}))})"""


@pytest.fixture(scope="module")
def page(served: Served) -> Page:
    return read_page(served.url, os.environ.get(SCREENSHOT_ENV))


def read_page(url: str, screenshot: str | None = None) -> Page:
    """The dashboard at `url` as headless Chromium shows it."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium()

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 2200})
        try:
            tab = browser.new_page()
            tab.goto(url)
            tab.wait_for_selector(".st-key-agents table", timeout=30_000)
            for key in CHARTS:  # drawn after the page's text
                tab.wait_for_selector(f".st-key-{key} svg.marks", timeout=30_000)
            tiles = tab.locator('[data-testid="stMetric"]').evaluate_all(
                """nodes => nodes.map(n => [
                    n.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
                    n.querySelector('[data-testid="stMetricValue"]').innerText.trim(),
                    n.querySelector('[data-testid="stMetricDelta"]')?.innerText.trim()])""")
            tables = {key: tab.locator(f".st-key-{key} table").evaluate(
                """table => [...table.rows].map(
                    row => [...row.cells].map(cell => cell.innerText.trim()))""")
                for key in ("channels", "departments", "agents")}
            charts = {key: tab.locator(f".st-key-{key} svg.marks").evaluate(CHART_SVG)
                      for key in CHARTS}
            captions = tab.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
            text = tab.locator("body").inner_text()
            if screenshot:
                tab.wait_for_timeout(1500)  # the charts' drawing
                tab.screenshot(path=screenshot)
        finally:
            browser.close()
    return Page({label: value for label, value, _ in tiles},
                {label: delta for label, _, delta in tiles if delta}, tables, charts, captions,
                text)


def number(shown: str) -> float:
    """'1,268' -> 1268.0, '118.4 min' -> 118.4, '79.9% positive' -> 79.9."""
    return float(shown.split()[0].replace(",", "").removesuffix("%"))


def fields(aria_label: str) -> dict[str, str]:
    """'Day: Fri 06 Nov; Value: 67' -> {'Day': 'Fri 06 Nov', 'Value': '67'}."""
    return dict(part.split(": ", 1) for part in aria_label.split("; "))


def items(chart: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The drawn items of the chart's marks of `kind` ('text', 'symbol', 'line', ...)."""
    return [item for mark in chart["marks"] if mark["kind"] == f"{kind} mark container"
            for item in mark["items"]]


def shown_day(day: date) -> str:
    return f"{day:%a %d %b}"


def rounded(seconds: Any, unit: int) -> float:
    return round(float(seconds) / unit, 1)


def period(target: Target) -> dict[str, Any]:
    last = target.sql("SELECT max(date_day) AS d FROM {marts}.liveagent__daily_backlog"
                      )[0]["d"]
    return {"first": last - timedelta(days=DAYS - 1), "last": last}


def marts(target: Target, sql: str) -> list[dict[str, Any]]:
    days = period(target)
    return target.sql(sql.replace("$first", f"DATE '{days['first']}'")
                      .replace("$last", f"DATE '{days['last']}'"))


def test_the_overview_equals_the_marts(served: Served, page: Page) -> None:
    [row] = marts(served.target, """
        SELECT (SELECT sum(new_conversations) FROM {marts}.liveagent__daily_kpis
                WHERE date_day BETWEEN $first AND $last) AS new,
               (SELECT median(first_response_seconds)
                FROM {marts}.liveagent__conversation_metrics
                WHERE first_response_date BETWEEN $first AND $last) AS first_response,
               (SELECT median(full_resolution_seconds)
                FROM {marts}.liveagent__conversation_metrics
                WHERE resolved_at_local::date BETWEEN $first AND $last) AS resolution,
               (SELECT open_conversations FROM {marts}.liveagent__daily_backlog
                WHERE date_day = $last) AS open""")
    shown = page.metrics
    assert number(shown["New conversations"]) == row["new"] > 200
    assert shown["Median first response"].endswith(" min")
    assert number(shown["Median first response"]) == rounded(row["first_response"], 60)
    assert shown["Median resolution time"].endswith(" h")
    assert number(shown["Median resolution time"]) == rounded(row["resolution"], 3600)
    assert number(shown["Open conversations"]) == row["open"] > 0


def test_business_hours_and_satisfaction_tiles_equal_the_marts(served: Served,
                                                              page: Page) -> None:
    [first_response] = marts(served.target, """
        SELECT median(first_response_business_seconds) AS business,
               median(first_response_seconds) AS calendar
        FROM {marts}.liveagent__conversation_metrics
        WHERE first_response_date BETWEEN $first AND $last""")
    [ratings] = marts(served.target, """
        SELECT sum(positive) AS positive, sum(negative) AS negative, sum(resolved) AS resolved,
               sum(resolved - unrated) AS rated
        FROM {marts}.liveagent__daily_satisfaction
        WHERE dimension = 'account' AND date_day BETWEEN $first AND $last""")
    business = page.metrics["Median first response, business hours"]
    assert business.endswith(" min")
    assert number(business) == rounded(first_response["business"], 60)
    # the demo's business hours (07:00-22:00) leave the nights out
    assert 0 < first_response["business"] < first_response["calendar"]

    positive, rated = ratings["positive"], ratings["positive"] + ratings["negative"]
    assert rated > 20 and ratings["resolved"] > ratings["rated"] > 0
    assert page.metrics["Satisfaction"].endswith("% positive")
    assert number(page.metrics["Satisfaction"]) == round(100 * positive / rated, 1)
    assert page.deltas["Satisfaction"].endswith("% of resolves rated")
    assert number(page.deltas["Satisfaction"]) == \
        round(100 * ratings["rated"] / ratings["resolved"], 1)


def test_a_warehouse_built_before_the_new_marts_opens_with_not_yet_built(
        served: Served, page: Page, tmp_path: Path) -> None:
    """A file whose analyst layer an earlier release built (no satisfaction mart, no
    business-hours column) still opens; those two tiles say so, the rest is as before."""
    earlier = tmp_path / "earlier.duckdb"
    shutil.copy(served.target.locate, earlier)
    with duckdb.connect(str(earlier)) as db:
        db.execute("DROP TABLE liveagent_analytics.liveagent__daily_satisfaction")
        db.execute("ALTER TABLE liveagent_analytics.liveagent__conversation_metrics "
                   "DROP COLUMN first_response_business_seconds")
    with serving([*CLI, "dashboard", "--duckdb-path", str(earlier)], tmp_path) as (_, url):
        shown = read_page(url)
    assert shown.metrics["Median first response, business hours"] == "not yet built"
    assert shown.metrics["Satisfaction"] == "not yet built"
    assert "Satisfaction" not in shown.deltas
    assert {label: value for label, value in shown.metrics.items() if value != "not yet built"} \
        == {label: value for label, value in page.metrics.items()
            if label not in ("Median first response, business hours", "Satisfaction")}
    assert shown.tables == page.tables


@pytest.mark.parametrize(("key", "name", "dimension", "label"), [
    ("channels", "channel_label", "channel", "Channel"),
    ("departments", "department_name", "department", "Department")])
def test_volume_tables_and_bars_equal_the_marts(served: Served, page: Page, key: str, name: str,
                                                dimension: str, label: str) -> None:
    volume = marts(served.target, f"""
        SELECT {name} AS name, sum(new_conversations) AS new, sum(answers) AS answers,
               sum(resolved) AS resolved
        FROM {{marts}}.liveagent__daily_{dimension}_kpis
        WHERE date_day BETWEEN $first AND $last GROUP BY ALL""")
    medians = {r["name"]: r["m"] for r in marts(served.target, f"""
        SELECT {name} AS name, median(first_response_seconds) AS m
        FROM {{marts}}.liveagent__conversation_metrics
        WHERE first_response_date BETWEEN $first AND $last GROUP BY ALL""")}
    header, *rows = page.tables[key]
    assert header[1:] == ["New conversations", "Answers", "Resolved",
                          "Median first response (min)"]
    shown = {r[0]: [number(v) for v in r[1:]] for r in rows}
    assert shown == {r["name"]: [r["new"], r["answers"], r["resolved"],
                                 rounded(medians[r["name"]], 60)] for r in volume}
    assert [r[0] for r in rows] == sorted(shown, key=lambda n: (-shown[n][0], n))

    # the bar chart: the eight largest, each bar named on its axis and its value written at it
    largest = sorted(volume, key=lambda r: (-r["new"], r["name"]))[:8]
    chart, days = page.charts[key], period(served.target)
    measure = f"New conversations (count), {days['first']} to {days['last']}"
    assert chart["axes"][label] == [r["name"] for r in largest]
    assert measure in chart["axes"]
    assert [(fields(bar["label"])[label], number(fields(bar["label"])[measure]))
            for bar in items(chart, "rect")] == [(r["name"], r["new"]) for r in largest]
    assert [(fields(text["label"])[label], text["text"]) for text in items(chart, "text")] == \
        [(r["name"], f"{r['new']:,}") for r in largest]


@pytest.mark.parametrize(("key", "measure", "figures"), [
    ("daily_volume", "Conversations per day", {"New": "new", "Resolved": "resolved"}),
    ("daily_backlog", "Open conversations", {"Open": "open"})])
def test_daily_charts_equal_the_marts_and_mark_the_partial_day(
        served: Served, page: Page, key: str, measure: str, figures: dict[str, str]) -> None:
    days = marts(served.target, """
        SELECT b.date_day AS day, coalesce(k.new_conversations, 0) AS new,
               coalesce(k.resolved, 0) AS resolved, b.open_conversations AS open
        FROM {marts}.liveagent__daily_backlog b
        LEFT JOIN {marts}.liveagent__daily_kpis k USING (date_day)
        WHERE b.date_day BETWEEN $first AND $last""")
    last = period(served.target)["last"]
    assert len(days) == DAYS and max(r["day"] for r in days) == last
    chart = page.charts[key]
    assert {"Day (account-local)", measure} <= set(chart["axes"])
    points = [(fields(point["label"]), point) for point in items(chart, "symbol")]
    assert {(shown["Day"], shown["Figure"]): number(shown["Value"]) for shown, _ in points} == \
        {(shown_day(r["day"]), figure): r[column] for r in days
         for figure, column in figures.items()}
    assert len(points) == DAYS * len(figures)  # one point per day and figure

    # the last day (dbt ran during it) is drawn apart: hollow, faded points reached by a
    # dashed segment, under a rule that says "so far"; every complete day is a solid point
    for shown, point in points:
        partial = shown["Day"] == shown_day(last)
        assert (point["fill"] == "transparent" and float(point["opacity"]) < 1) == partial
    dashed = [fields(line["label"]) for line in items(chart, "line") if line["dash"]]
    assert {(shown["Day"], shown["Figure"]) for shown in dashed} == \
        {(shown_day(last - timedelta(days=1)), figure) for figure in figures}
    assert [text["text"] for text in items(chart, "text")] == [f"{shown_day(last)} so far"]
    assert any(caption.startswith(f"{shown_day(last)} so far: the last day is partial")
               for caption in page.captions)


def test_the_agent_table_equals_the_marts(served: Served, page: Page) -> None:
    work = marts(served.target, """
        SELECT agent_name AS name, sum(answers) AS answers, sum(resolved) AS resolved,
               sum(first_responses) AS first_responses
        FROM {marts}.liveagent__daily_agent_kpis
        WHERE date_day BETWEEN $first AND $last GROUP BY ALL""")
    medians = {r["name"]: r["m"] for r in marts(served.target, """
        SELECT first_agent_name AS name, median(first_response_seconds) AS m
        FROM {marts}.liveagent__conversation_metrics
        WHERE first_response_date BETWEEN $first AND $last GROUP BY ALL""")}
    header, *rows = page.tables["agents"]
    assert header == ["Agent", "Answers", "Resolved", "First responses",
                      "Median first response (min)"]
    assert len(rows) == len(work) == 8  # the demo's agents
    assert {r[0]: [number(v) for v in r[1:]] for r in rows} == \
        {r["name"]: [r["answers"], r["resolved"], r["first_responses"],
                     rounded(medians[r["name"]], 60)] for r in work}


def test_the_page_shows_nothing_the_privacy_settings_exclude(page: Page) -> None:
    """Every panel is drawn; the agents are named by first name only, and no agent's last
    name or e-mail is anywhere on the page (its text, tables, charts' labels)."""
    agents = fake_account(300).account.entities.agents  # the demo's generated account
    _, *rows = page.tables["agents"]
    assert sorted(row[0] for row in rows) == sorted(agent.firstname for agent in agents)
    assert all(items(page.charts[key], "symbol") or items(page.charts[key], "rect")
               for key in CHARTS) and len(page.metrics) == 6
    shown = page.text + json.dumps([page.tables, page.charts, page.captions], ensure_ascii=False)
    for agent in agents:
        assert not re.search(rf"\b{re.escape(agent.lastname)}\b", shown), agent.lastname
        assert agent.email not in shown


def status_for_host(url: str, host: str, path: str = "/", **headers: str) -> int:
    """The status of a GET of `path` at the dashboard's address with `host` in `Host`, as a
    page reached through DNS rebinding sends its own name."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host, **headers})
        return connection.getresponse().status
    finally:
        connection.close()


WEBSOCKET = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # RFC 6455's example key


def test_only_loopback_names_are_answered(served: Served) -> None:
    port = urlsplit(served.url).port
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example"):
        assert status_for_host(served.url, host) == 400, host
        # the figures travel over this WebSocket: Streamlit would switch protocols (101)
        assert status_for_host(served.url, host, "/_stcore/stream", **WEBSOCKET) == 400, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
        assert status_for_host(served.url, host) == 200, host
    assert status_for_host(served.url, f"localhost:{port}", "/_stcore/stream",
                           **WEBSOCKET) == 101


def test_ctrl_c_stops_the_dashboard_with_exit_0(served: Served, page: Page) -> None:
    served.process.send_signal(signal.SIGINT)
    rest, _ = served.process.communicate(timeout=30)
    assert served.process.returncode == 0
    assert rest.strip().splitlines()[-1] == "liveagent-pipeline: dashboard stopped"


def test_without_streamlit_the_demo_says_what_to_install(tmp_path: Path) -> None:
    # Streamlit made unimportable in that process, as in an install without the extra
    code = ("import sys; sys.modules['streamlit'] = None; "
            "from pipelines.liveagent_pipeline import main; "
            "sys.exit(main(['demo', '--dashboard', '--conversations', '10']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("liveagent-pipeline: the dashboard needs Streamlit: "
                                     "pip install 'liveagent-dlt[dashboard]'")
    assert not (tmp_path / "demo.duckdb").exists()  # nothing was loaded


def test_a_warehouse_without_marts_is_refused(tmp_path: Path) -> None:
    missing = subprocess.run([*CLI, "dashboard", "--duckdb-path", str(tmp_path / "none.duckdb")],
                             env=cli_env(), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.startswith("liveagent-pipeline: no DuckDB file at ")
    duckdb.connect(str(tmp_path / "raw.duckdb")).close()
    raw = subprocess.run([*CLI, "dashboard", "--duckdb-path", str(tmp_path / "raw.duckdb")],
                         env=cli_env(), capture_output=True, text=True, timeout=60)
    assert raw.returncode == 2
    assert "has no analyst layer for dataset liveagent" in raw.stderr
    assert "liveagent-pipeline run --transform" in raw.stderr
