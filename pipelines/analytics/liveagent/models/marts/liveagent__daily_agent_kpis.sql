-- KPIs per account-local day and agent. Answers, resolutions and first responses go to their
-- author; new conversations to the assigned agent, which only conversation_details carries
-- (NULL without it).
{% set details = optional_source('conversation_details') %}
select {{ daily_kpis(['e.agent_id', 'a.agent_name'], new_conversations=details is not none) }}
from {{ ref('int_liveagent__conversation_events') }} as e
join {{ ref('stg_liveagent__agents') }} as a on a.agent_id = e.agent_id
group by event_date, e.agent_id, a.agent_name
