"""GET /conversations: cursor paging, every documented filter, every opdatetime operator."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support import Api

FMT = "%Y-%m-%d %H:%M:%S"


def changed(row: dict) -> datetime:
    return datetime.strptime(row["datechanged"], FMT)


def ids(rows: list[dict]) -> list[str]:
    return [r["conversationid"] for r in rows]


class TestPaging:
    @pytest.mark.parametrize("limit", [1, 7, 59, 60, 1000])
    def test_cursor_paging_reaches_every_row_once(self, api: Api, account, limit: int) -> None:
        rows = api.all_conversations(limit=limit)
        assert len(rows) == len(set(ids(rows))) == 60
        assert ids(rows) == [account.conversation_id(i) for i in range(60)]

    def test_default_limit_is_100(self, api: Api) -> None:
        fake_rows = api.all_conversations()
        assert len(api.get("/api/conversations")["conversations"]) == min(100, len(fake_rows))

    def test_rows_are_in_internal_order_not_by_datechanged(self, api: Api) -> None:
        rows = api.all_conversations()
        stamps = [changed(r) for r in rows]
        assert stamps != sorted(stamps)

    def test_cursor_continues_a_filtered_listing(self, api: Api) -> None:
        wanted = api.all_conversations(status="R,L")
        paged = api.all_conversations(limit=3, status="R,L")
        assert ids(paged) == ids(wanted)
        assert len(wanted) > 3

    def test_cursor_of_last_row_gives_an_empty_page(self, api: Api) -> None:
        rows = api.all_conversations()
        page = api.get("/api/conversations", cursor=rows[-1]["cursor"])
        assert page == {"conversations": []}


class TestOffsetPaging:
    """`offset` is undocumented, but every public client pages with `limit` + `offset`."""

    @pytest.mark.parametrize("limit", [1, 7, 60, 1000])
    def test_offset_listing_equals_cursor_listing(self, api: Api, limit: int) -> None:
        assert api.all_conversations_by_offset(limit) == api.all_conversations(limit=limit)

    def test_offset_pages_a_filtered_listing(self, api: Api) -> None:
        by_cursor = api.all_conversations(status="R,L")
        assert len(by_cursor) > 3
        assert api.all_conversations_by_offset(3, status="R,L") == by_cursor

    def test_offset_past_the_end_is_an_empty_page(self, api: Api) -> None:
        assert api.get("/api/conversations", offset=60) == {"conversations": []}

    def test_cursor_first_then_offset_skips_within_what_follows(self, api: Api) -> None:
        rows = api.all_conversations()
        page = api.get("/api/conversations", cursor=rows[9]["cursor"], offset=5, limit=3)
        assert ids(page["conversations"]) == ids(rows[15:18])

    @pytest.mark.parametrize("offset", ["-1", "x"])
    def test_bad_offset_is_400(self, api: Api, offset: str) -> None:
        response = api.call("GET", "/api/conversations", offset=offset)
        assert response.status_code == 400
        assert "offset" in response.json()["response"]["errormessage"]


class TestDatechanged:
    @pytest.fixture
    def everything(self, api: Api) -> list[dict]:
        return api.all_conversations()

    def pivot(self, rows: list[dict]) -> datetime:
        return sorted(changed(r) for r in rows)[len(rows) // 2]

    @pytest.mark.parametrize("operator, keep", [
        ("eq", lambda s, p: s == p), ("gt", lambda s, p: s > p), ("lt", lambda s, p: s < p),
        ("gte", lambda s, p: s >= p), ("lte", lambda s, p: s <= p),
    ])
    def test_operator(self, api: Api, everything, operator, keep) -> None:
        pivot = self.pivot(everything)
        got = api.all_conversations(datechanged=f"{operator}:{pivot:{FMT}}")
        expected = [r for r in everything if keep(changed(r), pivot)]
        assert got == expected and expected

    def test_bare_datetime_means_eq(self, api: Api, everything) -> None:
        pivot = self.pivot(everything)
        bare = api.all_conversations(datechanged=f"{pivot:{FMT}}")
        assert bare == api.all_conversations(datechanged=f"eq:{pivot:{FMT}}")
        assert bare and all(changed(r) == pivot for r in bare)

    def test_btw_is_inclusive(self, api: Api, everything) -> None:
        stamps = sorted(changed(r) for r in everything)
        low, high = stamps[10], stamps[40]
        got = api.all_conversations(datechanged=f"btw:{low:{FMT}},{high:{FMT}}")
        assert got == [r for r in everything if low <= changed(r) <= high]
        assert {changed(got[0]), changed(got[-1])} <= set(stamps[10:41])
        assert any(changed(r) == low for r in got) and any(changed(r) == high for r in got)

    def test_gte_at_a_shared_second_returns_both_rows(self, api: Api, account) -> None:
        stamp = account.clock.now() + 3600
        first, second = account.conversation_id(3), account.conversation_id(50)
        account.set_status(first, "R", at=stamp)
        account.set_status(second, "A", at=stamp)
        moment = account.time.render(stamp)
        assert set(ids(api.all_conversations(datechanged=f"gte:{moment}"))) == {first, second}
        assert api.all_conversations(datechanged=f"gt:{moment}") == []


class TestOtherFilters:
    def test_datefrom_and_dateto_bound_datecreated(self, api: Api) -> None:
        rows = api.all_conversations()
        created = sorted(r["datecreated"] for r in rows)
        low, high = created[5], created[30]
        got = api.all_conversations(datefrom=low, dateto=high)
        assert got == [r for r in rows if low <= r["datecreated"] <= high]

    def test_status_list(self, api: Api) -> None:
        rows = api.all_conversations()
        got = api.all_conversations(status="R,C")
        assert got == [r for r in rows if r["status"] in ("R", "C")] and got

    def test_channel_type_list(self, api: Api) -> None:
        rows = api.all_conversations()
        got = api.all_conversations(channel_type="E,B")
        assert got == [r for r in rows if r["channel_type"] in ("E", "B")] and got

    def test_department(self, api: Api) -> None:
        rows = api.all_conversations()
        department = rows[0]["departmentid"]
        got = api.all_conversations(department=department)
        assert got == [r for r in rows if r["departmentid"] == department]

    def test_agent_by_userid_or_email(self, api: Api) -> None:
        details = [api.get(f"/api/conversations/{r['conversationid']}")
                   for r in api.all_conversations()]
        agent = next(d["assignedto"] for d in details if d["assignedto"])
        email = api.get(f"/api/agents/{agent}")["email"]
        expected = [d["conversationid"] for d in details if d["assignedto"] == agent]
        assert ids(api.all_conversations(agent=agent)) == expected
        assert ids(api.all_conversations(agent=email)) == expected

    def test_owneridentifier_is_the_owner_email(self, api: Api) -> None:
        rows = api.all_conversations()
        email = rows[4]["owneremail"]
        got = api.all_conversations(owneridentifier=email)
        assert got == [r for r in rows if r["owneremail"] == email]

    def test_subject(self, api: Api) -> None:
        rows = api.all_conversations()
        subject = rows[7]["subject"]
        assert api.all_conversations(subject=subject) == [r for r in rows
                                                           if r["subject"] == subject]

    def test_filters_combine(self, api: Api) -> None:
        rows = api.all_conversations()
        pivot = sorted(changed(r) for r in rows)[20]
        got = api.all_conversations(status="R,A,C", datechanged=f"gte:{pivot:{FMT}}", limit=2)
        assert got == [r for r in rows if r["status"] in "RAC" and changed(r) >= pivot]

    def test_unknown_agent_or_department_matches_nothing(self, api: Api) -> None:
        assert api.all_conversations(agent="nobody") == []
        assert api.all_conversations(department="nodept") == []


class TestMessagesEndpoint:
    def test_datefrom_dateto_limit_messages(self, api: Api, account) -> None:
        index = next(i for i in range(60) if sum(len(g.messages)
                                                  for g in account.record(i).groups) >= 3)
        ref = account.conversation_id(index)
        groups = api.get(f"/api/conversations/{ref}/messages")["groups"]
        stamps = sorted(m["datecreated"] for g in groups for m in g["messages"])
        low = stamps[1]
        later = api.get(f"/api/conversations/{ref}/messages", datefrom=low)["groups"]
        assert sorted(m["datecreated"] for g in later for m in g["messages"]) == stamps[1:]
        earlier = api.get(f"/api/conversations/{ref}/messages", dateto=low)["groups"]
        assert sorted(m["datecreated"] for g in earlier for m in g["messages"]) == \
            [s for s in stamps if s <= low]
