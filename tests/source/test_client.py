"""The HTTP client and paginators against the fake over real HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from liveagent_fake.models import Account
from liveagent_fake.realworld import RealWorld
from liveagent_fake.server import FakeLiveAgent
from sources.liveagent.client import LiveAgentClient, api_url, request_kind
from sources.liveagent.deletions import DeletePolicy, Deletions
from sources.liveagent.exceptions import (
    AuthenticationError,
    ConfigurationError,
    IncompleteListingError,
    NotFoundError,
    RefusedError,
    RequestError,
    UnavailableError,
)
from sources.liveagent.paginators import (
    AnchoredOffsetPaginator,
    CompleteCursorPaginator,
    CompleteOffsetPaginator,
    CursorPaginator,
)
from sources.liveagent.reading import Reading
from sources.liveagent.transforms import AccountTime
from tests.support import make_account


def purge(account: Account, index: int) -> None:
    """Deleted twice: to the trash, then for good (once when it is in the trash already)."""
    while not account.is_purged(index):
        account.delete_conversation(account.conversation_id(index))


@pytest.fixture
def account() -> Account:
    return make_account(conversations=25)


def client_for(fake: FakeLiveAgent, api_key: str | None = None, rpm: float = 100_000,
               attempts: int = 3, timeout: float = 5) -> LiveAgentClient:
    """A client past its first-contact probe, with the fake's log cleared."""
    client = LiveAgentClient(fake.url, api_key or fake.api_key, rpm, timeout, attempts, 4)
    if api_key is None:
        client.server_status()
        fake.log.clear()
    return client


@pytest.mark.parametrize("given", ["https://acme.ladesk.com", "https://acme.ladesk.com/",
                                   "https://acme.ladesk.com/api", "https://acme.ladesk.com/api/"])
def test_base_url_forms(given: str) -> None:
    assert api_url(given) == "https://acme.ladesk.com/api"


@pytest.mark.parametrize("bad", ["", "acme.ladesk.com", "ftp://acme.ladesk.com"])
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        api_url(bad)


class TestPlainHttp:
    """API v1 sends the key in the query string: over http:// it crosses the network in
    clear text."""

    @pytest.mark.parametrize("url", ["http://acme.ladesk.com", "http://10.0.0.7:8080/api",
                                     "HTTP://acme.ladesk.com/", "http://localhost.ladesk.com"])
    def test_to_another_machine_is_refused(self, url: str) -> None:
        with pytest.raises(ConfigurationError) as raised:
            api_url(url)
        message = str(raised.value)
        assert message.startswith("sources.liveagent.base_url is plain http:// to ")
        assert "in clear text" in message and "sources.liveagent.allow_insecure_http" in message

    def test_is_allowed_when_asked_for(self) -> None:
        assert api_url("http://acme.ladesk.com", allow_insecure_http=True) == \
            "http://acme.ladesk.com/api"

    @pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.3.4.5/api",
                                     "http://localhost:9", "http://[::1]:80",
                                     "http://app.localhost"])
    def test_to_this_machine_is_allowed(self, url: str) -> None:
        assert api_url(url) == url.rstrip("/").removesuffix("/api") + "/api"

    def test_the_client_refuses_before_any_request(self) -> None:
        with pytest.raises(ConfigurationError, match="plain http://"):
            LiveAgentClient("http://acme.ladesk.com", "secret-key-xyz", 1000, 1, 1, 2)


