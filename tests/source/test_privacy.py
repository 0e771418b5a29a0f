"""The privacy settings as the source checks them, and the rows a privacy step writes (the runs
themselves: tests/reliability/test_privacy.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import tomlkit
import yaml
from dlt.extract.items import TableNameMeta

from pipelines.transform import LINEAGE, PROJECT
from sources.liveagent import liveagent_source
from sources.liveagent.deletions import LoadedRow
from sources.liveagent.exceptions import BadRowError
from sources.liveagent.privacy import EXCLUDED_NOTE, HASHED_NOTE, checked_privacy, keyed_hash
from sources.liveagent.rejections import RejectedRows
from sources.liveagent.settings import CONVERSATIONS
from sources.liveagent.transforms import AccountTime, convert_each

CONFIG = Path(__file__).parents[2] / ".dlt" / "config.toml"
SALT = "a-salt"
ROW = {"conversationid": "c1", "code": "XYZ-1", "ownername": "Jana Nováková",
       "owneremail": "jana.novakova@example.org", "subject": "Refund", "datechanged": "",
       "datecreated": "2025-10-01 10:00:00", "preview": "my card 4111 was stolen"}


@pytest.mark.parametrize(("settings", "salt", "message"), [
    ({"exclude": ["conversation.owneremail"]}, None,
     "sources.liveagent.privacy.exclude: unknown table 'conversation' in "
     "'conversation.owneremail' (tables: agent_online_status, agents, companies, "),
    ({"hash": ["conversations.owner_email"]}, SALT,
     "sources.liveagent.privacy.hash: conversations has no column 'owner_email' (its columns: "),
    ({"exclude": "conversations.owneremail"}, None,
     "sources.liveagent.privacy.exclude must be a list like [\"conversations.owneremail\"]"),
    ({"exclude": ["owneremail"]}, None,
     "sources.liveagent.privacy.exclude: 'owneremail' is not table.column"),
    ({"hash": ["conversations.owneremail"]}, None,
     "sources.liveagent.privacy.hash needs the secret sources.liveagent.privacy_salt (in "
     ".dlt/secrets.toml or env SOURCES__LIVEAGENT__PRIVACY_SALT)"),
    ({"hash": ["conversations.messagegroupsin"]}, SALT,
     "sources.liveagent.privacy.hash: conversations.messagegroupsin is a key or a field other "
     "tables are made from"),
    ({"exclude": ["messages.messageid"]}, None,
     "sources.liveagent.privacy.exclude: messages.messageid is a key"),
    ({"hash": ["report_agents.worktime"]}, SALT,
     "sources.liveagent.privacy.hash: report_agents.worktime holds bigint values"),
    ({"exclude": ["agents.email"], "hash": ["agents.email"]}, SALT,
     "sources.liveagent.privacy: agents.email is both excluded and hashed"),
    ({"message_bodies": "no"}, None,
     "sources.liveagent.privacy.message_bodies must be true or false, got 'no'"),
    ({"exclude_columns": []}, None,
     "sources.liveagent.privacy: unknown key 'exclude_columns' (known: exclude, hash, "
     "message_bodies)"),
])
def test_a_bad_setting_is_one_line_naming_it(settings: dict, salt: str | None,
                                              message: str) -> None:
    with pytest.raises(Exception) as error:
        checked_privacy(settings, salt)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_columns_are_the_warehouse_names_and_message_bodies_false_excludes_the_bodies() -> None:
    privacy = checked_privacy({"exclude": ["report_agents.new_answer_avg_time"],
                               "message_bodies": False}, None)
    assert privacy.exclude == {("report_agents", "new_answer_avg_time"),
                               ("messages", "message"), ("conversations", "preview"),
                               ("conversation_details", "preview")}
    row = privacy.scrub_row("report_agents", {"id": "a1", "newAnswerAvgTime": 12, "answers": 3})
    assert row == {"id": "a1", "newAnswerAvgTime": None, "answers": 3}
    assert not checked_privacy({"message_bodies": True}, None)


def test_the_reports_taking_columns_are_asked_for_all_but_the_excluded() -> None:
    privacy = checked_privacy({"exclude": ["report_sla_log.req_firstname",
                                           "report_tickets_load.avg_queue"]}, None)
    asked = privacy.requested_columns("report_sla_log")
    assert asked is not None and "req_firstname" not in asked.split(",")
    assert asked.split(",")[:3] == ["id", "conversationid", "code"]
    assert len(asked.split(",")) == 19  # the 20 documented columns but one
    assert privacy.requested_columns("report_tickets_load") is None  # takes no `columns`
    assert privacy.requested_columns("report_agents") is None  # nothing excluded there


def test_hashing_is_keyed_stable_and_keeps_null_and_lists() -> None:
    privacy = checked_privacy({"hash": ["conversations.owneremail", "companies.emails"]}, SALT)
    row = privacy.scrub_row("conversations", {"owneremail": "a@b.c", "subject": "Hi"})
    assert row == {"owneremail": keyed_hash("a@b.c", SALT), "subject": "Hi"}
    assert privacy.scrub_row("conversations", {"owneremail": None}) == {"owneremail": None}
    assert privacy.scrub_row("companies", {"emails": ["a@b.c", "d@e.f"]})["emails"] == \
        [keyed_hash("a@b.c", SALT), keyed_hash("d@e.f", SALT)]
    assert keyed_hash("a@b.c", SALT) != keyed_hash("a@b.c", "another salt")


def test_the_map_routes_by_table_and_does_not_hash_a_row_written_again() -> None:
    privacy = checked_privacy({"exclude": ["conversations.ownername"],
                               "hash": ["conversations.owneremail"]}, SALT)
    scrub = privacy.row_map("conversations")
    hashed = keyed_hash("a@b.c", SALT)
    assert scrub({"ownername": "Jana", "owneremail": "a@b.c"}) == \
        {"ownername": None, "owneremail": hashed}
    # a row as loaded, marked deleted: excluded again, its hash left as it is
    assert scrub(LoadedRow(ownername="Jana", owneremail=hashed)) == \
        {"ownername": None, "owneremail": hashed}
    assert scrub("not a row") == "not a row"


def test_a_rejected_row_is_scrubbed_by_its_tables_rules_in_raw_json_and_reason() -> None:
    privacy = checked_privacy({"exclude": ["conversations.ownername"],
                               "hash": ["conversations.owneremail"], "message_bodies": False},
                              SALT)
    rows, rejected = convert_each([ROW], CONVERSATIONS, AccountTime("UTC"))
    assert not rows  # no datechanged: its reason quotes the row, cut at 120 characters
    registry = RejectedRows({}, datetime(2025, 10, 2, tzinfo=timezone.utc))
    [kept] = registry.settle("conversations:c1", rejected)
    assert "Jana Nov" in kept["reason"] and kept["reason"].endswith("...")
    scrubbed = privacy.row_map("conversations")(kept, TableNameMeta("rejected_rows"))
    raw = json.loads(scrubbed["raw_json"])
    assert raw["ownername"] is None and raw["preview"] is None and raw["subject"] == "Refund"
    assert raw["owneremail"] == keyed_hash(ROW["owneremail"], SALT)
    for clear in ("Jana", "jana.novakova", "4111"):
        assert clear not in scrubbed["reason"] and clear not in scrubbed["raw_json"]
    assert scrubbed["reason"].startswith("LiveAgent sent a conversations row without "
                                         "'datechanged'")


def test_a_rejected_message_group_hides_its_messages_bodies() -> None:
    privacy = checked_privacy({"message_bodies": False}, None)
    group = {"messagegroupid": "g1", "messages": [{"messageid": "m1", "message": "secret text"}]}
    row = {"rejection_id": "message_groups:c1|g1", "table_name": "message_groups",
           "reason": str(BadRowError(f"bad group {group!r}")), "raw_json": json.dumps(group)}
    scrubbed = privacy.scrub_rejection(row)
    assert json.loads(scrubbed["raw_json"])["messages"] == [{"messageid": "m1", "message": None}]
    assert "secret text" not in scrubbed["reason"]


def test_the_hints_keep_excluded_columns_typed_and_say_what_happened() -> None:
    privacy = checked_privacy({"exclude": ["companies.phones", "report_agents.firstname"],
                               "hash": ["agents.email"]}, SALT)
    assert privacy.column_hints("companies")["phones"] == {
        "data_type": "json", "nullable": True,
        "description": f"Phone numbers (JSON list). {EXCLUDED_NOTE}"}
    assert privacy.column_hints("report_agents")["firstname"]["data_type"] == "text"
    assert privacy.column_hints("agents")["email"]["description"] == \
        f"Agent's e-mail (login). {HASHED_NOTE}"


def test_the_documented_example_is_valid() -> None:
    text = CONFIG.read_text()
    block = text[text.index("# [sources.liveagent.privacy]"):text.index("# Business hours")]
    lines = [line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")]
    settings = tomlkit.loads("\n".join(lines)).unwrap()["sources"]["liveagent"]["privacy"]
    privacy = checked_privacy(settings, SALT)
    assert ("conversations", "owneremail") in privacy.hash
    assert {("messages", "message"), ("companies", "unique_fields")} <= privacy.exclude
    secrets = (CONFIG.parent / "example.secrets.toml").read_text()
    assert "# privacy_salt = " in secrets and "SOURCES__LIVEAGENT__PRIVACY_SALT" in secrets


def test_a_second_source_in_one_process_does_not_add_its_maps_again() -> None:
    """dlt's `|` reuses the module-level transformers (messages, message_groups) in every
    source: a privacy map added per build piled up and hashed a hashed value again."""
    settings = {"base_url": "http://127.0.0.1:9", "api_key": "k", "privacy_salt": "salt",
                "privacy": {"hash": ["messages.userid"]}}
    first = {name: len(r._pipe.steps) for name, r in liveagent_source(**settings).resources.items()}
    second = {name: len(r._pipe.steps)
              for name, r in liveagent_source(**settings).resources.items()}
    assert second == first


def test_the_analyst_layers_lineage_names_columns_the_privacy_settings_take() -> None:
    """Every `meta: raw_columns` of the dbt project names a warehouse column that may be
    excluded (a typo would leave a mart column without its note)."""
    named = {entry for path in PROJECT.glob("models/**/*.yml")
             for model in (yaml.safe_load(path.read_text()) or {}).get("models", [])
             for column in model.get("columns", [])
             for entry in column.get("config", {}).get("meta", {}).get(LINEAGE, [])}
    assert {"conversations.owneremail", "agents.firstname", "report_agents.lastname"} <= named
    assert checked_privacy({"exclude": sorted(named)}, None).exclude == \
        {tuple(entry.split(".")) for entry in named}
