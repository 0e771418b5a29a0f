"""The starter dashboard on the analyst layer (`app.py`, a Streamlit script), served on a
loopback port: `liveagent-pipeline dashboard` and `liveagent-pipeline demo --dashboard`.

Streamlit is the `dashboard` extra: one `pip install`, it reads DuckDB in-process, and the page
is plain HTML a browser or a test reads. It runs as a child process, so its server, threads and
file watching stay out of the pipeline's process; Ctrl-C stops both. Streamlit serves
`dashboard_asgi.py`, which answers only requests whose `Host` is a loopback name.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.duckdb_file import connect_read_only
from pipelines.options import DEFAULT_DATASET, DEFAULT_DUCKDB_PATH, UsageError

APP = Path(__file__).with_name("app.py")
SERVED = Path(__file__).with_name("dashboard_asgi.py")  # app.py behind a check of `Host`
HOST = "127.0.0.1"  # loopback only: the page shows the account's figures to whoever reaches it
# the only names a request may carry in `Host` (a DNS-rebinding page sends its own name)
LOOPBACK_NAMES = ["localhost", HOST, "[::1]"]
START_TIMEOUT = 60.0  # seconds for Streamlit to answer its health check
STOP_TIMEOUT = 10.0
INSTALL = "pip install 'liveagent-dlt[dashboard]'"


class DashboardError(Exception):
    """The dashboard server did not start or stopped by itself (one line, exit code 1)."""


def add_arguments(parser: argparse.ArgumentParser, command: bool) -> None:
    """`--dashboard-port` for both commands; `dashboard` also takes the file and dataset."""
    if command:
        parser.add_argument("--duckdb-path", default=DEFAULT_DUCKDB_PATH,
                            help=f"DuckDB file with the analyst layer (default "
                            f"./{DEFAULT_DUCKDB_PATH})")
        parser.add_argument("--dataset", default=DEFAULT_DATASET)
        parser.add_argument("--debug", action="store_true",
                            help="print the traceback of a failure")
    else:
        parser.add_argument("--dashboard", action="store_true",
                            help="then open the starter dashboard on it (implies --transform; "
                            f"needs the dashboard extra: {INSTALL})")
    parser.add_argument("--dashboard-port", type=int, default=0, metavar="PORT",
                        help="loopback port of the dashboard (default: a free one)")


def require_streamlit() -> None:
    """Checked before anything runs, so a missing extra costs no load."""
    if importlib.util.find_spec("streamlit") is None:
        raise UsageError(f"the dashboard needs Streamlit: {INSTALL}")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def check_marts(path: Path, dataset: str) -> None:
    from pipelines.dashboard.queries import missing_marts  # pandas comes with Streamlit

    try:
        with connect_read_only(path) as db:
            missing = missing_marts(db, dataset)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    if missing:
        raise UsageError(f"{path} has no analyst layer for dataset {dataset} (no "
                         f"{dataset}_analytics.{missing[0]}): build it with "
                         "`liveagent-pipeline run --transform --duckdb-path ...`")


def command(path: Path, dataset: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(SERVED),
            "--server.address", HOST, "--server.port", str(port),
            "--server.headless", "true",  # no browser opened, no e-mail prompt
            "--browser.gatherUsageStats", "false",  # no telemetry leaves the machine
            "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer",
            "--", "--duckdb-path", str(path), "--dataset", dataset]


def serve(path: Path, dataset: str, port: int = 0) -> str:
    """Serves the dashboard on the file until Ctrl-C; what to print when it has stopped."""
    require_streamlit()
    check_marts(path, dataset)
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    # Streamlit's own chatter (its URL banner, warnings) goes to stderr: stdout is ours. In a
    # session of its own, so a terminal's Ctrl-C reaches this process only, which stops it
    server = subprocess.Popen(command(path, dataset, port), stdout=sys.stderr,
                              start_new_session=True)
    try:
        _wait_until_up(server, url)
        print(f"liveagent-pipeline: dashboard at {url} (Ctrl-C stops it)", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(server)
    if server.returncode not in (0, -signal.SIGTERM):
        raise DashboardError(f"the dashboard server stopped with exit code {server.returncode}")
    return "liveagent-pipeline: dashboard stopped"


def _wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DashboardError(f"the dashboard server exited with code {server.returncode} "
                               "before it answered (its output is above)")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise DashboardError(f"the dashboard server did not answer at {url} within "
                       f"{START_TIMEOUT:.0f}s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down cleanly on it; on SIGINT Streamlit's command line says
    "Aborted!" and exits with 1), then harder when it does not stop."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        server.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
