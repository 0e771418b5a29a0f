"""Record transforms: datetime parsing, typing, tags, secrets, report columns."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import ClassVar

import pytest

from sources.liveagent.exceptions import BadRowError, ConfigurationError, RequestError
from sources.liveagent.reports import LOOKBACK_KEY, STATE_KEY, report_days
from sources.liveagent.settings import CONVERSATIONS, REPORTS, Table
from sources.liveagent.transforms import (
    AccountTime,
    agent_row,
    clean_text,
    company_row,
    conversation_tags,
    convert,
    convert_each,
    message_rows,
    parse_start_date,
    report_kind,
    report_rows,
)

UTC = timezone.utc
BRATISLAVA = AccountTime("Europe/Bratislava")


class TestAccountTime:
    def test_parses_local_wall_time_into_utc(self) -> None:
        assert BRATISLAVA.parse("2025-07-01 14:00:00") == datetime(2025, 7, 1, 12, tzinfo=UTC)
        assert BRATISLAVA.parse("2025-12-01 13:00:00") == datetime(2025, 12, 1, 12, tzinfo=UTC)
        assert AccountTime("GMT").parse("2025-12-01 13:00:00") == \
            datetime(2025, 12, 1, 13, tzinfo=UTC)

    @pytest.mark.parametrize("empty", [None, "", "now"])
    def test_empty_values_are_null(self, empty) -> None:
        assert BRATISLAVA.parse(empty) is None

    def test_malformed_datetime_is_a_clear_error(self) -> None:
        with pytest.raises(RequestError, match=r"malformed datetime: '31\.12\.2025'"):
            BRATISLAVA.parse("31.12.2025")

    def test_unknown_zone_names_the_setting(self) -> None:
        with pytest.raises(ConfigurationError, match="SOURCES__LIVEAGENT__TIMEZONE"):
            AccountTime("Mars/Olympus")

    def test_bounds_in_the_repeated_dst_hour_are_safe(self) -> None:
        # 2025-10-26 02:30 happens twice in Bratislava: 00:30 UTC (CEST) and 01:30 UTC (CET)
        first, second = (datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
                         datetime(2025, 10, 26, 1, 30, tzinfo=UTC))
        for moment in (first, second):
            low = BRATISLAVA.render_lower_bound(moment)
            high = BRATISLAVA.render_upper_bound(moment)
            for fold in (0, 1):  # whichever occurrence the server assumes
                as_server = datetime.fromisoformat(low).replace(tzinfo=BRATISLAVA.zone, fold=fold)
                assert as_server <= moment
                as_server = datetime.fromisoformat(high).replace(tzinfo=BRATISLAVA.zone,
                                                                 fold=fold)
                assert as_server >= moment
        ordinary = datetime(2025, 7, 1, 12, tzinfo=UTC)
        assert BRATISLAVA.render_lower_bound(ordinary) == "2025-07-01 14:00:00"


class TestStartDate:
    def test_date_is_account_local_midnight(self) -> None:
        assert parse_start_date("2025-07-01", BRATISLAVA) == datetime(2025, 6, 30, 22,
                                                                      tzinfo=UTC)
        assert parse_start_date("2025-07-01", BRATISLAVA, exclusive_end=True) == \
            datetime(2025, 7, 1, 22, tzinfo=UTC)

    def test_datetimes_with_and_without_offset(self) -> None:
        assert parse_start_date("2025-07-01T08:00:00", BRATISLAVA) == \
            datetime(2025, 7, 1, 6, tzinfo=UTC)
        assert parse_start_date("2025-07-01T08:00:00Z", BRATISLAVA) == \
            datetime(2025, 7, 1, 8, tzinfo=UTC)

    @pytest.mark.parametrize("bad", ["01/07/2025", "2025-13-01", "yesterday"])
    def test_malformed(self, bad: str) -> None:
        with pytest.raises(ConfigurationError, match="YYYY-MM-DD"):
            parse_start_date(bad, BRATISLAVA)


SAMPLE = Table("sample", ("id",), {"id": "id", "created": "datetime", "count": "int",
                                    "ratio": "float", "title": "text", "parent": "id"},
               drop=frozenset({"cursor"}), required=("id",))


class TestConvert:
    def test_types_empty_and_missing_values(self) -> None:
        """"" is NULL whatever the field: LiveAgent's absent value, and Postgres' CSV COPY
        could not keep it apart from NULL anyway."""
        row = convert({"id": "ab12", "created": "2025-07-01 14:00:00", "count": "3",
                       "ratio": "0.50", "title": "", "parent": "", "cursor": "xyz",
                       "brand_new": "1"}, SAMPLE, BRATISLAVA)
        assert row == {"id": "ab12", "created": datetime(2025, 7, 1, 12, tzinfo=UTC),
                       "count": 3, "ratio": 0.5, "title": None, "parent": None, "brand_new": "1"}
        assert convert({"id": "x", "extra": ""}, SAMPLE, BRATISLAVA)["extra"] is None
        assert convert({"id": "x"}, SAMPLE, BRATISLAVA) == {
            "id": "x", "created": None, "count": None, "ratio": None, "title": None,
            "parent": None}

    def test_non_numeric_count_is_refused(self) -> None:
        with pytest.raises(RequestError, match="'abc' for the numeric field 'count'"):
            convert({"id": "x", "count": "abc"}, SAMPLE, BRATISLAVA)

    def test_structures_in_scalar_fields_are_refused(self) -> None:
        with pytest.raises(RequestError, match="a list for the text field 'title'"):
            convert({"id": "x", "title": ["a"]}, SAMPLE, BRATISLAVA)
        assert convert({"id": "x", "title": 42}, SAMPLE, BRATISLAVA)["title"] == "42"

    def test_rows_without_key_or_cursor_are_refused(self) -> None:
        with pytest.raises(RequestError, match="sample row without 'id'"):
            convert({"title": "no id"}, SAMPLE, BRATISLAVA)
        with pytest.raises(RequestError, match="conversations row without 'datechanged'"):
            convert({"conversationid": "c1"}, CONVERSATIONS, BRATISLAVA)

    def test_secrets_never_pass(self) -> None:
        row = convert({"id": "x", "authtoken": "s3cret", "apikey": "k"}, SAMPLE, BRATISLAVA)
        assert "authtoken" not in row and "apikey" not in row


def test_conversation_tags_split_and_tombstone() -> None:
    assert conversation_tags({"conversationid": "c1", "tags": "b2,a1, a1"}) == [
        {"conversationid": "c1", "tag_id": "a1"}, {"conversationid": "c1", "tag_id": "b2"}]
    assert conversation_tags({"conversationid": "c2", "tags": ""}) == [
        {"conversationid": "c2", "tag_id": "", "deleted": True}]


def test_message_rows_carry_their_parents() -> None:
    groups = [{"messagegroupid": "g1", "userid": "u", "rtype": "M", "rstatus": "V",
               "datecreated": "2025-07-01 14:00:00", "datefinished": "2025-07-01 14:05:00",
               "messages": [{"messageid": "m1", "userid": "u", "rtype": "M",
                             "datecreated": "2025-07-01 14:01:00", "message": "hi"}]}]
    read = message_rows("c1", groups, BRATISLAVA)
    group_rows, messages = read.groups, read.messages
    assert read.rejected == []
    assert group_rows == [{"messagegroupid": "g1", "userid": "u", "rtype": "M", "rstatus": "V",
                           "datecreated": datetime(2025, 7, 1, 12, tzinfo=UTC),
                           "datefinished": datetime(2025, 7, 1, 12, 5, tzinfo=UTC),
                           "conversationid": "c1"}]
    assert messages == [{"messageid": "m1", "userid": "u", "rtype": "M",
                         "datecreated": datetime(2025, 7, 1, 12, 1, tzinfo=UTC),
                         "message": "hi", "conversationid": "c1", "messagegroupid": "g1"}]


class TestMessagesAsTheReferenceShowsThem:
    """The reference's own /messages example: groups without `messagegroupid`."""

    GROUPS: ClassVar[list[dict]] = [
        {"userid": "uid12345", "rtype": "M", "rstatus": "V", "datecreated": "2012-04-03 12:21:21",
         "datefinished": "2012-04-03 12:31:21",
         "messages": [{"messageid": "mid00003", "userid": "uid00001", "rtype": "M",
                       "datecreated": "2012-04-03 12:25:21", "message": "hello"}]},
        {"userid": "uid12346", "rtype": "M", "rstatus": "V", "datecreated": "2012-04-03 12:41:21",
         "datefinished": "2012-04-03 13:21:21",
         "messages": [{"messageid": "mid00004", "userid": "uid00001", "rtype": "M",
                       "datecreated": "2012-04-03 18:21:21", "message": "hello"}]},
    ]

    def test_groups_get_stable_derived_keys_and_messages_point_to_them(self) -> None:
        read = message_rows("c1", self.GROUPS, BRATISLAVA)
        keys = [g["messagegroupid"] for g in read.groups]
        assert read.rejected == [] and len(set(keys)) == 2
        assert all(key.startswith("~") for key in keys)
        assert [m["messagegroupid"] for m in read.messages] == keys
        assert [g["messagegroupid"] for g in message_rows("c1", self.GROUPS, BRATISLAVA).groups] \
            == keys  # the same on every read
        assert message_rows("c2", self.GROUPS, BRATISLAVA).groups[0]["messagegroupid"] \
            not in keys  # and per conversation

    def test_identical_groups_get_distinct_keys(self) -> None:
        twins = [{**self.GROUPS[0], "messages": []}, {**self.GROUPS[0], "messages": []}]
        keys = [g["messagegroupid"] for g in message_rows("c1", twins, BRATISLAVA).groups]
        assert keys[1] == keys[0] + "-2"

    def test_a_group_without_messages_and_a_bad_message(self) -> None:
        groups = [{k: v for k, v in self.GROUPS[0].items() if k != "messages"},
                  {**self.GROUPS[1], "messages": [
                      {"messageid": "ok", "datecreated": "2012-04-03 18:21:21"},
                      {"messageid": "bad", "datecreated": "03/04/2012"}]}]
        read = message_rows("c1", groups, BRATISLAVA)
        assert len(read.groups) == 2
        assert [m["messageid"] for m in read.messages] == ["ok"]
        [rejected] = read.rejected
        assert (rejected.table, rejected.key) == ("messages", "c1|bad")
        assert "malformed datetime in 'datecreated': '03/04/2012'" in rejected.reason
        assert rejected.raw == {"messageid": "bad", "datecreated": "03/04/2012"}


