"""The data dictionary: what every table and column of the warehouse means, and how the tables
relate. Carried in the dlt schema (column and table `description`, table `references`), so
`dlt pipeline <name> schema --format mermaid` draws it, and written into DuckDB and Postgres
as comments after each load (`pipelines/comments.py`).

Keys are API field names, as the tables in `settings.py` list them; dlt snake_cases them into
column names (`newAnswerAvgTime` -> `new_answer_avg_time`). No double quotes in a text: dlt's
Mermaid export puts each description in double quotes.
"""

from __future__ import annotations

from typing import Any

from .settings import DELETED_AT, REMOVED

_REPORT_DAY = "Account-local day the report was read for (date_from = date_to = this day)"
_CONVERSATION = {
    "conversationid": "Id of the conversation (ticket, chat or call)",
    "code": "Conversation code shown to agents and customers",
    "publicurlcode": "Code of the conversation's public URL",
    "departmentid": "Id of the department the conversation is in now",
    "departmentname": "Name of the department the conversation is in now",
    "datecreated": "When the conversation was created (UTC)",
    "datechanged": "When anything about the conversation last changed (UTC); the incremental "
                   "cursor",
    "datedue": "When the first answer is due under the department's SLA (UTC); NULL without SLA",
    "status": "Status code, see labels (C is Open, L is Closed, X is in the trash)",
    "ownername": "Name of the customer who owns the conversation",
    "owneremail": "E-mail of the customer who owns the conversation",
    "subject": "Subject of the conversation",
    "preview": "Start of the conversation's latest text",
    "tags": "Tag ids as LiveAgent lists them, comma-separated (split into conversation_tags)",
    "channel_type": "Channel code, see labels (C is Call, E is Email)",
    "messagegroupsin": "Incoming message groups (customer messages), as LiveAgent counts them",
    "messagegroupsout": "Outgoing message groups (agent replies), as LiveAgent counts them",
}
_REPORT_METRICS = {
    "worktime": "Minutes the agent was online that day",
    "answers": "Answers: agents' messages to customers",
    "newAnswerAvgTime": "Mean seconds from creation to the first answer, over the conversations "
                        "first answered that day",
    "newAnswerAvgTimeSla": "The same within SLA business hours (seconds)",
    "nextAnswerAvgTime": "Mean seconds to answer a customer's later message",
    "nextAnswerAvgTimeSla": "The same within SLA business hours (seconds)",
    "calls": "Answered calls", "missed_calls": "Missed calls",
    "call_seconds": "Seconds spent in calls", "chats": "Chats with at least one answer",
    "chat_answers": "Answers in chats", "missed_chats": "Missed chats",
    "chat_pickup": "Chats picked up", "chatPickupAvgTime": "Mean seconds to pick up a chat",
    "chatAvgTime": "Mean seconds spent in a chat",
    "not_ranked": "Resolved conversations the customer did not rate",
    "not_ranked_p": "Share of resolved conversations not rated (percent)",
    "rewards": "Positive ratings", "rewards_p": "Positive ratings per resolved (percent)",
    "punishments": "Negative ratings",
    "punishments_p": "Negative ratings per resolved (percent)",
    "i_messages": "Incoming messages (customers' messages)",
    "i_chats": "Incoming chats, answered or not", "i_calls": "Incoming calls, answered or not",
    "f_chats": "Finished chats", "f_calls": "Finished calls",
    "created_tickets": "Conversations created that day",
    "resolved_tickets": "Resolutions (resolve message groups) that day",
    "u_chats": "Unanswered chats", "u_calls": "Unanswered calls",
    "notes": "Internal notes written",
    "firstAssignAvgTime": "Mean seconds from creation to the first assignment",
    "firstAssignAvgTimeSla": "The same within SLA business hours (seconds)",
    "firstResolveAvgTime": "Mean seconds from creation to the first resolution, over the "
                           "conversations first resolved that day",
    "firstResolveAvgTimeSla": "The same within SLA business hours (seconds)",
    "calls_outgoing": "Outgoing calls", "call_outgoing_seconds": "Seconds in outgoing calls",
    "call_outgoing_avg_time": "Mean seconds of an outgoing call",
    "call_pickup_avg_time": "Mean seconds to pick up a call",
    "call_avg_time": "Mean seconds of a call", "calls_internal": "Internal calls",
    "call_internal_avg_time": "Mean seconds of an internal call",
    "call_internal_seconds": "Seconds in internal calls", "o_calls": "Offline calls",
}
_PER_HOUR = {f"{name}_ph": f"{_REPORT_METRICS[name]} per hour online"
             for name in ("answers", "calls", "missed_calls", "call_seconds", "chats",
                          "chat_answers", "missed_chats", "not_ranked", "rewards",
                          "punishments")}
