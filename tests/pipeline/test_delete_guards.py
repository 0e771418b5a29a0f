"""A listing that finds deletions and answers wrongly once (empty, without its list, a page cut
short) marks, removes and loses nothing: the run says so in one line and exits non-zero, and
the next run with a correct answer goes on as if the wrong one never came. In DuckDB and
Postgres."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liveagent_fake.server import FakeLiveAgent
from tests.warehouse import DELETE_KEYS, Target, delete_marks

NOTHING_MARKED: dict[str, set[str]] = {table: set() for table in DELETE_KEYS}
# (fault kind, path, options, the table the refusal names): `skip=1` lets the incremental
# listing of conversations or entries through, so the fault hits the listing of every row
BAD_LISTINGS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "conversations: an empty list": ("empty_list", "/api/conversations$", {"skip": 1},
                                     "conversations"),
    "conversations: no list key": ("no_list", "/api/conversations$", {"skip": 1},
                                   "conversations"),
    "conversations: the first page cut": ("cut_list", "/api/conversations$",
                                          {"skip": 1, "keep": 48}, "conversations"),
    "kb entries: an empty list": ("empty_list", "/api/knowledgebase/entries$", {"skip": 1},
                                  "kb_entries"),
    "tags: an empty list": ("empty_list", "/api/tags$", {}, "tags"),
    "tags: no list key": ("no_list", "/api/tags$", {}, "tags"),
    "companies: an empty list": ("empty_list", "/api/companies$", {}, "companies"),
    "agents: an empty list": ("empty_list", "/api/onlinestatus/agents$", {}, "agents"),
}


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize("case", list(BAD_LISTINGS))
def test_a_wrong_listing_marks_nothing(
    run_cli: Callable[..., int], fake: FakeLiveAgent, capsys: pytest.CaptureFixture[str],
    configured: Any, case: str,
) -> None:
    target = Target("duckdb", str(configured / "warehouse.duckdb"))
    kind, path, options, table = BAD_LISTINGS[case]
    assert run_cli(*target.args) == 0
    live = delete_marks(target, marked=False)
    fake.faults.add(kind, path=path, **options)
    capsys.readouterr()
    # the listing's table fails alone: the others load (exit 4), one line names it and why
    assert run_cli(*target.args, "--reconcile") == 4
    error = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("liveagent-pipeline: ")]
    assert len(error) == 1 and f" {table}" in error[0], error
    assert "nothing was marked" in error[0] or "without its" in error[0], error
    assert delete_marks(target) == NOTHING_MARKED
    fake.faults.clear()
    assert run_cli(*target.args, "--reconcile") == 0
    assert delete_marks(target) == NOTHING_MARKED
    assert delete_marks(target, marked=False) == live


@pytest.mark.usefixtures("quick_retries")
def test_wrong_listings_mark_nothing_in_either_destination(
    run_cli: Callable[..., int], fake: FakeLiveAgent, target: Target,
) -> None:
    assert run_cli(*target.args) == 0
    fake.faults.add("cut_list", path="/api/conversations$", skip=1, keep=48)
    fake.faults.add("empty_list", path="/api/tags$")
    assert run_cli(*target.args, "--reconcile") == 4
    assert delete_marks(target) == NOTHING_MARKED


def test_a_share_that_is_no_share_is_refused_before_anything_runs(
    run_cli: Callable[..., int], fake: FakeLiveAgent, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_DELETED_SHARE", "5")
    assert run_cli() == 2
    assert "max_deleted_share (env SOURCES__LIVEAGENT__MAX_DELETED_SHARE) must be a share from " \
        "0 to 1" in capsys.readouterr().err
    assert fake.log.total == 0