class TestCleanText:
    def test_nul_is_removed_and_lone_surrogates_replaced(self) -> None:
        assert clean_text("a\x00b") == "ab"
        assert clean_text("x\ud83dy") == "x\ufffdy"
        assert clean_text("🚀 ok") == "🚀 ok"

    def test_every_text_field_and_nested_values_are_cleaned(self) -> None:
        table = Table("sample", ("id",), {"id": "id", "title": "text"})
        row = convert({"id": "1\x00", "title": "t\ud800", "extra": ["a\x00", {"b": "\x00"}]},
                      table, BRATISLAVA)
        assert row == {"id": "1", "title": "t\ufffd", "extra": ["a", {"b": ""}]}


def test_counts_as_numbers_or_strings() -> None:
    table = Table("sample", ("id",), {"id": "id", "count": "int", "rate": "float"})
    for value in (3, "3", 3.0, "3.0"):
        assert convert({"id": "1", "count": value}, table, BRATISLAVA)["count"] == 3
    assert convert({"id": "1", "rate": 2}, table, BRATISLAVA)["rate"] == 2.0
    for bad in ("3.5", True, "many"):
        with pytest.raises(BadRowError):
            convert({"id": "1", "count": bad}, table, BRATISLAVA)


def test_mysql_zero_date_is_null() -> None:
    assert BRATISLAVA.parse("0000-00-00 00:00:00") is None
    assert BRATISLAVA.parse("0000-00-00") is None