_GROUP_METRICS = {name: text for name, text in _REPORT_METRICS.items() if name != "worktime"}
_AGENT_METRICS = {name: text for name, text in _REPORT_METRICS.items()
                  if name not in ("i_messages", "i_chats", "i_calls", "f_chats", "f_calls")}
_SLA_TIMES = {f"{stat}{kind}Time": f"{word} seconds {how} for the {kind.lower()} ones"
              for stat, word in (("avg", "Mean"), ("max", "Largest"), ("min", "Smallest"))
              for kind, how in (("Fulfilled", "answered before the due time"),
                                ("Unfulfilled", "late"))}
_LOAD = {f"{stat}{name}": f"{word} {what} at the hour's first and last second"
         for stat, word in (("avg", "Mean of"), ("max", "Larger of"), ("min", "Smaller of"))
         for name, what in (("Queue", "conversations created and not resolved"),
                            ("Slots", "agents online"),
                            ("Service", "conversations answered and not resolved"))}

COLUMNS: dict[str, dict[str, str]] = {
    "conversations": _CONVERSATION,
    "conversation_details": {
        **_CONVERSATION,
        "ownernote": "The agents' note about the customer",
        "assignedto": "Userid of the agent the conversation is assigned to",
        "customfields": "Custom fields of the conversation (JSON list of code and value)",
    },
    "conversation_tags": {
        "conversationid": "Id of the conversation",
        "tag_id": "Id of a tag on it (may name a tag deleted since: LiveAgent keeps the id)",
        "deleted": "Internal: true in a row that only clears a conversation's tags (never kept)",
    },
    "message_groups": {
        "messagegroupid": "Id of the message group (a ~ prefix: derived, LiveAgent sent none)",
        "conversationid": "Id of the conversation the group belongs to",
        "userid": "Id of the user (agent or customer contact) who started the group",
        "rtype": "Group type code, see labels (R resolve, I internal, 3/4 e-mail in/out)",
        "rstatus": "Group status code, see labels (V visible)",
        "datecreated": "When the group was created (UTC)",
        "datefinished": "When the group's latest message was written (UTC)",
    },
    "messages": {
        "messageid": "Id of the message",
        "messagegroupid": "Id of its message group",
        "conversationid": "Id of its conversation",
        "userid": "Id of its author: an agent's id (see agents) or a customer's contact id",
        "rtype": "Message type code, see labels (M message, N note, P/W ratings)",
        "datecreated": "When the message was written (UTC)",
        "message": "The message text as LiveAgent stores it",
    },
    "companies": {
        "id": "Id of the company (a customer contact of kind company)",
        "name": "Company name", "datecreated": "When the company was created (UTC)",
        "language": "Language code", "ip": "IP address it was created from",
        "emails": "E-mail addresses (JSON list)", "phones": "Phone numbers (JSON list)",
        "groups": "Customer groups it belongs to (JSON list)",
        "custom_fields": "Custom fields (JSON list)", "unique_fields": "Unique fields (JSON)",
    },
    "knowledgebases": {"kb_id": "Id of the knowledge base", "name": "Knowledge base name"},
    "kb_entries": {
        "kb_id": "Id of the knowledge base the entry is in",
        "kb_entry_id": "Id of the entry",
        "parent_entry_id": "Id of the parent entry (category, forum, suggestion category)",
        "conversationid": "Conversation the entry was made from, if any",
        "departmentid": "Department of a forum or suggestion category",
        "rtype": "Entry type code, see labels (A article, C category, R topic)",
        "rstatus": "Entry status code, see labels (P published, D draft)",
        "access": "Access code, see labels (P public, I internal)",
        "access_inherited": "Access inherited from the parents, see labels",
        "urlcode": "Code of the entry's URL", "treepath": "Ids of the entry's ancestors",
        "title": "Title", "metadescription": "HTML meta description",
        "keywords": "HTML meta keywords", "content": "Content (HTML)",
        "deleted": "Y when a topic or suggestion was deleted in LiveAgent (kept listed)",
        "description": "Description", "rorder": "Position among its siblings",
        "views": "Times viewed", "votes": "Votes",
        "datecreated": "When the entry was created (UTC)",
        "datechanged": "When the entry last changed (UTC); the incremental cursor",
    },
    "tags": {"id": "Id of the tag", "name": "Tag name"},
    "customer_groups": {"id": "Id of the customer group", "name": "Group name"},
    "suggestion_categories": {"id": "Id of the suggestion category", "title": "Title",
                              "path": "Path of the category"},
    "agents": {
        "id": "Userid of the agent (messages.userid, message_groups.userid)",
        "contactid": "Contact id of the agent", "email": "Agent's e-mail (login)",
        "firstname": "First name", "lastname": "Last name",
        "systemname": "Name shown to customers",
        "gender": "Gender code, see labels", "role": "Role code, see labels (D Administrator)",
        "avatar_url": "URL of the agent's picture",
        "preset_status": "Media the agent is set to be online for, one letter each (MPRT), "
                         "see labels",
    },
    "agent_online_status": {
        "id": "Userid of the agent",
        "snapshot_at": "When the pipeline run that took this snapshot started (UTC)",
        "online_status": "Media the agent was online for, one letter each, see labels",
        "preset_status": "Media the agent was set to be online for, see labels",
    },
    "conversation_status_history": {
        "conversationid": "Id of the conversation",
        "status": "Status code observed from valid_from on, see labels",
        "departmentid": "Department observed from valid_from on",
        "channel_type": "Channel code observed from valid_from on, see labels",
        "valid_from": "datechanged of the conversation row that showed this status (UTC)",
        "valid_to": "valid_from of the next observed change; NULL while it is current",
    },
    "labels": {
        "table_name": "Table of the coded column", "column_name": "The coded column",
        "code": "The code as LiveAgent delivers it", "label": "What the code means",
    },
    "rejected_rows": {
        "rejection_id": "Id of the rejection (table, unit and key)",
        "table_name": "Table the row belongs in",
        "row_key": "The row's key as text (a|b for two parts); NULL when it has none",
        "conversationid": "Conversation of a conversation-family row",
        "reason": "Why the row could not be loaded, naming the field and value",
        "raw_json": "The row as LiveAgent sent it, secrets removed (JSON text)",
        "first_seen_at": "When a run first rejected it (UTC)",
        "last_seen_at": "When a run last rejected it (UTC)",
        "deleted": "Internal: true in a row that removes a settled rejection (never kept)",
    },
    "report_agents": {
        "id": "Userid of the agent", "contactid": "Contact id of the agent",
        "firstname": "First name", "lastname": "Last name", "report_date": _REPORT_DAY,
        **_AGENT_METRICS, **_PER_HOUR,
    },
    "report_channels": {"id": "Channel id of the report (not the channel_type code)",
                        "channelName": "Channel name (the label of its channel_type)",
                        "report_date": _REPORT_DAY, **_GROUP_METRICS},
    "report_departments": {"id": "Id of the department", "departmentName": "Department name",
                           "report_date": _REPORT_DAY, **_GROUP_METRICS},
    "report_tags": {"id": "Id of the tag", "tagName": "Tag name", "report_date": _REPORT_DAY,
                    **_GROUP_METRICS},
    "report_performance": {
        "datetime": "Start of the time bucket (account-local midnight of a day bucket, as UTC)",
        "dateto": "Last second of the bucket (UTC)", "report_date": _REPORT_DAY,
        **_GROUP_METRICS,
    },
    "report_tickets_load": {"date": "Start of the hour (UTC)", "report_date": _REPORT_DAY,
                            **_LOAD},
    "report_sla_compliance": {
        "date": "Account-local day (its midnight as UTC) whose due times are counted",
        "report_date": _REPORT_DAY,
        "fulfilled": "Conversations due that day answered by their due time",
        "unfulfilled": "Conversations due that day answered late, or unanswered and overdue",
        **_SLA_TIMES,
    },
    "report_sla_log": {
        "id": "Row id of the SLA log", "conversationid": "Id of the conversation",
        "code": "Conversation code", "departmentid": "Id of the department",
        "department_name": "Department name", "levelid": "Id of the SLA level",
        "sla_level_id": "Id of the SLA level", "sla_level_name": "SLA level name",
        "sla": "Due time minus first answer (or minus now), [-]HH:MM:SS; negative when late",
        "date_created": "When the conversation was created (UTC)",
        "date_closed": "When it was resolved (UTC)", "date_due": "When it was due (UTC)",
        "server_date_closed": "date_closed as the server's UTC clock gave it",
        "server_date_due": "date_due as the server's UTC clock gave it",
        "agentid": "Userid of the assigned agent", "agent_firstname": "Agent's first name",
        "agent_lastname": "Agent's last name", "req_contactid": "Requester's contact id",
        "req_firstname": "Requester's first name", "req_lastname": "Requester's last name",
        "report_date": _REPORT_DAY,
    },
    "report_agents_availability": {
        "id": "Id of the online session", "userid": "Userid of the agent",
        "contactid": "Contact id of the agent", "firstname": "First name",
        "lastname": "Last name", "departmentid": "Department of the session",
        "department_name": "Department name", "hours_online": "Length of the session, HH:MM:SS",
        "from_date": "When the session started (UTC)",
        "to_date": "When it ended (UTC); NULL while the agent is online",
        "report_date": _REPORT_DAY,
    },
}
# columns every table that marks deletes has (see settings.Table.marks_deletes)
DELETE_COLUMNS = {
    DELETED_AT: "When the pipeline noticed the row left LiveAgent (UTC); NULL while it is there",
    REMOVED: "Internal: true in a row that removes its key (deletes = remove; never kept)",
}
# the columns dlt adds to every table it loads
DLT_COLUMNS = {
    "_dlt_load_id": "Internal: id of the dlt load that wrote the row (see _dlt_loads)",
    "_dlt_id": "Internal: dlt's unique id of the row",
}

