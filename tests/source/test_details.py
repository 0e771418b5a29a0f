"""Which list rows are new or changed, and which listed companies or agents get a details
request."""

from __future__ import annotations

from datetime import date

from sources.liveagent.details import REFRESHED, new_or_changed, select_for_details

DAY = date(2025, 3, 10)


def test_first_run_reads_all_then_only_new_or_changed_rows() -> None:
    state: dict = {}
    listed = [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]
    assert select_for_details(listed, state, "id", DAY, 7) == listed
    assert select_for_details(listed, state, "id", DAY, 7) == []
    changed = [{"id": "a", "name": "A2"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}]
    assert select_for_details(changed, state, "id", DAY, 7) == [changed[0], changed[2]]


def test_everything_again_when_the_refresh_is_due() -> None:
    state: dict = {}
    listed = [{"id": "a"}, {"id": "b"}]
    select_for_details(listed, state, "id", DAY, 7)
    assert select_for_details(listed, state, "id", date(2025, 3, 16), 7) == []
    assert select_for_details(listed, state, "id", date(2025, 3, 17), 7) == listed
    assert state[REFRESHED] == "2025-03-17"


def test_ignored_fields_do_not_count_as_changes() -> None:
    state: dict = {}
    select_for_details([{"id": "a", "onlineStatus": "T"}], state, "id", DAY, 7, ("onlineStatus",))
    assert select_for_details([{"id": "a", "onlineStatus": "F"}], state, "id", DAY, 7,
                              ("onlineStatus",)) == []


def test_only_new_or_changed_rows_and_a_row_that_comes_back_is_new() -> None:
    state: dict = {}
    listed = [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]
    assert new_or_changed(listed, state, "id") == listed
    assert new_or_changed(listed, state, "id") == []
    renamed = [{"id": "a", "name": "A2"}, {"id": "b", "name": "B"}]
    assert new_or_changed(renamed, state, "id") == [renamed[0]]
    assert new_or_changed(renamed[1:], state, "id") == []  # a left the list...
    assert new_or_changed(renamed, state, "id") == [renamed[0]]  # ...and came back
