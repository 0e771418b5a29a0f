"""Several accounts in one configuration: each loads side by side with the others, into its own
dataset and DuckDB file, with its own pipeline, state and lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from liveagent_fake.server import FakeLiveAgent
from tests.support import ZONE, make_account
from tests.warehouse import Warehouse


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
