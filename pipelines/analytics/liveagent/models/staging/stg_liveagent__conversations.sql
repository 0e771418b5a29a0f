-- One row per conversation still in LiveAgent, codes with their labels, times in UTC and
-- account-local.
select
    c.conversationid as conversation_id,
    c.code,
    c.subject,
    c.status,
    status_label.label as status_label,
    c.channel_type,
    channel_label.label as channel_label,
    c.departmentid as department_id,
    c.departmentname as department_name,
    c.ownername as owner_name,
    c.owneremail as owner_email,
    c.datecreated as created_at,
    {{ local_time('c.datecreated') }} as created_at_local,
    {{ local_date('c.datecreated') }} as created_date,
    c.datechanged as changed_at,
    {{ local_time('c.datechanged') }} as changed_at_local,
    c.datedue as due_at,
    {{ local_time('c.datedue') }} as due_at_local,
    {{ local_date('c.datedue') }} as due_date,
    c.messagegroupsin as message_groups_in,
    c.messagegroupsout as message_groups_out,
    c.status in ('R', 'L') as is_resolved,
    c.status not in ('R', 'L', 'X', 'B') as is_open,
    c._liveagent_deleted_at as deleted_at
from {{ source('liveagent', 'conversations') }} as c
{{ join_label('status_label', 'conversations', 'status', 'c.status') }}
{{ join_label('channel_label', 'conversations', 'channel_type', 'c.channel_type') }}
where {{ live('c') }}
