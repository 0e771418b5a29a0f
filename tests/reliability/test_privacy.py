"""Personal data under the user's control (`[sources.liveagent.privacy]`, issue 21): after a
full run and an incremental one, in DuckDB and in Postgres, an excluded column's values and a
hashed column's clear values appear nowhere: not in any table, the load packages, dlt's state
or anything else under the pipelines directory, the DuckDB file's bytes or the DEBUG log. The
hashed values are the keyed hash of the clear ones, the same in both runs; the reports that
take a `columns` parameter are not asked for the excluded columns."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liveagent_fake.server import FakeLiveAgent
from pipelines.dashboard.queries import load as load_figures
from pipelines.demo import fake_account
from pipelines.liveagent_pipeline import main
from sources.liveagent.privacy import EXCLUDED_NOTE, HASHED_NOTE, keyed_hash
from tests.reliability.test_secrets import logged_run
from tests.support import Api, assert_nowhere
from tests.warehouse import Target, query_rows

SALT = "salt-7d1f3b9e5a2c4680"
PRIVACY = {
    "exclude": ["conversations.ownername", "companies.phones", "companies.unique_fields",
                "report_sla_log.req_firstname",
                "report_sla_log.req_lastname"],
    "hash": ["conversations.owneremail", "companies.emails", "agents.email"],
    "message_bodies": False,
}
# a message a customer writes between the two runs
LATE_MESSAGE = "Please close my account, my card 4111-1111-1111-1111 was stolen. Jana Nováková"


def private_run(configured: Path, fake: FakeLiveAgent, target: Target,
                **env: str) -> subprocess.CompletedProcess:
    return logged_run(configured, *target.args, SOURCES__LIVEAGENT__API_KEY=fake.api_key,
                      SOURCES__LIVEAGENT__PRIVACY=json.dumps(PRIVACY),
                      SOURCES__LIVEAGENT__PRIVACY_SALT=SALT, **env)


def personal_data(api: Api) -> tuple[set[str], dict[str, str]]:
    """What the account holds in the excluded columns, and the clear values of the hashed
    ones (each with its hash), as LiveAgent answers them. (Without the privacy settings, a run
    writes every one of them into the DuckDB file and the load packages.)"""
    excluded: set[str] = set()
    bodies: set[str] = set()
    hashed: set[str] = set()
    for row in api.all_conversations():
        excluded.add(row["ownername"])
        bodies.add(row["preview"])
        hashed.add(row["owneremail"])
        for group in api.get(f"/api/conversations/{row['conversationid']}/messages")["groups"]:
            bodies.update(message["message"] for message in group.get("messages") or [])
    for company in api.get("/api/companies", limit=1000)["companies"]:
        detail = api.get(f"/api/companies/{company['id']}")
        excluded.update(detail.get("phones") or [])
        hashed.update(detail.get("emails") or [])
    hashed.update(agent["username"]
                  for agent in api.get("/api/onlinestatus/agents")["agentsOnlineStates"])
    # the fake's short bodies ("please regards") are words its knowledge base uses too
    excluded.update(body for body in bodies if body and len(body) >= 30)
    return {value for value in excluded if value}, \
        {value: keyed_hash(value, SALT) for value in hashed if value}


def without_cursor(payload: dict[str, Any]) -> dict[str, Any]:
    """The first conversation listed without `datechanged`: kept in rejected_rows, its row
    quoted in the reason."""
    payload["response"]["conversations"][0].pop("datechanged")
    return payload


def every_table(target: Target) -> dict[str, list[dict[str, Any]]]:
    """Every table of the dataset and of its staging dataset, dlt's own too, by SQL."""
    schemas = ", ".join(f"'{name}'" for name in (target.dataset, f"{target.dataset}_staging"))
    names = target.query(f"SELECT table_schema, table_name FROM information_schema.tables "
                         f"WHERE table_schema IN ({schemas})")
    return {f"{n['table_schema']}.{n['table_name']}": query_rows(
        target.destination, target.location,
        f'SELECT * FROM "{n["table_schema"]}"."{n["table_name"]}"') for n in names}


