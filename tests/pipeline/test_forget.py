"""`liveagent-pipeline forget`: a contact's e-mail, name and messages leave every table of the
warehouse (the analyst layer's too) and every file of the pipelines directory, other contacts
stay as they were, and a later run does not bring them back, nor what others write about them
(issue 21)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg2
import pyarrow.parquet as pq
import pytest

from liveagent_fake.dataset import Customer
from liveagent_fake.models import Account
from liveagent_fake.server import FakeLiveAgent
from pipelines.forget import FORGOT, NOT_REACHED
from pipelines.liveagent_pipeline import main
from pipelines.read_copy import writer_path
from sources.liveagent.forgotten import Entries, Forgotten
from sources.liveagent.privacy import keyed_hash
from tests.support import ZONE, make_account
from tests.warehouse import Target

SALT = "forget-test-salt"
# the tables forget may add rows to; every other table keeps its row count
BOOKKEEPING = ("run_history", "run_history_tables", "_dlt_loads", "_dlt_version",
               "_dlt_pipeline_state")


@pytest.fixture
def account() -> Account:
    return make_account(conversations=40, timezone=ZONE)


@pytest.fixture
def salted(configured: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIVACY_SALT", SALT)
    return configured


@pytest.fixture
def forget_cli(salted: Path, target: Target) -> Callable[..., int]:
    def run(*args: str) -> int:
        return main(["forget", "--pipelines-dir", str(salted / "pipelines"), *target.args,
                     *args])
    return run


def contacts(account: Account) -> dict[str, tuple[Customer, list[str]]]:
    """Every owner of a conversation whose full name no other owner has: by contact id, the
    customer and their conversation ids."""
    owned: dict[str, tuple[Customer, list[str]]] = {}
    for index in range(account.config.conversations):
        customer = account.customer(account.record(index).owner)
        owned.setdefault(customer.contactid, (customer, []))[1].append(
            account.conversation_id(index))
    names = Counter(customer.name for customer, _ in owned.values())
    return {cid: found for cid, found in owned.items() if names[found[0].name] == 1}


def most_active(account: Account) -> tuple[Customer, list[str]]:
    return max(contacts(account).values(), key=lambda found: (len(found[1]), found[0].contactid))


def bodies(target: Target, contact_id: str) -> list[str]:
    return [row["message"] for row in target.query(
        f"SELECT message FROM {{ds}}.messages WHERE userid = '{contact_id}'")]


def long_body(target: Target, contact_id: str) -> tuple[str, str]:
    """A conversation of the contact and a body of theirs in it long enough to be told apart
    (40 characters, as `clear_values`)."""
    return next((row["conversationid"], row["message"]) for row in target.query(
        f"SELECT conversationid, message FROM {{ds}}.messages WHERE userid = '{contact_id}' "
        "AND length(message) >= 40 ORDER BY conversationid, message"))


def clear_values(customer: Customer, texts: list[str]) -> list[str]:
    """What must leave the warehouse wherever it occurs: the e-mail, the name, and the bodies
    long enough not to occur by chance in other people's messages (the fake's bodies are a few
    words from a short list: "still still" is in others' messages too)."""
    return [customer.email, customer.name, *(text for text in texts if len(text) >= 40)]


def whole_bodies_left(target: Target, texts: list[str], conversations: list[str]) -> int:
    """Messages of the contact's conversations that are one of `texts` as a whole."""
    bodies = ", ".join("'" + text.replace("'", "''") + "'" for text in texts)
    ids = ", ".join(f"'{c}'" for c in conversations)
    return int(target.query(f"SELECT count(*) AS n FROM {{ds}}.messages WHERE message IN "
                            f"({bodies}) AND conversationid IN ({ids})")[0]["n"])


