-- Tags that exist in LiveAgent (deleted ones only with var include_deleted).
select t.id as tag_id, t.name as tag_name
from {{ source('liveagent', 'tags') }} as t
where {{ live('t') }}
