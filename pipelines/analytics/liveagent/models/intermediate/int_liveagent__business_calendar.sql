-- One row per business-hours schedule, schedule-local day and open interval of that day, from
-- two days before the first conversation to two days after the last event (or as_of): every
-- instant a conversation can be measured at lies inside. Open intervals are the weekly hours
-- of var business_hours turned into UTC instants in the schedule's zone on that very day, so a
-- daylight-saving change moves them as it moves the clock on the wall; a holiday or a day
-- without hours keeps one row with open_from NULL. seconds_before_day: the schedule's open
-- seconds from the calendar's first day up to this day's local midnight, so the open time
-- between two instants is a difference of two readings (int_liveagent__business_clock) and
-- no span is too long to measure.
{{ config(materialized='table') }}
with weekly as (
    {{ business_interval_rows() }}
),

holidays as (
    {{ business_holiday_rows() }}
),

schedules as (
    select distinct schedule_id, timezone from weekly
),

instants as (
    select min(created_at) as first_at, max(changed_at) as last_at
    from {{ ref('stg_liveagent__conversations') }}
    union all
    select min(created_at), max(created_at) from {{ ref('stg_liveagent__messages') }}
    union all
    select {{ as_of() }}, {{ as_of() }}
),

days as (
    {{ days_between("(select cast(min(first_at) as date) - 2 from instants)",
                    "(select cast(max(last_at) as date) + 2 from instants)") }}
),

intervals as (
    select
        s.schedule_id,
        s.timezone,
        d.date_day,
        case when h.holiday is null and w.isodow is not null then
            {{ local_instant('d.date_day', 'w.open_second', 's.timezone') }} end as open_from,
        case when h.holiday is null and w.isodow is not null then
            {{ local_instant('d.date_day', 'w.close_second', 's.timezone') }} end as open_to
    from schedules as s
    cross join days as d
    left join weekly as w
        on w.schedule_id = s.schedule_id and w.isodow = cast(extract(isodow from d.date_day) as integer)
    left join holidays as h on h.schedule_id = s.schedule_id and h.holiday = d.date_day
),

open_days as (
    -- one row per day and interval; a closed day once, with NULL times
    select distinct schedule_id, timezone, date_day, open_from, open_to,
           coalesce({{ seconds_between('open_from', 'open_to') }}, 0) as open_seconds
    from intervals
),

day_totals as (
    select schedule_id, date_day, sum(open_seconds) as day_seconds
    from open_days
    group by 1, 2
),

running as (
    select schedule_id, date_day,
           coalesce(sum(day_seconds) over (partition by schedule_id order by date_day
                                           rows between unbounded preceding and 1 preceding), 0)
               as seconds_before_day
    from day_totals
)

select o.schedule_id, o.timezone, o.date_day, o.open_from, o.open_to,
       cast(o.open_seconds as bigint) as open_seconds,
       cast(r.seconds_before_day as bigint) as seconds_before_day
from open_days as o
join running as r on r.schedule_id = o.schedule_id and r.date_day = o.date_day
where o.open_from is not null
   or not exists (select 1 from open_days as x where x.schedule_id = o.schedule_id
                  and x.date_day = o.date_day and x.open_from is not null)
