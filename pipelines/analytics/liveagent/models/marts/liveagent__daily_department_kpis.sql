-- KPIs per account-local day and department (the conversation's current department).
select {{ daily_kpis(['c.department_id', 'd.department_name']) }}
from {{ ref('int_liveagent__conversation_events') }} as e
join {{ ref('stg_liveagent__conversations') }} as c on c.conversation_id = e.conversation_id
left join {{ ref('stg_liveagent__departments') }} as d on d.department_id = c.department_id
group by event_date, c.department_id, d.department_name
