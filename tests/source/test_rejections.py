"""The rejected-row registry on its own: when a unit leaves, and which units a run reads again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sources.liveagent.rejections import KEYLESS, RejectedRows, reread_kind, unit
from sources.liveagent.transforms import Rejected

T0 = datetime(2025, 10, 9, 8, 0, tzinfo=timezone.utc)


def load(state: dict[str, Any], minutes: int) -> RejectedRows:
    """The registry as a load `minutes` after T0 sees it."""
    return RejectedRows(state, T0 + timedelta(minutes=minutes))


def bad(key: str | None = "7", table: str = "conversations") -> Rejected:
    return Rejected(table, key, "LiveAgent sent a list for the text field 'subject'", {"a": 1})


class TestGone:
    def test_a_unit_leaves_when_liveagent_says_twice_in_two_loads_that_it_is_gone(self) -> None:
        state: dict[str, Any] = {}
        load(state, 0).settle(unit("conversations", "7"), [bad()])
        assert load(state, 1).confirm_gone(unit("conversations", "7")) == []
        registry = load(state, 2)
        assert registry.has_open(unit("conversations", "7"))
        assert registry.confirm_gone(unit("conversations", "7")) == [
            {"rejection_id": "conversations:7", "deleted": True}]
        assert state["rejected_rows"] == {}

    def test_an_answer_in_between_starts_over(self) -> None:
        state: dict[str, Any] = {}
        load(state, 0).settle(unit("conversations", "7"), [bad()])
        load(state, 1).confirm_gone(unit("conversations", "7"))
        load(state, 2).settle(unit("conversations", "7"), [bad()])  # it answered: still bad
        assert load(state, 3).confirm_gone(unit("conversations", "7")) == []
        assert load(state, 4).confirm_gone(unit("conversations", "7"))


class TestKeep:
    def test_a_unit_read_but_not_whole_keeps_its_earlier_rejections(self) -> None:
        state: dict[str, Any] = {}
        read = unit("messages", "7")
        load(state, 0).settle(read, [bad("7|m1", "messages")])
        short = Rejected("messages", None, "short", None)
        load(state, 1).keep(read, [short], "7", {"short_reads": 1})
        assert len(state["rejected_rows"]) == 2 and "messages:7|m1" in state["rejected_rows"]
        registry = load(state, 2)
        assert registry.notes(read) == {"short_reads": 1}
        rows = registry.settle(read, [])  # read whole at last: both leave
        assert len(rows) == 2 and all(row["deleted"] for row in rows)
        assert state["rejected_rows"] == {}


class TestReread:
    def test_least_recently_read_first_and_at_most_the_limit(self) -> None:
        state: dict[str, Any] = {}
        for minute, ident in enumerate(("c", "a", "b")):
            load(state, minute).settle(unit("messages", ident), [bad(None, "messages")])
        registry = load(state, 10)
        assert registry.conversations_to_reread(2) == ["c", "a"]
        load(state, 11).settle(unit("messages", "c"), [bad(None, "messages")])  # again
        assert load(state, 12).conversations_to_reread(2) == ["a", "b"]

    def test_units_noticed_by_this_load_wait(self) -> None:
        state: dict[str, Any] = {}
        registry = load(state, 0)
        registry.settle(unit("messages", "c"), [bad(None, "messages")])
        assert registry.conversations_to_reread(10) == []

    def test_a_unit_is_decided_once_a_load(self) -> None:
        registry = load({}, 0)
        assert registry.first_answer(unit("messages", "c"))
        assert not registry.first_answer(unit("messages", "c"))


def test_kinds() -> None:
    assert reread_kind("messages:7") == "messages"
    assert reread_kind("conversations:7") == "conversations"
    assert reread_kind("conversations:#") == KEYLESS
    assert reread_kind("kb_entries:#") == KEYLESS
    assert reread_kind("kb_entries:12") == "kb_entries"
    assert reread_kind("report_agents:2025-09-20") == "report_days"
    assert reread_kind("tags:") == "lists"
    assert reread_kind("companies:#") == "lists"
    assert reread_kind("companies:c1") == "details"
