"""Errors a user can cause: one clear line on stderr, a non-zero exit, no traceback, no key.
Each case runs the real CLI in its own process against the fake over loopback."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dlt.common.storages.file_storage import FileStorage

from liveagent_fake.server import FakeLiveAgent
from pipelines.dashboard import free_port

KEY = "test-api-key"


def cli_command(tmp_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.liveagent_pipeline", "run", "--progress-every", "0",
            "--pipelines-dir", str(tmp_path / "pipelines"), *args]


def cli_environment(**env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(
        ("SOURCES__", "DESTINATION__"))}
    return {**environment, **env}


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(tmp_path, *args), cwd=tmp_path, env=cli_environment(**env),
                          capture_output=True, text=True, timeout=120)


def account_env(fake: FakeLiveAgent, **overrides: str) -> dict[str, str]:
    return {"SOURCES__LIVEAGENT__BASE_URL": fake.url, "SOURCES__LIVEAGENT__API_KEY": KEY,
            "SOURCES__LIVEAGENT__TIMEZONE": "Europe/Bratislava", **overrides}


def one_line(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("liveagent-pipeline: ")
    assert KEY not in result.stderr + result.stdout and "wrong-key" not in result.stderr
    return lines[0]


def test_rejected_api_key(tmp_path: Path, fake: FakeLiveAgent) -> None:
    result = cli(tmp_path, **account_env(fake, SOURCES__LIVEAGENT__API_KEY="wrong-key-42"))
    line = one_line(result, 2)
    assert "LiveAgent rejected the API key (401" in line
    assert "SOURCES__LIVEAGENT__API_KEY" in line and "wrong-key-42" not in result.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()  # created by this run, nothing loaded


def test_a_v3_api_key(tmp_path: Path, fake: FakeLiveAgent) -> None:
    fake.account.v3_api_key = "v3-key-77"
    result = cli(tmp_path, **account_env(fake, SOURCES__LIVEAGENT__API_KEY="v3-key-77"))
    line = one_line(result, 2)
    assert "LiveAgent refused the API key for API v1 (403 API key is not valid for API v1)" \
        in line and "API v1 key" in line and "v3-key-77" not in result.stderr


def test_unreachable_base_url(tmp_path: Path) -> None:
    env = {"SOURCES__LIVEAGENT__BASE_URL": f"http://127.0.0.1:{free_port()}",
           "SOURCES__LIVEAGENT__API_KEY": KEY}
    line = one_line(cli(tmp_path, **env), 1)
    assert "could not be reached" in line and "Connection refused" in line
    assert "sources.liveagent.base_url" in line


def test_base_url_that_is_not_liveagent(tmp_path: Path, fake: FakeLiveAgent) -> None:
    line = one_line(cli(tmp_path, **account_env(
        fake, SOURCES__LIVEAGENT__BASE_URL=fake.url + "/support")), 1)
    assert "does not exist (404)" in line and "LiveAgent account" in line
    fake.faults.add("html", status=200)  # a web site that answers every path with a page
    line = one_line(cli(tmp_path, **account_env(fake)), 1)
    assert "not JSON" in line and "base_url" in line


def test_plain_http_to_another_machine(tmp_path: Path) -> None:
    """The key would cross the network in clear text: refused unless explicitly allowed."""
    env = {"SOURCES__LIVEAGENT__BASE_URL": "http://acme.ladesk.invalid",
           "SOURCES__LIVEAGENT__API_KEY": KEY}
    assert one_line(cli(tmp_path, **env), 2) == (
        "liveagent-pipeline: sources.liveagent.base_url is plain http:// to "
        "acme.ladesk.invalid: the API key would cross the network in clear text (API v1 sends "
        "it in the URL); use https://acme.ladesk.invalid, or set "
        "sources.liveagent.allow_insecure_http = true (env "
        "SOURCES__LIVEAGENT__ALLOW_INSECURE_HTTP) if the way to it is trusted")
    allowed = cli(tmp_path, **env, SOURCES__LIVEAGENT__ALLOW_INSECURE_HTTP="true")
    assert "could not be reached for application/status" in one_line(allowed, 1)


def test_a_redirect_names_its_target_without_the_key(tmp_path: Path,
                                                     fake: FakeLiveAgent) -> None:
    fake.faults.add("redirect", location="https://acme.ladesk.example")
    assert one_line(cli(tmp_path, **account_env(fake)), 2) == (
        f"liveagent-pipeline: {fake.url}/api/application/status answered with a redirect (301 "
        "Moved Permanently) to https://acme.ladesk.example/api/application/status?apikey=*** "
        "which is not followed: the API key travels in the URL; if the account moved, set "
        "sources.liveagent.base_url to https://acme.ladesk.example")
    assert fake.log.total == 1


@pytest.mark.parametrize("args, expected", [
    (["--start-date", "2025-13-45"], "'2025-13-45' is not a date"),
    (["--end-date", "yesterday"], "'yesterday' is not a date"),
])
def test_malformed_dates_on_the_command_line(tmp_path: Path, fake: FakeLiveAgent, args,
                                             expected: str) -> None:
    line = one_line(cli(tmp_path, *args, **account_env(fake)), 2)
    assert expected in line and "see liveagent-pipeline run --help" in line
    assert fake.log.total == 0


def test_malformed_date_in_configuration(tmp_path: Path, fake: FakeLiveAgent) -> None:
    line = one_line(cli(tmp_path, **account_env(fake, SOURCES__LIVEAGENT__START_DATE="1.1.2025")),
                    2)
    assert "Malformed date '1.1.2025'" in line and "YYYY-MM-DD" in line


def test_unknown_resource(tmp_path: Path, fake: FakeLiveAgent) -> None:
    line = one_line(cli(tmp_path, "--resources", "conversations,ticket", **account_env(fake)), 2)
    assert "unknown resource 'ticket'; choose from:" in line


def test_missing_configuration_names_key_and_variable(tmp_path: Path) -> None:
    line = one_line(cli(tmp_path), 2)
    assert "missing configuration" in line
    assert "sources.liveagent.base_url (env SOURCES__LIVEAGENT__BASE_URL)" in line
    assert "sources.liveagent.api_key (env SOURCES__LIVEAGENT__API_KEY)" in line
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_missing_postgres_credentials(tmp_path: Path, fake: FakeLiveAgent) -> None:
    line = one_line(cli(tmp_path, "--destination", "postgres", **account_env(fake)), 2)
    assert "destination.postgres.credentials (env DESTINATION__POSTGRES__CREDENTIALS)" in line


def test_duckdb_file_locked_by_another_process(tmp_path: Path, fake: FakeLiveAgent) -> None:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time, duckdb
        db = duckdb.connect(sys.argv[1])
        print("locked", flush=True)
        time.sleep(60)
    """), str(tmp_path / "warehouse.duckdb")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        line = one_line(cli(tmp_path, "--duckdb-wait", "0", **account_env(fake)), 1)
    finally:
        holder.kill()
        holder.wait()
    assert f"{tmp_path / 'warehouse.duckdb'} is in use by another process (PID {holder.pid})" \
        in line


