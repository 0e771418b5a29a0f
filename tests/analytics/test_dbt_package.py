"""The analyst layer as a package of another team's dbt project: `dbt deps` installs it from a
git URL with `subdirectory:` (a local repository holding this checkout's project at its path),
`dbt build` builds it on a DuckDB file the pipeline loaded from the fake, with the team's vars
and a model of the team's own on a mart; neither that build nor the connector's own build of
the project warns of a deprecated dbt feature."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liveagent_fake.server import FakeLiveAgent
from pipelines.runner import RunOptions, make_pipeline, run_pipeline
from pipelines.transform import PROJECT, transform
from tests.analytics.conftest import AS_OF, ZONE
from tests.support import make_account
from tests.warehouse import query_rows

DATASET = "liveagent"
SUBDIRECTORY = PROJECT.relative_to(PROJECT.parents[2]).as_posix()  # pipelines/analytics/...
DBT = str(Path(sys.executable).with_name("dbt"))
# the team's project: its own profile, schema and flags; the package's vars under its name
ROOT_PROJECT = """
name: support_team
version: "1.0.0"
config-version: 2
profile: support_team
flags:
  send_anonymous_usage_stats: false
vars:
  liveagent:
    source_dataset_name: {dataset}
    timezone: {zone}
    as_of: "{as_of}"
    stg_schema: team_liveagent_stg
    analytics_schema: team_liveagent
    business_hours: {business_hours}
"""
# office hours, so business-hours figures differ from calendar ones
BUSINESS_HOURS = {"hours": {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}}
PROFILES = """
support_team:
  target: dev
  outputs:
    dev: {{type: duckdb, path: "{path}", schema: team, threads: 2}}
"""
PACKAGES = """
packages:
  - git: "{url}"
    revision: {revision}
    subdirectory: {subdirectory}
"""
TEAM_MODEL = """
select sum(answers) as answers, count(*) as days from {{ ref('liveagent__daily_kpis') }}
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def package_repository(root: Path) -> tuple[str, str]:
    """A git repository with this checkout's dbt project at its path in this repository;
    its file:// URL and commit."""
    shutil.copytree(PROJECT, root / SUBDIRECTORY,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q",
        "-m", "the dbt project", cwd=root)
    return root.as_uri(), git("rev-parse", "HEAD", cwd=root)


def dbt(command: str, project: Path) -> str:
    done = subprocess.run([DBT, command, "--project-dir", str(project), "--profiles-dir",
                           str(project)], capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A DuckDB file loaded from a small fake account and built by the connector; its path and
    the connector's dbt log."""
    work = tmp_path_factory.mktemp("package")
    options = RunOptions(destination="duckdb", dataset=DATASET,
                         duckdb_path=str(work / "warehouse.duckdb"),
                         pipelines_dir=str(work / "pipelines"), full_refresh=True,
                         read_copy=False)
    with FakeLiveAgent(make_account(conversations=30, timezone=ZONE)) as fake:
        run_pipeline(options, base_url=fake.url, api_key=fake.api_key, timezone=ZONE,
                     start_date="2025-09-09", requests_per_minute=1e6)
    pipeline = make_pipeline(options)
    transform(pipeline, ZONE, as_of=AS_OF.isoformat(), business_hours=BUSINESS_HOURS)
    return options.duckdb_path, Path(pipeline.working_dir) / "dbt" / PROJECT.name / "logs"


def test_the_connector_builds_the_project_without_deprecation_warnings(
        warehouse: tuple[str, Path]) -> None:
    _, logs = warehouse
    log = (logs / "dbt.log").read_text()
    assert "Completed successfully" in log
    assert "Deprecat" not in log


@pytest.mark.slow  # dbt deps and dbt build: 27 s on 2 cores
def test_a_team_project_installs_and_builds_it_as_a_git_package(
        warehouse: tuple[str, Path], tmp_path: Path) -> None:
    path, _ = warehouse
    url, revision = package_repository(tmp_path / "repository")
    team = tmp_path / "team"
    (team / "models").mkdir(parents=True)
    (team / "dbt_project.yml").write_text(ROOT_PROJECT.format(
        dataset=DATASET, zone=ZONE, as_of=AS_OF.isoformat(),
        business_hours=json.dumps(BUSINESS_HOURS)))
    (team / "profiles.yml").write_text(PROFILES.format(path=path))
    (team / "packages.yml").write_text(PACKAGES.format(url=url, revision=revision,
                                                       subdirectory=SUBDIRECTORY))
    (team / "models" / "answers_to_date.sql").write_text(TEAM_MODEL)

    output = dbt("deps", team) + dbt("build", team)
    output += (team / "logs" / "dbt.log").read_text()
    assert "Deprecat" not in output

    def relations(schema: str) -> set[str]:
        return {row["table_name"] for row in query_rows("duckdb", path, (
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = '{schema}'"))}

    # the package's models where its vars say, beside the connector's; the team's own model
    # in the team's schema
    assert relations("team_liveagent") == relations(f"{DATASET}_analytics")
    assert relations("team_liveagent_stg") == relations(f"{DATASET}_stg")
    assert "liveagent__conversation_metrics" in relations("team_liveagent")
    # the same rows as the connector built: same sources, same account zone (a day is local),
    # same business hours
    kpis = "SELECT * FROM {}.liveagent__daily_kpis ORDER BY date_day"
    built = query_rows("duckdb", path, kpis.format("team_liveagent"))
    assert built == query_rows("duckdb", path, kpis.format(f"{DATASET}_analytics"))
    assert any(row["avg_first_response_business_seconds"] != row["avg_first_response_seconds"]
               for row in built)
    assert query_rows("duckdb", path, "SELECT * FROM team.answers_to_date") == \
        [{"answers": sum(row["answers"] for row in built), "days": len(built)}]
    assert sum(row["answers"] for row in built) > 20