def traces(target: Target, values: list[str]) -> dict[str, int]:
    """Per `table.column` of the dataset and its staging dataset (dlt's own tables too), the
    rows in which one of `values` occurs as text, found by SQL over every column; with the
    analyst layer's schemas (staging views, marts)."""
    schemas = tuple(f"{target.dataset}{suffix}"
                    for suffix in ("", "_staging", "_stg", "_analytics"))
    found: dict[str, int] = {}
    if target.destination == "duckdb":
        with duckdb.connect(target.location, read_only=True) as db:
            columns = db.execute("SELECT schema_name, table_name, column_name FROM "
                                 "duckdb_columns() WHERE list_contains(?, schema_name)",
                                 [list(schemas)]).fetchall()
            for schema, table, column in columns:
                for value in values:
                    hits = db.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE '
                                      f'strpos(CAST("{column}" AS VARCHAR), ?) > 0',
                                      [value]).fetchone()
                    if hits and hits[0]:
                        found[f"{table}.{column}"] = found.get(f"{table}.{column}", 0) + hits[0]
        return found
    with psycopg2.connect(target.location) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT c.table_schema, c.table_name, c.column_name FROM "
                       "information_schema.columns c JOIN information_schema.tables t USING "
                       "(table_schema, table_name) WHERE c.table_schema IN %s AND "
                       "t.table_type = 'BASE TABLE'", (schemas,))
        for schema, table, column in cursor.fetchall():
            for value in values:
                cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE '
                               f'strpos(CAST("{column}" AS TEXT), %s) > 0', (value,))
                hits = cursor.fetchone()
                if hits and hits[0]:
                    found[f"{table}.{column}"] = found.get(f"{table}.{column}", 0) + hits[0]
    return found


def forms(value: str) -> list[bytes]:
    """`value` as files may hold it: UTF-8, and JSON-escaped."""
    return list(dict.fromkeys([value.encode(), json.dumps(value)[1:-1].encode()]))


def content(path: Path) -> bytes:
    """A file's bytes, and what they hold uncompressed: dlt's job files are gzipped (csv,
    jsonl, insert_values) or parquet."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data += gzip.decompress(data)
    if data[:4] == b"PAR1":
        data += repr(pq.read_table(path).to_pylist()).encode()
        data += json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
    return data


def files_holding(directory: Path, values: list[str]) -> list[str]:
    """The files under `directory` whose contents hold one of `values`."""
    needles = [form for value in values for form in forms(value)]
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*")
                  if path.is_file() and any(n in content(path) for n in needles))


def row_counts(target: Target) -> dict[str, int]:
    return {table: sum(rows.values()) for table, rows in target.tables().items()
            if table not in BOOKKEEPING}


def others(target: Target, conversations: list[str]) -> dict[str, list[dict]]:
    """A sample of what the warehouse holds of other contacts: their conversations and
    messages, whole."""
    ids = ", ".join(f"'{c}'" for c in conversations)
    return {table: target.query(f"SELECT * FROM {{ds}}.{table} WHERE conversationid NOT IN "
                                f"({ids}) ORDER BY _dlt_id")
            for table in ("conversations", "messages", "message_groups")}


def with_email(email: str) -> Callable[[dict], dict]:
    """A company's answer that lists `email` among its e-mails (the contact works there)."""
    def transform(payload: dict) -> dict:
        company = payload["response"]
        company["emails"] = [*company["emails"], email]
        company["unique_fields"] = [*company["unique_fields"], {"code": "email", "value": email}]
        return payload
    return transform


def without_cursor(conversation: str) -> Callable[[dict], dict]:
    """A listing whose row of `conversation` lacks `datechanged`: kept in rejected_rows, its
    raw JSON (the owner's e-mail and name) quoted there."""
    def transform(payload: dict) -> dict:
        for row in payload["response"]["conversations"]:
            if row["conversationid"] == conversation:
                row.pop("datechanged")
        return payload
    return transform


