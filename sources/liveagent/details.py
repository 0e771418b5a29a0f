"""Which listed companies or agents need their detail request this run (pure; no I/O).

The lists have no change filter, and reading every detail each run would spend most of a
run's request budget on unchanged rows. A digest of each list row is kept in the resource
state: new or changed rows get their details now; all rows get them again every
`refresh_days`, for the fields only the detail answer carries.
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


def select_for_details(
    listed: Sequence[Listed], state: dict[str, Any], key: str, today: date,
    refresh_days: int, ignore: Sequence[str] = (), again: Collection[str] = (),
) -> list[Listed]:
    """The rows to read in full now, and those of `again` (ids whose last read failed);
    updates `state` (committed only with the load)."""
    refreshed = state.get(REFRESHED)
    due = refreshed is None or date.fromisoformat(refreshed) <= today - timedelta(refresh_days)
    known: dict[str, str] = state.get(DIGESTS, {})
    current = {str(row[key]): digest(row, ignore) for row in listed}
    chosen = [row for row in listed if due or str(row[key]) in again
              or known.get(str(row[key])) != current[str(row[key])]]
    state[DIGESTS] = current  # rows gone from the list are forgotten
    if due:
        state[REFRESHED] = today.isoformat()
    return chosen
