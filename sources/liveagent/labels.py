"""The labels of LiveAgent's constlist codes, written down once, and the `labels` lookup table.

Every constlist field the API v1 reference documents for a loaded column is here, with the
reference's own wording. Codes stay as delivered in the raw tables; the analyst views join this
table for the label. Mind the reference's traps: conversation status `C` is Open (Closed is
`L`), and channel `C` is Call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import dlt

from .details import digest
from .reading import DELETE_INSERT
from .settings import Table
from .transforms import column_hints


@dataclass(frozen=True)
class Label:
    """What `code` in `table_name.column_name` means."""

    table_name: str
    column_name: str
    code: str
    label: str


def _constlist(tables: tuple[str, ...], column: str, values: str) -> list[Label]:
    """Labels in the reference's notation, `"A- Answered,P- Calling"`, for each of `tables`."""
    pairs = [item.split("- ", 1) for item in values.split(",")]
    return [Label(table, column, code.strip(), label.strip())
            for table in tables for code, label in pairs]


_CONVERSATIONS = ("conversations", "conversation_details", "conversation_status_history")
_KB = ("kb_entries",)
LABELS: tuple[Label, ...] = tuple([
    *_constlist(_CONVERSATIONS, "status",
                "A- Answered,P- Calling,T- Chatting,X- Deleted,B- Spam,I- Init,C- Open,"
                "R- Resolved,N- New,W- Postponed,L- Closed"),
    *_constlist(_CONVERSATIONS, "channel_type",
                "E- Email,B- Contact button,M- Contact form,I- Invitation,C- Call,"
                "W- Call button,F- Facebook,A- Facebook message,T- Twitter,Q- Forum,"
                "S- Suggestion,G- Instagram,V- Viber,R- Instagram mention,1- Whatsapp"),
    *_constlist(("message_groups",), "rtype",
                "P- Type call,V- Type outgoing call,1- Type internal call,C- Type chat,"
                "X- Type delete,F- Type facebook,I- Type internal,"
                "Z- Type internal (collapsed by default),K- Type knowledgebase,"
                "A- Type knowledgebase start,5- Type offline,M- Type offline legacy,"
                "U- Type internal offline,R- Type resolve,Y- Type retweet,S- Type startinfo,"
                "G- Type tag,T- Type transfer,W- Type twitter,O- Type forwarded,"
                "Q- Type reply to forward,J- Type postpone,B- Type spam,L- Type split,"
                "2- Type merged,3- Type incoming email,4- Type outgoing email,"
                "7- Type received email,6- Type whatsapp"),
    *_constlist(("message_groups",), "rstatus",
                "D- Status deleted,P- Status promoted,V- Status visible,S- Status splitted,"
                "M- Status merged,I- Status initializing,C- Status calling,R- Status connecting"),
    *_constlist(("messages",), "rtype",
                "D- Type disconnected,E- Type end,F- Type file,Z- Type formfield,H- Type header,"
                "I- Type internal,M- Type message,B- Type split,X- Type mixed message,"
                "N- Type note,L- Type note file,Q- Type quoted text,C- Type rating comment,"
                "P- Type positive rating,W- Type negative rating,J- Type status,S- Type system,"
                "G- Type tag,O- Type footer,A- Type header,T- Type title,R- Type transfer,"
                "U- Type useragent,V- Type voice,1- Type voice internal,2- Type merged,"
                "0- Type error footer,Y- Type message legacy,K- Type system public,"
                "3- Type invitation reroute,5- Type linked"),
    *_constlist(_KB, "rtype", "H- Home,C- Category,A- Article,Q- Forum,R- Topic,"
                "G- Suggestion category,S- Suggestion"),
    *_constlist(_KB, "rstatus", "N- New,C- Completed,P- Published,D- Draft,I- Init,U- Review,"
                "L- Planned,S- Started,X- Declined"),
    *_constlist(_KB, "access", "I- Internal,P- Public"),
    *_constlist(_KB, "access_inherited", "I- Internal,P- Public"),
    *_constlist(_KB, "deleted", "Y- Yes,N- No"),
    *_constlist(("agents",), "gender", "M- Male,F- Female,O- Other"),
    *_constlist(("agents",), "role", "D- Administrator,A- Agent,O- Owner"),
    # not a constlist but a string of these letters, one per medium ("MPRT")
    *_constlist(("agents", "agent_online_status"), "preset_status",
                "M- Messages,P- Phone,T- Chat,R- Read,F- Offline"),
    *_constlist(("agent_online_status",), "online_status",
                "M- Messages,P- Phone,T- Chat,R- Read,F- Offline"),
])

LABELS_TABLE = Table(
    "labels", ("table_name", "column_name", "code"),
    {"table_name": "text", "column_name": "text", "code": "text", "label": "text"},
    marks_deletes=False,
)


def label_of(table: str, column: str, code: str) -> str | None:
    return next((found.label for found in LABELS if (found.table_name, found.column_name,
                                                       found.code) == (table, column, code)),
                None)


LOADED_SET = "loaded_set"  # resource state: the digest of the labels last loaded


# merged, not replaced: a replace is not safe to resume (a load killed after its labels job
# committed and before dlt recorded it wrote them twice on the rerun, 378 rows); rows merge
# per table_name, so a label no longer listed for a table leaves with the others' rewrite
@dlt.resource(name=LABELS_TABLE.name, primary_key=LABELS_TABLE.primary_key,
              merge_key="table_name", write_disposition=DELETE_INSERT,
              columns=column_hints(LABELS_TABLE))
def labels() -> Iterator[Any]:
    """The lookup table (no request), written when the labels differ from those last loaded
    (the state commits with the load); otherwise nothing is written."""
    rows = [asdict(found) for found in LABELS]
    state = dlt.current.resource_state()
    loaded_set = digest({"labels": rows})
    if state.get(LOADED_SET) == loaded_set:
        return
    state[LOADED_SET] = loaded_set
    yield rows
