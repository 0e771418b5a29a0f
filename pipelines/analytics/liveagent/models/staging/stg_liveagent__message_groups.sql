-- Message groups (a reply, a resolve, a note ...) with their labels.
select
    g.messagegroupid as message_group_id,
    g.conversationid as conversation_id,
    g.userid as user_id,
    g.rtype,
    rtype_label.label as rtype_label,
    g.rstatus,
    rstatus_label.label as rstatus_label,
    g.datecreated as created_at,
    {{ local_time('g.datecreated') }} as created_at_local,
    {{ local_date('g.datecreated') }} as created_date,
    g.datefinished as finished_at,
    g.rtype = 'R' as is_resolve
from {{ source('liveagent', 'message_groups') }} as g
{{ join_label('rtype_label', 'message_groups', 'rtype', 'g.rtype') }}
{{ join_label('rstatus_label', 'message_groups', 'rstatus', 'g.rstatus') }}
where {{ live('g') }}
