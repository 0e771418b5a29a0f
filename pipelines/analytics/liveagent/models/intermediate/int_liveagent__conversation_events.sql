-- One row per countable event of a conversation, with the agent LiveAgent's reports credit it
-- to: created (the assigned agent, when conversation_details is loaded), answer (its author),
-- resolved (the author of the resolve group), first_response (the first answer, its author),
-- first_resolve (the first resolve group, its author) and next_response (an answer, other than
-- the first, to customer messages that came after the previous answer; its author). The three
-- measured events carry seconds (calendar) and business_seconds (open time of the business
-- hours of the conversation's department) from creation, or for next_response from the first
-- customer message it answers. Events count on the account-local day they happened; one
-- without a time (LiveAgent sent the zero date or none) counts on no day, and a measured event
-- of a conversation without a creation time has no seconds.
{% set details = optional_source('conversation_details') %}
with conversations as (
    select conversation_id, created_at, {{ business_schedule_of('department_id') }} as schedule_id
    from {{ ref('stg_liveagent__conversations') }}
),

answers as (
    select conversation_id, message_id, user_id, created_at,
           row_number() over (partition by conversation_id
                              order by created_at nulls last, user_id, message_id) as position
    from {{ ref('stg_liveagent__messages') }}
    where is_answer
),

resolves as (
    select conversation_id, user_id, created_at,
           row_number() over (partition by conversation_id
                              order by created_at nulls last, user_id, message_group_id) as position
    from {{ ref('stg_liveagent__message_groups') }}
    where is_resolve
),

dialogue as (
    -- answers and customer messages in order (a customer's message first on the same second);
    -- answers_so_far counts the answers up to and including the row
    select conversation_id, user_id, created_at, is_answer,
           sum(case when is_answer then 1 else 0 end) over (
               partition by conversation_id
               order by created_at, case when is_answer then 1 else 0 end, message_id
               rows between unbounded preceding and current row) as answers_so_far
    from {{ ref('stg_liveagent__messages') }}
    where (is_answer or is_customer_message) and created_at is not null
),

waiting as (
    -- the first customer message after the n-th answer (n >= 1)
    select conversation_id, answers_so_far as answered, min(created_at) as waiting_since
    from dialogue
    where not is_answer and answers_so_far >= 1
    group by 1, 2
),

measured as (

select a.conversation_id, 'first_response' as event_type, a.created_at as event_at,
       a.user_id as agent_id, c.created_at as started_at
from answers as a join conversations as c on c.conversation_id = a.conversation_id
where a.position = 1

union all

select r.conversation_id, 'first_resolve', r.created_at, r.user_id, c.created_at
from resolves as r join conversations as c on c.conversation_id = r.conversation_id
where r.position = 1

union all

select d.conversation_id, 'next_response', d.created_at, d.user_id, w.waiting_since
from dialogue as d
join waiting as w on w.conversation_id = d.conversation_id and w.answered = d.answers_so_far - 1
join conversations as c on c.conversation_id = d.conversation_id
where d.is_answer

),

events as (

select c.conversation_id, 'created' as event_type, c.created_at as event_at,
       {% if details %}d.assignedto{% else %}cast(null as varchar){% endif %} as agent_id,
       cast(null as bigint) as seconds, cast(null as bigint) as business_seconds
from conversations as c
{% if details %}
left join {{ details }} as d on d.conversationid = c.conversation_id
{% endif %}

union all

select a.conversation_id, 'answer', a.created_at, a.user_id, null, null
from answers as a join conversations as c on c.conversation_id = a.conversation_id

union all

select g.conversation_id, 'resolved', g.created_at, g.user_id, null, null
from {{ ref('stg_liveagent__message_groups') }} as g
join conversations as c on c.conversation_id = g.conversation_id
where g.is_resolve

union all

select m.conversation_id, m.event_type, m.event_at, m.agent_id,
       {{ seconds_between('m.started_at', 'm.event_at') }},
       finish.business_clock - start.business_clock
from measured as m
join conversations as c on c.conversation_id = m.conversation_id
left join {{ ref('int_liveagent__business_clock') }} as start
    on start.schedule_id = c.schedule_id and start.measured_at = m.started_at
left join {{ ref('int_liveagent__business_clock') }} as finish
    on finish.schedule_id = c.schedule_id and finish.measured_at = m.event_at

)

select events.*, {{ local_date('event_at') }} as event_date
from events
where event_at is not null