def test_forget_by_email_leaves_no_trace_and_a_later_run_does_not_bring_it_back(
    run_cli: Callable[..., int], forget_cli: Callable[..., int], salted: Path,
    target: Target, account: Account, fake: FakeLiveAgent, capsys: pytest.CaptureFixture[str],
) -> None:
    customer, conversations = most_active(account)
    # the contact's e-mail in a company's e-mails, and one of their conversations served
    # malformed once, so that rejected_rows holds it as read
    company = account.company(account.company_indexes()[0]).id
    fake.faults.add("mutate", path=f"/api/companies/{company}$",
                    transform=with_email(customer.email))
    fake.faults.add("mutate", path="/api/conversations$", times=1,
                    transform=without_cursor(conversations[-1]))
    # the analyst layer on DuckDB only: its dbt runs are the module's costliest steps
    layer = target.destination == "duckdb"
    assert run_cli(*target.args, *(["--transform"] if layer else [])) == 3
    texts = bodies(target, customer.contactid)
    assert texts, "the contact wrote messages"
    values = clear_values(customer, texts)
    assert len(values) > 2 and whole_bodies_left(target, texts, conversations) == len(texts)
    quoted_in, quoted = long_body(target, customer.contactid)  # for an agent to quote later
    # the checks below can fail: before forget, the contact is in tables, files and bytes
    assert {"conversations.owneremail", "conversations.ownername", "messages.message",
            "companies.emails", "rejected_rows.raw_json",
            *(["liveagent__conversation_metrics.owner_email"] if layer else [])} <= \
        set(traces(target, values))
    pipelines = salted / "pipelines"
    assert files_holding(pipelines, [customer.email])
    counts, sample = row_counts(target), others(target, conversations)
    capsys.readouterr()

    assert forget_cli("--email", customer.email.upper()) == 0

    out, err = capsys.readouterr()
    assert traces(target, values) == {}
    assert whole_bodies_left(target, texts, conversations) == 0
    assert files_holding(pipelines, values) == []
    if target.destination == "duckdb":  # the published file and the runs' own copy
        for path in (Path(target.location), writer_path(Path(target.location))):
            assert not any(form in path.read_bytes() for value in values[:2]
                           for form in forms(value)), path
    assert row_counts(target) == counts
    assert others(target, conversations) == sample
    hashed = keyed_hash(customer.email, SALT)
    owned = f"SELECT count(*) AS n FROM {{ds}}.conversations WHERE owneremail = '{hashed}'"
    assert target.query(owned)[0]["n"] == len(conversations) - 1  # one is a rejected row
    if layer:
        assert target.query("SELECT count(*) AS n FROM {ds}_analytics."
                            "liveagent__conversation_metrics WHERE owner_email = "
                            f"'{hashed}'")[0]["n"] == len(conversations) - 1
    lines = out.splitlines()
    assert lines[0].startswith("liveagent-pipeline: forget in ") and "rows hashed" in lines[0]
    changed = {line.split()[0]: int(line.split()[1]) for line in lines[1:]
               if line.endswith("rows hashed") and line.startswith("  ")}
    assert changed["conversations"] == len(conversations) - 1
    assert changed["messages"] >= len(texts)
    assert changed["companies"] == 1 and changed["rejected_rows"] == 1
    assert NOT_REACHED in out and "analyst layer" not in NOT_REACHED
    assert re.search(r"^pipelines directory: \d+ loaded load packages? deleted \(every one, "
                     r"whatever --keep-load-packages keeps after runs", out, re.M)
    rebuilt = re.search(r"^analyst layer: 23 models built in \w+_stg and \w+_analytics, .*: "
                        "rebuilt from the hashed rows$", out, re.M)
    assert bool(rebuilt) == layer
    if target.destination == "duckdb":
        assert "no clear e-mail or contact id of the contact is left in its bytes" in out
    else:
        assert "VACUUM ran on" in out
    assert not any(form in (out + err).encode() for value in values for form in forms(value))
    history = target.query("SELECT outcome, detail, rows_written FROM {ds}.run_history "
                           "ORDER BY started_at")
    assert history[-1] == {"outcome": FORGOT, "rows_written": sum(changed.values()),
                           "detail": f"contact {hashed}: rows hashed: " + ", ".join(
                               f"{table} {n}" for table, n in changed.items())}

    # LiveAgent still has the contact, who writes again, and an agent answers quoting them:
    # the next run hashes what they wrote and what the agent's reply says of them
    account.clock.advance(60)
    again = f"It is {customer.name} again, write to {customer.email} please"
    account.add_message(conversations[0], again, from_customer=True)
    reply = (f"Dear {customer.name}, we wrote to {customer.email} about what you said: "
             f"> {quoted}")
    account.add_message(quoted_in, reply)
    assert run_cli(*target.args) == 0
    assert traces(target, [*values, again, reply]) == {}
    assert files_holding(pipelines, [*values, again, reply]) == []
    assert target.query(f"SELECT count(*) AS n FROM {{ds}}.messages WHERE message = "
                        f"'{keyed_hash(again, SALT)}'")[0]["n"] == 1
    hidden = (f"Dear {keyed_hash(customer.name, SALT)}, we wrote to {hashed} about what you "
              f"said: > {keyed_hash(quoted, SALT)}")
    assert target.query(f"SELECT count(*) AS n FROM {{ds}}.messages WHERE message = "
                        f"'{hidden}'")[0]["n"] == 1
    assert target.query(owned)[0]["n"] == len(conversations)  # the rejected one, read again

    # a second forget finds nothing left, and says so
    capsys.readouterr()
    assert forget_cli("--email", customer.email) == 0
    assert "nothing left to forget" in capsys.readouterr().out


