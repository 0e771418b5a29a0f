-- The business clock of every instant a conversation is measured at (creation, change,
-- answers, customer messages, resolves), read on the schedule of the conversation's department:
-- open seconds since the calendar's first day. The open time between two instants of a
-- conversation is the difference of their readings.
{{ config(materialized='table') }}
with conversations as (
    select conversation_id, created_at, changed_at,
           {{ business_schedule_of('department_id') }} as schedule_id
    from {{ ref('stg_liveagent__conversations') }}
),

instants as (
    select distinct schedule_id, measured_at from (
        select schedule_id, created_at as measured_at from conversations
        union all
        select schedule_id, changed_at from conversations
        union all
        select c.schedule_id, m.created_at
        from {{ ref('stg_liveagent__messages') }} as m
        join conversations as c on c.conversation_id = m.conversation_id
        where m.is_answer or m.is_customer_message
        union all
        select c.schedule_id, g.created_at
        from {{ ref('stg_liveagent__message_groups') }} as g
        join conversations as c on c.conversation_id = g.conversation_id
        where g.is_resolve
    ) as measured
    where measured_at is not null
),

zones as (
    select distinct schedule_id, timezone from {{ ref('int_liveagent__business_calendar') }}
),

local_days as (
    select i.schedule_id, i.measured_at,
           cast(({{ local_time('i.measured_at', 'z.timezone') }}) as date) as date_day
    from instants as i
    join zones as z on z.schedule_id = i.schedule_id
)

select
    l.schedule_id,
    l.measured_at,
    cast(min(c.seconds_before_day) + coalesce(sum(
        case when c.open_from < l.measured_at then
            {{ seconds_between('c.open_from',
                               'case when c.open_to < l.measured_at then c.open_to else l.measured_at end') }}
        end), 0) as bigint) as business_clock
from local_days as l
join {{ ref('int_liveagent__business_calendar') }} as c
    on c.schedule_id = l.schedule_id and c.date_day = l.date_day
group by l.schedule_id, l.measured_at