def test_convert_each_keeps_bad_rows_apart_with_their_reason() -> None:
    rows, rejected = convert_each(
        [{"conversationid": "a", "datechanged": "2025-07-01 14:00:00"},
         {"conversationid": "b", "datechanged": "yesterday", "apikey": "k"},
         {"datechanged": "2025-07-01 14:00:00"}, "not a row"],
        CONVERSATIONS, BRATISLAVA)
    assert [r["conversationid"] for r in rows] == ["a"]
    assert [(r.key, r.reason.split(":")[0]) for r in rejected] == [
        ("b", "LiveAgent sent a malformed datetime in 'datechanged'"),
        (None, "LiveAgent sent a conversations row without 'conversationid'"),
        (None, "LiveAgent sent str where a conversations row belongs")]
    assert rejected[0].raw == {"conversationid": "b", "datechanged": "yesterday"}  # no apikey


def test_company_emails_are_always_a_list() -> None:
    listed = {"id": "c", "name": "Co", "emails": "a@x.org,b@x.org", "datecreated": "",
              "ip": "1.2.3.4"}
    assert company_row(listed, None, BRATISLAVA)["emails"] == ["a@x.org", "b@x.org"]
    detail = {**listed, "emails": ["a@x.org"], "phones": []}
    assert company_row(listed, detail, BRATISLAVA)["emails"] == ["a@x.org"]


