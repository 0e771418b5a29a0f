"""Several accounts in one configuration: each loads side by side with the others, into its own
dataset and DuckDB file, with its own pipeline, state and lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from pipelines.dashboard import free_port
from sources.liveagent.privacy import keyed_hash
from tests.support import ZONE, assert_nowhere, make_account
from tests.warehouse import Target, Warehouse


def test_two_accounts_load_side_by_side_from_one_config(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    with FakeLiveAgent(make_account(conversations=45, timezone="America/New_York")) as other:
        dlt_dir = configured / ".dlt"
        dlt_dir.mkdir()
        (dlt_dir / "config.toml").write_text(
            f'[liveagent.accounts.acme]\nbase_url = "{fake.url}/api/"\ntimezone = "{ZONE}"\n\n'
            f'[liveagent.accounts.globex]\nbase_url = "{other.url}/api/"\n'
            'timezone = "America/New_York"\ndataset = "globex_help"\n')
        (dlt_dir / "secrets.toml").write_text(
            f'[liveagent.accounts.acme]\napi_key = "{fake.api_key}"\n\n'
            f'[liveagent.accounts.globex]\napi_key = "{other.api_key}"\n')
        command = Path(sys.executable).with_name("liveagent-pipeline")
        runs = {name: subprocess.Popen(
                    [str(command), "run", "--account", name, "--progress-every", "0",
                     "--pipelines-dir", str(configured / "pipelines"),
                     "--resources", "conversations,tags"],
                    cwd=configured, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name in ("acme", "globex")}
        finished = {name: run.communicate(timeout=300) for name, run in runs.items()}
        for name, run in runs.items():
            assert run.returncode == 0, finished[name][1]

    acme = Warehouse(str(configured / "liveagent_acme.duckdb"), "acme")
    globex = Warehouse(str(configured / "liveagent_globex.duckdb"), "globex_help")
    assert acme.scalar("SELECT count(*) FROM {ds}.conversations") == 120
    assert globex.scalar("SELECT count(*) FROM {ds}.conversations") == 45
    # each its own pipeline (and so its own local state and lock), named after its target
    out = {name: text for name, (text, _) in finished.items()}
    assert "dlt pipeline: liveagent_acme in " in out["acme"], out["acme"]
    assert "dlt pipeline: liveagent_globex_globex_help in " in out["globex"], out["globex"]


def write_accounts(work: Path, config: str, secrets: str = "") -> None:
    dlt_dir = work / ".dlt"
    dlt_dir.mkdir(exist_ok=True)
    (dlt_dir / "config.toml").write_text(config)
    (dlt_dir / "secrets.toml").write_text(secrets)


def run_account(work: Path, name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`liveagent-pipeline run --account name` in `work`, the test's environment and `env`."""
    command = Path(sys.executable).with_name("liveagent-pipeline")
    return subprocess.run(
        [str(command), "run", "--account", name, "--progress-every", "0",
         "--pipelines-dir", str(work / "pipelines"), "--resources", "tags", *args],
        cwd=work, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def error_line(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("liveagent-pipeline: "), result.stderr
    assert "wrong-key" not in result.stderr + result.stdout
    return lines[0]


def test_an_account_setting_a_failing_value_is_told_to_change_its_own(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    """The shared settings (the test's environment) are right; the account's own are not."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    write_accounts(configured, f'[liveagent.accounts.globex]\nbase_url = "{fake.url}"\n'
                   f'timezone = "{ZONE}"\n', '[liveagent.accounts.globex]\napi_key = "wrong-key"\n')
    cases = [  # (an override in the environment, exit code, the reason, what to change)
        ({}, 2, "LiveAgent rejected the API key (401",
         "check liveagent.accounts.globex.api_key (LIVEAGENT__ACCOUNTS__GLOBEX__API_KEY)"),
        ({"LIVEAGENT__ACCOUNTS__GLOBEX__BASE_URL": unreachable}, 1, "could not be reached",
         "check liveagent.accounts.globex.base_url and the network"),
        ({"LIVEAGENT__ACCOUNTS__GLOBEX__TIMEZONE": "Mars/Olympus"}, 2,
         "Unknown time zone 'Mars/Olympus'",
         "in liveagent.accounts.globex.timezone (LIVEAGENT__ACCOUNTS__GLOBEX__TIMEZONE)"),
    ]
    for override, code, reason, change in cases:
        line = error_line(run_account(configured, "globex", **override), code)
        assert reason in line and change in line, line
        assert "sources.liveagent" not in line and "SOURCES__" not in line, line


def test_an_account_key_from_the_environment_is_named_so_and_an_inherited_one_is_shared(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    write_accounts(configured, f'[liveagent.accounts.acme]\nbase_url = "{fake.url}"\n\n'
                   f'[liveagent.accounts.globex]\nbase_url = "{fake.url}"\n')
    # globex's table has no key: its variable sets it; acme inherits the shared one
    wrong = {"LIVEAGENT__ACCOUNTS__GLOBEX__API_KEY": "wrong-key-1",
             "SOURCES__LIVEAGENT__API_KEY": "wrong-key-2"}
    line = error_line(run_account(configured, "globex", **wrong), 2)
    assert "check liveagent.accounts.globex.api_key (LIVEAGENT__ACCOUNTS__GLOBEX__API_KEY)" \
        in line, line
    line = error_line(run_account(configured, "acme", **wrong), 2)
    assert "check sources.liveagent.api_key (SOURCES__LIVEAGENT__API_KEY)" in line, line
    assert "liveagent.accounts" not in line.lower()


def test_a_setting_set_nowhere_offers_the_accounts_key_and_the_shared_one(
    configured: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_accounts(configured, f'[liveagent.accounts.globex]\ntimezone = "{ZONE}"\n')
    monkeypatch.delenv("SOURCES__LIVEAGENT__BASE_URL")
    line = error_line(run_account(configured, "globex"), 2)
    assert "missing configuration: set liveagent.accounts.globex.base_url (env " \
        "LIVEAGENT__ACCOUNTS__GLOBEX__BASE_URL) or sources.liveagent.base_url (env " \
        "SOURCES__LIVEAGENT__BASE_URL)" in line, line


def test_the_run_history_names_the_accounts_setting(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    write_accounts(configured, f'[liveagent.accounts.globex]\nbase_url = "{fake.url}"\n',
                   f'[liveagent.accounts.globex]\napi_key = "{fake.api_key}"\n')
    assert run_account(configured, "globex").returncode == 0  # a failed first run records none
    unreachable = f"http://127.0.0.1:{free_port()}"
    lines = [error_line(run_account(configured, "globex", **{
                 "LIVEAGENT__ACCOUNTS__GLOBEX__API_KEY": "wrong-key-3"}), 2),
             error_line(run_account(configured, "globex", **{
                 "LIVEAGENT__ACCOUNTS__GLOBEX__BASE_URL": unreachable}), 1)]
    history = Warehouse(str(configured / "liveagent_globex.duckdb"), "globex")
    runs = history.rows("run_history", "outcome, detail", "ORDER BY started_at")
    assert [run["outcome"] for run in runs] == ["loaded", "failed", "failed"]
    key, url = (run["detail"] for run in runs[1:])
    assert "rejected the API key" in key and "check liveagent.accounts.globex.api_key " \
        "(LIVEAGENT__ACCOUNTS__GLOBEX__API_KEY)" in key and "wrong-key" not in key
    assert "could not be reached" in url and "check liveagent.accounts.globex.base_url" in url
    assert [f"liveagent-pipeline: {detail}" for detail in (key, url)] == lines


def test_two_accounts_in_one_dataset_are_refused_before_anything_loads(
    fake: FakeLiveAgent, configured: Path, target: Target,
) -> None:
    """They would share one pipeline and its state: globex's first run went on from acme's
    high-water mark, and each marked the other's rows deleted."""
    with FakeLiveAgent(make_account(conversations=45, timezone=ZONE)) as other:
        write_accounts(
            configured,
            f'[liveagent.accounts.acme]\nbase_url = "{fake.url}"\ndataset = "{target.dataset}"'
            f'\n\n[liveagent.accounts.globex]\nbase_url = "{other.url}"\n'
            f'dataset = "{target.dataset}"\n',
            f'[liveagent.accounts.acme]\napi_key = "{fake.api_key}"\n\n'
            f'[liveagent.accounts.globex]\napi_key = "{other.api_key}"\n')
        where = ("--duckdb-path", target.location) if target.destination == "duckdb" \
            else ("--destination", "postgres")
        for name, other_name in (("acme", "globex"), ("globex", "acme")):
            line = error_line(run_account(configured, name, *where), 2)
            assert f"accounts {name} and {other_name} both load into " in line, line
            assert f"set liveagent.accounts.{other_name}.dataset" in line, line
        assert fake.stats.total == other.stats.total == 0  # refused before any request
        # and before anything was created
        assert not Path(target.location).exists() if target.destination == "duckdb" \
            else target.tables() == {}
        # a dataset of its own for globex: each loads its own account, all of it
        config = (configured / ".dlt" / "config.toml").read_text()
        (configured / ".dlt" / "config.toml").write_text(
            config[::-1].replace(f'"{target.dataset}"'[::-1],
                                 f'"{target.dataset}_globex"'[::-1], 1)[::-1])
        for name in ("acme", "globex"):
            assert run_account(configured, name, *where, "--resources", "conversations"
                               ).returncode == 0
    acme, globex = target.query("SELECT count(*) AS n FROM {ds}.conversations"), \
        Target(target.destination, target.location, f"{target.dataset}_globex").query(
            "SELECT count(*) AS n FROM {ds}.conversations")
    assert (acme[0]["n"], globex[0]["n"]) == (120, 45)


def test_two_accounts_into_one_duckdb_file_wait_for_each_other(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    """DuckDB lets one process write a file: started together, the second run waits for the
    first to finish with the file, then loads; both exit 0 and each dataset is whole."""
    with FakeLiveAgent(make_account(conversations=45, timezone=ZONE)) as other:
        write_accounts(
            configured, f'[liveagent.accounts.acme]\nbase_url = "{fake.url}"\n\n'
            f'[liveagent.accounts.globex]\nbase_url = "{other.url}"\n',
            f'[liveagent.accounts.acme]\napi_key = "{fake.api_key}"\n\n'
            f'[liveagent.accounts.globex]\napi_key = "{other.api_key}"\n')
        fake.latency = other.latency = 0.02  # each run takes a few seconds
        command = Path(sys.executable).with_name("liveagent-pipeline")
        runs = {name: subprocess.Popen(
                    [str(command), "run", "--account", name, "--progress-every", "0",
                     "--pipelines-dir", str(configured / "pipelines"), "--duckdb-path",
                     "shared.duckdb", "--resources", "conversations,tags", "--duckdb-wait", "1"],
                    cwd=configured, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name in ("acme", "globex")}
        finished = {name: run.communicate(timeout=300) for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, finished[name][1]
    waited = [err for _, err in finished.values() if "waiting for" in err]
    assert len(waited) == 1, finished
    assert "shared.duckdb" in waited[0] and "PID" in waited[0], waited
    shared = str(configured / "shared.duckdb")
    assert Warehouse(shared, "acme").scalar("SELECT count(*) FROM {ds}.conversations") == 120
    assert Warehouse(shared, "globex").scalar("SELECT count(*) FROM {ds}.conversations") == 45


def test_each_account_hashes_with_its_own_privacy_salt_and_forget_takes_it_too(
    fake: FakeLiveAgent, configured: Path,
) -> None:
    """acme sets its own salt, globex takes the shared one: the same tag names get other
    hashes in each, and neither salt shows in the output or in any file the runs wrote."""
    own, shared = "acme-salt-5c2e91d07b", "shared-salt-83fa6e14c9"
    write_accounts(configured, f'[liveagent.accounts.acme]\nbase_url = "{fake.url}/api/"\n\n'
                   f'[liveagent.accounts.globex]\nbase_url = "{fake.url}/api/"\n')
    env = {"SOURCES__LIVEAGENT__PRIVACY": json.dumps({"hash": ["tags.name"]}),
           "LIVEAGENT__ACCOUNTS__ACME__PRIVACY_SALT": own,
           "SOURCES__LIVEAGENT__PRIVACY_SALT": shared}
    runs = [run_account(configured, name, **env) for name in ("acme", "globex")]
    for run in runs:
        assert run.returncode == 0, run.stderr
    names = sorted(tag.name for tag in fake.account.entities.tags)
    loaded = {name: sorted(row["name"] for row in Warehouse(
        str(configured / f"liveagent_{name}.duckdb"), name).rows("tags", "name"))
        for name in ("acme", "globex")}
    assert loaded == {"acme": sorted(keyed_hash(n, own) for n in names),
                      "globex": sorted(keyed_hash(n, shared) for n in names)}
    assert_nowhere([own, shared], configured, *(r.stdout + r.stderr for r in runs))

    # forget: the account's salt, else the shared one; without either, the account's setting
    forget = [str(Path(sys.executable).with_name("liveagent-pipeline")), "forget",
              "--pipelines-dir", str(configured / "pipelines"), "--email", "x@example.org"]
    without_shared = {k: v for k, v in os.environ.items()
                      if k != "SOURCES__LIVEAGENT__PRIVACY_SALT"}
    for name, salt_env, expected in (
        ("acme", {"LIVEAGENT__ACCOUNTS__ACME__PRIVACY_SALT": own}, "no contact with this "),
        ("globex", {}, "forget needs liveagent.accounts.globex.privacy_salt (env "
                       "LIVEAGENT__ACCOUNTS__GLOBEX__PRIVACY_SALT) or "
                       "sources.liveagent.privacy_salt"),
    ):
        done = subprocess.run([*forget, "--account", name], cwd=configured,
                              env={**without_shared, **salt_env}, capture_output=True,
                              text=True, timeout=300)
        assert error_line(done, 2).startswith(f"liveagent-pipeline: {expected}"), done.stderr
