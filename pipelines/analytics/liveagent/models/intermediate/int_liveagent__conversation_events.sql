-- One row per countable event of a conversation, with the agent LiveAgent's reports credit it
-- to: created (the assigned agent, when conversation_details is loaded), answer (its author),
-- resolved (the author of the resolve group), first_response (the first answer, its author,
-- and seconds since creation). Events count on the account-local day they happened; one
-- without a time (LiveAgent sent the zero date or none) counts on no day, and a first response
-- to a conversation without a creation time has no seconds.
{% set details = optional_source('conversation_details') %}
with conversations as (
    select * from {{ ref('stg_liveagent__conversations') }}
),

answers as (
    select conversation_id, message_id, user_id, created_at,
           row_number() over (partition by conversation_id
                              order by created_at nulls last, user_id, message_id) as position
    from {{ ref('stg_liveagent__messages') }}
    where is_answer
),

events as (

select c.conversation_id, 'created' as event_type, c.created_at as event_at,
       {% if details %}d.assignedto{% else %}cast(null as varchar){% endif %} as agent_id,
       cast(null as bigint) as seconds
from conversations as c
{% if details %}
left join {{ details }} as d on d.conversationid = c.conversation_id
{% endif %}

union all

select a.conversation_id, 'answer', a.created_at, a.user_id, null
from answers as a join conversations as c on c.conversation_id = a.conversation_id

union all

select a.conversation_id, 'first_response', a.created_at, a.user_id,
       {{ seconds_between('c.created_at', 'a.created_at') }}
from answers as a join conversations as c on c.conversation_id = a.conversation_id
where a.position = 1

union all

select g.conversation_id, 'resolved', g.created_at, g.user_id, null
from {{ ref('stg_liveagent__message_groups') }} as g
join conversations as c on c.conversation_id = g.conversation_id
where g.is_resolve

)

select events.*, {{ local_date('event_at') }} as event_date
from events
where event_at is not null
