-- KPIs per account-local day and tag: a conversation counts for every tag it has now (an
-- existing tag: a deleted one counts nowhere), as in LiveAgent's tags report.
select {{ daily_kpis(['t.tag_id', 't.tag_name']) }}
from {{ ref('int_liveagent__conversation_events') }} as e
join {{ ref('stg_liveagent__conversation_tags') }} as t
    on t.conversation_id = e.conversation_id and t.tag_exists
group by event_date, t.tag_id, t.tag_name
