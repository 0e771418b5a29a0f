"""A resource whose reads keep failing costs only its own tables.

dlt fails the whole extract when one resource raises, so one endpoint that kept failing (GET
/tags answering an error envelope every time; a report, a heavy query on LiveAgent's side,
timing out) cost every table. Each resource that reads LiveAgent is guarded (`fails_alone`):
when its requests still fail after all their retries, its group is recorded as failed and the
state of the group goes back to what the load began with, and the other resources go on and
load. The state must go back: dlt commits the state a resource mutated in place with the
load, and a report sets `last_closed_day` before it reads its days, an incremental moves its
last value with every row that passes, so either would advance past what was never read.

A group is resources that share state or feed one another: the conversation family (one
backfill record) fails as a whole, and its resources not read yet are skipped. Rows a failed
resource yielded before its failure still load (they are what LiveAgent said, merged on their
keys); with its state kept, the next run reads them again.

What makes every read meaningless still stops the run: a rejected key (401/403), a setting or
a clock that is wrong (`ConfigurationError`), and any failure before the account answered its
status probe (a wrong URL, an unreachable account). Only a source given a `Failures` to report
into isolates its resources; without one (a plain `pipeline.run(liveagent_source())`) a failure
fails the extract, as dlt does, so that no failure goes unnoticed.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

import dlt

from .exceptions import AuthenticationError, ConfigurationError, LiveAgentError

log = logging.getLogger(__name__)

# failures that no other resource would escape either
FATAL = (AuthenticationError, ConfigurationError)
STATE_KEY = "failed_tables"  # source state: tables the last load of each could not read, why
_MISSING = object()


@dataclass(frozen=True)
class Group:
    """Resources that fail together, the tables they load, and the keys of the source state
    they own (besides their resource states)."""

    name: str
    resources: tuple[str, ...]
    tables: tuple[str, ...] = ()
    source_keys: tuple[str, ...] = ()


@dataclass
class Failures:
    """What the guarded resources of one load did: the groups that began to read, and those
    whose reads failed, with the one-line reason, also per table. Filled during the extract;
    the runner reads it afterwards."""

    read: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # group -> reason
    tables: dict[str, str] = field(default_factory=dict)  # table -> reason

    @property
    def everything(self) -> bool:
        """Whether every group that read failed (nothing of the load is worth loading)."""
        return bool(self.read) and self.read <= set(self.failed)


@dataclass
class _Member:
    """A resource of a group that began to read: its live state and that state before."""

    state: dict[str, Any]
    before: dict[str, Any]

    def restore(self) -> None:
        self.state.clear()
        self.state.update(copy.deepcopy(self.before))


class Isolation:
    """Guards the resources of one source instance (one load). `failures` None: no isolation
    (a failure raises, as in dlt)."""

    def __init__(self, groups: Iterable[Group] = (), failures: Failures | None = None,
                 now: datetime | None = None) -> None:
        self.failures = failures
        self.now = now
        self._groups = {name: group for group in groups for name in group.resources}
        self._members: dict[str, list[_Member]] = {}
        self._shared: dict[str, dict[str, Any]] = {}  # group -> its source keys before

    def group_of(self, resource: str) -> Group:
        return self._groups.get(resource) or Group(resource, (resource,), (resource,))

    def guard(self, rows: Iterator[Any], reached: Callable[[], bool]) -> Iterator[Any]:
        """`rows` of the running resource; after a failure that costs only its group, nothing
        more of it, and its group's state as the load began."""
        if self.failures is None:
            yield from rows
            return
        group = self.group_of(dlt.current.resource_name())
        if group.name in self.failures.failed:
            return  # its group failed earlier in this load
        self._remember(group)
        try:
            yield from rows
        except LiveAgentError as error:
            if isinstance(error, FATAL) or not reached():
                raise
            self._fail(group, str(error))
            return
        if group.name in self.failures.failed:  # another resource of the group failed meanwhile
            self._restore(group)
        else:
            self._clear(group)

    def _remember(self, group: Group) -> None:
        assert self.failures is not None
        self.failures.read.add(group.name)
        state = dlt.current.resource_state()
        self._members.setdefault(group.name, []).append(_Member(state, copy.deepcopy(state)))
        source = dlt.current.source_state()
        self._shared.setdefault(group.name, {
            key: copy.deepcopy(source[key]) if key in source else _MISSING
            for key in (*group.source_keys, STATE_KEY)})

    def _fail(self, group: Group, reason: str) -> None:
        assert self.failures is not None
        log.warning("%s failed after its retries, the other tables load: %s", group.name, reason)
        self.failures.failed[group.name] = reason
        self.failures.tables.update(dict.fromkeys(group.tables, reason))
        self._restore(group)
        # as the load began: a resource of the group that ended well may have cleared it
        earlier = self._shared[group.name][STATE_KEY]
        earlier = {} if earlier is _MISSING else earlier
        registry = dlt.current.source_state().setdefault(STATE_KEY, {})
        now = (self.now or datetime.now(timezone.utc)).isoformat()
        for table in group.tables:
            registry[table] = {"reason": reason,
                               "since": earlier.get(table, {}).get("since", now)}

    def _restore(self, group: Group) -> None:
        for member in self._members.get(group.name, []):
            member.restore()
        source = dlt.current.source_state()
        for key in group.source_keys:
            before = self._shared[group.name][key]
            if before is _MISSING:
                source.pop(key, None)
            else:
                source[key] = copy.deepcopy(before)

    @staticmethod
    def _clear(group: Group) -> None:
        """The group read whole: its tables leave the registry of failing ones."""
        source = dlt.current.source_state()
        registry = source.get(STATE_KEY, {})
        for table in group.tables:
            registry.pop(table, None)
        if not registry:
            source.pop(STATE_KEY, None)


def failing_tables(source_state: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The tables whose last read failed, as the committed state says: reason and since when."""
    found: dict[str, dict[str, str]] = source_state.get(STATE_KEY, {})
    return found


Resource = TypeVar("Resource", bound=Callable[..., Iterator[Any]])


def fails_alone(function: Resource) -> Resource:
    """Guards a resource function whose argument `reading` is the `Reading` of its load (apply
    it under `@dlt.resource`: dlt reads the signature through it)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Iterator[Any]:
        reading = signature.bind(*args, **kwargs).arguments["reading"]
        yield from reading.isolation.guard(function(*args, **kwargs),
                                           lambda: reading.client.reached)

    return guarded  # type: ignore[return-value]
