-- Tags on conversations, with the tag's name; a tag deleted in LiveAgent keeps its id on the
-- conversation (tag_name NULL, tag_exists false) and counts in no tag KPI, as in LiveAgent's
-- tags report.
select
    ct.conversationid as conversation_id,
    ct.tag_id,
    t.tag_name,
    t.tag_id is not null as tag_exists
from {{ source('liveagent', 'conversation_tags') }} as ct
left join {{ ref('stg_liveagent__tags') }} as t on t.tag_id = ct.tag_id
where {{ live('ct') }}
