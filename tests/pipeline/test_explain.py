"""`explain()` on constructed exception chains: the reason a person can act on is found
wherever it sits in the chain (`__cause__` or `__context__`)."""

from __future__ import annotations

import errno
import os
from datetime import datetime, timezone
from itertools import pairwise
from types import SimpleNamespace

import pytest
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.accounts import Account
from pipelines.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, explain
from pipelines.runner import LoadsCommitted
from sources.liveagent.exceptions import ConfigurationError, UnavailableError
from sources.liveagent.transforms import AccountTime


def os_error(code: int, path: str | None = None) -> OSError:
    return OSError(code, os.strerror(code), path) if path else OSError(code, os.strerror(code))


def chained(*errors: BaseException, implicit: bool = True) -> BaseException:
    """errors[0] raised while handling errors[1], ... (or `raise ... from` when not implicit)."""
    for outer, inner in pairwise(errors):
        if implicit:
            outer.__context__ = inner
        else:
            outer.__cause__ = inner
    return errors[0]


class TestFileErrors:
    def test_a_full_disk_behind_a_failed_rename(self) -> None:
        # dlt renames, and copies when the rename fails across devices: the copy hits the disk
        error = chained(RuntimeError("Pipeline execution failed at `step=normalize`"),
                        os_error(errno.ENOSPC, "/nonexistent/pipelines/x/load/new/1.parquet"),
                        os_error(errno.EXDEV, "/tmp/1.parquet"), implicit=False)
        assert explain(error) == ("no space left on device (the filesystem mounted at /, "
                                  "writing /nonexistent/pipelines/x/load/new/1.parquet); free "
                                  "space there or move --pipelines-dir/--duckdb-path",
                                  EXIT_FAILED)

    def test_the_telling_reason_wins_wherever_it_is_in_the_chain(self) -> None:
        error = chained(os_error(errno.EXDEV, "/a"), os_error(errno.ENOSPC, "/b"))
        assert explain(error)[0].startswith("no space left on device (the filesystem mounted "
                                            "at /, writing /b);")

    @pytest.mark.parametrize("code, expected", [
        (errno.EACCES, "permission denied at /nonexistent/dw.duckdb; make it writable for this "
                       "user or choose another --pipelines-dir/--duckdb-path"),
        (errno.EROFS, "read-only file system (the filesystem mounted at /, writing "
                      "/nonexistent/dw.duckdb); choose another --pipelines-dir/--duckdb-path"),
        (errno.EDQUOT, "disk quota exceeded (the filesystem mounted at /, writing "
                       "/nonexistent/dw.duckdb); free space there or move "),
    ], ids=["EACCES", "EROFS", "EDQUOT"])
    def test_other_file_errors(self, code: int, expected: str) -> None:
        message, exit_code = explain(chained(RuntimeError("wrapped"),
                                             os_error(code, "/nonexistent/dw.duckdb")))
        assert message.startswith(expected) and exit_code == EXIT_FAILED

    def test_too_many_open_files(self) -> None:
        assert explain(os_error(errno.EMFILE))[0] == (
            "too many open files; raise the limit (ulimit -n) or lower "
            "sources.liveagent.max_workers")

    def test_a_reason_only_in_the_text_of_an_error_without_errno(self) -> None:
        class IOException(Exception):  # DuckDB's, which carries no errno
            pass

        error = IOException('IO Error: Could not write file "/nonexistent/dw.duckdb.wal": '
                            "No space left on device")
        assert explain(error)[0].startswith("no space left on device (the filesystem mounted "
                                            "at /, writing /nonexistent/dw.duckdb.wal);")

    def test_the_file_is_the_one_on_the_line_of_the_reason_not_a_traceback_source(self) -> None:
        # dlt's loader puts a failed job's traceback into its message (measured on a full
        # tmpfs: the line named dlt's sql_client.py as the place that ran out of space)
        error = RuntimeError(
            'Job failed: Traceback (most recent call last):\n'
            '  File "/venv/lib/python3.11/site-packages/dlt/destinations/sql_client.py", '
            'line 437, in _wrap_gen\n'
            'TransactionException: Failed to commit: Could not write file '
            '"/nonexistent/.liveagent/dw.duckdb.wal": No space left on device')
        assert explain(error)[0].startswith(
            "no space left on device (the filesystem mounted at /, writing "
            "/nonexistent/.liveagent/dw.duckdb.wal);")

    def test_an_unknown_error_still_names_the_innermost_cause(self) -> None:
        message, code = explain(chained(RuntimeError("outer"), ValueError("the reason\nmore")))
        assert message == ("unexpected error: ValueError: the reason "
                           "(run with --debug for the traceback)") and code == EXIT_FAILED


class TestInterrupts:
    def test_before_anything_was_loaded(self) -> None:
        error = chained(RuntimeError("Pipeline execution failed at `step=extract`"),
                        KeyboardInterrupt(), implicit=False)
        assert explain(error) == ("interrupted; nothing of this run was loaded, state unchanged",
                                  EXIT_INTERRUPTED)

    def test_after_loads_of_a_chunked_backfill(self) -> None:
        error = chained(LoadsCommitted(3), RuntimeError("extract failed"), KeyboardInterrupt(),
                        implicit=False)
        assert explain(error) == ("interrupted after 3 loads of this run committed; the rest was "
                                  "not loaded, and the next run goes on after them",
                                  EXIT_INTERRUPTED)

    def test_while_loading(self) -> None:
        pipeline = SimpleNamespace(pipeline_name="liveagent", has_pending_data=True)
        step = PipelineStepFailed(pipeline, "load", "1764", KeyboardInterrupt())  # type: ignore[arg-type]
        error = chained(LoadsCommitted(2), step, KeyboardInterrupt(), implicit=False)
        assert explain(error) == ("interrupted while loading (2 loads of this run committed "
                                  "before); the next run finishes this load", EXIT_INTERRUPTED)

    def test_a_failure_after_loads_says_how_many_were_committed(self) -> None:
        error = chained(LoadsCommitted(1), UnavailableError("LiveAgent could not be reached"),
                        implicit=False)
        assert explain(error) == ("LiveAgent could not be reached (1 load of this run committed "
                                  "before; the next run goes on after them)", EXIT_FAILED)


def test_a_value_dlt_cannot_coerce_names_the_field() -> None:
    error = ConfigValueCannotBeCoercedException("request_max_attempts", "many", int)
    assert explain(chained(RuntimeError("resolving"), error)) == (
        "the configured value of request_max_attempts cannot be read as int: fix it in "
        ".dlt/config.toml, .dlt/secrets.toml or the environment", EXIT_USAGE)


def test_an_accounts_run_is_told_its_own_name_of_each_setting_it_sets_only() -> None:
    """The zone check's message names two settings: the account sets one, inherits the other."""
    problem = AccountTime("Europe/Bratislava").zone_mismatch(
        "2025-10-09 08:53:20", datetime(2025, 10, 9, 8, 53, 20, tzinfo=timezone.utc))
    error = chained(RuntimeError("extract"), ConfigurationError(str(problem)))
    globex = Account("globex", "globex", {"timezone": "Europe/Bratislava"})
    message, code = explain(error, globex)
    assert code == EXIT_USAGE
    assert "but liveagent.accounts.globex.timezone is Europe/Bratislava" in message
    assert "or set sources.liveagent.check_timezone = false" in message  # shared: inherited
    assert explain(error) == (str(problem), EXIT_USAGE)  # no account: the shared names
