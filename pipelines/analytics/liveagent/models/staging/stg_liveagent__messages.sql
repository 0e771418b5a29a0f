-- Messages with their labels and who wrote them. An author is an agent when the agents table
-- has the id, removed agents included (their past answers stay answers, as in LiveAgent's
-- reports); any other author is a customer. An answer is an agent's message (type M) outside
-- internal groups (type I), LiveAgent's definition in its reports.
select
    m.messageid as message_id,
    m.messagegroupid as message_group_id,
    m.conversationid as conversation_id,
    m.userid as user_id,
    m.rtype,
    rtype_label.label as rtype_label,
    g.rtype as group_rtype,
    m.datecreated as created_at,
    {{ local_time('m.datecreated') }} as created_at_local,
    {{ local_date('m.datecreated') }} as created_date,
    a.id is not null as is_agent,
    m.rtype = 'M' and a.id is not null and coalesce(g.rtype, '') <> 'I' as is_answer,
    m.rtype = 'M' and a.id is null as is_customer_message,
    m.rtype = 'N' as is_note
from {{ source('liveagent', 'messages') }} as m
left join {{ source('liveagent', 'message_groups') }} as g
    on g.conversationid = m.conversationid and g.messagegroupid = m.messagegroupid
left join {{ source('liveagent', 'agents') }} as a on a.id = m.userid
{{ join_label('rtype_label', 'messages', 'rtype', 'm.rtype') }}
where {{ live('m') }}