def assert_private(target: Target, configured: Path, result: subprocess.CompletedProcess,
                   excluded: set[str], hashed: dict[str, str], exit_code: int = 0
                   ) -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]]]:
    """Nothing of `excluded` or of the clear values of `hashed` anywhere; returns the hashed
    columns' values as loaded, and every table."""
    assert result.returncode == exit_code, result.stderr[-3000:]
    assert "urllib3.connectionpool" in result.stderr  # the DEBUG log was captured
    tables = every_table(target)
    for name, rows in tables.items():
        text = json.dumps(rows, default=str, ensure_ascii=False)
        for value in [*excluded, *hashed, SALT]:
            assert value not in text, (name, value)
    assert_nowhere([*excluded, *hashed, SALT], configured, result.stdout, result.stderr)
    if target.destination == "duckdb":  # the bytes hold the loaded text as it is
        companies = {row["name"] for row in tables[f"{target.dataset}.companies"]}
        data = Path(target.location).read_bytes().decode("utf-8", "replace")
        assert companies and all(name in data for name in companies)
    schema = f"{target.dataset}."
    for table, column in (("conversations", "ownername"), ("conversations", "preview"),
                          ("messages", "message"), ("companies", "phones"),
                          ("report_sla_log", "req_firstname")):
        rows = tables[schema + table]
        assert rows and all(row[column] is None for row in rows), (table, column)
    loaded = {
        "owneremail": [row["owneremail"] for row in tables[schema + "conversations"]],
        "emails": [email for row in tables[schema + "companies"]
                   for email in _listed(row["emails"])],
        "email": [row["email"] for row in tables[schema + "agents"]],
    }
    for column, values in loaded.items():
        assert values and set(values) <= set(hashed.values()), column
    return loaded, tables


def _listed(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def test_excluded_and_hashed_values_appear_nowhere_after_a_full_and_an_incremental_run(
    fake: FakeLiveAgent, api: Api, configured: Path, target: Target
) -> None:
    excluded, hashed = personal_data(api)
    rejected = api.all_conversations()[0]
    fake.faults.add("mutate", path="/api/conversations$", times=1, transform=without_cursor)
    first = private_run(configured, fake, target)
    loaded, tables = assert_private(target, configured, first, excluded, hashed, exit_code=3)
    # the row kept out of its table, quoted in its reason, is private there too
    kept = [row for row in tables[f"{target.dataset}.rejected_rows"]
            if row["row_key"] == rejected["conversationid"]]
    assert len(kept) == 1 and "without 'datechanged'" in kept[0]["reason"]
    raw = json.loads(kept[0]["raw_json"])
    assert raw["ownername"] is None and raw["preview"] is None
    assert raw["owneremail"] == keyed_hash(rejected["owneremail"], SALT)
    assert raw["subject"] == rejected["subject"]
    assert_described(target)

    account = fake.account
    account.clock.advance(300)
    ref = account.conversation_id(0)
    account.add_message(ref, LATE_MESSAGE, from_customer=True)
    # rows that leave LiveAgent are written again from the warehouse, marked: hashed once
    company = next(c for c in api.get("/api/companies", limit=1000)["companies"]
                   if api.get(f"/api/companies/{c['id']}").get("emails"))
    company_emails = api.get(f"/api/companies/{company['id']}")["emails"]
    account.remove_company(company["id"])
    agent = account.entities.agents[0]
    account.remove_agent(agent.userid)
    account.clock.advance(60)
    fake.log.clear()
    second = private_run(configured, fake, target)
    excluded_now, hashed_now = personal_data(api)
    assert LATE_MESSAGE in excluded_now
    later, _ = assert_private(target, configured, second, excluded | excluded_now,
                              hashed | hashed_now)
    assert fake.log.select(path=f"/conversations/{ref}/messages")
    for column, values in loaded.items():  # the same clear value, the same hash
        assert set(values) <= set(later[column]), column
    [marked] = target.query(f"SELECT emails, _liveagent_deleted_at FROM {{ds}}.companies "
                            f"WHERE id = '{company['id']}'")
    assert marked["_liveagent_deleted_at"] is not None
    assert _listed(marked["emails"]) == [keyed_hash(email, SALT) for email in company_emails]
    [removed] = target.query(f"SELECT email, _liveagent_deleted_at FROM {{ds}}.agents "
                             f"WHERE id = '{agent.userid}'")
    assert removed["email"] == keyed_hash(agent.email, SALT)
    assert removed["_liveagent_deleted_at"] is not None
    owner = api.get(f"/api/conversations/{ref}")["owneremail"]
    assert target.query(f"SELECT owneremail FROM {{ds}}.conversations "
                        f"WHERE conversationid = '{ref}'")[0]["owneremail"] == \
        keyed_hash(owner, SALT)

    # a report that takes `columns` is asked for every documented one but the excluded (one
    # without an excluded column, for all of them as always)
    asked = fake.log.select(path="/api/reports/tickets/slalog$")
    assert asked
    for request in asked:
        columns = set(request.params["columns"].split(","))
        assert len(columns) == 18 and not columns & {"req_firstname", "req_lastname"}
        assert {"req_contactid", "agent_firstname"} <= columns
    assert all("columns" not in request.params
               for request in fake.log.select(path="/api/reports/agents$"))


def comments(target: Target) -> dict[tuple[str, str], str | None]:
    """The comment of every column of the dataset, in DuckDB or Postgres."""
    sql = ("SELECT table_name, column_name, comment FROM duckdb_columns() "
           "WHERE schema_name = '{ds}'") if target.destination == "duckdb" else (
        "SELECT c.relname AS table_name, a.attname AS column_name, "
        "col_description(c.oid, a.attnum) AS comment FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = '{ds}' AND c.relkind = 'r' AND a.attnum > 0")
    return {(row["table_name"], row["column_name"]): row["comment"]
            for row in target.query(sql)}


def assert_described(target: Target) -> None:
    """The warehouse's comments (the data dictionary) say which columns are excluded or
    hashed."""
    found = comments(target)
    assert found[("conversations", "ownername")] == \
        f"Name of the customer who owns the conversation. {EXCLUDED_NOTE}"
    assert found[("conversations", "owneremail")] == \
        f"E-mail of the customer who owns the conversation. {HASHED_NOTE}"
    for column in (("messages", "message"), ("report_sla_log", "req_firstname"),
                   ("companies", "unique_fields")):
        assert str(found[column]).endswith(EXCLUDED_NOTE), column
    assert str(found[("companies", "emails")]).endswith(HASHED_NOTE)
    assert found[("conversations", "subject")] == "Subject of the conversation"


@pytest.mark.parametrize(("settings", "salt", "message"), [
    ({"exclude": ["conversations.owner_email"]}, "",
     "sources.liveagent.privacy.exclude: conversations has no column 'owner_email'"),
    ({"hash": ["conversations.owneremail"]}, "",
     "sources.liveagent.privacy.hash needs the secret sources.liveagent.privacy_salt"),
])
def test_a_bad_privacy_setting_stops_the_run_before_any_request(
    fake: FakeLiveAgent, run_cli: Callable[..., int], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], settings: dict, salt: str, message: str
) -> None:
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIVACY", json.dumps(settings))
    if salt:
        monkeypatch.setenv("SOURCES__LIVEAGENT__PRIVACY_SALT", salt)
    assert run_cli() == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"liveagent-pipeline: {message}"), lines
    assert fake.log.total == 0


