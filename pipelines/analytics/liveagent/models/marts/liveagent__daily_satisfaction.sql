-- Ratings per account-local day, from LiveAgent's own reports: for the whole account
-- (report_performance) and per agent, department, channel and tag. A day the reports do not
-- cover keeps one 'account' row with report_covered false and no figures; as_of's own day is
-- marked partial.
with reported as (
    {{ report_rows(['resolved_tickets', 'rewards', 'punishments', 'not_ranked']) }}
),

days as (
    {{ report_day_spine('reported') }}
),

covered as (
    select distinct date_day from reported where dimension = 'account'
)

select
    d.date_day, d.is_partial_day, r.dimension, r.member_id, r.member_name,
    r.resolved_tickets as resolved,
    r.rewards as positive,
    r.punishments as negative,
    r.not_ranked as unrated,
    case when r.resolved_tickets > 0
         then cast(r.resolved_tickets - r.not_ranked as double precision) / r.resolved_tickets
    end as rated_share,
    case when r.rewards + r.punishments > 0
         then cast(r.rewards as double precision) / (r.rewards + r.punishments)
    end as positive_share,
    true as report_covered
from reported as r
join days as d on d.date_day = r.date_day

union all

select
    d.date_day, d.is_partial_day, 'account', null, null,
    null, null, null, null, null, null, false
from days as d
where not exists (select 1 from covered as c where c.date_day = d.date_day)
