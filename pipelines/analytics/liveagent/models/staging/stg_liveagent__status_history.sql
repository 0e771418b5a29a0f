-- Observed versions of each conversation's status, department and channel (see the source's
-- conversation_status_history): history starts with what the pipeline observed.
select
    h.conversationid as conversation_id,
    h.status,
    status_label.label as status_label,
    h.departmentid as department_id,
    h.channel_type,
    h.valid_from,
    h.valid_to,
    {{ local_time('h.valid_from') }} as valid_from_local,
    {{ local_time('h.valid_to') }} as valid_to_local,
    h.status not in ('R', 'L', 'X', 'B') as is_open
from {{ source('liveagent', 'conversation_status_history') }} as h
{{ join_label('status_label', 'conversations', 'status', 'h.status') }}
