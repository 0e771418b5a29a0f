"""Which listed conversations go into one load."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sources.liveagent.batching import EarliestChanged, NewestChanged

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def row(cid: str, seconds: int) -> dict:
    return {"conversationid": cid, "datechanged": T0 + timedelta(seconds=seconds)}


def feed(batch: EarliestChanged, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        page = batch.add(r)
        if page:
            out.extend(page)
    for page in batch.finish():
        out.extend(page)
    return out


def test_unlimited_passes_everything_through_in_listing_order() -> None:
    rows = [row(f"c{n}", 5000 - n) for n in range(2500)]
    batch = EarliestChanged(0)
    assert feed(batch, rows) == rows and not batch.truncated


def test_limited_keeps_the_earliest_changed_and_all_ties_of_the_last() -> None:
    rows = [row("a", 50), row("b", 10), row("c", 30), row("d", 30), row("e", 20), row("f", 40)]
    batch = EarliestChanged(3)
    kept = feed(batch, rows)
    assert [r["conversationid"] for r in kept] == ["b", "e", "c", "d"]  # 30 ties both in
    assert batch.truncated


def test_limited_but_not_exceeded_is_not_truncated() -> None:
    batch = EarliestChanged(10)
    assert len(feed(batch, [row(f"c{n}", n) for n in range(10)])) == 10
    assert not batch.truncated


def test_pruning_keeps_memory_bounded_and_the_result_exact() -> None:
    rows = [row(f"c{n}", (n * 7919) % 10007) for n in range(5000)]
    batch = EarliestChanged(100)
    kept = feed(batch, rows)
    assert kept == sorted(rows, key=lambda r: r["datechanged"])[:100]
    assert batch.truncated


def test_a_row_listed_twice_counts_once_and_the_newer_wins() -> None:
    batch = EarliestChanged(0)
    kept = feed(batch, [row("a", 10), row("b", 11), row("a", 10), row("a", 12)])
    assert [(r["conversationid"], r["datechanged"]) for r in kept] == [
        ("a", T0 + timedelta(seconds=12)), ("b", T0 + timedelta(seconds=11))]


def test_later_cuts_end_each_following_load_after_its_ties() -> None:
    seconds = [5, 1, 2, 3, 3, 3, 4, 6, 7, 8, 9, 10]  # 3 is shared by three rows
    batch = EarliestChanged(2)
    kept = feed(batch, [row(f"c{n}", s) for n, s in enumerate(seconds)])
    assert [r["datechanged"] for r in kept] == [T0 + timedelta(seconds=s) for s in (1, 2)]
    cuts = batch.later_cuts(kept[-1]["datechanged"])
    # loads: {3, 3, 3} (ties of the cut), {4, 5}, {6, 7}, {8, 9}; 10 is for the open listing
    assert cuts == [T0 + timedelta(seconds=s) for s in (3, 5, 7, 9)]


def test_later_cuts_are_none_when_the_rest_fits_one_load() -> None:
    batch = EarliestChanged(3)
    kept = feed(batch, [row(f"c{n}", n) for n in range(5)])
    assert batch.truncated and batch.later_cuts(kept[-1]["datechanged"]) == []


def test_rows_at_the_high_water_mark_do_not_count_toward_the_limit() -> None:
    """A bulk edit of more rows than one load holds, all in the last loaded second, must not
    leave every following load full of rows already loaded."""
    bulk = [row(f"bulk{n}", 0) for n in range(50)]
    later = [row(f"c{n}", 100 + n) for n in range(10)]
    batch = EarliestChanged(5, floor=T0)
    kept = feed(batch, [*later, *bulk])
    assert {r["conversationid"] for r in kept} == \
        {f"bulk{n}" for n in range(50)} | {f"c{n}" for n in range(5)}
    assert batch.truncated


def test_limited_a_row_listed_twice_counts_once_and_the_newer_wins() -> None:
    batch = EarliestChanged(2)
    kept = feed(batch, [row("a", 10), row("b", 11), row("a", 10), row("a", 12), row("c", 13)])
    assert [(r["conversationid"], r["datechanged"]) for r in kept] == [
        ("b", T0 + timedelta(seconds=11)), ("a", T0 + timedelta(seconds=12))]
    assert batch.truncated


class TestNewestChanged:
    def test_keeps_the_newest_and_all_ties_of_the_oldest_kept(self) -> None:
        rows = [row("a", 50), row("b", 10), row("c", 30), row("d", 30), row("e", 20),
                row("f", 40)]
        window = NewestChanged(3)
        for r in rows:
            window.add(r)
        kept = window.finish()
        assert [r["conversationid"] for r in kept] == ["a", "f", "c", "d"]  # 30 ties both in
        assert window.truncated

    def test_pruning_keeps_memory_bounded_and_the_result_exact(self) -> None:
        rows = [row(f"c{n}", (n * 7919) % 10007) for n in range(5000)]
        window = NewestChanged(100)
        for r in rows:
            window.add(r)
        assert window.finish() == sorted(rows, key=lambda r: r["datechanged"],
                                         reverse=True)[:100]

    def test_earlier_cuts_plan_the_older_windows_after_their_ties(self) -> None:
        seconds = [5, 1, 2, 3, 3, 3, 4, 6, 7, 8, 9, 10]
        window = NewestChanged(2)
        for n, s in enumerate(seconds):
            window.add(row(f"c{n}", s))
        kept = window.finish()
        assert [r["datechanged"] for r in kept] == [T0 + timedelta(seconds=s) for s in (10, 9)]
        # windows: {8, 7}, {6, 5}, {4, 3, 3, 3} (ties of 3), and {2, 1} down to the start
        assert window.earlier_cuts(kept[-1]["datechanged"]) == \
            [T0 + timedelta(seconds=s) for s in (7, 5, 3)]

    def test_a_row_listed_twice_counts_once_and_the_newer_wins(self) -> None:
        window = NewestChanged(5)
        for r in (row("a", 10), row("b", 11), row("a", 12), row("a", 9)):
            window.add(r)
        assert [(r["conversationid"], r["datechanged"]) for r in window.finish()] == [
            ("a", T0 + timedelta(seconds=12)), ("b", T0 + timedelta(seconds=11))]