class TestRedirects:
    """A redirect is named with its target and never followed: the key is in the URL."""

    def test_on_the_first_request_it_names_where_the_account_went(
            self, fake: FakeLiveAgent) -> None:
        with FakeLiveAgent(make_account(conversations=1)) as elsewhere:
            fake.faults.add("redirect", location=elsewhere.url)
            client = LiveAgentClient(fake.url, fake.api_key, 100_000, 5, 8, 4)
            with pytest.raises(ConfigurationError) as raised:
                client.get("tags")
            assert str(raised.value) == (
                f"{fake.url}/api/application/status answered with a redirect (301 Moved "
                f"Permanently) to {elsewhere.url}/api/application/status?apikey=*** which "
                "is not followed: the API key travels in the URL; if the account moved, set "
                f"sources.liveagent.base_url to {elsewhere.url}")
            assert fake.log.total == 1  # not retried either
            assert elsewhere.log.total == 0

    def test_later_it_fails_that_request(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake)
        fake.faults.add("redirect", status=302, path="/api/tags$")
        with pytest.raises(RefusedError) as raised:
            client.get("tags")
        assert str(raised.value) == (
            "LiveAgent answered tags with a redirect (302 Found) to https://moved.example/api/"
            "tags?apikey=*** which is not followed: the API key travels in the URL")
        assert fake.log.total == 1


class TestPaging:
    def test_cursor_paging_at_the_page_size(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake)
        pages = list(client.paginate("conversations", "conversations", CursorPaginator(10)))
        assert [len(p) for p in pages] == [10, 10, 5]
        ids = [r["conversationid"] for p in pages for r in p]
        assert len(set(ids)) == 25
        logged = fake.log.select(path="/api/conversations$")
        assert [e.params for e in logged] == [
            {"limit": "10"},
            {"limit": "10", "cursor": pages[0][-1]["cursor"]},
            {"limit": "10", "cursor": pages[1][-1]["cursor"]},
        ]

    def test_exact_multiple_needs_one_empty_page(self, fake: FakeLiveAgent) -> None:
        pages = list(client_for(fake).paginate("conversations", "conversations",
                                               CursorPaginator(5)))
        assert [len(p) for p in pages] == [5, 5, 5, 5, 5, 0]

    def test_offset_paging_overlaps_by_one_row_and_stops_at_a_short_page(
            self, fake: FakeLiveAgent) -> None:
        client = client_for(fake)
        paginator = AnchoredOffsetPaginator(15)
        pages = list(client.paginate("knowledgebase/entries", "entries", paginator))
        assert [len(p) for p in pages] == [15, 15, 12]
        assert [e.params for e in fake.log.entries()] == [
            {"limit": "15", "offset": "0"}, {"limit": "15", "offset": "14"},
            {"limit": "15", "offset": "28"}]
        assert pages[0][-1] == pages[1][0] and pages[1][-1] == pages[2][0]

    def test_rows_without_a_cursor_are_paged_by_offset(self, fake: FakeLiveAgent,
                                                       account: Account) -> None:
        account.real_world = RealWorld(no_cursor=True)
        pages = list(client_for(fake).paginate("conversations", "conversations",
                                               CursorPaginator(10)))
        assert [e.params.get("offset") for e in fake.log.entries()] == \
            [None, "9", "18"]  # one row of overlap
        assert {r["conversationid"] for p in pages for r in p} == \
            {account.conversation_id(i) for i in range(25)}

    def test_offset_paging_skips_nothing_when_rows_vanish_meanwhile(
            self, fake: FakeLiveAgent, account: Account) -> None:
        """Three conversations of the first page are purged while it is processed: the
        rows after them slide back over the page boundary, and a plain offset walk would
        never see two of them."""
        account.real_world = RealWorld(no_cursor=True)
        paginator = CursorPaginator(10)
        client = client_for(fake)
        pages = client.paginate("conversations", "conversations", paginator)
        seen = [r["conversationid"] for r in next(pages)]
        for index in (2, 3, 4):
            purge(account, index)
        seen += [r["conversationid"] for page in pages for r in page]
        assert set(seen) == {account.conversation_id(i) for i in range(25)}
        assert paginator.by_offset is not None and paginator.by_offset.steps_back == 1
        # where a plain offset walk would have gone on: past 10, 11 and 12
        after = client.get("conversations", {"limit": 10, "offset": 10})["conversations"]
        assert after[0]["conversationid"] == account.conversation_id(13)

    def test_an_answer_without_its_list_is_a_bad_answer(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake, attempts=2)
        fake.faults.add("no_list", path="/api/tags$", times=1)
        assert len(client.listing("tags", "tags")) == 12  # retried
        assert client.metrics.bad_answers == {"an answer without its 'tags' list": 1}
        fake.faults.add("no_list", path="/api/tags$")
        with pytest.raises(UnavailableError, match="without its 'tags' list"):
            client.listing("tags", "tags")
        fake.faults.clear()
        fake.faults.add("empty_list", path="/api/tags$", times=1)
        assert client.listing("tags", "tags") == []  # an empty list is a list

    def test_get_returns_the_response_object(self, fake: FakeLiveAgent) -> None:
        status = client_for(fake).get("application/status")
        assert set(status) == {"liveagentversion", "current_server_time"}