TABLES: dict[str, str] = {
    "conversations": "One row per conversation (ticket, chat, call) as GET /conversations lists "
                     "it, current state",
    "conversation_details": "Opt-in: GET /conversations/{id} per changed conversation, with the "
                            "assignee, owner note and custom fields",
    "conversation_tags": "One row per tag on a conversation (its tags field split)",
    "message_groups": "Message groups of each conversation (a reply, a resolve, a note ...)",
    "messages": "Messages of each message group",
    "companies": "Companies (GET /companies with their details)",
    "knowledgebases": "Knowledge bases",
    "kb_entries": "Knowledge-base entries: categories, articles, forums, topics, suggestions",
    "tags": "Tags", "customer_groups": "Customer groups",
    "suggestion_categories": "Suggestion categories",
    "agents": "Agents (GET /onlinestatus/agents with GET /agents/{id}), secrets never loaded",
    "agent_online_status": "Every agent's online status when each pipeline run started "
                           "(appended, a history)",
    "conversation_status_history": "Each observed change of a conversation's status, "
                                   "department or channel (from the pipeline's first run on)",
    "labels": "What each constlist code means (table, column, code, label)",
    "rejected_rows": "Rows LiveAgent sent that break the contract, kept out of their tables",
    "report_agents": "GET /reports/agents, one row per agent and account-local day",
    "report_channels": "GET /reports/channels, one row per channel and account-local day",
    "report_departments": "GET /reports/departments, one row per department and day",
    "report_tags": "GET /reports/tags, one row per existing tag and account-local day",
    "report_performance": "GET /reports/performance, one row per time bucket",
    "report_tickets_load": "GET /reports/tickets/load, one row per hour: queue, agents, work",
    "report_sla_compliance": "GET /reports/tickets/slacompliance, one row per day of due times",
    "report_sla_log": "GET /reports/tickets/slalog, one row per conversation with a due time",
    "report_agents_availability": "GET /reports/tickets/agentsavailability, one row per "
                                  "online session",
}