# every column that names an agent or a customer, as a team that keeps no names would set it
NO_NAMES = {
    "exclude": ["agents.firstname", "agents.lastname", "agents.systemname", "agents.avatar_url",
                "report_agents.firstname", "report_agents.lastname",
                "report_agents_availability.firstname", "report_agents_availability.lastname",
                "report_sla_log.agent_firstname", "report_sla_log.agent_lastname",
                "report_sla_log.req_firstname", "report_sla_log.req_lastname",
                "conversations.ownername", "companies.phones", "companies.unique_fields"],
    "hash": ["conversations.owneremail", "agents.email", "companies.emails"],
    "message_bodies": False,
}


def test_the_demo_its_analyst_layer_and_dashboard_honour_the_privacy_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BASE_URL", "API_KEY", "TIMEZONE", "START_DATE"):  # no account configured
        monkeypatch.delenv(f"SOURCES__LIVEAGENT__{name}", raising=False)
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIVACY", json.dumps(NO_NAMES))
    monkeypatch.setenv("SOURCES__LIVEAGENT__PRIVACY_SALT", SALT)
    assert main(["demo", "--conversations", "100", "--transform", "--progress-every", "0",
                 "--pipelines-dir", str(tmp_path / "pipelines")]) == 0
    out = capsys.readouterr().out
    assert "analyst layer: 23 models built" in out and "-- Backlog by day" in out
    agents = fake_account(100).account.entities.agents  # the demo's generated account
    names = {name for agent in agents for name in (agent.firstname, agent.lastname)}
    assert len(names) > 4
    target = Target("duckdb", str(tmp_path / "demo.duckdb"))
    tables = every_table(target)
    loaded = json.dumps(tables, default=str)
    for company in tables["liveagent.companies"]:  # "Okafor GmbH": an agent's name by chance
        loaded = loaded.replace(company["name"], "")
    marts = json.dumps({table: target.query(f"SELECT * FROM liveagent_analytics.{table}")
                        for (table,) in duckdb_rows(target, "liveagent_analytics")},
                       default=str)
    for name in names:  # as a word: random ids (_dlt_id) hold short names by chance
        word = re.compile(rf"\b{re.escape(name)}\b")
        assert not word.search(loaded) and not word.search(marts) and not word.search(out), name
    emails = {agent.email for agent in agents}
    assert all(email not in loaded and email not in marts for email in emails)
    metrics = target.query("SELECT owner_name, owner_email "
                           "FROM liveagent_analytics.liveagent__conversation_metrics")
    assert len(metrics) == 100 and all(row["owner_name"] is None for row in metrics)
    assert all(len(row["owner_email"]) == 64 for row in metrics)  # keyed hashes
    # the dashboard reads the marts: its agents are counted, never named
    figures = load_figures(tmp_path / "demo.duckdb", "liveagent", 30)
    assert figures.agents["answers"].sum() > 0
    assert set(figures.agents["name"]) <= {"", None}


def duckdb_rows(target: Target, schema: str) -> list[tuple[str]]:
    return [(row["table_name"],) for row in target.query(
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")]
