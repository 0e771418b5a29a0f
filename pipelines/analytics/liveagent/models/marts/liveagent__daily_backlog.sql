-- Open conversations at the end of each account-local day (its last second, 23:59:59): open is
-- any status but Resolved, Closed, Deleted (trash) and Spam. From a conversation's first
-- observed version on its status history counts; before that, the open span its messages show
-- (creation to first resolve), counted apart in open_reconstructed.
with spans as (
    select * from {{ ref('int_liveagent__status_spans') }} where is_open
),

bounds as (
    -- from the first creation, or the first observation of a conversation without a creation
    -- time when that came earlier (its span would start before the first day, uncounted)
    select min(first_day) as first_day, {{ local_date(as_of()) }} as last_day
    from (
        select created_date as first_day from {{ ref('stg_liveagent__conversations') }}
        union all
        select {{ local_date('span_from') }} from spans
    ) as starts
),

days as (
    {{ days_between('(select first_day from bounds)', '(select last_day from bounds)') }}
),

opened as (
    select {{ local_date('span_from') }} as date_day, count(*) as spans,
           sum(case when basis = 'reconstructed' then 1 else 0 end) as reconstructed
    from spans group by 1
),

closed as (
    select {{ local_date('span_to') }} as date_day, count(*) as spans,
           sum(case when basis = 'reconstructed' then 1 else 0 end) as reconstructed
    from spans where span_to is not null group by 1
),

daily as (
    select d.date_day,
           coalesce(o.spans, 0) - coalesce(c.spans, 0) as change,
           coalesce(o.reconstructed, 0) - coalesce(c.reconstructed, 0) as reconstructed_change
    from days as d
    left join opened as o on o.date_day = d.date_day
    left join closed as c on c.date_day = d.date_day
)

select
    date_day,
    cast(sum(change) over (order by date_day rows unbounded preceding) as bigint)
        as open_conversations,
    cast(sum(reconstructed_change) over (order by date_day rows unbounded preceding) as bigint)
        as open_reconstructed
from daily
