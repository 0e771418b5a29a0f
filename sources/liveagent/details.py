"""Which rows of a list without a change filter are new or changed since the last load, and
which listed companies or agents need their detail request this run (pure; no I/O).

The API cannot say what changed in these lists, so a digest of each row is kept in the
resource state, which dlt commits only with the load: a row whose digest differs from the
last loaded one (or that has none) is new or changed. Rows gone from the list are forgotten,
so one that comes back counts as new. Writing only those rows keeps unchanged lists out of
the rows a run writes; reading company and agent details only for them saves most of a run's
request budget, and all their details are read again every `refresh_days`, for the fields
only the detail answer carries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

Listed = TypeVar("Listed", bound=Mapping[str, Any])

DIGESTS = "list_digests"
REFRESHED = "details_refreshed_on"


def digest(row: Mapping[str, Any], ignore: Sequence[str] = ()) -> str:
    """A short, stable fingerprint of a list row (without fields that change on their own)."""
    stable = {k: v for k, v in row.items() if k not in ignore}
    return hashlib.sha1(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()[:16]


def new_or_changed(listed: Sequence[Listed], state: dict[str, Any], key: str,
                   ignore: Sequence[str] = ()) -> list[Listed]:
    """The rows of a complete listing whose digest differs from the last loaded one; `state`
    then holds this listing's digests (committed only with the load)."""
    known: dict[str, str] = state.get(DIGESTS, {})
    current = {str(row[key]): digest(row, ignore) for row in listed}
    state[DIGESTS] = current  # rows gone from the list are forgotten
    return [row for row in listed if known.get(str(row[key])) != current[str(row[key])]]


def select_for_details(
    listed: Sequence[Listed], state: dict[str, Any], key: str, today: date,
    refresh_days: int, ignore: Sequence[str] = (), again: Collection[str] = (),
) -> list[Listed]:
    """The rows to read in full now: new or changed ones, those of `again` (ids whose last
    read failed), all when the refresh is due; updates `state` (committed only with the load)."""
    refreshed = state.get(REFRESHED)
    due = refreshed is None or date.fromisoformat(refreshed) <= today - timedelta(refresh_days)
    changed = {str(row[key]) for row in new_or_changed(listed, state, key, ignore)}
    chosen = [row for row in listed if due or str(row[key]) in again or str(row[key]) in changed]
    if due:
        state[REFRESHED] = today.isoformat()
    return chosen
