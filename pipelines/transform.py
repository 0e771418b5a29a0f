"""The analyst layer: the dbt project in `pipelines/analytics/liveagent`, built after a load with
dlt's dbt runner (`liveagent-pipeline run --transform`, `demo --transform`).

dbt runs in this Python environment (the `analytics` extra installs dbt-duckdb and
dbt-postgres) on the pipeline's own destination credentials. The project is copied into the
pipeline's working directory first, so dbt's `target/` and `logs/` never land in the installed
package. dbt's output goes to stderr: stdout stays the run's summary.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dlt
from dlt.common.destination.client import DestinationClientDwhConfiguration
from dlt.common.runners import Venv

from pipelines.comments import comment_relations
from sources.liveagent.privacy import Privacy
from sources.liveagent.transforms import AccountTime

PROJECT = Path(__file__).parent / "analytics" / "liveagent"
ADAPTERS = {"duckdb": "dbt.adapters.duckdb", "postgres": "dbt.adapters.postgres"}
# a model column's `meta` key naming the warehouse columns (`table.column`) it is made from
LINEAGE = "raw_columns"


class _ThisPython(Venv):
    """This interpreter's environment: dlt's runner starts dbt with `python` from the active
    virtualenv's bin directory, or from PATH when none is active, which may be another
    Python; here it is the interpreter that runs the pipeline."""

    def __init__(self) -> None:
        super().__init__(SimpleNamespace(bin_path="", env_exe=sys.executable, env_dir=None),
                         current=True)

    def start_command(self, entry_point: str, *script_args: Any, **popen_kwargs: Any
                      ) -> subprocess.Popen[str]:
        command = sys.executable if entry_point == "python" else entry_point
        return super().start_command(command, *script_args, **popen_kwargs)


class TransformError(Exception):
    """The load went through but the analyst layer could not be built or did not pass its tests
    (one line, exit code 1)."""


@dataclass
class TransformResult:
    models: int  # built
    tests: int  # passed (warned ones are in `warnings`)
    warnings: list[str]
    elapsed: float
    staging: str  # schema names
    marts: str


def project_vars(timezone: str, as_of: str | None = None, strict_codes: bool = False,
                 include_deleted: bool = False, business_hours: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    AccountTime(timezone)  # an unknown zone is refused here, not by the database
    return {"timezone": timezone, "as_of": as_of, "strict_codes": strict_codes,
            "include_deleted": include_deleted, "business_hours": business_hours}


def transform(pipeline: dlt.Pipeline, timezone: str, test: bool = True,
              privacy: Privacy | None = None, **options: Any) -> TransformResult:
    """Builds the staging views and marts from the pipeline's dataset and runs the project's
    tests; with `privacy`, their columns made from excluded or hashed ones say so in their
    comments. `options` go to `project_vars` (as_of, strict_codes, include_deleted)."""
    from dlt.helpers.dbt import create_runner
    from dlt.helpers.dbt.exceptions import DBTProcessingError

    started = time.monotonic()
    credentials = pipeline.destination_client().config
    kind = credentials.destination_type
    if not isinstance(credentials, DestinationClientDwhConfiguration) or \
            not _installed(ADAPTERS.get(kind, "")):
        raise TransformError(f"--transform needs dbt with its {kind} adapter: "
                             "pip install 'liveagent-dlt[analytics]'")
    project = _working_copy(Path(pipeline.working_dir).resolve() / "dbt")
    runner = create_runner(_ThisPython(), credentials, str(project.parent),
                           package_location=str(project), package_profiles_dir=str(project),
                           package_profile_name=kind, auto_full_refresh_when_out_of_sync=False)
    variables = runner._get_package_vars(project_vars(timezone, **options))
    try:
        with redirect_stdout(sys.stderr):
            # dlt's runner has `run` and `test`, a dbt process each; `dbt build` does both in
            # one, skipping what depends on a failed model or test (12 s instead of 25 s for
            # the demo, most of it dbt's start)
            results = runner._run_dbt_command("build" if test else "run", ["--fail-fast"],
                                              variables)
    except DBTProcessingError as error:
        raise TransformError(_failure(error)) from None
    dataset = credentials.dataset_name
    if privacy:
        for schema, relations in privacy_comments(project, privacy).items():
            comment_relations(pipeline, relations, dataset=schema)
    nodes = list(results or [])
    staging, marts = analyst_schemas(dataset)
    return TransformResult(
        models=sum(r.status == "success" for r in nodes),
        tests=sum(r.status == "pass" for r in nodes),
        warnings=[r.model_name for r in nodes if r.status == "warn"],
        elapsed=time.monotonic() - started, staging=staging, marts=marts)


def analyst_schemas(dataset: str) -> tuple[str, str]:
    """The schemas the project builds on `dataset` (dbt's custom schemas of dbt_project.yml):
    staging views, and marts."""
    return f"{dataset}_stg", f"{dataset}_analytics"


def has_analyst_layer(pipeline: dlt.Pipeline) -> bool:
    """Whether the pipeline's destination holds an analyst layer built on its dataset."""
    with pipeline.sql_client() as client:
        for schema in analyst_schemas(client.dataset_name):
            with client.with_alternative_dataset_name(schema):
                if client.has_dataset():
                    return True
    return False


def privacy_comments(project: Path, privacy: Privacy
                     ) -> dict[str, dict[str, dict[str, Any]]]:
    """By schema and relation, the column comments of the models (as dbt's persist_docs
    wrote them) with the note of `privacy` on each column made from an excluded or hashed
    one. The lineage is the columns' `meta: raw_columns` in the project's yml, read from the
    manifest dbt wrote."""
    manifest = json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        for name, column in node.get("columns", {}).items():
            meta = {**column.get("config", {}).get("meta", {}), **column.get("meta", {})}
            note = privacy.note(meta.get(LINEAGE, []))
            if note:
                text = column.get("description", "").strip()
                columns = found.setdefault(node["schema"], {}).setdefault(
                    node.get("alias") or node["name"], {"columns": {}})["columns"]
                columns[name] = {"description": f"{text.rstrip('.')}. {note}" if text
                                 else note}
    return found


def _installed(module: str) -> bool:
    try:
        return bool(module) and importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package (dbt) is missing
        return False


def _working_copy(parent: Path) -> Path:
    """The project copied next to the pipeline's state (dbt writes target/ and logs/ into it);
    partial parse results of earlier runs stay."""
    target = parent / PROJECT.name
    shutil.copytree(PROJECT, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    return target


def _failure(error: Any) -> str:
    failed: Sequence[Any] = [r for r in error.run_results or []
                             if r.status in ("error", "fail")]
    names = ", ".join(f"{r.model_name} ({r.status})" for r in failed[:5]) or "dbt stopped"
    first = next((str(r.message).strip().splitlines()[0] for r in failed if r.message), "") \
        or " ".join(str(error.dbt_results or "").split())[:300]
    return (f"the load went through, but dbt {error.command} failed: {names}"
            + (f": {first}" if first else ""))


def summary(result: TransformResult) -> str:
    warned = (f", {len(result.warnings)} warned: {', '.join(result.warnings)}"
              if result.warnings else "")
    return (f"analyst layer: {result.models} models built in {result.staging} and "
            f"{result.marts}, {result.tests} dbt tests passed{warned} "
            f"({result.elapsed:.1f}s)")

