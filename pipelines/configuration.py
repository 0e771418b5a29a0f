"""What a run needs from its configuration, checked before the destination is touched: the
source's settings (resolved the dlt way, as the source itself resolves them), their ranges, the
date range and the dataset name. A problem is a `ConfigurationError` that names the setting
and its environment variable (exit code 2); a run that stops here leaves nothing behind."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.container import Container
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.common.configuration.utils import get_resolved_traces
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.pipeline import PipelineContext
from dlt.extract import DltSource

from sources.liveagent import liveagent_source
from sources.liveagent.exceptions import ConfigurationError
from sources.liveagent.transforms import AccountTime, parse_start_date

MAX_DATASET_LENGTH = 63  # Postgres truncates longer identifiers
KINDS = {float: "a number", int: "a whole number", bool: "true or false"}


def setting(name: str) -> str:
    """A source setting as the user sets it: its key and its environment variable."""
    return f"sources.liveagent.{name} (env SOURCES__LIVEAGENT__{name.upper()})"


@dataclass(frozen=True)
class Bound:
    """The smallest value a numeric setting accepts, and what it counts."""

    name: str
    least: float
    unit: str
    exclusive: bool = False  # the bound itself is refused too

    def check(self, value: float) -> None:
        if math.isfinite(value) and (value > self.least if self.exclusive
                                     else value >= self.least):
            return
        relation = "above" if self.exclusive else "at least"
        raise ConfigurationError(f"{setting(self.name)} must be {relation} {self.least:g} "
                                 f"{self.unit}, got {value!r}")


BOUNDS = (
    # the rate limiter spreads a minute's budget over its seconds: fewer than 2 cannot be spread
    Bound("requests_per_minute", 2, "requests per minute (LiveAgent allows 180)"),
    Bound("request_timeout", 0, "seconds", exclusive=True),
    Bound("max_attempts", 1, "attempts per request"),
    Bound("max_workers", 1, "concurrent requests"),
    Bound("conversations_per_load", 0, "conversations (0 loads all in one package)"),
    Bound("report_lookback_days", 0, "days"),
    Bound("details_refresh_days", 0, "days"),
)


def check_dataset(name: str) -> None:
    """A dataset name the destinations keep as given (dlt would rename 'a.b' to 'a_b')."""
    normalized = NamingConvention().normalize_identifier(name) if name.strip() else "liveagent"
    if name != normalized or len(name) > MAX_DATASET_LENGTH:
        raise ConfigurationError(
            f"--dataset {name!r} is not a valid schema name: use lowercase letters, digits and "
            f"underscores, at most {MAX_DATASET_LENGTH} characters, e.g. "
            f"{normalized[:MAX_DATASET_LENGTH]!r}")


def checked_source(explicit: Mapping[str, Any], date_labels: tuple[str, str]) -> DltSource:
    """The source, built after its settings passed their checks. `explicit` values win over
    configuration; `date_labels` name where the start and end dates came from."""
    # the source reads the state of the pipeline active in this thread: not the target's yet
    # (the runner makes it after these checks) but the last one a long-lived process ran, e.g.
    # another account's under Dagster or Airflow, whose forgotten contacts are not this one's
    Container()[PipelineContext].deactivate()
    try:
        settings = source_settings(explicit)
        for bound in BOUNDS:
            bound.check(settings[bound.name])
        check_dates(settings, date_labels)
        return liveagent_source(**explicit)
    except Exception:
        # the values read so far would ride along in the trace of this thread's next run
        get_resolved_traces().clear()
        raise


def source_settings(explicit: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Every setting of the source as the source would resolve it; `partial`: None for a
    required one that is not configured (`forget` reads the settings of the analyst layer
    where the account's URL and key may not be set)."""
    ref = liveagent_source.ref
    try:
        resolved = resolve_configuration(ref.SPEC(), sections=("sources", ref.section, ref.name),
                                         explicit_value=dict(explicit), accept_partial=partial)
    except ConfigValueCannotBeCoercedException as error:
        kind = KINDS.get(error.hint, f"of type {getattr(error.hint, '__name__', error.hint)}")
        raise ConfigurationError(f"{setting(error.field_name)} must be {kind}, "
                                 f"got {error.field_value!r}") from None
    return dict(resolved)


def check_dates(settings: Mapping[str, Any], labels: tuple[str, str]) -> None:
    """The end date (the last day loaded) must not come before the start date."""
    time = AccountTime(settings["timezone"])
    start, end = settings["start_date"], settings["end_date"]
    first = parse_start_date(start, time)
    after_last = parse_start_date(end, time, exclusive_end=True)
    if first is not None and after_last is not None and after_last <= first:
        raise ConfigurationError(
            f"the end date {end} ({labels[1]}) is before the start date {start} ({labels[0]}): "
            "the end date is the last day to load; give one on or after the start date")