def _ref(columns: list[str], table: str, referenced: list[str], label: str,
         cardinality: str = "many_to_one") -> dict[str, Any]:
    return {"columns": columns, "referenced_table": table, "referenced_columns": referenced,
            "label": label, "cardinality": cardinality}


_TO_CONVERSATION = _ref(["conversationid"], "conversations", ["conversationid"], "of")
REFERENCES: dict[str, list[dict[str, Any]]] = {
    "conversation_details": [_ref(["conversationid"], "conversations", ["conversationid"],
                                  "details of", "one_to_one"),
                             _ref(["assignedto"], "agents", ["id"], "assigned to")],
    "conversation_tags": [_TO_CONVERSATION, _ref(["tag_id"], "tags", ["id"], "tagged")],
    "message_groups": [_TO_CONVERSATION, _ref(["userid"], "agents", ["id"], "started by")],
    "messages": [_TO_CONVERSATION,
                 _ref(["conversationid", "messagegroupid"], "message_groups",
                      ["conversationid", "messagegroupid"], "in group"),
                 _ref(["userid"], "agents", ["id"], "written by")],
    "conversation_status_history": [_ref(["conversationid"], "conversations",
                                         ["conversationid"], "history of")],
    "kb_entries": [_ref(["kb_id"], "knowledgebases", ["kb_id"], "in"),
                   _ref(["parent_entry_id"], "kb_entries", ["kb_entry_id"], "child of")],
    "agent_online_status": [_ref(["id"], "agents", ["id"], "status of")],
    "report_agents": [_ref(["id"], "agents", ["id"], "figures of")],
    "report_tags": [_ref(["id"], "tags", ["id"], "figures of")],
    "report_departments": [_ref(["id"], "conversations", ["departmentid"], "figures of",
                                "many_to_many")],
    "report_sla_log": [_TO_CONVERSATION, _ref(["agentid"], "agents", ["id"], "assigned to")],
    "report_agents_availability": [_ref(["userid"], "agents", ["id"], "session of")],
}


