"""An Airflow DAG: `liveagent-pipeline run` as a task, one task per configured account.

    pip install -e '.[airflow]'    # then, in the DAGs folder, a file that imports it:
    from pipelines.airflow_dag import liveagent  # the airflow DAG   (docs/orchestrators.md)

Each task is one `pipelines.runner.run_pipeline` call, as the CLI's run (its lock per target,
chunked backfill, time box, run history). Its outcome maps the CLI's exit codes onto Airflow's:
a configuration error (exit 2: a rejected API key, a missing setting) fails the task without
retries, since every retry fails the same way; a failed run (exit 1) and tables that could not
be read (exit 4) fail it with retries; rows kept in `rejected_rows` (exit 3) fail it only with
`fail_on_rejected_rows` (without retries: later runs read those rows again). Settings and
secrets come the dlt way, from the worker's environment or `.dlt/`, never from the DAG file.
This module and the tests are the only ones that import Airflow (the `airflow` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.exceptions import AirflowException, AirflowFailException
from airflow.sdk import DAG, task

from pipelines.accounts import Account, configured_accounts
from pipelines.errors import EXIT_USAGE, explain, failed_tables_line, failure_line
from pipelines.runner import RunOptions, rejection_lines, run_pipeline

HOURLY_TIME_BOX = 50 * 60  # seconds: an hourly run brings the warehouse up to date, then history


def load(options: RunOptions, fail_on_rejected_rows: bool = False,
         **settings: Any) -> dict[str, int]:
    """One run; the rows written per table (for XCom), or the exception that tells Airflow
    whether to retry, carrying the CLI's one-line reason with every key masked."""
    try:
        result = run_pipeline(options, **settings)
    except Exception as error:
        message = failure_line(error, settings.get("api_key"), options.account)
        retry = explain(error, options.account)[1] != EXIT_USAGE
    else:
        if result.failed:
            raise AirflowException(failed_tables_line(result.failed, options.account))
        if fail_on_rejected_rows and result.rejections.open:
            raise AirflowFailException("; ".join(rejection_lines(options, result.rejections)))
        return result.row_counts
    # raised outside the except block: no chained traceback (which could carry the key) is logged
    if retry:
        raise AirflowException(message) from None
    raise AirflowFailException(message) from None


def build_dag(dag_id: str = "liveagent", schedule: str | None = "@hourly",
              accounts: list[Account] | None = None, fail_on_rejected_rows: bool = False,
              retries: int = 2, retry_delay: timedelta = timedelta(minutes=5),
              **options: Any) -> DAG:
    """The DAG: a task `load` for the default target, or `load_<account>` per account of
    `[liveagent.accounts.*]`, side by side (each has its own pipeline, lock and file).
    `options` are RunOptions fields (destination, duckdb_path, pipelines_dir, ...)."""
    accounts = configured_accounts() if accounts is None else accounts
    options.setdefault("max_duration", HOURLY_TIME_BOX)
    with DAG(dag_id, schedule=schedule, start_date=datetime(2026, 1, 1), catchup=False,
             max_active_runs=1, default_args={"retries": retries,
                                              "retry_delay": retry_delay}) as dag:
        targets: list[Account | None] = [*accounts] or [None]
        for account in targets:
            _load_task(account, RunOptions(**options), fail_on_rejected_rows)
    return dag


def _load_task(account: Account | None, base: RunOptions, fail_on_rejected_rows: bool) -> None:
    task_id = "load" if account is None else f"load_{account.name}"

    @task(task_id=task_id)
    def load_account() -> dict[str, int]:
        if account is None:
            return load(base, fail_on_rejected_rows)
        return load(account.options(base), fail_on_rejected_rows, **account.settings)

    load_account()


liveagent = build_dag()
