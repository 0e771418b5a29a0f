-- KPIs per account-local day and channel.
select {{ daily_kpis(['c.channel_type', 'c.channel_label']) }}
from {{ ref('int_liveagent__conversation_events') }} as e
join {{ ref('stg_liveagent__conversations') }} as c on c.conversation_id = e.conversation_id
group by event_date, c.channel_type, c.channel_label