@pytest.mark.parametrize("args, env, expected", [
    ([], {"SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE": "0.5"},
     "sources.liveagent.requests_per_minute (env SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE) must be "
     "at least 2 requests per minute (LiveAgent allows 180), got 0.5"),
    ([], {"SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE": "fast"},
     "sources.liveagent.requests_per_minute (env SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE) must be "
     "a number, got 'fast'"),
    ([], {"SOURCES__LIVEAGENT__REQUEST_TIMEOUT": "0"},
     "sources.liveagent.request_timeout (env SOURCES__LIVEAGENT__REQUEST_TIMEOUT) must be above 0 "
     "seconds, got 0.0"),
    (["--dataset", "a.b"], {},
     "--dataset 'a.b' is not a valid schema name: use lowercase letters, digits and underscores, "
     "at most 63 characters, e.g. 'a_b'"),
    (["--start-date", "2025-05-01", "--end-date", "2025-04-30"], {},
     "the end date 2025-04-30 (--end-date) is before the start date 2025-05-01 (--start-date)"),
    (["--end-date", "2025-04-30"], {"SOURCES__LIVEAGENT__START_DATE": "2025-05-01"},
     "the end date 2025-04-30 (--end-date) is before the start date 2025-05-01 "
     "(sources.liveagent.start_date)"),
    ([], {"SOURCES__LIVEAGENT__BASE_URL": "https://acme.ladesk.com/api/v1"},
     "sources.liveagent.base_url ends in /api/v1: give the account URL without the API path, "
     "like https://acme.ladesk.com"),
    ([], {"SOURCES__LIVEAGENT__BASE_URL": "https://acme.ladesk.com/api/v3"},
     "sources.liveagent.base_url ends in /api/v3, but this connector reads LiveAgent's API v1: "
     "give the account URL without the API path, like https://acme.ladesk.com"),
    ([], {"SOURCES__LIVEAGENT__BASE_URL": "https://me:Pw-9b8a@acme.ladesk.com"},
     "sources.liveagent.base_url must not contain a user name or password (LiveAgent "
     "authenticates with sources.liveagent.api_key): use the account URL like "
     "https://acme.ladesk.com"),
    # a box of nothing was taken for no box at all
    (["--max-duration", "0"], {}, "argument --max-duration: '0' is no time box: give one above "
     "0 seconds, e.g. 14m, or leave it out for none"),
    (["--max-duration", "0m0s"], {}, "argument --max-duration: '0m0s' is no time box"),
    ([], {"SOURCES__LIVEAGENT__MAX_DURATION": "0"}, "sources.liveagent.max_duration (env "
     "SOURCES__LIVEAGENT__MAX_DURATION): '0' is no time box: give one above 0 seconds, e.g. "
     "14m, or leave it out for none"),
])
def test_bad_settings_name_the_setting_before_anything_runs(
    tmp_path: Path, fake: FakeLiveAgent, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = cli(tmp_path, *args, **account_env(fake, **env))
    line = one_line(result, 2)
    assert expected in line and "Pw-9b8a" not in result.stderr
    assert fake.log.total == 0
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_postgres_credentials_dlt_cannot_resolve(tmp_path: Path, fake: FakeLiveAgent) -> None:
    socket_uri = "postgresql://loader:Pg-5d4c3b@/warehouse?host=/tmp"  # no host name
    line = one_line(cli(tmp_path, "--destination", "postgres", **account_env(
        fake, DESTINATION__POSTGRES__CREDENTIALS=socket_uri)), 2)
    assert line.startswith("liveagent-pipeline: destination.postgres.credentials is set, but dlt "
                           "could not resolve its host from it: add host to it or set "
                           "DESTINATION__POSTGRES__CREDENTIALS__HOST; for a Unix socket")
    assert "missing configuration" not in line and "Pg-5d4c3b" not in line


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, timeout: float = 60
             ) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.05)