class TestCompleteListings:
    """The paginators of listings that find deletions: every row or a refusal."""

    def listing(self, fake: FakeLiveAgent) -> list[list[dict]]:
        client = client_for(fake)
        return list(client.paginate("conversations", "conversations",
                                    CompleteCursorPaginator(10, "conversationid")))

    def test_a_short_page_ends_the_listing_once_the_page_after_it_is_empty(
            self, fake: FakeLiveAgent) -> None:
        pages = self.listing(fake)
        assert [len(p) for p in pages] == [10, 10, 5, 0]
        last = fake.log.select(path="/api/conversations$")[-1]
        assert last.params == {"limit": "10", "cursor": pages[2][-1]["cursor"]}

    def test_a_page_cut_short_is_refused(self, fake: FakeLiveAgent) -> None:
        fake.faults.add("cut_list", path="/api/conversations$", skip=1, keep=3, times=1)
        with pytest.raises(IncompleteListingError, match="followed by 10 more rows"):
            self.listing(fake)
        fake.faults.add("cut_list", path="/api/conversations$", skip=1, keep=3, times=1)
        plain = client_for(fake).paginate("conversations", "conversations", CursorPaginator(10))
        assert sum(len(page) for page in plain) == 13  # what a plain listing takes for all

    def test_a_page_that_does_not_follow_its_cursor_is_refused(
            self, fake: FakeLiveAgent) -> None:
        fake.faults.add("ignore_paging", path="/api/conversations$", skip=1, times=1)
        with pytest.raises(IncompleteListingError, match="did not follow its cursor"):
            self.listing(fake)

    def test_rows_without_a_cursor_are_confirmed_by_offset(
            self, fake: FakeLiveAgent, account: Account) -> None:
        account.real_world = RealWorld(no_cursor=True)
        pages = self.listing(fake)
        assert [e.params.get("offset") for e in fake.log.entries()] == [None, "9", "18", "25"]
        assert {r["conversationid"] for p in pages for r in p} == \
            {account.conversation_id(i) for i in range(25)}
        fake.faults.add("cut_list", path="/api/conversations$", skip=2, keep=3, times=1)
        with pytest.raises(IncompleteListingError, match="after offset 21"):
            self.listing(fake)

    def test_offset_listings_confirm_their_end(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake)
        pages = list(client.paginate("knowledgebase/entries", "entries",
                                     CompleteOffsetPaginator(15)))
        assert [len(p) for p in pages] == [15, 15, 12, 0]
        assert [e.params["offset"] for e in fake.log.entries()] == ["0", "14", "28", "40"]
        fake.faults.add("empty_list", path="/api/knowledgebase/entries$", times=1)
        assert list(client.paginate("knowledgebase/entries", "entries",
                                    CompleteOffsetPaginator(15))) == [[]]