def test_forget_by_contact_id(
    run_cli: Callable[..., int], forget_cli: Callable[..., int], salted: Path,
    target: Target, account: Account, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(*target.args) == 0
    customer, conversations = most_active(account)
    texts = bodies(target, customer.contactid)
    values = clear_values(customer, texts)
    assert traces(target, values)
    counts, sample = row_counts(target), others(target, conversations)
    capsys.readouterr()
    assert forget_cli("--contact-id", customer.contactid) == 0
    out = capsys.readouterr().out
    assert traces(target, [*values, customer.contactid]) == {}
    assert whole_bodies_left(target, texts, conversations) == 0
    assert files_holding(salted / "pipelines", values) == []
    assert row_counts(target) == counts
    assert others(target, conversations) == sample
    assert "rows hashed" in out and "message_groups" in out


def test_forget_refuses_without_salt_or_contact(
    run_cli: Callable[..., int], forget_cli: Callable[..., int], target: Target,
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(*target.args) == 0
    customer, _ = most_active(account)
    before = row_counts(target)
    capsys.readouterr()
    assert forget_cli("--email", "nobody@nowhere.example") == 2
    err = capsys.readouterr().err
    assert err.startswith("liveagent-pipeline: no contact with this e-mail in ")
    assert err.count("\n") == 1
    assert forget_cli("--contact-id", "nosuchid") == 2
    assert "no contact with this contact id" in capsys.readouterr().err
    monkeypatch.delenv("SOURCES__LIVEAGENT__PRIVACY_SALT")
    assert forget_cli("--email", customer.email) == 2
    err = capsys.readouterr().err
    assert err == ("liveagent-pipeline: forget needs sources.liveagent.privacy_salt (env "
                   "SOURCES__LIVEAGENT__PRIVACY_SALT), the secret salt of the keyed hash: set "
                   "it in .dlt/secrets.toml and keep it\n")
    assert row_counts(target) == before
    assert traces(target, [customer.email])  # untouched
    with pytest.raises(SystemExit) as exit_:
        forget_cli("--email", customer.email, "--contact-id", customer.contactid)
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_forget_refuses_a_destination_without_sql(
    salted: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["forget", "--destination", "filesystem", "--email", "a@example.org",
                 "--pipelines-dir", str(salted / "pipelines")]) == 2
    assert capsys.readouterr().err == (
        "liveagent-pipeline: forget works on DuckDB and Postgres, not on filesystem: its "
        "tables are changed by SQL in one transaction\n")
    assert not (salted / "pipelines").exists()


def test_forget_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["forget", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for words in ("--email", "--contact-id", "--destination", "--duckdb-path", "--dataset",
                  "--account", "--pipelines-dir", "keyed hash", "later runs hash"):
        assert words in out, words


def test_later_rows_of_a_forgotten_contact_are_hashed_in_every_shape() -> None:
    """The map of later runs on rows the fake account above does not produce: a rejected row's
    raw JSON, a company's e-mail entries, an SLA log row; other contacts' rows as they are."""
    salt, email, contact = "s", "Ann.Lee@example.org", "c0ntact1"
    hider = Forgotten(Entries({keyed_hash(contact, salt)}, {keyed_hash(email.lower(), salt)},
                              set()), salt)
    raw = json.dumps({"owneremail": email, "ownername": "Ann Lee", "conversationid": "x"},
                     ensure_ascii=True, sort_keys=True)
    rejected = hider.row({"table_name": "conversations", "raw_json": raw})
    assert email not in rejected["raw_json"] and "Ann Lee" not in rejected["raw_json"]
    assert json.loads(rejected["raw_json"])["owneremail"] == keyed_hash(email, salt)
    company = hider.row({"emails": [email, "boss@example.org"],
                         "unique_fields": [{"code": "email", "value": email}]})
    assert company == {"emails": [keyed_hash(email, salt), "boss@example.org"],
                       "unique_fields": [{"code": "email", "value": keyed_hash(email, salt)}]}
    sla = hider.row({"req_contactid": contact, "req_firstname": "Ann", "req_lastname": "Lee",
                     "agent_firstname": "Bo"})
    assert sla == {"req_contactid": keyed_hash(contact, salt), "agent_firstname": "Bo",
                   "req_firstname": keyed_hash("Ann", salt),
                   "req_lastname": keyed_hash("Lee", salt)}
    other = {"owneremail": "someone@example.org", "ownername": "Ann Lee", "userid": "other1",
             "message": "hello"}
    assert hider.row(dict(other)) == other
