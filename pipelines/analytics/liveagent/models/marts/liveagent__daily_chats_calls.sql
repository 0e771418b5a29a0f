-- Chats and calls per account-local day, from LiveAgent's own reports: for the whole account
-- (report_performance) and per agent, department, channel and tag; times in seconds, 0 where
-- the report had none to average. A day the reports do not cover keeps one 'account' row with
-- report_covered false and no figures; as_of's own day is marked partial.
with reported as (
    {{ report_rows(['chats', 'missed_chats', 'chat_pickup', 'calls', 'missed_calls', 'call_seconds'],
                   {'chat_pickup_avg_time': 'chat_pickup', 'chat_avg_time': 'chat_pickup',
                    'call_pickup_avg_time': 'calls', 'call_avg_time': 'calls'}) }}
),

days as (
    {{ report_day_spine('reported') }}
),

covered as (
    select distinct date_day from reported where dimension = 'account'
)

select
    d.date_day, d.is_partial_day, r.dimension, r.member_id, r.member_name,
    r.chats, r.missed_chats, r.chat_pickup as chat_pickups,
    r.chat_pickup_avg_time as avg_chat_pickup_seconds,
    r.chat_avg_time as avg_chat_seconds,
    r.calls, r.missed_calls,
    r.call_pickup_avg_time as avg_call_pickup_seconds,
    r.call_seconds,
    r.call_avg_time as avg_call_seconds,
    true as report_covered
from reported as r
join days as d on d.date_day = r.date_day

union all

select
    d.date_day, d.is_partial_day, 'account', null, null,
    null, null, null, null, null, null, null, null, null, null, false
from days as d
where not exists (select 1 from covered as c where c.date_day = d.date_day)