def column_description(table: str, field: str) -> str | None:
    return COLUMNS.get(table, {}).get(field) or DELETE_COLUMNS.get(field)


def dlt_column_hints() -> dict[str, Any]:
    """Description-only hints of dlt's own columns (dlt gives them their type)."""
    return {name: {"description": text} for name, text in DLT_COLUMNS.items()}


def described_columns(table: str, hints: dict[str, Any]) -> dict[str, Any]:
    """`hints` (dlt column hints keyed by API field name) with each column's description, and
    a description-only hint for every other documented column of `table` (a report's
    figures, a list's extra fields, dlt's own): dlt completes those with the type of the
    first value."""
    described = {name: {**column, "description": text} if (text := column_description(
        table, name)) else column for name, column in hints.items()}
    for name, text in COLUMNS.get(table, {}).items():
        described.setdefault(name, {"description": text})
    return {**described, **dlt_column_hints()}


def describe(resource: Any) -> Any:
    """`resource` with its table's description and references (applied to the resource's own
    hints, after its `rejected_rows` variant was made, which would otherwise copy them)."""
    table = resource.table_name if isinstance(resource.table_name, str) else None
    if table in TABLES:
        resource.apply_hints(additional_table_hints={"description": TABLES[table]},
                             references=REFERENCES.get(table) or None)
    return resource