class TestErrors:
    def test_wrong_key_names_the_setting_and_hides_the_key(self, fake: FakeLiveAgent) -> None:
        with pytest.raises(AuthenticationError) as error:
            client_for(fake, api_key="wrong-key-123").get("tags")
        assert "SOURCES__LIVEAGENT__API_KEY" in str(error.value)
        assert "wrong-key-123" not in str(error.value)
        # no chained original error either: its text carries the URL with the key
        assert error.value.__cause__ is None and error.value.__context__ is None

    def test_404(self, fake: FakeLiveAgent) -> None:
        with pytest.raises(NotFoundError, match="conversations/nope/messages"):
            client_for(fake).get("conversations/nope/messages")

    def test_400_is_not_retried(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake)
        with pytest.raises(RequestError, match="limit"):
            client.get("conversations", {"limit": 5000})
        assert fake.log.total == 1

    def test_5xx_and_429_are_retried(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake, attempts=4)
        fake.faults.add("status", status=503, times=1)
        fake.faults.add("status", status=429, times=1)
        fake.faults.add("html", status=502, times=1)
        assert client.get("tags")["tags"]
        assert [e.status for e in fake.log.entries()] == [503, 429, 502, 200]

    def test_truncated_and_dropped_responses_are_retried(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake, attempts=3)
        fake.faults.add("truncate", times=1)
        fake.faults.add("drop", times=1)
        assert client.get("tags")["tags"]
        assert fake.log.total == 3

    def test_attempts_run_out_with_a_clear_error(self, fake: FakeLiveAgent) -> None:
        client = client_for(fake, attempts=2)
        fake.faults.add("status", status=500)
        with pytest.raises(UnavailableError, match="after 2 attempts") as error:
            client.get("tags")
        assert fake.api_key not in str(error.value)
        assert fake.log.total == 2

    def test_unreachable_host_hides_the_key(self) -> None:
        client = LiveAgentClient("http://127.0.0.1:9", "secret-key-xyz", 1000, 1, 1, 2)
        with pytest.raises(UnavailableError) as error:
            client.get("tags")
        assert "secret-key-xyz" not in str(error.value)
        assert error.value.__context__ is None
        assert "could not be reached" in str(error.value)

    def test_a_site_that_is_not_liveagent(self, fake: FakeLiveAgent) -> None:
        fake.faults.add("html", status=200)
        with pytest.raises(RequestError, match=r"an HTML page, not JSON.*base_url"):
            LiveAgentClient(fake.url, fake.api_key, 100_000, 5, 3, 4).get("tags")
        assert fake.log.total == 2  # the probe's two attempts


@pytest.mark.parametrize("path, kind", [
    ("/api/conversations?apikey=k&limit=1000", "listing"), ("/api/conversations", "listing"),
    ("/api/conversations/ab12?apikey=k", "details"), ("/api/conversations/ab12", "details"),
    ("/api/conversations/ab12/messages?apikey=k", "messages"),
    ("/api/reports/agents?apikey=k", "reports"), ("/api/companies/c1?apikey=k", "other")])
def test_request_kinds(path: str, kind: str) -> None:
    """The kinds the source plans requests by (RequestMetrics.plan)."""
    assert request_kind(path) == kind


def test_rate_limit_spreads_requests_over_time(fake: FakeLiveAgent) -> None:
    client = client_for(fake, rpm=120)  # two a second
    time.sleep(1)  # let the probe's second pass
    started = time.monotonic()
    for _ in range(5):
        client.get("tags")
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed <= 3.5
    assert client.metrics.requests == 6 and client.metrics.waited >= 1.5  # 5 and the probe


def test_the_time_held_back_so_far_counts_the_wait_under_way(fake: FakeLiveAgent) -> None:
    """Threads waiting in turn at the limit make one wait that lasts until the last of them
    goes out; read in the middle of it (as the progress line does), it has been going on."""
    client = client_for(fake, rpm=60)  # one a second
    time.sleep(1)  # let the probe's second pass
    with ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        waits = [pool.submit(client.get, "tags") for _ in range(4)]
        time.sleep(2.5)
        held, elapsed = client.metrics.waited, time.monotonic() - started
        for wait in waits:
            wait.result()
    assert elapsed - 0.5 <= held <= elapsed


