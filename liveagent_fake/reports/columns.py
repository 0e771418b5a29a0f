"""Documented columns of the report endpoints, in the reference's order."""

from __future__ import annotations

from .. import dataset as ds

HOUR = 3600
DEFAULT_SPAN = 30 * ds.DAY
GROUP_BY = ("hour", "day", "week", "month")

AGENT_COLUMNS = (
    "id", "contactid", "firstname", "lastname", "worktime", "answers", "answers_ph",
    "newAnswerAvgTime", "newAnswerAvgTimeSla", "nextAnswerAvgTime", "nextAnswerAvgTimeSla",
    "calls", "calls_ph", "missed_calls", "missed_calls_ph", "call_seconds", "call_seconds_ph",
    "chats", "chats_ph", "chat_answers", "chat_answers_ph", "missed_chats", "missed_chats_ph",
    "chat_pickup", "chatPickupAvgTime", "chatAvgTime", "not_ranked", "not_ranked_p",
    "not_ranked_ph", "rewards", "rewards_p", "rewards_ph", "punishments", "punishments_p",
    "punishments_ph", "created_tickets", "resolved_tickets", "u_chats", "u_calls", "notes",
    "firstAssignAvgTime", "firstAssignAvgTimeSla", "firstResolveAvgTime",
    "firstResolveAvgTimeSla", "calls_outgoing", "call_outgoing_seconds", "call_outgoing_avg_time",
    "call_pickup_avg_time", "call_avg_time", "calls_internal", "call_internal_avg_time",
    "call_internal_seconds", "o_calls",
)
# the 43 figures shared by the channels, departments, performance and tags reports
GROUP_METRICS = (
    "answers", "newAnswerAvgTime", "newAnswerAvgTimeSla", "nextAnswerAvgTime",
    "nextAnswerAvgTimeSla", "chat_answers", "chats", "missed_chats", "chat_pickup",
    "chatPickupAvgTime", "chatAvgTime", "calls", "missed_calls", "call_seconds", "not_ranked",
    "not_ranked_p", "rewards", "rewards_p", "punishments", "punishments_p", "i_messages",
    "i_chats", "i_calls", "f_chats", "f_calls", "created_tickets", "resolved_tickets", "u_chats",
    "u_calls", "notes", "firstAssignAvgTime", "firstAssignAvgTimeSla", "firstResolveAvgTime",
    "firstResolveAvgTimeSla", "calls_outgoing", "call_outgoing_seconds",
    "call_outgoing_avg_time", "call_pickup_avg_time", "call_avg_time", "calls_internal",
    "call_internal_avg_time", "call_internal_seconds", "o_calls",
)
CHANNEL_COLUMNS = ("id", "channelName", *GROUP_METRICS)
DEPARTMENT_COLUMNS = ("id", "departmentName", *GROUP_METRICS)
PERFORMANCE_COLUMNS = ("datetime", "dateto", *GROUP_METRICS)
TAG_COLUMNS = ("id", "tagName", *GROUP_METRICS)
AVAILABILITY_COLUMNS = (
    "id", "userid", "firstname", "lastname", "contactid", "departmentid", "department_name",
    "hours_online", "from_date", "to_date",
)
LOAD_COLUMNS = (
    "date", "avgQueue", "maxQueue", "minQueue", "avgSlots", "maxSlots", "minSlots", "avgService",
    "maxService", "minService",
)
SLA_COMPLIANCE_COLUMNS = (
    "date", "fulfilled", "avgFulfilledTime", "maxFulfilledTime", "minFulfilledTime",
    "unfulfilled", "avgUnfulfilledTime", "maxUnfulfilledTime", "minUnfulfilledTime",
)
SLA_LOG_COLUMNS = (
    "id", "conversationid", "code", "departmentid", "department_name", "levelid",
    "sla_level_name", "sla", "date_created", "date_closed", "server_date_closed", "date_due",
    "server_date_due", "sla_level_id", "agentid", "agent_firstname", "agent_lastname",
    "req_contactid", "req_firstname", "req_lastname",
)
# the figures among those columns (RealWorld.numeric_counts sends them as JSON numbers)
FIGURE_COLUMNS = frozenset(AGENT_COLUMNS[4:]) | frozenset(GROUP_METRICS) \
    | frozenset(LOAD_COLUMNS[1:]) | frozenset(SLA_COMPLIANCE_COLUMNS[1:])
PER_HOUR = ("answers", "calls", "missed_calls", "call_seconds", "chats", "chat_answers",
            "missed_chats", "not_ranked", "rewards", "punishments")
