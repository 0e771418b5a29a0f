"""The API as people have really seen it (liveagent_fake.realworld, REAL-WORLD.md): every
behaviour at once, the reference's own example answers, error envelopes under HTTP 200 and
bodies that are not JSON; into DuckDB and Postgres, compared row by row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from liveagent_fake.models import Account
from liveagent_fake.realworld import RealWorld
from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.settings import REPORTS
from tests.support import ZONE, Api, make_account
from tests.warehouse import Warehouse, duckdb_tables, same_in_both

SCHEMA = "liveagent_real_world"
EVERY_BEHAVIOUR = RealWorld(**{name: True for name in RealWorld.names()
                               if name != "documented_examples"})


def into_postgres(monkeypatch: pytest.MonkeyPatch, dsn: str, schema: str) -> tuple[str, ...]:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    return ("--destination", "postgres", "--dataset", schema)


class TestEveryBehaviourAtOnce:
    @pytest.fixture
    def account(self) -> Account:
        # more than two pages of 1,000: the listing has to page by offset
        account = make_account(conversations=2100, timezone=ZONE)
        account.real_world = RealWorld(**vars(EVERY_BEHAVIOUR))
        return account

    @pytest.mark.postgres
    def test_loads_exactly_and_identically(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account, api: Api,
        warehouse: Warehouse, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert run_cli() == 0
        offsets = [e.params.get("offset") for e in fake.log.select(path="/api/conversations$")]
        # 20 rows of overlap; then the history window below the last 30 days, one page
        assert offsets == [None, "980", "1960", None]
        listed = api.all_conversations_by_offset()
        assert {r["conversationid"] for r in warehouse.rows("conversations")} == \
            {r["conversationid"] for r in listed}
        answers = {r["conversationid"]: api.get(f"/api/conversations/{r['conversationid']}"
                                                "/messages")["groups"] for r in listed}
        self.check_messages(warehouse, answers)
        self.check_conversation_fields(warehouse, account, listed)

        before = duckdb_tables(warehouse)
        assert run_cli() == 0  # nothing changed: the derived keys are the same again
        after = duckdb_tables(warehouse)
        assert {t: after[t] for t in after if t != "agent_online_status"} == \
            {t: before[t] for t in before if t != "agent_online_status"}

        to_postgres = into_postgres(monkeypatch, postgres_dsn, SCHEMA)
        assert run_cli(*to_postgres) == 0 and run_cli(*to_postgres) == 0
        same_in_both(warehouse, postgres_dsn, SCHEMA)

    @staticmethod
    def check_messages(warehouse: Warehouse, answers: dict[str, list[dict]]) -> None:
        groups = warehouse.rows("message_groups", "conversationid, messagegroupid")
        assert len(groups) == sum(len(g) for g in answers.values())
        assert all(row["messagegroupid"].startswith("~") for row in groups)  # derived keys
        assert len({(r["conversationid"], r["messagegroupid"]) for r in groups}) == len(groups)
        sent = {m["messageid"]: m["message"] for g in answers.values() for group in g
                for m in group.get("messages", [])}
        stored = {r["messageid"]: r["message"] for r in warehouse.rows("messages")}
        assert set(stored) == set(sent)
        orphans = warehouse.scalar(
            "SELECT count(*) FROM {ds}.messages m LEFT JOIN {ds}.message_groups g "
            "USING (conversationid, messagegroupid) WHERE g.messagegroupid IS NULL")
        assert orphans == 0
        with_nul = [i for i, text in sent.items() if text and "\x00" in text]
        assert with_nul and all("\ud83d" in sent[i] for i in with_nul)
        for message_id in with_nul:  # NUL removed, the half emoji replaced, nothing else
            assert stored[message_id] == sent[message_id].replace("\x00", "").replace(
                "\ud83d", "\ufffd")

    @staticmethod
    def check_conversation_fields(warehouse: Warehouse, account: Account,
                                  listed: list[dict]) -> None:
        rows = {r["conversationid"]: r for r in warehouse.rows("conversations")}
        for sent in listed:
            row = rows[sent["conversationid"]]
            assert row["tags"] == sent["tags"]  # null stays NULL
            assert row["messagegroupsin"] == sent["messagegroupsin"]  # numbers stay numbers
            assert row["priority"] == sent["priority"]  # a field the reference does not list
        expected_tags = {(s["conversationid"], t) for s in listed
                         for t in (s["tags"] or "").split(",") if t}
        stored_tags = {(r["conversationid"], r["tag_id"])
                       for r in warehouse.rows("conversation_tags")}
        assert stored_tags == expected_tags
        assert set(account.deleted_tag_ids) & {tag for _, tag in stored_tags}  # kept as sent
        assert warehouse.scalar("SELECT count(DISTINCT format) FROM {ds}.messages") == 2


class TestTheReferenceExamples:
    """Every read endpoint answers with the reference's example body, verbatim (raw line
    breaks inside strings, groups without ids, emails as a string in the company list)."""

    @pytest.fixture
    def account(self) -> Account:
        account = make_account(conversations=10, timezone=ZONE)
        account.real_world = RealWorld(documented_examples=True)
        return account

    REPORTS = ",".join(report.table.name for report in REPORTS)
    EVERYTHING_ELSE = ",".join(name for name in ("conversations", "companies", "agents",
                                                 "agent_online_status", "tags",
                                                 "customer_groups", "suggestion_categories",
                                                 "knowledgebases", "kb_entries"))

    @staticmethod
    def load(run_cli: Callable[..., int], *args: str) -> None:
        """Rows changed since 2011 (the examples' dates), and the reports of the last three
        days before the examples' server clock (2014-08-09), not of three years."""
        assert run_cli("--start-date", "2011-01-01", "--resources",
                       TestTheReferenceExamples.EVERYTHING_ELSE, *args) == 0
        assert run_cli("--start-date", "2014-08-07", "--resources",
                       TestTheReferenceExamples.REPORTS, *args) == 0

    @pytest.mark.postgres
    def test_load_as_documented_into_both_destinations(
        self, run_cli: Callable[..., int], configured: Path, warehouse: Warehouse,
        postgres_dsn: str, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("SOURCES__LIVEAGENT__CONVERSATION_DETAILS", "true")
        # the examples count 2+5 and 1+2 message groups, their /messages has 2: taken at once
        # (what later reads do is the next test's)
        monkeypatch.setenv("SOURCES__LIVEAGENT__SHORT_MESSAGE_READS", "1")
        self.load(run_cli)
        conversations = warehouse.rows("conversations", "conversationid, tags, messagegroupsout")
        assert sorted(conversations, key=lambda r: r["conversationid"]) == [
            {"conversationid": "5h7t58d9", "tags": "tagid1,\n        tagid2",
             "messagegroupsout": 2},
            {"conversationid": "s4y7t5s7", "tags": "tagid1,\n        tagid2",
             "messagegroupsout": 5}]
        assert {(r["conversationid"], r["tag_id"]) for r in warehouse.rows(
            "conversation_tags")} == {(c, t) for c in ("5h7t58d9", "s4y7t5s7")
                                      for t in ("tagid1", "tagid2")}
        groups = warehouse.rows("message_groups", "conversationid, messagegroupid")
        assert len(groups) == 4 and all(g["messagegroupid"].startswith("~") for g in groups)
        messages = warehouse.rows("messages", "conversationid, messageid, message")
        assert len(messages) == 6
        assert {m["message"] for m in messages} == {"hello,\n             this is example message"}
        [detail] = warehouse.rows("conversation_details", "conversationid, customfields")
        assert detail["conversationid"] == "a1b2c3d4" and "varsymbol" in detail["customfields"]
        [company] = warehouse.rows("companies", "id, emails, phones")
        assert company["id"] == "d8f6ba6d" and "boss@companyco.com" in company["emails"]
        [agent] = warehouse.rows("agents")
        assert agent["id"] == "56df98rt" and "authtoken" not in agent
        for table, count in (("tags", 2), ("customer_groups", 2), ("knowledgebases", 2),
                             ("suggestion_categories", 2)):
            assert warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{table}") == count, table
        assert warehouse.scalar("SELECT count(*) FROM {ds}.kb_entries") > 0
        for report in ("report_agents", "report_sla_log", "report_agents_availability",
                       "report_performance", "report_tickets_load"):
            assert warehouse.scalar(f"SELECT count(*) FROM {{ds}}.{report}") > 0, report
        assert warehouse.rows("rejected_rows") == []  # created empty by every run

        self.load(run_cli, *into_postgres(monkeypatch, postgres_dsn, SCHEMA + "_examples"))
        same_in_both(warehouse, postgres_dsn, SCHEMA + "_examples")


    def test_messages_short_of_the_listed_counts_are_read_again_then_taken_as_given(
        self, run_cli: Callable[..., int], warehouse: Warehouse,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The reference's /messages example has 2 groups; its listing example counts 7 and 3
        for its two conversations: both are kept and read again, then loaded as given."""
        conversations = ("--resources", "conversations")
        for read in (1, 2):  # the first run starts in 2011 (the examples' dates)
            assert run_cli(*conversations, *(("--start-date", "2011-01-01") * (read == 1))) == 3
            kept = warehouse.rows("rejected_rows", "table_name, reason")
            assert len(kept) == 2 and all(row["table_name"] == "messages" for row in kept)
            assert all(f"(read {read} of 3)" in row["reason"] for row in kept)
            assert "message_groups" not in warehouse.tables()
        capsys.readouterr()
        assert run_cli(*conversations) == 0
        assert "2 conversations' messages loaded as LiveAgent gives them after 3 short reads" \
            in capsys.readouterr().out
        assert warehouse.rows("rejected_rows") == []
        assert warehouse.scalar("SELECT count(*) FROM {ds}.message_groups") == 4


def last_line(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, (captured.err.strip().splitlines() or [""])[-1]


class TestBadAnswers:
    """Error envelopes under HTTP 200 and bodies that are not JSON."""

    @pytest.fixture
    def quick_retries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SOURCES__LIVEAGENT__MAX_ATTEMPTS", "3")
        monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")

    def test_a_retryable_error_envelope_under_200_is_retried(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, warehouse: Warehouse,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        fake.faults.add("error_envelope", status=500, path="/api/conversations$", times=1)
        fake.faults.add("error_envelope", status=503, path="/messages$", times=2)
        assert run_cli("--resources", "conversations") == 0
        out, _ = last_line(capsys)
        assert "LiveAgent sent 3 bad answers, each retried: 1 x error 500 under HTTP 200, " \
            "2 x error 503 under HTTP 200" in out
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120

    def test_a_final_error_envelope_on_a_listing_fails_the_run_and_keeps_the_state(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, warehouse: Warehouse,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        rule = fake.faults.add("error_envelope", status=400, path="/api/conversations$")
        assert run_cli("--resources", "conversations") == 1
        _, line = last_line(capsys)
        assert "LiveAgent refused conversations (error 400 under HTTP 200: Injected error " \
            "400)" in line
        assert "conversations" not in warehouse.tables()
        assert rule.fired == 1  # not retried
        fake.faults.clear()
        assert run_cli("--resources", "conversations") == 0
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120

    def test_messages_that_keep_failing_cost_their_conversation_only(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, account: Account,
        warehouse: Warehouse, capsys: pytest.CaptureFixture[str], quick_retries: None,
    ) -> None:
        broken = account.conversation_id(7)
        fake.faults.add("error_envelope", status=500, path=f"/{broken}/messages$")
        assert run_cli("--resources", "conversations") == 3
        out, _ = last_line(capsys)
        assert "1 rows could not be loaded (1 new this run)" in out
        [kept] = warehouse.rows("rejected_rows", "table_name, conversationid, reason")
        assert kept["table_name"] == "messages" and kept["conversationid"] == broken
        assert "kept failing" in kept["reason"] and "error 500 under HTTP 200" in kept["reason"]
        assert warehouse.scalar("SELECT count(DISTINCT conversationid) FROM {ds}.messages") \
            == 119
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
        fake.faults.clear()
        assert run_cli("--resources", "conversations") == 0  # read again by id, then loaded
        assert warehouse.scalar("SELECT count(DISTINCT conversationid) FROM {ds}.messages") \
            == 120
        assert warehouse.rows("rejected_rows") == []

    @pytest.mark.parametrize("kind, counted", [("empty", "an empty body"),
                                               ("not_json", "an HTML page"),
                                               ("malformed", "malformed JSON")])
    def test_bodies_that_are_not_json_are_retried_and_counted(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, warehouse: Warehouse,
        capsys: pytest.CaptureFixture[str], kind: str, counted: str,
    ) -> None:
        fake.faults.add(kind, path="/api/conversations$", times=1)
        fake.faults.add(kind, path="/messages$", times=2)
        assert run_cli("--resources", "conversations") == 0
        out, _ = last_line(capsys)
        assert f"LiveAgent sent 3 bad answers, each retried: 3 x {counted}" in out
        assert warehouse.scalar("SELECT count(*) FROM {ds}.conversations") == 120
        assert warehouse.scalar("SELECT count(DISTINCT conversationid) FROM {ds}.messages") \
            == 120

    def test_a_listing_that_keeps_sending_bad_bodies_fails_the_run(
        self, run_cli: Callable[..., int], fake: FakeLiveAgent, warehouse: Warehouse,
        capsys: pytest.CaptureFixture[str], quick_retries: None,
    ) -> None:
        fake.faults.add("empty", path="/api/conversations$")
        assert run_cli("--resources", "conversations") == 1
        _, line = last_line(capsys)
        assert "LiveAgent kept failing on conversations after 3 attempts (last: an empty " \
            "body)" in line
        assert "conversations" not in warehouse.tables()