def test_rate_limit_stays_inside_a_strict_server_bucket(fake: FakeLiveAgent) -> None:
    """Sixteen threads at the client's limit never trip a server bucket of the same rate
    whose burst is only one second's worth."""
    client = client_for(fake, rpm=1200, attempts=1)  # one attempt: a 429 would raise
    time.sleep(1)  # let the probe's second pass
    fake.set_rate_limit(1200, burst=20)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: client.get("tags"), range(100)))
    statuses = [entry.status for entry in fake.log.entries()]
    assert len(statuses) == 100 and set(statuses) == {200}


class TestIdsInUrls:
    @pytest.mark.parametrize("weird, path", [
        ("a/b", "a%2Fb"), ("a?b=1", "a%3Fb%3D1"), ("a#b", "a%23b"), ("50%", "50%25"),
        ("a b+c", "a%20b%2Bc"), ("a..b", "a..b"),
    ])
    def test_each_id_is_one_encoded_path_segment(self, fake: FakeLiveAgent, weird: str,
                                                 path: str) -> None:
        now = datetime.now(timezone.utc)
        reading = Reading(client_for(fake), AccountTime("GMT"), now, Deletions(DeletePolicy(), now))
        assert reading.get_if_exists("conversations", weird, "messages") is None  # 404
        [entry] = fake.log.entries()
        assert entry.path == f"/api/conversations/{path}/messages"

    @pytest.mark.parametrize("dots", [".", ".."])
    def test_an_id_no_url_can_carry_is_refused(self, fake: FakeLiveAgent, dots: str) -> None:
        now = datetime.now(timezone.utc)
        reading = Reading(client_for(fake), AccountTime("GMT"), now, Deletions(DeletePolicy(), now))
        with pytest.raises(RefusedError, match="no URL path can carry"):
            reading.get_if_exists("conversations", dots, "messages")
        assert fake.log.total == 0


def test_an_answer_trickled_a_byte_at_a_time_times_out_and_is_retried(
        fake: FakeLiveAgent) -> None:
    client = client_for(fake, timeout=1, attempts=2)
    fake.faults.add("trickle", path="/api/tags$", delay=0.05, times=1)  # ~10 s for the body
    started = time.monotonic()
    assert client.get("tags")["tags"]
    assert time.monotonic() - started < 4
    assert [e.status for e in fake.log.entries()] == [200, 200]


class TestFirstContact:
    def test_probe_runs_once_and_carries_the_account_clock(self, fake: FakeLiveAgent) -> None:
        client = LiveAgentClient(fake.url, fake.api_key, 100_000, 5, 3, 4)
        client.get("tags")
        client.get("customersgroups")
        assert [e.path for e in fake.log.entries()] == [
            "/api/application/status", "/api/tags", "/api/customersgroups"]
        assert client.server_status()["current_server_time"] == "2025-10-09 10:53:20"

    def test_wrong_path_says_it_is_not_a_liveagent_account(self, fake: FakeLiveAgent) -> None:
        client = LiveAgentClient(fake.url + "/helpdesk", fake.api_key, 100_000, 5, 8, 4)
        with pytest.raises(RequestError, match=r"/helpdesk/api/application/status does not "
                                               r"exist \(404\).*base_url"):
            client.get("tags")
        assert fake.log.total == 1

    def test_unreachable_fails_fast_despite_many_attempts(self) -> None:
        client = LiveAgentClient("http://127.0.0.1:9", "secret-key-xyz", 1000, 30, 8, 2)
        started = time.monotonic()
        with pytest.raises(UnavailableError, match=r"after 2 attempts \(Connection refused\)"):
            client.get("tags")
        assert time.monotonic() - started < 5