def interrupt(tmp_path: Path, fake: FakeLiveAgent, when: Callable[[], bool], **env: str
              ) -> subprocess.CompletedProcess:
    """Runs the CLI, sends it SIGINT (Ctrl-C) once `when()` holds and waits for its end."""
    command = cli_command(tmp_path, "--resources", "conversations")
    process = subprocess.Popen(command, cwd=tmp_path, env=cli_environment(**env),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(when, process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_ctrl_c_mid_extract(tmp_path: Path, fake: FakeLiveAgent) -> None:
    fake.latency = 0.2
    result = interrupt(tmp_path, fake, lambda: bool(fake.log.select(path="/messages$")),
                       **account_env(fake, SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE="100000"))
    assert one_line(result, 130) == \
        "liveagent-pipeline: interrupted; nothing of this run was loaded, state unchanged"
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_ctrl_c_after_a_chunk_of_a_backfill_committed(tmp_path: Path, fake: FakeLiveAgent) -> None:
    fake.latency = 0.2
    # the second listing of conversations starts the second chunk: the first one is loaded
    result = interrupt(tmp_path, fake, lambda: len(fake.log.select(path="/conversations$")) > 1,
                       **account_env(fake, SOURCES__LIVEAGENT__CONVERSATIONS_PER_LOAD="20",
                                     SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE="100000"))
    assert one_line(result, 130) == (
        "liveagent-pipeline: interrupted after 1 load of this run committed; the rest was not "
        "loaded, and the next run goes on after them")
    assert (tmp_path / "warehouse.duckdb").exists()


def mounted_at(path: Path) -> str:
    """The mount point of `path`'s filesystem, as df(1) reports it."""
    return subprocess.run(["df", "--output=target", str(path)], capture_output=True, text=True,
                          check=True).stdout.splitlines()[-1].strip()


def test_a_full_disk_reported_as_a_failed_rename(
    run_cli: Callable[..., int], configured: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """dlt moves files by renaming and falls back to copying when the rename fails (EXDEV):
    the copy's ENOSPC is the real reason, the rename's EXDEV only its context."""
    def rename_on_a_full_disk(storage: FileStorage, source: str, destination: str) -> None:
        target = storage.make_full_path(destination)
        try:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), source, target)
        except OSError:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target) from None

    monkeypatch.setattr(FileStorage, "atomic_rename", rename_on_a_full_disk)
    assert run_cli("--resources", "tags", "--progress-every", "0") == 1
    stderr = capsys.readouterr().err.strip()
    assert "\n" not in stderr and "cross-device" not in stderr
    assert re.fullmatch(rf"liveagent-pipeline: no space left on device \(the filesystem "
                        rf"mounted at {re.escape(mounted_at(configured))}, writing "
                        rf"{re.escape(str(configured / 'pipelines'))}/\S+\); free space there "
                        r"or move --pipelines-dir/--duckdb-path", stderr), stderr


