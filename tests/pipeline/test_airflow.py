"""pipelines/airflow_dag.py run by Airflow itself: docs/orchestrators.md's setup as written,
then `dag.test()` (Airflow's own task runner) of a DAG built by `build_dag` with four accounts
against the fake: one that loads, one with a rejected key (exit 2 on the command line), one
with rows kept in rejected_rows (exit 3) and one whose LiveAgent cannot be reached (exit 1).
Airflow runs in processes of a venv of its own, .venv-airflow (`pip install -e '.[airflow]'`, as
.ci/run builds it): where Airflow is installed, dlt imports it in every process and it takes
over logging, so the test venv goes without it. Without that venv the test is skipped, unless
LIVEAGENT_REQUIRE_AIRFLOW=1 (CI) makes it fail."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.support import ZONE, doc_block, doc_env, make_account, run_doc_block

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SCRIPTS = Path(os.environ.get("LIVEAGENT_AIRFLOW_VENV", REPO / ".venv-airflow")) / "bin"


@pytest.fixture(scope="module")
def airflow_python() -> Path:
    """The Python of the venv with the `airflow` extra."""
    python = AIRFLOW_SCRIPTS / "python"
    if not (AIRFLOW_SCRIPTS / "airflow").exists():
        reason = (f"no Airflow venv at {AIRFLOW_SCRIPTS.parent} (python3.11 -m venv .venv-airflow"
                  " && .venv-airflow/bin/pip install -e '.[airflow]')")
        if os.environ.get("LIVEAGENT_REQUIRE_AIRFLOW") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return python

TEST_DAG = '''\
import json
from datetime import timedelta

from pipelines.airflow_dag import build_dag  # an airflow DAG

liveagent_test = build_dag("liveagent_test", schedule=None, fail_on_rejected_rows=True,
                           retry_delay=timedelta(0), pipelines_dir={pipelines!r})

if __name__ == "__main__":
    run = liveagent_test.test()
    print("STATES", json.dumps({{ti.task_id: [ti.state, ti.try_number]
                                for ti in run.get_task_instances()}}))
'''


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeLiveAgent, FakeLiveAgent]]:
    account, rejecting = (make_account(conversations=10, timezone=ZONE) for _ in range(2))
    with FakeLiveAgent(account) as good, FakeLiveAgent(rejecting) as bad:
        # one conversation's messages answer 404 every time: kept in rejected_rows, exit 3
        bad.faults.add("status", status=404,
                       path=f"/api/conversations/{rejecting.conversation_id(3)}/messages$")
        yield good, bad


@pytest.mark.slow  # measured 54 s of CPU (112 s wall on the shared machine): Airflow's
# database, parsing the DAGs and its task runner; one DAG run covers all four outcomes
def test_the_dag_fails_as_the_exit_codes_say(
        fakes: tuple[FakeLiveAgent, FakeLiveAgent], airflow_python: Path, tmp_path: Path
) -> None:
    good, bad = fakes
    (tmp_path / ".dlt").mkdir()
    accounts = {"acme": good.url, "globex": good.url, "initech": bad.url,
                "umbrella": "http://127.0.0.1:9"}
    (tmp_path / ".dlt" / "config.toml").write_text(
        # two attempts per request, no backoff: the unreachable account fails fast each try
        '[sources.liveagent]\nstart_date = "2025-09-09"\nrequests_per_minute = 1000000\n'
        'max_attempts = 2\n'
        + "".join(f'[liveagent.accounts.{name}]\nbase_url = "{url}"\ntimezone = "{ZONE}"\n'
                  for name, url in accounts.items()))
    keys = {name: "wrong-key" if name == "globex" else good.api_key for name in accounts}
    (tmp_path / ".dlt" / "secrets.toml").write_text("".join(
        f'[liveagent.accounts.{name}]\napi_key = "{key}"\n' for name, key in keys.items()))
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "liveagent_test.py").write_text(TEST_DAG.format(
        pipelines=str(tmp_path / "pipelines")))
    env = doc_env(tmp_path / "dlt", scripts=airflow_python.parent,
                  AIRFLOW__CORE__LOAD_EXAMPLES="false", RUNTIME__REQUEST_BACKOFF_FACTOR="0")
    done = run_doc_block(doc_block("airflow"), tmp_path, env, {"~/airflow": str(home)})
    assert done.returncode == 0, done.stdout
    assert "from pipelines.airflow_dag import liveagent" in (home / "dags" / "liveagent.py") \
        .read_text()

    env["AIRFLOW_HOME"] = str(home)
    run = subprocess.run([str(airflow_python), str(home / "dags" / "liveagent_test.py")],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    [states] = [line.split(" ", 1)[1] for line in run.stdout.splitlines()
                if line.startswith("STATES ")]
    assert json.loads(states) == {
        "load_acme": ["success", 1],
        "load_globex": ["failed", 1],  # a rejected key: not retried
        "load_initech": ["failed", 1],  # rows kept in rejected_rows, fail_on_rejected_rows
        "load_umbrella": ["failed", 3],  # unreachable: retried twice
    }, run.stdout[-3000:]
    # the task's failure is the CLI's one line, the key masked
    assert "LiveAgent rejected the API key" in run.stdout and "wrong-key" not in run.stdout
    assert (tmp_path / "liveagent_acme.duckdb").exists()
