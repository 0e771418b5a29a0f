"""What one load of a time-boxed run may read of the history: every kind of request counted."""

from __future__ import annotations

import pytest

from sources.liveagent.settings import REPORTS
from sources.liveagent.timebox import (
    FIXED_REQUESTS,
    catch_up_load,
    conversation_rows_in,
    listing_pages,
    report_days_in,
    reports_reserve,
    smallest_history_load,
)

RATE = 3.0  # LiveAgent's 180 requests a minute


@pytest.mark.parametrize("seconds", [5, 20, 60, 300, 840])
@pytest.mark.parametrize("requests_per_row", [1, 2])
def test_what_a_load_reads_costs_no_more_than_its_seconds_allow(
    seconds: float, requests_per_row: int,
) -> None:
    days = report_days_in(seconds, RATE)
    rows = conversation_rows_in(seconds, RATE, requests_per_row, 10_000, reports_reserve(days))
    requests = FIXED_REQUESTS + reports_reserve(days) + listing_pages(10_000) \
        + max(0, rows) * requests_per_row
    assert requests <= seconds * RATE or rows <= 0
    assert len(REPORTS) * days <= seconds * RATE / 4  # the reports' quarter at most


def test_a_window_is_listed_whole() -> None:
    assert [listing_pages(n) for n in (0, 60, 1000, 1001, 10_000)] == [1, 2, 2, 3, 11]


def test_the_smallest_history_load_is_the_first_that_reads_anything() -> None:
    for conversations, reports in ((True, False), (False, True), (True, True)):
        least = smallest_history_load(RATE, 1, 10_000, conversations, reports)
        before = least - 0.5
        days = report_days_in(least, RATE)
        rows = conversation_rows_in(least, RATE, 1, 10_000, reports_reserve(days))
        assert (reports and days > 0) or (conversations and rows > 0)
        assert report_days_in(before, RATE) == 0 or not reports
        assert conversation_rows_in(before, RATE, 1, 10_000, reports_reserve(
            report_days_in(before, RATE))) <= 0 or not conversations
    # a day of the nine reports takes 36 requests of a load's (they get a quarter)
    assert smallest_history_load(RATE, 1, 10_000, False, True) == 14.5


def test_a_catch_up_chunk_is_read_whole() -> None:
    assert catch_up_load(RATE, 1, 1000) == pytest.approx((1000 + 2 + 2) / (RATE * 0.9))
    assert catch_up_load(RATE, 1, 0) == 3600.0  # no limit: no box holds it