SMALL_FILESYSTEM = "64k"  # too small for a run of the fake account: 120 conversations


def on_a_small_filesystem(small: Path, command: list[str]) -> list[str]:
    """`command` in a mount namespace of its own (unshare: no root needed where user
    namespaces are allowed) with a tmpfs of SMALL_FILESYSTEM mounted at `small`."""
    if subprocess.run(["unshare", "--mount", "--map-root-user", "true"],
                      capture_output=True).returncode != 0:
        pytest.skip("unshare cannot make a mount namespace here")
    mount = f"mount -t tmpfs -o size={SMALL_FILESYSTEM} tmpfs {small} && exec \"$@\""
    return ["unshare", "--mount", "--map-root-user", "sh", "-c", mount, "sh", *command]


@pytest.mark.parametrize("full", ["pipelines", "duckdb"])
def test_a_real_full_disk_names_the_filesystem_in_one_line(
    tmp_path: Path, fake: FakeLiveAgent, full: str
) -> None:
    """A tmpfs that fills up under dlt's files (the failed write carries no file name; dlt's
    warning that it could not save its trace there either was 52 lines) or under DuckDB's
    (its error quotes the file, beside a traceback that quotes dlt's sources)."""
    small = tmp_path / "small"
    small.mkdir()
    duckdb = (small if full == "duckdb" else tmp_path) / "warehouse.duckdb"
    command = cli_command(small if full == "pipelines" else tmp_path,
                          "--duckdb-path", str(duckdb))
    result = subprocess.run(on_a_small_filesystem(small, command), cwd=tmp_path,
                            env=cli_environment(**account_env(
                                fake, SOURCES__LIVEAGENT__REQUESTS_PER_MINUTE="1000000",
                                SOURCES__LIVEAGENT__START_DATE="2025-09-09")),
                            capture_output=True, text=True, timeout=120)
    assert re.fullmatch(rf"liveagent-pipeline: no space left on device \(the filesystem "
                        rf"mounted at {re.escape(str(small))}, writing "
                        rf"{re.escape(str(small))}/\S+\); free space there or move "
                        r"--pipelines-dir/--duckdb-path", one_line(result, 1)), result.stderr
