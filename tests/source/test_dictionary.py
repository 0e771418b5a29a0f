"""Labels, the data dictionary and the status history's rows: pure, no server."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sources.liveagent import settings
from sources.liveagent.dictionary import COLUMNS, REFERENCES, TABLES, column_description
from sources.liveagent.history import CONVERSATION_STATUS_HISTORY, status_changes
from sources.liveagent.labels import LABELS, LABELS_TABLE, label_of, labels
from sources.liveagent.transforms import column_hints

ALL_TABLES = [value for value in vars(settings).values() if isinstance(value, settings.Table)] \
    + [report.table for report in settings.REPORTS] + [CONVERSATION_STATUS_HISTORY, LABELS_TABLE]
T0 = datetime(2025, 10, 1, 8, 0, tzinfo=timezone.utc)


class TestLabels:
    def test_the_traps_of_the_reference(self) -> None:
        assert label_of("conversations", "status", "C") == "Open"
        assert label_of("conversations", "status", "L") == "Closed"
        assert label_of("conversations", "channel_type", "C") == "Call"
        assert label_of("message_groups", "rtype", "R") == "Type resolve"
        assert label_of("kb_entries", "access", "I") == "Internal"
        assert label_of("agents", "role", "D") == "Administrator"

    def test_one_label_per_code_and_every_documented_constlist(self) -> None:
        keys = Counter((x.table_name, x.column_name, x.code) for x in LABELS)
        assert max(keys.values()) == 1
        columns = {(table, column) for table, column, _ in keys}
        assert {("conversations", "status"), ("conversations", "channel_type"),
                ("message_groups", "rtype"), ("message_groups", "rstatus"),
                ("messages", "rtype"), ("kb_entries", "rtype"), ("kb_entries", "rstatus"),
                ("kb_entries", "access"), ("agents", "role"), ("agents", "gender")} <= columns
        assert Counter(t for t, c, _ in keys if c == "status")["conversations"] == 11
        assert Counter(t for t, c, _ in keys if c == "channel_type")["conversations"] == 15

    def test_the_resource_yields_the_whole_table(self) -> None:
        rows = list(labels())  # dlt iterates a resource row by row
        assert len(rows) == len(LABELS)
        assert set(rows[0]) == {"table_name", "column_name", "code", "label"}


class TestDictionary:
    def test_every_table_and_known_column_is_described(self) -> None:
        for table in ALL_TABLES:
            assert table.name in TABLES, table.name
            for name in table.fields:
                assert column_description(table.name, name), (table.name, name)

    def test_column_hints_carry_descriptions(self) -> None:
        hints = column_hints(settings.CONVERSATIONS)
        assert "C is Open" in hints["status"]["description"]
        assert hints["conversationid"]["data_type"] == "text"
        assert "left LiveAgent" in hints[settings.DELETED_AT]["description"]
        report = column_hints(settings.REPORTS[0].table)  # report_agents: figures too
        assert report["answers"] == {"description": COLUMNS["report_agents"]["answers"]}

    def test_no_double_quote_in_a_description(self) -> None:  # Mermaid quotes them
        texts = [*TABLES.values(), *(t for c in COLUMNS.values() for t in c.values())]
        assert not [text for text in texts if '"' in text]

    def test_references_name_known_tables_and_columns(self) -> None:
        fields = {t.name: set(t.fields) for t in ALL_TABLES}
        for table, references in REFERENCES.items():
            for ref in references:
                assert set(ref["columns"]) <= fields[table], (table, ref)
                assert set(ref["referenced_columns"]) <= fields[ref["referenced_table"]]


def listed(status: str, changed: datetime, cid: str = "c1", department: str = "d1") -> dict:
    return {"conversationid": cid, "status": status, "departmentid": department,
            "channel_type": "E", "datechanged": changed, "subject": "x"}


class TestStatusChanges:
    def test_a_first_sight_opens_a_version(self) -> None:
        assert status_changes([listed("N", T0)], {}) == [
            {"conversationid": "c1", "status": "N", "departmentid": "d1", "channel_type": "E",
             "valid_from": T0, "valid_to": None}]

    def test_a_change_closes_the_open_version(self) -> None:
        [open_version] = status_changes([listed("N", T0)], {})
        later = T0 + timedelta(hours=2)
        closed, new = status_changes([listed("R", later)], {"c1": open_version})
        assert closed == {**open_version, "valid_to": later}
        assert (new["status"], new["valid_from"], new["valid_to"]) == ("R", later, None)

    def test_a_department_move_is_a_version_too(self) -> None:
        [open_version] = status_changes([listed("C", T0)], {})
        moved = status_changes([listed("C", T0 + timedelta(1), department="d2")],
                               {"c1": open_version})
        assert [row["departmentid"] for row in moved] == ["d1", "d2"]

    def test_nothing_for_other_changes_or_an_older_row(self) -> None:
        [open_version] = status_changes([listed("C", T0)], {})
        current = {"c1": open_version}
        assert status_changes([listed("C", T0 + timedelta(hours=1))], current) == []
        assert status_changes([listed("R", T0 - timedelta(hours=1))], current) == []
        assert status_changes([listed("R", T0)], current) == []  # the boundary, read again
        assert status_changes([{"conversationid": "c1", "_liveagent_removed": True}], {}) == []
