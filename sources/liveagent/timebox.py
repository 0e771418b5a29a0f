"""What one load of a time-boxed run may read of the history in the seconds it is given.

A time-boxed run brings the warehouse up to date first (never cut short), then reads history in
loads, each given the seconds left of the box less what its own normalize and load will take
(the runner measures that on the load before). Every kind of history request is counted
against those seconds, at the client's rate: the status probe and incremental listing page
every load makes, a day of each of the nine reports (a quarter of the requests at most), the
listing pages of a conversation window, and each history conversation's own requests
(messages, and details when on). Before, the reports' days were sized on the whole box before
the up-to-date part had spent it (measured at 180/min: a 60 s box ran 93 s).
"""

from __future__ import annotations

from .settings import CONVERSATIONS_PAGE_SIZE, REPORTS

SLACK = 0.9  # of the requests the rate allows, for retries and the limiter's spacing
FIXED_REQUESTS = 2  # every load: the status probe and the incremental listing's page
REPORTS_SHARE = 0.25  # of a load's requests, what report history may take at most
MOST_SECONDS = 3600.0  # `smallest_history_load` looks no further


def requests_in(seconds: float, requests_per_second: float) -> float:
    """The history requests one load can make in `seconds` at the client's rate."""
    return max(0.0, seconds * requests_per_second * SLACK - FIXED_REQUESTS)


def report_days_in(seconds: float, requests_per_second: float) -> int:
    """Days of report history (a request per report and day) a load can read in `seconds`."""
    return int(requests_in(seconds, requests_per_second) * REPORTS_SHARE / len(REPORTS))


def reports_reserve(days: int) -> int:
    """What the reports of a load reading `days` history days ask for (and today's day)."""
    return len(REPORTS) * (days + 1)


def listing_pages(per_load: int) -> int:
    """The listing pages of one history window: it lists the whole window (`per_load` rows;
    0, no limit: counted as one page) even when fewer of its rows are taken."""
    return -(-per_load // CONVERSATIONS_PAGE_SIZE) + 1 if per_load else 1


def conversation_rows_in(seconds: float, requests_per_second: float, requests_per_row: int,
                         per_load: int, reserved: float) -> int:
    """History conversations a load can read in `seconds` once `reserved` requests (the
    reports', the incremental part's) are paid, with their window's listing pages."""
    requests = requests_in(seconds, requests_per_second) - reserved - listing_pages(per_load)
    rows = int(requests // requests_per_row)
    return min(rows, per_load) if per_load else rows


def smallest_history_load(requests_per_second: float, requests_per_row: int, per_load: int,
                          conversations: bool, reports: bool) -> float:
    """The fewest seconds in which a load reads any of the history left (a conversation when
    `conversations` have history left, a day of the reports when `reports` do)."""
    seconds = 0.0
    while seconds < MOST_SECONDS:
        seconds += 0.5
        days = report_days_in(seconds, requests_per_second)
        if reports and days > 0:
            return seconds
        if conversations and conversation_rows_in(seconds, requests_per_second,
                                                  requests_per_row, per_load,
                                                  reports_reserve(days)) > 0:
            return seconds
    return MOST_SECONDS


def catch_up_load(requests_per_second: float, requests_per_row: int, per_load: int) -> float:
    """The seconds a load catching up on changes takes: it reads a whole chunk of `per_load`
    conversations (0, no limit: no box holds it)."""
    if not per_load:
        return MOST_SECONDS
    requests = per_load * requests_per_row + listing_pages(per_load) + FIXED_REQUESTS
    return requests / (requests_per_second * SLACK)