def test_agent_row_drops_auth_token_and_cookie_name() -> None:
    online = {"id": "u1", "contactid": "c1", "username": "a@x.org", "firstname": "A",
              "lastname": "B", "avatar_url": "img.png", "presetStatus": "MT",
              "onlineStatus": "F"}
    detail = {"contactid": "c1", "userid": "u1", "email": "a@x.org", "firstname": "A",
              "lastname": "B", "systemname": "s", "authtoken": "tok", "browsercookiename": "A_",
              "gender": "F", "role": "A"}
    row = agent_row(online, detail, BRATISLAVA)
    assert row == {"id": "u1", "contactid": "c1", "email": "a@x.org", "firstname": "A",
                   "lastname": "B", "avatar_url": "img.png", "preset_status": "MT",
                   "systemname": "s", "gender": "F", "role": "A"}


class TestReports:
    def test_column_kinds(self) -> None:
        agents = next(r for r in REPORTS if r.endpoint == "agents")
        assert [report_kind(agents, c) for c in ("id", "firstname", "answers", "answers_ph",
                                                  "rewards_p", "report_date")] == \
            ["id", "text", "int", "float", "float", "date"]
        load = next(r for r in REPORTS if r.endpoint == "tickets/load")
        assert report_kind(load, "avgQueue") == "float" and report_kind(load, "date") == \
            "datetime"

    def test_rows_get_the_day_and_numbers(self) -> None:
        availability = next(r for r in REPORTS if r.endpoint == "tickets/agentsavailability")
        rows, rejected = report_rows(availability, [{"id": "7", "hours_online": "00:08:31",
                                                     "from_date": "2025-07-01 14:00:00",
                                                     "to_date": "now"}],
                                     date(2025, 7, 1), BRATISLAVA)
        assert rejected == []
        assert rows == [{"id": "7", "hours_online": "00:08:31",
                         "from_date": datetime(2025, 7, 1, 12, tzinfo=UTC), "to_date": None,
                         "report_date": date(2025, 7, 1)}]

    def test_days_resume_after_the_last_closed_day_minus_lookback(self) -> None:
        start, today = date(2025, 1, 1), date(2025, 3, 10)
        assert report_days({}, start, None, date(2025, 1, 3), 3) == \
            [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
        first_today = {STATE_KEY: "2025-03-08", LOOKBACK_KEY: "2025-03-09"}
        assert report_days(first_today, start, None, today, 3) == \
            [date(2025, 3, 6), date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9),
             date(2025, 3, 10)]
        later_today = {STATE_KEY: "2025-03-09", LOOKBACK_KEY: "2025-03-10"}
        assert report_days(later_today, start, None, today, 3) == [date(2025, 3, 10)]
        assert report_days(first_today, start, None, today, 0) == \
            [date(2025, 3, 9), date(2025, 3, 10)]
        assert report_days(first_today, start, date(2025, 1, 2), today, 3) == \
            [date(2025, 1, 1), date(2025, 1, 2)]
